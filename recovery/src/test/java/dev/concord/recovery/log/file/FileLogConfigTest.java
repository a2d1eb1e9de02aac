package dev.concord.recovery.log.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import dev.concord.recovery.log.RecentCommits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** Settings are validated when built and carried over unchanged by {@code toBuilder}. */
class FileLogConfigTest {
    private static final Path DIR = Path.of("log-dir");

    @Test
    void defaultsAreSixteenMebibyteSegmentsFourKeptAndNoOverride() {
        FileLogConfig config = FileLogConfig.builder(DIR).build();
        assertEquals(DIR, config.directory());
        assertEquals(16 << 20, config.segmentSize());
        assertEquals(4, config.maxSegments());
        assertFalse(config.discardCorruptRecords());
    }

    @Test
    void commitsAreRememberedTenMinutesUpToAHundredThousandByDefault() {
        FileLogConfig config = FileLogConfig.builder(DIR).build();
        assertEquals(Duration.ofMinutes(10), config.commitRetention());
        assertEquals(100_000, config.maxRecentCommits());
    }

    @Test
    void commitRetentionOutsideTheAcceptedRangeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileLogConfig.builder(DIR).commitRetention(Duration.ofMillis(-1)).build());
        assertTrue(e.getMessage().contains("commitRetention"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FileLogConfig.builder(DIR)
                .commitRetention(RecentCommits.MAX_COMMIT_RETENTION.plusMillis(1)).build());
        assertThrows(NullPointerException.class, () -> FileLogConfig.builder(DIR).commitRetention(null).build());
        assertEquals(Duration.ZERO, FileLogConfig.builder(DIR).commitRetention(Duration.ZERO).build()
                .commitRetention(), "zero keeps no commits and is allowed");
    }

    @Test
    void directWritesAreOnWithAFiveMillisecondLingerAndTheLingerIsBounded() {
        FileLogConfig config = FileLogConfig.builder(DIR).build();
        assertTrue(config.directWrites());
        assertEquals(Duration.ofMillis(5), config.unforcedLinger());
        FileLogConfig off = config.toBuilder().directWrites(false).unforcedLinger(Duration.ofSeconds(1)).build();
        assertFalse(off.toBuilder().build().directWrites(), "toBuilder carries it over");
        assertEquals(Duration.ofSeconds(1), off.toBuilder().build().unforcedLinger());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileLogConfig.builder(DIR).unforcedLinger(Duration.ZERO).build());
        assertTrue(e.getMessage().contains("unforcedLinger"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> FileLogConfig.builder(DIR).unforcedLinger(Duration.ofSeconds(11)).build());
        assertThrows(NullPointerException.class, () -> FileLogConfig.builder(DIR).unforcedLinger(null).build());
    }

    @Test
    void maxRecentCommitsOutsideTheAcceptedRangeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileLogConfig.builder(DIR).maxRecentCommits(-1).build());
        assertTrue(e.getMessage().contains("maxRecentCommits"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FileLogConfig.builder(DIR)
                .maxRecentCommits(RecentCommits.MAX_MAX_RECENT_COMMITS + 1).build());
    }

    @Test
    void segmentSizeOutsideTheAcceptedRangeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileLogConfig.builder(DIR).segmentSize(4095).build());
        assertTrue(e.getMessage().contains("segmentSize"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> FileLogConfig.builder(DIR).segmentSize(FileLogConfig.MAX_SEGMENT_SIZE + 1).build());
    }

    @Test
    void fewerThanTwoSegmentsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileLogConfig.builder(DIR).maxSegments(1).build());
        assertTrue(e.getMessage().contains("maxSegments"), e.getMessage());
    }

    @Test
    void missingDirectoryClockOrOpenerIsRefused() {
        assertThrows(NullPointerException.class, () -> FileLogConfig.builder(null).build());
        assertThrows(NullPointerException.class, () -> FileLogConfig.builder(DIR).clock(null).build());
        assertThrows(NullPointerException.class, () -> FileLogConfig.builder(DIR).channelOpener(null).build());
    }

    @Test
    void toBuilderKeepsEverySetting() {
        Clock clock = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
        ChannelOpener opener = new FaultyDisk();
        FileLogConfig config = FileLogConfig.builder(DIR).segmentSize(8192).maxSegments(7)
                .discardCorruptRecords(true).commitRetention(Duration.ofSeconds(90)).maxRecentCommits(12)
                .clock(clock).channelOpener(opener).build();
        FileLogConfig copy = config.toBuilder().build();
        assertEquals(8192, copy.segmentSize());
        assertEquals(7, copy.maxSegments());
        assertTrue(copy.discardCorruptRecords());
        assertEquals(Duration.ofSeconds(90), copy.commitRetention());
        assertEquals(12, copy.maxRecentCommits());
        assertEquals(clock, copy.clock());
        assertEquals(opener, copy.channelOpener());
    }
}
