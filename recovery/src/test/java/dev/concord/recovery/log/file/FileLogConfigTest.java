package dev.concord.recovery.log.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
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
                .discardCorruptRecords(true).clock(clock).channelOpener(opener).build();
        FileLogConfig copy = config.toBuilder().build();
        assertEquals(8192, copy.segmentSize());
        assertEquals(7, copy.maxSegments());
        assertTrue(copy.discardCorruptRecords());
        assertEquals(clock, copy.clock());
        assertEquals(opener, copy.channelOpener());
    }
}
