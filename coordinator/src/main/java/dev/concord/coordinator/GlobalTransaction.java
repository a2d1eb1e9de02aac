package dev.concord.coordinator;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.HeuristicRollbackException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;

/**
 * One global transaction: its branches, synchronizations and state, and the two-phase commit that completes it.
 *
 * <p>Completion, in order: {@code beforeCompletion} of every synchronization (interposed ones last); end every
 * branch association; with one branch, a one-phase commit and no log write; otherwise prepare every branch in
 * parallel; a no vote or a failed prepare rolls every branch back; read-only votes leave; with two or more yes
 * votes the commit decision is forced before phase 2; phase 2 commits database branches before message branches
 * and retries failures in the background; END is written when every branch is finished; {@code afterCompletion}
 * (interposed ones first).
 *
 * <p>All state changes happen under this object's lock and go through {@link TxState#checkTransition}.
 */
public final class GlobalTransaction implements Transaction {
    private static final System.Logger LOG = System.getLogger(GlobalTransaction.class.getName());
    /** Phase-2 order: database branches before message branches. */
    private static final Comparator<Branch> BY_KIND = Comparator.comparing(Branch::kind);

    private final Coordinator coordinator;
    private final Gtrid gtrid;
    private final Duration timeout;
    private final List<Branch> branches = new ArrayList<>();
    private final List<Synchronization> synchronizations = new ArrayList<>();
    private final List<Synchronization> interposed = new ArrayList<>();
    private final Map<Object, Object> resources = new HashMap<>();
    private final CompletableFuture<TxState> completion = new CompletableFuture<>();
    private TxState state = TxState.ACTIVE;
    private int nextBranch = 1;
    /** Volatile for the reaper's lock-free look; written under the lock. */
    private volatile boolean completing;
    private boolean inBeforeCompletion;
    private boolean timedOut;
    private Throwable rollbackCause;
    private final long deadlineMillis;
    private final AtomicBoolean expiryClaimed = new AtomicBoolean();
    private boolean afterCompletionRan;
    /** Set once the transaction is decided to commit; the outcome index learns of the commit when it ends. */
    private boolean decidedCommit;

    GlobalTransaction(Coordinator coordinator, Gtrid gtrid, Duration timeout) {
        this.coordinator = coordinator;
        this.gtrid = gtrid;
        this.timeout = timeout;
        this.deadlineMillis = gtrid.beginMillis() + timeout.toMillis();
    }

    public Gtrid gtrid() {
        return gtrid;
    }

    public Duration timeout() {
        return timeout;
    }

    /** The current state. */
    public synchronized TxState state() {
        return state;
    }

    /** True when the timeout rolled this transaction back. */
    public synchronized boolean isTimedOut() {
        return timedOut;
    }

    /** A snapshot of the branches. */
    public synchronized List<Branch> branches() {
        return List.copyOf(branches);
    }

    /** Completes with the terminal state once phase 2 has finished. */
    public CompletableFuture<TxState> completion() {
        return completion;
    }

    /**
     * Called by the coordinator's reaper sweep: true once, for the sweep that should roll this transaction back
     * because its deadline passed while it was still active.
     */
    boolean claimExpiry(long nowMillis) {
        return nowMillis >= deadlineMillis && !completing && expiryClaimed.compareAndSet(false, true);
    }

    private void moveTo(TxState target) {
        assert Thread.holdsLock(this);
        state = state.checkTransition(target);
    }

    // ---------------------------------------------------------------- enlistment

