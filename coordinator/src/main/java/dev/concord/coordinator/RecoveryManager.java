package dev.concord.coordinator;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.LogReader;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * Finishes in-doubt transactions, at start and then periodically. One pass ({@link #recover()}) runs these steps:
 * <ol>
 *   <li>{@link #redoCommitDecisions}: every commit decision in the log without END, and not being finished by this
 *       process already, gets phase 2 redone through the same {@link PhaseTwoJob} that online commits use, with
 *       each resource re-obtained by name from the {@link ResourceRegistry}; END is written when every branch is
 *       finished. Branches of a resource with a resend horizon (RocketMQ) wait until the decision time plus the
 *       horizon: until then the broker's check-back, answered from the outcome index, delivers without duplicates.</li>
 *   <li>{@link #scanResource}: every registered resource is asked {@code recover(TMSTARTRSCAN | TMENDRSCAN)}; only
 *       XIDs with Concord's format id and this node's id are kept (MariaDB's scan is server-wide).</li>
 *   <li>{@link #rollBackOrphans}: a scanned XID whose gtrid has no commit decision and whose transaction is not in
 *       flight is rolled back (presumed abort). "Not in flight" is checked after the scan and against the begin
 *       time in the gtrid: an XID begun at or after the oldest in-flight transaction is left for the next pass,
 *       so a transaction that is just preparing is never touched. No timing setting is involved.</li>
 * </ol>
 * Heuristic outcomes recorded in the log are listed by {@link #heuristics()} and stay until {@link #forget}.
 *
 * <p>An operator may also finish one in-doubt branch, or every branch of a transaction, now ({@link #resolve}):
 * only in the direction of the transaction's decision, through the same phase-2 code (see {@link BranchResolver}).
 */
public final class RecoveryManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RecoveryManager.class.getName());

    private final Coordinator coordinator;
    private final LogReader log;
    private final Set<Gtrid> redoing = ConcurrentHashMap.newKeySet();
    private final Map<String, String> lastScanError = new ConcurrentHashMap<>();
    private final BranchResolver resolver;
    private volatile ScheduledFuture<?> periodic;

    public RecoveryManager(Coordinator coordinator, LogReader log) {
        this.coordinator = coordinator;
        this.log = log;
        this.resolver = new BranchResolver(coordinator, log);
    }

    /**
     * A transaction's decision as the engine knows it.
     *
     * @param direction what phase 2 must do
     * @param basis     where the decision comes from, e.g. {@code logged commit decision}
     * @param evidenced true when the engine holds a record of it; false for presumed abort (no commit record)
     */
    public record Decision(PhaseTwoJob.Direction direction, String basis, boolean evidenced) {
    }

    /**
     * What an operator's action did to one branch.
     *
     * @param resourceName the branch's resource
     * @param xid          its XID
     * @param outcome      the outcome of the attempt; a retry outcome means it is not finished yet
     * @param lastError    the error of the attempt, or null
     */
    public record BranchResult(String resourceName, ConcordXid xid, BranchOutcome outcome, String lastError) {
        /** True when the branch reached an outcome (the decided one, or a heuristic one, recorded in the log). */
        public boolean finished() {
            return outcome != null && !outcome.isRetry();
        }
    }

    /**
     * What an operator's commit or rollback of in-doubt branches did.
     *
     * @param gtrid    the transaction
     * @param decision its decision, which the action followed
     * @param branches each branch acted on
     */
    public record Resolution(Gtrid gtrid, Decision decision, List<BranchResult> branches) {
    }

    /** What one pass did. */
    public record Report(int decisionsRedone, int decisionsFinished, int orphansRolledBack, int leftInFlight,
                         List<String> unreachableResources) {
    }

    /** Runs one pass now, on the calling thread; redone decisions whose branches fail keep retrying in the background. */
    public synchronized Report recover() {
        int[] redone = redoCommitDecisions();
        Set<Gtrid> decided = new HashSet<>();
        for (CommitDecision d : log.unfinishedDecisions()) {
            decided.add(d.gtrid());
        }
        int rolledBack = 0;
        int left = 0;
        List<String> unreachable = new ArrayList<>();
        for (RecoverableResource r : coordinator.registry().all()) {
            Optional<List<ConcordXid>> ours = scanResource(r);
            if (ours.isEmpty()) {
                unreachable.add(r.name());
                continue;
            }
            int[] counts = rollBackOrphans(r, ours.get(), decided);
            rolledBack += counts[0];
            left += counts[1];
        }
        return new Report(redone[0], redone[1], rolledBack, left, unreachable);
    }

    /** Starts periodic passes on the engine's timer; the first runs at once. */
    public synchronized void start(Duration interval) {
        if (periodic != null) {
            throw new IllegalStateException("recovery is already running");
        }
        periodic = coordinator.timer().scheduleWithFixedDelay(() -> {
            try {
                Report r = recover();
                if (r.decisionsRedone() + r.orphansRolledBack() > 0 || !r.unreachableResources().isEmpty()) {
                    LOG.log(Level.INFO, "CONCORD-2001 recovery pass: {0}", r);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "CONCORD-2002 recovery pass failed", e);
            }
        }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Step 1: redoes phase 2 of every logged commit decision without END that this process is not finishing
     * already. Returns {redone, finished in this pass}.
     */
    int[] redoCommitDecisions() {
        int redone = 0;
        int finished = 0;
        for (CommitDecision d : log.unfinishedDecisions()) {
            if (coordinator.find(d.gtrid()).isPresent() || !redoing.add(d.gtrid())) {
                continue;
            }
            redone++;
            List<Branch> branches = new ArrayList<>();
            for (BranchRecord b : d.branches()) {
                BranchKind kind = coordinator.registry().find(b.resourceName()).map(RecoverableResource::kind)
                        .orElse(BranchKind.DATABASE);
                branches.add(Branch.fromRecord(new ConcordXid(d.gtrid(), b.branch()), b, kind));
            }
            PhaseTwoJob job = coordinator.newPhaseTwoJob(d.gtrid(), PhaseTwoJob.Direction.COMMIT, branches);
            // An END may already have reached a message broker: let its check-back deliver until the horizon.
            job.holdUntilHorizon(d.decidedAtMillis());
            job.completion().thenRun(() -> {
                job.recordHeuristics();
                coordinator.outcomes().committed(d.gtrid(), coordinator.config().clock().millis());
                job.writeEnd();
                redoing.remove(d.gtrid());
                LOG.log(Level.INFO, "CONCORD-2003 recovered commit of {0} finished: {1}", d.gtrid(), job.branches()
                        .stream().map(b -> b + "=" + b.outcome()).toList());
            });
            if (job.attemptAll()) {
                finished++;
            } else {
                job.retryUntilDone();
            }
        }
        return new int[] {redone, finished};
    }

    /** Step 2: this node's XIDs that the resource holds prepared, or empty when it cannot be scanned now. */
    Optional<List<ConcordXid>> scanResource(RecoverableResource r) {
        try (RecoverableResource.Lease lease = r.open()) {
            XAResource xa = lease.xaResource();
            Xid[] listed = xa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
            List<ConcordXid> ours = new ArrayList<>();
            if (listed != null) {
                for (Xid x : listed) {
                    if (x != null && coordinator.xids().isOurs(x)) {
                        ours.add(ConcordXid.from(x));
                    }
                }
            }
            lastScanError.remove(r.name());
            return Optional.of(ours);
        } catch (XAException | RuntimeException e) {
            String why = XaOutcomes.describe(e);
            if (!why.equals(lastScanError.put(r.name(), why))) {
                LOG.log(Level.WARNING, "CONCORD-2004 recovery cannot scan resource {0}: {1}", r.name(), why);
            }
            return Optional.empty();
        }
    }

    /** Step 3: rolls back the scanned XIDs that are orphans. Returns {rolled back, left alone}. */
    int[] rollBackOrphans(RecoverableResource r, List<ConcordXid> scanned, Set<Gtrid> decided) {
        int rolledBack = 0;
        int left = 0;
        // Read after the scan: a transaction listed by the scan began before it.
        OptionalLong oldest = coordinator.oldestInFlightBeginMillis();
        List<ConcordXid> orphans = new ArrayList<>();
        for (ConcordXid x : scanned) {
            Gtrid g = x.gtrid();
            boolean inFlight = coordinator.find(g).isPresent()
                    || (oldest.isPresent() && g.beginMillis() >= oldest.getAsLong());
            if (decided.contains(g) || redoing.contains(g) || inFlight) {
                left++;
            } else {
                orphans.add(x);
            }
        }
        if (orphans.isEmpty()) {
            return new int[] {0, left};
        }
        try (RecoverableResource.Lease lease = r.open()) {
            for (ConcordXid x : orphans) {
                try {
                    lease.xaResource().rollback(x);
                    rolledBack++;
                    LOG.log(Level.INFO, "CONCORD-2005 rolled back orphan branch {0} in {1} (no commit decision)", x, r.name());
                } catch (XAException e) {
                    BranchOutcome o = XaOutcomes.rollbackFailure(e);
                    if (o == BranchOutcome.VERIFY_BY_SCAN && !PhaseTwoJob.scanLists(lease.xaResource(), x)) {
                        o = BranchOutcome.DONE;
                    }
                    if (o == BranchOutcome.DONE || o == BranchOutcome.DONE_FORGET) {
                        rolledBack++;
                    } else {
                        LOG.log(Level.WARNING, "CONCORD-2006 rollback of orphan branch {0} in {1} failed: {2}", x,
                                r.name(), XaOutcomes.describe(e));
                    }
                }
            }
        } catch (XAException | RuntimeException e) {
            LOG.log(Level.WARNING, "CONCORD-2004 recovery cannot reach resource {0}: {1}", r.name(), XaOutcomes.describe(e));
        }
        return new int[] {rolledBack, left};
    }

    /** Heuristic outcomes no operator has forgotten yet. */
    public List<HeuristicRecord> heuristics() {
        return log.heuristics();
    }

    /**
     * An operator's word: tells the resource to forget the heuristic branch and removes it from the log.
     *
     * @throws IllegalArgumentException when no such heuristic record exists
     * @throws LogException             when the forget record cannot be written
     */
    public void forget(Gtrid gtrid, String resourceName, int branch) throws LogException {
        boolean known = log.heuristics().stream().anyMatch(h -> h.isFor(gtrid, resourceName, branch));
        if (!known) {
            throw new IllegalArgumentException("no heuristic outcome is recorded for " + resourceName + "#" + branch
                    + " of " + gtrid);
        }
        coordinator.registry().find(resourceName).ifPresent(r -> {
            try (RecoverableResource.Lease lease = r.open()) {
                lease.xaResource().forget(new ConcordXid(gtrid, branch));
            } catch (XAException | RuntimeException e) {
                // XAER_NOTA: the resource already forgot it. Anything else is reported; the record still goes.
                LOG.log(Level.WARNING, "CONCORD-2007 forget of {0}#{1} of {2} at the resource: {3}", resourceName,
                        branch, gtrid, XaOutcomes.describe(e));
            }
        });
        coordinator.log().writeForget(gtrid, resourceName, branch);
        LOG.log(Level.INFO, "CONCORD-2008 heuristic outcome of {0}#{1} of {2} forgotten", resourceName, branch, gtrid);
    }

    /**
     * An operator's word: commits or rolls back now one in-doubt branch of a transaction of this node, or every
     * one, provided that agrees with the transaction's decision. A branch that does not finish at once is left to
     * the transaction's own phase 2 or to recovery; a heuristic outcome is recorded in the log.
     *
     * @param resourceName the branch's resource, or null for any
     * @param branch       the branch number, or null for every branch
     * @throws IllegalArgumentException when the transaction is another node's, or no such branch is in doubt
     * @throws IllegalStateException    when the action contradicts the decision, the transaction has no decision
     *                                  yet, the branch has a heuristic outcome recorded, or a resource cannot be
     *                                  scanned
     */
    public synchronized Resolution resolve(Gtrid gtrid, PhaseTwoJob.Direction action, String resourceName,
                                           Integer branch) {
        return resolver.resolve(gtrid, action, resourceName, branch, redoing);
    }

    /**
     * An operator's word: forgets every heuristic outcome recorded for a transaction (see {@link #forget}).
     *
     * @return the heuristic records forgotten
     * @throws IllegalArgumentException when none is recorded for it
     * @throws LogException             when a forget record cannot be written
     */
    public List<HeuristicRecord> forgetTransaction(Gtrid gtrid) throws LogException {
        List<HeuristicRecord> of = log.heuristics().stream().filter(h -> h.gtrid().equals(gtrid)).toList();
        if (of.isEmpty()) {
            throw new IllegalArgumentException("no heuristic outcome is recorded for " + gtrid);
        }
        for (HeuristicRecord h : of) {
            forget(gtrid, h.branch().resourceName(), h.branch().branch());
        }
        return of;
    }

    /** Transactions whose recovered commit is still being retried. */
    public Set<Gtrid> inDoubt() {
        return Set.copyOf(redoing);
    }

    @Override
    public synchronized void close() {
        if (periodic != null) {
            periodic.cancel(false);
            periodic = null;
        }
    }
}
