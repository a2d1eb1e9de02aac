package dev.concord.recovery.outcome;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogReader;
import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.xid.Gtrid;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Answers "did transaction T commit?" for in-doubt participants: RocketMQ's check-back and REST participants that
 * prepared their own branch.
 *
 * <h2>The rules, in order</h2>
 * For a gtrid T, with {@code now} from the index's clock:
 * <ol>
 *   <li>a commit record exists — T's decision was forced and has not finished phase 2 (an unfinished decision in
 *       the log at open, or {@link #decided}), or T committed recently ({@link #committed}, or an END among the
 *       log's {@link LogReader#recentCommits() recent commits} at open) → {@link Outcome#COMMIT};</li>
 *   <li>T is in flight in this process (the caller's predicate) → {@link Outcome#UNKNOWN};</li>
 *   <li>T is another node's → {@link Outcome#UNKNOWN};</li>
 *   <li>T began at or before {@code now - retention} → {@link Outcome#UNKNOWN};</li>
 *   <li>T began at or before {@link #openedAtMillis()}, i.e. in an earlier incarnation of this process →
 *       {@link Outcome#UNKNOWN};</li>
 *   <li>T began at or before the {@link #horizonMillis() forgotten horizon} → {@link Outcome#UNKNOWN};</li>
 *   <li>otherwise → {@link Outcome#ROLLBACK}.</li>
 * </ol>
 *
 * <h2>Why rule 5 (a refinement of the design's outcome query)</h2>
 * Presumed abort writes no log record for a one-phase commit or a single voter's commit: the only trace of such a
 * commit is the {@link #committed} call an earlier incarnation made into its own, now lost, memory. So for a
 * transaction that began before this index was opened, "no record" does not mean "rolled back"; answering
 * ROLLBACK could make a participant roll back half of a committed transaction. The index answers UNKNOWN instead
 * (a RocketMQ broker then simply checks back again later, and a REST participant keeps its branch in doubt for
 * the operator). Transactions an earlier incarnation decided with a forced record are still answered COMMIT from
 * the log: unfinished decisions, and recent commits while their END is inside the log's retention window. ROLLBACK
 * is only ever answered for a transaction this incarnation began and saw finish without a commit.
 *
 * <h2>What the engine must do</h2>
 * <ul>
 *   <li>Call {@link #decided} once the commit decision is forced, before any phase-2 call.</li>
 *   <li>Call {@link #committed} when a transaction has committed — after phase 2 of a logged decision, and also
 *       after a one-phase commit or a single voter's commit, which leave no log record — and <em>before</em> the
 *       transaction stops being in flight. The query reads the records, then the in-flight predicate, then the
 *       records again, so with that order a transaction that finishes during a query is never reported as a
 *       rollback.</li>
 *   <li>Use the same clock for the millis it passes as the index uses.</li>
 * </ul>
 *
 * <h2>Bounds</h2>
 * Remembered commits: at most {@code maxCommits}; when a new one would exceed the cap the oldest is evicted and the
 * horizon raised to its commit time, so that every evicted transaction (which began no later than it committed)
 * falls under rule 6 and is answered UNKNOWN, never ROLLBACK. Commits older than the retention are pruned as new
 * ones arrive and by {@link #prune()}; rule 4 covers them. Each remembered commit costs about 210 to 280 bytes of
 * heap (measured; the gtrid with its node id, a map entry and a queue slot; less when the gtrid object is shared
 * with the log, as it is when the engine passes the same one to both), so the default cap of
 * {@value RecentCommits#DEFAULT_MAX_RECENT_COMMITS} takes at most about 30 MB. Decided transactions are not capped — dropping one could turn a commit into a rollback — but
 * they are the log's unfinished decisions, which the log holds in memory anyway, and leave with {@link #committed}.
 *
 * <h2>Cost and threads</h2>
 * Thread-safe. A query is a few hash lookups and reads of volatile fields, without locks; updates take a short
 * lock. The index assumes the wall clock does not go back across a restart (as gtrid uniqueness does, see
 * {@link dev.concord.recovery.xid.XidFactory}); within a run its notion of now never goes back.
 */
public final class OutcomeIndex {
    /** Default retention: the log's default commit retention. */
    public static final Duration DEFAULT_RETENTION = RecentCommits.DEFAULT_COMMIT_RETENTION;
    /** Default cap on remembered commits. */
    public static final int DEFAULT_MAX_COMMITS = RecentCommits.DEFAULT_MAX_RECENT_COMMITS;

    /** A remembered commit; also its place in the eviction order. */
    private record Commit(Gtrid gtrid, long millis) {
    }

    private final String nodeId;
    private final long retentionMillis;
    private final int maxCommits;
    private final Clock clock;
    private final long openedAtMillis;

    private final Set<Gtrid> decided = ConcurrentHashMap.newKeySet();
    private final Map<Gtrid, Commit> committed = new ConcurrentHashMap<>();
    /** Remembered commits in arrival order; guarded by {@code this}. */
    private final ArrayDeque<Commit> arrivalOrder = new ArrayDeque<>();
    /** Every evicted commit happened at or before this time. Written before the eviction shows in the map. */
    private volatile long horizonMillis = Long.MIN_VALUE;
    /** The latest time the index has seen: its "now" never goes back. */
    private final AtomicLong latestMillis = new AtomicLong(Long.MIN_VALUE);

    private OutcomeIndex(String nodeId, Duration retention, int maxCommits, Clock clock) {
        Gtrid.validateNodeId(nodeId);
        Objects.requireNonNull(retention, "retention");
        if (retention.isNegative() || retention.isZero()
                || retention.compareTo(RecentCommits.MAX_COMMIT_RETENTION) > 0) {
            throw new IllegalArgumentException("retention must be positive and at most "
                    + RecentCommits.MAX_COMMIT_RETENTION + ", got " + retention);
        }
        if (maxCommits < 1 || maxCommits > RecentCommits.MAX_MAX_RECENT_COMMITS) {
            throw new IllegalArgumentException("maxCommits must be between 1 and "
                    + RecentCommits.MAX_MAX_RECENT_COMMITS + ", got " + maxCommits);
        }
        this.nodeId = nodeId;
        this.retentionMillis = retention.toMillis();
        this.maxCommits = maxCommits;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.openedAtMillis = now();
    }

    /**
     * Opens an index with the default retention and cap on the UTC system clock, seeded from the log.
     *
     * @see #open(String, Duration, int, Clock, LogReader)
     */
    public static OutcomeIndex open(String nodeId, LogReader log) {
        return open(nodeId, DEFAULT_RETENTION, DEFAULT_MAX_COMMITS, Clock.systemUTC(), log);
    }

    /**
     * Opens an index for this node and seeds it from the log: every unfinished decision counts as decided, every
     * recent commit the log lists as committed at its END time. The log's horizon is taken as the index's
     * horizon, but never beyond the opening time: a commit the log forgot ended before the index opened, so the
     * transaction began before it, which rule 5 already answers UNKNOWN. If the log lists more commits than
     * {@code maxCommits}, the oldest are evicted as usual.
     *
     * @param nodeId     this node's id; other nodes' transactions are answered UNKNOWN
     * @param retention  how long a commit stays answerable, and how far back a rollback is answered; positive, at
     *                   most {@link RecentCommits#MAX_COMMIT_RETENTION}
     * @param maxCommits the most commits remembered, 1 to {@link RecentCommits#MAX_MAX_RECENT_COMMITS}
     * @param clock      the time source; {@link #openedAtMillis()} is read from it now
     * @param log        the log as it was opened by this process, before any new transaction
     * @throws IllegalArgumentException if a setting is out of range or the node id is invalid
     */
    public static OutcomeIndex open(String nodeId, Duration retention, int maxCommits, Clock clock, LogReader log) {
        Objects.requireNonNull(log, "log");
        OutcomeIndex index = new OutcomeIndex(nodeId, retention, maxCommits, clock);
        for (CommitDecision d : log.unfinishedDecisions()) {
            index.decided.add(d.gtrid());
        }
        RecentCommits recent = log.recentCommits();
        index.horizonMillis = Math.min(recent.horizonMillis(), index.openedAtMillis);
        synchronized (index) {
            recent.endedAtMillis().forEach(index::remember);
        }
        return index;
    }

    // ------------------------------------------------------------------------------------------------ updates

    /** The commit decision of this transaction is forced: from now on it is answered COMMIT. */
    public void decided(Gtrid gtrid) {
        decided.add(Objects.requireNonNull(gtrid, "gtrid"));
    }

    /**
     * This transaction committed at {@code committedAtMillis} (phase 2 finished; also for a one-phase or single
     * voter's commit, which leaves no log record and is remembered here only). Call it before the transaction
     * stops being in flight. A transaction already remembered keeps its first commit time.
     */
    public void committed(Gtrid gtrid, long committedAtMillis) {
        Objects.requireNonNull(gtrid, "gtrid");
        synchronized (this) {
            remember(gtrid, committedAtMillis);
            pruneExpired(now());
        }
        // Removed only once it is in the committed map: a query never finds it in neither.
        decided.remove(gtrid);
    }

    /** Drops the commits older than the retention now, rather than as new ones arrive; for a periodic task. */
    public void prune() {
        synchronized (this) {
            pruneExpired(now());
        }
    }

    // ------------------------------------------------------------------------------------------------ queries

    /**
     * Did this transaction commit? See the class description for the rules.
     *
     * @param inFlight true for a transaction that is still running in this process (not yet committed or rolled
     *                 back); must be safe to call from any thread
     */
    public Outcome outcomeOf(Gtrid gtrid, Predicate<Gtrid> inFlight) {
        Objects.requireNonNull(gtrid, "gtrid");
        Objects.requireNonNull(inFlight, "inFlight");
        if (hasCommitRecord(gtrid)) {
            return Outcome.COMMIT;
        }
        if (inFlight.test(gtrid)) {
            return Outcome.UNKNOWN;
        }
        // It may have committed, and left the in-flight set, since the first look.
        if (hasCommitRecord(gtrid)) {
            return Outcome.COMMIT;
        }
        if (!gtrid.nodeId().equals(nodeId)) {
            return Outcome.UNKNOWN;
        }
        long began = gtrid.beginMillis();
        if (began <= now() - retentionMillis || began <= openedAtMillis || began <= horizonMillis) {
            return Outcome.UNKNOWN;
        }
        return Outcome.ROLLBACK;
    }

    /**
     * Did the transaction with this binary gtrid commit? Bytes that are not a Concord gtrid (another product's
     * transaction) are answered {@link Outcome#UNKNOWN}.
     */
    public Outcome outcomeOf(byte[] gtrid, Predicate<Gtrid> inFlight) {
        Gtrid parsed = Gtrid.tryParse(gtrid);
        return parsed == null ? Outcome.UNKNOWN : outcomeOf(parsed, inFlight);
    }

    // ------------------------------------------------------------------------------------------- observability

    /** When this index was opened: transactions that began at or before it are never answered ROLLBACK. */
    public long openedAtMillis() {
        return openedAtMillis;
    }

    /** Every commit the index evicted (or the log forgot before the open) happened at or before this time. */
    public long horizonMillis() {
        return horizonMillis;
    }

    /** Commits remembered now, expired ones not yet pruned included. */
    public int committedCount() {
        return committed.size();
    }

    /** Transactions decided and not yet committed. */
    public int decidedCount() {
        return decided.size();
    }

    /** This node's id. */
    public String nodeId() {
        return nodeId;
    }

    @Override
    public String toString() {
        return "OutcomeIndex[" + nodeId + ", " + committed.size() + " commits, " + decided.size()
                + " decided, opened " + openedAtMillis + ", horizon " + horizonMillis + "]";
    }

    // ---------------------------------------------------------------------------------------------- internals

    private boolean hasCommitRecord(Gtrid gtrid) {
        // decided first: committed() adds to the map before it removes from the set.
        return decided.contains(gtrid) || committed.containsKey(gtrid);
    }

    /** Lock held. */
    private void remember(Gtrid gtrid, long millis) {
        Commit c = new Commit(gtrid, millis);
        if (committed.putIfAbsent(gtrid, c) != null) {
            return;
        }
        arrivalOrder.addLast(c);
        while (arrivalOrder.size() > maxCommits) {
            Commit oldest = arrivalOrder.pollFirst();
            // The horizon goes up before the commit leaves the map: a query that misses it sees the new horizon.
            horizonMillis = Math.max(horizonMillis, oldest.millis());
            committed.remove(oldest.gtrid(), oldest);
        }
    }

    /**
     * Drops commits at the old end of the arrival order whose time is at or before {@code now - retention}; the
     * transactions began no later, so rule 4 answers them. Lock held.
     */
    private void pruneExpired(long now) {
        long cutoff = now - retentionMillis;
        Commit oldest;
        while ((oldest = arrivalOrder.peekFirst()) != null && oldest.millis() <= cutoff) {
            arrivalOrder.pollFirst();
            committed.remove(oldest.gtrid(), oldest);
        }
    }

    private long now() {
        long t = clock.millis();
        return latestMillis.accumulateAndGet(t, Math::max);
    }
}
