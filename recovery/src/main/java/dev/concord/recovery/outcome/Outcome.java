package dev.concord.recovery.outcome;

/**
 * The answer to "did transaction T commit?", as in-doubt participants (and RocketMQ's check-back) need it.
 * {@link OutcomeIndex} gives it.
 */
public enum Outcome {
    /** A commit decision exists: T committed, or will once phase 2 finishes. */
    COMMIT,
    /**
     * T is this node's, began in this incarnation of the process inside the retention window, is no longer in
     * flight and has no commit record: it rolled back (presumed abort).
     */
    ROLLBACK,
    /**
     * No safe answer: T is still in flight, is older than the retention window, began before the process last
     * started (its commit may have left no record), is older than what the index had to forget, or is another
     * node's. Ask again later, or leave it to an operator.
     */
    UNKNOWN
}
