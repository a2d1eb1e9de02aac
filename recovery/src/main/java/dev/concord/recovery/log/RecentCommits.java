package dev.concord.recovery.log;

import dev.concord.recovery.xid.Gtrid;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a log remembers of finished commits: the transactions whose commit decision got an END record inside the
 * commit retention window, each with the time of its END, and a horizon.
 *
 * <p><b>The guarantee:</b> every decision whose END was written <em>after</em> {@link #horizonMillis()} (by the
 * log's clock) is listed. Decisions that ended at or before the horizon may be listed or not: they aged out of the
 * retention window, or were dropped because more than {@code maxRecentCommits} ended inside it. A decision that
 * has no END yet is never listed here; it is one of {@link LogReader#unfinishedDecisions()}.
 *
 * <p>An immutable snapshot. The map iterates in END order, oldest first.
 */
public final class RecentCommits {
    /** Default commit retention: 10 minutes, longer than RocketMQ's default check horizon. */
    public static final Duration DEFAULT_COMMIT_RETENTION = Duration.ofMinutes(10);
    /** Longest commit retention accepted. */
    public static final Duration MAX_COMMIT_RETENTION = Duration.ofDays(7);
    /**
     * Default cap on remembered commits. At most 72 bytes each on disk, so a full cap (7.2 MB) still fits in half
     * of a default 16 MiB segment, the condition of the file log's disk bound; about 166 logged commits a second
     * for the whole default retention.
     */
    public static final int DEFAULT_MAX_RECENT_COMMITS = 100_000;
    /** Largest cap accepted; it bounds the memory a log (and an outcome index) may use for remembered commits. */
    public static final int MAX_MAX_RECENT_COMMITS = 10_000_000;

    private static final RecentCommits NOT_KEPT = new RecentCommits(Map.of(), Long.MAX_VALUE);

    private final Map<Gtrid, Long> endedAtMillis;
    private final long horizonMillis;

    /**
     * A snapshot.
     *
     * @param endedAtMillis the listed transactions and the time of their END, oldest first (copied)
     * @param horizonMillis every decision that ended after this time is among them
     */
    public RecentCommits(Map<Gtrid, Long> endedAtMillis, long horizonMillis) {
        Objects.requireNonNull(endedAtMillis, "endedAtMillis");
        this.endedAtMillis = endedAtMillis.isEmpty() ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(endedAtMillis));
        this.horizonMillis = horizonMillis;
    }

    /**
     * The answer of a log that keeps no history of ended decisions: nothing listed, and a horizon of
     * {@link Long#MAX_VALUE}, since any commit may have been forgotten.
     */
    public static RecentCommits notKept() {
        return NOT_KEPT;
    }

    /** The listed transactions with the time of their END in epoch milliseconds, oldest first; unmodifiable. */
    public Map<Gtrid, Long> endedAtMillis() {
        return endedAtMillis;
    }

    /** Every decision whose END was written after this time (epoch milliseconds) is listed. */
    public long horizonMillis() {
        return horizonMillis;
    }

    /** True when the transaction is listed. */
    public boolean contains(Gtrid gtrid) {
        return endedAtMillis.containsKey(gtrid);
    }

    /** Number of listed transactions. */
    public int size() {
        return endedAtMillis.size();
    }

    /**
     * Checks a commit retention setting and returns it in milliseconds.
     *
     * @throws IllegalArgumentException if it is negative or longer than {@link #MAX_COMMIT_RETENTION}
     * @throws NullPointerException     if it is null
     */
    public static long checkRetention(Duration commitRetention) {
        Objects.requireNonNull(commitRetention, "commitRetention");
        if (commitRetention.isNegative() || commitRetention.compareTo(MAX_COMMIT_RETENTION) > 0) {
            throw new IllegalArgumentException("commitRetention must be between 0 and " + MAX_COMMIT_RETENTION
                    + ", got " + commitRetention);
        }
        return commitRetention.toMillis();
    }

    /**
     * Checks a cap on remembered commits.
     *
     * @throws IllegalArgumentException if it is negative or above {@link #MAX_MAX_RECENT_COMMITS}
     */
    public static int checkMaxRecentCommits(int maxRecentCommits) {
        if (maxRecentCommits < 0 || maxRecentCommits > MAX_MAX_RECENT_COMMITS) {
            throw new IllegalArgumentException("maxRecentCommits must be between 0 and " + MAX_MAX_RECENT_COMMITS
                    + ", got " + maxRecentCommits);
        }
        return maxRecentCommits;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RecentCommits r && r.horizonMillis == horizonMillis
                && r.endedAtMillis.equals(endedAtMillis);
    }

    @Override
    public int hashCode() {
        return endedAtMillis.hashCode() * 31 + Long.hashCode(horizonMillis);
    }

    @Override
    public String toString() {
        return "RecentCommits[" + endedAtMillis.size() + " after horizon " + horizonMillis + "]";
    }
}
