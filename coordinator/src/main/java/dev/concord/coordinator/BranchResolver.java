package dev.concord.coordinator;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogReader;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * Carries out an operator's commit or rollback of one in-doubt branch, or of every branch of a transaction, and only
 * when it agrees with the transaction's decision:
 * <ol>
 *   <li>The decision: a transaction in flight has its state's (none while active, preparing or committing in one
 *       phase); otherwise a commit decision in the log, or a commit in the outcome index, means COMMIT; the outcome
 *       index's ROLLBACK means ROLLBACK; with neither, presumed abort: ROLLBACK.</li>
 *   <li>The branches: those the decision or the transaction in flight names, plus those a resource's recovery scan
 *       holds prepared under the transaction's id.</li>
 *   <li>An action against the decision is refused; so is one on a branch with a heuristic outcome recorded (that
 *       is forgotten, not finished).</li>
 *   <li>Phase 2 of the chosen branches runs through the same {@link PhaseTwoJob} as online and recovered
 *       transactions (horizons, XAER_NOTA verified by scan, heuristics recorded in the log). When it finishes every
 *       branch of a logged decision that no one else is finishing, END is written.</li>
 * </ol>
 */
final class BranchResolver {
    private static final System.Logger LOG = System.getLogger(BranchResolver.class.getName());

    private final Coordinator coordinator;
    private final LogReader log;

    BranchResolver(Coordinator coordinator, LogReader log) {
        this.coordinator = coordinator;
        this.log = log;
    }

    /** The decision and what is known of the branches, before any scan. */
    private record Known(RecoveryManager.Decision decision, Map<String, Branch> branches, CommitDecision logged) {
    }

    RecoveryManager.Resolution resolve(Gtrid gtrid, PhaseTwoJob.Direction action, String resourceName,
                                       Integer branch, Set<Gtrid> redoing) {
        if (!gtrid.nodeId().equals(coordinator.config().nodeId())) {
            throw new IllegalArgumentException("transaction " + gtrid + " is node " + gtrid.nodeId()
                    + "'s, not this node's (" + coordinator.config().nodeId() + ")");
        }
        Known known = known(gtrid);
        RecoveryManager.Decision decision = known.decision();
        if (decision.evidenced()) {
            checkAgrees(gtrid, action, decision);
        }
        List<Branch> targets = targets(gtrid, known.branches(), resourceName, branch);
        checkAgrees(gtrid, action, decision);
        for (Branch b : targets) {
            if (log.heuristics().stream().anyMatch(h -> h.isFor(gtrid, b.resourceName(), b.xid().branch()))) {
                throw new IllegalStateException("branch " + b + " of " + gtrid + " has a heuristic outcome "
                        + "recorded: forget it instead");
            }
        }
        PhaseTwoJob job = coordinator.newPhaseTwoJob(gtrid, action, targets);
        if (known.logged() != null) {
            job.holdUntilHorizon(known.logged().decidedAtMillis());
        }
        boolean finished = job.attemptAll();
        job.recordHeuristics();
        LOG.log(Level.INFO, "CONCORD-2009 operator {0} of {1}: {2}", action, gtrid,
                targets.stream().map(b -> b + "=" + b.outcome()).toList());
        if (finished && known.logged() != null && coversAll(targets, known.logged())
                && coordinator.find(gtrid).isEmpty() && !redoing.contains(gtrid)) {
            coordinator.outcomes().committed(gtrid, coordinator.config().clock().millis());
            job.writeEnd();
        }
        List<RecoveryManager.BranchResult> results = new ArrayList<>();
        for (Branch b : targets) {
            results.add(new RecoveryManager.BranchResult(b.resourceName(), b.xid(), b.outcome(), b.lastError()));
        }
        return new RecoveryManager.Resolution(gtrid, decision, results);
    }

    private Known known(Gtrid gtrid) {
        Map<String, Branch> branches = new LinkedHashMap<>();
        Optional<GlobalTransaction> inFlight = coordinator.find(gtrid);
        if (inFlight.isPresent()) {
            GlobalTransaction tx = inFlight.get();
            TxState s = tx.state();
            PhaseTwoJob.Direction d = switch (s) {
                case COMMITTING -> PhaseTwoJob.Direction.COMMIT;
                case ROLLING_BACK -> PhaseTwoJob.Direction.ROLLBACK;
                default -> null;
            };
            if (d == null && !s.isTerminal()) {
                // Active or preparing: not decided yet. Committing in one phase: the resource decides.
                throw new IllegalStateException("transaction " + gtrid + " is " + s + ": it has no decided phase 2 "
                        + "to act on; commit or roll back the transaction itself");
            }
            if (d != null) {
                for (Branch b : tx.branches()) {
                    if (b.vote() == Vote.YES || b.vote() == Vote.FAILED) {
                        put(branches, copyOf(b));
                    }
                }
                return new Known(new RecoveryManager.Decision(d, "in flight, " + s, true), branches, null);
            }
        }
        for (CommitDecision c : log.unfinishedDecisions()) {
            if (c.gtrid().equals(gtrid)) {
                for (BranchRecord r : c.branches()) {
                    put(branches, Branch.fromRecord(new ConcordXid(gtrid, r.branch()), r, kindOf(r.resourceName())));
                }
                return new Known(new RecoveryManager.Decision(PhaseTwoJob.Direction.COMMIT, "logged commit decision",
                        true), branches, c);
            }
        }
        Outcome o = coordinator.outcomeOf(gtrid);
        if (o == Outcome.COMMIT) {
            return new Known(new RecoveryManager.Decision(PhaseTwoJob.Direction.COMMIT, "committed", true),
                    branches, null);
        }
        if (o == Outcome.ROLLBACK) {
            return new Known(new RecoveryManager.Decision(PhaseTwoJob.Direction.ROLLBACK, "rolled back", true),
                    branches, null);
        }
        return new Known(new RecoveryManager.Decision(PhaseTwoJob.Direction.ROLLBACK,
                "presumed abort: no commit decision", false), branches, null);
    }

