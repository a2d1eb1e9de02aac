package dev.concord.it.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One contender in one JVM, started by {@link PeerBenchmark} for each contender and round. It sets the contender
 * up, warms each workload up once at the highest thread count (at most 16), then runs the cases in the given order
 * and prints one line per case on standard output:
 * <pre>
 *   RESULT contender=C workload=W threads=N tx=T seconds=S tps=X cpu_us_per_tx=Y forces_per_tx=Z
 *          user_us_per_tx=U sys_us_per_tx=K ctxsw_per_tx=W
 *   COMMITTED workload=W total=T
 *   DONE
 * </pre>
 * ({@code COMMITTED} counts every transaction this child committed, warm-ups included, so the parent can check
 * that both databases hold exactly that many rows.) Arguments: {@code --contender=C --dir=D
 * --cases=nop:1,nop:4,xa-db:8 --seconds=S --warmup=S --first-warmup=S --db-max-threads=N --concord-db=pool|raw}.
 */
public final class PeerBenchmarkChild {
    private PeerBenchmarkChild() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = PeerBenchmark.parseArgs(args);
        Contender.Kind kind = Contender.Kind.parse(a.get("contender"));
        Path dir = Files.createDirectories(Path.of(a.get("dir")));
        long measure = PeerBenchmark.millis(a.get("seconds"));
        long warmup = PeerBenchmark.millis(a.get("warmup"));
        long firstWarmup = PeerBenchmark.millis(a.get("first-warmup"));
        List<Object[]> cases = new ArrayList<>();
        for (String c : a.get("cases").split(",")) {
            String[] wt = c.split(":");
            cases.add(new Object[] {Workload.parse(wt[0]), Integer.parseInt(wt[1])});
        }
        ChildOptions options = new ChildOptions(Integer.parseInt(a.getOrDefault("db-max-threads", "8")),
                !"raw".equals(a.getOrDefault("concord-db", "pool")));
        Map<Workload, Long> committed = new LinkedHashMap<>();
        int status = 0;
        try (Contender contender = Contender.open(kind, dir, options)) {
            Set<Workload> warmed = EnumSet.noneOf(Workload.class);
            for (Object[] c : cases) {
                Workload w = (Workload) c[0];
                int threads = (Integer) c[1];
                if (warmed.add(w)) {
                    int warmThreads = cases.stream().filter(x -> x[0] == w).mapToInt(x -> (Integer) x[1])
                            .filter(t -> t <= 16).max().orElse(threads);
                    LoadRunner.Measurement m = LoadRunner.run(contender, w, warmThreads, firstWarmup, 0);
                    committed.merge(w, m.committedTotal(), Long::sum);
                }
                LoadRunner.Measurement m = LoadRunner.run(contender, w, threads, warmup, measure);
                committed.merge(w, m.committedTotal(), Long::sum);
                System.out.printf(Locale.ROOT, "RESULT contender=%s workload=%s threads=%d tx=%d seconds=%.3f "
                                + "tps=%.1f cpu_us_per_tx=%.2f forces_per_tx=%.4f user_us_per_tx=%.2f sys_us_per_tx=%.2f "
                                + "ctxsw_per_tx=%.2f%n", kind.id, w.id, threads, m.transactions(), m.seconds(), m.tps(),
                        m.cpuMicrosPerTx(), m.forcesPerTx(), m.userMicrosPerTx(), m.systemMicrosPerTx(),
                        m.contextSwitchesPerTx());
                System.out.flush();
            }
        } catch (Throwable t) {
            System.err.println("contender " + kind.id + " failed:");
            t.printStackTrace();
            status = 1;
        }
        committed.forEach((w, n) -> System.out.printf(Locale.ROOT, "COMMITTED workload=%s total=%d%n", w.id, n));
        System.out.println(status == 0 ? "DONE" : "FAILED");
        System.out.flush();
        // Narayana and Atomikos leave non-daemon threads behind.
        System.exit(status);
    }
}
