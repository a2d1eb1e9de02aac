package dev.concord.recovery.log;

import dev.concord.recovery.xid.Gtrid;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A transaction log kept in memory: nothing survives the process. For engine tests and for running without a
 * data directory; it passes the same contract tests as the file log.
 *
 * <p>Ended decisions are remembered for {@code commitRetention} after their END, at most {@code maxRecentCommits}
 * of them (the oldest is dropped first, raising the horizon of {@link #recentCommits()} to its END time). Memory:
 * the unfinished decisions and heuristics, plus at most {@code maxRecentCommits} remembered commits of roughly 250
 * bytes each (about 25 MB at the default cap).
 */
public final class InMemoryTransactionLog implements TransactionLog {
    private final Map<Gtrid, CommitDecision> unfinished = new LinkedHashMap<>();
    private final List<HeuristicRecord> heuristics = new ArrayList<>();
    /** Ended decisions and the time of their END, in END order. */
    private final LinkedHashMap<Gtrid, Long> recent = new LinkedHashMap<>();
    private final long retentionMillis;
    private final int maxRecentCommits;
    private final Clock clock;
    /** Every commit dropped from {@link #recent} ended at or before this time. */
    private long forgottenUpTo = Long.MIN_VALUE;
    private boolean closed;

    /**
     * A log with the default commit retention ({@link RecentCommits#DEFAULT_COMMIT_RETENTION}) and cap
     * ({@link RecentCommits#DEFAULT_MAX_RECENT_COMMITS}), on the UTC system clock.
     */
    public InMemoryTransactionLog() {
        this(RecentCommits.DEFAULT_COMMIT_RETENTION, RecentCommits.DEFAULT_MAX_RECENT_COMMITS, Clock.systemUTC());
    }

    /**
     * A log with the given commit retention and cap.
     *
     * @param commitRetention  how long an ended decision stays listed among {@link #recentCommits()}; 0 keeps none
     * @param maxRecentCommits how many ended decisions are remembered at most
     * @param clock            stamps END records
     * @throws IllegalArgumentException if a setting is out of range (see {@link RecentCommits#checkRetention} and
     *                                  {@link RecentCommits#checkMaxRecentCommits})
     */
    public InMemoryTransactionLog(Duration commitRetention, int maxRecentCommits, Clock clock) {
        this.retentionMillis = RecentCommits.checkRetention(commitRetention);
        this.maxRecentCommits = RecentCommits.checkMaxRecentCommits(maxRecentCommits);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public synchronized void forceCommitDecision(CommitDecision decision) throws LogException {
        checkOpen();
        unfinished.put(decision.gtrid(), decision);
    }

    @Override
    public synchronized void writeEnd(Gtrid gtrid) throws LogException {
        Objects.requireNonNull(gtrid, "gtrid");
        checkOpen();
        unfinished.remove(gtrid);
        long now = clock.millis();
        recent.remove(gtrid); // a repeated END moves the transaction to the young end
        recent.put(gtrid, now);
        prune(now);
        while (recent.size() > maxRecentCommits) {
            dropOldest();
        }
    }

    @Override
    public synchronized void forceHeuristic(HeuristicRecord heuristic) throws LogException {
        checkOpen();
        heuristics.add(heuristic);
    }

    @Override
    public synchronized void writeForget(Gtrid gtrid, String resourceName, int branch) throws LogException {
        checkOpen();
        heuristics.removeIf(h -> h.isFor(gtrid, resourceName, branch));
    }

    @Override
    public synchronized List<CommitDecision> unfinishedDecisions() {
        return List.copyOf(unfinished.values());
    }

    @Override
    public synchronized List<HeuristicRecord> heuristics() {
        return List.copyOf(heuristics);
    }

    @Override
    public synchronized RecentCommits recentCommits() {
        long now = clock.millis();
        prune(now);
        long cutoff = now - retentionMillis;
        Map<Gtrid, Long> listed = new LinkedHashMap<>();
        recent.forEach((gtrid, endedAt) -> {
            if (endedAt > cutoff) { // pruning stops at the first young entry; a clock set back can leave old ones
                listed.put(gtrid, endedAt);
            }
        });
        return new RecentCommits(listed, Math.max(forgottenUpTo, cutoff));
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    /** Drops the commits that ended at or before {@code now - retention}. */
    private void prune(long now) {
        long cutoff = now - retentionMillis;
        Iterator<Map.Entry<Gtrid, Long>> oldestFirst = recent.entrySet().iterator();
        while (oldestFirst.hasNext()) {
            Map.Entry<Gtrid, Long> e = oldestFirst.next();
            if (e.getValue() > cutoff) {
                return;
            }
            forgottenUpTo = Math.max(forgottenUpTo, e.getValue());
            oldestFirst.remove();
        }
    }

    private void dropOldest() {
        Iterator<Map.Entry<Gtrid, Long>> oldestFirst = recent.entrySet().iterator();
        forgottenUpTo = Math.max(forgottenUpTo, oldestFirst.next().getValue());
        oldestFirst.remove();
    }

    private void checkOpen() throws LogException {
        if (closed) {
            throw new LogException("transaction log is closed");
        }
    }
}
