package dev.concord.service.core;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorListener;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.PhaseTwoJob;
import dev.concord.coordinator.TxState;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogReader;
import dev.concord.recovery.log.file.ForceObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The service's Prometheus metrics (Micrometer). Transactions begun, committed, rolled back and heuristic
 * (counters fed by the engine's {@link CoordinatorListener} hooks); commit latency as seen by a client, by result;
 * the phases of two-phase commit (prepare, forcing the commit decision as the committer waits for it, phase 2 until
 * every branch is finished, retries included); the file log's forces (how long each took and how many records it
 * made durable — the group-commit batch) and its write failures; gauges for transactions in flight, in-doubt
 * transactions (logged commit decisions whose phase 2 has not finished), the recovery lag (age of the oldest of
 * them) and heuristic outcomes not yet forgotten; JVM basics.
 *
 * <p>Every meter on the commit path is registered up front and recorded without locks; the gauges are computed
 * only when scraped.
 *
 * <p>Names as scraped: {@code concord_transactions_begun_total}, {@code concord_transactions_committed_total},
 * {@code concord_transactions_rolled_back_total}, {@code concord_transactions_heuristic_total{state}},
 * {@code concord_commit_duration_seconds{result}}, {@code concord_prepare_duration_seconds},
 * {@code concord_decision_force_duration_seconds}, {@code concord_phase2_duration_seconds{direction}},
 * {@code concord_log_force_duration_seconds}, {@code concord_log_force_batch_records},
 * {@code concord_log_write_failures_total}, {@code concord_transactions_in_flight},
 * {@code concord_transactions_in_doubt}, {@code concord_recovery_lag_seconds}, {@code concord_heuristics_pending}.
 */
public final class ServiceMetrics implements CoordinatorListener, ForceObserver {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter begun;
    private final Counter committed;
    private final Counter rolledBack;
    private final Timer prepare;
    private final Timer decisionForce;
    private final Timer phaseTwoCommit;
    private final Timer phaseTwoRollback;
    private final Timer logForce;
    private final DistributionSummary logForceBatch;
    private final Counter logFailures;
    private final Clock clock;
    /** Creates the registry and the counters; gauges come with {@link #bind}. */
    public ServiceMetrics() {
        this(Clock.systemUTC());
    }

    /** The same, with the clock the recovery lag is measured by. */
    public ServiceMetrics(Clock clock) {
        this.clock = clock;
        begun = Counter.builder("concord.transactions.begun").description("Transactions begun").register(registry);
        committed = Counter.builder("concord.transactions.committed")
                .description("Transactions that ended committed").register(registry);
        rolledBack = Counter.builder("concord.transactions.rolled.back")
                .description("Transactions that ended rolled back").register(registry);
        prepare = timer("concord.prepare.duration", "Prepare phases of two-phase commits, until every branch voted",
                Duration.ofSeconds(60)).register(registry);
        decisionForce = timer("concord.decision.force.duration", "Forcing a commit decision to the log, as the "
                + "committer waits for it (group commit included)", Duration.ofSeconds(10)).register(registry);
        phaseTwoCommit = phaseTwo("commit");
        phaseTwoRollback = phaseTwo("rollback");
        logForce = timer("concord.log.force.duration", "Forces (fsync) of the transaction log file, one per "
                + "group-commit round", Duration.ofSeconds(10)).register(registry);
        logForceBatch = DistributionSummary.builder("concord.log.force.batch").baseUnit("records")
                .description("Records made durable by one force of the transaction log (the group-commit batch)")
                .publishPercentileHistogram().minimumExpectedValue(1.0).maximumExpectedValue(10_000.0)
                .register(registry);
        logFailures = Counter.builder("concord.log.write.failures")
                .description("Transaction log writes that failed").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Registers the gauges that read the engine and the log. */
    public void bind(Coordinator coordinator, LogReader log) {
        gauge("concord.transactions.in.flight", "Transactions in flight (active or with phase 2 unfinished)",
                () -> coordinator.inFlight().size());
        gauge("concord.transactions.in.doubt", "Logged commit decisions whose phase 2 has not finished",
                () -> log.unfinishedDecisions().size());
        gauge("concord.recovery.lag.seconds", "Seconds since the oldest logged commit decision whose phase 2 has not "
                + "finished was made; 0 when there is none", () -> recoveryLagSeconds(log));
        gauge("concord.heuristics.pending", "Heuristic branch outcomes no operator has forgotten yet",
                () -> log.heuristics().size());
    }

    private void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    private double recoveryLagSeconds(LogReader log) {
        long oldest = Long.MAX_VALUE;
        for (CommitDecision d : log.unfinishedDecisions()) {
            oldest = Math.min(oldest, d.decidedAtMillis());
        }
        return oldest == Long.MAX_VALUE ? 0 : Math.max(0, clock.millis() - oldest) / 1000.0;
    }

    private static Timer.Builder timer(String name, String description, Duration max) {
        return Timer.builder(name).description(description).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(max);
    }

    private Timer phaseTwo(String direction) {
        return timer("concord.phase2.duration", "Phase 2 of a transaction (online or recovered), until every branch "
                + "is finished, retries included", Duration.ofHours(1)).tag("direction", direction)
                .register(registry);
    }

    @Override
    public void prepared(GlobalTransaction tx, long nanos) {
        prepare.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void phaseTwoFinished(PhaseTwoJob job, long nanos) {
        (job.direction() == PhaseTwoJob.Direction.COMMIT ? phaseTwoCommit : phaseTwoRollback)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** One force of the file log: its duration and the records it made durable. */
    @Override
    public void forced(long nanos, int records) {
        logForce.record(nanos, TimeUnit.NANOSECONDS);
        logForceBatch.record(records);
    }

    @Override
    public void begun(GlobalTransaction tx) {
        begun.increment();
    }

    @Override
    public void completed(GlobalTransaction tx) {
        TxState s = tx.state();
        if (s == TxState.COMMITTED) {
            committed.increment();
        } else if (s == TxState.ROLLED_BACK) {
            rolledBack.increment();
        } else if (s.isHeuristic()) {
            Counter.builder("concord.transactions.heuristic").description("Transactions that ended heuristically")
                    .tag("state", s.name().toLowerCase(Locale.ROOT)).register(registry).increment();
        }
    }

    /** Records how long a client's commit request took, by result (committed, rolled_back, heuristic, ...). */
    public void commitLatency(long nanos, String result) {
        Timer.builder("concord.commit.duration").description("Commit requests, from request to answer")
                .tag("result", result).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry)
                .record(Duration.ofNanos(nanos));
    }

    /** Records how long a committer waited for its commit decision to be forced. */
    public void decisionForce(long nanos) {
        decisionForce.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts one failed log write. */
    public void logFailure() {
        logFailures.increment();
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    /** The registry, for tests and further binders. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }
}
