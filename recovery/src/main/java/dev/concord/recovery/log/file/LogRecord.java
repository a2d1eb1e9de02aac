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
public sealed interface LogRecord permits LogRecord.Decision, LogRecord.End, LogRecord.Heuristic, LogRecord.Forget {

    /** The forced commit decision of one transaction. */
    record Decision(long serial, CommitDecision decision) implements LogRecord {
        /** Checks the parts. */
        public Decision {
            requireSerial(serial);
            Objects.requireNonNull(decision, "decision");
        }
    }

    /** Every branch of the transaction acknowledged phase 2; its decision is no longer needed. */
    record End(Gtrid gtrid) implements LogRecord {
        /** Checks the parts. */
        public End {
            Objects.requireNonNull(gtrid, "gtrid");
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

    private static void requireSerial(long serial) {
        if (serial < 0) {
            throw new IllegalArgumentException("serial must be >= 0, got " + serial);
        }
    }
}
