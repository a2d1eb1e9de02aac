package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.decision;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a log that a crash or a bad disk left damaged: torn tails are repaired, corruption is refused. */
class FileTransactionLogReplayTest {
    private static final int SEGMENT = 64 << 10;

    @TempDir
    Path root;

    private static FileLogConfig.Builder config(Path directory) {
        return FileLogConfig.builder(directory).segmentSize(SEGMENT);
    }

    private static FileTransactionLog open(Path directory) throws LogException {
        return FileTransactionLog.open(config(directory).build());
    }

    /** Writes decisions 1..count, closes, and returns the offsets of the records plus where the data ends. */
    private static List<Integer> writeDecisions(Path directory, int count) throws Exception {
        try (FileTransactionLog log = open(directory)) {
            for (int i = 1; i <= count; i++) {
                log.forceCommitDecision(decision(i));
            }
        }
        return FileLogFixture.recordOffsets(FileLogFixture.segmentFiles(directory).get(0));
    }

    private static List<CommitDecision> decisions(int... numbers) {
        return Arrays.stream(numbers).mapToObj(n -> decision(n)).toList();
    }

    @Test
    void tornTailIsTruncatedToTheLastGoodRecordAtEveryByteOffsetOfTheLastRecord() throws Exception {
        Path pristine = root.resolve("pristine");
        List<Integer> offsets = writeDecisions(pristine, 3);
        int start = offsets.get(2);
        int end = offsets.get(3);
        byte[] original = Files.readAllBytes(FileLogFixture.segmentFiles(pristine).get(0));
        for (int cut = start; cut < end; cut++) {
            // A cut that leaves only the zero high bytes of the length leaves nothing written to discard.
            boolean leftoverIsZero = true;
            for (int i = start; i < cut; i++) {
                leftoverIsZero &= original[i] == 0;
            }
            Path directory = FileLogFixture.copyLog(pristine, root.resolve("cut-" + cut));
            try (FileChannel channel = FileChannel.open(FileLogFixture.segmentFiles(directory).get(0),
                    StandardOpenOption.WRITE)) {
                channel.truncate(cut);
            }
            try (FileTransactionLog log = open(directory)) {
                assertEquals(decisions(1, 2), log.unfinishedDecisions(), "file cut at " + cut);
                List<ReplayReport.Discard> discarded = log.replayReport().discarded();
                if (leftoverIsZero) {
                    assertEquals(List.of(), discarded, "nothing of the torn record reached the file");
                } else {
                    assertEquals(1, discarded.size(), "file cut at " + cut);
                    assertEquals(ReplayReport.Kind.TORN_TAIL, discarded.get(0).kind());
                    assertEquals(start, discarded.get(0).offset());
                }
                log.forceCommitDecision(decision(4));
            }
            try (FileTransactionLog log = open(directory)) {
                assertEquals(decisions(1, 2, 4), log.unfinishedDecisions(), "file cut at " + cut);
                assertTrue(log.replayReport().clean(), "file cut at " + cut);
            }
        }
    }

    @Test
    void lostTailOfThePreallocatedFileIsATornTailAtEveryByteOffset() throws Exception {
        Path pristine = root.resolve("pristine");
        List<Integer> offsets = writeDecisions(pristine, 3);
        int start = offsets.get(2);
        int end = offsets.get(3);
        for (int cut = start; cut < end; cut++) {
            Path directory = FileLogFixture.copyLog(pristine, root.resolve("zeroed-" + cut));
            Path segment = FileLogFixture.segmentFiles(directory).get(0);
            byte[] bytes = Files.readAllBytes(segment);
            Arrays.fill(bytes, cut, end, (byte) 0); // the pages that never reached the disk read back as zeros
            Files.write(segment, bytes);
            try (FileTransactionLog log = open(directory)) {
                assertEquals(decisions(1, 2), log.unfinishedDecisions(), "zeroed from " + cut);
                log.forceCommitDecision(decision(4));
            }
            try (FileTransactionLog log = open(directory)) {
                assertEquals(decisions(1, 2, 4), log.unfinishedDecisions(), "zeroed from " + cut);
                assertTrue(log.replayReport().clean());
            }
        }
    }

