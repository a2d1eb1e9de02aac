package dev.concord.it.mqcrash;

import static dev.concord.it.dbcrash.DbCrashFixture.COMMITTED;
import static dev.concord.it.dbcrash.DbCrashFixture.WAIT;
import static dev.concord.it.dbcrash.DbCrashFixture.matches;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.CrashPoint;
import dev.concord.it.crash.ChildProcess;
import dev.concord.it.dbcrash.CrashMessaging;
import dev.concord.it.dbcrash.DbCrashChild;
import dev.concord.it.dbcrash.DbCrashFixture;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.xa.rocketmq.Deliveries;
import dev.concord.xa.rocketmq.PhaseTwoRetries;
import dev.concord.xa.rocketmq.RocketMqResource;
import dev.concord.xa.rocketmq.RocketMqResourceConfig;
import dev.concord.xa.rocketmq.RocketMqXAResource;
import dev.concord.xa.rocketmq.TransactionalMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import javax.transaction.xa.XAResource;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "A committed message is never lost": the broker (SYNC_FLUSH, {@link ShortChecks}) runs in a process of its own
 * ({@link BrokerChild}) on a fixed store directory and fixed ports and is killed with SIGKILL twice, each time
 * restarted on the same store:
 * <ol>
 *   <li>right after a coordinator process ({@link DbCrashChild}: MariaDB, PostgreSQL and a message per transaction)
 *       had its third commit acknowledged;</li>
 *   <li>between prepare and commit: a second coordinator process is killed at {@code after-decision-force} (both
 *       databases and the half message prepared, the decision forced), then the broker, and after the broker's
 *       restart the coordinator restarts and recovers.</li>
 * </ol>
 * A message branch that this test rolls back itself (acknowledged) comes before each kill, once ended before it and
 * once prepared before it and rolled back after it. A consumer that reads the topic from the start afterwards must
 * receive every committed message and none of the rolled-back ones, while the restarted coordinators and a fresh
 * producer of the test's group answer the broker's check-backs until its check horizon has passed. Duplicates are
 * counted per message id and printed as one {@code MQBROKERCRASH} line.
 *
 * <p>A SIGKILL ends the broker's process, not the machine: what it had written to its memory-mapped files stays in
 * the page cache. So this checks that the broker recovers an uncleanly closed store with everything it acknowledged
 * (commit log, consume queues, half and op records), not that SYNC_FLUSH forced it to the disk, which only a power
 * cut would show.
 */
class BrokerCrashTest {
    private static final String TOPIC = "brokercrash-orders";
    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(20);
    private static final Duration END_WAIT = Duration.ofSeconds(20);
    /** Longer than the op batch interval and a check interval: a duplicate END or check-back shows within it. */
    private static final Duration DUPLICATE_WAIT = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private final List<ChildProcess> brokers = new ArrayList<>();
    /** The outcomes of the message branches this test ends itself, for check-backs on its own producer group. */
    private final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
    private DbCrashFixture db;
    private DbCrashFixture across;

    @AfterEach
    void cleanUp() throws Exception {
        for (ChildProcess b : brokers) {
            b.close();
        }
        for (DbCrashFixture f : new DbCrashFixture[] {db, across}) {
            if (f != null) {
                f.close();
            }
        }
    }

