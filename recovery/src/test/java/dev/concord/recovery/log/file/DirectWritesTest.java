package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.nio.file.ExtendedOpenOption;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log's direct writes ({@code O_DIRECT | O_DSYNC}, the default): each round is one block-aligned write that
 * is its own force, records that cross blocks and segments read back after a crash, END records wait in memory for
 * the next round or the linger timer, a failed write fences the log as a failed force does, and a file system that
 * refuses direct I/O gets the page-cache path. (tmpfs takes O_DIRECT since Linux 6.6, so the refusal is simulated.)
 */
class DirectWritesTest {
    private static final Duration LONG = Duration.ofSeconds(10);

    @TempDir
    Path directory;
    @TempDir
    Path copies;

    private FileLogConfig.Builder config() {
        return FileLogConfig.builder(directory).segmentSize(64 << 10).unforcedLinger(LONG);
    }

    @Test
    void loneCommitterPaysOneWritePerCommitWithEachEndRidingInTheNextRound() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().build())) {
            assumeTrue(log.writesDirectly(), "the file system of the temp directory refuses direct I/O");
            for (int i = 0; i < 50; i++) {
                log.forceCommitDecision(decision(i));
                log.writeEnd(gtrid(i));
                assertEquals(i + 1, log.forceCount(), "one write per commit, none for the END");
                assertEquals(2L * i + 1, log.recordCount(), "the END waits for the next commit's round");
            }
        }
        try (FileTransactionLog reopened = FileTransactionLog.open(config().build())) {
            assertEquals(List.of(), reopened.unfinishedDecisions(), "close wrote the last END");
            assertTrue(reopened.replayReport().clean());
        }
    }

    @Test
    void aKilledProcessLosesOnlyTheEndThatWaitsAndNeverADecision() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().build())) {
            assumeTrue(log.writesDirectly());
            log.forceCommitDecision(decision(1));
            log.forceCommitDecision(decision(2));
            log.writeEnd(gtrid(1));
            Path crashed = FileLogFixture.copyLog(directory, copies.resolve("before-next-round"));
            try (FileTransactionLog after = FileTransactionLog.open(FileLogConfig.builder(crashed).build())) {
                assertEquals(List.of(decision(1), decision(2)), after.unfinishedDecisions(),
                        "both decisions are durable; the END of 1 was still waiting, so recovery finishes 1 again");
                assertTrue(after.replayReport().clean());
            }
            log.forceCommitDecision(decision(3));
            Path later = FileLogFixture.copyLog(directory, copies.resolve("after-next-round"));
            try (FileTransactionLog after = FileTransactionLog.open(FileLogConfig.builder(later).build())) {
                assertEquals(List.of(decision(2), decision(3)), after.unfinishedDecisions(),
                        "the END rode with the next decision");
            }
        }
    }

    @Test
    void theLingerTimerWritesAnEndNoRoundTookAlong() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().unforcedLinger(Duration.ofMillis(20))
                .build())) {
            assumeTrue(log.writesDirectly());
            log.forceCommitDecision(decision(1));
            log.writeEnd(gtrid(1));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (log.recordCount() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(2, log.recordCount(), "the timer wrote the END");
            assertEquals(2, log.forceCount(), "in a write of its own, durable like every direct write");
            Path crashed = FileLogFixture.copyLog(directory, copies.resolve("crashed"));
            try (FileTransactionLog after = FileTransactionLog.open(FileLogConfig.builder(crashed).build())) {
                assertEquals(List.of(), after.unfinishedDecisions());
            }
        }
    }

    /**
     * Commits that come more often than the linger time never pay a write for an END alone, although the timer
     * fires meanwhile: it counts from when the oldest END began to wait, and every commit's round takes the END
     * before it along. (Counting from when the timer was armed made one write in four an extra one at 1.7 ms per
     * transaction.)
     */
    @Test
    void theTimerCountsFromTheOldestWaitingEndSoASteadyStreamPaysNoExtraWrites() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().unforcedLinger(Duration.ofMillis(400))
                .build())) {
            assumeTrue(log.writesDirectly());
            long start = System.nanoTime();
            int commits = 0;
            while (System.nanoTime() - start < Duration.ofMillis(1500).toNanos()) {
                log.forceCommitDecision(decision(commits));
                log.writeEnd(gtrid(commits));
                commits++;
                Thread.sleep(10);
            }
            assertTrue(commits > 40, commits + " commits");
            assertEquals(commits, log.forceCount(), "one write per commit over " + commits + " commits, in "
                    + (System.nanoTime() - start) / 1_000_000 + " ms with a 400 ms timer");
        }
    }

    @Test
    void recordsOfEverySizeAcrossBlocksAndSegmentsReadBackAfterACrash() throws Exception {
        Random random = new Random(42);
        List<CommitDecision> unfinished = new ArrayList<>();
        try (FileTransactionLog log = FileTransactionLog.open(config().segmentSize(16 << 10).maxSegments(100)
                .build())) {
            assumeTrue(log.writesDirectly());
            for (int i = 0; i < 400; i++) {
                // From a few bytes to more than a 4 KiB block, so records start and end anywhere in a block.
                byte[] data = new byte[random.nextInt(5000)];
                random.nextBytes(data);
                CommitDecision d = new CommitDecision(gtrid(i), 1, List.of(new BranchRecord("db", 1, data)));
                log.forceCommitDecision(d);
                if (random.nextBoolean()) {
                    log.writeEnd(gtrid(i));
                } else {
                    unfinished.add(d);
                }
            }
            assertTrue(log.segmentCount() > 10, "the records went through many segments");
            Path crashed = FileLogFixture.copyLog(directory, copies.resolve("crashed"));
            try (FileTransactionLog after = FileTransactionLog.open(FileLogConfig.builder(crashed)
                    .segmentSize(16 << 10).maxSegments(100).build())) {
                assertTrue(after.replayReport().clean(), after.replayReport().toString());
                List<CommitDecision> read = after.unfinishedDecisions();
                assertTrue(read.containsAll(unfinished), "every decision without END is there");
                assertTrue(read.size() <= unfinished.size() + 1, "and at most the one whose END still waits");
            }
        }
        try (FileTransactionLog reopened = FileTransactionLog.open(config().segmentSize(16 << 10).maxSegments(100)
                .build())) {
            assertEquals(unfinished, reopened.unfinishedDecisions());
            assertTrue(reopened.replayReport().clean());
        }
    }

    @Test
    void aFailedDirectWriteFailsItsCallerFencesTheLogAndLeavesNoDecisionBehind() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        try (FileTransactionLog log = FileTransactionLog.open(config().channelOpener(disk).build())) {
            assumeTrue(log.writesDirectly());
            log.forceCommitDecision(decision(1));
            assertTrue(disk.durablyDecided(gtrid(1)), "a direct write that returned is durable");
            disk.failForces = FaultyDisk.noSpace();
            assertThrows(LogException.class, () -> log.forceCommitDecision(decision(2)));
            disk.failForces = null;
            LogException refused = assertThrows(LogException.class, () -> log.forceCommitDecision(decision(3)));
            assertTrue(refused.getMessage().contains("refuses writes"), refused.getMessage());
        }
        try (FileTransactionLog reopened = FileTransactionLog.open(config().build())) {
            assertEquals(List.of(decision(1)), reopened.unfinishedDecisions());
        }
    }

    /** What a file system without O_DIRECT answers (EINVAL), and a block size that does not divide the segment. */
    @Test
    void aFileSystemThatRefusesDirectIoGetsThePageCacheAndForces() throws Exception {
        ChannelOpener refusing = (path, options) -> {
            if (Arrays.asList(options).contains(ExtendedOpenOption.DIRECT)) {
                throw new IOException(path + ": Invalid argument");
            }
            return FileChannel.open(path, options);
        };
        for (FileLogConfig.Builder b : List.of(config().channelOpener(refusing), config().segmentSize(4096 + 2048))) {
            Path dir = Files.createTempDirectory(copies, "fallback-");
            FileLogConfig c = b.build();
            FileLogConfig cfg = FileLogConfig.builder(dir).segmentSize(c.segmentSize()).channelOpener(c.channelOpener())
                    .unforcedLinger(LONG).build();
            try (FileTransactionLog log = FileTransactionLog.open(cfg)) {
                assertFalse(log.writesDirectly(), "falls back to the page cache");
                log.forceCommitDecision(decision(1));
                log.writeEnd(gtrid(1));
                assertEquals(2, log.recordCount(), "the END went into the page cache at once");
                log.forceCommitDecision(decision(2));
                assertEquals(2, log.forceCount());
            }
            try (FileTransactionLog reopened = FileTransactionLog.open(cfg)) {
                assertEquals(List.of(decision(2)), reopened.unfinishedDecisions());
            }
        }
    }
}
