package dev.concord.xa.jdbc;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.RecoveryManager;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.RetryPolicy;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.recovery.log.InMemoryTransactionLog;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.xa.conformance.XaTestDatabases;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * An engine (in-memory log, fast retries, a node id of its own) with the two test databases as JDBC XA resources,
 * and what one test created there: tables with unique names, pools, and XIDs of other nodes. {@link #cleanUp()} closes
 * the pools, rolls back every branch of this node and of the tracked other nodes still prepared, and drops the
 * tables; it returns what it had to roll back so a test can tell whether something was left behind.
 *
 * <p>Connection settings come from {@link XaTestDatabases#setting} (system property {@code concord.test.<key>},
 * environment variable, or the defaults {@code scripts/test-env.sh} prepares).
 */
final class JdbcFixture {
    static final String MARIADB = "mariadb";
    static final String POSTGRES = "postgres";

    private static final SecureRandom RANDOM = new SecureRandom();

    final String nodeId = "xa-jdbc-" + hex(6);
    final InMemoryTransactionLog log = new InMemoryTransactionLog();
    final ResourceRegistry registry = new ResourceRegistry();
    final Coordinator coordinator;
    final ConcordTransactionManager tm;
    final RecoveryManager recovery;
    final JdbcXaResource mariaDb;
    final JdbcXaResource postgres;

    private final List<AutoCloseable> pools = new ArrayList<>();
    private final List<Map.Entry<JdbcXaResource, String>> tables = new ArrayList<>();
    private final List<String> otherNodes = new ArrayList<>();

    JdbcFixture() {
        coordinator = new Coordinator(CoordinatorConfig.builder()
                .nodeId(nodeId)
                .defaultTimeout(Duration.ofSeconds(30))
                .retryPolicy(new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(200), 0.2))
                .workerThreads(8)
                .build(), log, registry);
        tm = new ConcordTransactionManager(coordinator);
        recovery = new RecoveryManager(coordinator, log);
        mariaDb = new JdbcXaResource(mariaDbConfig(MARIADB).build());
        postgres = new JdbcXaResource(postgresConfig(POSTGRES).build());
        registry.register(mariaDb);
        registry.register(postgres);
    }

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** MariaDB through mysql-connector-j, small pool, short timeouts. */
    static JdbcResourceConfig.Builder mariaDbConfig(String name) {
        return JdbcResourceConfig.builder()
                .name(name)
                .type(JdbcResourceConfig.Type.MYSQL)
                .url(XaTestDatabases.setting("mariadb.url", "jdbc:mysql://127.0.0.1:3306/concord"))
                .user(XaTestDatabases.setting("mariadb.user", "concord"))
                .password(XaTestDatabases.setting("mariadb.password", "concord"))
                .maxPoolSize(4)
                .connectTimeout(Duration.ofSeconds(5))
                .acquireTimeout(Duration.ofSeconds(5));
    }

    /** PostgreSQL through pgjdbc, small pool, short timeouts. */
    static JdbcResourceConfig.Builder postgresConfig(String name) {
        return JdbcResourceConfig.builder()
                .name(name)
                .type(JdbcResourceConfig.Type.POSTGRESQL)
                .url(XaTestDatabases.setting("postgresql.url", "jdbc:postgresql://127.0.0.1:5432/concord"))
                .user(XaTestDatabases.setting("postgresql.user", "concord"))
                .password(XaTestDatabases.setting("postgresql.password", "concord"))
                .maxPoolSize(4)
                .connectTimeout(Duration.ofSeconds(5))
                .acquireTimeout(Duration.ofSeconds(5));
    }

    /** A pool of the resource, enlisting in this fixture's transaction manager; closed by {@link #cleanUp()}. */
    EnlistingDataSource pool(JdbcXaResource resource) throws SQLException {
        EnlistingDataSource ds = EnlistingDataSource.open(resource, tm);
        pools.add(ds);
        return ds;
    }

    /** Registers a pool made elsewhere so that {@link #cleanUp()} closes it. */
    <T extends AutoCloseable> T closeLater(T closeable) {
        pools.add(closeable);
        return closeable;
    }

    /** A node id other than this fixture's, whose prepared branches {@link #cleanUp()} rolls back. */
    String otherNode() {
        String node = "xa-other-" + hex(6);
        otherNodes.add(node);
        return node;
    }

    /** A plain auto-commit connection outside any branch, for setup and checks. */
    static Connection plain(JdbcXaResource resource) throws SQLException {
        JdbcResourceConfig c = resource.config();
        return DriverManager.getConnection(c.url(), c.user(), c.password());
    }

    /** Creates {@code <table>(id INT PRIMARY KEY, v VARCHAR(64))} with a unique name; dropped by {@link #cleanUp()}. */
    String table(JdbcXaResource resource) throws SQLException {
        return table(resource, "(id INT PRIMARY KEY, v VARCHAR(64) NOT NULL)");
    }

    /** Creates a table with a unique name and the given column definitions; dropped by {@link #cleanUp()}. */
    String table(JdbcXaResource resource, String columns) throws SQLException {
        String name = "xa_jdbc_" + hex(6);
        execute(resource, "CREATE TABLE " + name + " " + columns.replace("$TABLE", name));
        tables.add(Map.entry(resource, name));
        return name;
    }

    static void execute(JdbcXaResource resource, String sql) throws SQLException {
        try (Connection c = plain(resource); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Inserts one row through {@code connection} (in whatever transaction it is). */
    static void insert(Connection connection, String table, int id, String value) throws SQLException {
        try (PreparedStatement p = connection.prepareStatement("INSERT INTO " + table + " (id, v) VALUES (?, ?)")) {
            p.setInt(1, id);
            p.setString(2, value);
            p.executeUpdate();
        }
    }

    /** Committed rows of the table, counted on a new connection. */
    static int count(JdbcXaResource resource, String table) throws SQLException {
        try (Connection c = plain(resource); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            r.next();
            return r.getInt(1);
        }
    }

    /** The database session id of a connection: MariaDB's CONNECTION_ID() or PostgreSQL's backend pid. */
    static long sessionId(Connection connection) throws SQLException {
        boolean maria = connection.getMetaData().getURL().startsWith("jdbc:mysql");
        try (Statement s = connection.createStatement();
                ResultSet r = s.executeQuery(maria ? "SELECT CONNECTION_ID()" : "SELECT pg_backend_pid()")) {
            r.next();
            return r.getLong(1);
        }
    }

    /** The prepared branches of a node in the resource's recovery scan. */
    static List<ConcordXid> prepared(JdbcXaResource resource, String node) throws XAException {
        List<ConcordXid> out = new ArrayList<>();
        try (var lease = resource.open()) {
            Xid[] listed = lease.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
            for (Xid x : listed == null ? new Xid[0] : listed) {
                ConcordXid c = ConcordXid.from(x);
                if (c != null && c.gtrid().nodeId().equals(node)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    /** This node's prepared branches in the resource. */
    List<ConcordXid> ourPrepared(JdbcXaResource resource) throws XAException {
        return prepared(resource, nodeId);
    }

    /**
     * Closes pools and the engine, rolls back what this node and the tracked other nodes left prepared, drops the
     * tables, and closes the two resources' idle connections.
     *
     * @return the branches that had to be rolled back
     */
    List<ConcordXid> cleanUp() throws Exception {
        for (AutoCloseable pool : pools) {
            pool.close();
        }
        recovery.close();
        coordinator.close();
        List<ConcordXid> rolledBack = new ArrayList<>();
        Set<String> nodes = new HashSet<>(otherNodes);
        nodes.add(nodeId);
        for (JdbcXaResource r : List.of(mariaDb, postgres)) {
            for (String node : nodes) {
                for (ConcordXid x : prepared(r, node)) {
                    try (var lease = r.open()) {
                        lease.xaResource().rollback(x);
                    }
                    rolledBack.add(x);
                }
            }
        }
        for (Map.Entry<JdbcXaResource, String> t : tables) {
            execute(t.getKey(), "DROP TABLE IF EXISTS " + t.getValue());
        }
        mariaDb.close();
        postgres.close();
        return rolledBack;
    }
}
