package dev.concord.it.mqcrash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.CrashPoint;
import dev.concord.it.dbcrash.CrashMessaging;
import dev.concord.it.dbcrash.DbCrashChild;
import dev.concord.it.dbcrash.DbCrashFixture;
import dev.concord.it.dbcrash.DbCrashFixture.Recovery;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.xa.rocketmq.Deliveries;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import dev.concord.xa.rocketmq.TransactionalMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kills a real coordinator process ({@link DbCrashChild}) with SIGKILL while its transaction spans MariaDB,
 * PostgreSQL and a RocketMQ message — at each {@link CrashPoint}, and once right after the commit decision for longer
 * than the broker's check horizon — restarts it (a new process with a new producer instance of the same group),
 * lets it recover, and checks the databases and what a real consumer receives from the embedded broker (running in
 * this JVM, with {@link ShortChecks}) against each other: a durable commit decision means both rows and the
 * message delivered; no durable decision means no rows and the message never delivered, even after the broker's
 * check-backs (answered by the restarted coordinator) are over.
 *
 * <p>Duplicates: a message is asserted to arrive exactly once wherever README's "When a message can be delivered
 * twice" rules duplicates out — every case but a kill after the broker took the END and before the END record
 * ({@code before-end-record}, the README's case 2), where recovery sends END again after the horizon. Deliveries are
 * counted per message id across all cases and printed as one {@code MQCRASH} line at the end, with one line per case.
 */
class MessageCrashRecoveryTest {
    private static final String TOPIC = "mqcrash-orders";
    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(20);
    /** Longer than the op batch interval and a check interval: a duplicate END or check-back shows within it. */
    private static final Duration DUPLICATE_WAIT = Duration.ofSeconds(2);
    /** One line per case, printed as it ends; the summary counts them. */
    private static final List<String> CASES = Collections.synchronizedList(new ArrayList<>());

    private static EmbeddedRocketMq broker;
    private static Deliveries deliveries;

    @TempDir
    Path dir;

    private DbCrashFixture db;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = ShortChecks.broker().topic(TOPIC, 2).start();
        deliveries = new Deliveries(broker.namesrvAddress(), TOPIC);
    }

    @AfterAll
    static void summarize() throws Exception {
        try {
            if (deliveries != null) {
                printSummary(deliveries.after(Duration.ZERO));
            }
        } finally {
            if (deliveries != null) {
                deliveries.close();
            }
            if (broker != null) {
                broker.close();
            }
        }
    }

    /** A producer group per case: check-backs of one case never reach another case's coordinator. */
    @BeforeEach
    void createTables() throws Exception {
        String group = "mqcrash-" + UUID.randomUUID().toString().substring(0, 8);
        CrashMessaging messaging = new CrashMessaging(broker.namesrvAddress(), group, TOPIC, broker.checkHorizon());
        db = DbCrashFixture.create(dir, "mqcrash", messaging.properties());
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(CrashPoint.class)
    void rowsAndMessageAreDeliveredExactlyWhenTheDecisionWasDurable(CrashPoint point) throws Exception {
        String gtrid = db.runUntilKilledAt(point);
        long killedAt = System.currentTimeMillis();
        boolean decided = point != CrashPoint.AFTER_ALL_PREPARES && point != CrashPoint.BEFORE_DECISION_FORCE;
        int deliveredAtKill = deliveriesOf(gtrid).size();

        // Undecided: the restarted coordinator stays until the broker has stopped checking the half message.
        List<String> stay = decided ? List.of() : List.of(DbCrashChild.STAY_UNTIL + "=" + pastCheckHorizon(killedAt));
        Recovery recovery = db.recover(stay);
        assertEquals(decided ? List.of(gtrid) : List.of(), List.copyOf(recovery.unfinished()),
                "the log holds the decision without END exactly when it was forced before the kill: " + recovery);
        assertTrue(recovery.lines().contains("unfinished-decisions-after: 0"), "recovery finishes: " + recovery);
        List<String> checkBacks = recovery.linesStartingWith("check-back " + gtrid + " ");
        assertTrue(checkBacks.stream().noneMatch(l -> l.endsWith(decided ? " ROLLBACK" : " COMMIT")),
                "check-backs are answered as the log decided: " + checkBacks);

        Map<Integer, String> expectedRows = decided ? Map.of(1, gtrid) : Map.of();
        assertEquals(expectedRows, db.rows(db.mariaDb()), "MariaDB after recovery");
        assertEquals(expectedRows, db.rows(db.postgres()), "PostgreSQL after recovery");
        db.assertNothingOfOursPrepared();

        List<MessageExt> got;
        if (decided) {
            assertTrue(deliveries.awaitAtLeast(1, ofTransaction(gtrid), DELIVERY_WAIT).size() >= 1,
                    "the message of a committed transaction is delivered");
            got = deliveries.after(DUPLICATE_WAIT).stream().filter(ofTransaction(gtrid)).toList();
            if (point == CrashPoint.BEFORE_END_RECORD) {
                // README case 2: the broker took the END before the kill; recovery re-sends it after the horizon.
                assertTrue(got.size() <= 2, "at most one duplicate: " + describe(got));
            } else {
                assertEquals(1, got.size(), "no END reached the broker before the kill: exactly once " + describe(got));
            }
        } else {
            got = deliveries.after(Duration.ZERO).stream().filter(ofTransaction(gtrid)).toList();
            assertEquals(List.of(), describe(got), "no durable decision: never delivered, also after the check-backs");
        }
        record(point.id(), decided, got, deliveredAtKill, checkBacks.size());
    }

    @Test
    void coordinatorDownLongerThanTheCheckHorizonAfterDecidingCommitDeliversTheMessageOnceAfterItsRestart()
            throws Exception {
        String gtrid = db.runUntilKilledAt(CrashPoint.AFTER_DECISION_FORCE);
        long killedAt = System.currentTimeMillis();
        // No producer of the group is online: the broker checks unanswered until it gives the half message up.
        Thread.sleep(Math.max(0, pastCheckHorizon(killedAt) - System.currentTimeMillis()));
        assertEquals(List.of(), describe(deliveriesOf(gtrid)), "nothing delivered while the coordinator is down");

        Recovery recovery = db.recover(List.of());
        assertEquals(List.of(gtrid), List.copyOf(recovery.unfinished()), "the decision was durable: " + recovery);
        assertTrue(recovery.lines().contains("unfinished-decisions-after: 0"), "recovery finishes: " + recovery);
        List<String> checkBacks = recovery.linesStartingWith("check-back " + gtrid + " ");
        assertEquals(List.of(), checkBacks, "the broker had stopped checking: only the re-sent END can deliver");
        assertEquals(Map.of(1, gtrid), db.rows(db.mariaDb()), "MariaDB after recovery");
        assertEquals(Map.of(1, gtrid), db.rows(db.postgres()), "PostgreSQL after recovery");
        db.assertNothingOfOursPrepared();

        assertTrue(deliveries.awaitAtLeast(1, ofTransaction(gtrid), DELIVERY_WAIT).size() >= 1,
                "delivered after the restart");
        List<MessageExt> got = deliveries.after(DUPLICATE_WAIT).stream().filter(ofTransaction(gtrid)).toList();
        assertEquals(1, got.size(), "exactly once " + describe(got));
        record("down-past-check-horizon", true, got, 0, checkBacks.size());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static long pastCheckHorizon(long storedBefore) {
        return ShortChecks.pastCheckHorizon(storedBefore, broker.checkHorizon());
    }

    private static Predicate<MessageExt> ofTransaction(String gtridText) {
        String hex = Gtrid.parseText(gtridText).toHex();
        return m -> hex.equals(m.getUserProperty(TransactionalMessage.PROPERTY_GTRID));
    }

    private static List<MessageExt> deliveriesOf(String gtrid) throws InterruptedException {
        return deliveries.after(Duration.ZERO).stream().filter(ofTransaction(gtrid)).toList();
    }

    private static List<String> describe(List<MessageExt> messages) {
        return messages.stream().map(m -> m.getMsgId() + "@" + m.getQueueId() + ":" + m.getQueueOffset()).toList();
    }

    private static void record(String what, boolean committed, List<MessageExt> got, int deliveredAtKill,
                               int checkBacks) {
        long ids = got.stream().map(MessageExt::getMsgId).distinct().count();
        String line = "MQCRASH case=" + what + " outcome=" + (committed ? "committed" : "rolled_back")
                + " deliveries=" + got.size() + " duplicates=" + (got.size() - ids) + " delivered_before_recovery="
                + deliveredAtKill + " check_backs_answered_after_restart=" + checkBacks;
        CASES.add(line);
        System.out.println(line);
    }

    /** One line for the whole class: deliveries and duplicates counted per message id over every case's messages. */
    private static void printSummary(List<MessageExt> all) {
        Map<String, Long> perId = all.stream().collect(Collectors.groupingBy(MessageExt::getMsgId,
                Collectors.counting()));
        long duplicates = perId.values().stream().mapToLong(n -> n - 1).sum();
        long committed = CASES.stream().filter(l -> l.contains(" outcome=committed ")).count();
        System.out.println("MQCRASH cases=" + CASES.size() + " committed=" + committed + " rolled_back="
                + (CASES.size() - committed) + " deliveries=" + all.size() + " message_ids=" + perId.size()
                + " duplicates=" + duplicates + " topic=" + TOPIC + " check_horizon_ms="
                + broker.checkHorizon().toMillis());
    }
}
