package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A disk that fills up or fails: callers learn it, and nothing is reported durable that is not. */
class FileTransactionLogFailureTest {
    @TempDir
    Path directory;

    private final FaultyDisk disk = new FaultyDisk();

    /** Faults are injected at write() and force() of the page-cache path; direct writes: DirectWritesTest. */
    private FileLogConfig.Builder config() {
        return FileLogConfig.builder(directory).segmentSize(64 << 10).directWrites(false);
    }

    private FileTransactionLog openFaulty() throws LogException {
        return FileTransactionLog.open(config().channelOpener(disk).build());
    }

    private FileTransactionLog openHealthy() throws LogException {
        return FileTransactionLog.open(config().build());
    }

    @Test
    void fullDiskMakesForceCommitDecisionThrowAndTheDecisionIsNotRecovered() throws Exception {
        try (FileTransactionLog log = openFaulty()) {
            log.forceCommitDecision(decision(1));
            disk.failWrites = FaultyDisk.noSpace();
            LogException e = assertThrows(LogException.class, () -> log.forceCommitDecision(decision(2)));
            assertSame(disk.failWrites, e.getCause(), "the disk's own error is the cause");
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertEquals(List.of(decision(1)), log.unfinishedDecisions(), "nothing reported that is not durable");
            disk.failWrites = null;
            assertThrows(LogException.class, () -> log.forceCommitDecision(decision(3)),
                    "after a failed write the log refuses writes until it is reopened");
            assertThrows(LogException.class, () -> log.writeEnd(gtrid(1)));
        }
        try (FileTransactionLog log = openHealthy()) {
            assertEquals(List.of(decision(1)), log.unfinishedDecisions());
            log.forceCommitDecision(decision(4));
            assertEquals(List.of(decision(1), decision(4)), log.unfinishedDecisions());
        }
    }

    @Test
    void writeCutShortByAFullDiskLeavesOnlyATornTail() throws Exception {
        try (FileTransactionLog log = openFaulty()) {
            log.forceCommitDecision(decision(1));
            disk.partialWriteFirst = true;
            disk.failWrites = FaultyDisk.noSpace(); // the erase that follows fails as well
            assertThrows(LogException.class, () -> log.forceCommitDecision(decision(2)));
        }
        try (FileTransactionLog log = openHealthy()) {
            assertEquals(List.of(decision(1)), log.unfinishedDecisions());
            assertEquals(ReplayReport.Kind.TORN_TAIL, log.replayReport().discarded().get(0).kind());
        }
    }

    @Test
    void decisionWhoseForceFailedIsErasedSoARestartDoesNotFindIt() throws Exception {
        try (FileTransactionLog log = openFaulty()) {
            log.forceCommitDecision(decision(1));
            disk.failForces = new IOException("Input/output error");
            LogException e = assertThrows(LogException.class, () -> log.forceCommitDecision(decision(2)));
            assertTrue(e.getMessage().contains("may not be durable"), e.getMessage());
        }
        // The write reached the page cache before the force failed; the log zeroed it again.
        try (FileTransactionLog log = openHealthy()) {
            assertEquals(List.of(decision(1)), log.unfinishedDecisions());
            assertTrue(log.replayReport().clean());
        }
    }

    @Test
    void everyCallerOfTheFailedRoundGetsTheExceptionAndEarlierRoundsStayDurable() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try (FileTransactionLog log = openFaulty()) {
            CountDownLatch gate = new CountDownLatch(1);
            disk.forceGate = gate;
            Future<?> first = pool.submit(() -> {
                log.forceCommitDecision(decision(1));
                return null;
            });
            assertTrue(disk.forceBlocked.await(30, TimeUnit.SECONDS), "the first round reached its force");
            List<Future<?>> queued = new ArrayList<>();
            for (int i = 2; i <= 5; i++) {
                CommitDecision d = decision(i);
                queued.add(pool.submit(() -> {
                    log.forceCommitDecision(d);
                    return null;
                }));
            }
            while (log.queuedRecords() < 4) {
                Thread.onSpinWait(); // the four wait for the next round, behind the blocked force
            }
            disk.failWrites = FaultyDisk.noSpace();
            disk.forceGate = null;
            gate.countDown();
            first.get(30, TimeUnit.SECONDS);
            for (Future<?> f : queued) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
                assertInstanceOf(LogException.class, e.getCause());
            }
            assertEquals(List.of(decision(1)), log.unfinishedDecisions());
        } finally {
            pool.shutdownNow();
        }
        try (FileTransactionLog log = openHealthy()) {
            assertEquals(List.of(decision(1)), log.unfinishedDecisions());
        }
    }

    @Test
    void fullDiskWhenANewSegmentIsNeededFailsOnlyWhatDidNotFit() throws Exception {
        List<CommitDecision> acknowledged = new ArrayList<>();
        FileLogConfig small = config().segmentSize(4096).channelOpener(disk).build();
        try (FileTransactionLog log = FileTransactionLog.open(small)) {
            disk.failCreates = FaultyDisk.noSpace();
            LogException failure = null;
            for (int i = 1; i <= 100 && failure == null; i++) {
                try {
                    log.forceCommitDecision(decision(i));
                    acknowledged.add(decision(i));
                } catch (LogException e) {
                    failure = e;
                }
            }
            assertTrue(failure != null, "the first segment filled up and no new one could be created");
            assertTrue(acknowledged.size() > 5);
            assertEquals(acknowledged, log.unfinishedDecisions());
        }
        try (FileTransactionLog log = FileTransactionLog.open(config().segmentSize(4096).build())) {
            assertEquals(acknowledged, log.unfinishedDecisions());
        }
    }
}