    @Test
    void everyCommittedMessageIsDeliveredAndNoRolledBackOneAfterTheBrokerIsKilledAndRestartedOnItsStore()
            throws Exception {
        Path store = dir.resolve("store");
        Broker broker = startBroker(store, null);
        CrashMessaging coordinatorSide = new CrashMessaging(broker.namesrv(), group("coordinator"), TOPIC,
                broker.checkHorizon());
        db = DbCrashFixture.create(dir, "brokercrash", coordinatorSide.properties());
        String testGroup = group("test");
        Set<String> committed = new TreeSet<>();
        Set<String> rolledBack = new TreeSet<>();

        // 1. A branch rolled back (acknowledged), then three transactions of a coordinator process committed; the
        //    broker is killed as soon as the last commit has returned.
        ConcordXid rolledBackFirst = xid(1);
        try (RocketMqResource producer = producer(broker, testGroup)) {
            RocketMqXAResource xa = prepare(producer, rolledBackFirst, "rolled-back-before-the-first-kill");
            outcomes.put(rolledBackFirst.gtrid().toHex(), Outcome.ROLLBACK);
            xa.rollback(rolledBackFirst);
        }
        rolledBack.add(rolledBackFirst.gtrid().toHex());
        ChildProcess coordinator = db.start(List.of(), "run", "3");
        coordinator.awaitStdout(l -> l.startsWith("committed tx3 "), WAIT, "the third commit");
        broker.process().killMidRun();
        assertEquals(0, coordinator.awaitExit(WAIT), "the coordinator finished its run" + coordinator.describe());
        Map<Integer, String> coordinatorCommits = matches(coordinator.stdout(), COMMITTED);
        assertEquals(Set.of(1, 2, 3), coordinatorCommits.keySet(), coordinator.describe());
        coordinatorCommits.values().forEach(g -> committed.add(Gtrid.parseText(g).toHex()));
        Map<Integer, String> rows = new TreeMap<>(coordinatorCommits);
        assertEquals(rows, db.rows(db.mariaDb()), "MariaDB");
        assertEquals(rows, db.rows(db.postgres()), "PostgreSQL");

        long restarted = System.nanoTime();
        broker = startBroker(store, broker);
        long firstRestartMillis = (System.nanoTime() - restarted) / 1_000_000;

        // 2. Between prepare and commit: a second coordinator process is killed right after forcing its commit
        //    decision (its databases and the half message prepared), the broker is killed too, and the broker and
        //    then the coordinator restart; and a message branch of this test is prepared before the kill and rolled
        //    back after it.
        CrashMessaging acrossSide = new CrashMessaging(broker.namesrv(), group("across"), TOPIC,
                broker.checkHorizon());
        across = DbCrashFixture.create(dir.resolve("across"), "brokercrash", acrossSide.properties());
        ConcordXid rolledBackAcross = xid(2);
        byte[] rollbackData;
        try (RocketMqResource producer = producer(broker, testGroup)) {
            rollbackData = prepare(producer, rolledBackAcross, "rolled-back-across-a-kill")
                    .recoveryData(rolledBackAcross);
        }
        outcomes.put(rolledBackAcross.gtrid().toHex(), Outcome.ROLLBACK);
        rolledBack.add(rolledBackAcross.gtrid().toHex());
        String decided = across.runUntilKilledAt(CrashPoint.AFTER_DECISION_FORCE);
        committed.add(Gtrid.parseText(decided).toHex());
        broker.process().killMidRun();
        broker = startBroker(store, broker);

        try (RocketMqResource producer = producer(broker, testGroup)) {
            RocketMqXAResource rollback = producer.newXAResource();
            rollback.restoreRecoveryData(rolledBackAcross, rollbackData);
            PhaseTwoRetries.rollback(rollback, rolledBackAcross, END_WAIT);

            // Both coordinators' groups get a producer again: the first coordinator restarted answers check-backs
            // from its log until the broker has stopped checking whatever the kills left pending; the second
            // recovers its decision.
            long stayUntil = ShortChecks.pastCheckHorizon(System.currentTimeMillis(), broker.checkHorizon());
            ChildProcess firstRestarted = db.start(List.of(DbCrashChild.STAY_UNTIL + "=" + stayUntil), "recover");
            DbCrashFixture.Recovery secondRecovered = across.recover(List.of());
            assertEquals(Set.of(decided), secondRecovered.unfinished(), "the decision was durable");
            assertTrue(secondRecovered.lines().contains("unfinished-decisions-after: 0"), "recovered");
            assertEquals(Map.of(1, decided), across.rows(across.mariaDb()), "MariaDB of the second coordinator");
            assertEquals(Map.of(1, decided), across.rows(across.postgres()), "PostgreSQL of the second coordinator");
            try (Deliveries deliveries = new Deliveries(broker.namesrv(), TOPIC)) {
                // Until every committed message has arrived once: a duplicate (README case 4) must not end the wait
                // early, so count distinct transactions, not deliveries.
                long deadline = System.nanoTime() + DELIVERY_WAIT.toNanos();
                Set<String> delivered;
                while (true) {
                    delivered = deliveries.awaitAtLeast(committed.size(), m -> committed.contains(gtridOf(m)),
                            Duration.ofMillis(200)).stream().map(BrokerCrashTest::gtridOf)
                            .collect(Collectors.toCollection(TreeSet::new));
                    if (delivered.equals(committed) || System.nanoTime() > deadline) {
                        break;
                    }
                    Thread.sleep(100);
                }
                assertEquals(committed, delivered, "every committed message");
                assertEquals(0, firstRestarted.awaitExit(WAIT), "recovery" + firstRestarted.describe());
                List<String> checkBacks = new ArrayList<>(secondRecovered.linesStartingWith("check-back "));
                checkBacks.addAll(firstRestarted.stdout().stream().filter(l -> l.startsWith("check-back ")).toList());
                // UNKNOWN is a fair answer too (the producer is online before the engine); ROLLBACK never is.
                assertTrue(checkBacks.stream().noneMatch(l -> l.endsWith(" ROLLBACK")),
                        "the coordinators' transactions all committed: " + checkBacks);
                List<MessageExt> all = deliveries.after(DUPLICATE_WAIT);
                assertEquals(List.of(), all.stream().filter(m -> rolledBack.contains(gtridOf(m))).toList(),
                        "no rolled-back message is delivered");
                report(all, committed, checkBacks, firstRestartMillis);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** A broker process and what it printed when ready. */
    private record Broker(ChildProcess process, int namesrvPort, int brokerPort, Duration checkHorizon) {
        String namesrv() {
            return "127.0.0.1:" + namesrvPort;
        }
    }

    /** Starts the broker process on the store: on free ports, or on those of the previous one. */
    private Broker startBroker(Path store, Broker previous) throws Exception {
        String[] args = previous == null ? new String[] {TOPIC}
                : new String[] {TOPIC, Integer.toString(previous.namesrvPort()), Integer.toString(previous.brokerPort())};
        ChildProcess p = ChildProcess.start(BrokerChild.class, List.of(), store, args);
        brokers.add(p);
        String[] ready = p.awaitStdout(l -> l.startsWith(BrokerChild.READY), WAIT, "the broker's ready line")
                .substring(BrokerChild.READY.length()).split(" ");
        Broker b = new Broker(p, Integer.parseInt(ready[0]), Integer.parseInt(ready[1]),
                Duration.ofMillis(Long.parseLong(ready[2])));
        if (previous != null) {
            assertEquals(previous.namesrvPort(), b.namesrvPort(), "same name-server port");
            assertEquals(previous.brokerPort(), b.brokerPort(), "same broker port");
        }
        return b;
    }

    /** A new producer instance of the group, answering check-backs from the outcomes this test decided. */
    private RocketMqResource producer(Broker broker, String group) {
        return new RocketMqResource(RocketMqResourceConfig.builder().name("mq-test").namesrvAddress(broker.namesrv())
                .producerGroup(group).sendTimeout(Duration.ofSeconds(5)).checkHorizon(broker.checkHorizon()).build(),
                g -> outcomes.getOrDefault(HexFormat.of().formatHex(g), Outcome.UNKNOWN)).start();
    }

    private static RocketMqXAResource prepare(RocketMqResource producer, ConcordXid xid, String body)
            throws Exception {
        RocketMqXAResource xa = producer.newXAResource();
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(TransactionalMessage.of(TOPIC, body.getBytes(UTF_8)));
        xa.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, xa.prepare(xid));
        return xa;
    }

    private static ConcordXid xid(long sequence) {
        return new ConcordXid(Gtrid.of("brokercrash-test", System.currentTimeMillis(), sequence), 1);
    }

    private static String group(String what) {
        return "brokercrash-" + what + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A delivery: message id, body, queue and offset, commit-log offset, store time. */
    private static String describe(MessageExt m) {
        return m.getMsgId() + " '" + new String(m.getBody(), UTF_8) + "' queue " + m.getQueueId() + "@"
                + m.getQueueOffset() + " commit-log " + m.getCommitLogOffset() + " stored " + m.getStoreTimestamp();
    }

    private static String gtridOf(MessageExt m) {
        return m.getUserProperty(TransactionalMessage.PROPERTY_GTRID);
    }

    private static void report(List<MessageExt> all, Set<String> committed, List<String> checkBacks,
                               long restartMillis) {
        Map<String, Long> perId = all.stream().collect(Collectors.groupingBy(MessageExt::getMsgId,
                Collectors.counting()));
        long duplicates = perId.values().stream().mapToLong(n -> n - 1).sum();
        Map<String, Long> perGtrid = all.stream().collect(Collectors.groupingBy(BrokerCrashTest::gtridOf,
                TreeMap::new, Collectors.counting()));
        System.out.println("MQBROKERCRASH broker_kills=2 committed=" + committed.size() + " rolled_back=2 deliveries="
                + all.size() + " message_ids=" + perId.size() + " duplicates=" + duplicates
                + " check_backs_answered_by_restarted_coordinator=" + checkBacks.size() + " restart_after_sigkill_ms="
                + restartMillis + " per_transaction=" + perGtrid.values() + " duplicated=" + all.stream()
                .filter(m -> perId.get(m.getMsgId()) > 1).map(BrokerCrashTest::describe).toList()
                + " check_backs=" + checkBacks);
    }
}
