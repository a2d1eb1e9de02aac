package dev.concord.coordinator;

import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * Phase 2 of one transaction, commit or rollback, online or from a recovered decision: the same code either way.
 *
 * <p>{@link #attemptAll()} tries every unfinished branch once. Commit does every database branch first and message
 * branches only once no database branch is left, so a consumer never sees a message before its data. A branch that
 * failed transiently is retried by {@link #retryUntilDone()} with capped exponential backoff and jitter, through a
 * fresh connection from the {@link ResourceRegistry} after XAER_RMFAIL. XAER_NOTA on commit or rollback counts as
 * done only when the resource's recovery scan no longer lists the XID. Heuristic outcomes end a branch and are reported by
 * the owner of the job, which also writes the END record.
 *
 * <p>A resource with a {@link RecoverableResource#resendHorizon() resend horizon} (RocketMQ) is never called twice
 * within it: after a failed call, and for a recovered decision until its decision time plus the horizon, the branch
 * waits while the resource's own check-back delivers the outcome without duplicates.
 */
public final class PhaseTwoJob {
    private static final System.Logger LOG = System.getLogger(PhaseTwoJob.class.getName());

    /** The decided outcome phase 2 carries out. */
    public enum Direction { COMMIT, ROLLBACK }

    private final Gtrid gtrid;
    private final Direction direction;
    private final List<Branch> branches;
    private final Coordinator engine;
    private final CompletableFuture<PhaseTwoJob> done = new CompletableFuture<>();
    private final long createdNanos = System.nanoTime();
    private final AtomicBoolean completed = new AtomicBoolean();
    private int round;
    private final AtomicBoolean firstCommitSeen = new AtomicBoolean();

    PhaseTwoJob(Gtrid gtrid, Direction direction, List<Branch> branches, Coordinator engine) {
        this.gtrid = gtrid;
        this.direction = direction;
        this.branches = List.copyOf(branches);
        this.engine = engine;
    }

    public Gtrid gtrid() {
        return gtrid;
    }

    public Direction direction() {
        return direction;
    }

    public List<Branch> branches() {
        return branches;
    }

    /** Completes when every branch is finished. */
    public CompletableFuture<PhaseTwoJob> completion() {
        return done;
    }

    /** True when no branch needs another attempt. */
    public synchronized boolean isFinished() {
        for (Branch b : branches) {
            if (!isFinished(b)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isFinished(Branch b) {
        return b.outcome() != null && !b.outcome().isRetry();
    }

    /** Number of attempt rounds so far. */
    public synchronized int rounds() {
        return round;
    }

    /** One attempt on every unfinished branch; returns true when all are finished. */
    public synchronized boolean attemptAll() {
        round++;
        if (direction == Direction.COMMIT) {
            engine.parallel().forEach(pending(BranchKind.DATABASE), this::commitOne);
            if (!hasPending(BranchKind.DATABASE)) {
                engine.parallel().forEach(pending(BranchKind.MESSAGE), this::commitOne);
            }
        } else {
            engine.parallel().forEach(pending(null), this::rollbackOne);
        }
        boolean finished = isFinished();
        if (finished) {
            complete();
        }
        return finished;
    }

    /** Keeps retrying in the background, with backoff, until every branch is finished. */
    public void retryUntilDone() {
        if (isFinished()) {
            complete();
            return;
        }
        long delay = engine.config().retryPolicy().delayMillis(rounds());
        ScheduledExecutorService timer = engine.timer();
        try {
            timer.schedule(() -> {
                try {
                    engine.workers().execute(() -> {
                        if (!attemptAll()) {
                            retryUntilDone();
                        }
                    });
                } catch (RejectedExecutionException e) {
                    LOG.log(Level.WARNING, "CONCORD-1201 engine stopped with phase 2 of {0} unfinished; recovery will finish it", gtrid);
                }
            }, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.log(Level.WARNING, "CONCORD-1201 engine stopped with phase 2 of {0} unfinished; recovery will finish it", gtrid);
        }
    }

    private void complete() {
        if (completed.compareAndSet(false, true)) {
            engine.listener().phaseTwoFinished(this, System.nanoTime() - createdNanos);
            done.complete(this);
        }
    }

    /** Writes a heuristic record for every branch that ended heuristically; they stay until an operator forgets them. */
    public void recordHeuristics() {
        recordHeuristics(engine, gtrid, branches);
    }

    static void recordHeuristics(Coordinator engine, Gtrid gtrid, List<Branch> list) {
        for (Branch b : list) {
            HeuristicOutcome h = b.outcome() == null ? null : switch (b.outcome()) {
                case HEURISTIC_COMMIT -> HeuristicOutcome.COMMITTED;
                case HEURISTIC_ROLLBACK -> HeuristicOutcome.ROLLED_BACK;
                case HEURISTIC_MIXED -> HeuristicOutcome.MIXED;
                case HEURISTIC_HAZARD -> HeuristicOutcome.HAZARD;
                default -> null;
            };
            if (h == null) {
                continue;
            }
            LOG.log(Level.ERROR, "CONCORD-1006 heuristic outcome {0} for branch {1} of {2}: {3}", h, b, gtrid,
                    b.lastError());
            try {
                engine.log().forceHeuristic(new HeuristicRecord(gtrid, b.toRecord(), h, b.lastError(),
                        engine.config().clock().millis()));
            } catch (LogException e) {
                LOG.log(Level.ERROR, "CONCORD-1007 heuristic outcome of branch {0} of {1} could not be logged: {2}",
                        b, gtrid, e.getMessage());
            }
        }
    }

    /** Writes the END record of a logged commit decision (not forced). */
    public void writeEnd() {
        CrashPoint.BEFORE_END_RECORD.hit();
        try {
            engine.log().writeEnd(gtrid);
        } catch (LogException e) {
            LOG.log(Level.WARNING, "CONCORD-1005 END record of {0} could not be written; recovery will redo "
                    + "phase 2 harmlessly: {1}", gtrid, e.getMessage());
        }
    }

    private boolean hasPending(BranchKind kind) {
        for (Branch b : branches) {
            if (!isFinished(b) && b.kind() == kind) {
                return true;
            }
        }
        return false;
    }

    private List<Branch> pending(BranchKind kind) {
        List<Branch> out = new ArrayList<>();
        for (Branch b : branches) {
            if (!isFinished(b) && (kind == null || b.kind() == kind)) {
                out.add(b);
            }
        }
        return out;
    }

    private void commitOne(Branch b) {
        BranchOutcome outcome = attempt(b, true);
        if (outcome == BranchOutcome.DONE || outcome == BranchOutcome.DONE_FORGET) {
            if (firstCommitSeen.compareAndSet(false, true)) {
                CrashPoint.AFTER_FIRST_BRANCH_COMMIT.hit();
            }
        }
    }

    private void rollbackOne(Branch b) {
        BranchOutcome outcome = attempt(b, false);
        if (outcome.isRetry() && b.vote() != Vote.YES && b.vote() != Vote.FAILED) {
            // Never prepared: the resource rolls the branch back itself when the connection goes.
            b.outcome(BranchOutcome.DONE);
        }
    }

    private BranchOutcome attempt(Branch b, boolean commit) {
        long now = engine.config().clock().millis();
        if (now < b.notBeforeMillis()) {
            // The resource's own safety net (RocketMQ's check-back) has the branch until then; a repeat could duplicate.
            b.outcome(BranchOutcome.RETRY);
            return BranchOutcome.RETRY;
        }
        b.countAttempt();
        BranchOutcome previous = b.outcome();
        boolean fresh = b.xaResource() == null || previous == BranchOutcome.RETRY_FRESH
                || previous == BranchOutcome.VERIFY_BY_SCAN;
        RecoverableResource.Lease lease = null;
        BranchOutcome outcome;
        try {
            XAResource res = b.xaResource();
            if (fresh) {
                RecoverableResource rr = engine.registry().find(b.resourceName()).orElse(null);
                if (rr != null) {
                    lease = rr.open();
                    res = lease.xaResource();
                    if (res instanceof NamedXAResource n && b.recoveryData().length > 0) {
                        n.restoreRecoveryData(b.xid(), b.recoveryData());
                    }
                } else if (res == null) {
                    throw new IllegalStateException("resource '" + b.resourceName() + "' is not registered");
                }
            }
            outcome = commit ? commitOn(res, b) : rollbackOn(res, b);
            if (outcome == BranchOutcome.DONE_FORGET) {
                forget(res, b.xid());
            }
        } catch (Throwable t) {
            // The resource could not even be reached: try again with a fresh connection.
            outcome = BranchOutcome.RETRY_FRESH;
            b.lastError("open " + b.resourceName() + ": " + XaOutcomes.describe(t));
        } finally {
            if (lease != null) {
                lease.close();
            }
        }
        b.outcome(outcome);
        if (outcome.isRetry()) {
            long horizon = resendHorizon(b);
            if (horizon > 0) {
                b.notBefore(now + horizon);
            }
        }
        if (outcome.isRetry() || outcome.isHeuristic()) {
            LOG.log(outcome.isHeuristic() ? Level.ERROR : Level.WARNING,
                    "CONCORD-1202 {0} of branch {1} of {2}: {3} ({4})", commit ? "commit" : "rollback", b, gtrid,
                    outcome, b.lastError());
        }
        return outcome;
    }

    private long resendHorizon(Branch b) {
        return engine.registry().find(b.resourceName()).map(r -> r.resendHorizon().toMillis()).orElse(0L);
    }

    /** Holds back phase-2 calls of branches whose resource has a resend horizon until {@code decidedAt} + horizon. */
    void holdUntilHorizon(long decidedAtMillis) {
        for (Branch b : branches) {
            long horizon = resendHorizon(b);
            if (horizon > 0) {
                b.notBefore(decidedAtMillis + horizon);
            }
        }
    }

    private static BranchOutcome commitOn(XAResource res, Branch b) {
        try {
            res.commit(b.xid(), false);
            b.lastError(null);
            return BranchOutcome.DONE;
        } catch (Throwable t) {
            b.lastError("commit: " + XaOutcomes.describe(t));
            BranchOutcome o = XaOutcomes.commitFailure(t);
            if (o == BranchOutcome.VERIFY_BY_SCAN && !scanLists(res, b.xid())) {
                // The resource has no trace of the branch: an earlier attempt committed it.
                o = BranchOutcome.DONE;
            }
            return o;
        }
    }

    private static BranchOutcome rollbackOn(XAResource res, Branch b) {
        try {
            res.rollback(b.xid());
            b.lastError(null);
            return BranchOutcome.DONE;
        } catch (Throwable t) {
            b.lastError("rollback: " + XaOutcomes.describe(t));
            BranchOutcome o = XaOutcomes.rollbackFailure(t);
            if (o == BranchOutcome.VERIFY_BY_SCAN && !scanLists(res, b.xid())) {
                o = BranchOutcome.DONE;
            }
            return o;
        }
    }

    /** True when the resource's recovery scan lists the XID, or the scan itself failed (no proof either way). */
    static boolean scanLists(XAResource res, Xid xid) {
        try {
            return scanListsStrictly(res, xid);
        } catch (XAException | RuntimeException e) {
            return true;
        }
    }

    /** True when the resource's recovery scan lists the XID; a failing scan throws. */
    static boolean scanListsStrictly(XAResource res, Xid xid) throws XAException {
        Xid[] listed = res.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
        if (listed != null) {
            for (Xid x : listed) {
                if (x != null && ConcordXid.sameXid(x, xid)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void forget(XAResource res, Xid xid) {
        try {
            res.forget(xid);
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "CONCORD-1203 forget of heuristic branch {0} failed: {1}", xid, XaOutcomes.describe(t));
        }
    }
}
