package dev.concord.it.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One contender in one JVM, started once per run by {@link PeerBenchmark} and driven through its standard input,
 * so that the parent can interleave the contenders case by case while each keeps its warmed-up JIT, its pools and
 * its log. Arguments: {@code --contender=C --dir=D --db-max-threads=N --concord-db=pool|raw}. Commands, one per
 * line, each answered on standard output:
 * <pre>
 *   WARM workload threads seconds           -> WARMED committed=T
 *   RUN workload threads warmup measure     -> RESULT contender=C workload=W threads=N tx=T seconds=S tps=X
 *                                              cpu_us_per_tx=Y forces_per_tx=Z user_us_per_tx=U sys_us_per_tx=K
 *                                              ctxsw_per_tx=V alloc_bytes_per_tx=B jit_us_per_tx=J force_us=F
 *                                              machine_cpu_us_per_tx=M machine_busy=Q disk_flushes_per_tx=D
 *                                              disk_flushes_per_s=R committed=T
 *   QUIT                                    -> DONE, then exit
 * </pre>
 * {@code committed} counts every transaction of the command, warm-up included, so the parent can check that both
 * databases hold exactly as many rows of this contender. A failed command answers {@code ERROR message} (stack
 * trace on standard error); the first line of all is {@code READY} once the contender is set up.
 */
public final class PeerBenchmarkChild {
    private PeerBenchmarkChild() {
    }

    public static void main(String[] args) throws Exception {
        var a = PeerBenchmark.parseArgs(args);
        Contender.Kind kind = Contender.Kind.parse(a.get("contender"));
        Path dir = Files.createDirectories(Path.of(a.get("dir")));
        ChildOptions options = new ChildOptions(Integer.parseInt(a.getOrDefault("db-max-threads", "8")),
                !"raw".equals(a.getOrDefault("concord-db", "pool")));
        Contender contender;
        try {
            contender = Contender.open(kind, dir, options);
        } catch (Throwable t) {
            t.printStackTrace();
            answer("ERROR cannot set up " + kind.id + ": " + t);
            System.exit(1);
            return;
        }
        String disk = MachineStats.diskOf(dir);
        answer("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] c = line.trim().split("\\s+");
            try {
                switch (c[0]) {
                    case "WARM" -> {
                        LoadRunner.Measurement m = LoadRunner.run(contender, Workload.parse(c[1]),
                                Integer.parseInt(c[2]), PeerBenchmark.millis(c[3]), 0, disk);
                        answer("WARMED committed=" + m.committedTotal());
                    }
                    case "RUN" -> {
                        Workload w = Workload.parse(c[1]);
                        int threads = Integer.parseInt(c[2]);
                        LoadRunner.Measurement m = LoadRunner.run(contender, w, threads, PeerBenchmark.millis(c[3]),
                                PeerBenchmark.millis(c[4]), disk);
                        answer(String.format(Locale.ROOT, "RESULT contender=%s workload=%s threads=%d tx=%d "
                                        + "seconds=%.3f tps=%.1f cpu_us_per_tx=%.2f forces_per_tx=%.4f "
                                        + "user_us_per_tx=%.2f sys_us_per_tx=%.2f ctxsw_per_tx=%.2f alloc_bytes_per_tx=%.0f "
                                        + "jit_us_per_tx=%.2f force_us=%.1f machine_cpu_us_per_tx=%.1f machine_busy=%.3f "
                                        + "disk_flushes_per_tx=%.3f disk_flushes_per_s=%.0f committed=%d",
                                kind.id, w.id, threads, m.transactions(), m.seconds(), m.tps(), m.cpuMicrosPerTx(),
                                m.forcesPerTx(), m.userMicrosPerTx(), m.systemMicrosPerTx(),
                                m.contextSwitchesPerTx(), m.allocatedBytesPerTx(), m.compilerMicrosPerTx(),
                                m.microsPerForce(), m.machineCpuMicrosPerTx(), m.machineBusy(), m.diskFlushesPerTx(),
                                m.diskFlushesPerSecond(), m.committedTotal()));
                    }
                    case "QUIT" -> {
                        try {
                            contender.close();
                        } finally {
                            answer("DONE");
                            // Narayana and Atomikos leave non-daemon threads behind.
                            System.exit(0);
                        }
                    }
                    default -> answer("ERROR unknown command: " + line);
                }
            } catch (Throwable t) {
                System.err.println("command '" + line + "' of " + kind.id + " failed:");
                t.printStackTrace();
                answer("ERROR " + String.valueOf(t).replace('\n', ' '));
            }
        }
        System.exit(0);
    }

    private static void answer(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
