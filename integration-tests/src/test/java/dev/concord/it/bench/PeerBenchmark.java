package dev.concord.it.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Concord side by side with Narayana and Atomikos, in one run on one machine. Not a test: run it with
 * {@code scripts/bench.sh peers [--option=value ...]}.
 *
 * <h2>What it measures</h2>
 * <ul>
 *   <li>{@code nop}: per transaction, begin, enlist two no-I/O XAResources ({@link NoopXAResource}: prepare votes
 *       XA_OK), commit — Narayana's own benchmark shape, so the transaction manager and its durable log are all
 *       that is measured.</li>
 *   <li>{@code xa-db}: one MariaDB branch and one PostgreSQL branch, a one-row insert each into a table the
 *       harness creates, truncates before each contender and drops at the end; plus the hand-written XA baseline
 *       ({@link BaselineContender}: start/end/prepare/commit on both by hand, no transaction manager, no log), the
 *       ceiling. After each contender the harness checks that both tables hold exactly as many rows as the
 *       contender committed. Needs the databases of {@code scripts/test-env.sh}.</li>
 *   <li>{@code rest}: the REST round trip. Not available until the REST service exists; asking for it prints a
 *       note and runs nothing.</li>
 * </ul>
 * Contenders, each with its durable log in its own temporary directory (see their classes for the exact
 * configuration): Concord ({@link ConcordContender}), Narayana with the journal store and with the default shadow
 * store ({@link NarayanaContender}), Atomikos ({@link AtomikosContender}).
 *
 * <h2>How</h2>
 * Each contender runs in a child JVM of its own ({@link PeerBenchmarkChild}, same Java and class path): Narayana
 * and Atomikos configure themselves once per JVM through static singletons. A round starts each contender once,
 * in an order that rotates from round to round; the child warms each workload up, then runs every case (a warm-up,
 * then a measured window) and reports. Right before each child the disk's fsync rate is measured (a 1-byte
 * write and {@code force(false)} loop on a pre-allocated file, in the same directory as the logs), since on a
 * shared machine it drifts. Reported: medians over the rounds (and over all fsync measurements).
 *
 * <h2>Output</h2>
 * One line per case, then the fsync rate, Concord's cost lines, a Markdown table and the targets:
 * <pre>
 *   BENCH workload=nop threads=N concord=TPS narayana=TPS atomikos=TPS ratio_narayana=R ratio_atomikos=R
 *   BENCH workload=xa-db threads=N concord=TPS narayana=TPS atomikos=TPS ratio_narayana=R ratio_atomikos=R baseline=TPS ratio_baseline=R
 *   BENCH fsync fsyncs_per_s=X
 *   BENCH fsync_cost cpu_us_per_fsync=Y
 *   BENCH concord workload=W threads=N forces_per_tx=F cpu_us_per_tx=C
 *   TARGET ...
 * </pre>
 * {@code narayana} is the better of Narayana's two stores for that case; ratios are Concord divided by the other.
 * CPU per transaction is the child process's CPU time in the measured window (every thread: workers, the
 * engine's, JIT, GC) divided by the transactions committed in it; a second table splits it into user and system
 * time and adds context switches per transaction ({@link ProcStats}), for every contender. Progress goes to
 * standard error.
 *
 * <h2>Knobs</h2>
 * Options ({@code --name=value}; defaults in brackets):
 * <ul>
 *   <li>{@code --workloads} [nop,xa-db] — any of nop, xa-db, rest</li>
 *   <li>{@code --nop-threads} [1,4,16,64], {@code --db-threads} [1,8]</li>
 *   <li>{@code --contenders} [concord,narayana-journal,narayana-shadow,atomikos] — the baseline joins whenever
 *       xa-db runs</li>
 *   <li>{@code --rounds} [3]; {@code --seconds} [3] measured per case; {@code --warmup} [1] per case;
 *       {@code --first-warmup} [3] per workload and child, at the highest thread count up to 16;
 *       {@code --fsync-seconds} [1.5] before each child (fractions allowed: {@code --seconds=0.5})</li>
 *   <li>{@code --dir} [java.io.tmpdir] — parent of the temporary directory: put it on the disk to measure</li>
 *   <li>{@code --child-opts} ["-Xms1g -Xmx1g"] — JVM options of the children</li>
 *   <li>{@code --jfr=DIR} — record each Concord child with JFR ({@code settings=profile}) into DIR, one file per
 *       round; read with {@code jfr print --events jdk.ExecutionSample} or {@code jfr summary}</li>
 *   <li>{@code --concord-db} [pool] — pool: Concord's xa-db branches come from its pooled
 *       {@code EnlistingDataSource} (the product path); raw: each thread enlists its own XA connections, as
 *       Narayana does</li>
 *   <li>{@code --keep} [false] — keep the temporary directory (logs, children's standard error)</li>
 * </ul>
 * The defaults take about 8 minutes on a 2-core machine. Database settings: see {@link BenchDatabases}.
 */
public final class PeerBenchmark {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private static final String DEFAULT_CONTENDERS = "concord,narayana-journal,narayana-shadow,atomikos";

    /** Medians of one case and contender over the rounds. */
    private record Stat(double tps, double cpuMicros, double forces, double userMicros, double sysMicros,
                        double contextSwitches) {
    }

    private PeerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parseArgs(args);
        if (a.containsKey("help")) {
            System.out.println("see the javadoc of " + PeerBenchmark.class.getName());
            return;
        }
        List<Workload> workloads = Arrays.stream(a.getOrDefault("workloads", "nop,xa-db").split(","))
                .map(Workload::parse).distinct().toList();
        int[] nopThreads = ints(a.getOrDefault("nop-threads", "1,4,16,64"));
        int[] dbThreads = ints(a.getOrDefault("db-threads", "1,8"));
        List<Contender.Kind> contenders = Arrays.stream(a.getOrDefault("contenders", DEFAULT_CONTENDERS).split(","))
                .map(Contender.Kind::parse).filter(k -> k != Contender.Kind.BASELINE).distinct()
                .collect(Collectors.toCollection(ArrayList::new));
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "3"));
        long measure = millis(a.getOrDefault("seconds", "3"));
        long warmup = millis(a.getOrDefault("warmup", "1"));
        long firstWarmup = millis(a.getOrDefault("first-warmup", "3"));
        long fsyncMillis = millis(a.getOrDefault("fsync-seconds", "1.5"));
        Path parent = Path.of(a.getOrDefault("dir", System.getProperty("java.io.tmpdir")));
        List<String> childOpts = List.of(a.getOrDefault("child-opts", "-Xms1g -Xmx1g").trim().split("\\s+"));
        String jfr = a.get("jfr");
        String concordDb = a.getOrDefault("concord-db", "pool");
        boolean keep = Boolean.parseBoolean(a.getOrDefault("keep", "false"));

        if (workloads.contains(Workload.REST)) {
            System.out.println("NOTE workload=rest skipped: the REST round trip needs the REST service, which does "
                    + "not exist yet");
        }
        boolean nop = workloads.contains(Workload.NOP);
        boolean xaDb = workloads.contains(Workload.XA_DB);
        List<Contender.Kind> all = new ArrayList<>(contenders);
        if (xaDb) {
            all.add(Contender.Kind.BASELINE);
        }
        if (!nop && !xaDb) {
            return;
        }
        BenchDatabases db = new BenchDatabases();
        if (xaDb) {
            try {
                db.createAndTruncate(60);
            } catch (Exception e) {
                throw new IllegalStateException("xa-db needs MariaDB and PostgreSQL (bash scripts/test-env.sh): " + e, e);
            }
        }
        int dbMax = Arrays.stream(dbThreads).max().orElse(1);
        long perCase = warmup + measure;
        long estimate = 0;
        for (Contender.Kind k : all) {
            int cases = (k != Contender.Kind.BASELINE && nop ? nopThreads.length : 0) + (xaDb ? dbThreads.length : 0);
            int wl = (k != Contender.Kind.BASELINE && nop ? 1 : 0) + (xaDb ? 1 : 0);
            estimate += cases * perCase + wl * firstWarmup + 2500;
        }
        estimate = (estimate + fsyncMillis * all.size()) * rounds;
        log("peer benchmark: %d rounds of %s, about %d s", rounds,
                all.stream().map(k -> k.id).collect(Collectors.joining(", ")), estimate / 1000);

        Path root = Files.createTempDirectory(Files.createDirectories(parent), "concord-peer-bench");
        Map<String, Map<Contender.Kind, List<double[]>>> results = new TreeMap<>(PeerBenchmark::caseOrder);
        List<Double> fsyncRates = new ArrayList<>();
        List<Double> fsyncCpu = new ArrayList<>();
        long started = System.nanoTime();
        try {
            for (int r = 0; r < rounds; r++) {
                log("round %d/%d", r + 1, rounds);
                List<Contender.Kind> order = rotated(all, r);
                for (Contender.Kind k : order) {
                    // The disk's rate right before each contender: on a shared machine it drifts.
                    double[] fsync = rawFsyncsPerSecond(root, fsyncMillis);
                    fsyncRates.add(fsync[0]);
                    fsyncCpu.add(fsync[1]);
                    List<String> cases = new ArrayList<>();
                    if (nop && k != Contender.Kind.BASELINE) {
                        Arrays.stream(nopThreads).forEach(t -> cases.add("nop:" + t));
                    }
                    if (xaDb) {
                        Arrays.stream(dbThreads).forEach(t -> cases.add("xa-db:" + t));
                        db.createAndTruncate(120);
                    }
                    List<String> cmd = new ArrayList<>();
                    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                    cmd.addAll(childOpts);
                    if (jfr != null && k == Contender.Kind.CONCORD) {
                        Files.createDirectories(Path.of(jfr));
                        cmd.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
                                + Path.of(jfr).toAbsolutePath().resolve("concord-round-" + (r + 1) + ".jfr"));
                    }
                    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PeerBenchmarkChild.class.getName(),
                            "--contender=" + k.id, "--dir=" + root.resolve("r" + (r + 1) + "-" + k.id),
                            "--cases=" + String.join(",", cases), "--seconds=" + measure / 1000.0,
                            "--warmup=" + warmup / 1000.0, "--first-warmup=" + firstWarmup / 1000.0,
                            "--db-max-threads=" + dbMax, "--concord-db=" + concordDb));
                    long budget = cases.size() * perCase + 2 * firstWarmup + 180_000;
                    long t0 = System.nanoTime();
                    List<String> out = runChild(cmd, root.resolve("r" + (r + 1) + "-" + k.id + ".stderr"), budget);
                    Map<String, Long> committed = new LinkedHashMap<>();
                    for (String line : out) {
                        Map<String, String> f = fields(line);
                        if (line.startsWith("RESULT ")) {
                            String key = f.get("workload") + ":" + f.get("threads");
                            results.computeIfAbsent(key, x -> new LinkedHashMap<>())
                                    .computeIfAbsent(k, x -> new ArrayList<>())
                                    .add(Stream.of("tps", "cpu_us_per_tx", "forces_per_tx", "user_us_per_tx",
                                                    "sys_us_per_tx", "ctxsw_per_tx")
                                            .mapToDouble(name -> Double.parseDouble(f.getOrDefault(name, "NaN")))
                                            .toArray());
                            log("  %-16s %-5s %2s threads: %8.0f tx/s  %7.1f us CPU/tx%s", k.id, f.get("workload"),
                                    f.get("threads"), Double.parseDouble(f.get("tps")),
                                    Double.parseDouble(f.get("cpu_us_per_tx")),
                                    f.get("forces_per_tx").equals("NaN") ? ""
                                            : String.format(Locale.ROOT, "  %.3f forces/tx",
                                            Double.parseDouble(f.get("forces_per_tx"))));
                        } else if (line.startsWith("COMMITTED ")) {
                            committed.put(f.get("workload"), Long.parseLong(f.get("total")));
                        }
                    }
                    if (committed.containsKey("xa-db")) {
                        long[] rows = db.rowCounts();
                        long want = committed.get("xa-db");
                        if (rows[0] != want || rows[1] != want) {
                            System.out.printf(Locale.ROOT, "WARN %s committed %d xa-db transactions but MariaDB holds "
                                    + "%d rows and PostgreSQL %d%n", k.id, want, rows[0], rows[1]);
                        }
                    }
                    log("  %s done in %.0f s", k.id, (System.nanoTime() - t0) / 1e9);
                    if (!keep) {
                        deleteRecursively(root.resolve("r" + (r + 1) + "-" + k.id));
                    }
                }
            }
        } finally {
            if (xaDb) {
                try {
                    db.drop();
                } catch (Exception e) {
                    log("could not drop %s: %s", BenchDatabases.TABLE, e);
                }
            }
            if (keep) {
                log("kept %s", root);
            } else {
                deleteRecursively(root);
            }
        }
        log("measured in %.0f s", (System.nanoTime() - started) / 1e9);
        log("fsync rates measured: %s", fsyncRates.stream().map(v -> String.format(Locale.ROOT, "%.0f", v))
                .collect(Collectors.joining(" ")));
        report(results, median(fsyncRates.stream().mapToDouble(Double::doubleValue).toArray()),
                median(fsyncCpu.stream().mapToDouble(Double::doubleValue).toArray()), rounds);
    }

    // ---------------------------------------------------------------- report

    private static void report(Map<String, Map<Contender.Kind, List<double[]>>> results, double fsync,
                               double fsyncCpuMicros, int rounds) {
        Map<String, Map<Contender.Kind, Stat>> stats = new TreeMap<>(PeerBenchmark::caseOrder);
        results.forEach((key, byKind) -> {
            Map<Contender.Kind, Stat> m = new LinkedHashMap<>();
            byKind.forEach((k, rs) -> m.put(k, new Stat(median(rs, 0), median(rs, 1), median(rs, 2), median(rs, 3),
                    median(rs, 4), median(rs, 5))));
            stats.put(key, m);
        });
        System.out.println();
        stats.forEach((key, m) -> {
            String[] wt = key.split(":");
            double concord = tps(m, Contender.Kind.CONCORD);
            double narayana = Math.max(tps(m, Contender.Kind.NARAYANA_JOURNAL), tps(m, Contender.Kind.NARAYANA_SHADOW));
            double atomikos = tps(m, Contender.Kind.ATOMIKOS);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                    "BENCH workload=%s threads=%s concord=%s narayana=%s atomikos=%s ratio_narayana=%s ratio_atomikos=%s",
                    wt[0], wt[1], num(concord), num(narayana), num(atomikos), ratio(concord, narayana),
                    ratio(concord, atomikos)));
            if (wt[0].equals(Workload.XA_DB.id)) {
                double baseline = tps(m, Contender.Kind.BASELINE);
                line.append(" baseline=").append(num(baseline)).append(" ratio_baseline=").append(ratio(concord, baseline));
            }
            System.out.println(line);
        });
        System.out.printf(Locale.ROOT, "BENCH fsync fsyncs_per_s=%.0f%n", fsync);
        System.out.printf(Locale.ROOT, "BENCH fsync_cost cpu_us_per_fsync=%.1f%n", fsyncCpuMicros);
        stats.forEach((key, m) -> {
            Stat c = m.get(Contender.Kind.CONCORD);
            if (c != null) {
                String[] wt = key.split(":");
                System.out.printf(Locale.ROOT, "BENCH concord workload=%s threads=%s forces_per_tx=%.3f cpu_us_per_tx=%.1f "
                                + "user_us_per_tx=%.1f sys_us_per_tx=%.1f ctxsw_per_tx=%.2f%n", wt[0], wt[1], c.forces(),
                        c.cpuMicros(), c.userMicros(), c.sysMicros(), c.contextSwitches());
            }
        });

        System.out.println();
        System.out.printf(Locale.ROOT, "Medians of %d rounds, tx/s; fsync rate of the disk: %.0f/s. CPU µs/tx: "
                + "process CPU time per committed transaction (Concord / Narayana journal / Narayana shadow / "
                + "Atomikos).%n%n", rounds, fsync);
        System.out.println("| workload | threads | Concord | Narayana journal | Narayana shadow | Atomikos | baseline "
                + "| ÷ Narayana best | ÷ Atomikos | ÷ baseline | Concord forces/tx | CPU µs/tx |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        stats.forEach((key, m) -> {
            String[] wt = key.split(":");
            double concord = tps(m, Contender.Kind.CONCORD);
            double nj = tps(m, Contender.Kind.NARAYANA_JOURNAL);
            double ns = tps(m, Contender.Kind.NARAYANA_SHADOW);
            double at = tps(m, Contender.Kind.ATOMIKOS);
            double base = tps(m, Contender.Kind.BASELINE);
            Stat c = m.get(Contender.Kind.CONCORD);
            String cpu = Stream.of(Contender.Kind.CONCORD, Contender.Kind.NARAYANA_JOURNAL,
                            Contender.Kind.NARAYANA_SHADOW, Contender.Kind.ATOMIKOS)
                    .map(k -> m.get(k) == null ? "–" : String.format(Locale.ROOT, "%.0f", m.get(k).cpuMicros()))
                    .collect(Collectors.joining(" / "));
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    wt[0], wt[1], num(concord), num(nj), num(ns), num(at),
                    wt[0].equals(Workload.XA_DB.id) ? num(base) : "–",
                    ratio(concord, Math.max(nj, ns)), ratio(concord, at),
                    wt[0].equals(Workload.XA_DB.id) ? ratio(concord, base) : "–",
                    c == null || Double.isNaN(c.forces()) ? "–" : String.format(Locale.ROOT, "%.3f", c.forces()), cpu);
        });

        System.out.println();
        System.out.println("Cost per committed transaction, whole process (medians): CPU µs (user + system), "
                + "context switches; latency = threads ÷ tx/s (closed loop); Concord's log forces per transaction "
                + "and per second.");
        System.out.println();
        System.out.println("| workload | threads | contender | tx/s | latency µs | CPU µs/tx | user µs/tx | system µs/tx "
                + "| context switches/tx | log forces/tx | log forces/s |");
        System.out.println("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        stats.forEach((key, m) -> {
            String[] wt = key.split(":");
            m.forEach((k, st) -> System.out.printf(Locale.ROOT,
                    "| %s | %s | %s | %s | %.0f | %.1f | %.1f | %.1f | %.2f | %s | %s |%n",
                    wt[0], wt[1], k.id, num(st.tps()), Integer.parseInt(wt[1]) * 1e6 / st.tps(), st.cpuMicros(),
                    st.userMicros(), st.sysMicros(), st.contextSwitches(),
                    Double.isNaN(st.forces()) ? "–" : String.format(Locale.ROOT, "%.3f", st.forces()),
                    Double.isNaN(st.forces()) ? "–" : String.format(Locale.ROOT, "%.0f", st.forces() * st.tps())));
        });

        System.out.println();
        Map<Contender.Kind, Stat> nop16 = stats.get("nop:16");
        if (nop16 != null) {
            double r = tps(nop16, Contender.Kind.CONCORD) / Math.max(tps(nop16, Contender.Kind.NARAYANA_JOURNAL),
                    tps(nop16, Contender.Kind.NARAYANA_SHADOW));
            target("nop threads=16 concord/narayana_best", r, ">=", 10);
        }
        Map<Contender.Kind, Stat> nop1 = stats.get("nop:1");
        if (nop1 != null) {
            target("nop threads=1 concord/fsync_rate", tps(nop1, Contender.Kind.CONCORD) / fsync, ">=", 0.70);
        }
        stats.forEach((key, m) -> {
            Stat c = m.get(Contender.Kind.CONCORD);
            if (key.startsWith("nop:") && c != null) {
                target("nop threads=" + key.substring(4) + " concord_cpu_us_per_tx", c.cpuMicros(), "<=", 20);
            }
        });
        Map<Contender.Kind, Stat> db8 = stats.get("xa-db:8");
        if (db8 != null) {
            target("xa-db threads=8 concord/baseline",
                    tps(db8, Contender.Kind.CONCORD) / tps(db8, Contender.Kind.BASELINE), ">=", 0.90);
        }
    }

    private static void target(String what, double value, String op, double limit) {
        boolean met = op.equals(">=") ? value >= limit : value <= limit;
        System.out.printf(Locale.ROOT, "TARGET %s=%s need %s %s: %s%n", what,
                Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.2f", value), op,
                String.format(Locale.ROOT, "%.2f", limit), Double.isNaN(value) ? "not measured" : met ? "met" : "MISSED");
    }

    private static double tps(Map<Contender.Kind, Stat> m, Contender.Kind k) {
        Stat s = m.get(k);
        return s == null ? Double.NaN : s.tps();
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    /** nop before xa-db, then by thread count. */
    private static int caseOrder(String x, String y) {
        String[] a = x.split(":");
        String[] b = y.split(":");
        int w = Integer.compare(Workload.parse(a[0]).ordinal(), Workload.parse(b[0]).ordinal());
        return w != 0 ? w : Integer.compare(Integer.parseInt(a[1]), Integer.parseInt(b[1]));
    }

    // ---------------------------------------------------------------- children and helpers

    /** Runs a child to completion; returns its standard output; its standard error goes to {@code stderrFile}. */
    private static List<String> runChild(List<String> cmd, Path stderrFile, long budgetMillis)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectError(stderrFile.toFile()).start();
        p.getOutputStream().close();
        List<String> out = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (out) {
                        out.add(line);
                    }
                }
            } catch (IOException e) {
                // The child is gone.
            }
        }, "child-stdout");
        reader.setDaemon(true);
        reader.start();
        boolean exited = p.waitFor(budgetMillis, TimeUnit.MILLISECONDS);
        if (!exited) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        reader.join(10_000);
        List<String> lines;
        synchronized (out) {
            lines = List.copyOf(out);
        }
        if (!exited || p.exitValue() != 0) {
            String why = exited ? "exited with status " + p.exitValue() : "was killed after " + budgetMillis / 1000 + " s";
            System.out.println("WARN child " + cmd.get(cmd.indexOf(PeerBenchmarkChild.class.getName()) + 1) + " " + why
                    + "; its results so far are kept. Last lines of its standard error:");
            List<String> err = Files.readAllLines(stderrFile, StandardCharsets.UTF_8);
            err.subList(Math.max(0, err.size() - 40), err.size()).forEach(l -> System.out.println("    " + l));
        }
        return lines;
    }

    /**
     * The disk's own rate for the pattern a log needs: a 1-byte write into a pre-allocated file, then a force.
     * Returns {fsyncs per second, CPU microseconds of this process per fsync} (the CPU is the kernel's work for
     * the write and the force: a floor for a transaction that needs a force of its own).
     */
    static double[] rawFsyncsPerSecond(Path dir, long millis) throws IOException {
        Path file = dir.resolve("fsync.bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1 << 20), 0);
            channel.force(true);
            ByteBuffer one = ByteBuffer.allocateDirect(1);
            long count = 0;
            long cpu0 = OS.getProcessCpuTime();
            long start = System.nanoTime();
            long end = start + TimeUnit.MILLISECONDS.toNanos(millis);
            long now;
            do {
                one.clear().put(0, (byte) count);
                channel.write(one, (count * 512) % (1 << 20));
                channel.force(false);
                count++;
                now = System.nanoTime();
            } while (now < end);
            long cpu = OS.getProcessCpuTime() - cpu0;
            return new double[] {count / ((now - start) / 1e9), cpu / 1e3 / count};
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static <T> List<T> rotated(List<T> list, int by) {
        List<T> out = new ArrayList<>(list);
        java.util.Collections.rotate(out, -(by % Math.max(1, list.size())));
        return out;
    }

    /** {@code --name=value} (or a bare {@code --flag}, meaning true) into a map. */
    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("options look like --name=value, got: " + arg);
            }
            int eq = arg.indexOf('=');
            m.put(eq < 0 ? arg.substring(2) : arg.substring(2, eq), eq < 0 ? "true" : arg.substring(eq + 1));
        }
        return m;
    }

    /** Seconds (fractions allowed) to milliseconds. */
    static long millis(String seconds) {
        return Math.round(Double.parseDouble(seconds) * 1000);
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt)
                .toArray();
    }

    private static Map<String, String> fields(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String token : line.split("\\s+")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                m.put(token.substring(0, eq), token.substring(eq + 1));
            }
        }
        return m;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length == 0 ? Double.NaN
                : sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double median(List<double[]> rows, int column) {
        return median(rows.stream().mapToDouble(r -> r[column]).filter(v -> !Double.isNaN(v)).toArray());
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "# " + format + "%n", args);
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
