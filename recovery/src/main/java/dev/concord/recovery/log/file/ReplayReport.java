package dev.concord.recovery.log.file;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What opening a {@link FileTransactionLog} found: how much it read and every byte range it did not use. A clean
 * log discards nothing. Each discard is also logged with a stable message id (see {@link FileTransactionLog}).
 *
 * @param segments  segment files read
 * @param records   records applied
 * @param discarded the byte ranges that were not used, in log order
 */
public record ReplayReport(int segments, long records, List<Discard> discarded) {

    /** Copies the list. */
    public ReplayReport {
        discarded = List.copyOf(discarded);
    }

    /** True when open used every written byte. */
    public boolean clean() {
        return discarded.isEmpty();
    }

    /** Why a byte range was not used. */
    public enum Kind {
        /** An incomplete write at the end of the log, from a crash before it was forced; zeroed. */
        TORN_TAIL,
        /** Damage with valid records after it; discarded only because the operator override was on. */
        CORRUPTION,
        /** A segment file missing from the middle of the numbering; skipped only under the operator override. */
        MISSING_SEGMENT
    }

    /**
     * One byte range that open did not use.
     *
     * @param kind   why
     * @param file   the segment file
     * @param offset first byte of the range
     * @param length bytes in the range (0 for a missing segment)
     * @param detail what the range seemed to hold and what was wrong with it
     */
    public record Discard(Kind kind, Path file, long offset, long length, String detail) {
        /** Checks the parts. */
        public Discard {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(detail, "detail");
        }

        @Override
        public String toString() {
            return kind + " " + file + " bytes [" + offset + ", " + (offset + length) + "): " + detail;
        }
    }
}
