package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.CommitDecision;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent committers share forces, and each returns only once its own record is durable. The disk is made to
 * take a millisecond per force, as a real one does; nothing here asserts on time.
 */
class GroupCommitTest {
    private static final int THREADS = 16;
    private static final int COMMITS_PER_THREAD = 40;

    @TempDir
    Path directory;

    @Test
    void sixteenConcurrentCommittersNeedFarFewerForcesThanCommits() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        disk.forceDelayMillis = 1;
        AtomicInteger notDurableOnReturn = new AtomicInteger();
        try (FileTransactionLog log = FileTransactionLog.open(FileLogConfig.builder(directory)
                .segmentSize(1 << 20).channelOpener(disk).unforcedLinger(Duration.ofSeconds(10)).build())) {
            runConcurrently(i -> {
                CommitDecision d = decision(i);
                log.forceCommitDecision(d);
                if (!disk.durablyDecided(d.gtrid())) {
                    notDurableOnReturn.incrementAndGet();
                }
                log.writeEnd(gtrid(i));
            });
            int commits = THREADS * COMMITS_PER_THREAD;
            assertEquals(0, notDurableOnReturn.get(), "no caller returned before its record was forced");
            assertTrue(log.forceCount() < commits / 2, log.forceCount() + " forces for " + commits + " commits");
            // With direct writes the last ENDs wait in the queue for the next round (or the linger timer).
            assertEquals(2L * commits, log.recordCount() + log.queuedRecords());
            assertEquals(List.of(), log.unfinishedDecisions());
        }
    }

    @Test
    void theForceObserverSeesEveryForceWithItsBatchOfRecords() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        disk.forceDelayMillis = 1;
        AtomicInteger observed = new AtomicInteger();
        AtomicInteger records = new AtomicInteger();
        AtomicInteger largestBatch = new AtomicInteger();
        FileTransactionLog log = FileTransactionLog.open(FileLogConfig.builder(directory).segmentSize(1 << 20)
                .channelOpener(disk).forceObserver((nanos, batch) -> {
                    assertTrue(nanos >= 0);
                    observed.incrementAndGet();
                    records.addAndGet(batch);
                    largestBatch.accumulateAndGet(batch, Math::max);
                }).build());
        try (log) {
            runConcurrently(i -> log.forceCommitDecision(decision(i)));
        }
        assertEquals(log.forceCount(), observed.get(), "one call per force");
        assertEquals(log.recordCount(), records.get(), "every record written is in exactly one force's batch");
        assertTrue(largestBatch.get() > 1, "concurrent decisions shared a force: " + largestBatch.get());
    }

    @Test
    void everyConcurrentlyForcedDecisionSurvivesARestart() throws Exception {
        FileLogConfig config = FileLogConfig.builder(directory).segmentSize(16 << 10).maxSegments(100).build();
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            runConcurrently(i -> log.forceCommitDecision(decision(i)));
            assertTrue(log.segmentCount() > 1, "rounds crossed segment boundaries");
        }
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            List<CommitDecision> unfinished = log.unfinishedDecisions();
            assertEquals(THREADS * COMMITS_PER_THREAD, unfinished.size());
            for (int i = 0; i < THREADS * COMMITS_PER_THREAD; i++) {
                assertTrue(unfinished.contains(decision(i)), "decision " + i);
            }
        }
    }

    /**
     * Waiters return from park for no reason now and then (the JDK allows it); here another thread provokes that
     * all the time for one committer. Every committer must still be woken once its record is durable, and the
     * disturbed one must not return before its own record is: a wake-up scheme that lets one waiter act for the
     * others of its round (checked with one that woke the others before their outcomes were set: it stranded them
     * in every run) would leave them parked for good.
     */
    @Test
    void committersWokenForNoReasonNeverStrandTheOthersOfTheirRound() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        FileLogConfig config = FileLogConfig.builder(directory).segmentSize(64 << 10).maxSegments(4)
                .channelOpener(disk).build();
        AtomicInteger notDurableOnReturn = new AtomicInteger();
        AtomicReference<Thread> disturbed = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread noise = new Thread(() -> {
            while (!done.get()) {
                LockSupport.unpark(disturbed.get());
                Thread.onSpinWait();
            }
        }, "spurious-wake-ups");
        noise.setDaemon(true);
        noise.start();
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                    runConcurrently(i -> {
                        disturbed.compareAndSet(null, Thread.currentThread());
                        for (int k = 0; k < 10; k++) {
                            CommitDecision d = decision(i * 10 + k);
                            log.forceCommitDecision(d);
                            if (!disk.durablyDecided(d.gtrid())) {
                                notDurableOnReturn.incrementAndGet();
                            }
                            log.writeEnd(d.gtrid());
                        }
                    }), "a committer was left parked with its record durable");
            assertEquals(0, notDurableOnReturn.get(), "no caller returned before its record was forced");
            assertEquals(List.of(), log.unfinishedDecisions());
        } finally {
            done.set(true);
        }
    }

    @Test
    void interruptedCommitterStillWaitsForItsRecordAndKeepsTheInterrupt() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        CountDownLatch gate = new CountDownLatch(1);
        disk.forceGate = gate;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (FileTransactionLog log = FileTransactionLog.open(FileLogConfig.builder(directory)
                .segmentSize(1 << 20).channelOpener(disk).build())) {
            Future<?> leader = pool.submit(() -> {
                log.forceCommitDecision(decision(1));
                return null;
            });
            assertTrue(disk.forceBlocked.await(30, TimeUnit.SECONDS));
            AtomicReference<Thread> followerThread = new AtomicReference<>();
            Future<Boolean> follower = pool.submit(() -> {
                followerThread.set(Thread.currentThread());
                log.forceCommitDecision(decision(2));
                return Thread.currentThread().isInterrupted();
            });
            while (log.queuedRecords() < 1) {
                Thread.onSpinWait();
            }
            followerThread.get().interrupt();
            disk.forceGate = null;
            gate.countDown();
            leader.get(30, TimeUnit.SECONDS);
            assertTrue(follower.get(30, TimeUnit.SECONDS),
                    "the follower returned normally, with its interrupt kept");
            assertTrue(disk.durablyDecided(gtrid(2)), "and only once its decision was durable");
        } finally {
            pool.shutdownNow();
        }
    }

    private interface Commit {
        void run(int i) throws Exception;
    }

    private static void runConcurrently(Commit commit) throws Exception {
        CyclicBarrier start = new CyclicBarrier(THREADS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int base = t * COMMITS_PER_THREAD;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = base; i < base + COMMITS_PER_THREAD; i++) {
                        commit.run(i);
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
    }
}
