package dev.concord.recovery.log.file;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.log.TransactionLog;
import dev.concord.recovery.xid.Gtrid;
import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The durable transaction log: append-only, pre-allocated segment files in one directory, with group commit.
 *
 * <h2>Files</h2>
 * Segments are named {@code segment-<20-digit number>.seg}; each starts with a header (format version, number,
 * creation time, checksum) and holds records framed as {@link LogRecordCodec} describes. New segments are written
 * full of zeros and forced once when created, so appends never change a file's size and a commit costs one
 * {@code force(false)}. The next segment is pre-allocated in the background once the current one is half full.
 *
 * <h2>Group commit</h2>
 * Writers put their framed record on a queue under one lock. A writer that must wait for durability and finds no
 * flush in progress becomes the flusher: it takes everything queued, writes it with one positional write, forces
 * once, marks every record it covered durable and wakes their writers; a writer that finds a flush in progress
 * waits, and its record goes into the next round, which one of the waiting writers is woken to lead. There is no
 * timer: a lone committer writes and forces at once, and concurrent committers share a force because they queue
 * while the previous one runs. Waiting writers park on their own record and are unparked directly, so a finished
 * round releases all its writers at once and they can queue their next record before the round after next
 * starts; waking them through a condition would pass the lock from one to the next and keep rounds short.
 * END and FORGET records
 * are not forced; they ride with the next round, or, when none is running and nobody waits, their writer writes
 * them into the page cache without a force.
 *
 * <h2>Direct writes</h2>
 * With {@link FileLogConfig#directWrites()} (the default) and a file system that allows it, the current segment
 * is also opened {@code O_DIRECT | O_DSYNC}, and every round goes through that channel: one write, from the start
 * of the block the round begins in (its earlier bytes kept in memory and written again, unchanged) to the end of
 * the block it ends in, durable when it returns — the write is the force. Nothing of the segment is then in the
 * page cache, so an END or FORGET written alone would cost a force of its own, or make the next round write the
 * cached page back first (measured: a lone committer fell from about 8,000 to 5,000 commits per second). Instead
 * such a record waits in the queue for the next round, and a timer writes it after
 * {@link FileLogConfig#unforcedLinger()} (5 ms by default) when no round comes: a SIGKILL can lose the ENDs of the
 * last few milliseconds, whose decisions recovery then finishes again (their branches answer that they are already
 * committed), as it does after any crash between phase 2 and the END. Where the file system refuses (CLOG-113,
 * once per log), segments are written as described above.
 *
 * <p>A caller of a forced write returns only once its own record is
 * durable, and waits uninterruptibly: giving up early would report "not durable" for a record that may still
 * become durable.
 *
 * <h2>Failures</h2>
 * When a write or force fails (a full disk, an I/O error) every caller whose record was in that round, or queued
 * behind it, gets a {@link LogException}, and the log refuses all further writes until it is reopened — after a
 * failed force the kernel may have dropped the dirty pages, so retrying on the same file could report durable what
 * is not. The bytes of the failed round are then overwritten with zeros so that a restart does not find a
 * decision whose caller was told it failed; if even that fails, message CLOG-107 says which bytes to check.
 * Records reported durable before the failure stay durable.
 *
 * <h2>Recent commits</h2>
 * The END record is the durable outcome of a logged commit: it carries its time, and for
 * {@link FileLogConfig#commitRetention()} after it the transaction is listed by {@link #recentCommits()}, across
 * restarts and segment releases. Until then it is a live record like an unfinished decision, carried forward as a
 * compact {@link LogRecord.RecentCommit} (gtrid and END time, at most 72 bytes). At most
 * {@link FileLogConfig#maxRecentCommits()} are kept; beyond that the oldest END is dropped. Whatever leaves the
 * recent commits (aged out, pruned in steps of a sixteenth of the retention, or dropped by the cap) raises the
 * horizon to its END time; the horizon is written as a {@link LogRecord.CommitHorizon} record, and no segment is
 * released while a forgotten END is not yet covered by one, so a reopened log — even one reopened with a longer
 * retention — never lists less than its horizon promises. See {@link LiveState}.
 *
 * <h2>Segment release and the disk bound</h2>
 * The oldest segments are deleted, oldest first, as soon as none of them holds the newest copy of a live record (a
 * decision without END, a heuristic not forgotten, a recent commit, the newest horizon). The current segment is
 * forced first, so that the unforced END records that made them dead are durable before what they supersede
 * disappears: a crash can then never lose both a decision and its END. When more than {@code maxSegments}
 * segments hold data, the live records of the oldest are carried forward — re-written, forced, into the current
 * segment (decisions and heuristics with their original serial) — and the oldest is then deleted. Only a prefix of
 * the log is ever deleted, so an END can never be dropped while the decision it ends survives. <b>Disk bound:</b>
 * while the live records take less than half a segment, the directory holds at most {@code maxSegments + 2}
 * segment files ({@code maxSegments} with data, one more between a rotation and the release it triggers, and the
 * pre-allocated next one), i.e. at most {@code (maxSegments + 2) × segmentSize} bytes. Recent commits add at most
 * {@code maxRecentCommits × 72} bytes to the live records (7.2 MB at the default cap, under half of the default
 * 16 MiB segment; configure a smaller cap or larger segments together). Larger live sets are still carried forward,
 * never dropped; the log then needs about one more segment per segment's worth of live records, and says so once
 * (CLOG-110).
 *
 * <h2>Memory bound</h2>
 * Besides the write buffer, the log holds its live records in memory: the unfinished decisions and heuristics, and
 * at most {@code maxRecentCommits} recent commits of about 270 to 340 bytes each (measured, short to longest node
 * id), i.e. at most about 35 MB at the default cap.
 *
 * <h2>Opening</h2>
 * Opening replays every segment in order (see {@link LogReplay} for how torn tails and corruption are told apart),
 * truncates a torn tail to the last good record, and fails on corruption in the middle unless
 * {@link FileLogConfig#discardCorruptRecords()} is set; with it, the damaged bytes are discarded, each discard is
 * logged and listed in {@link #replayReport()}, and the live records are re-written into a fresh segment so that
 * the damaged ones can be deleted and the next open is clean. Segments of format version 1, whose END records carry
 * no time, are read as they are: such an END finishes its decision, cannot be listed as a recent commit, and
 * raises the horizon to the time of the open; new records then go into a new segment of the current version.
 *
 * <h2>Messages</h2>
 * Logged through {@link System.Logger} under this class's name, each with a stable id: CLOG-101 torn tail
 * truncated, CLOG-102 corruption discarded by the override, CLOG-103 open refused because of corruption, CLOG-104
 * live records re-written after a discard, CLOG-105 write failed, CLOG-106 unacknowledged bytes erased, CLOG-107
 * unacknowledged bytes could not be erased, CLOG-108 segment deletion failed, CLOG-109 background pre-allocation
 * failed, CLOG-110 disk bound exceeded, CLOG-111 failure while closing, CLOG-112 empty segment header rewritten.
 *
 * <p>Thread-safe. {@link #close()} writes and forces whatever is queued (END records included) and releases the
 * files, the directory lock and the pre-allocation thread.
 */
public final class FileTransactionLog implements TransactionLog {
    /** Direct writes are used only with file-system blocks up to this size. */
    private static final int MAX_DIRECT_BLOCK = 64 << 10;
    private static final byte[] ZERO_BLOCK = new byte[MAX_DIRECT_BLOCK];

    private enum Outcome { QUEUED, WRITTEN, DURABLE, FAILED }

    /**
     * A record on its way to disk. Its writer, if it waits, parks on the record itself: the flusher sets the
     * outcome and unparks exactly that thread, so a finished round wakes its writers all at once and they return
     * without touching the lock (waking them through a condition of the lock would hand the lock from one to the
     * next, one wake-up latency each, and keep the next round short of writers).
     */
    private static final class Pending {
        final LogRecord record;
        final byte[] frame;
        final boolean forced;
        /** For a carried-forward copy, the live entry it copies; null for records callers wrote. */
        final Object carriedEntry;
        /** The thread waiting for this record to be durable; null when nobody waits. */
        final Thread waiter;
        /** Written under the lock; read without it by the waiter. */
        volatile Outcome outcome = Outcome.QUEUED;
        /** Set when the flusher that just stopped asks this record's waiter to lead the next round. */
        volatile boolean leadOffered;

        Pending(LogRecord record, boolean forced, Object carriedEntry, Thread waiter) {
            this.record = record;
            this.frame = LogRecordCodec.encode(record);
            this.forced = forced;
            this.carriedEntry = carriedEntry;
            this.waiter = waiter;
        }

        void wake() {
            if (waiter != null && waiter != Thread.currentThread()) {
                LockSupport.unpark(waiter);
            }
        }
    }

    /** The records of one round. */
    private static final class Batch {
        final List<Pending> records = new ArrayList<>();
        int forced;
        int waiters;
    }

    private final FileLogConfig config;
    private final SegmentFiles files;
    private final DirectoryLock directoryLock;
    private final ReplayReport replayReport;
    private final ThreadPoolExecutor preallocator;
    private final AtomicLong forces = new AtomicLong();
    private final AtomicLong recordsWritten = new AtomicLong();

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a flusher stops; close waits on it. */
    private final Condition idle = lock.newCondition();

    // Guarded by lock.
    private final LiveState state;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>();
    /** The batch the next round will write. */
    private Batch queue = new Batch();
    private boolean flushing;
    private boolean closed;
    private LogException failure;
    private int carriesInFlight;
    private boolean boundWarned;
    /** The highest commit horizon queued for writing (or read back at open). */
    private long horizonQueued;
    /** A timer task will write the queued unforced records (direct writes only). */
    private boolean lingerScheduled;
    /** Since when (nanoTime) unforced records have been waiting for a round with nobody to write them; -1: none. */
    private long lingerSince = -1;
    private ScheduledThreadPoolExecutor lingerTimer;
    /** The current segment is written through its direct channel; set by whoever sets {@link #current}. */
    private volatile boolean directActive;

    // Owned by the thread that set flushing (the lock hands it over), or by open and close.
    private Segment current;
    private Future<Segment> preparedNext;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(64 << 10);
    private long dirtyStart = -1;
    private int dirtyLength;
    /** Records written to the current segment since its last force (the group-commit batch size). */
    private int recordsSinceForce;
    private long lastDeleteFailureLogged = -1;
    /** Direct writes were refused once: not tried again for this log. */
    private boolean directUnavailable;
    /** The file system's block size, looked up at the first segment that gets a direct channel; 0 until then. */
    private long directBlock;
    /** Block-aligned staging for direct writes. */
    private ByteBuffer directBuffer;

    private FileTransactionLog(FileLogConfig config, SegmentFiles files, DirectoryLock directoryLock,
                               LogReplay.Result replay) {
        this.config = config;
        this.files = files;
        this.directoryLock = directoryLock;
        this.replayReport = replay.report();
        this.state = replay.state();
        this.horizonQueued = state.horizonWritten();
        this.preallocator = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "concord-log-preallocate-" + config.directory().getFileName());
            t.setDaemon(true);
            return t;
        });
        this.preallocator.allowCoreThreadTimeOut(true);
    }

    /**
     * Opens (or creates) the log in the configured directory and replays it.
     *
     * @throws LogException if the directory cannot be used, is locked by another open log, holds a format this
     *                      build cannot read, or is corrupt in the middle and the override is off (the message
     *                      names the file and byte offset)
     */
    public static FileTransactionLog open(FileLogConfig config) throws LogException {
        Objects.requireNonNull(config, "config");
        DirectoryLock directoryLock = DirectoryLock.acquire(config.directory());
        FileTransactionLog log = null;
        try {
            SegmentFiles files = new SegmentFiles(config);
            files.deleteUnfinishedCreations();
            LogReplay.Result replay = LogReplay.run(config, files);
            log = new FileTransactionLog(config, files, directoryLock, replay);
            log.start(replay);
            return log;
        } catch (IOException e) {
            abandon(log, directoryLock);
            throw new LogException("cannot open transaction log in " + config.directory() + ": " + e, e);
        } catch (LogException | RuntimeException | Error e) {
            abandon(log, directoryLock);
            throw e;
        }
    }

    private static void abandon(FileTransactionLog log, DirectoryLock directoryLock) {
        if (log != null) {
            log.releaseResources();
        } else {
            directoryLock.release();
        }
    }

    /** Opens the last segment for appending after its last good record, or a new one. */
    private void start(LogReplay.Result replay) throws IOException, LogException {
        List<Long> numbers = replay.segments();
        for (int i = 0; i < numbers.size() - 1; i++) {
            segments.addLast(new Segment(numbers.get(i), files.pathOf(numbers.get(i)), 0, null, 0));
        }
        if (numbers.isEmpty()) {
            current = files.create(1, config.segmentSize());
        } else {
            long last = numbers.get(numbers.size() - 1);
            Path path = files.pathOf(last);
            if (replay.discardedCorruption()) {
                // Nothing more goes into a damaged log; its live records move to a fresh segment below.
                segments.addLast(new Segment(last, path, 0, null, 0));
                current = files.create(last + 1, config.segmentSize());
            } else if (replay.lastVersion() != LogRecordCodec.FORMAT_VERSION) {
                // A segment's records are all of its header's version: new records go into a new segment.
                segments.addLast(new Segment(last, path, 0, null, 0));
                current = files.create(last + 1, config.segmentSize());
            } else {
                current = new Segment(last, path, replay.lastSize(), files.openForWriting(path),
                        replay.lastDataEnd());
            }
        }
        segments.addLast(current);
        attachDirect(current);
        if (replay.discardedCorruption()) {
            rewriteLiveRecords();
        }
    }

    /**
     * After the override discarded damage: copies every live record into the fresh current segment and forces it,
     * after which every older segment, the damaged ones included, is released, so the next open is clean.
     */
    private void rewriteLiveRecords() throws LogException {
        lock.lock();
        try {
            List<Object> entries = state.entriesUpTo(Long.MAX_VALUE);
            for (Object entry : entries) {
                enqueue(new Pending(LiveState.recordOf(entry), true, entry, null));
                carriesInFlight++;
            }
            lead();
            if (failure != null) {
                throw new LogException("could not re-write the live records after discarding corruption: "
                        + failure.getMessage(), failure.getCause());
            }
            LogMessage.REWRITTEN_AFTER_DISCARD.log("re-wrote " + entries.size() + " live records into "
                    + current.path + "; the damaged segments were released (" + segments.size()
                    + " segment(s) remain)");
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------- write port

    @Override
    public void forceCommitDecision(CommitDecision decision) throws LogException {
        Objects.requireNonNull(decision, "decision");
        Pending p;
        lock.lock();
        try {
            checkWritable();
            p = submitAndLead(new LogRecord.Decision(state.serialForDecision(decision.gtrid()), decision));
        } finally {
            lock.unlock();
        }
        awaitDurable(p, "commit decision", decision.gtrid());
    }

    @Override
    public void writeEnd(Gtrid gtrid) throws LogException {
        Objects.requireNonNull(gtrid, "gtrid");
        lock.lock();
        try {
            checkWritable();
            long endedAt = config.clock().millis();
            Pending p = newPending(new LogRecord.End(gtrid, endedAt), null);
            state.end(gtrid, endedAt);
            writeUnforced(enqueue(p), "END", gtrid);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void forceHeuristic(HeuristicRecord heuristic) throws LogException {
        Objects.requireNonNull(heuristic, "heuristic");
        Pending p;
        lock.lock();
        try {
            checkWritable();
            p = submitAndLead(new LogRecord.Heuristic(state.serialForHeuristic(), heuristic));
        } finally {
            lock.unlock();
        }
        awaitDurable(p, "heuristic record", heuristic.gtrid());
    }

    @Override
    public void writeForget(Gtrid gtrid, String resourceName, int branch) throws LogException {
        Objects.requireNonNull(gtrid, "gtrid");
        Objects.requireNonNull(resourceName, "resourceName");
        lock.lock();
        try {
            checkWritable();
            Pending p = newPending(new LogRecord.Forget(gtrid, resourceName, branch), null);
            state.forget(gtrid, resourceName, branch);
            writeUnforced(enqueue(p), "FORGET", gtrid);
        } finally {
            lock.unlock();
        }
    }

    // ----------------------------------------------------------------------------------------------- read port

    @Override
    public List<CommitDecision> unfinishedDecisions() {
        lock.lock();
        try {
            return state.decisionsOldestFirst();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<HeuristicRecord> heuristics() {
        lock.lock();
        try {
            return state.heuristicsOldestFirst();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The decisions that ended inside the commit retention window, oldest END first, and the horizon (see
     * {@link RecentCommits}). Includes ENDs not yet forced. A snapshot, built in time linear in the
     * number of remembered commits: meant for opening an outcome index, not for every query.
     */
    @Override
    public RecentCommits recentCommits() {
        lock.lock();
        try {
            return state.recentCommits(config.clock().millis());
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------- observability

    /**
     * Forces of segment data so far (commit rounds, segment switches, segment releases, close); not those of
     * pre-allocation.
     */
    public long forceCount() {
        return forces.get();
    }

    /** Records written so far, carried-forward copies included. */
    public long recordCount() {
        return recordsWritten.get();
    }

    /** Segment files that hold data, the current one included (not the pre-allocated next one). */
    public int segmentCount() {
        lock.lock();
        try {
            return segments.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * True while the current segment is written straight to the device ({@link FileLogConfig#directWrites()} and
     * a file system that allows it).
     */
    public boolean writesDirectly() {
        return directActive;
    }

    /** Records queued for the next round; lets tests line writers up behind a blocked force. */
    int queuedRecords() {
        lock.lock();
        try {
            return queue.records.size();
        } finally {
            lock.unlock();
        }
    }

    /** What opening found and discarded. */
    public ReplayReport replayReport() {
        return replayReport;
    }

    /** The configuration this log was opened with. */
    public FileLogConfig config() {
        return config;
    }

    @Override
    public String toString() {
        return "FileTransactionLog[" + config.directory() + "]";
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            while (flushing) {
                idle.awaitUninterruptibly();
            }
            if (failure == null) {
                flushing = true;
                try {
                    round(true); // writes what is queued and forces everything, END records included
                } finally {
                    flushing = false;
                    idle.signalAll();
                }
            }
        } finally {
            lock.unlock();
        }
        releaseResources();
    }

    private void releaseResources() {
        ScheduledThreadPoolExecutor timer;
        lock.lock();
        try {
            timer = lingerTimer;
        } finally {
            lock.unlock();
        }
        if (timer != null) {
            // No interrupt: a timer task in the middle of a write would close the channel under it. A task still
            // waiting finds the log closed, or is dropped here.
            timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            timer.shutdown();
        }
        preallocator.shutdown();
        try {
            if (!preallocator.awaitTermination(1, TimeUnit.MINUTES)) {
                LogMessage.CLOSE_FAILED.log("segment pre-allocation in " + config.directory()
                        + " did not finish within a minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (preparedNext != null && preparedNext.isDone()) {
            try {
                preparedNext.get().closeChannel(); // the file stays: a valid, empty segment
            } catch (ExecutionException | InterruptedException | IOException e) {
                // a failed pre-allocation left nothing open
            }
        }
        if (current != null) {
            try {
                current.closeChannel();
            } catch (IOException e) {
                LogMessage.CLOSE_FAILED.log("closing " + current.path + " failed", e);
            }
        }
        directoryLock.release();
    }

    // ------------------------------------------------------------------------------------------ group commit

    private void checkWritable() throws LogException {
        if (closed) {
            throw new LogException("transaction log " + config.directory() + " is closed");
        }
        if (failure != null) {
            throw new LogException("transaction log " + config.directory() + " refuses writes after a failed write"
                    + " (reopen it once the cause is fixed): " + failure.getMessage(), failure.getCause());
        }
    }

    private Pending newPending(LogRecord record, Thread waiter) throws LogException {
        boolean forced = record instanceof LogRecord.Decision || record instanceof LogRecord.Heuristic;
        Pending p = new Pending(record, forced, null, waiter);
        int room = config.segmentSize() - SegmentFiles.HEADER_BYTES;
        if (p.frame.length > room) {
            throw new LogException("a record of " + p.frame.length + " bytes does not fit in a segment (" + room
                    + " bytes of room); configure a larger segmentSize");
        }
        return p;
    }

    private Pending enqueue(Pending p) {
        queue.records.add(p);
        if (p.forced) {
            queue.forced++;
        }
        return p;
    }

    /** Queues a record its writer will wait for, and leads a round at once when nobody is flushing. Lock held. */
    private Pending submitAndLead(LogRecord record) throws LogException {
        Pending p = enqueue(newPending(record, Thread.currentThread()));
        queue.waiters++;
        if (!flushing) {
            lead();
        }
        return p;
    }

    /**
     * Waits, without the lock, until the record is durable or failed, leading a round when offered. Waits
     * uninterruptibly: giving up early would report "not durable" for a record that may still become durable; an
     * interrupt is kept for the caller.
     */
    private void awaitDurable(Pending p, String what, Gtrid gtrid) throws LogException {
        boolean interrupted = false;
        while (p.outcome == Outcome.QUEUED) {
            if (p.leadOffered) {
                p.leadOffered = false;
                lock.lock();
                try {
                    if (p.outcome == Outcome.QUEUED && !flushing) {
                        lead();
                    }
                } finally {
                    lock.unlock();
                }
            } else {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (p.outcome == Outcome.FAILED) {
            throw new LogException("the " + what + " of " + gtrid + " may not be durable: " + failure.getMessage(),
                    failure.getCause());
        }
    }

    /**
     * Gets an unforced record into the page cache: a running round, or one a waiter will lead, takes it along;
     * otherwise the writer writes it now, without a force.
     */
    private void writeUnforced(Pending p, String what, Gtrid gtrid) throws LogException {
        if (!flushing && queue.waiters == 0) {
            if (directActive) {
                scheduleLinger();
            } else {
                lead();
            }
        }
        if (p.outcome == Outcome.FAILED) {
            throw new LogException("the " + what + " of " + gtrid + " was not written: " + failure.getMessage(), failure.getCause());
        }
    }

    /**
     * Runs rounds as the flusher. It keeps going only for work nobody waits for (END records, carried-forward
     * copies); once a waiter's record is queued, that waiter leads the next round, so no thread flushes for the
     * others forever.
     */
    private void lead() {
        flushing = true;
        try {
            do {
                round(false);
                if (failure == null) {
                    releaseAndCarryForward();
                }
            } while (failure == null && !queue.records.isEmpty() && queue.waiters == 0
                    && (queue.forced > 0 || !directActive));
        } finally {
            flushing = false;
            offerLeadToNextWriter();
            if (failure == null && queue.waiters == 0 && !queue.records.isEmpty()) {
                scheduleLinger(); // direct writes: unforced records wait for the next round, or the timer
            }
            idle.signalAll();
        }
    }

    /**
     * Makes sure queued unforced records nobody is about to write get written once the oldest has waited the
     * linger time. Lock held.
     */
    private void scheduleLinger() {
        if (lingerSince < 0) {
            lingerSince = System.nanoTime();
        }
        if (!lingerScheduled && !closed) {
            armLinger(config.unforcedLinger().toNanos());
        }
    }

    private void armLinger(long delayNanos) {
        if (lingerTimer == null) {
            lingerTimer = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "concord-log-linger-" + config.directory().getFileName());
                t.setDaemon(true);
                return t;
            });
        }
        try {
            lingerTimer.schedule(this::lingerExpired, delayNanos, TimeUnit.NANOSECONDS);
            lingerScheduled = true;
        } catch (RejectedExecutionException e) {
            lead(); // shutting down: write them now rather than leave them to close
        }
    }

    /**
     * The timer: writes the unforced records no round took along, once the oldest has waited the linger time; a
     * round that comes first takes them (and resets the wait), so a steady stream of commits never pays for a
     * write of its ENDs alone.
     */
    private void lingerExpired() {
        lock.lock();
        try {
            lingerScheduled = false;
            if (closed || failure != null || flushing || queue.waiters > 0 || queue.records.isEmpty()) {
                return; // a round is running or about to: it takes them, and re-arms the timer if it must
            }
            if (lingerSince < 0) {
                lingerSince = System.nanoTime(); // not expected; counting from now never strands them
            }
            long left = config.unforcedLinger().toNanos() - (System.nanoTime() - lingerSince);
            if (left > 0) {
                armLinger(left);
            } else {
                lead();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Wakes one writer of the next batch to lead it; the others sleep until their round is done. */
    private void offerLeadToNextWriter() {
        for (Pending p : queue.records) {
            if (p.waiter != null) {
                p.leadOffered = true;
                p.wake();
                return;
            }
        }
    }

    /** Writes everything queued; forces when any of it must be durable. Called and returns with the lock held. */
    private void round(boolean forceAnyway) {
        maintainRecentCommits();
        Batch batch = queue;
        queue = new Batch();
        lingerSince = -1; // whatever waited goes in this round
        boolean force = forceAnyway || batch.forced > 0;
        lock.unlock();
        try {
            write(batch.records, force);
        } finally {
            lock.lock();
        }
    }

    /** The I/O of one round, without the lock. Records land in as few chunks as segment boundaries allow. */
    private void write(List<Pending> batch, boolean force) {
        int first = 0;
        try {
            buffer.clear();
            long chunkStart = current.position;
            for (int i = 0; i < batch.size(); i++) {
                byte[] frame = batch.get(i).frame;
                if (!current.fits((long) buffer.position() + frame.length)) {
                    writeChunk(chunkStart);
                    // The closing segment is forced before the next one gets data: replay relies on it.
                    forceCurrent();
                    complete(batch, first, i, true);
                    rotate();
                    first = i;
                    chunkStart = current.position;
                    if (!current.fits(frame.length)) {
                        // Only a record carried over from a run with bigger segments can get here.
                        throw new IOException("a record of " + frame.length + " bytes does not fit in a new segment"
                                + " of " + current.capacity + " bytes; reopen with the segmentSize it was written"
                                + " with");
                    }
                }
                ensureRoom(frame.length);
                buffer.put(frame);
                recordsSinceForce++;
            }
            writeChunk(chunkStart);
            if (force) {
                forceCurrent();
            }
            complete(batch, first, batch.size(), force);
            if (!closed) {
                preallocateNextIfHalfFull();
            }
        } catch (IOException | RuntimeException | Error e) {
            // Whatever went wrong, the records taken off the queue must not be left waiting forever.
            fail(batch, e);
            if (e instanceof Error error) {
                throw error;
            }
        }
    }

    /**
     * Ages out recent commits (in steps) and, when anything left them since the last horizon record was queued,
     * queues a new one into the round that is about to start. Lock held.
     */
    private void maintainRecentCommits() {
        state.pruneCommits(config.clock().millis(), false);
        long target = state.horizonTarget();
        if (target > horizonQueued) {
            enqueue(new Pending(new LogRecord.CommitHorizon(target), false, null, null));
            horizonQueued = target;
        }
    }

    private void writeChunk(long chunkStart) throws IOException {
        if (buffer.position() == 0) {
            return;
        }
        buffer.flip();
        dirtyStart = chunkStart;
        dirtyLength = buffer.limit();
        if (current.direct != null) {
            writeDirect(chunkStart);
        } else {
            current.unforced = true;
            current.position = SegmentFiles.writeFully(current.channel, buffer, chunkStart);
        }
        buffer.clear();
    }

    /**
     * Writes the buffer at {@code chunkStart} (the segment's position) through the direct channel: whole blocks,
     * from the start of the block the position is in, its earlier bytes taken from {@link Segment#tail}, padded
     * with the zeros the file holds beyond the position. Durable on return, so it counts as a force.
     */
    private void writeDirect(long chunkStart) throws IOException {
        Segment s = current;
        int block = s.blockSize;
        int before = s.tailLength();
        long from = chunkStart - before;
        long end = chunkStart + buffer.remaining();
        long to = Math.min(s.capacity, (end + block - 1) / block * block);
        int total = (int) (to - from);
        if (directBuffer == null || directBuffer.capacity() < total) {
            int capacity = Math.max(total, 64 << 10);
            directBuffer = ByteBuffer.allocateDirect(capacity + 2 * block).alignedSlice(block);
        }
        ByteBuffer out = directBuffer;
        out.clear();
        out.put(s.tail, 0, before);
        out.put(buffer);
        out.put(ZERO_BLOCK, 0, total - out.position());
        out.flip();
        long start = System.nanoTime();
        SegmentFiles.writeFully(s.direct, out, from);
        long nanos = System.nanoTime() - start;
        s.position = end;
        int after = s.tailLength();
        out.get((int) (end - after - from), s.tail, 0, after);
        forced(nanos);
    }

    /**
     * Opens the direct channel of a segment that becomes the current one, when the configuration asks for direct
     * writes and the file system allows them; otherwise the segment is written through the page cache.
     */
    private void attachDirect(Segment s) {
        directActive = false;
        if (!config.directWrites() || directUnavailable) {
            return;
        }
        String refused;
        Throwable cause = null;
        try {
            if (directBlock == 0) {
                directBlock = Files.getFileStore(s.path).getBlockSize();
            }
            long block = directBlock;
            if (block <= 0 || block > MAX_DIRECT_BLOCK || s.capacity % block != 0) {
                refused = "the file system's block size (" + block + " bytes) does not divide the segment size ("
                        + s.capacity + ") or is larger than " + MAX_DIRECT_BLOCK;
            } else {
                int size = (int) block;
                byte[] tail = new byte[size];
                int before = (int) (s.position % size);
                ByteBuffer into = ByteBuffer.wrap(tail, 0, before);
                long at = s.position - before;
                while (into.hasRemaining()) {
                    int n = s.channel.read(into, at);
                    if (n < 0) {
                        throw new IOException("segment " + s.path + " is shorter than its position " + s.position);
                    }
                    at += n;
                }
                s.direct = config.channelOpener().open(s.path, StandardOpenOption.WRITE, StandardOpenOption.DSYNC,
                        ExtendedOpenOption.DIRECT);
                s.blockSize = size;
                s.tail = tail;
                directActive = true;
                return;
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            refused = e.toString();
            cause = e;
        }
        directUnavailable = true;
        LogMessage.DIRECT_WRITES_UNAVAILABLE.log("direct writes refused in " + config.directory() + " (" + refused
                + "); rounds are written through the page cache and forced", cause);
    }

    private void forceCurrent() throws IOException {
        if (current.unforced) {
            long start = System.nanoTime();
            current.channel.force(false);
            forced(System.nanoTime() - start);
        }
    }

    /** Counts a force of the current segment (or a direct write, which is one) and tells the observer. */
    private void forced(long nanos) {
        current.unforced = false;
        forces.incrementAndGet();
        int records = recordsSinceForce;
        recordsSinceForce = 0;
        config.forceObserver().forced(nanos, records);
    }

    private void ensureRoom(int bytes) {
        if (buffer.remaining() < bytes) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(buffer.capacity() * 2, buffer.position() + bytes));
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
    }

    /** Marks records written (and durable, when forced) and makes decisions and heuristics visible to readers. */
    private void complete(List<Pending> batch, int from, int to, boolean durable) {
        long segment = current.number;
        lock.lock();
        try {
            for (int i = from; i < to; i++) {
                Pending p = batch.get(i);
                p.outcome = durable ? Outcome.DURABLE : Outcome.WRITTEN;
                if (p.carriedEntry != null) {
                    state.relocate(p.carriedEntry, segment);
                    carriesInFlight--;
                } else if (p.record instanceof LogRecord.Decision d) {
                    state.putDecision(d.serial(), d.decision(), p.frame.length, segment);
                } else if (p.record instanceof LogRecord.Heuristic h) {
                    state.putHeuristic(h.serial(), h.heuristic(), p.frame.length, segment);
                } else if (p.record instanceof LogRecord.End e) {
                    state.endWritten(e.gtrid(), e.endedAtMillis(), segment);
                } else if (p.record instanceof LogRecord.CommitHorizon h) {
                    state.horizonWritten(h.horizonMillis(), p.frame.length, segment);
                }
            }
        } finally {
            lock.unlock();
        }
        for (int i = from; i < to; i++) {
            batch.get(i).wake();
        }
        recordsWritten.addAndGet(to - from);
        dirtyStart = -1;
    }

    private void fail(List<Pending> batch, Throwable cause) {
        String where = current == null ? String.valueOf(config.directory()) : String.valueOf(current.path);
        LogException failed = new LogException("write to " + where + " failed: " + cause, cause);
        Batch queued;
        lock.lock();
        try {
            if (failure == null) {
                failure = failed;
            }
            for (Pending p : batch) {
                failPending(p);
            }
            queued = queue;
            queue = new Batch();
            for (Pending p : queued.records) {
                failPending(p);
            }
        } finally {
            lock.unlock();
        }
        for (Pending p : batch) {
            p.wake();
        }
        for (Pending p : queued.records) {
            p.wake();
        }
        LogMessage.WRITE_FAILED.log("transaction log write failed; callers of this round get an exception and the"
                + " log refuses writes until it is reopened", cause);
        if (dirtyStart >= 0) {
            eraseUnacknowledged(dirtyStart, dirtyLength);
        }
    }

    private void failPending(Pending p) {
        if (p.outcome == Outcome.QUEUED) {
            p.outcome = Outcome.FAILED;
            if (p.carriedEntry != null) {
                carriesInFlight--;
            }
        }
    }

    /**
     * Overwrites the bytes of a failed round with zeros. The write may have reached the page cache although the
     * force failed; left there, a restart could find a commit decision whose caller was told it failed and rolled
     * back.
     */
    private void eraseUnacknowledged(long start, int length) {
        Path path = current.path;
        try {
            SegmentFiles.writeFully(current.channel, ByteBuffer.allocate(length), start);
            current.channel.force(false);
            LogMessage.UNACKNOWLEDGED_ERASED.log("zeroed bytes [" + start + ", " + (start + length) + ") of " + path
                    + ": records of the failed round, none of them reported durable");
        } catch (IOException | RuntimeException e) {
            LogMessage.ERASE_FAILED.log("could not zero bytes [" + start + ", " + (start + length) + ") of " + path
                    + " after a failed write. They hold records whose callers were told they failed; if a restart"
                    + " finds them (look for them in the open report), check those transactions by hand", e);
        } finally {
            dirtyStart = -1;
        }
    }

    // ------------------------------------------------------------------------------------ segments

    private void rotate() throws IOException {
        Segment old = current;
        forceCurrent();
        Segment next = takePreparedOrCreate(old.number + 1);
        lock.lock();
        try {
            segments.addLast(next);
        } finally {
            lock.unlock();
        }
        current = next;
        attachDirect(next);
        try {
            old.closeChannel();
        } catch (IOException e) {
            // Its data was forced above; a failing close loses nothing.
            LogMessage.CLOSE_FAILED.log("closing full segment " + old.path + " failed", e);
        }
    }

    private Segment takePreparedOrCreate(long number) throws IOException {
        Future<Segment> prepared = preparedNext;
        preparedNext = null;
        if (prepared != null) {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return prepared.get();
                    } catch (InterruptedException e) {
                        interrupted = true; // the caller is waiting for durability and must not give up
                    }
                }
            } catch (ExecutionException e) {
                LogMessage.PREALLOCATION_FAILED.log("pre-allocating segment " + number + " in the background"
                        + " failed; trying again in the write path", e.getCause());
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return files.create(number, config.segmentSize());
    }

    private void preallocateNextIfHalfFull() {
        if (preparedNext == null && current.position > current.capacity / 2) {
            long number = current.number + 1;
            int size = config.segmentSize();
            preparedNext = preallocator.submit(() -> files.create(number, size));
        }
    }

    /**
     * Deletes the oldest segments that hold no live record, and when too many segments hold data, queues copies
     * of the oldest one's live records so that it can go after the next round. Called with the lock held.
     *
     * <p>Carrying forward only pays when it frees more than it writes, so it happens only when the oldest segment
     * is at most half live, or the log as a whole is. Without that rule a log whose segments are all live would
     * copy them round and round forever; with it, each carry frees at least half a segment, or the live records
     * end up packed together, at which point carrying stops and CLOG-110 reports the larger footprint.
     */
    private void releaseAndCarryForward() {
        if (segments.size() < 2) {
            return;
        }
        long oldestLive = state.oldestLiveSegment();
        // While a commit that left the recent commits is not yet covered by a horizon record in the log, its END
        // may sit in a segment that is no longer live; nothing is released until the next round writes the horizon.
        boolean horizonWritten = state.horizonTarget() <= state.horizonWritten();
        List<Segment> released = new ArrayList<>();
        while (horizonWritten && segments.size() > 1 && segments.peekFirst().number < oldestLive) {
            released.add(segments.pollFirst());
        }
        if (!released.isEmpty()) {
            deleteOldestFirst(released);
        }
        int count = segments.size();
        if (count <= config.maxSegments() || carriesInFlight > 0) {
            return;
        }
        long oldest = segments.peekFirst().number;
        long half = config.segmentSize() / 2;
        if (state.liveBytesUpTo(oldest) <= half || state.liveBytesUpTo(Long.MAX_VALUE) <= (count - 1) * half) {
            for (Object entry : state.entriesUpTo(oldest)) {
                enqueue(new Pending(LiveState.recordOf(entry), true, entry, null));
                carriesInFlight++;
            }
        }
        if (count > config.maxSegments() + 1 && !boundWarned) {
            boundWarned = true;
            LogMessage.SEGMENT_BOUND_EXCEEDED.log(config.directory() + " holds " + count + " segments with data,"
                    + " more than maxSegments + 1 = " + (config.maxSegments() + 1) + ", because " + state.size()
                    + " live records (" + state.liveBytesUpTo(Long.MAX_VALUE) + " bytes) take a large part of"
                    + " them; they are kept, not dropped. Consider a larger segmentSize.");
        }
    }

    /**
     * Deletes released segments without the lock; one that cannot be deleted goes back, with all after it. The
     * current segment is forced first: the records that made the released ones dead (END records, which are
     * written unforced, and horizon records) must be durable before the records they supersede disappear.
     */
    private void deleteOldestFirst(List<Segment> released) {
        int deleted = 0;
        IOException forceFailure = null;
        lock.unlock();
        try {
            try {
                forceCurrent();
            } catch (IOException e) {
                forceFailure = e;
            }
            if (forceFailure == null) {
                for (Segment s : released) {
                    files.delete(s);
                    deleted++;
                }
            }
        } catch (IOException e) {
            Segment stuck = released.get(deleted);
            if (lastDeleteFailureLogged != stuck.number) {
                lastDeleteFailureLogged = stuck.number;
                LogMessage.SEGMENT_DELETE_FAILED.log("could not delete released segment " + stuck.path
                        + "; will retry after later rounds", e);
            }
        } finally {
            lock.lock();
        }
        for (int i = released.size() - 1; i >= deleted; i--) {
            segments.addFirst(released.get(i));
        }
        if (forceFailure != null) {
            fail(List.of(), forceFailure); // the written but unforced records may be lost: fence the log
        }
    }
}
