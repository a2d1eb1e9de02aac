package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static dev.concord.recovery.log.LogTestData.heuristic;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.MutableClock;
import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.xid.Gtrid;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recent commits in the file log beyond the contract: they outlive the segments that held their END, a crash, a
 * horizon record keeps forgotten ones forgotten, and logs of format version 1 are read and continued.
 */
class FileLogRecentCommitsTest {
    private static final int SEGMENT = 4096;
    private static final int MAX_SEGMENTS = 3;
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path directory;

    @TempDir
    Path copies;

    private final MutableClock clock = new MutableClock(T0);

    /** Through the page cache, so that an END is in the file as soon as writeEnd returns (see DirectWritesTest). */
    private FileLogConfig.Builder config(Path dir) {
        return FileLogConfig.builder(dir).segmentSize(SEGMENT).maxSegments(MAX_SEGMENTS).clock(clock)
                .directWrites(false);
    }

    /** Commits transactions {@code from..to}, one second apart; returns them with their END times. */
    private Map<Gtrid, Long> commitEverySecond(FileTransactionLog log, int from, int to) throws Exception {
        Map<Gtrid, Long> ended = new LinkedHashMap<>();
        for (int i = from; i <= to; i++) {
            clock.advance(Duration.ofSeconds(1));
            log.forceCommitDecision(decision(i));
            log.writeEnd(gtrid(i));
            ended.put(gtrid(i), clock.millis());
        }
        return ended;
    }

    /** Fills segments with records that leave nothing live (a heuristic and its forget), no new commits. */
    private static void churn(FileTransactionLog log, int pairs) throws Exception {
        for (int i = 0; i < pairs; i++) {
            log.forceHeuristic(heuristic(900_000 + i, HeuristicOutcome.HAZARD));
            log.writeForget(gtrid(900_000 + i), "orders-db", 1);
        }
    }

    private void assertBounded() {
        int files = FileLogFixture.segmentFiles(directory).size();
        assertTrue(files <= MAX_SEGMENTS + 2, files + " segment files");
    }

