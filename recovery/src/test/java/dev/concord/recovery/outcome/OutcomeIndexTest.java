package dev.concord.recovery.outcome;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.InMemoryTransactionLog;
import dev.concord.recovery.log.LogReader;
import dev.concord.recovery.log.MutableClock;
import dev.concord.recovery.log.file.FileLogConfig;
import dev.concord.recovery.log.file.FileTransactionLog;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.recovery.xid.XidFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every rule of the outcome query, with a clock the test moves, and the index seeded from a log at open. */
class OutcomeIndexTest {
    private static final String NODE = "node-a";
    private static final long T0 = 1_700_000_000_000L;
    private static final Duration RETENTION = Duration.ofMinutes(10);
    private static final Predicate<Gtrid> NOTHING_IN_FLIGHT = g -> false;

    private final MutableClock clock = new MutableClock(T0);
    private long sequence;

    @TempDir
    Path directory;

    /** A transaction of this node that begins now. */
    private Gtrid begin() {
        return Gtrid.of(NODE, clock.millis(), ++sequence);
    }

    private OutcomeIndex openIndex(int maxCommits, LogReader log) {
        return OutcomeIndex.open(NODE, RETENTION, maxCommits, clock, log);
    }

    /** An index opened at T0 on an empty log, then the clock moved on a little. */
    private OutcomeIndex freshIndex(int maxCommits) {
        OutcomeIndex index = openIndex(maxCommits, new InMemoryTransactionLog());
        clock.advance(Duration.ofSeconds(1));
        return index;
    }

    private static CommitDecision decisionOf(Gtrid g) {
        return new CommitDecision(g, g.beginMillis(), List.of(new BranchRecord("orders-db", 1, null),
                new BranchRecord("events-mq", 2, null)));
    }

    // ------------------------------------------------------------------------------------ rule 1: a record exists

