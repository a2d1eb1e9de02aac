package dev.concord.it.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * What one measured window gave.
     *
     * @param transactions   committed in the window
     * @param seconds        length of the window
     * @param cpuNanos       CPU time of the whole process in the window (all threads: workers, the engine's own,
     *                       JIT and GC)
     * @param forces         log forces in the window, or -1 when not counted
     * @param forceNanos     time spent in those forces, or -1 when not measured
     * @param committedTotal committed from start to stop, warm-up included
     * @param proc           user and system CPU, context switches and the JIT compilers' CPU in the window, from
     *                       /proc
     * @param allocatedBytes heap bytes allocated in the window by the threads alive at its end (every thread of
     *                       the workload and the engine lives through it), or -1 when the JVM cannot tell
     * @param machine        busy CPU of all cores and flushes of the benchmark's disk in the window, every process
     *                       of the machine included
     */
    record Measurement(long transactions, double seconds, long cpuNanos, long forces, long forceNanos,
                       long committedTotal, ProcStats proc, long allocatedBytes, MachineStats machine) {
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

        /** CPU of the JIT compiler threads per transaction: included in {@link #cpuMicrosPerTx()}. */
        double compilerMicrosPerTx() {
            return perTx(proc.compilerNanos() / 1e3);
        }

        private double perTx(double v) {
            return v < 0 || transactions == 0 ? Double.NaN : v / transactions;
        }

        /** Busy CPU of the whole machine (database servers included) per transaction. */
        double machineCpuMicrosPerTx() {
            return perTx(machine.busyNanos() / 1e3);
        }

        /** Busy share of all the machine's cores in the window, 0 to 1. */
        double machineBusy() {
            return machine.busyNanos() < 0 || machine.cores() <= 0 ? Double.NaN
                    : machine.busyNanos() / (seconds * 1e9 * machine.cores());
        }

        /** Flushes of the benchmark's disk per transaction, by every process (database servers included). */
        double diskFlushesPerTx() {
            return perTx(machine.diskFlushes());
        }

        /** Flushes of the benchmark's disk per second in the window. */
        double diskFlushesPerSecond() {
            return machine.diskFlushes() < 0 ? Double.NaN : machine.diskFlushes() / seconds;
        }

        double allocatedBytesPerTx() {
            return perTx(allocatedBytes);
        }

        double forcesPerTx() {
            return forces < 0 || transactions == 0 ? Double.NaN : forces / (double) transactions;
        }

        /** Mean duration of one log force in the window, in microseconds. */
        double microsPerForce() {
            return forceNanos < 0 || forces <= 0 ? Double.NaN : forceNanos / 1e3 / forces;
        }
    }

    private LoadRunner() {
    }

    /** Runs the workload; {@code disk} names the disk whose flushes are counted ({@link MachineStats#diskOf}). */
    static Measurement run(Contender contender, Workload workload, int threads, long warmupMillis, long measureMillis,
                           String disk) throws Exception {
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
            MachineStats m0 = MachineStats.now(disk);
            long cpu0 = OS.getProcessCpuTime();
            long f0 = contender.forceCount();
            long fn0 = contender.forceNanos();
            Map<Long, Long> a0 = allocatedByThread();
            long t0 = System.nanoTime();
            sleep(measureMillis, failure);
            long n1 = done.sum();
            long cpu1 = OS.getProcessCpuTime();
            ProcStats p1 = ProcStats.now();
            MachineStats m1 = MachineStats.now(disk);
            long f1 = contender.forceCount();
            long fn1 = contender.forceNanos();
            Map<Long, Long> a1 = allocatedByThread();
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
            return new Measurement(n1 - n0, (t1 - t0) / 1e9, cpu1 - cpu0, f0 < 0 ? -1 : f1 - f0,
                    fn0 < 0 ? -1 : fn1 - fn0, done.sum(), p1.minus(p0), allocatedBetween(a0, a1), m1.minus(m0));
        } finally {
            stop.set(true);
            go.countDown();
        }
    }

    /** Bytes allocated so far by each live thread, by thread id; empty when the JVM does not count them. */
    private static Map<Long, Long> allocatedByThread() {
        Map<Long, Long> out = new HashMap<>();
        if (!THREADS.isThreadAllocatedMemorySupported() || !THREADS.isThreadAllocatedMemoryEnabled()) {
            return out;
        }
        long[] ids = THREADS.getAllThreadIds();
        long[] bytes = THREADS.getThreadAllocatedBytes(ids);
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] >= 0) {
                out.put(ids[i], bytes[i]);
            }
        }
        return out;
    }

    /** What the threads alive at the end allocated since the start (all of it for threads started since). */
    private static long allocatedBetween(Map<Long, Long> start, Map<Long, Long> end) {
        if (end.isEmpty()) {
            return -1;
        }
        long sum = 0;
        for (Map.Entry<Long, Long> e : end.entrySet()) {
            sum += e.getValue() - start.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }

    private static void sleep(long millis, AtomicReference<Throwable> failure) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (long left; (left = end - System.nanoTime()) > 0 && failure.get() == null; ) {
            TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        }
    }
}
