package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Behaviour of the file log beyond the contract: files, forces, locking, restarts without a clean close. */
class FileTransactionLogTest {
    private static final int SEGMENT = 64 << 10;

    @TempDir
    Path directory;

    /** Where copies of the log, as a killed process leaves it, go; a fresh directory per test. */
    @TempDir
    Path copies;

    private FileLogConfig.Builder config() {
        return FileLogConfig.builder(directory).segmentSize(SEGMENT);
    }

    @Test
    void segmentIsPreallocatedWithAHeaderStampedByTheClock() throws Exception {
        Clock clock = Clock.fixed(Instant.ofEpochMilli(1_234_567L), ZoneOffset.UTC);
        try (FileTransactionLog log = FileTransactionLog.open(config().clock(clock).build())) {
            log.forceCommitDecision(decision(1));
        }
        List<Path> segments = FileLogFixture.segmentFiles(directory);
        assertEquals(1, segments.size());
        byte[] bytes = Files.readAllBytes(segments.get(0));
        assertEquals(SEGMENT, bytes.length);
        ByteBuffer header = ByteBuffer.wrap(bytes);
        assertEquals(SegmentFiles.MAGIC, header.getLong(0));
        assertEquals(LogRecordCodec.FORMAT_VERSION, header.getInt(8));
        assertEquals(1, header.getLong(12));
        assertEquals(1_234_567L, header.getLong(20));
    }

    @Test
    void loneCommitterPaysOneForcePerCommitAndEndsAreNotForced() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().directWrites(false).build())) {
            for (int i = 0; i < 50; i++) {
                log.forceCommitDecision(decision(i));
                log.writeEnd(gtrid(i));
                assertEquals(i + 1, log.forceCount());
            }
            assertEquals(100, log.recordCount());
        }
    }

    @Test
    void decisionIsOnDiskForTheNextProcessAsSoonAsTheCallReturns() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().directWrites(false).build())) {
            log.forceCommitDecision(decision(1));
            log.forceCommitDecision(decision(2));
            log.writeEnd(gtrid(1));
            // A copy taken while the log is open is what a killed process leaves behind.
            Path crashed = FileLogFixture.copyLog(directory, copies.resolve("crashed"));
            try (FileTransactionLog after = FileTransactionLog.open(FileLogConfig.builder(crashed).build())) {
                assertEquals(List.of(decision(2)), after.unfinishedDecisions());
                assertTrue(after.replayReport().clean());
            }
        }
    }

    @Test
    void secondOpenOfTheSameDirectoryIsRefused() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().build())) {
            LogException e = assertThrows(LogException.class, () -> FileTransactionLog.open(config().build()));
            assertTrue(e.getMessage().contains("already open"), e.getMessage());
            log.forceCommitDecision(decision(1));
        }
        try (FileTransactionLog reopened = FileTransactionLog.open(config().build())) {
            assertEquals(List.of(decision(1)), reopened.unfinishedDecisions());
        }
    }

    @Test
    void recordLargerThanASegmentIsRefusedAndTheLogKeepsWorking() throws Exception {
        CommitDecision huge = new CommitDecision(gtrid(9), 1, List.of(new BranchRecord("blob", 1, new byte[8192])));
        try (FileTransactionLog log = FileTransactionLog.open(config().segmentSize(4096).build())) {
            LogException e = assertThrows(LogException.class, () -> log.forceCommitDecision(huge));
            assertTrue(e.getMessage().contains("does not fit in a segment"), e.getMessage());
            log.forceCommitDecision(decision(1));
            assertEquals(List.of(decision(1)), log.unfinishedDecisions());
        }
    }

    @Test
    void leftoverOfAnInterruptedSegmentCreationIsDeleted() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config().build())) {
            log.forceCommitDecision(decision(1));
        }
        Path leftover = directory.resolve("segment-00000000000000000002.seg.tmp");
        Files.write(leftover, new byte[100]);
        try (FileTransactionLog log = FileTransactionLog.open(config().build())) {
            assertEquals(List.of(decision(1)), log.unfinishedDecisions());
            assertTrue(log.replayReport().clean());
        }
        assertFalse(Files.exists(leftover));
    }

    @Test
    void closeWritesAndForcesQueuedEndRecords() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        Clock clock = Clock.fixed(Instant.ofEpochMilli(1_700_000_500_000L), ZoneOffset.UTC);
        LogRecord end = new LogRecord.End(gtrid(1), clock.millis());
        try (FileTransactionLog log = FileTransactionLog.open(config().channelOpener(disk).clock(clock)
                .directWrites(false).build())) {
            log.forceCommitDecision(decision(1));
            log.writeEnd(gtrid(1));
            assertFalse(disk.durablyHolds(end));
        }
        assertTrue(disk.durablyHolds(end));
    }
}
