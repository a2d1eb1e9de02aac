package dev.concord.it.mqcrash;

import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import java.time.Duration;

/**
 * The embedded broker with short transaction-check settings, so that crash tests can wait out its check-backs: the
 * first check 2 s after a half message was stored, then one per second, at most 3 (a check horizon of 6 s, one
 * interval of margin included), and the op batch interval (200 ms) well below the check interval. SYNC_FLUSH, the
 * default, is kept.
 */
final class ShortChecks {
    static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);

    private ShortChecks() {
    }

    static EmbeddedRocketMq.Builder broker() {
        return EmbeddedRocketMq.builder()
                .transactionTimeout(Duration.ofSeconds(2))
                .transactionCheckInterval(CHECK_INTERVAL)
                .transactionCheckMax(3)
                .transactionOpBatchInterval(Duration.ofMillis(200));
    }

    /**
     * When a broker with {@code horizon} has certainly stopped checking a half message stored before
     * {@code storedBefore} (epoch milliseconds): the horizon plus two check intervals for the scan that drops it.
     */
    static long pastCheckHorizon(long storedBefore, Duration horizon) {
        return storedBefore + horizon.toMillis() + 2 * CHECK_INTERVAL.toMillis();
    }
}
