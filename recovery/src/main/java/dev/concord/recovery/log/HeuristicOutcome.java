package dev.concord.recovery.log;

/** What a resource decided on its own for a branch, as recorded in the log. */
public enum HeuristicOutcome {
    /** The branch committed although the transaction rolled back. */
    COMMITTED,
    /** The branch rolled back although the transaction committed. */
    ROLLED_BACK,
    /** Part of the branch committed and part rolled back. */
    MIXED,
    /** The branch's outcome is unknown. */
    HAZARD
}