    @Test
    void committedTransactionIsAnsweredCommit() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        index.committed(t, clock.millis());
        assertEquals(Outcome.COMMIT, index.outcomeOf(t, NOTHING_IN_FLIGHT));
    }

    @Test
    void decidedTransactionWhosePhaseTwoHasNotFinishedIsAnsweredCommit() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        index.decided(t);
        assertEquals(Outcome.COMMIT, index.outcomeOf(t, NOTHING_IN_FLIGHT));
        assertEquals(1, index.decidedCount());
        index.committed(t, clock.millis());
        assertEquals(Outcome.COMMIT, index.outcomeOf(t, NOTHING_IN_FLIGHT));
        assertEquals(0, index.decidedCount(), "committed() moves it from decided to committed");
        assertEquals(1, index.committedCount());
    }

    @Test
    void commitRecordWinsOverInFlight() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        index.decided(t);
        assertEquals(Outcome.COMMIT, index.outcomeOf(t, g -> true), "phase 2 is running; the decision stands");
    }

    @Test
    void unfinishedDecisionInTheLogAtOpenIsAnsweredCommit() throws Exception {
        Gtrid t = begin();
        InMemoryTransactionLog log = new InMemoryTransactionLog(RETENTION, 100, clock);
        log.forceCommitDecision(decisionOf(t));
        clock.advance(Duration.ofSeconds(1));
        OutcomeIndex index = openIndex(100, log);
        assertEquals(Outcome.COMMIT, index.outcomeOf(t, NOTHING_IN_FLIGHT));
    }

    @Test
    void commitRecordIsAnsweredCommitEvenForAGtridOlderThanTheRetention() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        index.decided(t); // e.g. phase 2 keeps failing for an hour
        clock.advance(Duration.ofHours(1));
        assertEquals(Outcome.COMMIT, index.outcomeOf(t, NOTHING_IN_FLIGHT));
    }

    // -------------------------------------------------------------------------------------- rule 2: in flight

    @Test
    void inFlightTransactionIsAnsweredUnknown() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(t, t::equals));
    }

    @Test
    void transactionThatCommitsAndLeavesFlightDuringTheQueryIsAnsweredCommit() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        // The engine commits t between the query's first look at the records and its look at the in-flight set.
        Predicate<Gtrid> commitsWhileAsked = g -> {
            index.committed(g, clock.millis());
            return false;
        };
        assertEquals(Outcome.COMMIT, index.outcomeOf(t, commitsWhileAsked));
    }

    // ------------------------------------------------------------------------------------ rule 3: another node

    @Test
    void anotherNodesTransactionIsAnsweredUnknown() {
        OutcomeIndex index = freshIndex(100);
        Gtrid other = Gtrid.of("node-b", clock.millis(), 1);
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(other, NOTHING_IN_FLIGHT));
    }

    @Test
    void anotherNodesTransactionWithACommitRecordIsStillAnsweredCommit() {
        OutcomeIndex index = freshIndex(100);
        Gtrid other = Gtrid.of("node-b", clock.millis(), 1);
        index.committed(other, clock.millis());
        assertEquals(Outcome.COMMIT, index.outcomeOf(other, NOTHING_IN_FLIGHT));
    }

    // ------------------------------------------------------------------------------- rule 4: retention window

    @Test
    void transactionBegunAtOrBeforeTheStartOfTheRetentionWindowIsAnsweredUnknown() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        clock.advance(RETENTION.minusMillis(1));
        assertEquals(Outcome.ROLLBACK, index.outcomeOf(t, NOTHING_IN_FLIGHT), "one millisecond inside the window");
        clock.advance(Duration.ofMillis(1));
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(t, NOTHING_IN_FLIGHT), "exactly one retention old");
    }

    @Test
    void expiredCommitsArePrunedAndThenAnsweredUnknown() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        index.committed(t, clock.millis());
        clock.advance(RETENTION);
        index.prune();
        assertEquals(0, index.committedCount());
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(t, NOTHING_IN_FLIGHT));
    }

    @Test
    void expiredCommitsArePrunedAsNewOnesArrive() {
        OutcomeIndex index = freshIndex(100);
        for (int i = 0; i < 10; i++) {
            index.committed(begin(), clock.millis());
        }
        clock.advance(RETENTION);
        Gtrid young = begin();
        index.committed(young, clock.millis());
        assertEquals(1, index.committedCount());
        assertEquals(Outcome.COMMIT, index.outcomeOf(young, NOTHING_IN_FLIGHT));
    }

    @Test
    void clockSetBackDoesNotTurnAPrunedCommitIntoARollback() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        index.committed(t, clock.millis());
        clock.advance(RETENTION);
        index.prune();
        clock.advance(RETENTION.negated());
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(t, NOTHING_IN_FLIGHT));
    }

    // ------------------------------------------------------------------------- rule 5: an earlier incarnation

    @Test
    void transactionBegunAtOrBeforeTheOpeningWithNoRecordIsAnsweredUnknownNotRollback() {
        Gtrid earlier = begin();
        clock.advance(Duration.ofMillis(5));
        Gtrid atOpening = begin();
        OutcomeIndex index = openIndex(100, new InMemoryTransactionLog());
        clock.advance(Duration.ofMillis(1));
        Gtrid after = begin();
        assertEquals(atOpening.beginMillis(), index.openedAtMillis());
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(earlier, NOTHING_IN_FLIGHT),
                "perhaps an unlogged one-phase commit of the previous process");
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(atOpening, NOTHING_IN_FLIGHT));
        assertEquals(Outcome.ROLLBACK, index.outcomeOf(after, NOTHING_IN_FLIGHT));
    }

    // ----------------------------------------------------------------------------- rule 6: forgotten horizon

    @Test
    void commitEvictedByTheCapIsAnsweredUnknownBecauseTheHorizonCoversIt() {
        OutcomeIndex index = freshIndex(3);
        List<Gtrid> committed = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clock.advance(Duration.ofMillis(10));
            Gtrid t = begin();
            clock.advance(Duration.ofMillis(10));
            index.committed(t, clock.millis());
            committed.add(t);
        }
        assertEquals(3, index.committedCount());
        assertEquals(committed.get(0).beginMillis() + 10, index.horizonMillis(), "the evicted one's commit time");
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(committed.get(0), NOTHING_IN_FLIGHT));
        for (Gtrid t : committed.subList(1, 4)) {
            assertEquals(Outcome.COMMIT, index.outcomeOf(t, NOTHING_IN_FLIGHT));
        }
    }

    @Test
    void transactionBegunAtOrBeforeTheHorizonWithNoRecordIsAnsweredUnknownAndAfterItRollback() {
        OutcomeIndex index = freshIndex(1);
        Gtrid rolledBackBefore = begin();
        clock.advance(Duration.ofMillis(10));
        Gtrid first = begin();
        index.committed(first, clock.millis());
        index.committed(begin(), clock.millis()); // evicts the first: horizon = its commit time = now
        clock.advance(Duration.ofMillis(1));
        Gtrid rolledBackAfter = begin();
        assertEquals(clock.millis() - 1, index.horizonMillis());
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(rolledBackBefore, NOTHING_IN_FLIGHT));
        assertEquals(Outcome.ROLLBACK, index.outcomeOf(rolledBackAfter, NOTHING_IN_FLIGHT));
    }

    // --------------------------------------------------------------------------------------- rule 7: rollback

    @Test
    void finishedTransactionOfThisIncarnationWithoutCommitIsAnsweredRollback() {
        OutcomeIndex index = freshIndex(100);
        Gtrid t = begin();
        clock.advance(Duration.ofSeconds(30));
        assertEquals(Outcome.ROLLBACK, index.outcomeOf(t, NOTHING_IN_FLIGHT));
    }

    // ---------------------------------------------------------------------------------------- seeding, restart

    @Test
    void survivesARestartThroughTheFileLog() throws Exception {
        FileLogConfig config = FileLogConfig.builder(directory).segmentSize(64 << 10).commitRetention(RETENTION)
                .clock(clock).build();
        Gtrid twoPhase;
        Gtrid onePhase;
        Gtrid rolledBack;
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            OutcomeIndex index = openIndex(100, log);
            clock.advance(Duration.ofSeconds(1));
            twoPhase = begin();
            log.forceCommitDecision(decisionOf(twoPhase));
            index.decided(twoPhase);
            log.writeEnd(twoPhase);
            index.committed(twoPhase, clock.millis());
            onePhase = begin();
            index.committed(onePhase, clock.millis()); // one branch: no log record at all
            rolledBack = begin();
            assertEquals(Outcome.COMMIT, index.outcomeOf(onePhase, NOTHING_IN_FLIGHT));
            assertEquals(Outcome.ROLLBACK, index.outcomeOf(rolledBack, NOTHING_IN_FLIGHT));
        }
        clock.advance(Duration.ofSeconds(30));
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            OutcomeIndex index = openIndex(100, log);
            clock.advance(Duration.ofSeconds(1));
            Gtrid afterRestart = begin();
            assertEquals(Outcome.COMMIT, index.outcomeOf(twoPhase, NOTHING_IN_FLIGHT), "its END is in the log");
            assertEquals(Outcome.UNKNOWN, index.outcomeOf(onePhase, NOTHING_IN_FLIGHT),
                    "committed without a record before the restart: unknowable, never ROLLBACK");
            assertEquals(Outcome.UNKNOWN, index.outcomeOf(rolledBack, NOTHING_IN_FLIGHT));
            assertEquals(Outcome.ROLLBACK, index.outcomeOf(afterRestart, NOTHING_IN_FLIGHT));
        }
    }

    @Test
    void decisionWithoutEndBeforeARestartIsAnsweredCommitAfterIt() throws Exception {
        FileLogConfig config = FileLogConfig.builder(directory).segmentSize(64 << 10).clock(clock).build();
        Gtrid t = begin();
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            log.forceCommitDecision(decisionOf(t));
        }
        clock.advance(Duration.ofSeconds(1));
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            OutcomeIndex index = openIndex(100, log);
            assertEquals(Outcome.COMMIT, index.outcomeOf(t, NOTHING_IN_FLIGHT));
            assertEquals(1, index.decidedCount());
        }
    }

    @Test
    void seededHorizonIsTheLogsHorizon() throws Exception {
        InMemoryTransactionLog log = new InMemoryTransactionLog(RETENTION, 2, clock);
        List<Gtrid> ended = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMillis(10));
            Gtrid t = begin();
            log.forceCommitDecision(decisionOf(t));
            log.writeEnd(t);
            ended.add(t);
        }
        clock.advance(Duration.ofSeconds(1));
        OutcomeIndex index = openIndex(100, log);
        assertEquals(log.recentCommits().horizonMillis(), index.horizonMillis());
        assertEquals(ended.get(0).beginMillis(), index.horizonMillis());
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(ended.get(0), NOTHING_IN_FLIGHT));
        assertEquals(Outcome.COMMIT, index.outcomeOf(ended.get(1), NOTHING_IN_FLIGHT));
        assertEquals(Outcome.COMMIT, index.outcomeOf(ended.get(2), NOTHING_IN_FLIGHT));
    }

    @Test
    void readerThatKeepsNoCommitsGivesAHorizonAtTheOpeningAndRollbacksStillWorkAfterIt() {
        LogReader noHistory = new LogReader() {
            @Override
            public List<CommitDecision> unfinishedDecisions() {
                return List.of();
            }

            @Override
            public List<HeuristicRecord> heuristics() {
                return List.of();
            }
        };
        OutcomeIndex index = openIndex(100, noHistory);
        assertEquals(index.openedAtMillis(), index.horizonMillis());
        clock.advance(Duration.ofMillis(1));
        assertEquals(Outcome.ROLLBACK, index.outcomeOf(begin(), NOTHING_IN_FLIGHT));
    }

    @Test
    void seedingMoreCommitsThanTheCapEvictsTheOldest() throws Exception {
        InMemoryTransactionLog log = new InMemoryTransactionLog(RETENTION, 100, clock);
        List<Gtrid> ended = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofMillis(10));
            Gtrid t = begin();
            log.forceCommitDecision(decisionOf(t));
            log.writeEnd(t);
            ended.add(t);
        }
        OutcomeIndex index = openIndex(3, log);
        assertEquals(3, index.committedCount());
        assertEquals(ended.get(1).beginMillis(), index.horizonMillis());
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(ended.get(1), NOTHING_IN_FLIGHT));
        assertEquals(Outcome.COMMIT, index.outcomeOf(ended.get(2), NOTHING_IN_FLIGHT));
    }

    // ------------------------------------------------------------------------------------------ raw gtrids

    @Test
    void rawGtridBytesAreAnsweredLikeTheGtrid() {
        OutcomeIndex index = freshIndex(100);
        Gtrid committed = begin();
        Gtrid rolledBack = begin();
        index.committed(committed, clock.millis());
        clock.advance(Duration.ofMillis(1));
        assertEquals(Outcome.COMMIT, index.outcomeOf(committed.toBytes(), NOTHING_IN_FLIGHT));
        assertEquals(Outcome.ROLLBACK, index.outcomeOf(rolledBack.toBytes(), NOTHING_IN_FLIGHT));
    }

    @Test
    void bytesThatAreNotAConcordGtridAreAnsweredUnknown() {
        OutcomeIndex index = freshIndex(100);
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(HexFormat.of().parseHex("0203aabbcc"), NOTHING_IN_FLIGHT));
        assertEquals(Outcome.UNKNOWN, index.outcomeOf(new byte[0], NOTHING_IN_FLIGHT));
        assertEquals(Outcome.UNKNOWN, index.outcomeOf((byte[]) null, NOTHING_IN_FLIGHT));
    }

    // --------------------------------------------------------------------------------------------- settings

    @Test
    void invalidSettingsAreRefused() {
        LogReader log = new InMemoryTransactionLog();
        assertThrows(IllegalArgumentException.class, () -> OutcomeIndex.open(NODE, Duration.ZERO, 10, clock, log));
        assertThrows(IllegalArgumentException.class, () -> OutcomeIndex.open(NODE, RETENTION, 0, clock, log));
        assertThrows(IllegalArgumentException.class, () -> OutcomeIndex.open("bad node", RETENTION, 10, clock, log));
        assertThrows(NullPointerException.class, () -> OutcomeIndex.open(NODE, RETENTION, 10, clock, null));
    }

    // ------------------------------------------------------------------------------------------ concurrency

    @Test
    void committedTransactionsAreNeverAnsweredRollbackWhileTheEngineRuns() throws Exception {
        OutcomeIndex index = OutcomeIndex.open(NODE, RETENTION, 500, Clock.systemUTC(),
                new InMemoryTransactionLog());
        XidFactory xids = new XidFactory(NODE);
        Set<Gtrid> inFlight = ConcurrentHashMap.newKeySet();
        // The latest 1024 transactions the engine threads began, all of which they commit.
        AtomicReferenceArray<Gtrid> recent = new AtomicReferenceArray<>(1024);
        AtomicLong begun = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Integer>> engines = new ArrayList<>();
            for (int e = 0; e < 3; e++) {
                engines.add(pool.submit(() -> {
                    int n = 0;
                    while (!stop.get()) {
                        Gtrid t = xids.newGtrid();
                        inFlight.add(t);
                        recent.set((int) (begun.getAndIncrement() % recent.length()), t);
                        index.committed(t, System.currentTimeMillis()); // before leaving flight
                        inFlight.remove(t);
                        n++;
                    }
                    return n;
                }));
            }
            List<Future<Integer>> queriers = new ArrayList<>();
            for (int q = 0; q < 3; q++) {
                queriers.add(pool.submit(() -> {
                    int asked = 0;
                    while (!stop.get()) {
                        Gtrid t = recent.get(asked % recent.length());
                        if (t == null) {
                            continue;
                        }
                        assertNotEquals(Outcome.ROLLBACK, index.outcomeOf(t, inFlight::contains), t.toString());
                        asked++;
                    }
                    return asked;
                }));
            }
            Thread.sleep(300);
            stop.set(true);
            for (Future<Integer> f : engines) {
                assertTrue(f.get() > 0);
            }
            for (Future<Integer> f : queriers) {
                assertTrue(f.get() > 0);
            }
        } finally {
            stop.set(true);
            pool.shutdown();
        }
        assertTrue(index.committedCount() <= 500, "the cap holds: " + index.committedCount());
    }
}
