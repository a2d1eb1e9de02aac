package dev.concord.xa.rocketmq;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.NamedXAResource;
import dev.concord.recovery.xid.ConcordXid;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * The XAResource of a {@link RocketMqResource}: the messages of one branch, and what became of them.
 *
 * <p>Between {@code start} and {@code end} the application registers messages with {@link #addMessage}. Then:
 * <ul>
 *   <li>{@code prepare}: no messages → XA_RDONLY; otherwise each is sent as a half message; all SEND_OK → XA_OK;
 *       a failed, timed-out or not durably stored send → the half messages sent so far are ended with ROLLBACK and
 *       prepare throws XA_RBCOMMFAIL (broker unreachable, timeout) or XA_RBROLLBACK (refused, FLUSH_DISK_TIMEOUT,
 *       FLUSH_SLAVE_TIMEOUT, SLAVE_NOT_AVAILABLE, bad message), with the reason in the message.</li>
 *   <li>{@link #recoveryData}: the half messages' coordinates (see {@link RocketMqResource}), versioned binary.</li>
 *   <li>{@code commit}/{@code rollback}: acknowledged END_TRANSACTION for every half message not yet acknowledged.
 *       No answer → XAER_RMFAIL (the engine retries, through a fresh instance restored from the recovery data);
 *       on commit, half messages the broker no longer has → XA_HEURRB (none committed) or XA_HEURMIX (some did).
 *       On rollback a missing half message counts as rolled back.</li>
 *   <li>One-phase commit: send the half messages and commit them at once; an END that is not acknowledged after
 *       three tries → XA_HEURHAZ (the check-back will find no commit decision and roll it back).</li>
 *   <li>{@code recover} returns no XIDs: the broker cannot list half messages. Message branches are finished from
 *       the commit decision's recovery data, or by the broker's check-back.</li>
 * </ul>
 * An XAResource unknown XID gets XAER_NOTA. {@code isSameRM} is true only for the same object, so every enlistment
 * is a branch of its own. Thread-safe; XA calls on one XAResource are serialized.
 */
public final class RocketMqXAResource implements NamedXAResource {
    private static final System.Logger LOG = System.getLogger(RocketMqXAResource.class.getName());
    private static final int ONE_PHASE_END_ATTEMPTS = 3;

    private enum Phase { ACTIVE, SUSPENDED, IDLE, ROLLBACK_ONLY, PREPARED }

    /** What became of a registered message. */
    public enum MessageState {
        /** Registered; not sent yet. */
        REGISTERED,
        /** Stored on the broker as a half message, invisible to consumers until committed. */
        PREPARED,
        /** Committed (END acknowledged): delivered to the topic's consumers. */
        COMMITTED,
        /** Rolled back, or never sent: never delivered. */
        ROLLED_BACK,
        /** Commit failed for good: the broker no longer had the half message (heuristic; never delivered). */
        MISSING
    }

    /**
     * One message of a branch as this XAResource knows it.
     *
     * @param topic     the topic
     * @param messageId the broker's message id (the id consumers see), null until it is sent
     * @param state     what became of it
     */
    public record MessageStatus(String topic, String messageId, MessageState state) {
    }

    /** Most finished branches whose message status is remembered (an XAResource normally serves one branch). */
    private static final int FINISHED_MEMORY = 64;

    /** One branch this XAResource knows. */
    private static final class BranchState {
        final String gtridHex;
        final String branch;
        final List<TransactionalMessage> messages = new ArrayList<>();
        Phase phase;
        String producerGroup;
        List<HalfMessage> halves = List.of();
        /** Half messages (by {@link HalfMessage#key()}) whose END was acknowledged or found missing. */
        final Map<String, MessageState> ended = new LinkedHashMap<>();

        BranchState(String gtridHex, String branch, Phase phase) {
            this.gtridHex = gtridHex;
            this.branch = branch;
            this.phase = phase;
        }
    }

    private final RocketMqResource resource;
    private final Map<String, BranchState> branches = new LinkedHashMap<>();
    private final Map<String, List<MessageStatus>> finished = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<MessageStatus>> eldest) {
            return size() > FINISHED_MEMORY;
        }
    };

    RocketMqXAResource(RocketMqResource resource) {
        this.resource = resource;
    }

    @Override
    public String resourceName() {
        return resource.name();
    }

    @Override
    public BranchKind kind() {
        return BranchKind.MESSAGE;
    }

    /**
     * Registers a message on the branch this XAResource is associated with (between {@code start} and
     * {@code end}); it is sent as a half message at prepare.
     *
     * @throws IllegalStateException when no branch is active on this XAResource
     */
    public synchronized void addMessage(TransactionalMessage message) {
        Objects.requireNonNull(message, "message");
        for (BranchState b : branches.values()) {
            if (b.phase == Phase.ACTIVE) {
                b.messages.add(message);
                return;
            }
        }
        throw new IllegalStateException("no branch is active on this RocketMQ XAResource of resource '"
                + resourceName() + "': enlist it in a transaction first");
    }

    /** Messages registered on a branch so far (an empty list for an unknown XID). */
    public synchronized List<TransactionalMessage> messages(Xid xid) {
        BranchState b = branches.get(key(xid));
        return b == null ? List.of() : List.copyOf(b.messages);
    }

    /**
     * What became of each message of a branch, in registration order: while the branch is known, and after this
     * XAResource committed or rolled it back (an empty list for a branch it never knew).
     */
    public synchronized List<MessageStatus> messageStatus(Xid xid) {
        String k = key(xid);
        BranchState b = branches.get(k);
        if (b == null) {
            return finished.getOrDefault(k, List.of());
        }
        return statusOf(b, null);
    }

    /** The status of every message of a branch; {@code outcome} overrides the state of messages not ended. */
    private static List<MessageStatus> statusOf(BranchState b, MessageState outcome) {
        List<MessageStatus> out = new ArrayList<>(b.messages.size());
        for (int i = 0; i < b.messages.size(); i++) {
            HalfMessage h = i < b.halves.size() ? b.halves.get(i) : null;
            MessageState state = h == null ? MessageState.REGISTERED : b.ended.getOrDefault(h.key(),
                    MessageState.PREPARED);
            if (outcome != null && (state == MessageState.REGISTERED || state == MessageState.PREPARED)) {
                state = outcome;
            }
            out.add(new MessageStatus(b.messages.get(i).topic(), h == null ? null : h.msgId(), state));
        }
        return List.copyOf(out);
    }

    /** Forgets a branch, remembering what became of its messages. */
    private void finish(String k, BranchState b, MessageState outcome) {
        branches.remove(k);
        if (!b.messages.isEmpty()) {
            finished.put(k, statusOf(b, outcome));
        }
    }

    @Override
    public synchronized void start(Xid xid, int flags) throws XAException {
        String k = key(xid);
        BranchState b = branches.get(k);
        switch (flags) {
            case TMNOFLAGS -> {
                if (b != null) {
                    throw RocketMqResource.xa(XAException.XAER_DUPID, "branch " + k + " is already known");
                }
                if (active() != null) {
                    throw RocketMqResource.xa(XAException.XAER_PROTO, "another branch is active on this XAResource");
                }
                branches.put(k, new BranchState(gtridHex(xid), branchText(xid), Phase.ACTIVE));
            }
            case TMJOIN -> {
                if (b == null) {
                    throw RocketMqResource.xa(XAException.XAER_NOTA, "no branch " + k + " to join");
                }
                if (b.phase != Phase.IDLE || active() != null) {
                    throw RocketMqResource.xa(XAException.XAER_PROTO, "branch " + k + " is " + b.phase);
                }
                b.phase = Phase.ACTIVE;
            }
            case TMRESUME -> {
                if (b == null) {
                    throw RocketMqResource.xa(XAException.XAER_NOTA, "no branch " + k + " to resume");
                }
                if (b.phase != Phase.SUSPENDED || active() != null) {
                    throw RocketMqResource.xa(XAException.XAER_PROTO, "branch " + k + " is " + b.phase);
                }
                b.phase = Phase.ACTIVE;
            }
            default -> throw RocketMqResource.xa(XAException.XAER_INVAL, "start flags " + flags);
        }
    }

    private BranchState active() {
        for (BranchState b : branches.values()) {
            if (b.phase == Phase.ACTIVE) {
                return b;
            }
        }
        return null;
    }

    @Override
    public synchronized void end(Xid xid, int flags) throws XAException {
        BranchState b = known(xid);
        if (b.phase != Phase.ACTIVE && !(b.phase == Phase.SUSPENDED && flags != TMSUSPEND)) {
            throw RocketMqResource.xa(XAException.XAER_PROTO, "branch " + key(xid) + " is " + b.phase);
        }
        switch (flags) {
            case TMSUCCESS -> b.phase = Phase.IDLE;
            case TMFAIL -> b.phase = Phase.ROLLBACK_ONLY;
            case TMSUSPEND -> b.phase = Phase.SUSPENDED;
            default -> throw RocketMqResource.xa(XAException.XAER_INVAL, "end flags " + flags);
        }
    }

    @Override
    public synchronized int prepare(Xid xid) throws XAException {
        BranchState b = known(xid);
        if (b.phase == Phase.ROLLBACK_ONLY) {
            finish(key(xid), b, MessageState.ROLLED_BACK);
            throw RocketMqResource.xa(XAException.XA_RBROLLBACK, "branch " + key(xid) + " was ended with TMFAIL");
        }
        if (b.phase != Phase.IDLE) {
            throw RocketMqResource.xa(XAException.XAER_PROTO, "cannot prepare branch " + key(xid) + ": it is " + b.phase);
        }
        if (b.messages.isEmpty()) {
            branches.remove(key(xid));
            return XA_RDONLY;
        }
        try {
            b.halves = List.copyOf(resource.sendHalves(b.messages, b.gtridHex, b.branch));
        } catch (XAException e) {
            finish(key(xid), b, MessageState.ROLLED_BACK);
            throw e;
        }
        b.producerGroup = resource.config().producerGroup();
        b.phase = Phase.PREPARED;
        return XA_OK;
    }

    /** The half messages of a prepared branch, encoded (see {@link RocketMqResource}); empty for any other. */
    @Override
    public synchronized byte[] recoveryData(Xid xid) {
        BranchState b = branches.get(key(xid));
        if (b == null || b.phase != Phase.PREPARED) {
            return new byte[0];
        }
        return HalfMessage.encode(b.producerGroup, b.halves);
    }

    /**
     * Makes this XAResource know a prepared branch from its recovery data, so that it can commit or roll it back.
     *
     * @throws IllegalArgumentException when the data is not RocketMQ recovery data this version reads
     */
    @Override
    public synchronized void restoreRecoveryData(Xid xid, byte[] data) {
        HalfMessage.Decoded d = HalfMessage.decode(data);
        String k = key(xid);
        BranchState existing = branches.get(k);
        if (existing != null && existing.phase == Phase.PREPARED) {
            return;
        }
        BranchState b = new BranchState(gtridHex(xid), branchText(xid), Phase.PREPARED);
        b.producerGroup = d.producerGroup();
        b.halves = d.halves();
        branches.put(k, b);
    }

    @Override
    public synchronized void commit(Xid xid, boolean onePhase) throws XAException {
        BranchState b = known(xid);
        if (onePhase) {
            commitOnePhase(xid, b);
            return;
        }
        if (b.phase != Phase.PREPARED) {
            throw RocketMqResource.xa(XAException.XAER_PROTO, "cannot commit branch " + key(xid) + " in two phases: it is "
                    + b.phase);
        }
        EndRound o = endAll(b, true);
        if (o.transientFailures > 0) {
            throw RocketMqResource.xa(XAException.XAER_RMFAIL, "commit of branch " + key(xid) + " on resource '"
                    + resourceName() + "' is unfinished: " + o.details);
        }
        finish(key(xid), b, null);
        if (o.definitiveFailures > 0) {
            throw heuristicCommitFailure(xid, o);
        }
    }

    private void commitOnePhase(Xid xid, BranchState b) throws XAException {
        String k = key(xid);
        if (b.phase == Phase.ROLLBACK_ONLY) {
            finish(k, b, MessageState.ROLLED_BACK);
            throw RocketMqResource.xa(XAException.XA_RBROLLBACK, "branch " + k + " was ended with TMFAIL");
        }
        if (b.phase != Phase.IDLE) {
            throw RocketMqResource.xa(XAException.XAER_PROTO, "cannot commit branch " + k + " in one phase: it is " + b.phase);
        }
        if (b.messages.isEmpty()) {
            branches.remove(k);
            return;
        }
        try {
            b.halves = List.copyOf(resource.sendHalves(b.messages, b.gtridHex, b.branch));
        } catch (XAException e) {
            finish(k, b, MessageState.ROLLED_BACK);
            throw e;
        }
        b.producerGroup = resource.config().producerGroup();
        b.phase = Phase.PREPARED;
        EndRound o = endAll(b, true);
        for (int attempt = 1; attempt < ONE_PHASE_END_ATTEMPTS && o.transientFailures > 0; attempt++) {
            pause(100L * attempt);
            o = endAll(b, true);
        }
        finish(k, b, null);
        if (o.transientFailures > 0) {
            throw RocketMqResource.xa(XAException.XA_HEURHAZ, "one-phase commit of branch " + k + " on resource '"
                    + resourceName() + "': END not acknowledged after " + ONE_PHASE_END_ATTEMPTS + " tries; the "
                    + "broker's check-back decides (no commit decision was logged): " + o.details);
        }
        if (o.definitiveFailures > 0) {
            throw heuristicCommitFailure(xid, o);
        }
    }

    private XAException heuristicCommitFailure(Xid xid, EndRound o) {
        int code = o.ended > 0 ? XAException.XA_HEURMIX : XAException.XA_HEURRB;
        LOG.log(Level.ERROR, "CONCORD-4005 commit of branch {0} on resource {1}: {2} of {3} message(s) cannot be "
                + "committed: {4}", key(xid), resourceName(), o.definitiveFailures, o.total, o.details);
        return RocketMqResource.xa(code, "commit of branch " + key(xid) + " on resource '" + resourceName() + "': "
                + o.definitiveFailures + " of " + o.total + " message(s) are not on the broker any more: " + o.details);
    }

    @Override
    public synchronized void rollback(Xid xid) throws XAException {
        BranchState b = known(xid);
        if (b.phase != Phase.PREPARED) {
            // Nothing was sent: the registered messages are just dropped.
            finish(key(xid), b, MessageState.ROLLED_BACK);
            return;
        }
        EndRound o = endAll(b, false);
        if (o.transientFailures > 0) {
            throw RocketMqResource.xa(XAException.XAER_RMFAIL, "rollback of branch " + key(xid) + " on resource '"
                    + resourceName() + "' is unfinished: " + o.details);
        }
        if (o.definitiveFailures > 0) {
            LOG.log(Level.WARNING, "CONCORD-4006 rollback of branch {0} on resource {1}: {2} half message(s) were "
                    + "not found as recorded, nothing left to roll back: {3}", key(xid), resourceName(),
                    o.definitiveFailures, o.details);
        }
        finish(key(xid), b, MessageState.ROLLED_BACK);
    }

    /** What one round of END requests over a branch achieved. */
    private static final class EndRound {
        int total;
        int ended;
        int transientFailures;
        int definitiveFailures;
        final List<String> details = new ArrayList<>();
    }

    private EndRound endAll(BranchState b, boolean commit) {
        EndRound o = new EndRound();
        o.total = b.halves.size();
        for (HalfMessage h : b.halves) {
            MessageState done = commit ? MessageState.COMMITTED : MessageState.ROLLED_BACK;
            if (resource.wasAcknowledged(h)) {
                o.ended++;
                b.ended.put(h.key(), done);
                continue;
            }
            RocketMqResource.EndResult r = resource.end(b.producerGroup, h, commit);
            switch (r.status()) {
                case ACKNOWLEDGED -> {
                    o.ended++;
                    b.ended.put(h.key(), done);
                }
                case TRANSIENT -> {
                    o.transientFailures++;
                    o.details.add(r.detail());
                }
                case MISSING, REFUSED -> {
                    o.definitiveFailures++;
                    o.details.add(r.detail());
                    b.ended.put(h.key(), commit ? MessageState.MISSING : MessageState.ROLLED_BACK);
                }
                default -> throw new IllegalStateException("unexpected END status " + r.status());
            }
        }
        return o;
    }

    /** Forgets the branch; this resource keeps no heuristic state, so there is nothing else to do. */
    @Override
    public synchronized void forget(Xid xid) {
        branches.remove(key(xid));
    }

    /** No XIDs: the broker cannot list pending half messages (see the class comment). */
    @Override
    public Xid[] recover(int flag) {
        return new Xid[0];
    }

    @Override
    public boolean isSameRM(XAResource other) {
        return other == this;
    }

    @Override
    public int getTransactionTimeout() {
        return 0;
    }

    @Override
    public boolean setTransactionTimeout(int seconds) {
        return false;
    }

    private BranchState known(Xid xid) throws XAException {
        BranchState b = branches.get(key(xid));
        if (b == null) {
            throw RocketMqResource.xa(XAException.XAER_NOTA, "RocketMQ resource '" + resourceName()
                    + "' knows no branch " + key(xid) + " on this XAResource");
        }
        return b;
    }

    private static String key(Xid xid) {
        return xid.getFormatId() + ":" + gtridHex(xid) + ":" + HexFormat.of().formatHex(xid.getBranchQualifier());
    }

    /** The gtrid as the {@value TransactionalMessage#PROPERTY_GTRID} property carries it. */
    static String gtridHex(Xid xid) {
        return HexFormat.of().formatHex(xid.getGlobalTransactionId());
    }

    /** The branch number of a Concord XID, else the bqual in hex. */
    static String branchText(Xid xid) {
        ConcordXid c = ConcordXid.from(xid);
        if (c != null) {
            return Integer.toString(c.branch());
        }
        int b = ConcordXid.branchOf(xid.getBranchQualifier());
        return b > 0 ? Integer.toString(b) : HexFormat.of().formatHex(xid.getBranchQualifier());
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized String toString() {
        return "RocketMqXAResource[" + resourceName() + ", branches=" + Arrays.toString(branches.keySet().toArray()) + "]";
    }
}