    /** The branches the action is for; a branch not known and not found prepared is refused. */
    private List<Branch> targets(Gtrid gtrid, Map<String, Branch> known, String resourceName, Integer branch) {
        List<Branch> out = new ArrayList<>();
        for (Branch b : known.values()) {
            if ((resourceName == null || b.resourceName().equals(resourceName))
                    && (branch == null || b.xid().branch() == branch)) {
                out.add(b);
            }
        }
        if (branch != null && !out.isEmpty()) {
            return out;
        }
        List<RecoverableResource> scanned = new ArrayList<>();
        if (resourceName != null) {
            scanned.add(coordinator.registry().find(resourceName).orElseThrow(() ->
                    new IllegalArgumentException("no resource named '" + resourceName + "' is configured")));
        } else {
            scanned.addAll(coordinator.registry().all());
        }
        List<String> unreachable = new ArrayList<>();
        for (RecoverableResource r : scanned) {
            Optional<List<ConcordXid>> prepared = preparedIn(r, gtrid);
            if (prepared.isEmpty()) {
                unreachable.add(r.name());
                continue;
            }
            for (ConcordXid x : prepared.get()) {
                if ((branch == null || x.branch() == branch) && !known.containsKey(key(r.name(), x.branch()))) {
                    out.add(Branch.prepared(x, r.name(), r.kind()));
                }
            }
        }
        if (out.isEmpty() && !unreachable.isEmpty()) {
            throw new IllegalStateException("no branch " + (branch == null ? "" : "#" + branch + " ") + "of "
                    + "transaction " + gtrid + " was found, and resources " + unreachable + " cannot be scanned now");
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no branch " + (branch == null ? "" : "#" + branch + " ")
                    + "of transaction " + gtrid + (resourceName == null ? "" : " in resource " + resourceName)
                    + " is in doubt: no decision names it and no resource holds it prepared");
        }
        return out;
    }

    /** This transaction's XIDs the resource holds prepared, or empty when it cannot be scanned now. */
    private static Optional<List<ConcordXid>> preparedIn(RecoverableResource r, Gtrid gtrid) {
        try (RecoverableResource.Lease lease = r.open()) {
            Xid[] listed = lease.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
            List<ConcordXid> out = new ArrayList<>();
            for (Xid x : listed == null ? new Xid[0] : listed) {
                ConcordXid c = x == null ? null : ConcordXid.from(x);
                if (c != null && c.gtrid().equals(gtrid)) {
                    out.add(c);
                }
            }
            return Optional.of(out);
        } catch (XAException | RuntimeException e) {
            LOG.log(Level.WARNING, "CONCORD-2004 cannot scan resource {0} for {1}: {2}", r.name(), gtrid,
                    XaOutcomes.describe(e));
            return Optional.empty();
        }
    }

    private static void checkAgrees(Gtrid gtrid, PhaseTwoJob.Direction action, RecoveryManager.Decision decision) {
        if (decision.direction() != action) {
            throw new IllegalStateException("transaction " + gtrid + " is decided to " + decision.direction()
                    + " (" + decision.basis() + "): a " + action + " of its branches would contradict it");
        }
    }

    private static boolean coversAll(List<Branch> targets, CommitDecision d) {
        return d.branches().stream().allMatch(r -> targets.stream().anyMatch(b -> b.resourceName()
                .equals(r.resourceName()) && b.xid().branch() == r.branch()));
    }

    private BranchKind kindOf(String resourceName) {
        return coordinator.registry().find(resourceName).map(RecoverableResource::kind).orElse(BranchKind.DATABASE);
    }

    /** A branch of its own for the operator's job, so the transaction's own job keeps its branch objects. */
    private static Branch copyOf(Branch b) {
        return Branch.fromRecord(b.xid(), b.toRecord(), b.kind());
    }

    private static void put(Map<String, Branch> map, Branch b) {
        map.put(key(b.resourceName(), b.xid().branch()), b);
    }

    private static String key(String resource, int branch) {
        return resource + "#" + branch;
    }
}
