package dev.concord.service.core;

import dev.concord.coordinator.Branch;
import dev.concord.coordinator.BranchOutcome;
import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.PhaseTwoJob;
import dev.concord.coordinator.RecoveryManager;
import dev.concord.coordinator.TxState;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.LogReader;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The operator's view of recovery: in-doubt and heuristic transactions per branch, and the actions the engine
 * supports on them — a recovery pass, forgetting the heuristic outcomes of a branch or a transaction, committing or
 * rolling back a transaction that is still active, and committing or rolling back one in-doubt branch or every one
 * of a transaction (only in the direction of its decision: the engine refuses the other). Every action needs a reason and is written to the {@link AuditLog} before it is carried out
 * (refused if that write fails) and again with its result.
 */
public final class RecoveryAdmin {
    /** Longest accepted reason. */
    public static final int MAX_REASON_LENGTH = 2000;

    /**
     * A transaction whose outcome is not settled at every resource.
     *
     * @param transaction the transaction id
     * @param source      {@code IN_FLIGHT} (this process is completing it) or {@code LOGGED_DECISION} (a commit
     *                    decision in the log without END, redone by recovery)
     * @param status      the engine's state for an in-flight transaction; null for a logged decision
     * @param decision    {@code COMMIT}, {@code ROLLBACK}, or null while prepare is running
     * @param since       ISO-8601 time it began (in flight) or was decided (logged)
     * @param ageSeconds  seconds since then
     * @param retrying    true when recovery is retrying the logged decision's phase 2 right now
     * @param branches    its branches
     */
    public record InDoubtTransaction(String transaction, String source, TxState status, String decision,
                                     String since, long ageSeconds, boolean retrying, List<InDoubtBranch> branches) {
    }

    /**
     * One branch of an in-doubt transaction.
     *
     * @param resource  the resource it lives in
     * @param branch    the branch number
     * @param xid       its XID
     * @param outcome   the last phase-2 outcome, or null (not yet tried, or not known for a logged decision)
     * @param attempts  phase-2 attempts, or null when not known (logged decisions)
     * @param lastError the last phase-2 error, or null
     */
    public record InDoubtBranch(String resource, int branch, XidView xid, BranchOutcome outcome, Integer attempts,
                                String lastError) {
    }

    /**
     * A heuristic outcome of one branch, recorded in the log until an operator forgets it.
     *
     * @param transaction the transaction id
     * @param resource    the resource that decided on its own
     * @param branch      the branch number
     * @param xid         the branch's XID
     * @param outcome     what the resource did
     * @param detail      the error the engine saw
     * @param recordedAt  ISO-8601 time it was recorded
     * @param ageSeconds  seconds since then
     */
    public record HeuristicView(String transaction, String resource, int branch, XidView xid,
                                HeuristicOutcome outcome, String detail, String recordedAt, long ageSeconds) {
    }

    /**
     * What a recovery pass did.
     *
     * @param decisionsRedone      logged decisions whose phase 2 was started again
     * @param decisionsFinished    of those, finished within the pass
     * @param orphansRolledBack    prepared branches without a decision that were rolled back
     * @param leftInFlight         prepared branches left alone because their transaction may still be running
     * @param unreachableResources resources that could not be scanned
     */
    public record ScanReport(int decisionsRedone, int decisionsFinished, int orphansRolledBack, int leftInFlight,
                             List<String> unreachableResources) {
    }

    /**
     * What an operator's commit or rollback of in-doubt branches did.
     *
     * @param transaction the transaction id
     * @param decision    its decision, {@code COMMIT} or {@code ROLLBACK}, which the action followed
     * @param basis       where the decision comes from, e.g. {@code logged commit decision},
     *                    {@code presumed abort: no commit decision}
     * @param branches    each branch acted on
     */
    public record Resolution(String transaction, String decision, String basis, List<ResolvedBranch> branches) {
    }

    /**
     * One branch an operator's action reached.
     *
     * @param resource  its resource
     * @param branch    its number
     * @param xid       its XID
     * @param outcome   the outcome of the attempt: DONE, a heuristic outcome (recorded in the log and listed under
     *                  heuristics), or a retry outcome (not finished: phase 2 or recovery goes on trying)
     * @param finished  true unless the outcome is a retry outcome
     * @param lastError the error of the attempt, or null
     */
    public record ResolvedBranch(String resource, int branch, XidView xid, BranchOutcome outcome, boolean finished,
                                 String lastError) {
    }

    private final Coordinator coordinator;
    private final RecoveryManager recovery;
    private final LogReader log;
    private final AuditLog audit;
    private final TransactionService transactions;
    private final Clock clock;

    public RecoveryAdmin(Coordinator coordinator, RecoveryManager recovery, LogReader log, AuditLog audit,
                         TransactionService transactions, Clock clock) {
        this.coordinator = coordinator;
        this.recovery = recovery;
        this.log = log;
        this.audit = audit;
        this.transactions = transactions;
        this.clock = clock;
    }

