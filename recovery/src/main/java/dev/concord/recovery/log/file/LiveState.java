package dev.concord.recovery.log.file;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.xid.Gtrid;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the log holds that still matters: commit decisions without END, heuristics not forgotten, decisions that
 * ended inside the commit retention window (recent commits) and the newest commit horizon, each with the segment
 * that holds its newest copy (decisions and heuristics also with their serial, the reading order). Replay and the
 * running log both update it; it is not thread-safe (the log guards it with its lock).
 *
 * <h2>Recent commits</h2>
 * An END adds its transaction, with the END's time, to the recent commits; they stay live, and are carried forward
 * compactly as {@link LogRecord.RecentCommit}, until their END is {@code commitRetention} old. At most
 * {@code maxRecentCommits} are kept: beyond that the one with the oldest END is dropped. Whatever leaves the recent
 * commits, by age or by the cap, raises the horizon target to its END time. The log writes the target as a
 * {@link LogRecord.CommitHorizon} record and releases no segment while the target is ahead of the horizon it has
 * written, so a forgotten END can only disappear from disk once a horizon that covers it is on disk.
 */
final class LiveState {
    /** The segment of a record that is queued but not yet written. */
    static final long NOT_WRITTEN = Long.MAX_VALUE;

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

    /** A decision that ended inside the retention window. */
    static final class LiveCommit {
        final Gtrid gtrid;
        final long endedAtMillis;
        /** Breaks ties between equal END times: arrival order. */
        final long order;
        /** Frame bytes of its carried-forward copy. */
        final int bytes;
        long segment;
        /** Neighbours in END order (see {@link LiveState#linkByEnd}). */
        LiveCommit older;
        LiveCommit newer;

        LiveCommit(Gtrid gtrid, long endedAtMillis, long order, long segment) {
            this.gtrid = gtrid;
            this.endedAtMillis = endedAtMillis;
            this.order = order;
            this.bytes = LogRecordCodec.recentCommitFrameBytes(gtrid);
            this.segment = segment;
        }
    }

    /** The newest commit horizon record in the log. */
    static final class LiveHorizon {
        final long millis;
        final int bytes;
        long segment;

        LiveHorizon(long millis, int bytes, long segment) {
            this.millis = millis;
            this.bytes = bytes;
            this.segment = segment;
        }
    }


    private final long retentionMillis;
    private final int maxCommits;
    private final long pruneIntervalMillis;

    private final Map<Gtrid, LiveDecision> decisions = new HashMap<>();
    private final TreeMap<Long, LiveHeuristic> heuristics = new TreeMap<>();
    private long nextSerial;

    private final Map<Gtrid, LiveCommit> commits = new HashMap<>();
    /**
     * The recent commits in END order (END time, then arrival), as a list linked through the entries: ENDs arrive
     * almost in time order, so an insertion walks back a step or two from the newest, with no allocation.
     */
    private LiveCommit oldestCommit;
    private LiveCommit newestCommit;
    /** Per segment: how many recent commits have their newest copy there, and their frame bytes. */
    private final TreeMap<Long, long[]> commitsPerSegment = new TreeMap<>();
    private long commitOrder;
    /** Every commit that left the recent commits ended at or before this time. */
    private long horizonTarget = Long.MIN_VALUE;
    /** The newest horizon record written; null when the log holds none. */
    private LiveHorizon horizon;
    private long lastPruneMillis = Long.MIN_VALUE;

    /**
     * Empty state.
     *
     * @param retentionMillis how long an END keeps its transaction among the recent commits
     * @param maxCommits      the most recent commits kept
     */
    LiveState(long retentionMillis, int maxCommits) {
        this.retentionMillis = retentionMillis;
        this.maxCommits = maxCommits;
        // Pruning raises the horizon, which costs a record; doing it in steps keeps that to a few per window.
        this.pruneIntervalMillis = retentionMillis / 16;
    }

