package dev.concord.it.bench;

/**
 * What a child JVM needs besides its contender and cases.
 *
 * @param maxDbThreads the largest thread count of the xa-db cases: pools are sized for it
 * @param concordDbPool true: Concord's xa-db branches come from its pooled {@code EnlistingDataSource} (the
 *                      product path); false: like Narayana, each thread enlists the XAResources of its own two
 *                      XA connections
 */
record ChildOptions(int maxDbThreads, boolean concordDbPool) {
}
