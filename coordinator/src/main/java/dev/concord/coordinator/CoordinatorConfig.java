package dev.concord.coordinator;

import dev.concord.recovery.xid.Gtrid;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * The engine's settings: typed, validated when built, immutable afterwards.
 */
public final class CoordinatorConfig {
    private final String nodeId;
    private final Duration defaultTimeout;
    private final Duration maxTimeout;
    private final RetryPolicy retryPolicy;
    private final int workerThreads;
    private final int parallelCommitLimit;
    private final Duration reaperInterval;
    private final Clock clock;

    private CoordinatorConfig(Builder b) {
        this.nodeId = b.nodeId;
        this.defaultTimeout = b.defaultTimeout;
        this.maxTimeout = b.maxTimeout;
        this.retryPolicy = b.retryPolicy;
        this.workerThreads = b.workerThreads;
        this.parallelCommitLimit = b.parallelCommitLimit;
        this.reaperInterval = b.reaperInterval;
        this.clock = b.clock;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The node id written into every gtrid; recovery touches only this node's XIDs. */
    public String nodeId() {
        return nodeId;
    }

    /** Timeout of a transaction that did not set its own. */
    public Duration defaultTimeout() {
        return defaultTimeout;
    }

    /** Longest timeout a caller may ask for. */
    public Duration maxTimeout() {
        return maxTimeout;
    }

    public RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    /** Threads for parallel prepare and phase-2 retries. */
    public int workerThreads() {
        return workerThreads;
    }

    /**
     * Up to how many transactions in two-phase commit at once (prepare, the decision's force, phase 2) a
     * transaction with two or more slow branches (network round trips) still prepares and commits them in parallel,
     * handing all but one to worker threads; with more, each calls its branches one after the other on its own
     * thread, since the cores are busy anyway and a hand-off would only add CPU (see {@code Parallel}). 0 never
     * hands off. Default: the number of processors.
     */
    public int parallelCommitLimit() {
        return parallelCommitLimit;
    }

    /** How often the reaper looks for transactions past their timeout; a timeout fires at most this late. */
    public Duration reaperInterval() {
        return reaperInterval;
    }

    public Clock clock() {
        return clock;
    }

    /**
     * Builder with defaults: node id "concord-1", timeout 60 s (max 1 h), {@link RetryPolicy#defaults()}, 32 worker
     * threads, parallel commits up to the number of processors, reaper sweep every 100 ms.
     */
    public static final class Builder {
        private String nodeId = "concord-1";
        private Duration defaultTimeout = Duration.ofSeconds(60);
        private Duration maxTimeout = Duration.ofHours(1);
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private int workerThreads = 32;
        private int parallelCommitLimit = Runtime.getRuntime().availableProcessors();
        private Duration reaperInterval = Duration.ofMillis(100);
        private Clock clock = Clock.systemUTC();

        public Builder nodeId(String v) {
            this.nodeId = v;
            return this;
        }

        public Builder defaultTimeout(Duration v) {
            this.defaultTimeout = v;
            return this;
        }

        public Builder maxTimeout(Duration v) {
            this.maxTimeout = v;
            return this;
        }

        public Builder retryPolicy(RetryPolicy v) {
            this.retryPolicy = v;
            return this;
        }

        public Builder workerThreads(int v) {
            this.workerThreads = v;
            return this;
        }

        /** See {@link CoordinatorConfig#parallelCommitLimit()}; 0 never hands a branch to a worker. */
        public Builder parallelCommitLimit(int v) {
            this.parallelCommitLimit = v;
            return this;
        }

        public Builder reaperInterval(Duration v) {
            this.reaperInterval = v;
            return this;
        }

        public Builder clock(Clock v) {
            this.clock = v;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException naming the setting and the problem
         */
        public CoordinatorConfig build() {
            Gtrid.validateNodeId(nodeId);
            Objects.requireNonNull(retryPolicy, "retryPolicy");
            Objects.requireNonNull(clock, "clock");
            if (defaultTimeout == null || defaultTimeout.isNegative() || defaultTimeout.isZero()) {
                throw new IllegalArgumentException("defaultTimeout must be positive, got " + defaultTimeout);
            }
            if (maxTimeout == null || maxTimeout.compareTo(defaultTimeout) < 0) {
                throw new IllegalArgumentException("maxTimeout " + maxTimeout + " is below defaultTimeout " + defaultTimeout);
            }
            if (reaperInterval == null || reaperInterval.toMillis() < 1 || reaperInterval.compareTo(defaultTimeout) > 0) {
                throw new IllegalArgumentException("reaperInterval must be between 1 ms and defaultTimeout, got "
                        + reaperInterval);
            }
            if (workerThreads < 1) {
                throw new IllegalArgumentException("workerThreads must be >= 1, got " + workerThreads);
            }
            if (parallelCommitLimit < 0) {
                throw new IllegalArgumentException("parallelCommitLimit must be >= 0, got " + parallelCommitLimit);
            }
            return new CoordinatorConfig(this);
        }
    }
}
