package dev.concord.coordinator;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * How long prepare and phase-2 calls take, per resource name, so that {@link Parallel} runs quick branches on the
 * calling thread and sends only slow ones (network round trips) to the workers. Handing a branch to another thread
 * costs a wake-up and a park, tens of microseconds of latency and several of CPU: more than a call on an in-process
 * resource takes, less than a database round trip.
 *
 * <p>Each resource keeps a moving average of its calls (each new call weighs an eighth). A resource not yet seen
 * counts as slow, so the first calls on a database go out in parallel; a quick resource that turns slow is
 * noticed within a few calls. Updates race harmlessly: an estimate is a hint, never a protocol decision.
 */
final class ResourceLatency {
    /** Calls that take longer than this on average are worth a thread of their own. */
    static final long QUICK_NANOS = 50_000;

    private final Map<String, long[]> averageNanos = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;

    ResourceLatency() {
        this(System::nanoTime);
    }

    ResourceLatency(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** True when calls on this resource take, on average, less than a hand-off to another thread costs. */
    boolean isQuick(String resourceName) {
        long[] avg = averageNanos.get(resourceName);
        return avg != null && avg[0] < QUICK_NANOS;
    }

    /** The current time, to pass to {@link #record}. */
    long start() {
        return nanoTime.getAsLong();
    }

    /** Records a call on the resource that began at {@code startNanos}. */
    void record(String resourceName, long startNanos) {
        long took = Math.max(0, nanoTime.getAsLong() - startNanos);
        long[] avg = averageNanos.get(resourceName);
        if (avg == null) {
            averageNanos.putIfAbsent(resourceName, new long[] {took});
        } else {
            avg[0] += (took - avg[0]) / 8;
        }
    }
}