    @Override
    public synchronized boolean enlistResource(XAResource resource) throws RollbackException, SystemException {
        if (resource == null) {
            throw new IllegalArgumentException("XAResource must not be null");
        }
        checkCanEnlist("enlist a resource");
        Branch own = branchOf(resource);
        if (own != null) {
            Branch.Association a = own.associationOf(resource);
            if (a == Branch.Association.ACTIVE) {
                return true;
            }
            if (a == Branch.Association.SUSPENDED) {
                start(resource, own, XAResource.TMRESUME);
                return true;
            }
            if (a == Branch.Association.ENDED && joinable(resource) && tryJoin(resource, own)) {
                return true;
            }
        } else {
            for (Branch b : branches) {
                if (b.xaResource() != null && joinable(resource) && joinable(b.xaResource())
                        && sameRm(resource, b.xaResource()) && tryJoin(resource, b)) {
                    return true;
                }
            }
        }
        ConcordXid xid = new ConcordXid(gtrid, nextBranch++);
        String name = resource instanceof NamedXAResource n ? n.resourceName() : resource.getClass().getName();
        BranchKind kind = resource instanceof NamedXAResource n ? n.kind() : BranchKind.DATABASE;
        Branch b = new Branch(xid, name, kind, resource);
        setResourceTimeout(resource);
        start(resource, b, XAResource.TMNOFLAGS);
        branches.add(b);
        return true;
    }

    /**
     * Adds a branch that a participant already prepared itself with an XID this transaction issued (the
     * participant ran XA START/END/PREPARE on its own connection). The engine finishes it through the named
     * resource of the {@link ResourceRegistry}.
     *
     * @throws IllegalArgumentException when the resource is not registered or the branch number is taken
     * @throws IllegalStateException    when the transaction no longer accepts branches
     */
    public synchronized Branch registerPreparedBranch(String resourceName, int branchNumber)
            throws RollbackException {
        checkCanEnlist("register a prepared branch");
        RecoverableResource rr = coordinator.registry().find(resourceName).orElseThrow(() ->
                new IllegalArgumentException("no resource named '" + resourceName + "' is configured"));
        for (Branch b : branches) {
            if (b.xid().branch() == branchNumber) {
                throw new IllegalArgumentException("branch " + branchNumber + " of " + gtrid + " is already registered");
            }
        }
        ConcordXid xid = new ConcordXid(gtrid, branchNumber);
        checkListedAsPrepared(rr, xid);
        Branch b = Branch.prepared(xid, resourceName, rr.kind());
        branches.add(b);
        nextBranch = Math.max(nextBranch, branchNumber + 1);
        return b;
    }

    /**
     * A participant's word that it prepared a branch is checked against the resource's recovery scan: a branch that
     * was never prepared would otherwise answer XAER_NOTA at commit, which the scan would then take for "already
     * committed".
     */
    private static void checkListedAsPrepared(RecoverableResource rr, ConcordXid xid) {
        try (RecoverableResource.Lease lease = rr.open()) {
            if (!PhaseTwoJob.scanListsStrictly(lease.xaResource(), xid)) {
                throw new IllegalArgumentException("branch " + xid.branch() + " is not prepared at resource '"
                        + rr.name() + "' (its recovery scan does not list the XID): prepare it, then register it");
            }
        } catch (XAException e) {
            throw new IllegalStateException("resource '" + rr.name() + "' cannot be reached to check the prepared "
                    + "branch: " + XaOutcomes.describe(e), e);
        }
    }

    /** Reserves a branch number for a participant that will prepare its own branch. */
    public synchronized ConcordXid reserveBranchXid() throws RollbackException {
        checkCanEnlist("reserve a branch");
        return new ConcordXid(gtrid, nextBranch++);
    }

    private void checkCanEnlist(String what) throws RollbackException {
        if (timedOut) {
            throw new RollbackException("cannot " + what + ": transaction " + gtrid + " timed out after "
                    + timeout.toSeconds() + " s and was rolled back");
        }
        if (state == TxState.MARKED_ROLLBACK) {
            throw new RollbackException("cannot " + what + ": transaction " + gtrid + " is marked rollback-only");
        }
        if (state != TxState.ACTIVE || (completing && !inBeforeCompletion)) {
            throw new IllegalStateException("cannot " + what + ": transaction " + gtrid + " is " + state);
        }
    }

    private boolean joinable(XAResource r) {
        return r instanceof NamedXAResource n && n.supportsJoin();
    }

    private static boolean sameRm(XAResource a, XAResource b) {
        try {
            return a.isSameRM(b);
        } catch (XAException e) {
            return false;
        }
    }

