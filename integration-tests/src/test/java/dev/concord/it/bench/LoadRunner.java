package dev.concord.it.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs a workload on N threads of a contender: each thread makes its worker (connections are opened before the
 * clock starts), then all commit in a closed loop; the first {@code warmupMillis} are not counted, the next
 * {@code measureMillis} are. The loop keeps running across the boundary, so the measured window starts warm.
 */
final class LoadRunner {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /**
     * What one measured window gave.
     *
     * @param transactions   committed in the window
     * @param seconds        length of the window
     * @param cpuNanos       CPU time of the whole process in the window (all threads: workers, the engine's own,
     *                       JIT and GC)
     * @param forces         log forces in the window, or -1 when not counted
     * @param committedTotal committed from start to stop, warm-up included
     * @param proc           user and system CPU and context switches in the window, from /proc
     */
    record Measurement(long transactions, double seconds, long cpuNanos, long forces, long committedTotal,
                       ProcStats proc) {
        double tps() {
            return transactions / seconds;
        }

        double cpuMicrosPerTx() {
            return transactions == 0 ? Double.NaN : cpuNanos / 1e3 / transactions;
        }

        double userMicrosPerTx() {
            return perTx(proc.userNanos() / 1e3);
        }

        double systemMicrosPerTx() {
            return perTx(proc.systemNanos() / 1e3);
        }

        double contextSwitchesPerTx() {
            return perTx(proc.contextSwitches());
        }

        private double perTx(double v) {
            return v < 0 || transactions == 0 ? Double.NaN : v / transactions;
        }

        double forcesPerTx() {
            return forces < 0 || transactions == 0 ? Double.NaN : forces / (double) transactions;
        }
    }

    private LoadRunner() {
    }

    static Measurement run(Contender contender, Workload workload, int threads, long warmupMillis, long measureMillis)
            throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        LongAdder done = new LongAdder();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int index = i;
            Thread t = new Thread(() -> {
                Contender.Worker worker;
                try {
                    worker = contender.worker(workload, index);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    stop.set(true);
                    ready.countDown();
                    return;
                }
                ready.countDown();
                try (Contender.Worker w = worker) {
                    go.await();
                    while (!stop.get()) {
                        w.transaction();
                        done.increment();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    stop.set(true);
                }
            }, "bench-" + workload.id + "-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        try {
            if (!ready.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("workers not ready after 120 s");
            }
            go.countDown();
            sleep(warmupMillis, failure);
            long n0 = done.sum();
            ProcStats p0 = ProcStats.now();
            long cpu0 = OS.getProcessCpuTime();
            long f0 = contender.forceCount();
            long t0 = System.nanoTime();
            sleep(measureMillis, failure);
            long n1 = done.sum();
            long cpu1 = OS.getProcessCpuTime();
            ProcStats p1 = ProcStats.now();
            long f1 = contender.forceCount();
            long t1 = System.nanoTime();
            stop.set(true);
            for (Thread t : workers) {
                t.join(TimeUnit.SECONDS.toMillis(120));
                if (t.isAlive()) {
                    throw new IllegalStateException(t.getName() + " did not stop within 120 s");
                }
            }
            if (failure.get() != null) {
                throw new IllegalStateException(workload.id + " at " + threads + " threads failed", failure.get());
            }
            return new Measurement(n1 - n0, (t1 - t0) / 1e9, cpu1 - cpu0, f0 < 0 ? -1 : f1 - f0, done.sum(),
                    p1.minus(p0));
        } finally {
            stop.set(true);
            go.countDown();
        }
    }

    private static void sleep(long millis, AtomicReference<Throwable> failure) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (long left; (left = end - System.nanoTime()) > 0 && failure.get() == null; ) {
            TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        }
    }
}