    @Test
    void commitsInsideTheRetentionOutliveTheSegmentsOfTheirEndsAndACrash() throws Exception {
        FileLogConfig config = config(directory).maxRecentCommits(100).build();
        Map<Gtrid, Long> ended;
        Path first;
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            first = FileLogFixture.segmentFiles(directory).get(0);
            ended = commitEverySecond(log, 1, 30);
            churn(log, 300);
            assertFalse(Files.exists(first), "the segments holding the ENDs were released");
            assertBounded();
            assertEquals(ended, log.recentCommits().endedAtMillis());
            Path crashed = FileLogFixture.copyLog(directory, copies.resolve("crashed"));
            try (FileTransactionLog copy = FileTransactionLog.open(config(crashed).maxRecentCommits(100).build())) {
                assertEquals(ended, copy.recentCommits().endedAtMillis(), "a killed process leaves them readable");
            }
        }
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            assertEquals(ended, log.recentCommits().endedAtMillis());
            assertTrue(log.replayReport().clean());
        }
    }

    @Test
    void agedOutCommitsStayForgottenWhenTheLogIsReopenedWithALongerRetention() throws Exception {
        long lastEnd;
        Path first;
        try (FileTransactionLog log = FileTransactionLog.open(config(directory)
                .commitRetention(Duration.ofMinutes(1)).build())) {
            first = FileLogFixture.segmentFiles(directory).get(0);
            commitEverySecond(log, 1, 30);
            lastEnd = clock.millis();
            clock.advance(Duration.ofMinutes(2));
            churn(log, 300);
            assertFalse(Files.exists(first), "aged-out ENDs let their segments go");
            assertBounded();
            assertEquals(0, log.recentCommits().size());
        }
        try (FileTransactionLog log = FileTransactionLog.open(config(directory)
                .commitRetention(Duration.ofMinutes(10)).build())) {
            RecentCommits recent = log.recentCommits();
            assertEquals(0, recent.size());
            assertTrue(recent.horizonMillis() >= lastEnd,
                    "the horizon record covers what the shorter retention dropped: " + recent.horizonMillis());
        }
    }

    @Test
    void commitsDroppedByTheCapStayCoveredByTheHorizonOnceTheirEndsAreGone() throws Exception {
        FileLogConfig config = config(directory).maxRecentCommits(5).build();
        Map<Gtrid, Long> ended;
        Path first;
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            first = FileLogFixture.segmentFiles(directory).get(0);
            ended = commitEverySecond(log, 1, 20);
            churn(log, 300);
            assertFalse(Files.exists(first));
        }
        Map<Gtrid, Long> lastFive = new LinkedHashMap<>();
        for (int i = 16; i <= 20; i++) {
            lastFive.put(gtrid(i), ended.get(gtrid(i)));
        }
        try (FileTransactionLog log = FileTransactionLog.open(config)) {
            assertEquals(lastFive, log.recentCommits().endedAtMillis());
            assertEquals(ended.get(gtrid(15)), log.recentCommits().horizonMillis());
        }
    }

    @Test
    void endThatLetsASegmentGoIsDurableBeforeTheSegmentIsDeleted() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        try (FileTransactionLog log = FileTransactionLog.open(config(directory).commitRetention(Duration.ZERO)
                .channelOpener(disk).build())) {
            Path first = FileLogFixture.segmentFiles(directory).get(0);
            log.forceCommitDecision(decision(1_000));
            for (int i = 0; log.segmentCount() < 2; i++) {
                clock.advance(Duration.ofMillis(1));
                log.forceCommitDecision(decision(i));
                log.writeEnd(gtrid(i));
            }
            assertTrue(Files.exists(first), "held by the decision without END");
            clock.advance(Duration.ofMillis(1));
            log.writeEnd(gtrid(1_000));
            assertFalse(Files.exists(first), "released by that END");
            assertTrue(disk.durablyHolds(new LogRecord.End(gtrid(1_000), clock.millis())),
                    "the END was forced before the decision it finishes was deleted");
        }
    }

    @Test
    void logOfFormatVersionOneIsReadAndContinuedInAVersionTwoSegment() throws Exception {
        Files.createDirectories(directory);
        byte[] segment = new byte[SEGMENT];
        ByteBuffer buf = ByteBuffer.wrap(segment);
        buf.putLong(SegmentFiles.MAGIC).putInt(1).putLong(1).putLong(T0 - 60_000);
        buf.putInt(LogRecordCodec.crcOf(segment, 0, 28));
        for (LogRecord r : List.of(new LogRecord.Decision(0, decision(1)), new LogRecord.Decision(1, decision(2)),
                new LogRecord.End(gtrid(1), LogRecord.End.UNKNOWN_TIME))) {
            buf.put(LogRecordCodec.encode(r));
        }
        Path old = directory.resolve("segment-00000000000000000001.seg");
        Files.write(old, segment);

        try (FileTransactionLog log = FileTransactionLog.open(config(directory).build())) {
            assertTrue(log.replayReport().clean());
            assertEquals(List.of(decision(2)), log.unfinishedDecisions());
            RecentCommits recent = log.recentCommits();
            assertFalse(recent.contains(gtrid(1)), "a version-1 END has no time to be listed with");
            assertTrue(recent.horizonMillis() >= T0, "it ended before the open, which the horizon covers");
            List<Path> files = FileLogFixture.segmentFiles(directory);
            assertEquals(2, files.size(), "new records go into a new segment");
            assertEquals(LogRecordCodec.FORMAT_VERSION, ByteBuffer.wrap(Files.readAllBytes(files.get(1))).getInt(8));
            assertArrayEquals(segment, Files.readAllBytes(old), "the old segment is not written to");

            clock.advance(Duration.ofSeconds(1));
            log.writeEnd(gtrid(2));
            assertFalse(Files.exists(old), "nothing live is left in the version-1 segment");
        }
        try (FileTransactionLog log = FileTransactionLog.open(config(directory).build())) {
            assertTrue(log.replayReport().clean());
            assertEquals(List.of(), log.unfinishedDecisions());
            RecentCommits recent = log.recentCommits();
            assertEquals(Map.of(gtrid(2), T0 + 1_000), recent.endedAtMillis());
            assertTrue(recent.horizonMillis() >= T0, "the horizon outlives the version-1 segment");
        }
    }
}
