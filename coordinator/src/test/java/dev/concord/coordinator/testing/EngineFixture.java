package dev.concord.coordinator.testing;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.CoordinatorListener;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.RetryPolicy;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import java.time.Duration;

/** A coordinator over a {@link RecordingLog} and mock resource managers, with fast retries, for engine tests. */
public final class EngineFixture implements AutoCloseable {
    public final EventRecorder events = new EventRecorder();
    public final RecordingLog log = new RecordingLog(events);
    public final ResourceRegistry registry = new ResourceRegistry();
    public final Coordinator coordinator;
    public final ConcordTransactionManager tm;

    public EngineFixture() {
        this(Duration.ofSeconds(30));
    }

    public EngineFixture(Duration defaultTimeout) {
        this(defaultTimeout, CoordinatorListener.NONE);
    }

    /** An engine that reports to {@code listener}. */
    public EngineFixture(CoordinatorListener listener) {
        this(Duration.ofSeconds(30), listener);
    }

    private EngineFixture(Duration defaultTimeout, CoordinatorListener listener) {
        this(defaultTimeout, listener, Runtime.getRuntime().availableProcessors());
    }

    private EngineFixture(Duration defaultTimeout, CoordinatorListener listener, int parallelCommitLimit) {
        CoordinatorConfig config = CoordinatorConfig.builder()
                .nodeId("test-node")
                .defaultTimeout(defaultTimeout)
                .reaperInterval(Duration.ofMillis(10))
                .retryPolicy(new RetryPolicy(Duration.ofMillis(5), Duration.ofMillis(50), 0.2))
                .parallelCommitLimit(parallelCommitLimit)
                .build();
        coordinator = new Coordinator(config, log, registry, listener, null);
        tm = new ConcordTransactionManager(coordinator);
    }

    /** An engine whose {@link CoordinatorConfig#parallelCommitLimit()} is {@code limit}, whatever the machine. */
    public static EngineFixture withParallelCommitLimit(int limit) {
        return new EngineFixture(Duration.ofSeconds(30), CoordinatorListener.NONE, limit);
    }

    /** A database RM registered under {@code name}. */
    public MockResourceManager database(String name) {
        MockResourceManager rm = new MockResourceManager(name, BranchKind.DATABASE, events);
        registry.register(rm);
        return rm;
    }

    /** A message RM registered under {@code name}. */
    public MockResourceManager messages(String name) {
        MockResourceManager rm = new MockResourceManager(name, BranchKind.MESSAGE, events);
        registry.register(rm);
        return rm;
    }

    @Override
    public void close() {
        coordinator.close();
    }
}
