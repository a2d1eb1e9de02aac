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
 *       that is measured; plus the bare group-commit ceiling ({@link GroupCommitCeiling}: one record per
 *       transaction, written in rounds by a dedicated writer with one direct write each, waiters parked; no
 *       transaction manager), what a blocking log can reach on this disk and these cores.</li>
 *   <li>{@code xa-db}: one MariaDB branch and one PostgreSQL branch, a one-row insert each into a table the
 *       harness creates, truncates before each contender and drops at the end; plus the hand-written XA baseline
 *       ({@link BaselineContender}: start/end/prepare/commit on both by hand, no transaction manager, no log), the
 *       ceiling. After each contender the harness checks that both tables hold exactly as many rows as the
 *       contender committed. Needs the databases of {@code scripts/test-env.sh}.</li>
 *   <li>{@code rest}: the REST round trip of a participant through the coordinator service — begin, two
 *       branches the participant prepares itself on MariaDB and PostgreSQL and registers, one RocketMQ message on
 *       an embedded broker, commit — at fixed offered rates (open loop), as latency percentiles
 *       ({@link RestBenchmark}). Run after the other workloads, without peers: Narayana and Atomikos have no REST
 *       coordinator that takes participant-prepared branches.</li>
 * </ul>
 * Contenders, each with its durable log in its own temporary directory (see their classes for the exact
 * configuration): Concord ({@link ConcordContender}), Narayana with the journal store and with the default shadow
 * store ({@link NarayanaContender}), Atomikos ({@link AtomikosContender}).
 *
 * <h2>How</h2>
 * Each contender runs in a JVM of its own ({@link PeerBenchmarkChild}, same Java and class path): Narayana and
 * Atomikos configure themselves once per JVM through static singletons. All children start together and live for
 * the whole run, driven through their standard input, so each keeps its JIT-compiled code, pools and log:
 * <ol>
 *   <li>warm-up, once per contender and workload, at the highest thread count up to 16: long enough for the JIT
 *       to settle (measured here: with xa-db the CPU per transaction of every contender keeps falling for about
 *       15 s, compiling the JDBC drivers; a 3-second warm-up measures mostly the compiler);</li>
 *   <li>rounds: case by case (a workload at a thread count), every contender in turn — the order rotating from
 *       round to round — a short warm-up at the case's thread count, then a measured window. The contenders of a
 *       case are thus measured within a minute of each other while the load of a shared machine drifts. Before
 *       each case the disk's fsync rate is measured (a 1-byte write and {@code force(false)} loop on a
 *       pre-allocated file, in the same directory as the logs).</li>
 * </ol>
 * Reported: medians over the rounds (and over all fsync measurements).
 *
 * <h2>Output</h2>
 * One line per case, then the fsync rate, Concord's cost lines, a Markdown table and the targets:
 * <pre>
 *   BENCH workload=nop threads=N concord=TPS narayana=TPS atomikos=TPS ratio_narayana=R ratio_atomikos=R ceiling=TPS ratio_ceiling=R ceiling_ratio_narayana=R
 *   BENCH workload=xa-db threads=N concord=TPS narayana=TPS atomikos=TPS ratio_narayana=R ratio_atomikos=R baseline=TPS ratio_baseline=R
 *   BENCH fsync fsyncs_per_s=X
 *   BENCH fsync_cost cpu_us_per_fsync=Y
 *   BENCH concord workload=W threads=N forces_per_tx=F cpu_us_per_tx=C ... alloc_bytes_per_tx=B jit_us_per_tx=J force_us=D latency_us=L latency_in_forces=Q
 *   BENCH machine workload=xa-db threads=N contender=K tps=X machine_cpu_us_per_tx=M machine_busy=B disk_flushes_per_tx=D disk_flushes_per_s=R
 *   BENCH workload=rest rate=R p50_ms=.. p90_ms=.. p99_ms=.. achieved=.. failed=.. narayana=n/a atomikos=n/a
 *   TARGET ...
 * </pre>
 * {@code narayana} is the better of Narayana's two stores for that case; ratios are Concord divided by the other.
 * CPU per transaction is the child process's CPU time in the measured window (every thread: workers, the
 * engine's, JIT, GC) divided by the transactions committed in it; a second table splits it into user and system
 * time, shows how much of it the JIT compiler threads took (code still being compiled in the window: it inflates
 * the CPU of a contender whose code settles later) and adds context switches per transaction ({@link ProcStats}),
 * for every contender. For Concord, {@code force_us} is the mean duration of one force of its log (its
 * {@code ForceObserver}), {@code latency_us} the time one transaction takes (threads ÷ tx/s: the loop is closed)
 * and {@code latency_in_forces} their quotient: with group commit a transaction that arrives while a force runs
 * waits for the rest of it and then for its own, about 1.5 forces on average, so a closed loop of N threads cannot
 * go much beyond N ÷ (1.5 × force time). The {@code BENCH machine} lines ({@link MachineStats}) cover every process
 * of the machine during each xa-db contender's windows, the two database servers included: busy CPU of all cores
 * per transaction, the cores' busy share (near 1: the machine ran out of cores), and the flushes that the disk under
 * {@code --dir} completed, per transaction and per second (every fsync of the databases' own commits and of the
 * transaction manager's log). Progress goes to standard error.
 *
 * <h2>Knobs</h2>
 * Options ({@code --name=value}; defaults in brackets):
 * <ul>
 *   <li>{@code --workloads} [nop,xa-db,rest] — any of nop, xa-db, rest</li>
 *   <li>{@code --rest-rates} [2,5,10] offered tx/s, {@code --rest-seconds} [15] per rate, {@code --rest-warmup}
 *       [10] at the first rate, {@code --rest-clients} [24] client threads</li>
 *   <li>{@code --nop-threads} [1,4,16,64], {@code --db-threads} [1,8]</li>
 *   <li>{@code --contenders} [concord,narayana-journal,narayana-shadow,atomikos] — the baseline joins whenever
 *       xa-db runs, the ceiling whenever nop runs; {@code concord-page-cache} (Concord with its log forced through the page cache instead of
 *       written directly) can be added to compare the log's two write paths</li>
 *   <li>{@code --rounds} [3]; {@code --seconds} [3] measured per case and contender; {@code --warmup} [1]
 *       before each of those; {@code --nop-warmup} [6] and {@code --db-warmup} [15], once per contender;
 *       {@code --fsync-seconds} [1.5] before each case (fractions allowed: {@code --seconds=0.5})</li>
 *   <li>{@code --dir} [java.io.tmpdir] — parent of the temporary directory: put it on the disk to measure</li>
 *   <li>{@code --child-opts} ["-Xms1g -Xmx1g"] — JVM options of the children</li>
 *   <li>{@code --jfr=DIR} — record the Concord child with JFR ({@code settings=profile}) into DIR/concord.jfr;
 *       summarize with {@link JfrSummary}, or {@code jfr print --events jdk.ExecutionSample}</li>
 *   <li>{@code --jfr-contenders} [concord] — the children to record with {@code --jfr}, each into DIR/ID.jfr
 *       (e.g. {@code concord,baseline} to compare the two)</li>
 *   <li>{@code --jfr-settings} [profile] — what follows {@code settings=} in {@code -XX:StartFlightRecording}: a
 *       settings name or file, optionally with JFR options, e.g.
 *       {@code profile,method-profiling=max,jdk.ThreadPark#threshold=0ms}</li>
 *   <li>{@code --concord-db} [pool] — pool: Concord's xa-db branches come from its pooled
 *       {@code EnlistingDataSource} (the product path); raw: each thread enlists its own XA connections, as
 *       Narayana does</li>
 *   <li>{@code --keep} [false] — keep the temporary directory (logs, children's standard error)</li>
 *   <li>{@code --child-opts} may carry any JVM option, e.g. a JFR recording with other settings</li>
 * </ul>
 * The defaults take about 10 minutes on a 2-core machine (11 with the build of {@code scripts/bench.sh peers}), the
 * rest workload about 1.5 of them. Database settings: see {@link BenchDatabases}.
 */
public final class PeerBenchmark {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private static final String DEFAULT_CONTENDERS = "concord,narayana-journal,narayana-shadow,atomikos";

    /** Medians of one case and contender over the rounds. */
    private record Stat(double tps, double cpuMicros, double forces, double userMicros, double sysMicros,
                        double contextSwitches, double allocatedBytes, double jitMicros, double forceMicros,
                        double machineCpuMicros, double machineBusy, double diskFlushes, double diskFlushesPerSecond) {
    }

    private PeerBenchmark() {
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            run(args);
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        // The rest workload's embedded broker and client leave non-daemon threads behind.
        System.out.flush();
        System.exit(status);
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> a = parseArgs(args);
        if (a.containsKey("help")) {
            System.out.println("see the javadoc of " + PeerBenchmark.class.getName());
            return;
        }
        List<Workload> workloads = Arrays.stream(a.getOrDefault("workloads", "nop,xa-db,rest").split(","))
                .map(Workload::parse).distinct().toList();
        int[] nopThreads = ints(a.getOrDefault("nop-threads", "1,4,16,64"));
        int[] dbThreads = ints(a.getOrDefault("db-threads", "1,8"));
        List<Contender.Kind> contenders = Arrays.stream(a.getOrDefault("contenders", DEFAULT_CONTENDERS).split(","))
                .map(Contender.Kind::parse).filter(k -> k != Contender.Kind.BASELINE && k != Contender.Kind.CEILING).distinct()
                .collect(Collectors.toCollection(ArrayList::new));
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "3"));
        long measure = millis(a.getOrDefault("seconds", "3"));
        long warmup = millis(a.getOrDefault("warmup", "1"));
        long nopWarmup = millis(a.getOrDefault("nop-warmup", "6"));
        long dbWarmup = millis(a.getOrDefault("db-warmup", "15"));
        long fsyncMillis = millis(a.getOrDefault("fsync-seconds", "1.5"));
        Path parent = Path.of(a.getOrDefault("dir", System.getProperty("java.io.tmpdir")));
        List<String> childOpts = List.of(a.getOrDefault("child-opts", "-Xms1g -Xmx1g").trim().split("\\s+"));
        String jfr = a.get("jfr");
        String jfrSettings = a.getOrDefault("jfr-settings", "profile");
        List<Contender.Kind> jfrKinds = Arrays.stream(a.getOrDefault("jfr-contenders", "concord").split(","))
                .map(Contender.Kind::parse).toList();
        String concordDb = a.getOrDefault("concord-db", "pool");
        boolean keep = Boolean.parseBoolean(a.getOrDefault("keep", "false"));

        boolean rest = workloads.contains(Workload.REST);
        int[] restRates = ints(a.getOrDefault("rest-rates", "2,5,10"));
        long restSeconds = millis(a.getOrDefault("rest-seconds", "15"));
        long restWarmup = millis(a.getOrDefault("rest-warmup", "10"));
        int restClients = Integer.parseInt(a.getOrDefault("rest-clients", "24"));
        boolean nop = workloads.contains(Workload.NOP);
        boolean xaDb = workloads.contains(Workload.XA_DB);
        if (!nop && !xaDb) {
            if (rest) {
                reportRest(runRest(parent, childOpts, restRates, restSeconds, restWarmup, restClients, keep));
            }
            return;
        }
        List<String> cases = new ArrayList<>();
        if (nop) {
            Arrays.stream(nopThreads).forEach(t -> cases.add("nop:" + t));
        }
        if (xaDb) {
            Arrays.stream(dbThreads).forEach(t -> cases.add("xa-db:" + t));
        }
        List<Contender.Kind> all = new ArrayList<>(contenders);
        if (nop) {
            all.add(Contender.Kind.CEILING);
        }
        if (xaDb) {
            all.add(Contender.Kind.BASELINE);
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
        long perRound = 0;
        long warmups = 0;
        for (String c : cases) {
            long n = all.stream().filter(k -> runs(k, c)).count();
            perRound += n * (warmup + measure) + fsyncMillis;
        }
        for (Contender.Kind k : all) {
            warmups += (nop && k != Contender.Kind.BASELINE ? nopWarmup : 0)
                    + (xaDb && k != Contender.Kind.CEILING ? dbWarmup : 0);
        }
        log("peer benchmark: %s; warm-up, then %d rounds of %s; about %d s", String.join(" ", cases), rounds,
                all.stream().map(k -> k.id).collect(Collectors.joining(", ")),
                (warmups + perRound * rounds) / 1000 + 10);

        Path root = Files.createTempDirectory(Files.createDirectories(parent), "concord-peer-bench");
        Map<String, Map<Contender.Kind, List<double[]>>> results = new TreeMap<>(PeerBenchmark::caseOrder);
        Map<Contender.Kind, Long> committed = new LinkedHashMap<>();
        List<Double> fsyncRates = new ArrayList<>();
        List<Double> fsyncCpu = new ArrayList<>();
        Map<Contender.Kind, Child> children = new LinkedHashMap<>();
        long started = System.nanoTime();
        try {
            // Every contender in a JVM of its own, all started at once and kept for the whole run.
            for (Contender.Kind k : all) {
                List<String> cmd = new ArrayList<>();
                cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                cmd.addAll(childOpts);
                if (jfr != null && jfrKinds.contains(k)) {
                    Path file = Files.createDirectories(Path.of(jfr)).toAbsolutePath().resolve(k.id + ".jfr");
                    cmd.add("-XX:StartFlightRecording=settings=" + jfrSettings + ",dumponexit=true,filename=" + file);
                }
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PeerBenchmarkChild.class.getName(),
                        "--contender=" + k.id, "--dir=" + root.resolve(k.id), "--db-max-threads=" + dbMax,
                        "--concord-db=" + concordDb));
                children.put(k, Child.start(k, cmd, root.resolve(k.id + ".stderr")));
            }
            for (Child c : children.values()) {
                c.await("READY", 180_000);
            }
            // Warm-up: once per contender and workload, long enough for the JIT to settle (xa-db: the drivers).
            for (Contender.Kind k : all) {
                Child c = children.get(k);
                for (Workload w : List.of(Workload.NOP, Workload.XA_DB)) {
                    if (!workloads.contains(w) || !runs(k, w.id + ":")) {
                        continue;
                    }
                    int[] ts = w == Workload.NOP ? nopThreads : dbThreads;
                    int threads = Arrays.stream(ts).filter(t -> t <= 16).max().orElse(ts[0]);
                    long ms = w == Workload.NOP ? nopWarmup : dbWarmup;
                    long t0 = System.nanoTime();
                    String line = c.command("WARM " + w.id + " " + threads + " " + ms / 1000.0, "WARMED",
                            ms + 180_000);
                    if (line != null && w == Workload.XA_DB) {
                        committed.merge(k, Long.parseLong(fields(line).get("committed")), Long::sum);
                    }
                    log("warm-up %-16s %-5s %2d threads, %.0f s%s", k.id, w.id, threads, (System.nanoTime() - t0) / 1e9,
                            line == null ? ": FAILED" : "");
                }
            }
            // Rounds: case by case, every contender in turn, the order rotating from round to round, so that the
            // contenders of a case are measured minutes apart at most while the machine's load drifts.
            for (int r = 0; r < rounds; r++) {
                log("round %d/%d", r + 1, rounds);
                for (String c : cases) {
                    String[] wt = c.split(":");
                    // The disk's rate next to the case: on a shared machine it drifts.
                    double[] fsync = rawFsyncsPerSecond(root, fsyncMillis);
                    fsyncRates.add(fsync[0]);
                    fsyncCpu.add(fsync[1]);
                    for (Contender.Kind k : rotated(all, r)) {
                        if (!runs(k, c)) {
                            continue;
                        }
                        String line = children.get(k).command("RUN " + wt[0] + " " + wt[1] + " " + warmup / 1000.0
                                + " " + measure / 1000.0, "RESULT", warmup + measure + 180_000);
                        if (line == null) {
                            continue;
                        }
                        Map<String, String> f = fields(line);
                        results.computeIfAbsent(c, x -> new LinkedHashMap<>())
                                .computeIfAbsent(k, x -> new ArrayList<>())
                                .add(Stream.of("tps", "cpu_us_per_tx", "forces_per_tx", "user_us_per_tx",
                                                "sys_us_per_tx", "ctxsw_per_tx", "alloc_bytes_per_tx", "jit_us_per_tx",
                                                "force_us", "machine_cpu_us_per_tx", "machine_busy",
                                                "disk_flushes_per_tx", "disk_flushes_per_s")
                                        .mapToDouble(name -> Double.parseDouble(f.getOrDefault(name, "NaN")))
                                        .toArray());
                        if (wt[0].equals(Workload.XA_DB.id)) {
                            committed.merge(k, Long.parseLong(f.get("committed")), Long::sum);
                        }
                        log("  %-16s %-5s %2s threads: %8.0f tx/s  %7.1f us CPU/tx%s", k.id, wt[0], wt[1],
                                Double.parseDouble(f.get("tps")), Double.parseDouble(f.get("cpu_us_per_tx")),
                                f.get("forces_per_tx").equals("NaN") ? "" : String.format(Locale.ROOT,
                                        "  %.3f forces/tx", Double.parseDouble(f.get("forces_per_tx"))));
                    }
                    log("  (fsync %.0f/s)", fsync[0]);
                }
            }
            if (xaDb) {
                // Every transaction a contender reported committed left one row in each database, no more.
                for (Map.Entry<Contender.Kind, Long> e : committed.entrySet()) {
                    Child c = children.get(e.getKey());
                    long[] rows = db.rowCounts(e.getKey().id);
                    if (c.failures > 0) {
                        log("%s had failed commands; rows not checked (%d / %d)", e.getKey().id, rows[0], rows[1]);
                    } else if (rows[0] != e.getValue() || rows[1] != e.getValue()) {
                        System.out.printf(Locale.ROOT, "WARN %s committed %d xa-db transactions but MariaDB holds "
                                + "%d of its rows and PostgreSQL %d%n", e.getKey().id, e.getValue(), rows[0], rows[1]);
                    } else {
                        log("%s: %d xa-db transactions, %d rows in each database", e.getKey().id, e.getValue(), rows[0]);
                    }
                }
            }
        } finally {
            for (Child c : children.values()) {
                c.quit();
            }
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
        List<RestBenchmark.Result> restResults = rest
                ? runRest(parent, childOpts, restRates, restSeconds, restWarmup, restClients, keep) : List.of();
        report(results, median(fsyncRates.stream().mapToDouble(Double::doubleValue).toArray()),
                median(fsyncCpu.stream().mapToDouble(Double::doubleValue).toArray()), rounds);
        reportRest(restResults);
    }

    /** The rest workload, after the others: its own service process, broker and databases' tables. */
    private static List<RestBenchmark.Result> runRest(Path parent, List<String> childOpts, int[] rates, long seconds,
                                                      long warmup, int clients, boolean keep) throws Exception {
        Path root = Files.createTempDirectory(Files.createDirectories(parent), "concord-rest-bench");
        long t0 = System.nanoTime();
        try {
            return new RestBenchmark().run(root, childOpts, rates, seconds, warmup, clients);
        } catch (Exception e) {
            System.out.println("WARN rest workload failed: " + e);
            e.printStackTrace();
            return List.of();
        } finally {
            log("rest measured in %.0f s", (System.nanoTime() - t0) / 1e9);
            if (keep) {
                log("kept %s", root);
            } else {
                deleteRecursively(root);
            }
        }
    }

    private static void reportRest(List<RestBenchmark.Result> results) {
        if (results.isEmpty()) {
            return;
        }
        System.out.println();
        for (RestBenchmark.Result r : results) {
            System.out.printf(Locale.ROOT, "BENCH workload=rest rate=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
                            + "achieved=%.1f failed=%d narayana=n/a atomikos=n/a%n", r.rate(), r.p50Millis(),
                    r.p90Millis(), r.p99Millis(), r.achieved(), r.failed());
        }
        System.out.println();
        System.out.println("REST round trip (begin, two participant-prepared branches, one message, commit), open "
                + "loop; latency from when each transaction was due to the commit's answer.");
        System.out.println();
        System.out.println("| offered tx/s | achieved tx/s | p50 ms | p90 ms | p99 ms | failed |");
        System.out.println("|---:|---:|---:|---:|---:|---:|");
        for (RestBenchmark.Result r : results) {
            System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.1f | %.1f | %d |%n", r.rate(), r.achieved(),
                    r.p50Millis(), r.p90Millis(), r.p99Millis(), r.failed());
        }
        System.out.println();
        System.out.println("Mean ms per step of a transaction (the participant's side of each call):");
        System.out.println();
        System.out.println("| offered tx/s | " + String.join(" | ", RestBenchmark.STEPS) + " |");
        System.out.println("|---:|" + "---:|".repeat(RestBenchmark.STEPS.length));
        for (RestBenchmark.Result r : results) {
            System.out.println("| " + r.rate() + " | " + Arrays.stream(r.stepMillis())
                    .mapToObj(v -> String.format(Locale.ROOT, "%.1f", v)).collect(Collectors.joining(" | ")) + " |");
        }
    }

    /** Whether the contender runs the case: the baseline exists for xa-db only, the ceiling for nop only. */
    private static boolean runs(Contender.Kind k, String c) {
        return switch (k) {
            case BASELINE -> c.startsWith(Workload.XA_DB.id + ":");
            case CEILING -> c.startsWith(Workload.NOP.id + ":");
            default -> true;
        };
    }

    // ---------------------------------------------------------------- report

    private static void report(Map<String, Map<Contender.Kind, List<double[]>>> results, double fsync,
                               double fsyncCpuMicros, int rounds) {
        Map<String, Map<Contender.Kind, Stat>> stats = new TreeMap<>(PeerBenchmark::caseOrder);
        results.forEach((key, byKind) -> {
            Map<Contender.Kind, Stat> m = new LinkedHashMap<>();
            byKind.forEach((k, rs) -> m.put(k, new Stat(median(rs, 0), median(rs, 1), median(rs, 2), median(rs, 3),
                    median(rs, 4), median(rs, 5), median(rs, 6), median(rs, 7), median(rs, 8), median(rs, 9),
                    median(rs, 10), median(rs, 11), median(rs, 12))));
            stats.put(key, m);
        });
        System.out.println();
        stats.forEach((key, m) -> {
            String[] wt = key.split(":");
            double concord = tps(m, Contender.Kind.CONCORD);
            double narayana = best(tps(m, Contender.Kind.NARAYANA_JOURNAL), tps(m, Contender.Kind.NARAYANA_SHADOW));
            double atomikos = tps(m, Contender.Kind.ATOMIKOS);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                    "BENCH workload=%s threads=%s concord=%s narayana=%s atomikos=%s ratio_narayana=%s ratio_atomikos=%s",
                    wt[0], wt[1], num(concord), num(narayana), num(atomikos), ratio(concord, narayana),
                    ratio(concord, atomikos)));
            if (wt[0].equals(Workload.XA_DB.id)) {
                double baseline = tps(m, Contender.Kind.BASELINE);
                line.append(" baseline=").append(num(baseline)).append(" ratio_baseline=").append(ratio(concord, baseline));
            } else if (m.containsKey(Contender.Kind.CEILING)) {
                double ceiling = tps(m, Contender.Kind.CEILING);
                line.append(" ceiling=").append(num(ceiling)).append(" ratio_ceiling=").append(ratio(concord, ceiling))
                        .append(" ceiling_ratio_narayana=").append(ratio(ceiling, narayana));
            }
            System.out.println(line);
        });
        System.out.printf(Locale.ROOT, "BENCH fsync fsyncs_per_s=%.0f%n", fsync);
        System.out.printf(Locale.ROOT, "BENCH fsync_cost cpu_us_per_fsync=%.1f%n", fsyncCpuMicros);
        stats.forEach((key, m) -> {
            Stat c = m.get(Contender.Kind.CONCORD);
            if (c != null) {
                String[] wt = key.split(":");
                // Closed loop: each thread's transactions follow one another, so threads ÷ tx/s is the time one
                // takes; in units of the log's own force time it shows how much of it is waiting for the disk.
                double latencyMicros = Integer.parseInt(wt[1]) / c.tps() * 1e6;
                System.out.printf(Locale.ROOT, "BENCH concord workload=%s threads=%s forces_per_tx=%.3f cpu_us_per_tx=%.1f "
                                + "user_us_per_tx=%.1f sys_us_per_tx=%.1f ctxsw_per_tx=%.2f alloc_bytes_per_tx=%.0f "
                                + "jit_us_per_tx=%.1f force_us=%.1f latency_us=%.1f latency_in_forces=%.2f%n", wt[0], wt[1],
                        c.forces(), c.cpuMicros(), c.userMicros(), c.sysMicros(), c.contextSwitches(),
                        c.allocatedBytes(), c.jitMicros(), c.forceMicros(), latencyMicros,
                        latencyMicros / c.forceMicros());
            }
        });
        // The whole machine during each xa-db contender's windows: the databases share its cores and its disk.
        stats.forEach((key, m) -> {
            String[] wt = key.split(":");
            if (wt[0].equals(Workload.XA_DB.id)) {
                m.forEach((k, st) -> System.out.printf(Locale.ROOT, "BENCH machine workload=%s threads=%s contender=%s "
                                + "tps=%.0f machine_cpu_us_per_tx=%.1f machine_busy=%.2f disk_flushes_per_tx=%.2f "
                                + "disk_flushes_per_s=%.0f%n", wt[0], wt[1], k.id, st.tps(), st.machineCpuMicros(),
                        st.machineBusy(), st.diskFlushes(), st.diskFlushesPerSecond()));
            }
        });

        System.out.println();
        System.out.printf(Locale.ROOT, "Medians of %d rounds, tx/s; fsync rate of the disk: %.0f/s. CPU µs/tx: "
                + "process CPU time per committed transaction (Concord / Narayana journal / Narayana shadow / "
                + "Atomikos).%n%n", rounds, fsync);
        System.out.println("| workload | threads | Concord | Narayana journal | Narayana shadow | Atomikos "
                + "| baseline (xa-db) or ceiling (nop) | ÷ Narayana best | ÷ Atomikos | ÷ baseline or ceiling "
                + "| Concord forces/tx | CPU µs/tx |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        stats.forEach((key, m) -> {
            String[] wt = key.split(":");
            double concord = tps(m, Contender.Kind.CONCORD);
            double nj = tps(m, Contender.Kind.NARAYANA_JOURNAL);
            double ns = tps(m, Contender.Kind.NARAYANA_SHADOW);
            double at = tps(m, Contender.Kind.ATOMIKOS);
            double base = tps(m, wt[0].equals(Workload.XA_DB.id) ? Contender.Kind.BASELINE : Contender.Kind.CEILING);
            Stat c = m.get(Contender.Kind.CONCORD);
            String cpu = Stream.of(Contender.Kind.CONCORD, Contender.Kind.NARAYANA_JOURNAL,
                            Contender.Kind.NARAYANA_SHADOW, Contender.Kind.ATOMIKOS)
                    .map(k -> m.get(k) == null ? "–" : String.format(Locale.ROOT, "%.0f", m.get(k).cpuMicros()))
                    .collect(Collectors.joining(" / "));
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    wt[0], wt[1], num(concord), num(nj), num(ns), num(at),
                    Double.isNaN(base) ? "–" : num(base),
                    ratio(concord, best(nj, ns)), ratio(concord, at),
                    Double.isNaN(base) ? "–" : ratio(concord, base),
                    c == null || Double.isNaN(c.forces()) ? "–" : String.format(Locale.ROOT, "%.3f", c.forces()), cpu);
        });

        System.out.println();
        System.out.println("Cost per committed transaction, whole process (medians): CPU µs (user + system), "
                + "context switches, heap bytes allocated; latency = threads ÷ tx/s (closed loop); Concord's log forces per transaction "
                + "and per second; JIT µs/tx: the part of the CPU that the JIT compiler threads spent (code still "
                + "being compiled, not a cost of the transactions). Machine: every process (the database servers "
                + "too) — busy CPU of all cores per transaction, the cores' busy share, and the flushes the disk "
                + "completed per transaction (every fsync that reached it).");
        System.out.println();
        System.out.println("| workload | threads | contender | tx/s | latency µs | CPU µs/tx | user µs/tx | system µs/tx "
                + "| JIT µs/tx | context switches/tx | heap bytes/tx | log forces/tx | log forces/s "
                + "| machine CPU µs/tx | machine busy | disk flushes/tx |");
        System.out.println("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        stats.forEach((key, m) -> {
            String[] wt = key.split(":");
            m.forEach((k, st) -> System.out.printf(Locale.ROOT,
                    "| %s | %s | %s | %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.2f | %s | %s | %s | %.1f | %.0f %% | %.2f |%n",
                    wt[0], wt[1], k.id, num(st.tps()), Integer.parseInt(wt[1]) * 1e6 / st.tps(), st.cpuMicros(),
                    st.userMicros(), st.sysMicros(), st.jitMicros(), st.contextSwitches(), num(st.allocatedBytes()),
                    Double.isNaN(st.forces()) ? "–" : String.format(Locale.ROOT, "%.3f", st.forces()),
                    Double.isNaN(st.forces()) ? "–" : String.format(Locale.ROOT, "%.0f", st.forces() * st.tps()),
                    st.machineCpuMicros(), st.machineBusy() * 100, st.diskFlushes()));
        });

        System.out.println();
        Map<Contender.Kind, Stat> nop16 = stats.get("nop:16");
        if (nop16 != null) {
            double narayana = best(tps(nop16, Contender.Kind.NARAYANA_JOURNAL), tps(nop16, Contender.Kind.NARAYANA_SHADOW));
            double ceiling = tps(nop16, Contender.Kind.CEILING);
            // The bare group commit on the same disk in the same run: what any blocking log could reach here.
            target("nop threads=16 concord/narayana_best", tps(nop16, Contender.Kind.CONCORD) / narayana, ">=", 10,
                    Double.isNaN(ceiling) || Double.isNaN(narayana) ? "" : String.format(Locale.ROOT,
                            " (the bare group-commit ceiling: %.0f tx/s = %.2f x narayana_best; concord/ceiling = %.2f)",
                            ceiling, ceiling / narayana, tps(nop16, Contender.Kind.CONCORD) / ceiling));
        }
        Map<Contender.Kind, Stat> nop1 = stats.get("nop:1");
        if (nop1 != null) {
            target("nop threads=1 concord/fsync_rate", tps(nop1, Contender.Kind.CONCORD) / fsync, ">=", 0.70);
        }
        stats.forEach((key, m) -> {
            Stat c = m.get(Contender.Kind.CONCORD);
            if (key.startsWith("nop:") && c != null) {
                // The kernel's CPU for the forces a transaction needs, measured on a bare file in this run: a floor
                // no code above the system call can go under (at one thread every transaction needs a force).
                double forcesAlone = c.forces() * fsyncCpuMicros;
                target("nop threads=" + key.substring(4) + " concord_cpu_us_per_tx", c.cpuMicros(), "<=", 20,
                        Double.isNaN(forcesAlone) ? "" : String.format(Locale.ROOT, " (its log forces alone: %.3f "
                                + "forces/tx x %.1f us kernel CPU per force = %.1f us)", c.forces(), fsyncCpuMicros,
                                forcesAlone));
            }
        });
        Map<Contender.Kind, Stat> db8 = stats.get("xa-db:8");
        if (db8 != null) {
            Stat c = db8.get(Contender.Kind.CONCORD);
            Stat b = db8.get(Contender.Kind.BASELINE);
            // When the machine's cores are saturated (busy near 100 %), tx/s follow the whole machine's CPU per
            // transaction, database servers included: printed so the ratio can be read against it.
            String machine = c == null || b == null || Double.isNaN(c.machineCpuMicros())
                    ? "" : String.format(Locale.ROOT, " (machine busy %.0f %% / %.0f %%; machine CPU per tx %.0f / %.0f us,"
                            + " baseline/concord = %.2f; disk flushes per tx %.2f / %.2f)", c.machineBusy() * 100,
                    b.machineBusy() * 100, c.machineCpuMicros(), b.machineCpuMicros(),
                    b.machineCpuMicros() / c.machineCpuMicros(), c.diskFlushes(), b.diskFlushes());
            target("xa-db threads=8 concord/baseline",
                    tps(db8, Contender.Kind.CONCORD) / tps(db8, Contender.Kind.BASELINE), ">=", 0.90, machine);
        }
    }

    private static void target(String what, double value, String op, double limit) {
        target(what, value, op, limit, "");
    }

    private static void target(String what, double value, String op, double limit, String why) {
        boolean met = op.equals(">=") ? value >= limit : value <= limit;
        System.out.printf(Locale.ROOT, "TARGET %s=%s need %s %s: %s%s%n", what,
                Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.2f", value), op,
                String.format(Locale.ROOT, "%.2f", limit), Double.isNaN(value) ? "not measured" : met ? "met" : "MISSED",
                why);
    }

    private static double tps(Map<Contender.Kind, Stat> m, Contender.Kind k) {
        Stat s = m.get(k);
        return s == null ? Double.NaN : s.tps();
    }

    /** The higher of two rates, either of which may be missing (NaN). */
    private static double best(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
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

    /** A child JVM driven through its standard input; its standard error goes to a file. */
    private static final class Child {
        final Contender.Kind kind;
        final Process process;
        final Path stderr;
        final java.io.Writer in;
        final java.util.concurrent.BlockingQueue<String> out = new java.util.concurrent.LinkedBlockingQueue<>();
        boolean dead;
        int failures;

        private Child(Contender.Kind kind, Process process, Path stderr) {
            this.kind = kind;
            this.process = process;
            this.stderr = stderr;
            this.in = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        out.add(line);
                    }
                } catch (IOException e) {
                    // The child is gone.
                }
                out.add("EOF");
            }, "child-" + kind.id);
            reader.setDaemon(true);
            reader.start();
        }

        static Child start(Contender.Kind kind, List<String> cmd, Path stderr) throws IOException {
            return new Child(kind, new ProcessBuilder(cmd).redirectError(stderr.toFile()).start(), stderr);
        }

        /** Sends a command; returns the answer starting with {@code expect}, or null (reported) when it failed. */
        String command(String command, String expect, long timeoutMillis) throws IOException, InterruptedException {
            if (dead) {
                return null;
            }
            try {
                in.write(command + "\n");
                in.flush();
            } catch (IOException e) {
                return fail(command, "its standard input is closed: " + e);
            }
            return await(expect, timeoutMillis, command);
        }

        void await(String expect, long timeoutMillis) throws IOException, InterruptedException {
            await(expect, timeoutMillis, "start");
        }

        private String await(String expect, long timeoutMillis, String what) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (true) {
                String line = out.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) {
                    process.destroyForcibly();
                    dead = true;
                    return fail(what, "no answer within " + timeoutMillis / 1000 + " s; killed");
                }
                if (line.startsWith(expect)) {
                    return line;
                }
                if (line.startsWith("ERROR") || line.equals("EOF")) {
                    dead |= line.equals("EOF") || !process.isAlive();
                    return fail(what, line);
                }
            }
        }

        private String fail(String what, String why) throws IOException {
            failures++;
            System.out.println("WARN " + kind.id + ": '" + what + "' failed: " + why + ". Last lines of its standard error:");
            List<String> err = Files.exists(stderr) ? Files.readAllLines(stderr, StandardCharsets.UTF_8) : List.of();
            err.subList(Math.max(0, err.size() - 30), err.size()).forEach(l -> System.out.println("    " + l));
            return null;
        }

        void quit() throws InterruptedException {
            if (!dead) {
                try {
                    in.write("QUIT\n");
                    in.flush();
                } catch (IOException e) {
                    // Gone already.
                }
            }
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
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
