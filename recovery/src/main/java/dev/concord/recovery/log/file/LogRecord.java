package dev.concord.recovery.log.file;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.xid.Gtrid;
import java.util.Objects;

/**
 * One record of the file log, as an immutable value. {@link LogRecordCodec} turns it into bytes and back.
 *
 * <p>Decisions and heuristics carry a {@code serial}: their place in the reading order. The log re-writes live
 * records into a newer segment before it drops an old one, and the copy keeps the serial, so replay can still
 * report "oldest first" although the copy sits behind younger records in the file.
 */
public sealed interface LogRecord permits LogRecord.Decision, LogRecord.End, LogRecord.Heuristic, LogRecord.Forget,
        LogRecord.RecentCommit, LogRecord.CommitHorizon {

    /** The forced commit decision of one transaction. */
    record Decision(long serial, CommitDecision decision) implements LogRecord {
        /** Checks the parts. */
        public Decision {
            requireSerial(serial);
            Objects.requireNonNull(decision, "decision");
        }
    }

    /**
     * Every branch of the transaction acknowledged phase 2: its decision is finished, and the transaction is a
     * recent commit until {@code endedAtMillis} leaves the commit retention window. END records of format version
     * 1 carry no time; they are read with {@link #UNKNOWN_TIME}.
     */
    record End(Gtrid gtrid, long endedAtMillis) implements LogRecord {
        /** The time of an END record written in format version 1, which did not record it. */
        public static final long UNKNOWN_TIME = Long.MIN_VALUE;

        /** Checks the parts. */
        public End {
            Objects.requireNonNull(gtrid, "gtrid");
        }

        /** True for an END read from format version 1. */
        public boolean timeUnknown() {
            return endedAtMillis == UNKNOWN_TIME;
        }
    }

    /** A heuristic outcome of one branch, kept until an operator forgets it. */
    record Heuristic(long serial, HeuristicRecord heuristic) implements LogRecord {
        /** Checks the parts. */
        public Heuristic {
            requireSerial(serial);
            Objects.requireNonNull(heuristic, "heuristic");
        }
    }

    /** An operator forgot the heuristic outcomes of one branch. */
    record Forget(Gtrid gtrid, String resourceName, int branch) implements LogRecord {
        /** Checks the parts. */
        public Forget {
            Objects.requireNonNull(gtrid, "gtrid");
            Objects.requireNonNull(resourceName, "resourceName");
        }
    }

    /**
     * The carried-forward copy of an END that is still inside the commit retention window: it keeps the commit
     * listed once the segment holding the END is released. Unlike an END it finishes no decision, so a copy
     * written behind a later decision of the same transaction cannot end that decision.
     */
    record RecentCommit(Gtrid gtrid, long endedAtMillis) implements LogRecord {
        /** Checks the parts. */
        public RecentCommit {
            Objects.requireNonNull(gtrid, "gtrid");
            if (endedAtMillis == End.UNKNOWN_TIME) {
                throw new IllegalArgumentException("a recent commit needs its END time");
            }
        }
    }

    /**
     * Every ended decision the log has forgotten (aged out of the retention window, or dropped by the cap on
     * remembered commits) ended at or before {@code horizonMillis}. Written before any segment holding a forgotten
     * END can be released, and carried forward, so that a reopened log, even one with a longer retention, never
     * claims to list a commit it forgot.
     */
    record CommitHorizon(long horizonMillis) implements LogRecord {
    }

    private static void requireSerial(long serial) {
        if (serial < 0) {
            throw new IllegalArgumentException("serial must be >= 0, got " + serial);
        }
    }
}
