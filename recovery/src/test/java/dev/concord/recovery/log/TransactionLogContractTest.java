package dev.concord.recovery.log;

import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static dev.concord.recovery.log.LogTestData.heuristic;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.xid.Gtrid;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link TransactionLog} must do, written once and run against each implementation by a subclass.
 *
 * <p>{@link #reopen(TransactionLog)} stands for a restart: what a new process would read. A durable log closes and
 * opens again; the in-memory log, which keeps nothing across processes, returns itself, so for it these tests check
 * read-after-write. Durability proper is tested per implementation.
 */
public abstract class TransactionLogContractTest {
    /** The log under test; subclasses never need to close it. */
    protected TransactionLog log;

    /** A new, empty log. */
    protected abstract TransactionLog newLog() throws Exception;

    /** A new, empty log with the given commit retention, cap on remembered commits and clock. */
    protected abstract TransactionLog newLog(Duration commitRetention, int maxRecentCommits, Clock clock)
            throws Exception;

    /** What a restarted process would read from the same log. */
    protected abstract TransactionLog reopen(TransactionLog log) throws Exception;

    @BeforeEach
    void openLog() throws Exception {
        log = newLog();
    }

    @AfterEach
    void closeLog() {
        if (log != null) {
            log.close();
        }
    }

    private void restart() throws Exception {
        log = reopen(log);
    }

    private static final long T0 = 1_700_000_000_000L;
    private static final Duration RETENTION = Duration.ofMinutes(1);

    /** Replaces the log under test by an empty one with these settings; returns its clock. */
    private MutableClock useLog(Duration retention, int maxRecentCommits) throws Exception {
        MutableClock clock = new MutableClock(T0);
        log.close();
        log = newLog(retention, maxRecentCommits, clock);
        return clock;
    }

    private static Map<Gtrid, Long> commits(Object... gtridsAndTimes) {
        Map<Gtrid, Long> map = new LinkedHashMap<>();
        for (int i = 0; i < gtridsAndTimes.length; i += 2) {
            map.put((Gtrid) gtridsAndTimes[i], (Long) gtridsAndTimes[i + 1]);
        }
        return map;
    }

    @Test
    void newLogReportsNoDecisionsAndNoHeuristics() {
        assertEquals(List.of(), log.unfinishedDecisions());
        assertEquals(List.of(), log.heuristics());
    }

    @Test
    void forcedDecisionIsUnfinishedUntilItsEndIsWritten() throws Exception {
        log.forceCommitDecision(decision(1));
        assertEquals(List.of(decision(1)), log.unfinishedDecisions());
        restart();
        assertEquals(List.of(decision(1)), log.unfinishedDecisions());
        log.writeEnd(gtrid(1));
        assertEquals(List.of(), log.unfinishedDecisions());
        restart();
        assertEquals(List.of(), log.unfinishedDecisions());
    }

    @Test
    void endRemovesOnlyItsOwnDecision() throws Exception {
        log.forceCommitDecision(decision(1));
        log.forceCommitDecision(decision(2));
        log.forceCommitDecision(decision(3));
        log.writeEnd(gtrid(2));
        restart();
        assertEquals(List.of(decision(1), decision(3)), log.unfinishedDecisions());
    }

    @Test
    void unfinishedDecisionsAreReportedOldestFirst() throws Exception {
        for (long n : new long[] {5, 3, 9, 1}) {
            log.forceCommitDecision(decision(n));
        }
        restart();
        assertEquals(List.of(decision(5), decision(3), decision(9), decision(1)), log.unfinishedDecisions());
    }

    @Test
    void endOfAnUnknownTransactionIsIgnored() throws Exception {
        log.forceCommitDecision(decision(1));
        log.writeEnd(gtrid(42));
        restart();
        assertEquals(List.of(decision(1)), log.unfinishedDecisions());
    }

    @Test
    void decidingATransactionAgainReplacesItsDecisionInPlace() throws Exception {
        log.forceCommitDecision(decision(1));
        log.forceCommitDecision(decision(2));
        CommitDecision redecided = new CommitDecision(gtrid(1), 99, List.of(new BranchRecord("other-db", 7, null)));
        log.forceCommitDecision(redecided);
        restart();
        assertEquals(List.of(redecided, decision(2)), log.unfinishedDecisions());
    }

    @Test
    void transactionDecidedAgainAfterItsEndIsUnfinishedAgain() throws Exception {
        log.forceCommitDecision(decision(1));
        log.forceCommitDecision(decision(2));
        log.writeEnd(gtrid(1));
        log.forceCommitDecision(decision(1));
        restart();
        assertEquals(List.of(decision(2), decision(1)), log.unfinishedDecisions());
    }

    @Test
    void heuristicIsReportedUntilForgotten() throws Exception {
        HeuristicRecord h = heuristic(1, HeuristicOutcome.MIXED);
        log.forceHeuristic(h);
        restart();
        assertEquals(List.of(h), log.heuristics());
        log.writeForget(gtrid(1), "orders-db", 1);
        restart();
        assertEquals(List.of(), log.heuristics());
    }

    @Test
    void forgetRemovesOnlyTheNamedBranchOfTheNamedTransaction() throws Exception {
        HeuristicRecord target = heuristic(1, HeuristicOutcome.HAZARD);
        HeuristicRecord otherBranch = new HeuristicRecord(gtrid(1), new BranchRecord("orders-db", 2, null),
                HeuristicOutcome.COMMITTED, "", 5);
        HeuristicRecord otherResource = new HeuristicRecord(gtrid(1), new BranchRecord("events-mq", 1, null),
                HeuristicOutcome.ROLLED_BACK, "", 6);
        HeuristicRecord otherTransaction = heuristic(2, HeuristicOutcome.HAZARD);
        for (HeuristicRecord h : List.of(target, otherBranch, otherResource, otherTransaction)) {
            log.forceHeuristic(h);
        }
        log.writeForget(gtrid(1), "orders-db", 1);
        restart();
        assertEquals(List.of(otherBranch, otherResource, otherTransaction), log.heuristics());
    }

    @Test
    void forgetRemovesEveryRecordOfThatBranch() throws Exception {
        log.forceHeuristic(heuristic(1, HeuristicOutcome.HAZARD));
        log.forceHeuristic(heuristic(1, HeuristicOutcome.MIXED));
        log.writeForget(gtrid(1), "orders-db", 1);
        restart();
        assertEquals(List.of(), log.heuristics());
    }

    @Test
    void heuristicsAreReportedOldestFirst() throws Exception {
        List<HeuristicRecord> expected = new ArrayList<>();
        for (HeuristicOutcome outcome : HeuristicOutcome.values()) {
            HeuristicRecord h = heuristic(10 - outcome.ordinal(), outcome);
            log.forceHeuristic(h);
            expected.add(h);
        }
        restart();
        assertEquals(expected, log.heuristics());
    }

    @Test
    void decisionsAndHeuristicsSurviveARestartUnchanged() throws Exception {
        CommitDecision manyBranches = new CommitDecision(gtrid(7), 123, List.of(
                new BranchRecord("pg-ledger", 1, LogTestData.binaryData(1)),
                new BranchRecord("mariadb-stock", 2, LogTestData.binaryData(2)),
                new BranchRecord("rocketmq-événements", 3, LogTestData.binaryData(3))));
        HeuristicRecord h = new HeuristicRecord(gtrid(8), new BranchRecord("rocketmq", 4, LogTestData.binaryData(4)),
                HeuristicOutcome.COMMITTED, "détail ✓ with unicode", 456);
        log.forceCommitDecision(manyBranches);
        log.forceHeuristic(h);
        restart();
        assertEquals(List.of(manyBranches), log.unfinishedDecisions());
        assertEquals(List.of(h), log.heuristics());
    }

    @Test
    void everyWriteFailsAfterClose() {
        log.close();
        assertThrows(LogException.class, () -> log.forceCommitDecision(decision(1)));
        assertThrows(LogException.class, () -> log.writeEnd(gtrid(1)));
        assertThrows(LogException.class, () -> log.forceHeuristic(heuristic(1, HeuristicOutcome.HAZARD)));
        assertThrows(LogException.class, () -> log.writeForget(gtrid(1), "orders-db", 1));
    }

    @Test
    void closingTwiceIsHarmless() {
        log.close();
        assertDoesNotThrow(() -> log.close());
    }

    @Test
    void reportedListsAreSnapshotsThatCannotBeModified() throws Exception {
        log.forceCommitDecision(decision(1));
        log.forceHeuristic(heuristic(1, HeuristicOutcome.HAZARD));
        List<CommitDecision> decisions = log.unfinishedDecisions();
        List<HeuristicRecord> heuristics = log.heuristics();
        log.writeEnd(gtrid(1));
        log.writeForget(gtrid(1), "orders-db", 1);
        assertEquals(1, decisions.size());
        assertEquals(1, heuristics.size());
        assertThrows(UnsupportedOperationException.class, () -> decisions.clear());
        assertThrows(UnsupportedOperationException.class, () -> heuristics.clear());
    }

    @Test
    void newLogRemembersNoCommitAndItsHorizonIsTheStartOfTheRetentionWindow() throws Exception {
        MutableClock clock = useLog(RETENTION, 100);
        RecentCommits recent = log.recentCommits();
        assertEquals(Map.of(), recent.endedAtMillis());
        assertEquals(clock.millis() - RETENTION.toMillis(), recent.horizonMillis());
    }

    @Test
    void endedDecisionIsListedWithItsEndTimeAcrossARestart() throws Exception {
        MutableClock clock = useLog(RETENTION, 100);
        log.forceCommitDecision(decision(1));
        clock.advance(Duration.ofSeconds(5));
        log.writeEnd(gtrid(1));
        assertEquals(commits(gtrid(1), T0 + 5_000), log.recentCommits().endedAtMillis());
        clock.advance(Duration.ofSeconds(10));
        restart();
        assertEquals(commits(gtrid(1), T0 + 5_000), log.recentCommits().endedAtMillis());
        assertEquals(List.of(), log.unfinishedDecisions(), "the END still finishes the decision");
    }

    @Test
    void decisionWithoutEndIsUnfinishedNotARecentCommit() throws Exception {
        useLog(RETENTION, 100);
        log.forceCommitDecision(decision(1));
        restart();
        assertEquals(List.of(decision(1)), log.unfinishedDecisions());
        assertFalse(log.recentCommits().contains(gtrid(1)));
        assertEquals(0, log.recentCommits().size());
    }

    @Test
    void endedDecisionIsListedUntilItsEndIsAsOldAsTheRetention() throws Exception {
        MutableClock clock = useLog(RETENTION, 100);
        log.forceCommitDecision(decision(1));
        log.writeEnd(gtrid(1));
        clock.advance(RETENTION.minusMillis(1));
        restart();
        assertTrue(log.recentCommits().contains(gtrid(1)), "one millisecond inside the window");
        clock.advance(Duration.ofMillis(1));
        RecentCommits recent = log.recentCommits();
        assertFalse(recent.contains(gtrid(1)), "END exactly one retention old");
        assertTrue(recent.horizonMillis() >= T0, "the horizon covers it");
        restart();
        assertFalse(log.recentCommits().contains(gtrid(1)));
        assertTrue(log.recentCommits().horizonMillis() >= T0);
    }

    @Test
    void olderCommitsAgeOutWhileYoungerOnesStayListed() throws Exception {
        MutableClock clock = useLog(RETENTION, 100);
        for (int i = 1; i <= 3; i++) {
            log.forceCommitDecision(decision(i));
            log.writeEnd(gtrid(i));
            clock.advance(Duration.ofSeconds(25));
        }
        // ENDs at T0, T0 + 25 s and T0 + 50 s; now T0 + 75 s, so the first is 75 s old.
        restart();
        assertEquals(commits(gtrid(2), T0 + 25_000, gtrid(3), T0 + 50_000), log.recentCommits().endedAtMillis());
    }

    @Test
    void recentCommitsAreListedOldestEndFirst() throws Exception {
        MutableClock clock = useLog(RETENTION, 100);
        for (long n : new long[] {5, 3, 9}) {
            log.forceCommitDecision(decision(n));
        }
        for (long n : new long[] {9, 5, 3}) {
            log.writeEnd(gtrid(n));
            clock.advance(Duration.ofMillis(10));
        }
        restart();
        assertEquals(List.of(gtrid(9), gtrid(5), gtrid(3)),
                List.copyOf(log.recentCommits().endedAtMillis().keySet()));
    }

    @Test
    void capDropsTheOldestCommitAndRaisesTheHorizonToItsEndTime() throws Exception {
        MutableClock clock = useLog(RETENTION, 3);
        for (int i = 1; i <= 4; i++) {
            clock.advance(Duration.ofMillis(100));
            log.forceCommitDecision(decision(i));
            log.writeEnd(gtrid(i));
        }
        Map<Gtrid, Long> lastThree = commits(gtrid(2), T0 + 200, gtrid(3), T0 + 300, gtrid(4), T0 + 400);
        assertEquals(lastThree, log.recentCommits().endedAtMillis());
        assertEquals(T0 + 100, log.recentCommits().horizonMillis());
        restart();
        assertEquals(lastThree, log.recentCommits().endedAtMillis());
        assertEquals(T0 + 100, log.recentCommits().horizonMillis());
    }

    @Test
    void zeroRetentionRemembersNoCommit() throws Exception {
        MutableClock clock = useLog(Duration.ZERO, 100);
        log.forceCommitDecision(decision(1));
        log.writeEnd(gtrid(1));
        restart();
        assertEquals(0, log.recentCommits().size());
        assertEquals(clock.millis(), log.recentCommits().horizonMillis());
        assertEquals(List.of(), log.unfinishedDecisions());
    }

    @Test
    void reportedRecentCommitsAreASnapshotThatCannotBeModified() throws Exception {
        MutableClock clock = useLog(RETENTION, 100);
        log.forceCommitDecision(decision(1));
        log.writeEnd(gtrid(1));
        Map<Gtrid, Long> before = log.recentCommits().endedAtMillis();
        log.forceCommitDecision(decision(2));
        log.writeEnd(gtrid(2));
        clock.advance(RETENTION);
        assertEquals(commits(gtrid(1), T0), before);
        assertThrows(UnsupportedOperationException.class, () -> before.put(gtrid(3), T0));
    }

    @Test
    void concurrentWritersAreAllRecorded() throws Exception {
        int threads = 8;
        int perThread = 40;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = base; i < base + perThread; i++) {
                        log.forceCommitDecision(decision(i));
                        if (i % 2 == 1) {
                            log.writeEnd(gtrid(i));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        restart();
        List<CommitDecision> unfinished = log.unfinishedDecisions();
        assertEquals(threads * perThread / 2, unfinished.size());
        for (int i = 0; i < threads * perThread; i += 2) {
            assertTrue(unfinished.contains(decision(i)), "decision " + i + " is reported");
        }
    }
}
