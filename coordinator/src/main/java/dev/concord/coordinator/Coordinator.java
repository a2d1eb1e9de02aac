package dev.concord.coordinator;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.LogReader;
import dev.concord.recovery.log.LogWriter;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.outcome.OutcomeIndex;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.recovery.xid.XidFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The two-phase-commit engine: begins global transactions, enforces their timeouts, and owns the threads that
 * prepare branches in parallel and retry phase 2. The JTA classes and the service are thin layers over it.
 *
 * <p>Presumed abort: nothing is logged for a rollback or for a transaction with fewer than two voting branches;
 * with two or more, the commit decision is forced through the {@link LogWriter} before any phase-2 call, and END
 * is written unforced once every branch acknowledged.
 */
public final class Coordinator implements AutoCloseable {
    private final CoordinatorConfig config;
    private final LogWriter log;
    private final ResourceRegistry registry;
    private final XidFactory xids;
    private final ScheduledExecutorService timer;
    private final ExecutorService workers;
    private final ResourceLatency latency = new ResourceLatency();
    private final Parallel parallel;
    private final Preparer preparer;
    private final Map<Gtrid, GlobalTransaction> inFlight = new ConcurrentHashMap<>();
    private final CoordinatorListener listener;
    private final OutcomeIndex outcomes;

    /** An engine whose outcome index starts empty: earlier incarnations' transactions are answered UNKNOWN. */
    public Coordinator(CoordinatorConfig config, LogWriter log, ResourceRegistry registry) {
        this(config, log, registry, CoordinatorListener.NONE, null);
    }

    /**
     * An engine.
     *
     * @param outcomes the outcome index opened on the same log before this engine starts, or null for an empty one
     */
    public Coordinator(CoordinatorConfig config, LogWriter log, ResourceRegistry registry, CoordinatorListener listener,
                       OutcomeIndex outcomes) {
        this.config = config;
        this.outcomes = outcomes != null ? outcomes : OutcomeIndex.open(config.nodeId(), OutcomeIndex.DEFAULT_RETENTION,
                OutcomeIndex.DEFAULT_MAX_COMMITS, config.clock(), NOTHING_LOGGED);
        if (!this.outcomes.nodeId().equals(config.nodeId())) {
            throw new IllegalArgumentException("the outcome index is for node " + this.outcomes.nodeId()
                    + ", the engine for node " + config.nodeId());
        }
        this.log = log;
        this.registry = registry;
        this.listener = listener;
        this.xids = new XidFactory(config.nodeId(), config.clock());
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, daemonThreads("concord-timer"));
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        this.workers = new ThreadPoolExecutor(0, config.workerThreads(), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), daemonThreads("concord-worker"), Coordinator::runHereUnlessClosed);
        this.parallel = new Parallel(workers, latency, config.parallelCommitLimit());
        this.preparer = new Preparer(parallel);
        long sweep = config.reaperInterval().toMillis();
        timer.scheduleWithFixedDelay(this::reapExpired, sweep, sweep, TimeUnit.MILLISECONDS);
    }

    /**
     * The timeout reaper: one sweep over the transactions in flight, rolling back those past their deadline. A
     * sweep instead of a timer task per transaction keeps begin and commit free of timer-queue work.
     */
    private void reapExpired() {
        long now = config.clock().millis();
        for (GlobalTransaction tx : inFlight.values()) {
            if (tx.claimExpiry(now)) {
                try {
                    workers.execute(tx::expire);
                } catch (RejectedExecutionException e) {
                    return; // closing: a transaction left in flight is presumed aborted by recovery
                }
            }
        }
    }

    /**
     * Begins a global transaction.
     *
     * @param timeout null or zero for the configured default
     * @throws IllegalArgumentException when the timeout is negative or above the configured maximum
     */
    public GlobalTransaction begin(Duration timeout) {
        Duration t = timeout == null || timeout.isZero() ? config.defaultTimeout() : timeout;
        if (t.isNegative()) {
            throw new IllegalArgumentException("transaction timeout must not be negative, got " + t);
        }
        if (t.compareTo(config.maxTimeout()) > 0) {
            throw new IllegalArgumentException("transaction timeout " + t + " exceeds the maximum " + config.maxTimeout());
        }
        Gtrid gtrid = xids.newGtrid();
        GlobalTransaction tx = new GlobalTransaction(this, gtrid, t);
        inFlight.put(gtrid, tx);
        listener.begun(tx);
        return tx;
    }

    /** The transaction with this id while it is in flight (active, or with phase 2 unfinished). */
    public Optional<GlobalTransaction> find(Gtrid gtrid) {
        return Optional.ofNullable(inFlight.get(gtrid));
    }

    /** Every transaction in flight. */
    public Collection<GlobalTransaction> inFlight() {
        return List.copyOf(inFlight.values());
    }

    /** Begin time of the oldest transaction in flight; recovery leaves every XID begun at or after it alone. */
    public OptionalLong oldestInFlightBeginMillis() {
        return inFlight.keySet().stream().mapToLong(Gtrid::beginMillis).min();
    }

    /**
     * Did this transaction commit? COMMIT once its decision is made, UNKNOWN while it is in flight without one,
     * ROLLBACK for this incarnation's transactions that ended without a commit (see {@link OutcomeIndex}).
     */
    public Outcome outcomeOf(Gtrid gtrid) {
        return outcomes.outcomeOf(gtrid, inFlight::containsKey);
    }

    /** The outcome index the engine keeps up to date. */
    public OutcomeIndex outcomes() {
        return outcomes;
    }

    public XidFactory xids() {
        return xids;
    }

    public CoordinatorConfig config() {
        return config;
    }

    public ResourceRegistry registry() {
        return registry;
    }

    LogWriter log() {
        return log;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    ExecutorService workers() {
        return workers;
    }

    Parallel parallel() {
        return parallel;
    }

    Preparer preparer() {
        return preparer;
    }

    CoordinatorListener listener() {
        return listener;
    }

    void ended(GlobalTransaction tx) {
        inFlight.remove(tx.gtrid());
        listener.completed(tx);
    }

    /** Creates a phase-2 job for branches known from a recovered commit decision or prepared-branch scan. */
    public PhaseTwoJob newPhaseTwoJob(Gtrid gtrid, PhaseTwoJob.Direction direction, List<Branch> branches) {
        return new PhaseTwoJob(gtrid, direction, branches, this);
    }

    /** Stops the timer and worker threads; unfinished phase 2 is left to recovery. */
    @Override
    public void close() {
        timer.shutdownNow();
        workers.shutdown();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final LogReader NOTHING_LOGGED = new LogReader() {
        @Override
        public List<CommitDecision> unfinishedDecisions() {
            return List.of();
        }

        @Override
        public List<HeuristicRecord> heuristics() {
            return List.of();
        }
    };

    /**
     * The worker pool's answer when all its threads are busy: the caller runs the task itself. Once the pool is
     * shut down it refuses instead of dropping the task (what {@code CallerRunsPolicy} does), so that whoever
     * handed the task off — a branch call in {@link Parallel}, a phase-2 retry — learns of it and does not wait
     * for work that never runs.
     */
    private static void runHereUnlessClosed(Runnable task, ThreadPoolExecutor pool) {
        if (pool.isShutdown()) {
            throw new RejectedExecutionException("the engine is closed");
        }
        task.run();
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory base = Executors.defaultThreadFactory();
        return r -> {
            Thread t = base.newThread(r);
            t.setName(prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