    @Test
    void garbageAfterTheLastGoodRecordIsATornTailAndIsZeroed() throws Exception {
        Path directory = root.resolve("log");
        List<Integer> offsets = writeDecisions(directory, 3);
        Path segment = FileLogFixture.segmentFiles(directory).get(0);
        byte[] bytes = Files.readAllBytes(segment);
        byte[] garbage = new byte[300];
        new Random(42).nextBytes(garbage);
        int tornAt = offsets.get(2) + 17;
        System.arraycopy(garbage, 0, bytes, tornAt, garbage.length);
        Files.write(segment, bytes);
        try (FileTransactionLog log = open(directory)) {
            assertEquals(decisions(1, 2), log.unfinishedDecisions());
            ReplayReport.Discard discard = log.replayReport().discarded().get(0);
            assertEquals(ReplayReport.Kind.TORN_TAIL, discard.kind());
            assertEquals((long) offsets.get(2), discard.offset());
            assertEquals(tornAt + garbage.length - offsets.get(2), discard.length());
        }
        byte[] repaired = Files.readAllBytes(segment);
        for (int i = offsets.get(2); i < tornAt + garbage.length; i++) {
            assertEquals(0, repaired[i], "byte " + i + " was zeroed");
        }
    }

    @Test
    void anyFlippedBitInAMiddleRecordMakesOpenFailNamingFileAndOffset() throws Exception {
        Path pristine = root.resolve("pristine");
        List<Integer> offsets = writeDecisions(pristine, 3);
        int start = offsets.get(1);
        Path directory = root.resolve("damaged");
        FileLogFixture.copyLog(pristine, directory);
        Path segment = FileLogFixture.segmentFiles(directory).get(0);
        byte[] original = Files.readAllBytes(segment);
        for (int offset = start; offset < offsets.get(2); offset++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] damaged = original.clone();
                damaged[offset] ^= (byte) (1 << bit);
                Files.write(segment, damaged);
                LogException e = assertThrows(LogException.class, () -> open(directory),
                        "bit " + bit + " of byte " + offset);
                assertTrue(e.getMessage().contains(segment.toString()), e.getMessage());
                assertTrue(e.getMessage().contains("byte offset " + start + ":"), e.getMessage());
            }
        }
        Files.write(segment, original);
        try (FileTransactionLog log = open(directory)) {
            assertEquals(decisions(1, 2, 3), log.unfinishedDecisions(), "refusing to open changed nothing");
        }
    }

    @Test
    void zeroedMiddleRecordIsCorruptionNotTheEndOfTheData() throws Exception {
        Path directory = root.resolve("log");
        List<Integer> offsets = writeDecisions(directory, 3);
        Path segment = FileLogFixture.segmentFiles(directory).get(0);
        byte[] bytes = Files.readAllBytes(segment);
        Arrays.fill(bytes, offsets.get(1), offsets.get(2), (byte) 0);
        Files.write(segment, bytes);
        LogException e = assertThrows(LogException.class, () -> open(directory));
        assertTrue(e.getMessage().contains("byte offset " + offsets.get(1) + ":"), e.getMessage());
    }

    @Test
    void operatorOverrideDiscardsTheCorruptRecordReportsItAndLeavesACleanLog() throws Exception {
        Path directory = root.resolve("log");
        List<Integer> offsets = writeDecisions(directory, 3);
        Path segment = FileLogFixture.segmentFiles(directory).get(0);
        FileLogFixture.flipBit(segment, offsets.get(2) - 3, 5); // inside the recovery data of decision 2
        try (FileTransactionLog log = FileTransactionLog.open(config(directory).discardCorruptRecords(true).build())) {
            assertEquals(decisions(1, 3), log.unfinishedDecisions());
            List<ReplayReport.Discard> discarded = log.replayReport().discarded();
            assertEquals(1, discarded.size());
            ReplayReport.Discard d = discarded.get(0);
            assertEquals(ReplayReport.Kind.CORRUPTION, d.kind());
            assertEquals(segment, d.file());
            assertEquals((long) offsets.get(1), d.offset());
            assertEquals(offsets.get(2) - offsets.get(1), d.length());
            assertTrue(d.detail().contains("checksum mismatch"), d.detail());
            assertTrue(d.detail().contains(decision(2).gtrid().toString()), "says whose decision it was: " + d);
            log.forceCommitDecision(decision(4));
        }
        assertFalse(Files.exists(segment), "the damaged segment was released after its live records moved");
        try (FileTransactionLog log = open(directory)) {
            assertTrue(log.replayReport().clean());
            assertEquals(decisions(1, 3, 4), log.unfinishedDecisions());
        }
    }

    /** Writes never-ended decisions until {@code segments} segments hold data. */
    private static int fillSegments(Path directory, int segments) throws Exception {
        int n = 0;
        try (FileTransactionLog log = FileTransactionLog.open(FileLogConfig.builder(directory).segmentSize(4096)
                .maxSegments(10).build())) {
            while (log.segmentCount() < segments) {
                log.forceCommitDecision(decision(++n));
            }
        }
        return n;
    }

    @Test
    void damagedLastRecordOfAnOlderSegmentIsCorruptionBecauseTheNextSegmentHasData() throws Exception {
        Path directory = root.resolve("log");
        fillSegments(directory, 3);
        Path first = FileLogFixture.segmentFiles(directory).get(0);
        List<Integer> offsets = FileLogFixture.recordOffsets(first);
        int last = offsets.get(offsets.size() - 2);
        FileLogFixture.flipBit(first, last + 12, 0);
        LogException e = assertThrows(LogException.class,
                () -> FileTransactionLog.open(FileLogConfig.builder(directory).segmentSize(4096).build()));
        assertTrue(e.getMessage().contains(first + " at byte offset " + last + ":"), e.getMessage());
    }

    @Test
    void missingSegmentInTheMiddleMakesOpenFailUnlessTheOperatorOverrides() throws Exception {
        Path directory = root.resolve("log");
        int written = fillSegments(directory, 3);
        Path second = FileLogFixture.segmentFiles(directory).get(1);
        Files.delete(second);
        FileLogConfig config = FileLogConfig.builder(directory).segmentSize(4096).build();
        LogException e = assertThrows(LogException.class, () -> FileTransactionLog.open(config));
        assertTrue(e.getMessage().contains(second.toString()), e.getMessage());
        try (FileTransactionLog log = FileTransactionLog.open(config.toBuilder().discardCorruptRecords(true).build())) {
            assertEquals(ReplayReport.Kind.MISSING_SEGMENT, log.replayReport().discarded().get(0).kind());
            List<CommitDecision> unfinished = log.unfinishedDecisions();
            assertTrue(unfinished.contains(decision(1)) && unfinished.contains(decision(written)));
        }
    }

    @Test
    void damagedSegmentHeaderIsCorruption() throws Exception {
        Path directory = root.resolve("log");
        fillSegments(directory, 2);
        Path first = FileLogFixture.segmentFiles(directory).get(0);
        FileLogFixture.flipBit(first, 13, 2);
        LogException e = assertThrows(LogException.class,
                () -> FileTransactionLog.open(FileLogConfig.builder(directory).segmentSize(4096).build()));
        assertTrue(e.getMessage().contains(first + " at byte offset 0:"), e.getMessage());
    }

    @Test
    void segmentOfANewerFormatIsRefusedEvenWithTheOverride() throws Exception {
        Path directory = root.resolve("log");
        writeDecisions(directory, 1);
        Path segment = FileLogFixture.segmentFiles(directory).get(0);
        byte[] bytes = Files.readAllBytes(segment);
        ByteBuffer header = ByteBuffer.wrap(bytes);
        header.putInt(8, LogRecordCodec.FORMAT_VERSION + 1);
        header.putInt(28, LogRecordCodec.crcOf(bytes, 0, 28));
        Files.write(segment, bytes);
        LogException e = assertThrows(LogException.class,
                () -> FileTransactionLog.open(config(directory).discardCorruptRecords(true).build()));
        assertTrue(e.getMessage().contains("format version " + (LogRecordCodec.FORMAT_VERSION + 1)),
                e.getMessage());
    }

    @Test
    void tornTailFollowedOnlyByAnEmptyPreallocatedSegmentIsStillATornTail() throws Exception {
        Path directory = root.resolve("log");
        FileLogConfig config = FileLogConfig.builder(directory).segmentSize(4096).maxSegments(10).build();
        int n = 0;
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            // Just past half of the segment the next one is pre-allocated; close waits for it to be finished.
            int written = SegmentFiles.HEADER_BYTES;
            while (written <= 4096 / 2) {
                n++;
                written += FileLogFixture.frameLength(n - 1, decision(n));
                log.forceCommitDecision(decision(n));
            }
            assertEquals(1, log.segmentCount(), "the records still fit in the first segment");
        }
        assertEquals(2, FileLogFixture.segmentFiles(directory).size(), "the next segment was pre-allocated");
        Path first = FileLogFixture.segmentFiles(directory).get(0);
        List<Integer> offsets = FileLogFixture.recordOffsets(first);
        truncate(first, offsets.get(offsets.size() - 2) + 5);
        List<CommitDecision> expected = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            expected.add(decision(i));
        }
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            assertEquals(expected, log.unfinishedDecisions());
            assertEquals(ReplayReport.Kind.TORN_TAIL, log.replayReport().discarded().get(0).kind());
            log.forceCommitDecision(decision(100));
            expected.add(decision(100));
        }
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            assertEquals(expected, log.unfinishedDecisions());
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }
}