    /** In-doubt transactions, oldest first: those this process is completing, then logged decisions. */
    public List<InDoubtTransaction> inDoubt() {
        long now = clock.millis();
        List<InDoubtTransaction> out = new ArrayList<>();
        Set<Gtrid> seen = new HashSet<>();
        List<GlobalTransaction> inFlight = new ArrayList<>(coordinator.inFlight());
        inFlight.sort(Comparator.comparing(GlobalTransaction::gtrid));
        for (GlobalTransaction tx : inFlight) {
            TxState s = tx.state();
            if (s.isActive() || s.isTerminal()) {
                continue;
            }
            seen.add(tx.gtrid());
            String decision = switch (s) {
                case COMMITTING, COMMITTING_ONE_PHASE -> "COMMIT";
                case ROLLING_BACK -> "ROLLBACK";
                default -> null;
            };
            List<InDoubtBranch> branches = new ArrayList<>();
            for (Branch b : tx.branches()) {
                branches.add(new InDoubtBranch(b.resourceName(), b.xid().branch(), XidView.of(b.xid()), b.outcome(),
                        b.attempts(), b.lastError()));
            }
            long began = tx.gtrid().beginMillis();
            out.add(new InDoubtTransaction(tx.gtrid().toString(), "IN_FLIGHT", s, decision,
                    Instant.ofEpochMilli(began).toString(), Math.max(0, (now - began) / 1000), false, branches));
        }
        Set<Gtrid> retrying = recovery.inDoubt();
        for (CommitDecision d : log.unfinishedDecisions()) {
            if (!seen.add(d.gtrid())) {
                continue;
            }
            List<InDoubtBranch> branches = new ArrayList<>();
            for (BranchRecord b : d.branches()) {
                ConcordXid xid = new ConcordXid(d.gtrid(), b.branch());
                branches.add(new InDoubtBranch(b.resourceName(), b.branch(), XidView.of(xid), null, null, null));
            }
            out.add(new InDoubtTransaction(d.gtrid().toString(), "LOGGED_DECISION", null, "COMMIT",
                    Instant.ofEpochMilli(d.decidedAtMillis()).toString(),
                    Math.max(0, (now - d.decidedAtMillis()) / 1000), retrying.contains(d.gtrid()), branches));
        }
        return out;
    }

    /** Heuristic outcomes not yet forgotten, oldest first. */
    public List<HeuristicView> heuristics() {
        long now = clock.millis();
        List<HeuristicView> out = new ArrayList<>();
        for (HeuristicRecord h : recovery.heuristics()) {
            ConcordXid xid = new ConcordXid(h.gtrid(), h.branch().branch());
            out.add(new HeuristicView(h.gtrid().toString(), h.branch().resourceName(), h.branch().branch(),
                    XidView.of(xid), h.outcome(), h.detail(), Instant.ofEpochMilli(h.recordedAtMillis()).toString(),
                    Math.max(0, (now - h.recordedAtMillis()) / 1000)));
        }
        return out;
    }

    /** Runs a recovery pass now. */
    public ScanReport scan(String who, String reason) {
        checkReason(reason);
        return audited(who, "recovery-scan", "all resources", reason, () -> {
            RecoveryManager.Report r = recovery.recover();
            return new ScanReport(r.decisionsRedone(), r.decisionsFinished(), r.orphansRolledBack(), r.leftInFlight(),
                    r.unreachableResources());
        }, r -> "redone " + r.decisionsRedone() + ", finished " + r.decisionsFinished() + ", orphans rolled back "
                + r.orphansRolledBack() + ", left in flight " + r.leftInFlight()
                + (r.unreachableResources().isEmpty() ? "" : ", unreachable " + r.unreachableResources()));
    }

    /**
     * Forgets the heuristic outcome of one branch, at the resource and in the log; with neither resource nor branch,
     * every heuristic outcome of the transaction.
     */
    public List<HeuristicView> forget(String who, String reason, String transaction, String resource, Integer branch) {
        checkReason(reason);
        Gtrid gtrid = TransactionService.parseId(transaction, "transaction");
        boolean wholeTransaction = resource == null && branch == null;
        if (!wholeTransaction && (resource == null || resource.isBlank())) {
            throw ServiceFailure.invalid("resource", "resource must name the branch's resource (or leave out "
                    + "resource and branch to forget every heuristic outcome of the transaction)");
        }
        if (!wholeTransaction && (branch == null || branch < 1)) {
            throw ServiceFailure.invalid("branch", "branch must be a branch number from 1 (or leave out resource "
                    + "and branch to forget every heuristic outcome of the transaction)");
        }
        String target = wholeTransaction ? transaction : transaction + " " + resource + "#" + branch;
        return audited(who, "forget-heuristic", target, reason, () -> {
            try {
                if (wholeTransaction) {
                    recovery.forgetTransaction(gtrid);
                } else {
                    recovery.forget(gtrid, resource, branch);
                }
            } catch (IllegalArgumentException e) {
                throw new ServiceFailure(ServiceFailure.Kind.NOT_FOUND, e.getMessage());
            } catch (LogException e) {
                throw new ServiceFailure(ServiceFailure.Kind.LOG_UNAVAILABLE, "the forget record could not be "
                        + "written to the transaction log: " + e.getMessage(), Map.of(), e);
            }
            return heuristics();
        }, left -> null);
    }

