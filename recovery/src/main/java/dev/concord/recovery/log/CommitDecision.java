package dev.concord.recovery.log;

import dev.concord.recovery.xid.Gtrid;
import java.util.List;
import java.util.Objects;

/**
 * The record that makes a transaction committed: its gtrid, the time of the decision and every branch that must
 * be committed, in phase-2 order (database branches before message branches).
 */
public final class CommitDecision {
    private final Gtrid gtrid;
    private final long decidedAtMillis;
    private final List<BranchRecord> branches;

    public CommitDecision(Gtrid gtrid, long decidedAtMillis, List<BranchRecord> branches) {
        this.gtrid = Objects.requireNonNull(gtrid, "gtrid");
        this.decidedAtMillis = decidedAtMillis;
        this.branches = List.copyOf(branches);
        if (this.branches.isEmpty()) {
            throw new IllegalArgumentException("a commit decision needs at least one branch");
        }
    }

    public Gtrid gtrid() {
        return gtrid;
    }

    public long decidedAtMillis() {
        return decidedAtMillis;
    }

    public List<BranchRecord> branches() {
        return branches;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CommitDecision d && d.gtrid.equals(gtrid) && d.decidedAtMillis == decidedAtMillis
                && d.branches.equals(branches);
    }

    @Override
    public int hashCode() {
        return Objects.hash(gtrid, decidedAtMillis, branches);
    }

    @Override
    public String toString() {
        return "CommitDecision[" + gtrid + " at " + decidedAtMillis + " " + branches + "]";
    }
}
