package dev.concord.xa.rocketmq;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.RecoveryManager;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.RetryPolicy;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.coordinator.testing.EventRecorder;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.InMemoryTransactionLog;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import jakarta.transaction.RollbackException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The RocketMQ adapter against a real embedded name server and broker (one per class), with short check-back
 * settings: half messages are checked 2 s after they were sent, then every second. The database side of a global
 * transaction is the engine's scriptable mock resource manager; the broker, the producer and the consumers are
 * real.
 */
class RocketMqResourceTest {
    private static final String NODE = "rmq-test";
    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(15);
    private static final Duration DUPLICATE_WAIT = Duration.ofMillis(1500);
    /** Long enough for the first check-back (2 s after the send) and two more. */
    private static final Duration CHECKS_WAIT = Duration.ofMillis(4500);
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private static EmbeddedRocketMq broker;
    private static TestOutcomes outcomes;
    private static RocketMqResource mq;

    private final EventRecorder events = new EventRecorder();
    private InMemoryTransactionLog log;
    private ResourceRegistry registry;
    private Coordinator coordinator;
    private ConcordTransactionManager tm;
    private MockResourceManager db;
    private String topic;
    private Deliveries deliveries;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedRocketMq.builder()
                .transactionTimeout(Duration.ofSeconds(2))
                .transactionCheckInterval(Duration.ofSeconds(1))
                .transactionOpBatchInterval(Duration.ofMillis(200))
                .transactionCheckMax(30)
                .start();
        outcomes = new TestOutcomes();
        mq = new RocketMqResource(config("mq", "concord-test-group"), outcomes).start();
    }

    @AfterAll
    static void stopBroker() {
        if (mq != null) {
            mq.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static RocketMqResourceConfig config(String name, String group) {
        return RocketMqResourceConfig.builder().name(name).namesrvAddress(broker.namesrvAddress())
                .producerGroup(group).sendTimeout(Duration.ofSeconds(5)).checkHorizon(broker.checkHorizon()).build();
    }

    @BeforeEach
    void engine(TestInfo info) throws Exception {
        log = new InMemoryTransactionLog();
        registry = new ResourceRegistry();
        db = new MockResourceManager("db", BranchKind.DATABASE, events);
        registry.register(db);
        registry.register(mq);
        coordinator = new Coordinator(fastEngine(), log, registry);
        tm = new ConcordTransactionManager(coordinator);
        topic = "t-" + info.getTestMethod().orElseThrow().getName() + "-" + SEQUENCE.incrementAndGet();
        broker.createTopic(topic, 2);
        deliveries = new Deliveries(broker.namesrvAddress(), topic);
    }

    @AfterEach
    void closeEngine() throws Exception {
        deliveries.close();
        coordinator.close();
    }

    private static CoordinatorConfig fastEngine() {
        return CoordinatorConfig.builder().nodeId(NODE)
                .retryPolicy(new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(200), 0.2)).build();
    }

    private TransactionalMessage message(String text) {
        return TransactionalMessage.builder(topic).tags("order").key("order-" + text).body(text.getBytes(UTF_8))
                .property("kind", "test").build();
    }

    private static List<MessageExt> of(List<MessageExt> all, String gtridHex) {
        return all.stream().filter(m -> gtridHex.equals(m.getUserProperty(TransactionalMessage.PROPERTY_GTRID))).toList();
    }

    @Test
    void committedTransactionDeliversEachMessageOnceAfterTheDatabase() throws Exception {
        tm.begin();
        GlobalTransaction tx = (GlobalTransaction) tm.getTransaction();
        tx.enlistResource(db.connect());
        RocketMqXAResource branch = mq.branchOf(tx);
        branch.addMessage(message("one"));
        branch.addMessage(message("two"));
        String gtrid = tx.gtrid().toHex();
        tm.commit();

        List<MessageExt> got = of(deliveries.awaitAtLeast(2, DELIVERY_WAIT), gtrid);
        assertEquals(2, got.size(), "both messages delivered: " + got);
        got = of(deliveries.after(DUPLICATE_WAIT), gtrid);
        assertEquals(2, got.size(), "each exactly once: " + got);
        for (MessageExt m : got) {
            assertEquals("2", m.getUserProperty(TransactionalMessage.PROPERTY_BRANCH));
            assertEquals("test", m.getUserProperty("kind"));
            assertEquals("order", m.getTags());
            assertTrue(m.getKeys().contains(gtrid + ":2"), m.getKeys());
            assertTrue(m.getKeys().contains(gtrid + " "), m.getKeys());
        }
        assertEquals(List.of("0", "1"), got.stream().map(m -> m.getUserProperty(TransactionalMessage.PROPERTY_INDEX))
                .sorted().toList());
        assertEquals(MockResourceManager.BranchState.COMMITTED, db.state(1, tx.gtrid()));
        events.assertSequence("db.start#1", "db.end#1:TMSUCCESS", "db.prepare#1", "db.commit#1");
        assertTrue(log.unfinishedDecisions().isEmpty(), "END written: " + log.unfinishedDecisions());
        assertEquals(0, outcomes.asked(gtrid), "acknowledged END: no check-back");
    }

    @Test
    void messageAloneIsSentAndCommittedInOnePhase() throws Exception {
        tm.begin();
        GlobalTransaction tx = (GlobalTransaction) tm.getTransaction();
        mq.branchOf(tx).addMessage(message("alone"));
        String gtrid = tx.gtrid().toHex();
        tm.commit();

        assertEquals(1, of(deliveries.awaitAtLeast(1, DELIVERY_WAIT), gtrid).size());
        assertEquals(1, of(deliveries.after(DUPLICATE_WAIT), gtrid).size());
    }

    @Test
    void rolledBackTransactionSendsNothing() throws Exception {
        tm.begin();
        GlobalTransaction tx = (GlobalTransaction) tm.getTransaction();
        tx.enlistResource(db.connect());
        mq.branchOf(tx).addMessage(message("never"));
        String gtrid = tx.gtrid().toHex();
        outcomes.set(gtrid, Outcome.COMMIT);
        tm.rollback();

        assertEquals(List.of(), deliveries.after(DUPLICATE_WAIT));
        assertEquals(0, outcomes.asked(gtrid), "nothing was sent, so nothing is checked");
    }

    @Test
    void rollbackAfterPrepareEndsTheHalfMessage() throws Exception {
        ConcordXid xid = newXid(1);
        RocketMqXAResource xa = mq.newXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(message("prepared-then-rolled-back"));
        xa.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, xa.prepare(xid));
        // Were the half message left pending, the check-back would now commit it: the test would see it.
        outcomes.set(xid.gtrid().toHex(), Outcome.COMMIT);
        xa.rollback(xid);

        assertEquals(List.of(), deliveries.after(CHECKS_WAIT));
        assertEquals(0, outcomes.asked(xid.gtrid().toHex()), "an acknowledged ROLLBACK leaves nothing to check");
    }

    @Test
    void noVoteOfTheDatabaseRollsTheHalfMessageBack() throws Exception {
        db.next(MockResourceManager.Op.PREPARE, XAException.XA_RBINTEGRITY);
        tm.begin();
        GlobalTransaction tx = (GlobalTransaction) tm.getTransaction();
        tx.enlistResource(db.connect());
        mq.branchOf(tx).addMessage(message("vetoed"));
        String gtrid = tx.gtrid().toHex();
        outcomes.set(gtrid, Outcome.COMMIT);
        assertThrows(RollbackException.class, tm::commit);

        assertEquals(List.of(), deliveries.after(CHECKS_WAIT));
        assertEquals(0, outcomes.asked(gtrid), "the half message was ended, not left to the check-back");
    }

    /**
     * The first coordinator process: the database branch (branch 1) and a message branch (branch 2, resource "mq-r"
     * of the group) prepared, then the process dies. Returns the message branch's recovery data.
     */
    private byte[] prepareInAFirstProcess(Gtrid gtrid, String group) throws Exception {
        ConcordXid dbXid = new ConcordXid(gtrid, 1);
        ConcordXid mqXid = new ConcordXid(gtrid, 2);
        MockResourceManager.Connection dbConnection = db.connect();
        dbConnection.start(dbXid, XAResource.TMNOFLAGS);
        dbConnection.end(dbXid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, dbConnection.prepare(dbXid));
        byte[] recoveryData;
        try (RocketMqResource first = new RocketMqResource(config("mq-r", group), outcomes).start()) {
            RocketMqXAResource xa = first.newXAResource();
            xa.start(mqXid, XAResource.TMNOFLAGS);
            xa.addMessage(message("recovered"));
            xa.end(mqXid, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, xa.prepare(mqXid));
            recoveryData = xa.recoveryData(mqXid);
        }
        assertTrue(recoveryData.length > 0 && recoveryData.length < 512, "compact: " + recoveryData.length + " bytes");
        return recoveryData;
    }

    /** What a restarted coordinator does with its recovery manager. */
    private interface RecoveryStep {
        void run(RecoveryManager recovery) throws Exception;
    }

    /**
     * A restarted coordinator: a new producer instance of the same group as resource "mq-r", the database, and only
     * the surviving log to go by.
     */
    private void withRestartedCoordinator(String group, InMemoryTransactionLog survivingLog, RecoveryStep step)
            throws Exception {
        try (RocketMqResource second = new RocketMqResource(config("mq-r", group), outcomes).start()) {
            ResourceRegistry reg = new ResourceRegistry();
            reg.register(db);
            reg.register(second);
            try (Coordinator restarted = new Coordinator(fastEngine(), survivingLog, reg);
                 RecoveryManager recovery = new RecoveryManager(restarted, survivingLog)) {
                step.run(recovery);
            }
        }
    }

    @Test
    void freshResourceInstanceCommitsFromTheRecoveryDataAloneOnceTheCheckHorizonHasPassed() throws Exception {
        String group = "concord-recovery-group";
        Gtrid gtrid = Gtrid.of(NODE, System.currentTimeMillis(), 1_000_000 + SEQUENCE.incrementAndGet());
        byte[] recoveryData = prepareInAFirstProcess(gtrid, group);
        InMemoryTransactionLog survivingLog = new InMemoryTransactionLog();
        // Decided longer ago than the broker's check horizon: the broker has stopped checking, only END delivers.
        long decidedAt = System.currentTimeMillis() - broker.checkHorizon().toMillis() - 1_000;
        survivingLog.forceCommitDecision(new CommitDecision(gtrid, decidedAt, List.of(
                new BranchRecord("db", 1, new byte[0]), new BranchRecord("mq-r", 2, recoveryData))));

        // The restarted coordinator: new producer instance, same group, only the log to go by.
        withRestartedCoordinator(group, survivingLog, recovery -> {
            RecoveryManager.Report report = recovery.recover();
            assertEquals(1, report.decisionsRedone(), report.toString());
            assertEquals(1, report.decisionsFinished(), report.toString());
        });
        assertEquals(MockResourceManager.BranchState.COMMITTED, db.state(1, gtrid));
        assertTrue(survivingLog.unfinishedDecisions().isEmpty());
        List<MessageExt> got = of(deliveries.awaitAtLeast(1, DELIVERY_WAIT), gtrid.toHex());
        assertEquals(1, got.size());
        assertArrayEquals("recovered".getBytes(UTF_8), got.get(0).getBody());
        assertEquals(1, of(deliveries.after(DUPLICATE_WAIT), gtrid.toHex()).size(), "exactly once");
    }

    @Test
    void recoveryWithinTheCheckHorizonLeavesTheMessageToTheCheckBackWhichDeliversItOnce() throws Exception {
        String group = "concord-recovery-within-group";
        Gtrid gtrid = Gtrid.of(NODE, System.currentTimeMillis(), 2_000_000 + SEQUENCE.incrementAndGet());
        byte[] recoveryData = prepareInAFirstProcess(gtrid, group);
        InMemoryTransactionLog survivingLog = new InMemoryTransactionLog();
        survivingLog.forceCommitDecision(new CommitDecision(gtrid, System.currentTimeMillis(), List.of(
                new BranchRecord("db", 1, new byte[0]), new BranchRecord("mq-r", 2, recoveryData))));

        // The restarted coordinator: new producer instance, same group, only the log to go by.
        withRestartedCoordinator(group, survivingLog, recovery -> {
            outcomes.set(gtrid.toHex(), Outcome.COMMIT); // what the restarted engine's outcome index answers
            RecoveryManager.Report report = recovery.recover();
            assertEquals(1, report.decisionsRedone(), report.toString());
            assertEquals(0, report.decisionsFinished(), "the message waits for the check-back: " + report);
            assertEquals(MockResourceManager.BranchState.COMMITTED, db.state(1, gtrid), "the database at once");
            List<MessageExt> got = of(deliveries.awaitAtLeast(1, DELIVERY_WAIT), gtrid.toHex());
            assertEquals(1, got.size(), "delivered by the check-back");
            assertEquals(1, survivingLog.unfinishedDecisions().size(), "END waits for the horizon");
        });
        assertEquals(1, of(deliveries.after(DUPLICATE_WAIT), gtrid.toHex()).size(), "exactly once");
    }

    @Test
    void checkBackAnsweredCommitDeliversAHalfMessageWhoseEndWasNeverSent() throws Exception {
        ConcordXid xid = newXid(1);
        RocketMqXAResource xa = mq.newXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(message("end-lost"));
        xa.end(xid, XAResource.TMSUCCESS);
        outcomes.set(xid.gtrid().toHex(), Outcome.COMMIT);
        long prepared = System.nanoTime();
        assertEquals(XAResource.XA_OK, xa.prepare(xid));
        // No commit: as if the END were lost. The broker checks back and the outcome source says COMMIT.

        List<MessageExt> got = of(deliveries.awaitAtLeast(1, DELIVERY_WAIT), xid.gtrid().toHex());
        assertEquals(1, got.size(), "delivered by the check-back");
        System.out.printf("check-back COMMIT delivered %d ms after prepare (transactionTimeout 2 s, interval 1 s)%n",
                (System.nanoTime() - prepared) / 1_000_000);
        assertTrue(outcomes.asked(xid.gtrid().toHex()) >= 1);
        assertEquals(1, of(deliveries.after(DUPLICATE_WAIT.multipliedBy(2)), xid.gtrid().toHex()).size(),
                "exactly once");
    }

    @Test
    void checkBackReachesARestartedProcessThatHasSentNothingYet() throws Exception {
        String group = "concord-restarted-group";
        ConcordXid xid = newXid(1);
        try (RocketMqResource first = new RocketMqResource(config("mq-c", group), outcomes).start()) {
            RocketMqXAResource xa = first.newXAResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            xa.addMessage(message("answered-by-the-next-process"));
            xa.end(xid, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, xa.prepare(xid));
        }
        // The first process is gone before the broker's first check; its successor never sends anything itself.
        outcomes.set(xid.gtrid().toHex(), Outcome.COMMIT);
        try (RocketMqResource second = new RocketMqResource(config("mq-c", group), outcomes).start()) {
            List<MessageExt> got = of(deliveries.awaitAtLeast(1, DELIVERY_WAIT), xid.gtrid().toHex());
            assertEquals(1, got.size(), "the check-back reached the new producer of the group");
            assertEquals(1, of(deliveries.after(DUPLICATE_WAIT), xid.gtrid().toHex()).size(), "exactly once");
        }
    }

    @Test
    void checkBackAnsweredUnknownKeepsTheHalfMessagePending() throws Exception {
        ConcordXid xid = newXid(1);
        RocketMqXAResource xa = mq.newXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(message("in-doubt"));
        xa.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, xa.prepare(xid));

        assertEquals(List.of(), deliveries.after(CHECKS_WAIT));
        assertTrue(outcomes.asked(xid.gtrid().toHex()) >= 2, "checked back repeatedly, answered UNKNOWN: "
                + outcomes.asked(xid.gtrid().toHex()));
        // Still pending, not dropped: a late commit delivers it, once.
        xa.commit(xid, false);
        assertEquals(1, of(deliveries.awaitAtLeast(1, DELIVERY_WAIT), xid.gtrid().toHex()).size());
        assertEquals(1, of(deliveries.after(DUPLICATE_WAIT), xid.gtrid().toHex()).size(), "exactly once");
    }

    @Test
    void emptyBranchVotesReadOnly() throws Exception {
        ConcordXid xid = newXid(1);
        RocketMqXAResource xa = mq.newXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_RDONLY, xa.prepare(xid));
        assertEquals(0, xa.recoveryData(xid).length);
        assertEquals(0, xa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN).length);
    }

    @Test
    void unknownTopicIsANoVoteWithTheReason() throws Exception {
        ConcordXid xid = newXid(1);
        RocketMqXAResource xa = mq.newXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(message("first"));
        xa.addMessage(TransactionalMessage.of("no-such-topic", "x".getBytes(UTF_8)));
        xa.end(xid, XAResource.TMSUCCESS);
        outcomes.set(xid.gtrid().toHex(), Outcome.COMMIT);
        XAException e = assertThrows(XAException.class, () -> xa.prepare(xid));
        assertTrue(e.errorCode >= XAException.XA_RBBASE && e.errorCode <= XAException.XA_RBEND, "rollback code: "
                + e.errorCode);
        assertTrue(e.getMessage().contains("no-such-topic"), e.getMessage());
        assertTrue(e.getMessage().contains("1 half message(s) sent were rolled back"), e.getMessage());
        // The first message had been sent as a half message; it was rolled back, so nothing is delivered.
        assertEquals(List.of(), deliveries.after(CHECKS_WAIT));
    }

    @Test
    void oversizedBodyIsANoVote() throws Exception {
        ConcordXid xid = newXid(1);
        RocketMqXAResource xa = mq.newXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(TransactionalMessage.of(topic, new byte[5 * 1024 * 1024]));
        xa.end(xid, XAResource.TMSUCCESS);
        XAException e = assertThrows(XAException.class, () -> xa.prepare(xid));
        assertEquals(XAException.XA_RBROLLBACK, e.errorCode, e.getMessage());
        assertTrue(e.getMessage().contains("body"), e.getMessage());
    }

    @Test
    void unreachableNameServerIsANoVote() throws Exception {
        RocketMqResourceConfig nowhere = RocketMqResourceConfig.builder().name("mq-down").namesrvAddress("127.0.0.1:1")
                .producerGroup("concord-down-group").sendTimeout(Duration.ofSeconds(1)).build();
        try (RocketMqResource down = new RocketMqResource(nowhere, outcomes).start()) {
            ConcordXid xid = newXid(1);
            RocketMqXAResource xa = down.newXAResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            xa.addMessage(message("nowhere"));
            xa.end(xid, XAResource.TMSUCCESS);
            XAException e = assertThrows(XAException.class, () -> xa.prepare(xid));
            assertTrue(e.errorCode >= XAException.XA_RBBASE && e.errorCode <= XAException.XA_RBEND, "rollback code: "
                    + e.errorCode + " " + e.getMessage());
        }
    }

    private static ConcordXid newXid(int branch) {
        return new ConcordXid(Gtrid.of(NODE, System.currentTimeMillis(), 2_000_000 + SEQUENCE.incrementAndGet()), branch);
    }
}
