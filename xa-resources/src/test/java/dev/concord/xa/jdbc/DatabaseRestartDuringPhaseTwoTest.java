package dev.concord.xa.jdbc;

import static dev.concord.xa.jdbc.JdbcFixture.count;
import static dev.concord.xa.jdbc.JdbcFixture.insert;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.RetryPolicy;
import dev.concord.coordinator.TxState;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.InMemoryTransactionLog;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.LogWriter;
import dev.concord.recovery.xid.Gtrid;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A database server restarts after the commit decision is durable and before phase 2 reaches it: phase 2 fails on
 * the dead connection, retries through fresh connections, and the transaction ends committed on both databases
 * with nothing left prepared. Restarts the server through {@code scripts/db-restart.sh} (needs root).
 */
@Tag("server-restart")
class DatabaseRestartDuringPhaseTwoTest {
    private JdbcFixture fx;
    private Coordinator coordinator;
    private ConcordTransactionManager tm;
    private String mariaTable;
    private String pgTable;
    private EnlistingDataSource mariaPool;
    private EnlistingDataSource pgPool;

    @BeforeEach
    void setUp() throws Exception {
        fx = new JdbcFixture();
        mariaTable = fx.table(fx.mariaDb);
        pgTable = fx.table(fx.postgres);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (mariaPool != null) {
            mariaPool.close();
        }
        if (pgPool != null) {
            pgPool.close();
        }
        if (coordinator != null) {
            coordinator.close();
        }
        assertTrue(fx.cleanUp().isEmpty(), "nothing of ours was left prepared");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mariadb", "postgresql"})
    void serverRestartBetweenDecisionAndPhaseTwoEndsCommittedOnBoth(String server) throws Exception {
        InMemoryTransactionLog log = new InMemoryTransactionLog();
        coordinator = new Coordinator(CoordinatorConfig.builder()
                .nodeId(fx.nodeId)
                .retryPolicy(new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(2), 0.2))
                .build(), new RestartAfterDecision(log, server), new ResourceRegistry());
        tm = new ConcordTransactionManager(coordinator);
        mariaPool = EnlistingDataSource.open(new JdbcXaResource(JdbcFixture.mariaDbConfig("mariadb").build()), tm);
        pgPool = EnlistingDataSource.open(new JdbcXaResource(JdbcFixture.postgresConfig("postgres").build()), tm);

        tm.begin();
        GlobalTransaction tx = tm.currentTransaction();
        try (Connection m = mariaPool.getConnection(); Connection p = pgPool.getConnection()) {
            insert(m, mariaTable, 1, "restart " + server);
            insert(p, pgTable, 1, "restart " + server);
        }
        tm.commit(); // the decision is durable: commit returns while phase 2 is retried in the background

        assertEquals(TxState.COMMITTED, tx.completion().get(90, TimeUnit.SECONDS));
        assertEquals(1, count(fx.mariaDb, mariaTable), "the MariaDB row is committed");
        assertEquals(1, count(fx.postgres, pgTable), "the PostgreSQL row is committed");
        assertTrue(fx.ourPrepared(fx.mariaDb).isEmpty());
        assertTrue(fx.ourPrepared(fx.postgres).isEmpty());
        assertTrue(log.unfinishedDecisions().isEmpty(), "END was written");
        boolean retried = tx.branches().stream().anyMatch(b -> b.attempts() > 1);
        assertTrue(retried, "phase 2 needed a retry on the restarted server: " + tx.branches());
    }

    /** A log that restarts a database server right after the commit decision is durable. */
    private static final class RestartAfterDecision implements LogWriter {
        private final LogWriter delegate;
        private final String server;

        RestartAfterDecision(LogWriter delegate, String server) {
            this.delegate = delegate;
            this.server = server;
        }

        @Override
        public void forceCommitDecision(CommitDecision decision) throws LogException {
            delegate.forceCommitDecision(decision);
            try {
                restart(server);
            } catch (IOException | InterruptedException e) {
                throw new AssertionError("restart of " + server + " failed", e);
            }
        }

        @Override
        public void writeEnd(Gtrid gtrid) throws LogException {
            delegate.writeEnd(gtrid);
        }

        @Override
        public void forceHeuristic(HeuristicRecord heuristic) throws LogException {
            delegate.forceHeuristic(heuristic);
        }

        @Override
        public void writeForget(Gtrid gtrid, String resourceName, int branch) throws LogException {
            delegate.writeForget(gtrid, resourceName, branch);
        }
    }

    private static void restart(String server) throws IOException, InterruptedException {
        Path script = null;
        for (Path dir = Path.of("").toAbsolutePath(); dir != null && script == null; dir = dir.getParent()) {
            Path candidate = dir.resolve("scripts").resolve("db-restart.sh");
            if (Files.isRegularFile(candidate)) {
                script = candidate;
            }
        }
        if (script == null) {
            fail("scripts/db-restart.sh not found above " + Path.of("").toAbsolutePath());
        }
        Path output = Files.createTempFile("db-restart-", ".log");
        try {
            Process process = new ProcessBuilder("bash", script.toString(), server)
                    .redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("db-restart.sh " + server + " did not finish: " + Files.readString(output, StandardCharsets.UTF_8));
            }
            assertEquals(0, process.exitValue(), () -> "db-restart.sh " + server + " failed");
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
