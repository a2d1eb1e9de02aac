package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static dev.concord.recovery.log.LogTestData.heuristic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.HeuristicRecord;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Segments fill up, are replaced, and are released; disk use stays bounded and live records are never lost. */
class SegmentRotationTest {
    private static final int SEGMENT = 4096;
    private static final int MAX_SEGMENTS = 3;
    /**
     * Remembered commits kept small enough (16 x 45 bytes) that the live set stays under half a segment, the
     * condition of the disk bound; the default cap would hold every END of these tests.
     */
    private static final int RECENT_COMMITS = 16;
    /** The bound stated in {@link FileTransactionLog}: maxSegments + 2 files. */
    private static final int MAX_FILES = MAX_SEGMENTS + 2;

    @TempDir
    Path directory;

    /** Where copies of the log, as a killed process leaves it, go; a fresh directory per test. */
    @TempDir
    Path copies;

    private FileLogConfig config() {
        return config(true);
    }

    private FileLogConfig config(boolean direct) {
        return FileLogConfig.builder(directory).segmentSize(SEGMENT).maxSegments(MAX_SEGMENTS)
                .maxRecentCommits(RECENT_COMMITS).directWrites(direct).unforcedLinger(Duration.ofSeconds(10)).build();
    }

    private void assertBounded(FileTransactionLog log) {
        int files = FileLogFixture.segmentFiles(directory).size();
        assertTrue(files <= MAX_FILES, files + " segment files, bound " + MAX_FILES);
        assertTrue(log.segmentCount() <= MAX_SEGMENTS + 1, log.segmentCount() + " segments with data");
    }

    private static long highestSegmentNumber(Path directory) {
        List<Path> files = FileLogFixture.segmentFiles(directory);
        String name = files.get(files.size() - 1).getFileName().toString();
        return Long.parseLong(name.substring("segment-".length(), name.length() - ".seg".length()));
    }

    @Test
    void steadyCommitAndEndLoadKeepsTheNumberOfSegmentFilesBounded() throws Exception {
        try (FileTransactionLog log = FileTransactionLog.open(config())) {
            for (int i = 0; i < 1500; i++) {
                log.forceCommitDecision(decision(i));
                log.writeEnd(gtrid(i));
                assertBounded(log);
            }
            assertTrue(highestSegmentNumber(directory) > 30, "the load went through many segments");
            assertEquals(List.of(), log.unfinishedDecisions());
        }
        try (FileTransactionLog log = FileTransactionLog.open(config())) {
            assertEquals(List.of(), log.unfinishedDecisions());
            assertTrue(log.replayReport().clean());
        }
    }

    /**
     * Direct writes (true) keep the last END in memory until the next round, so a killed process leaves that one
     * decision unfinished as well; through the page cache (false) it is already in the file.
     */
    @ParameterizedTest(name = "direct writes {0}")
    @ValueSource(booleans = {true, false})
    void liveRecordsAreCarriedForwardInOrderAndSurviveRestarts(boolean direct) throws Exception {
        List<CommitDecision> live = new ArrayList<>();
        HeuristicRecord h = heuristic(7, HeuristicOutcome.MIXED);
        Path firstSegment;
        try (FileTransactionLog log = FileTransactionLog.open(config(direct))) {
            firstSegment = FileLogFixture.segmentFiles(directory).get(0);
            log.forceHeuristic(h);
            for (int i = 0; i < 1500; i++) {
                if (i % 300 == 0) {
                    CommitDecision longLived = decision(100_000 + i);
                    log.forceCommitDecision(longLived);
                    live.add(longLived);
                }
                log.forceCommitDecision(decision(i));
                log.writeEnd(gtrid(i));
                if (i == 1000) {
                    // A decision that was carried forward, then ended: the END must win after a restart.
                    log.writeEnd(gtrid(100_300));
                    live.remove(decision(100_300));
                }
                if (i == 1200) {
                    Path crashed = FileLogFixture.copyLog(directory, copies.resolve("crashed"));
                    try (FileTransactionLog copy = FileTransactionLog.open(FileLogConfig.builder(crashed)
                            .segmentSize(SEGMENT).build())) {
                        List<CommitDecision> expected = new ArrayList<>(live);
                        if (direct) {
                            expected.add(decision(1200)); // its END waits for the next round
                        }
                        assertEquals(expected, copy.unfinishedDecisions(), "a killed process leaves them readable");
                        assertEquals(List.of(h), copy.heuristics());
                    }
                }
                assertBounded(log);
            }
            assertEquals(live, log.unfinishedDecisions());
        }
        assertFalse(Files.exists(firstSegment), "the first segment went once its live records were carried");
        try (FileTransactionLog log = FileTransactionLog.open(config())) {
            assertEquals(live, log.unfinishedDecisions());
            assertEquals(List.of(h), log.heuristics());
            assertTrue(log.replayReport().clean());
        }
    }

    @Test
    void liveRecordsThatFillManySegmentsAreKeptRatherThanDropped() throws Exception {
        List<CommitDecision> live = new ArrayList<>();
        try (FileTransactionLog log = FileTransactionLog.open(config())) {
            for (int i = 0; i < 120; i++) {
                live.add(decision(50_000 + i));
                log.forceCommitDecision(decision(50_000 + i));
            }
            for (int i = 0; i < 300; i++) {
                log.forceCommitDecision(decision(i));
                log.writeEnd(gtrid(i));
            }
            assertTrue(log.segmentCount() > MAX_SEGMENTS, "more live data than the bound holds");
            assertEquals(live, log.unfinishedDecisions());
        }
        try (FileTransactionLog log = FileTransactionLog.open(config())) {
            assertEquals(live, log.unfinishedDecisions());
            for (int i = 50_000; i < 50_120; i++) {
                log.writeEnd(gtrid(i));
            }
            for (int i = 300; i < 600; i++) {
                log.forceCommitDecision(decision(i));
                log.writeEnd(gtrid(i));
            }
            assertBounded(log);
        }
    }
}
