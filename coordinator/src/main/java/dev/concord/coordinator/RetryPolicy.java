package dev.concord.coordinator;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Capped exponential backoff with jitter for phase-2 retries: attempt n waits {@code initial × 2^(n-1)}, at most
 * {@code max}, then a random factor in [1 - jitter, 1 + jitter] spreads the retries of many transactions.
 */
public final class RetryPolicy {
    private final Duration initial;
    private final Duration max;
    private final double jitter;

    public RetryPolicy(Duration initial, Duration max, double jitter) {
        if (initial.isNegative() || initial.isZero()) {
            throw new IllegalArgumentException("initial retry delay must be positive, got " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("max retry delay " + max + " is below the initial delay " + initial);
        }
        if (jitter < 0 || jitter >= 1) {
            throw new IllegalArgumentException("retry jitter must be in [0, 1), got " + jitter);
        }
        this.initial = initial;
        this.max = max;
        this.jitter = jitter;
    }

    /** 200 ms doubling up to 30 s, ±20 %. */
    public static RetryPolicy defaults() {
        return new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(30), 0.2);
    }

    /** The delay before retry number {@code attempt} (1 for the first retry). */
    public long delayMillis(int attempt) {
        int shift = Math.min(Math.max(attempt - 1, 0), 30);
        double base = Math.min((double) initial.toMillis() * (1L << shift), (double) max.toMillis());
        double factor = jitter == 0 ? 1.0 : 1.0 + ThreadLocalRandom.current().nextDouble(-jitter, jitter);
        return Math.max(1L, Math.round(base * factor));
    }

    public Duration initial() {
        return initial;
    }

    public Duration max() {
        return max;
    }

    public double jitter() {
        return jitter;
    }
}
