package dev.concord.recovery.outcome;

/** The answer to "did transaction T commit?", as in-doubt participants (and RocketMQ's check-back) need it. */
public enum Outcome {
    /** A commit decision exists: T committed, or will once phase 2 finishes. */
    COMMIT,
    /** T is this node's, began inside the retention window, and has no commit decision: it rolled back. */
    ROLLBACK,
    /** No safe answer yet: T is still in flight, is older than the retention window, or is another node's. */
    UNKNOWN
}
