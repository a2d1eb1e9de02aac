package dev.concord.xa.rocketmq;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.RecoverableResource;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Synchronization;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.transaction.xa.XAException;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.impl.factory.MQClientInstance;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageDecoder;
import org.apache.rocketmq.common.message.MessageId;
import org.apache.rocketmq.common.sysflag.MessageSysFlag;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.remoting.exception.RemotingException;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.apache.rocketmq.remoting.protocol.RequestCode;
import org.apache.rocketmq.remoting.protocol.ResponseCode;
import org.apache.rocketmq.remoting.protocol.body.ClusterInfo;
import org.apache.rocketmq.remoting.protocol.header.EndTransactionRequestHeader;

/**
 * A RocketMQ cluster as a resource manager of Concord: messages registered on a branch become RocketMQ
 * transactional (half) messages at prepare and are committed or rolled back with END_TRANSACTION in phase 2.
 *
 * <p><b>The protocol.</b> The application registers messages on a {@link RocketMqXAResource} between
 * {@code start} and {@code end} ({@link #branchOf(Transaction)} enlists one per transaction). Prepare sends each as
 * a half message ({@code send()} with the {@code TRAN_MSG} and {@code PGROUP} properties; one attempt, no retry on
 * another broker, so a timed-out send never leaves a second copy behind); SEND_OK for all is a yes vote, anything
 * else is a no vote after what was sent is rolled back. The branch's recovery data (stored in the forced commit
 * decision) holds, per half message, what END_TRANSACTION needs: broker name and address, commit-log offset, queue
 * offset, message id, transaction id, topic, and the producer group. Commit and rollback send END_TRANSACTION
 * <em>acknowledged</em> ({@code invokeSync} on the client's remoting client; the client's own
 * {@code endTransaction} is one-way and can be lost silently), from the in-memory branch or from the recovery data
 * in any later process. A branch without messages votes read-only; a branch alone in its transaction is sent and
 * committed in one phase.
 *
 * <p><b>Recovery.</b> The broker cannot list pending half messages, so {@link RocketMqXAResource#recover} returns
 * no XIDs: a message branch is finished from the commit decision's recovery data (redo of phase 2), or, when no
 * decision exists or no END arrives, by the broker's check-back. This resource keeps a producer of its group
 * online (route to every broker of the cluster known, heartbeats sent) so that check-backs reach it; its
 * {@link OutcomeCheckListener} answers them from the {@link OutcomeSource}. The broker does not de-duplicate: an END
 * sent twice, or an END racing a check-back COMMIT, delivers a message twice. Within one process this resource
 * remembers which half messages the broker acknowledged and never ends them again; across processes consumers
 * de-duplicate on the properties described in {@link TransactionalMessage}.
 *
 * <p>Phase 2 commits message branches after database branches ({@link #kind()} is MESSAGE), so a consumer never
 * sees a message before the data it announces.
 *
 * <p>RocketMQ's own client log goes where {@link RocketMqLogging} says (by default WARN and above to
 * {@code java.io.tmpdir/concord-rocketmq-logs}) unless the application configured it. Thread-safe.
 */