    private boolean tryJoin(XAResource resource, Branch b) {
        try {
            resource.start(b.xid(), XAResource.TMJOIN);
            b.associate(resource, Branch.Association.ACTIVE);
            return true;
        } catch (XAException e) {
            LOG.log(Level.DEBUG, "CONCORD-1001 TMJOIN refused for {0}, starting a separate branch: {1}", b,
                    XaOutcomes.describe(e));
            return false;
        }
    }

    private void start(XAResource resource, Branch b, int flags) throws RollbackException, SystemException {
        try {
            resource.start(b.xid(), flags);
            b.associate(resource, Branch.Association.ACTIVE);
        } catch (XAException e) {
            if (XaOutcomes.isRollbackCode(e.errorCode)) {
                markRollbackOnly(e);
                throw withCause(new RollbackException("resource rolled back branch " + b + " at start: "
                        + XaOutcomes.describe(e)), e);
            }
            throw withCause(new SystemException("start of branch " + b + " failed: " + XaOutcomes.describe(e)), e);
        }
    }

    private void setResourceTimeout(XAResource resource) {
        try {
            resource.setTransactionTimeout((int) Math.max(1, timeout.toSeconds()));
        } catch (XAException | RuntimeException e) {
            // Optional per XA; MariaDB and PostgreSQL do not support it. The engine's own timeout applies.
        }
    }

    private Branch branchOf(XAResource resource) {
        Branch ended = null;
        for (Branch b : branches) {
            Branch.Association a = b.associationOf(resource);
            if (a == Branch.Association.ACTIVE || a == Branch.Association.SUSPENDED) {
                return b;
            }
            if (a != null) {
                ended = b;
            }
        }
        return ended;
    }

    @Override
    public synchronized boolean delistResource(XAResource resource, int flag) throws SystemException {
        if (flag != XAResource.TMSUCCESS && flag != XAResource.TMFAIL && flag != XAResource.TMSUSPEND) {
            throw new IllegalArgumentException("delist flag must be TMSUCCESS, TMFAIL or TMSUSPEND, got " + flag);
        }
        if (timedOut) {
            return true;
        }
        if (!state.isActive() || (completing && !inBeforeCompletion)) {
            throw new IllegalStateException("cannot delist a resource: transaction " + gtrid + " is " + state);
        }
        Branch b = branchOf(resource);
        Branch.Association a = b == null ? null : b.associationOf(resource);
        if (a != Branch.Association.ACTIVE && a != Branch.Association.SUSPENDED) {
            throw new IllegalStateException("resource is not enlisted in transaction " + gtrid);
        }
        if (a == Branch.Association.SUSPENDED && flag == XAResource.TMSUSPEND) {
            return true;
        }
        try {
            resource.end(b.xid(), flag);
        } catch (XAException e) {
            b.associate(resource, Branch.Association.FAILED);
            markRollbackOnly(e);
            if (XaOutcomes.isRollbackCode(e.errorCode)) {
                return true;
            }
            throw withCause(new SystemException("end of branch " + b + " failed: " + XaOutcomes.describe(e)), e);
        }
        if (flag == XAResource.TMSUSPEND) {
            b.associate(resource, Branch.Association.SUSPENDED);
        } else if (flag == XAResource.TMFAIL) {
            b.associate(resource, Branch.Association.FAILED);
            markRollbackOnly(new IllegalStateException("branch " + b + " was delisted with TMFAIL"));
        } else {
            b.associate(resource, Branch.Association.ENDED);
        }
        return true;
    }

    // ---------------------------------------------------------------- synchronizations and rollback-only

    @Override
    public synchronized void registerSynchronization(Synchronization sync) throws RollbackException {
        checkCanRegister(sync);
        synchronizations.add(sync);
    }

