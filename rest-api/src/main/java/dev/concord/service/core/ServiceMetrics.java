package dev.concord.service.core;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorListener;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.TxState;
import dev.concord.recovery.log.LogReader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The service's Prometheus metrics (Micrometer). Transactions begun, committed, rolled back and heuristic
 * (counters fed by the engine's {@link CoordinatorListener} hooks); commit latency as seen by a client, by result;
 * the log's forced-write latency and failures; gauges for transactions in flight, in-doubt transactions (logged
 * commit decisions whose phase 2 has not finished) and heuristic outcomes not yet forgotten; JVM basics.
 *
 * <p>Names as scraped: {@code concord_transactions_begun_total}, {@code concord_transactions_committed_total},
 * {@code concord_transactions_rolled_back_total}, {@code concord_transactions_heuristic_total{state}},
 * {@code concord_commit_duration_seconds{result}}, {@code concord_log_force_duration_seconds},
 * {@code concord_log_write_failures_total}, {@code concord_transactions_in_flight},
 * {@code concord_transactions_in_doubt}, {@code concord_heuristics_pending}.
 */
public final class ServiceMetrics implements CoordinatorListener {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter begun;
    private final Counter committed;
    private final Counter rolledBack;
    private final Timer logForce;
    private final Counter logFailures;

    /** Creates the registry and the counters; gauges come with {@link #bind}. */
    public ServiceMetrics() {
        begun = Counter.builder("concord.transactions.begun").description("Transactions begun").register(registry);
        committed = Counter.builder("concord.transactions.committed")
                .description("Transactions that ended committed").register(registry);
        rolledBack = Counter.builder("concord.transactions.rolled.back")
                .description("Transactions that ended rolled back").register(registry);
        logForce = Timer.builder("concord.log.force.duration")
                .description("Forced writes of the transaction log (commit decisions and heuristics)")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
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
        gauge("concord.heuristics.pending", "Heuristic branch outcomes no operator has forgotten yet",
                () -> log.heuristics().size());
    }

    private void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
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

    /** Records one forced log write. */
    public void logForce(long nanos) {
        logForce.record(Duration.ofNanos(nanos));
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
