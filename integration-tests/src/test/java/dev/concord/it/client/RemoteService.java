package dev.concord.it.client;

import dev.concord.client.ConcordServiceClient;
import dev.concord.client.RemoteEnlistingDataSource;
import dev.concord.client.RemoteUserTransaction;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.ServiceProcess;
import dev.concord.service.testing.TestDatabases;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The coordinator service as a separate process ({@code dev.concord.service.Main}, as an operator runs it) with a
 * YAML configuration naming the test MariaDB and PostgreSQL ({@code mariadb}, {@code postgres}) and a RocketMQ
 * resource {@code events} on an embedded broker; recovery runs every second. It can be killed and restarted on the
 * same data directory. Plus what an application of the service holds: the remote UserTransaction and the
 * enlisting data sources over its own XA data sources.
 */
final class RemoteService implements AutoCloseable {
    static final String CLIENT_TOKEN = ServiceFixture.CLIENT_TOKEN;
    static final String ADMIN_TOKEN = ServiceFixture.ADMIN_TOKEN;
    /** The table both databases get; the tests of this package use no other. */
    static final String TABLE = "client_jta_it";

    private final Path dir;
    private final Path config;
    private final String nodeId;
    private ServiceProcess process;
    private String baseUri;
    private ConcordServiceClient client;

    private RemoteService(Path dir, String nodeId, EmbeddedRocketMq broker) throws IOException {
        this.dir = dir;
        this.nodeId = nodeId;
        this.config = dir.resolve("concord.yaml");
        Files.writeString(config, "nodeId: " + nodeId + "\n"
                + "dataDir: data\n"
                + "http: {host: 127.0.0.1, port: 0}\n"
                + "transactions: {defaultTimeout: 30s, maxTimeout: 120s}\n"
                + "recovery: {interval: 1s}\n"
                + "shutdown: {grace: 3s}\n"
                + "tokens:\n"
                + "  - {name: app, scope: client, token: " + CLIENT_TOKEN + "}\n"
                + "  - {name: ops, scope: admin, token: " + ADMIN_TOKEN + "}\n"
                + TestDatabases.resourcesYaml()
                + "  rocketmq:\n"
                + "    - name: events\n"
                + "      namesrvAddress: \"" + broker.namesrvAddress() + "\"\n"
                + "      producerGroup: concord-client-" + nodeId + "\n"
                + "      sendTimeout: 5s\n"
                + "      checkHorizon: " + broker.checkHorizon().toSeconds() + "s\n");
    }

    /** A broker whose check-backs come quickly (2 s, then every second, 30 times). */
    static EmbeddedRocketMq startBroker() {
        return EmbeddedRocketMq.builder()
                .transactionTimeout(java.time.Duration.ofSeconds(2))
                .transactionCheckInterval(java.time.Duration.ofSeconds(1))
                .transactionOpBatchInterval(java.time.Duration.ofMillis(200))
                .transactionCheckMax(30)
                .start();
    }

    /** Starts a service in a new temporary directory with {@code env} (e.g. an armed crash point). */
    static RemoteService start(String prefix, EmbeddedRocketMq broker, Map<String, String> env) throws Exception {
        createTables();
        RemoteService s = new RemoteService(Files.createTempDirectory("concord-client-it"),
                ServiceFixture.uniqueNodeId(prefix), broker);
        s.launch(env);
        return s;
    }

    private void launch(Map<String, String> env) throws Exception {
        process = ServiceProcess.main(dir, env, "--config", config.toString());
        baseUri = process.awaitListening(90);
        client = new ConcordServiceClient(URI.create(baseUri), CLIENT_TOKEN);
    }

    /** Starts the process again on the same data directory (after a kill). */
    void restart(Map<String, String> env) throws Exception {
        launch(env);
    }

    /** SIGKILL, and waits until the process is gone. */
    void kill() throws InterruptedException {
        process.close();
        process.awaitExit(30);
    }

    /** Waits until the process printed {@code text} (a crash point it reached, for example). */
    void awaitOutput(String text, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!process.output().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the service did not print '" + text + "' within " + seconds + " s: "
                        + process.output());
            }
            Thread.sleep(50);
        }
    }

    String output() {
        return process.output();
    }

    String nodeId() {
        return nodeId;
    }

    String baseUri() {
        return baseUri;
    }

    ConcordServiceClient client() {
        return client;
    }

    RemoteUserTransaction userTransaction() {
        return new RemoteUserTransaction(client);
    }

    static RemoteEnlistingDataSource mariaDb() {
        return new RemoteEnlistingDataSource(Participants.mariaDbXa(), "mariadb");
    }

    static RemoteEnlistingDataSource postgres() {
        return new RemoteEnlistingDataSource(Participants.postgresXa(), "postgres");
    }

    static void createTables() throws SQLException {
        try (Connection m = TestDatabases.mariaDb(); Statement s = m.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id VARCHAR(100) PRIMARY KEY, note VARCHAR(100))"
                    + " ENGINE=InnoDB");
        }
        try (Connection p = TestDatabases.postgres(); Statement s = p.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id VARCHAR(100) PRIMARY KEY, note VARCHAR(100))");
        }
    }

    /** Inserts a row through {@code c} (an enlisted connection, or any other). */
    static void insert(Connection c, String id, String note) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO " + TABLE + " (id, note) VALUES (?, ?)")) {
            s.setString(1, id);
            s.setString(2, note);
            s.executeUpdate();
        }
    }

    static boolean inMariaDb(String id) throws SQLException {
        try (Connection c = TestDatabases.mariaDb()) {
            return exists(c, id);
        }
    }

    static boolean inPostgres(String id) throws SQLException {
        try (Connection c = TestDatabases.postgres()) {
            return exists(c, id);
        }
    }

    private static boolean exists(Connection c, String id) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM " + TABLE + " WHERE id = ?")) {
            q.setString(1, id);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Stops the process (SIGTERM, graceful), rolls back whatever its node left prepared, deletes the directory. */
    @Override
    public void close() throws Exception {
        try {
            if (process != null) {
                process.terminate();
                process.awaitExit(60);
            }
        } finally {
            Participants.rollBackLeftovers(nodeId);
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