    /** Registers a synchronization that runs after the ordinary ones before completion, and before them after. */
    public synchronized void registerInterposedSynchronization(Synchronization sync) {
        try {
            checkCanRegister(sync);
        } catch (RollbackException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        interposed.add(sync);
    }

    private void checkCanRegister(Synchronization sync) throws RollbackException {
        if (sync == null) {
            throw new IllegalArgumentException("Synchronization must not be null");
        }
        checkCanEnlist("register a synchronization");
    }

    @Override
    public synchronized void setRollbackOnly() {
        if (state == TxState.MARKED_ROLLBACK || timedOut) {
            return;
        }
        if (state != TxState.ACTIVE || (completing && !inBeforeCompletion)) {
            throw new IllegalStateException("cannot mark transaction " + gtrid + " rollback-only: it is " + state);
        }
        markRollbackOnly(new IllegalStateException("setRollbackOnly was called"));
    }

    private void markRollbackOnly(Throwable cause) {
        if (state == TxState.ACTIVE) {
            moveTo(TxState.MARKED_ROLLBACK);
        }
        if (rollbackCause == null) {
            rollbackCause = cause;
        }
    }

    @Override
    public synchronized int getStatus() {
        return state.jtaStatus();
    }

    /** True when the transaction can only roll back. */
    public synchronized boolean isRollbackOnly() {
        return state == TxState.MARKED_ROLLBACK || state == TxState.ROLLING_BACK || state == TxState.ROLLED_BACK;
    }

    /** TransactionSynchronizationRegistry resources of this transaction. */
    public synchronized void putResource(Object key, Object value) {
        if (key == null) {
            throw new NullPointerException("resource key must not be null");
        }
        resources.put(key, value);
    }

    public synchronized Object getResource(Object key) {
        if (key == null) {
            throw new NullPointerException("resource key must not be null");
        }
        return resources.get(key);
    }

    // ---------------------------------------------------------------- completion

    @Override
    public void commit() throws RollbackException, HeuristicMixedException, HeuristicRollbackException,
            SystemException {
        synchronized (this) {
            if (completing) {
                if (timedOut) {
                    throw timedOutRollback();
                }
                throw new IllegalStateException("transaction " + gtrid + " is already completing (" + state + ")");
            }
            if (!state.isActive()) {
                throw new IllegalStateException("cannot commit transaction " + gtrid + ": it is " + state);
            }
            completing = true;
            inBeforeCompletion = true;
        }
        runBeforeCompletion();
        synchronized (this) {
            inBeforeCompletion = false;
            if (state == TxState.ACTIVE) {
                endAssociations(XAResource.TMSUCCESS);
            }
            if (state == TxState.MARKED_ROLLBACK) {
                endAssociations(XAResource.TMFAIL);
                TxState end = rollbackBranches(branches);
                throw rolledBack(end);
            }
            if (branches.size() == 1) {
                commitOnePhase(branches.get(0));
                return;
            }
            coordinator.parallel().enter();
            try {
                commitTwoPhase();
            } finally {
                coordinator.parallel().leave();
            }
        }
    }

    private void runBeforeCompletion() {
        // Synchronizations may register more synchronizations; run until none is left.
        for (List<Synchronization> list : List.of(synchronizations, interposed)) {
            for (int i = 0; ; i++) {
                Synchronization s;
                synchronized (this) {
                    if (i >= list.size() || state != TxState.ACTIVE) {
                        break;
                    }
                    s = list.get(i);
                }
                try {
                    s.beforeCompletion();
                } catch (Throwable t) {
                    LOG.log(Level.INFO, "CONCORD-1002 beforeCompletion of {0} failed; rolling back {1}: {2}", s, gtrid, t);
                    synchronized (this) {
                        markRollbackOnly(t);
                    }
                    return;
                }
            }
        }
    }

    private void endAssociations(int flag) {
        for (Branch b : branches) {
            for (XAResource r : b.associated()) {
                Branch.Association a = b.associationOf(r);
                if (a == Branch.Association.ACTIVE || a == Branch.Association.SUSPENDED) {
                    try {
                        r.end(b.xid(), flag);
                        b.associate(r, flag == XAResource.TMSUCCESS ? Branch.Association.ENDED : Branch.Association.FAILED);
                    } catch (XAException | RuntimeException e) {
                        b.associate(r, Branch.Association.FAILED);
                        if (flag == XAResource.TMSUCCESS) {
                            markRollbackOnly(e);
                        }
                    }
                }
            }
        }
    }

    private void commitOnePhase(Branch b) throws RollbackException, HeuristicMixedException,
            HeuristicRollbackException {
        if (b.xaResource() == null) {
            // A participant-prepared branch cannot be committed in one phase; it is already prepared.
            moveTo(TxState.PREPARING);
            b.vote(Vote.YES);
            commitVoters(new ArrayList<>(List.of(b)));
            return;
        }
        moveTo(TxState.COMMITTING_ONE_PHASE);
        BranchOutcome outcome;
        Throwable failure = null;
        try {
            b.xaResource().commit(b.xid(), true);
            outcome = BranchOutcome.DONE;
        } catch (Throwable t) {
            failure = t;
            outcome = XaOutcomes.onePhaseCommitFailure(t);
            b.lastError("one-phase commit: " + XaOutcomes.describe(t));
            if (outcome == BranchOutcome.DONE_FORGET) {
                forgetQuietly(b);
            }
        }
        b.outcome(outcome);
        if (outcome == BranchOutcome.DONE || outcome == BranchOutcome.DONE_FORGET) {
            decidedCommit = true;
            finish(TxState.COMMITTED);
            return;
        }
        if (XaOutcomes.isOnePhaseRollback(failure)) {
            b.outcome(BranchOutcome.DONE);
            finish(TxState.ROLLED_BACK);
            throw withCause(new RollbackException("transaction " + gtrid + " rolled back: the resource refused "
                    + "the one-phase commit of branch " + b + " (" + XaOutcomes.describe(failure) + ")"), failure);
        }
        PhaseTwoJob.recordHeuristics(coordinator, gtrid, List.of(b));
        TxState end = commitEndState(List.of(b));
        finish(end);
        throwHeuristic(end, List.of(b));
    }

    private void commitTwoPhase() throws RollbackException, HeuristicMixedException, HeuristicRollbackException {
        moveTo(TxState.PREPARING);
        List<Branch> toPrepare = new ArrayList<>();
        for (Branch b : branches) {
            if (b.vote() == null) {
                toPrepare.add(b);
            }
        }
        long prepareStart = System.nanoTime();
        coordinator.preparer().prepare(toPrepare);
        coordinator.listener().prepared(this, System.nanoTime() - prepareStart);
        CrashPoint.AFTER_ALL_PREPARES.hit();
        List<Branch> voters = new ArrayList<>();
        RollbackException refusal = null;
        for (Branch b : branches) {
            if (b.vote() == Vote.NO || b.vote() == Vote.FAILED) {
                if (refusal == null) {
                    refusal = new RollbackException("transaction " + gtrid + " rolled back: branch " + b
                            + " could not prepare (" + b.lastError() + ")");
                } else {
                    refusal.addSuppressed(new XAException("branch " + b + ": " + b.lastError()));
                }
            } else if (b.vote() == Vote.YES) {
                voters.add(b);
            }
        }
        if (refusal != null) {
            moveTo(TxState.ROLLING_BACK);
            TxState end = rollbackBranches(branches);
            if (end.isHeuristic()) {
                throw withCause(new HeuristicMixedException("transaction " + gtrid + " was rolled back but a branch "
                        + "reported a heuristic outcome: " + end), refusal);
            }
            throw refusal;
        }
        commitVoters(voters);
    }

    private void commitVoters(List<Branch> voters) throws RollbackException, HeuristicMixedException,
            HeuristicRollbackException {
        if (voters.isEmpty()) {
            decidedCommit = true;
            moveTo(TxState.COMMITTED);
            finish(TxState.COMMITTED);
            return;
        }
        voters.sort(BY_KIND);
        boolean logged = false;
        if (voters.size() >= 2) {
            CrashPoint.BEFORE_DECISION_FORCE.hit();
            try {
                forceDecision(voters);
                logged = true;
            } catch (LogException e) {
                LOG.log(Level.ERROR, "CONCORD-1003 commit decision of {0} could not be written; rolling back: {1}",
                        gtrid, e.getMessage());
                moveTo(TxState.ROLLING_BACK);
                rollbackCause = e;
                TxState end = rollbackBranches(branches);
                throw rolledBack(end);
            }
            CrashPoint.AFTER_DECISION_FORCE.hit();
        }
        moveTo(TxState.COMMITTING);
        decidedCommit = true;
        PhaseTwoJob job = coordinator.newPhaseTwoJob(gtrid, PhaseTwoJob.Direction.COMMIT, voters);
        if (job.attemptAll()) {
            TxState end = finishCommit(job, logged);
            throwHeuristic(end, voters);
            return;
        }
        if (!logged) {
            // The lone voter's commit needs a retry: from now on only the log proves the transaction committed.
            try {
                forceDecision(voters);
                logged = true;
            } catch (LogException e) {
                LOG.log(Level.ERROR, "CONCORD-1004 late commit decision of {0} could not be written; retrying "
                        + "phase 2 in memory only: {1}", gtrid, e.getMessage());
            }
        }
        boolean decisionLogged = logged;
        job.completion().thenRun(() -> {
            synchronized (this) {
                finishCommit(job, decisionLogged);
            }
        });
        job.retryUntilDone();
        runAfterCompletion(Status.STATUS_COMMITTED);
    }

    private void forceDecision(List<Branch> voters) throws LogException {
        List<BranchRecord> records = new ArrayList<>(voters.size());
        for (Branch b : voters) {
            records.add(b.toRecord());
        }
        coordinator.log().forceCommitDecision(new CommitDecision(gtrid, coordinator.config().clock().millis(), records));
        coordinator.outcomes().decided(gtrid);
    }

    private TxState finishCommit(PhaseTwoJob job, boolean logged) {
        job.recordHeuristics();
        if (logged) {
            job.writeEnd();
        }
        TxState end = commitEndState(job.branches());
        finish(end);
        return end;
    }

    private TxState commitEndState(List<Branch> voters) {
        int rolledBack = 0;
        int committed = 0;
        boolean hazard = false;
        boolean mixed = false;
        for (Branch b : voters) {
            switch (b.outcome()) {
                case DONE, DONE_FORGET -> committed++;
                case HEURISTIC_ROLLBACK -> rolledBack++;
                case HEURISTIC_HAZARD -> hazard = true;
                default -> mixed = true;
            }
        }
        if (mixed || (rolledBack > 0 && committed > 0)) {
            return TxState.HEURISTIC_MIXED;
        }
        if (hazard) {
            return TxState.HEURISTIC_HAZARD;
        }
        return rolledBack > 0 ? TxState.HEURISTIC_ROLLBACK : TxState.COMMITTED;
    }

    private void throwHeuristic(TxState end, List<Branch> voters) throws HeuristicMixedException,
            HeuristicRollbackException {
        if (end == TxState.COMMITTED) {
            return;
        }
        StringBuilder detail = new StringBuilder();
        for (Branch b : voters) {
            if (b.outcome() != null && b.outcome().isHeuristic()) {
                detail.append(' ').append(b).append('=').append(b.outcome()).append(" (").append(b.lastError()).append(')');
            }
        }
        if (end == TxState.HEURISTIC_ROLLBACK) {
            throw new HeuristicRollbackException("transaction " + gtrid + " was decided to commit but every branch "
                    + "rolled back on its own:" + detail);
        }
        throw new HeuristicMixedException("transaction " + gtrid + " ended " + end + ":" + detail);
    }

    private void forgetQuietly(Branch b) {
        try {
            b.xaResource().forget(b.xid());
        } catch (XAException | RuntimeException e) {
            LOG.log(Level.WARNING, "CONCORD-1203 forget of heuristic branch {0} failed: {1}", b, XaOutcomes.describe(e));
        }
    }

    /**
     * Rolls back every branch that may hold work (prepared, failed prepare, or never prepared), retrying prepared
     * ones in the background if needed. Returns the terminal state when phase 2 finished, else ROLLING_BACK.
     */
    private TxState rollbackBranches(List<Branch> all) {
        if (state != TxState.ROLLING_BACK) {
            moveTo(TxState.ROLLING_BACK);
        }
        List<Branch> toRollBack = new ArrayList<>();
        for (Branch b : all) {
            if (b.vote() != Vote.NO && b.vote() != Vote.READ_ONLY) {
                toRollBack.add(b);
            }
        }
        PhaseTwoJob job = coordinator.newPhaseTwoJob(gtrid, PhaseTwoJob.Direction.ROLLBACK, toRollBack);
        if (job.attemptAll()) {
            return finishRollback(job);
        }
        job.completion().thenRun(() -> {
            synchronized (this) {
                finishRollback(job);
            }
        });
        job.retryUntilDone();
        runAfterCompletion(Status.STATUS_ROLLEDBACK);
        return TxState.ROLLING_BACK;
    }

    private TxState finishRollback(PhaseTwoJob job) {
        job.recordHeuristics();
        boolean committed = false;
        boolean rolledBack = false;
        boolean hazard = false;
        boolean mixed = false;
        for (Branch b : job.branches()) {
            switch (b.outcome()) {
                case HEURISTIC_COMMIT -> committed = true;
                case HEURISTIC_HAZARD -> hazard = true;
                case HEURISTIC_MIXED -> mixed = true;
                default -> rolledBack = true;
            }
        }
        TxState end;
        if (mixed || (committed && rolledBack)) {
            end = TxState.HEURISTIC_MIXED;
        } else if (committed) {
            end = TxState.HEURISTIC_COMMIT;
        } else if (hazard) {
            end = TxState.HEURISTIC_HAZARD;
        } else {
            end = TxState.ROLLED_BACK;
        }
        finish(end);
        return end;
    }

    private RollbackException rolledBack(TxState end) {
        String why = rollbackCause == null ? "" : ": " + rollbackCause.getMessage();
        RollbackException e = new RollbackException("transaction " + gtrid + " was rolled back" + why
                + (end.isHeuristic() ? " (a branch reported " + end + ")" : ""));
        if (rollbackCause != null) {
            e.initCause(rollbackCause);
        }
        return e;
    }

    private RollbackException timedOutRollback() {
        return new RollbackException("transaction " + gtrid + " timed out after " + timeout.toSeconds()
                + " s and was rolled back");
    }

    @Override
    public void rollback() throws SystemException {
        synchronized (this) {
            if (timedOut) {
                return;
            }
            if (completing) {
                throw new IllegalStateException("transaction " + gtrid + " is already completing (" + state + ")");
            }
            if (!state.isActive()) {
                throw new IllegalStateException("cannot roll back transaction " + gtrid + ": it is " + state);
            }
            completing = true;
            if (rollbackCause == null) {
                rollbackCause = new IllegalStateException("rollback was called");
            }
            endAssociations(XAResource.TMFAIL);
            rollbackBranches(branches);
        }
    }

    /** Called by the timer: rolls the transaction back unless it is already completing. */
    void expire() {
        synchronized (this) {
            if (completing || !state.isActive()) {
                return;
            }
            completing = true;
            timedOut = true;
            rollbackCause = new IllegalStateException("timed out after " + timeout.toSeconds() + " s");
            LOG.log(Level.INFO, "CONCORD-1008 transaction {0} timed out after {1} s; rolling back", gtrid,
                    timeout.toSeconds());
            endAssociations(XAResource.TMFAIL);
            rollbackBranches(branches);
        }
    }

    private void finish(TxState end) {
        if (state != end) {
            moveTo(end);
        }
        if (decidedCommit) {
            // Before the transaction leaves the in-flight set, so the outcome query never sees it in neither.
            coordinator.outcomes().committed(gtrid, coordinator.config().clock().millis());
        }
        coordinator.ended(this);
        runAfterCompletion(end.jtaStatus());
        completion.complete(end);
    }

    /** Runs afterCompletion once: early, with the decided status, when phase 2 goes on in the background. */
    private void runAfterCompletion(int status) {
        if (afterCompletionRan) {
            return;
        }
        afterCompletionRan = true;
        if (interposed.isEmpty() && synchronizations.isEmpty()) {
            return;
        }
        List<Synchronization> order = new ArrayList<>(interposed);
        order.addAll(synchronizations);
        for (Synchronization s : order) {
            try {
                s.afterCompletion(status);
            } catch (Throwable t) {
                LOG.log(Level.WARNING, "CONCORD-1009 afterCompletion of {0} failed for {1}: {2}", s, gtrid, t);
            }
        }
    }

    private static <T extends Exception> T withCause(T e, Throwable cause) {
        e.initCause(cause);
        return e;
    }

    @Override
    public String toString() {
        return "GlobalTransaction[" + gtrid + " " + state() + "]";
    }
}