public final class RocketMqResource implements RecoverableResource, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RocketMqResource.class.getName());
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final long DISCOVERY_PERIOD_SECONDS = 30;
    private static final int ACKNOWLEDGED_MEMORY = 100_000;

    /** What the broker made of one END_TRANSACTION. */
    enum EndStatus {
        /** The broker answered success. */
        ACKNOWLEDGED,
        /** No answer, or an answer that may change on a retry (busy, slave, timeout, connection failure). */
        TRANSIENT,
        /** The broker has no half message at that commit-log offset (lost in a crash, or its file was deleted). */
        MISSING,
        /** The broker refused for good: the half message there is another one (offset or group mismatch). */
        REFUSED
    }

    /** The result of one END_TRANSACTION, with a readable reason when it failed. */
    record EndResult(EndStatus status, String detail) {
    }

    private enum State { NEW, STARTED, CLOSED }

    private final RocketMqResourceConfig config;
    private final TransactionMQProducer producer;
    private final Map<String, Boolean> acknowledged = Collections.synchronizedMap(
            new LinkedHashMap<>(1024, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > ACKNOWLEDGED_MEMORY;
                }
            });
    /** Message ids whose check-back this process answered COMMIT; bounded like {@code acknowledged}. */
    private final Map<String, Boolean> committedByCheck = Collections.synchronizedMap(
            new LinkedHashMap<>(1024, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > ACKNOWLEDGED_MEMORY;
                }
            });
    private final Map<Transaction, RocketMqXAResource> branches = Collections.synchronizedMap(new IdentityHashMap<>());
    private ScheduledExecutorService discovery;
    private volatile State state = State.NEW;

    /**
     * Creates the resource; connects to nothing until {@link #start()}.
     *
     * @param outcomes answers the broker's check-backs; {@link OutcomeSource#unknown()} when none is wired yet
     */
    public RocketMqResource(RocketMqResourceConfig config, OutcomeSource outcomes) {
        this.config = Objects.requireNonNull(config, "config");
        RocketMqLogging.redirectUnlessConfigured(RocketMqLogging.defaultDirectory(), "WARN");
        RPCHook acl = config.hasAcl()
                ? new AclClientRPCHook(new SessionCredentials(config.accessKey(), config.secretKey()))
                : null;
        TransactionMQProducer p = new TransactionMQProducer(config.producerGroup(), acl);
        p.setNamesrvAddr(config.namesrvAddress());
        // A client instance of its own: two resources (or a restarted one) of the same group in one JVM must not
        // share RocketMQ's per-instance-name client, which refuses a group registered twice.
        p.setInstanceName("concord-" + config.name() + "-" + ProcessHandle.current().pid() + "-"
                + INSTANCES.incrementAndGet());
        p.setSendMsgTimeout((int) config.sendTimeout().toMillis());
        p.setRetryTimesWhenSendFailed(0);
        p.setRetryAnotherBrokerWhenNotStoreOK(false);
        p.setTransactionListener(new OutcomeCheckListener(outcomes, this::committedByCheckBack));
        this.producer = p;
    }

    /**
     * Starts the producer, learns the route to every broker of the cluster and sends heartbeats, so that END
     * requests find their broker and check-backs reach this process; repeats the discovery every 30 s. A name
     * server that cannot be reached now is logged, not fatal: discovery retries.
     *
     * @throws IllegalStateException when the producer cannot start or the resource was closed
     */
    public synchronized RocketMqResource start() {
        if (state == State.STARTED) {
            return this;
        }
        if (state == State.CLOSED) {
            throw new IllegalStateException("RocketMQ resource '" + name() + "' is closed");
        }
        try {
            producer.start();
        } catch (MQClientException e) {
            throw new IllegalStateException("RocketMQ resource '" + name() + "': the producer did not start: "
                    + e.getErrorMessage(), e);
        }
        state = State.STARTED;
        discoverBrokers();
        discovery = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "concord-rocketmq-discovery-" + name());
            t.setDaemon(true);
            return t;
        });
        discovery.scheduleWithFixedDelay(this::discoverBrokers, DISCOVERY_PERIOD_SECONDS, DISCOVERY_PERIOD_SECONDS,
                TimeUnit.SECONDS);
        LOG.log(Level.INFO, "CONCORD-4001 RocketMQ resource started: {0}", config);
        return this;
    }

    /**
     * Refreshes the route of every cluster (and every broker) the name server lists and sends a heartbeat to each
     * broker. A fresh producer knows no broker: without this it would receive no check-back, and a one-way END
     * would go to the name server and be lost.
     *
     * @return true when the name server answered
     */
    boolean discoverBrokers() {
        MQClientInstance client = client();
        if (client == null) {
            return false;
        }
        try {
            ClusterInfo info = client.getMQClientAPIImpl().getBrokerClusterInfo(config.sendTimeout().toMillis());
            if (info.getClusterAddrTable() != null) {
                for (String cluster : info.getClusterAddrTable().keySet()) {
                    client.updateTopicRouteInfoFromNameServer(cluster);
                }
            }
            if (info.getBrokerAddrTable() != null) {
                for (String broker : info.getBrokerAddrTable().keySet()) {
                    if (client.findBrokerAddressInPublish(broker) == null) {
                        client.updateTopicRouteInfoFromNameServer(broker);
                    }
                }
            }
            client.sendHeartbeatToAllBrokerWithLock();
            return true;
        } catch (RemotingException | MQBrokerException | RuntimeException e) {
            LOG.log(Level.WARNING, "CONCORD-4002 RocketMQ resource {0}: broker discovery through {1} failed, "
                    + "retrying in {2} s: {3}", name(), config.namesrvAddress(), DISCOVERY_PERIOD_SECONDS, e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public String name() {
        return config.name();
    }

    /** Always {@link BranchKind#MESSAGE}: phase 2 ends message branches after every database branch. */
    /** The brokers' check horizon: ENDs that may have arrived are not re-sent within it. */
    @Override
    public Duration resendHorizon() {
        return config.checkHorizon();
    }

    @Override
    public BranchKind kind() {
        return BranchKind.MESSAGE;
    }

    public RocketMqResourceConfig config() {
        return config;
    }

    /** A new XAResource for one branch at a time, started if this resource was not. */
    public RocketMqXAResource newXAResource() {
        ensureStarted();
        return new RocketMqXAResource(this);
    }

    /**
     * The XAResource of this resource's branch in {@code tx}: enlisted the first time it is asked for (so all
     * messages of one transaction to one cluster form one branch) and forgotten when the transaction completes.
     *
     * @throws RollbackException when the transaction is marked rollback-only
     * @throws SystemException   when the enlistment fails
     * @throws IllegalStateException when the transaction does not accept new branches
     */
    public RocketMqXAResource branchOf(Transaction tx) throws RollbackException, SystemException {
        Objects.requireNonNull(tx, "tx");
        synchronized (branches) {
            RocketMqXAResource existing = branches.get(tx);
            if (existing != null) {
                return existing;
            }
            RocketMqXAResource xa = newXAResource();
            tx.enlistResource(xa);
            branches.put(tx, xa);
            try {
                tx.registerSynchronization(new Synchronization() {
                    @Override
                    public void beforeCompletion() {
                    }

                    @Override
                    public void afterCompletion(int status) {
                        branches.remove(tx);
                    }
                });
            } catch (RollbackException | SystemException | IllegalStateException e) {
                branches.remove(tx);
                throw e;
            }
            return xa;
        }
    }

    /** A lease over a new {@link RocketMqXAResource}; phase 2 and recovery restore its branch from recovery data. */
    @Override
    public Lease open() throws XAException {
        if (state == State.CLOSED) {
            throw xa(XAException.XAER_RMFAIL, "RocketMQ resource '" + name() + "' is closed");
        }
        RocketMqXAResource xa;
        try {
            xa = newXAResource();
        } catch (IllegalStateException e) {
            XAException x = xa(XAException.XAER_RMFAIL, e.getMessage());
            x.initCause(e);
            throw x;
        }
        return new Lease() {
            @Override
            public RocketMqXAResource xaResource() {
                return xa;
            }

            @Override
            public void close() {
            }
        };
    }

    private void ensureStarted() {
        if (state != State.STARTED) {
            start();
        }
    }

    /** Stops the producer: this process no longer receives check-backs for the group through this resource. */
    @Override
    public synchronized void close() {
        if (state == State.CLOSED) {
            return;
        }
        if (discovery != null) {
            discovery.shutdownNow();
        }
        if (state == State.STARTED) {
            producer.shutdown();
        }
        state = State.CLOSED;
    }

    @Override
    public String toString() {
        return "RocketMqResource[" + config + ", " + state + "]";
    }

    // ------------------------------------------------------------------ operations of the XAResources

    private MQClientInstance client() {
        return producer.getDefaultMQProducerImpl().getmQClientFactory();
    }

    /** The message RocketMQ sends for the {@code index}-th message of a branch. */
    Message toHalfMessage(TransactionalMessage m, String gtridHex, String branch, int index) {
        StringBuilder keys = new StringBuilder();
        for (String k : m.keys()) {
            keys.append(k).append(MessageConst.KEY_SEPARATOR);
        }
        keys.append(gtridHex).append(MessageConst.KEY_SEPARATOR).append(gtridHex).append(':').append(branch);
        Message msg = new Message(m.topic(), m.tags(), keys.toString(), m.bodyUnsafe());
        m.properties().forEach(msg::putUserProperty);
        msg.putUserProperty(TransactionalMessage.PROPERTY_GTRID, gtridHex);
        msg.putUserProperty(TransactionalMessage.PROPERTY_BRANCH, branch);
        msg.putUserProperty(TransactionalMessage.PROPERTY_INDEX, Integer.toString(index));
        MessageAccessor.putProperty(msg, MessageConst.PROPERTY_TRANSACTION_PREPARED, "true");
        MessageAccessor.putProperty(msg, MessageConst.PROPERTY_PRODUCER_GROUP, config.producerGroup());
        return msg;
    }

    /**
     * Sends the messages of a branch as half messages. On any failure, ends what was sent with ROLLBACK (best
     * effort: a half message whose rollback fails is rolled back by the check-back, which finds no commit) and
     * throws a rollback code.
     *
     * @throws XAException XA_RBCOMMFAIL when the broker could not be reached or did not answer in time,
     *                     XA_RBROLLBACK when it refused or did not store a message durably
     */
    List<HalfMessage> sendHalves(List<TransactionalMessage> messages, String gtridHex, String branch)
            throws XAException {
        List<HalfMessage> sent = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            TransactionalMessage m = messages.get(i);
            String what = "message " + i + " of branch " + gtridHex + ":" + branch + " to topic " + m.topic();
            SendResult r;
            try {
                r = producer.send(toHalfMessage(m, gtridHex, branch, i), config.sendTimeout().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failPrepare(sent, XAException.XA_RBCOMMFAIL, what + ": interrupted while sending", e);
            } catch (MQClientException | RemotingException | MQBrokerException | RuntimeException e) {
                throw failPrepare(sent, sendFailureCode(e), what + ": " + describe(e), e);
            }
            HalfMessage h;
            try {
                h = toHalf(r, m.topic());
            } catch (RuntimeException e) {
                throw failPrepare(sent, XAException.XA_RBPROTO, what + ": unreadable send result " + r + ": " + e, e);
            }
            sent.add(h);
            if (r.getSendStatus() != SendStatus.SEND_OK) {
                throw failPrepare(sent, XAException.XA_RBROLLBACK, what + ": the broker answered " + r.getSendStatus()
                        + " (not stored durably)", null);
            }
        }
        return sent;
    }

    private HalfMessage toHalf(SendResult r, String topic) {
        String brokerName = r.getMessageQueue().getBrokerName();
        String offsetMsgId = r.getOffsetMsgId() != null ? r.getOffsetMsgId() : r.getMsgId();
        long commitLogOffset;
        String storeAddress;
        try {
            MessageId id = MessageDecoder.decodeMessageId(offsetMsgId);
            commitLogOffset = id.getOffset();
            storeAddress = id.getAddress() instanceof InetSocketAddress a
                    ? a.getAddress().getHostAddress() + ":" + a.getPort()
                    : String.valueOf(id.getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("offset message id " + offsetMsgId + " names no address", e);
        }
        String address = client().findBrokerAddressInPublish(brokerName);
        return new HalfMessage(brokerName, address != null ? address : storeAddress, commitLogOffset,
                r.getQueueOffset(), r.getMsgId(), r.getTransactionId(), topic);
    }

    private XAException failPrepare(List<HalfMessage> sent, int code, String reason, Throwable cause) {
        for (HalfMessage h : sent) {
            EndResult r = end(config.producerGroup(), h, false);
            if (r.status() != EndStatus.ACKNOWLEDGED && r.status() != EndStatus.MISSING) {
                LOG.log(Level.WARNING, "CONCORD-4003 rollback of half message {0} after a failed prepare was not "
                        + "acknowledged ({1}); the broker's check-back will roll it back", h.msgId(), r.detail());
            }
        }
        LOG.log(Level.INFO, "CONCORD-4004 RocketMQ resource {0} votes no: {1}", name(), reason);
        XAException e = xa(code, "RocketMQ resource '" + name() + "': " + reason
                + (sent.isEmpty() ? "" : "; " + sent.size() + " half message(s) sent were rolled back"));
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private static int sendFailureCode(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RemotingException) {
                return XAException.XA_RBCOMMFAIL;
            }
        }
        return XAException.XA_RBROLLBACK;
    }

    private static String describe(Throwable e) {
        if (e instanceof MQClientException c && c.getErrorMessage() != null) {
            return c.getErrorMessage() + (c.getCause() != null ? " (" + c.getCause() + ")" : "");
        }
        if (e instanceof MQBrokerException b) {
            return "broker refused (code " + b.getResponseCode() + "): " + b.getErrorMessage();
        }
        return e.toString();
    }

    /**
     * Remembers that this process answered the broker's check-back for a half message with COMMIT: the broker has
     * then committed it, and a later END COMMIT would deliver it a second time.
     */
    void committedByCheckBack(String msgId) {
        if (msgId != null) {
            committedByCheck.put(msgId, Boolean.TRUE);
        }
    }

    /** True when this process has seen the broker acknowledge an END of this half message. */
    boolean wasAcknowledged(HalfMessage h) {
        return acknowledged.containsKey(ackKey(h));
    }

    private static String ackKey(HalfMessage h) {
        return h.msgId() + "@" + h.key();
    }

    /**
     * Sends END_TRANSACTION for one half message and waits for the broker's answer. The broker's address is looked
     * up by broker name (the route is refreshed when unknown), so a broker that moved is still found; the recorded
     * address is the fallback.
     */
    EndResult end(String producerGroup, HalfMessage h, boolean commit) {
        if (commit && committedByCheck.containsKey(h.msgId())) {
            acknowledged.put(ackKey(h), Boolean.TRUE);
            return new EndResult(EndStatus.ACKNOWLEDGED, "COMMIT of half message " + h.msgId()
                    + ": already committed through the broker's check-back");
        }
        MQClientInstance client = client();
        if (client == null) {
            return new EndResult(EndStatus.TRANSIENT, "the producer of resource '" + name() + "' is not running");
        }
        String address = client.findBrokerAddressInPublish(h.brokerName());
        if (address == null) {
            client.updateTopicRouteInfoFromNameServer(h.topic());
            address = client.findBrokerAddressInPublish(h.brokerName());
        }
        if (address == null) {
            address = h.brokerAddress();
        }
        EndTransactionRequestHeader header = new EndTransactionRequestHeader();
        header.setTopic(h.topic());
        header.setProducerGroup(producerGroup);
        header.setTranStateTableOffset(h.queueOffset());
        header.setCommitLogOffset(h.commitLogOffset());
        header.setCommitOrRollback(commit ? MessageSysFlag.TRANSACTION_COMMIT_TYPE
                : MessageSysFlag.TRANSACTION_ROLLBACK_TYPE);
        header.setFromTransactionCheck(false);
        header.setMsgId(h.msgId());
        header.setTransactionId(h.transactionId().isEmpty() ? null : h.transactionId());
        header.setBrokerName(h.brokerName());
        RemotingCommand request = RemotingCommand.createRequestCommand(RequestCode.END_TRANSACTION, header);
        String what = (commit ? "COMMIT" : "ROLLBACK") + " of half message " + h.msgId() + " at " + h.brokerName()
                + "/" + address + " offset " + h.commitLogOffset();
        RemotingCommand response;
        try {
            response = client.getMQClientAPIImpl().getRemotingClient().invokeSync(address, request,
                    config.sendTimeout().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EndResult(EndStatus.TRANSIENT, what + ": interrupted");
        } catch (RemotingException | RuntimeException e) {
            return new EndResult(EndStatus.TRANSIENT, what + ": " + e);
        }
        if (response == null) {
            return new EndResult(EndStatus.TRANSIENT, what + ": no response");
        }
        int code = response.getCode();
        String remark = response.getRemark() == null ? "" : response.getRemark();
        if (code == ResponseCode.SUCCESS) {
            acknowledged.put(ackKey(h), Boolean.TRUE);
            return new EndResult(EndStatus.ACKNOWLEDGED, what + ": acknowledged");
        }
        String detail = what + ": broker answered code " + code + (remark.isEmpty() ? "" : " (" + remark + ")");
        if (code == ResponseCode.SYSTEM_ERROR) {
            if (remark.contains("Find prepared transaction message failed")) {
                return new EndResult(EndStatus.MISSING, detail);
            }
            if (remark.contains("offset wrong") || remark.contains("producer group wrong")) {
                return new EndResult(EndStatus.REFUSED, detail);
            }
        }
        if (code == ResponseCode.MESSAGE_ILLEGAL) {
            return new EndResult(EndStatus.REFUSED, detail);
        }
        return new EndResult(EndStatus.TRANSIENT, detail);
    }

    static XAException xa(int code, String message) {
        XAException e = new XAException(message);
        e.errorCode = code;
        return e;
    }
}
