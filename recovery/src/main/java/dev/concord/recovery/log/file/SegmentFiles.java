package dev.concord.recovery.log.file;

import dev.concord.recovery.log.LogException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names, creates, reads and deletes the segment files of one log directory.
 *
 * <p>Segment header ({@value #HEADER_BYTES} bytes, big-endian): magic {@code "CONCORDL"}, format version (int),
 * segment number (long), creation time in epoch milliseconds (long), CRC32C of the preceding 28 bytes (int).
 *
 * <p>A new segment is written in full (header, then zeros up to its size) under a temporary name, forced, renamed
 * and the directory forced. Writing the zeros allocates every block once, so later appends do not change the file
 * size and {@code force(false)} need not sync metadata; the rename makes a half-created segment impossible to
 * mistake for a real one.
 */
final class SegmentFiles {
    static final int HEADER_BYTES = 32;
    static final long MAGIC = 0x434F4E434F52444CL; // "CONCORDL"
    private static final String PREFIX = "segment-";
    private static final String SUFFIX = ".seg";
    private static final String TEMP_SUFFIX = ".tmp";
    private static final Pattern NAME = Pattern.compile("segment-(\\d{20})\\.seg");
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();
    private static final boolean WINDOWS = System.getProperty("os.name", "").startsWith("Windows");

    private final Path directory;
    private final ChannelOpener opener;
    private final Clock clock;

    SegmentFiles(FileLogConfig config) {
        this.directory = config.directory();
        this.opener = config.channelOpener();
        this.clock = config.clock();
    }

    Path pathOf(long number) {
        return directory.resolve(PREFIX + String.format("%020d", number) + SUFFIX);
    }

    /** The numbers of the segment files in the directory, ascending. */
    List<Long> list() throws IOException {
        List<Long> numbers = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, PREFIX + "*" + SUFFIX)) {
            for (Path p : files) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    numbers.add(Long.parseLong(m.group(1)));
                }
            }
        }
        Collections.sort(numbers);
        return numbers;
    }

    /** Deletes segments whose creation was interrupted: they were never renamed, so they never held records. */
    void deleteUnfinishedCreations() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, PREFIX + "*" + SUFFIX + TEMP_SUFFIX)) {
            for (Path p : files) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Creates and pre-allocates a segment and opens it for writing after its header. */
    Segment create(long number, int size) throws IOException {
        Path path = pathOf(number);
        Path temp = path.resolveSibling(path.getFileName() + TEMP_SUFFIX);
        try (FileChannel channel = opener.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            writeFully(channel, ByteBuffer.wrap(header(number, clock.millis())), 0);
            long position = HEADER_BYTES;
            while (position < size) {
                ByteBuffer zeros = ZEROS.duplicate();
                zeros.limit((int) Math.min(zeros.capacity(), size - position));
                position = writeFully(channel, zeros, position);
            }
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
        return new Segment(number, path, size, openForWriting(path), HEADER_BYTES);
    }

    FileChannel openForWriting(Path path) throws IOException {
        return opener.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Reads a whole segment file. */
    byte[] readAll(Path path) throws IOException {
        try (FileChannel channel = opener.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > FileLogConfig.MAX_SEGMENT_SIZE) {
                throw new IOException(path + " has " + size + " bytes, more than any segment this log writes");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining() && channel.read(buf, buf.position()) >= 0) {
                // keep reading: a positional read may return fewer bytes than asked for
            }
            return buf.array();
        }
    }

    /**
     * Deletes a segment and forces the directory. Forcing after each deletion keeps the deleted segments a prefix
     * even across a crash; a gap in the numbering could otherwise bring back a decision whose END was dropped.
     */
    void delete(Segment segment) throws IOException {
        Files.deleteIfExists(segment.path);
        syncDirectory();
    }

    /** Forces the directory so that creations, renames and deletions survive a crash. */
    void syncDirectory() throws IOException {
        if (WINDOWS) {
            return; // Windows cannot open a directory as a channel; NTFS journals the metadata itself.
        }
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    static byte[] header(long number, long createdAtMillis) {
        ByteBuffer buf = ByteBuffer.allocate(HEADER_BYTES);
        buf.putLong(MAGIC).putInt(LogRecordCodec.FORMAT_VERSION).putLong(number).putLong(createdAtMillis);
        buf.putInt(LogRecordCodec.crcOf(buf.array(), 0, HEADER_BYTES - 4));
        return buf.array();
    }

    /**
     * What is wrong with a segment's header, or {@code null} when it is a valid header of that segment.
     *
     * @throws LogException when the header is intact but from a format version this build cannot read: that is
     *                      not damage, and no override may discard it
     */
    static String headerProblem(Path path, byte[] bytes, long expectedNumber) throws LogException {
        if (bytes.length < HEADER_BYTES) {
            return "file is shorter than a segment header";
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        if (buf.getInt(HEADER_BYTES - 4) != LogRecordCodec.crcOf(bytes, 0, HEADER_BYTES - 4)) {
            return "segment header checksum mismatch";
        }
        if (buf.getLong(0) != MAGIC) {
            return "not a Concord log segment";
        }
        int version = buf.getInt(8);
        if (version < LogRecordCodec.OLDEST_READABLE_VERSION || version > LogRecordCodec.FORMAT_VERSION) {
            throw new LogException(path + " is in log format version " + version + "; this build reads versions "
                    + LogRecordCodec.OLDEST_READABLE_VERSION + " to " + LogRecordCodec.FORMAT_VERSION + " only");
        }
        long number = buf.getLong(12);
        if (number != expectedNumber) {
            return "header says segment " + number + " but the file name says " + expectedNumber;
        }
        return null;
    }

    /** The format version in a header that {@link #headerProblem} accepted. */
    static int versionOf(byte[] header) {
        return ByteBuffer.wrap(header).getInt(8);
    }

    static long writeFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            position += channel.write(buf, position);
        }
        return position;
    }
}
