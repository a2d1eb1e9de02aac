package dev.concord.recovery.log.file;

import dev.concord.recovery.log.CommitDecision;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Helpers for tests that look at and damage segment files. */
final class FileLogFixture {
    private FileLogFixture() {
    }

    /** The segment files in a directory, oldest first. */
    static List<Path> segmentFiles(Path directory) {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the log files (not the lock) into a new directory: what a crashed process leaves behind. */
    static Path copyLog(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : files.toList()) {
                if (!p.getFileName().toString().equals(DirectoryLock.FILE_NAME)) {
                    try {
                        Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    } catch (NoSuchFileException e) {
                        // A segment being pre-allocated was renamed meanwhile: empty, as a crash may leave it out.
                    }
                }
            }
        }
        return to;
    }

    /** The frame length of a decision written with the given serial. */
    static int frameLength(long serial, CommitDecision decision) {
        return LogRecordCodec.encode(new LogRecord.Decision(serial, decision)).length;
    }

    /**
     * The offsets of the records in a segment, read with the codec, plus one more entry: where the data ends.
     */
    static List<Integer> recordOffsets(Path segment) throws IOException {
        byte[] bytes = Files.readAllBytes(segment);
        List<Integer> offsets = new ArrayList<>();
        int offset = SegmentFiles.HEADER_BYTES;
        while (true) {
            offsets.add(offset);
            LogRecordCodec.FrameRead read = LogRecordCodec.read(bytes, offset, bytes.length);
            if (read.record() == null) {
                return offsets;
            }
            offset += read.frameLength();
        }
    }

    /** Flips one bit of a file. */
    static void flipBit(Path file, long offset, int bit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) offset] ^= (byte) (1 << bit);
        Files.write(file, bytes);
    }
}
