package dev.concord.recovery.log;

import dev.concord.recovery.xid.Gtrid;
import java.util.Objects;

/**
 * A heuristic outcome of one branch. It stays in the log, and is reported, until an operator forgets it.
 */
public final class HeuristicRecord {
    private final Gtrid gtrid;
    private final BranchRecord branch;
    private final HeuristicOutcome outcome;
    private final String detail;
    private final long recordedAtMillis;

    public HeuristicRecord(Gtrid gtrid, BranchRecord branch, HeuristicOutcome outcome, String detail,
                           long recordedAtMillis) {
        this.gtrid = Objects.requireNonNull(gtrid, "gtrid");
        this.branch = Objects.requireNonNull(branch, "branch");
        this.outcome = Objects.requireNonNull(outcome, "outcome");
        this.detail = detail == null ? "" : detail;
        this.recordedAtMillis = recordedAtMillis;
    }

    public Gtrid gtrid() {
        return gtrid;
    }

    public BranchRecord branch() {
        return branch;
    }

    public HeuristicOutcome outcome() {
        return outcome;
    }

    public String detail() {
        return detail;
    }

    public long recordedAtMillis() {
        return recordedAtMillis;
    }

    /** True when this record is about the given branch of the given transaction. */
    public boolean isFor(Gtrid g, String resourceName, int branchNumber) {
        return gtrid.equals(g) && branch.resourceName().equals(resourceName) && branch.branch() == branchNumber;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeuristicRecord h && h.gtrid.equals(gtrid) && h.branch.equals(branch)
                && h.outcome == outcome && h.detail.equals(detail) && h.recordedAtMillis == recordedAtMillis;
    }

    @Override
    public int hashCode() {
        return Objects.hash(gtrid, branch, outcome, detail, recordedAtMillis);
    }

    @Override
    public String toString() {
        return "Heuristic[" + gtrid + " " + branch + " " + outcome + " " + detail + "]";
    }
}
