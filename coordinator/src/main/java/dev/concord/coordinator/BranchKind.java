package dev.concord.coordinator;

/** What kind of participant a branch is; phase 2 commits every database branch before any message branch. */
public enum BranchKind {
    /** A database or any other resource whose data consumers read. Committed first. */
    DATABASE,
    /** A message whose consumers must not see it before the data it announces. Committed last. */
    MESSAGE
}