    /**
     * Applies a record of {@code bytes} frame bytes read back from a segment, in log order. {@code nowMillis} is
     * the time of the open: a version-1 END, which has no time, ended before it.
     */
    void replay(LogRecord record, int bytes, long segment, long nowMillis) {
        if (record instanceof LogRecord.Decision d) {
            // A copy carried forward replaces the original (same serial) and moves it to the newer segment.
            decisions.put(d.decision().gtrid(), new LiveDecision(d.serial(), d.decision(), bytes, segment));
            nextSerial = Math.max(nextSerial, d.serial() + 1);
        } else if (record instanceof LogRecord.End e) {
            decisions.remove(e.gtrid());
            if (e.timeUnknown()) {
                forgotten(nowMillis); // a version-1 END: the commit cannot be listed, and ended before now
            } else {
                remember(e.gtrid(), e.endedAtMillis(), segment);
            }
        } else if (record instanceof LogRecord.Heuristic h) {
            heuristics.put(h.serial(), new LiveHeuristic(h.serial(), h.heuristic(), bytes, segment));
            nextSerial = Math.max(nextSerial, h.serial() + 1);
        } else if (record instanceof LogRecord.Forget f) {
            forget(f.gtrid(), f.resourceName(), f.branch());
        } else if (record instanceof LogRecord.RecentCommit r) {
            remember(r.gtrid(), r.endedAtMillis(), segment);
        } else if (record instanceof LogRecord.CommitHorizon h) {
            horizonWritten(h.horizonMillis(), bytes, segment);
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

    /** An END was queued: the decision is finished and the transaction a recent commit, not yet on disk. */
    void end(Gtrid gtrid, long endedAtMillis) {
        decisions.remove(gtrid);
        remember(gtrid, endedAtMillis, NOT_WRITTEN);
    }

    /** The END queued by {@link #end} was written into {@code segment}. */
    void endWritten(Gtrid gtrid, long endedAtMillis, long segment) {
        LiveCommit c = commits.get(gtrid);
        if (c != null && c.endedAtMillis == endedAtMillis && c.segment == NOT_WRITTEN) {
            moveCommit(c, segment);
        }
    }

    /** A horizon record was written into {@code segment} (or read back from it). */
    void horizonWritten(long millis, int bytes, long segment) {
        horizonTarget = Math.max(horizonTarget, millis);
        if (horizon == null || millis >= horizon.millis) {
            horizon = new LiveHorizon(millis, bytes, segment);
        }
    }

    void forget(Gtrid gtrid, String resourceName, int branch) {
        heuristics.values().removeIf(h -> h.heuristic.isFor(gtrid, resourceName, branch));
    }

    /**
     * Drops the recent commits whose END is at least the retention old, at most once per sixteenth of the
     * retention unless {@code always}.
     */
    void pruneCommits(long nowMillis, boolean always) {
        if (!always && lastPruneMillis != Long.MIN_VALUE && nowMillis >= lastPruneMillis
                && nowMillis - lastPruneMillis < pruneIntervalMillis) {
            return;
        }
        lastPruneMillis = nowMillis;
        long cutoff = nowMillis - retentionMillis;
        while (oldestCommit != null && oldestCommit.endedAtMillis <= cutoff) {
            drop(oldestCommit);
        }
    }

    /** Every commit that left the recent commits ended at or before this time. */
    long horizonTarget() {
        return horizonTarget;
    }

    /** The newest horizon written to the log, or {@link Long#MIN_VALUE}. */
    long horizonWritten() {
        return horizon == null ? Long.MIN_VALUE : horizon.millis;
    }

    /** The recent commits as the read port reports them at {@code nowMillis}. */
    RecentCommits recentCommits(long nowMillis) {
        long cutoff = nowMillis - retentionMillis;
        Map<Gtrid, Long> listed = new LinkedHashMap<>();
        for (LiveCommit c = oldestCommit; c != null; c = c.newer) {
            if (c.endedAtMillis > cutoff) {
                listed.put(c.gtrid, c.endedAtMillis);
            }
        }
        return new RecentCommits(listed, Math.max(horizonTarget, cutoff));
    }

    /**
     * Records that a copy of a live entry is now durable in a newer segment. Does nothing when the entry ended,
     * was forgotten, aged out or was replaced after the copy was queued: the newer state already says so.
     */
    void relocate(Object entry, long segment) {
        if (entry instanceof LiveDecision d && decisions.get(d.decision.gtrid()) == d) {
            d.segment = segment;
        } else if (entry instanceof LiveHeuristic h && heuristics.get(h.serial) == h) {
            h.segment = segment;
        } else if (entry instanceof LiveCommit c && commits.get(c.gtrid) == c) {
            moveCommit(c, segment);
        } else if (entry instanceof LiveHorizon h && horizon == h) {
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
        if (!commitsPerSegment.isEmpty()) {
            oldest = Math.min(oldest, commitsPerSegment.firstKey());
        }
        if (horizon != null) {
            oldest = Math.min(oldest, horizon.segment);
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
        for (long[] countAndBytes : commitsPerSegment.headMap(segment, true).values()) {
            bytes += countAndBytes[1];
        }
        if (horizon != null && horizon.segment <= segment) {
            bytes += horizon.bytes;
        }
        return bytes;
    }

    /** The live entries whose newest copy is in the given segment (or older): decisions and heuristics in serial
     *  order, then recent commits in END order, then the horizon. */
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
        if (!commitsPerSegment.headMap(segment, true).isEmpty()) {
            for (LiveCommit c = oldestCommit; c != null; c = c.newer) {
                if (c.segment <= segment) {
                    entries.add(c);
                }
            }
        }
        if (horizon != null && horizon.segment <= segment) {
            entries.add(horizon);
        }
        return entries;
    }

    static LogRecord recordOf(Object entry) {
        if (entry instanceof LiveDecision d) {
            return new LogRecord.Decision(d.serial, d.decision);
        }
        if (entry instanceof LiveCommit c) {
            return new LogRecord.RecentCommit(c.gtrid, c.endedAtMillis);
        }
        if (entry instanceof LiveHorizon h) {
            return new LogRecord.CommitHorizon(h.millis);
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
        return decisions.size() + heuristics.size() + commits.size() + (horizon == null ? 0 : 1);
    }

    /** Recent commits held, aged ones not yet pruned included. */
    int commitCount() {
        return commits.size();
    }

    private List<LiveDecision> sortedDecisions() {
        List<LiveDecision> sorted = new ArrayList<>(decisions.values());
        sorted.sort(Comparator.comparingLong(d -> d.serial));
        return sorted;
    }

    /** Makes the transaction a recent commit (replacing an older entry of it), then applies the cap. */
    private void remember(Gtrid gtrid, long endedAtMillis, long segment) {
        LiveCommit old = commits.get(gtrid);
        if (old != null) {
            unlink(old);
        }
        if (maxCommits == 0) {
            forgotten(endedAtMillis);
            return;
        }
        LiveCommit c = new LiveCommit(gtrid, endedAtMillis, commitOrder++, NOT_WRITTEN);
        commits.put(gtrid, c);
        linkByEnd(c);
        moveCommit(c, segment);
        while (commits.size() > maxCommits) {
            drop(oldestCommit);
        }
    }

    private void drop(LiveCommit c) {
        unlink(c);
        forgotten(c.endedAtMillis);
    }

    private void forgotten(long endedAtMillis) {
        horizonTarget = Math.max(horizonTarget, endedAtMillis);
    }

    private void unlink(LiveCommit c) {
        commits.remove(c.gtrid);
        unlinkByEnd(c);
        count(c, -1);
    }

    /** Inserts a new entry at its place in END order, searching from the newest end. */
    private void linkByEnd(LiveCommit c) {
        LiveCommit before = newestCommit;
        while (before != null && (before.endedAtMillis > c.endedAtMillis
                || (before.endedAtMillis == c.endedAtMillis && before.order > c.order))) {
            before = before.older;
        }
        c.older = before;
        c.newer = before == null ? oldestCommit : before.newer;
        if (c.older == null) {
            oldestCommit = c;
        } else {
            c.older.newer = c;
        }
        if (c.newer == null) {
            newestCommit = c;
        } else {
            c.newer.older = c;
        }
    }

    private void unlinkByEnd(LiveCommit c) {
        if (c.older == null) {
            oldestCommit = c.newer;
        } else {
            c.older.newer = c.newer;
        }
        if (c.newer == null) {
            newestCommit = c.older;
        } else {
            c.newer.older = c.older;
        }
        c.older = null;
        c.newer = null;
    }

    private void moveCommit(LiveCommit c, long segment) {
        count(c, -1);
        c.segment = segment;
        count(c, +1);
    }

    private void count(LiveCommit c, int sign) {
        if (c.segment == NOT_WRITTEN) {
            return;
        }
        long[] countAndBytes = commitsPerSegment.computeIfAbsent(c.segment, s -> new long[2]);
        countAndBytes[0] += sign;
        countAndBytes[1] += sign * (long) c.bytes;
        if (countAndBytes[0] == 0) {
            commitsPerSegment.remove(c.segment);
        }
    }
}
