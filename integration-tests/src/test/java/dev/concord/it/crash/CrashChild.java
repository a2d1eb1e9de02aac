package dev.concord.it.crash;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.RecoveryManager;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.RetryPolicy;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.file.FileLogConfig;
import dev.concord.recovery.log.file.FileTransactionLog;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The coordinator process that crash tests start and kill: {@code java ... CrashChild <data-dir> run <n>} or
 * {@code java ... CrashChild <data-dir> recover}.
 *
 * <p>Both modes use the durable log in {@code <dir>/log} and the resource managers {@code rm-a}, {@code rm-b} and
 * {@code rm-c} (each a {@link FileXaResourceManager} in {@code <dir>/<name>}).
 * <ul>
 *   <li>{@code run n}: runs n transactions one after another through the JTA transaction manager; transaction i
 *       writes the row {@code tx<i>=<gtrid>} through one connection of every resource manager and commits. Prints
 *       {@code begun tx<i> <gtrid>} before the work and {@code committed tx<i> <gtrid>} once commit returned,
 *       then {@code done} and exits 0. A crash point armed by system property stops it on the way;
 *       {@value #HOLD_COMMITS_PROPERTY} makes the commits of some resource managers hang, and
 *       {@value #TRACE_PROPERTY} prints {@code step <rm> <step> <xid>} after every durable step of a resource
 *       manager (see {@link FileXaResourceManager#onDurableStep}).</li>
 *   <li>{@code recover}: prints {@code unfinished-decisions-before: <n>}, runs recovery passes until no decision
 *       is being retried and no resource manager holds a prepared branch (at most {@value #MAX_PASSES} passes),
 *       prints one {@code pass ...} line per pass, {@code unfinished-decisions-after: <n>} and
 *       {@code recovered passes=<p> redone=<r> orphans-rolled-back=<o>}, closes the log and exits 0; it exits 2
 *       when recovery does not converge.</li>
 * </ul>
 * Any unexpected failure prints its stack trace and exits 1.
 */
public final class CrashChild {
    /** The node id of every transaction the child begins. */
    public static final String NODE_ID = "crash-node";
    /** The resource managers, by name; each lives in the directory of the same name. */
    public static final List<String> RESOURCE_MANAGERS = List.of("rm-a", "rm-b", "rm-c");
    /**
     * System property naming resource managers (comma-separated) whose two-phase commits block for good in
     * {@code run} mode; see {@link FileXaResourceManager#holdCommits()}.
     */
    public static final String HOLD_COMMITS_PROPERTY = "crash.holdCommitsIn";
    /** System property: when {@code true}, {@code run} prints every durable step of the resource managers. */
    public static final String TRACE_PROPERTY = "crash.traceSteps";
    static final int MAX_PASSES = 100;

    private CrashChild() {
    }

    public static void main(String[] args) {
        try {
            if (args.length < 2) {
                throw new IllegalArgumentException("usage: CrashChild <data-dir> run <n> | CrashChild <data-dir> recover");
            }
            Path dir = Path.of(args[0]);
            int status = switch (args[1]) {
                case "run" -> run(dir, Integer.parseInt(args[2]));
                case "recover" -> recover(dir);
                default -> throw new IllegalArgumentException("unknown mode " + args[1]);
            };
            System.out.flush();
            System.exit(status);
        } catch (Throwable t) {
            t.printStackTrace();
            System.err.flush();
            System.exit(1);
        }
    }

    private static int run(Path dir, int count) throws Exception {
        try (FileTransactionLog log = openLog(dir)) {
            List<FileXaResourceManager> rms = openResourceManagers(dir);
            List<String> held = List.of(System.getProperty(HOLD_COMMITS_PROPERTY, "").split(","));
            rms.stream().filter(rm -> held.contains(rm.name())).forEach(FileXaResourceManager::holdCommits);
            if (Boolean.getBoolean(TRACE_PROPERTY)) {
                rms.forEach(rm -> rm.onDurableStep(step -> println("step " + step)));
            }
            ResourceRegistry registry = new ResourceRegistry();
            rms.forEach(registry::register);
            try (Coordinator coordinator = new Coordinator(config(), log, registry)) {
                ConcordTransactionManager tm = new ConcordTransactionManager(coordinator);
                for (int i = 1; i <= count; i++) {
                    tm.begin();
                    GlobalTransaction tx = tm.currentTransaction();
                    println("begun tx" + i + " " + tx.gtrid());
                    for (FileXaResourceManager rm : rms) {
                        FileXaResourceManager.Connection c = rm.connect();
                        tx.enlistResource(c);
                        c.write("tx" + i, tx.gtrid().toString());
                    }
                    tm.commit();
                    println("committed tx" + i + " " + tx.gtrid());
                }
            }
        }
        println("done");
        return 0;
    }

    private static int recover(Path dir) throws Exception {
        FileTransactionLog log = openLog(dir);
        List<FileXaResourceManager> rms = openResourceManagers(dir);
        ResourceRegistry registry = new ResourceRegistry();
        rms.forEach(registry::register);
        println("unfinished-decisions-before: " + log.unfinishedDecisions().size());
        int redone = 0;
        int orphans = 0;
        int passes = 0;
        boolean converged = false;
        try (Coordinator coordinator = new Coordinator(config(), log, registry);
             RecoveryManager recovery = new RecoveryManager(coordinator, log)) {
            while (passes < MAX_PASSES) {
                passes++;
                RecoveryManager.Report report = recovery.recover();
                redone += report.decisionsRedone();
                orphans += report.orphansRolledBack();
                List<String> prepared = preparedEverywhere(rms);
                println("pass " + passes + " " + report + " in-doubt=" + recovery.inDoubt() + " prepared=" + prepared);
                if (recovery.inDoubt().isEmpty() && prepared.isEmpty() && report.unreachableResources().isEmpty()) {
                    converged = true;
                    break;
                }
                // Bounded wait for background phase-2 retries before the next pass.
                Thread.sleep(50);
            }
            println("unfinished-decisions-after: " + log.unfinishedDecisions().size());
        } finally {
            log.close();
        }
        println("recovered passes=" + passes + " redone=" + redone + " orphans-rolled-back=" + orphans);
        if (!converged) {
            System.err.println("recovery did not converge after " + passes + " passes");
            return 2;
        }
        return 0;
    }

    private static List<String> preparedEverywhere(List<FileXaResourceManager> rms) throws IOException {
        List<String> out = new ArrayList<>();
        for (FileXaResourceManager rm : rms) {
            FileXaResourceManager.readPrepared(rm.directory()).forEach(x -> out.add(rm.name() + ":" + x));
        }
        return out;
    }

    private static FileTransactionLog openLog(Path dir) throws LogException {
        // The smallest segments: a segment fills every ~20 transactions, so kills also land around rotation,
        // pre-allocation and the release of old segments (and no child pays for creating a 16 MiB segment).
        return FileTransactionLog.open(FileLogConfig.builder(dir.resolve("log"))
                .segmentSize(FileLogConfig.MIN_SEGMENT_SIZE).build());
    }

    private static List<FileXaResourceManager> openResourceManagers(Path dir) {
        List<FileXaResourceManager> rms = new ArrayList<>();
        for (String name : RESOURCE_MANAGERS) {
            rms.add(new FileXaResourceManager(name, dir.resolve(name)));
        }
        return rms;
    }

    private static CoordinatorConfig config() {
        return CoordinatorConfig.builder()
                .nodeId(NODE_ID)
                .retryPolicy(new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(500), 0.2))
                .workerThreads(8)
                .build();
    }

    private static void println(String line) {
        // One call per line: phase-2 steps of different branches print from different threads.
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }
}
