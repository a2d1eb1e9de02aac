package dev.concord.coordinator;

/** What one phase-2 attempt on a branch achieved, as decided by {@link XaOutcomes}. */
public enum BranchOutcome {
    /** The branch reached the decided outcome. */
    DONE,
    /** The branch reached the decided outcome heuristically; the resource must be told to forget it. */
    DONE_FORGET,
    /** Transient failure: try again later. */
    RETRY,
    /** The connection failed: try again later with a fresh connection. */
    RETRY_FRESH,
    /** The resource does not know the XID: done only if its recovery scan no longer lists it. */
    VERIFY_BY_SCAN,
    /** The branch committed although the transaction rolled back. */
    HEURISTIC_COMMIT,
    /** The branch rolled back although the transaction committed. */
    HEURISTIC_ROLLBACK,
    /** Part of the branch committed, part rolled back. */
    HEURISTIC_MIXED,
    /** The branch's outcome is unknown. */
    HEURISTIC_HAZARD;

    public boolean isHeuristic() {
        return name().startsWith("HEURISTIC_");
    }

    public boolean isRetry() {
        return this == RETRY || this == RETRY_FRESH || this == VERIFY_BY_SCAN;
    }
}