    /**
     * Commits or rolls back one in-doubt branch of a transaction ({@code branch}, optionally with its
     * {@code resource}), or every in-doubt branch of it (both null). The engine decides whether the action agrees
     * with the transaction's decision and refuses it otherwise (409).
     */
    public Resolution resolve(String who, String reason, String transaction, PhaseTwoJob.Direction action,
                              String resource, Integer branch) {
        checkReason(reason);
        Gtrid gtrid = TransactionService.parseId(transaction, "transaction");
        if (resource != null && resource.isBlank()) {
            throw ServiceFailure.invalid("resource", "resource must name a configured resource, or be left out");
        }
        if (branch != null && branch < 1) {
            throw ServiceFailure.invalid("branch", "branch must be a branch number from 1, or be left out");
        }
        String target = transaction + (branch == null ? "" : " " + (resource == null ? "" : resource) + "#" + branch)
                + (branch == null && resource != null ? " in " + resource : "");
        String verb = action == PhaseTwoJob.Direction.COMMIT ? "commit" : "rollback";
        return audited(who, verb + "-in-doubt", target, reason, () -> {
            RecoveryManager.Resolution r;
            try {
                r = recovery.resolve(gtrid, action, resource, branch);
            } catch (IllegalArgumentException e) {
                throw new ServiceFailure(ServiceFailure.Kind.NOT_FOUND, e.getMessage());
            } catch (IllegalStateException e) {
                throw new ServiceFailure(ServiceFailure.Kind.ILLEGAL_STATE, e.getMessage());
            }
            List<ResolvedBranch> branches = new ArrayList<>();
            for (RecoveryManager.BranchResult b : r.branches()) {
                branches.add(new ResolvedBranch(b.resourceName(), b.xid().branch(), XidView.of(b.xid()), b.outcome(),
                        b.finished(), b.lastError()));
            }
            return new Resolution(transaction, r.decision().direction().name(), r.decision().basis(), branches);
        }, RecoveryAdmin::describe);
    }

    private static String describe(Resolution r) {
        StringBuilder out = new StringBuilder("decision " + r.decision() + " (" + r.basis() + "):");
        for (ResolvedBranch b : r.branches()) {
            out.append(' ').append(b.resource()).append('#').append(b.branch()).append(' ').append(b.outcome());
            if (b.lastError() != null) {
                out.append(" (").append(b.lastError()).append(')');
            }
        }
        if (r.branches().stream().anyMatch(b -> b.outcome().isHeuristic())) {
            out.append("; heuristic outcome recorded");
        }
        return out.toString();
    }

    /** Rolls back a transaction that is still in flight, on an operator's word. */
    public TransactionView rollback(String who, String reason, String transaction) {
        checkReason(reason);
        transactions.entry(transaction);
        return audited(who, "rollback-transaction", transaction, reason, () -> transactions.rollback(transaction),
                t -> "status " + t.status());
    }

    /** Commits a transaction that is still active, on an operator's word. */
    public TransactionView commit(String who, String reason, String transaction) {
        checkReason(reason);
        transactions.entry(transaction);
        return audited(who, "commit-transaction", transaction, reason, () -> transactions.commit(transaction),
                t -> "status " + t.status());
    }

    /** Audit lines, newest first. */
    public List<AuditLog.Entry> audit(int limit, Long beforeSeq) {
        if (limit < 1 || limit > TransactionService.MAX_PAGE) {
            throw ServiceFailure.invalid("limit", "limit must be between 1 and " + TransactionService.MAX_PAGE
                    + ", got " + limit);
        }
        return audit.list(limit, beforeSeq);
    }

    private <T> T audited(String who, String action, String target, String reason, Supplier<T> work,
                          Function<T, String> detail) {
        long seq = audit.requested(who, action, target, reason);
        T result;
        try {
            result = work.get();
        } catch (RuntimeException e) {
            audit.result(seq, who, action, target, reason, false, e.getMessage());
            throw e;
        }
        audit.result(seq, who, action, target, reason, true, detail.apply(result));
        return result;
    }

    private static void checkReason(String reason) {
        if (reason == null || reason.isBlank()) {
            throw ServiceFailure.invalid("reason", "reason is required: say why this action is taken");
        }
        if (reason.length() > MAX_REASON_LENGTH) {
            throw ServiceFailure.invalid("reason", "reason must be at most " + MAX_REASON_LENGTH + " characters");
        }
    }
}
