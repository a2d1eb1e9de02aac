package dev.concord.coordinator;

import java.lang.System.Logger.Level;
import java.util.List;

/**
 * Phase 1: asks every branch to prepare, slow ones in parallel (see {@link Parallel}), and records each vote on its
 * branch.
 */
final class Preparer {
    private static final System.Logger LOG = System.getLogger(Preparer.class.getName());

    private final Parallel parallel;

    Preparer(Parallel parallel) {
        this.parallel = parallel;
    }

    /** Prepares every branch; never throws: a failure becomes a {@link Vote#FAILED} with the cause kept. */
    void prepare(List<Branch> branches) {
        parallel.forEach(branches, this::prepareOne);
    }

    private void prepareOne(Branch b) {
        try {
            b.vote(XaOutcomes.prepareResult(b.xaResource().prepare(b.xid())));
            if (b.vote() == Vote.YES && b.xaResource() instanceof NamedXAResource n) {
                b.recoveryData(n.recoveryData(b.xid()));
            }
        } catch (Throwable t) {
            b.vote(XaOutcomes.prepareFailure(t));
            b.lastError("prepare: " + XaOutcomes.describe(t));
            LOG.log(Level.INFO, "CONCORD-1101 branch {0} of {1} voted {2}: {3}", b, b.xid().gtrid(), b.vote(),
                    XaOutcomes.describe(t));
        }
    }
}
