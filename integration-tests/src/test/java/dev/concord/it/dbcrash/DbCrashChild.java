package dev.concord.it.dbcrash;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.CoordinatorListener;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.RecoveryManager;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.RetryPolicy;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.log.file.FileLogConfig;
import dev.concord.recovery.log.file.FileTransactionLog;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.outcome.OutcomeIndex;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.xa.jdbc.EnlistingDataSource;
import dev.concord.xa.jdbc.JdbcXaResource;
import dev.concord.xa.rocketmq.OutcomeSource;
import dev.concord.xa.rocketmq.RocketMqResource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.transaction.xa.XAException;

/**
 * The coordinator process that the database crash tests start and kill:
 * {@code java ... DbCrashChild <data-dir> <node-id> <table> run <n>} or
 * {@code java ... DbCrashChild <data-dir> <node-id> <table> recover}.
 *
 * <p>Both modes use the durable log in {@code <dir>/log}, the given node id (unique per test, so that the test can
 * tell its XIDs from everybody else's in MariaDB's server-wide {@code XA RECOVER}) and two registered
 * {@link JdbcXaResource}s, MariaDB ({@value CrashDatabases#MARIADB}) and PostgreSQL ({@value CrashDatabases#POSTGRES}),
 * plus, when the test hands it {@link CrashMessaging} settings, a {@link RocketMqResource}
 * ({@value CrashMessaging#RESOURCE}: a new producer instance of the given group in every process) whose check-backs
 * are answered from the engine's outcome index, opened on the log at start as the service does.
 * <ul>
 *   <li>{@code run n}: runs n transactions one after another through the JTA transaction manager and an
 *       {@link EnlistingDataSource} per database; transaction i inserts the row {@code (i, <gtrid text>)} into the
 *       table in both databases — and, with messaging, registers one message (key {@code tx<i>}, body the gtrid) — and
 *       commits. Prints {@code begun tx<i> <gtrid>} before the work and
 *       {@code committed tx<i> <gtrid>} once commit returned, then {@code done} and exits 0. A crash point armed by
 *       system property stops it on the way.</li>
 *   <li>{@code recover}: prints what the log holds at start — {@code unfinished-decisions-before: <n>}, one
 *       {@code decided-unfinished <gtrid>} per commit decision without END, one {@code decided-ended <gtrid>} per
 *       recent commit and {@code recent-commits-horizon: <millis>} (every decision that ended after it is listed) —
 *       then runs recovery passes until no decision is being retried and neither database lists a prepared XID of
 *       this node (at most {@value #MAX_PASSES} passes), prints one {@code pass ...} line per pass,
 *       {@code unfinished-decisions-after: <n>} and {@code recovered passes=<p> redone=<r> orphans-rolled-back=<o>},
 *       and exits 0; it exits 2 when recovery does not converge. With messaging it prints
 *       {@code check-back <gtrid> <outcome>} for every check-back it answers, and with the system property
 *       {@value #STAY_UNTIL} (epoch milliseconds) it keeps running, answering check-backs, until then.</li>
 * </ul>
 * Any unexpected failure prints its stack trace and exits 1.
 */
public final class DbCrashChild {
    static final int MAX_PASSES = 150;
    /** System property: in recovery mode, keep answering check-backs until this time (epoch milliseconds). */
    public static final String STAY_UNTIL = "concord.it.stayUntil";
    private static final long PASS_PAUSE_MILLIS = 100;

    private DbCrashChild() {
    }

    public static void main(String[] args) {
        try {
            if (args.length < 4) {
                throw new IllegalArgumentException("usage: DbCrashChild <data-dir> <node-id> <table> run <n> | "
                        + "DbCrashChild <data-dir> <node-id> <table> recover");
            }
            Path dir = Path.of(args[0]);
            String nodeId = args[1];
            String table = args[2];
            int status = switch (args[3]) {
                case "run" -> run(dir, nodeId, table, Integer.parseInt(args[4]));
                case "recover" -> recover(dir, nodeId);
                default -> throw new IllegalArgumentException("unknown mode " + args[3]);
            };
            System.out.flush();
            System.exit(status);
        } catch (Throwable t) {
            t.printStackTrace();
            System.err.flush();
            System.exit(1);
        }
    }

    private static int run(Path dir, String nodeId, String table, int count) throws Exception {
        JdbcXaResource mariaDb = CrashDatabases.mariaDb();
        JdbcXaResource postgres = CrashDatabases.postgres();
        ResourceRegistry registry = new ResourceRegistry();
        registry.register(mariaDb);
        registry.register(postgres);
        Optional<CrashMessaging> messaging = CrashMessaging.fromSystemProperties();
        AtomicReference<Coordinator> engine = new AtomicReference<>();
        RocketMqResource mq = messaging.map(m -> m.open(outcomesOf(engine, false))).orElse(null);
        if (mq != null) {
            registry.register(mq);
        }
        try (FileTransactionLog log = openLog(dir);
                Coordinator coordinator = engine(nodeId, log, registry, engine)) {
            ConcordTransactionManager tm = new ConcordTransactionManager(coordinator);
            try (EnlistingDataSource mariaPool = EnlistingDataSource.open(mariaDb, tm);
                    EnlistingDataSource pgPool = EnlistingDataSource.open(postgres, tm)) {
                for (int i = 1; i <= count; i++) {
                    tm.begin();
                    GlobalTransaction tx = tm.currentTransaction();
                    println("begun tx" + i + " " + tx.gtrid());
                    try (Connection m = mariaPool.getConnection(); Connection p = pgPool.getConnection()) {
                        insert(m, table, i, tx.gtrid().toString());
                        insert(p, table, i, tx.gtrid().toString());
                    }
                    if (mq != null) {
                        mq.branchOf(tx).addMessage(messaging.get().message(i, tx.gtrid().toString()));
                    }
                    tm.commit();
                    println("committed tx" + i + " " + tx.gtrid());
                }
            }
        }
        println("done");
        return 0;
    }

