package dev.concord.service.core;

import dev.concord.coordinator.Branch;
import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.BranchOutcome;
import dev.concord.coordinator.Vote;

/**
 * One branch of a transaction as the engine sees it.
 *
 * @param branch    the branch number (the bqual)
 * @param resource  the configured resource the branch lives in
 * @param kind      DATABASE, or MESSAGE (committed after every database branch)
 * @param vote      the prepare vote, null before prepare
 * @param outcome   the last phase-2 outcome, null before phase 2
 * @param attempts  phase-2 attempts so far
 * @param lastError the last phase-2 error, or null
 * @param xid       the branch's XID
 */
public record BranchView(int branch, String resource, BranchKind kind, Vote vote, BranchOutcome outcome,
                         int attempts, String lastError, XidView xid) {
    /** A snapshot of an engine branch. */
    public static BranchView of(Branch b) {
        return new BranchView(b.xid().branch(), b.resourceName(), b.kind(), b.vote(), b.outcome(), b.attempts(),
                b.lastError(), XidView.of(b.xid()));
    }
}
