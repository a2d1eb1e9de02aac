package dev.concord.recovery.log.file;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.recovery.xid.XidFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * Throughput of the file log's group commit, next to the raw fsync rate of the disk under it. Not a test: run it
 * with {@code scripts/bench.sh log}.
 *
 * <p>One commit is what the coordinator does for a two-branch transaction: force the commit decision (a database
 * branch and a message branch with broker recovery data), then write END. For each thread count the log is
 * opened fresh, warmed up, then measured for several rounds; the medians are printed, one line per case:
 * <pre>
 *   BENCH fsync fsyncs_per_s=X
 *   BENCH log threads=N mode=direct|page-cache commits_per_s=X forces_per_commit=Y force_us=F cpu_us_per_commit=C
 * </pre>
 * System properties: {@code bench.dir} (parent of the temporary directory, default {@code java.io.tmpdir}: put it
 * on the disk to measure), {@code bench.warmupMillis} (1000), {@code bench.roundMillis} (2000),
 * {@code bench.rounds} (3), {@code bench.threads} (1,4,16,64).
 */
public final class LogBenchmark {
    private static final byte[] BROKER_DATA = new byte[48];

    private LogBenchmark() {
    }

    /** Runs the benchmark; see the class description for the output and the properties. */
    public static void main(String[] args) throws Exception {
        long warmupMillis = Long.getLong("bench.warmupMillis", 1000);
        long roundMillis = Long.getLong("bench.roundMillis", 2000);
        int rounds = Integer.getInteger("bench.rounds", 3);
        int[] threadCounts = Arrays.stream(System.getProperty("bench.threads", "1,4,16,64").split(","))
                .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        Path parent = Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir")));
        Path root = Files.createTempDirectory(parent, "concord-log-bench");
        try {
            rawFsyncsPerSecond(root, warmupMillis);
            double[] fsyncRates = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                fsyncRates[r] = rawFsyncsPerSecond(root, roundMillis);
            }
            System.out.printf(Locale.ROOT, "BENCH fsync fsyncs_per_s=%.0f%n", median(fsyncRates));
            for (int threads : threadCounts) {
                // Direct writes (the default) and the page-cache path side by side, each in a fresh directory.
                for (boolean direct : new boolean[] {true, false}) {
                    Path directory = root.resolve("threads-" + threads + (direct ? "-direct" : "-page-cache"));
                    try (FileTransactionLog log = FileTransactionLog.open(FileLogConfig.builder(directory)
                            .directWrites(direct).forceObserver(FORCES).build())) {
                        XidFactory xids = new XidFactory("bench-" + threads);
                        commit(log, xids, threads, warmupMillis);
                        double[] rates = new double[rounds];
                        double[] forcesPerCommit = new double[rounds];
                        double[] forceMicros = new double[rounds];
                        double[] cpuMicros = new double[rounds];
                        for (int r = 0; r < rounds; r++) {
                            double[] result = commit(log, xids, threads, roundMillis);
                            rates[r] = result[0];
                            forcesPerCommit[r] = result[1];
                            forceMicros[r] = result[2];
                            cpuMicros[r] = result[3];
                        }
                        System.out.printf(Locale.ROOT, "BENCH log threads=%d mode=%s commits_per_s=%.0f"
                                + " forces_per_commit=%.3f force_us=%.0f cpu_us_per_commit=%.1f%n", threads,
                                log.writesDirectly() ? "direct" : "page-cache", median(rates),
                                median(forcesPerCommit), median(forceMicros), median(cpuMicros));
                    }
                }
            }
        } finally {
            deleteRecursively(root);
        }
    }

    /** The disk's own rate for the pattern the log needs: a small write into a pre-allocated file, then a force. */
    private static double rawFsyncsPerSecond(Path root, long millis) throws IOException {
        Path file = root.resolve("fsync.bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1 << 20), 0);
            channel.force(true);
            ByteBuffer one = ByteBuffer.allocateDirect(1);
            long count = 0;
            long start = System.nanoTime();
            long end = start + millis * 1_000_000;
            long now;
            do {
                one.clear().put(0, (byte) count);
                channel.write(one, (count * 512) % (1 << 20));
                channel.force(false);
                count++;
                now = System.nanoTime();
            } while (now < end);
            return count / ((now - start) / 1e9);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Commits from {@code threads} threads for {@code millis}; returns commits per second and forces per commit. */
    private static double[] commit(FileTransactionLog log, XidFactory xids, int threads, long millis)
            throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder commits = new LongAdder();
        List<Throwable> failures = new ArrayList<>();
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                    while (!stop.get()) {
                        Gtrid gtrid = xids.newGtrid();
                        log.forceCommitDecision(new CommitDecision(gtrid, System.currentTimeMillis(), List.of(
                                new BranchRecord("orders-db", 1, null),
                                new BranchRecord("events-mq", 2, BROKER_DATA))));
                        log.writeEnd(gtrid);
                        commits.increment();
                    }
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            }, "bench-committer-" + t);
            workers.add(worker);
            worker.start();
        }
        long forcesBefore = log.forceCount();
        long forceNanosBefore = FORCE_NANOS.sum();
        long observedBefore = FORCES_OBSERVED.sum();
        long cpuBefore = processCpuNanos();
        start.await();
        long begin = System.nanoTime();
        Thread.sleep(millis);
        stop.set(true);
        for (Thread worker : workers) {
            worker.join();
        }
        double seconds = (System.nanoTime() - begin) / 1e9;
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a committer failed", failures.get(0));
        }
        long done = commits.sum();
        long observed = Math.max(1, FORCES_OBSERVED.sum() - observedBefore);
        return new double[] {done / seconds, (log.forceCount() - forcesBefore) / (double) Math.max(1, done),
                (FORCE_NANOS.sum() - forceNanosBefore) / 1e3 / observed,
                (processCpuNanos() - cpuBefore) / 1e3 / Math.max(1, done)};
    }

    private static final LongAdder FORCE_NANOS = new LongAdder();
    private static final LongAdder FORCES_OBSERVED = new LongAdder();
    private static final ForceObserver FORCES = (nanos, records) -> {
        FORCE_NANOS.add(nanos);
        FORCES_OBSERVED.increment();
    };

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