    private static void insert(Connection c, String table, int id, String gtrid) throws Exception {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO " + table + " (id, gtrid) VALUES (?, ?)")) {
            p.setInt(1, id);
            p.setString(2, gtrid);
            p.executeUpdate();
        }
    }

    private static int recover(Path dir, String nodeId) throws Exception {
        List<JdbcXaResource> resources = List.of(CrashDatabases.mariaDb(), CrashDatabases.postgres());
        ResourceRegistry registry = new ResourceRegistry();
        resources.forEach(registry::register);
        AtomicReference<Coordinator> engine = new AtomicReference<>();
        RocketMqResource mq = CrashMessaging.fromSystemProperties().map(m -> m.open(outcomesOf(engine, true)))
                .orElse(null);
        if (mq != null) {
            registry.register(mq);
        }
        FileTransactionLog log = openLog(dir);
        List<CommitDecision> unfinished = log.unfinishedDecisions();
        println("unfinished-decisions-before: " + unfinished.size());
        unfinished.forEach(d -> println("decided-unfinished " + d.gtrid()));
        RecentCommits recent = log.recentCommits();
        recent.endedAtMillis().keySet().forEach(g -> println("decided-ended " + g));
        println("recent-commits-horizon: " + recent.horizonMillis());
        println("prepared-before: " + preparedEverywhere(resources, nodeId));
        int redone = 0;
        int orphans = 0;
        int passes = 0;
        boolean converged = false;
        try (Coordinator coordinator = engine(nodeId, log, registry, engine);
                RecoveryManager recovery = new RecoveryManager(coordinator, log)) {
            while (passes < MAX_PASSES) {
                passes++;
                RecoveryManager.Report report = recovery.recover();
                redone += report.decisionsRedone();
                orphans += report.orphansRolledBack();
                List<String> prepared = preparedEverywhere(resources, nodeId);
                println("pass " + passes + " " + report + " in-doubt=" + recovery.inDoubt() + " prepared=" + prepared);
                if (recovery.inDoubt().isEmpty() && prepared.isEmpty() && report.unreachableResources().isEmpty()
                        && log.unfinishedDecisions().isEmpty()) {
                    converged = true;
                    break;
                }
                // Bounded wait for background phase-2 retries (MariaDB may still hold a dead session's branch).
                Thread.sleep(PASS_PAUSE_MILLIS);
            }
            println("unfinished-decisions-after: " + log.unfinishedDecisions().size());
            stayUntil(Long.getLong(STAY_UNTIL, 0));
        } finally {
            if (mq != null) {
                mq.close();
            }
            log.close();
        }
        println("recovered passes=" + passes + " redone=" + redone + " orphans-rolled-back=" + orphans);
        if (!converged) {
            System.err.println("recovery did not converge after " + passes + " passes");
            return 2;
        }
        return 0;
    }

    /** The engine, with its outcome index opened on the log before any transaction, as the service wires it. */
    private static Coordinator engine(String nodeId, FileTransactionLog log, ResourceRegistry registry,
                                      AtomicReference<Coordinator> engine) {
        Coordinator c = new Coordinator(config(nodeId), log, registry, CoordinatorListener.NONE,
                OutcomeIndex.open(nodeId, log));
        engine.set(c);
        return c;
    }

    /**
     * Check-backs answered from the engine's outcome index once the engine exists (UNKNOWN before), printed as
     * {@code check-back <gtrid> <outcome>} when {@code print}.
     */
    private static OutcomeSource outcomesOf(AtomicReference<Coordinator> engine, boolean print) {
        return raw -> {
            Coordinator c = engine.get();
            Gtrid g = Gtrid.tryParse(raw);
            Outcome o = c == null || g == null ? Outcome.UNKNOWN : c.outcomeOf(g);
            if (print) {
                println("check-back " + g + " " + o);
            }
            return o;
        };
    }

    /** Keeps the process (and its producer, which answers check-backs) running until then. */
    private static void stayUntil(long epochMillis) throws InterruptedException {
        long left = epochMillis - System.currentTimeMillis();
        if (left > 0) {
            Thread.sleep(left);
            println("stayed-until " + epochMillis);
        }
    }

    /** This node's prepared XIDs in both databases, as {@code <resource>:<xid>}; an unreachable one counts too. */
    private static List<String> preparedEverywhere(List<JdbcXaResource> resources, String nodeId) {
        List<String> out = new ArrayList<>();
        for (JdbcXaResource r : resources) {
            try {
                for (ConcordXid x : CrashDatabases.prepared(r, nodeId)) {
                    out.add(r.name() + ":" + x);
                }
            } catch (XAException e) {
                out.add(r.name() + ":unreachable(" + e.errorCode + " " + e.getMessage() + ")");
            }
        }
        return out;
    }

    private static FileTransactionLog openLog(Path dir) throws LogException {
        return FileTransactionLog.open(FileLogConfig.builder(dir.resolve("log")).segmentSize(1 << 20).build());
    }

    private static CoordinatorConfig config(String nodeId) {
        Gtrid.validateNodeId(nodeId);
        return CoordinatorConfig.builder()
                .nodeId(nodeId)
                .defaultTimeout(Duration.ofSeconds(30))
                .retryPolicy(new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(200), 0.2))
                .workerThreads(8)
                .build();
    }

    private static void println(String line) {
        // One call per line: phase-2 threads may print too.
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }
}
