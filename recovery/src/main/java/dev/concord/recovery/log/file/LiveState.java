package dev.concord.recovery.log.file;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.xid.Gtrid;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the log holds that still matters: commit decisions without END and heuristics not forgotten, each with its
 * serial (reading order) and the segment that holds its newest copy. Replay and the running log both update it;
 * it is not thread-safe (the log guards it with its lock).
 */
final class LiveState {
    /** An unfinished decision. */
    static final class LiveDecision {
        final long serial;
        final CommitDecision decision;
        final int bytes;
        long segment;

        LiveDecision(long serial, CommitDecision decision, int bytes, long segment) {
            this.serial = serial;
            this.decision = decision;
            this.bytes = bytes;
            this.segment = segment;
        }
    }

    /** A heuristic no operator has forgotten yet. */
    static final class LiveHeuristic {
        final long serial;
        final HeuristicRecord heuristic;
        final int bytes;
        long segment;

        LiveHeuristic(long serial, HeuristicRecord heuristic, int bytes, long segment) {
            this.serial = serial;
            this.heuristic = heuristic;
            this.bytes = bytes;
            this.segment = segment;
        }
    }

    private final Map<Gtrid, LiveDecision> decisions = new HashMap<>();
    private final TreeMap<Long, LiveHeuristic> heuristics = new TreeMap<>();
    private long nextSerial;

    /** Applies a record of {@code bytes} frame bytes read back from a segment, in log order. */
    void replay(LogRecord record, int bytes, long segment) {
        if (record instanceof LogRecord.Decision d) {
            // A copy carried forward replaces the original (same serial) and moves it to the newer segment.
            decisions.put(d.decision().gtrid(), new LiveDecision(d.serial(), d.decision(), bytes, segment));
            nextSerial = Math.max(nextSerial, d.serial() + 1);
        } else if (record instanceof LogRecord.End e) {
            decisions.remove(e.gtrid());
        } else if (record instanceof LogRecord.Heuristic h) {
            heuristics.put(h.serial(), new LiveHeuristic(h.serial(), h.heuristic(), bytes, segment));
            nextSerial = Math.max(nextSerial, h.serial() + 1);
        } else if (record instanceof LogRecord.Forget f) {
            forget(f.gtrid(), f.resourceName(), f.branch());
        }
    }

    /**
     * The serial for a new decision: deciding a transaction that already has an unfinished decision keeps its
     * place in the order, as re-putting a key into an insertion-ordered map does.
     */
    long serialForDecision(Gtrid gtrid) {
        LiveDecision existing = decisions.get(gtrid);
        return existing != null ? existing.serial : nextSerial++;
    }

    long serialForHeuristic() {
        return nextSerial++;
    }

    void putDecision(long serial, CommitDecision decision, int bytes, long segment) {
        decisions.put(decision.gtrid(), new LiveDecision(serial, decision, bytes, segment));
    }

    void putHeuristic(long serial, HeuristicRecord heuristic, int bytes, long segment) {
        heuristics.put(serial, new LiveHeuristic(serial, heuristic, bytes, segment));
    }

    void end(Gtrid gtrid) {
        decisions.remove(gtrid);
    }

    void forget(Gtrid gtrid, String resourceName, int branch) {
        heuristics.values().removeIf(h -> h.heuristic.isFor(gtrid, resourceName, branch));
    }

    /**
     * Records that a copy of a live entry is now durable in a newer segment. Does nothing when the entry ended or
     * was forgotten (or replaced) after the copy was queued: the newer record already says so.
     */
    void relocate(Object entry, long segment) {
        if (entry instanceof LiveDecision d && decisions.get(d.decision.gtrid()) == d) {
            d.segment = segment;
        } else if (entry instanceof LiveHeuristic h && heuristics.get(h.serial) == h) {
            h.segment = segment;
        }
    }

    /** The oldest segment that holds the newest copy of a live entry, or {@link Long#MAX_VALUE} when none does. */
    long oldestLiveSegment() {
        long oldest = Long.MAX_VALUE;
        for (LiveDecision d : decisions.values()) {
            oldest = Math.min(oldest, d.segment);
        }
        for (LiveHeuristic h : heuristics.values()) {
            oldest = Math.min(oldest, h.segment);
        }
        return oldest;
    }

    /** Frame bytes of the live entries whose newest copy is in the given segment (or older). */
    long liveBytesUpTo(long segment) {
        long bytes = 0;
        for (LiveDecision d : decisions.values()) {
            bytes += d.segment <= segment ? d.bytes : 0;
        }
        for (LiveHeuristic h : heuristics.values()) {
            bytes += h.segment <= segment ? h.bytes : 0;
        }
        return bytes;
    }

    /** The live entries whose newest copy is in the given segment (or older), in serial order. */
    List<Object> entriesUpTo(long segment) {
        List<Object> entries = new ArrayList<>();
        for (LiveDecision d : sortedDecisions()) {
            if (d.segment <= segment) {
                entries.add(d);
            }
        }
        for (LiveHeuristic h : heuristics.values()) {
            if (h.segment <= segment) {
                entries.add(h);
            }
        }
        return entries;
    }

    static LogRecord recordOf(Object entry) {
        if (entry instanceof LiveDecision d) {
            return new LogRecord.Decision(d.serial, d.decision);
        }
        LiveHeuristic h = (LiveHeuristic) entry;
        return new LogRecord.Heuristic(h.serial, h.heuristic);
    }

    List<CommitDecision> decisionsOldestFirst() {
        return sortedDecisions().stream().map(d -> d.decision).toList();
    }

    List<HeuristicRecord> heuristicsOldestFirst() {
        return heuristics.values().stream().map(h -> h.heuristic).toList();
    }

    int size() {
        return decisions.size() + heuristics.size();
    }

    private List<LiveDecision> sortedDecisions() {
        List<LiveDecision> sorted = new ArrayList<>(decisions.values());
        sorted.sort(Comparator.comparingLong(d -> d.serial));
        return sorted;
    }
}
