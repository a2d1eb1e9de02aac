package dev.concord.client;

/** The service's answer to "did this transaction commit?". */
public enum Outcome {
    /** The commit is decided (phase 2 may still be running). */
    COMMIT,
    /** The transaction ended without a commit. */
    ROLLBACK,
    /** No safe answer: still running, too old, another node's, or begun before the service last started. */
    UNKNOWN
}
