package dev.concord.it.bench;

import com.mysql.cj.jdbc.MysqlXADataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import org.postgresql.xa.PGXADataSource;

/**
 * The two databases of the {@code xa-db} workload and the benchmark's table in each.
 *
 * <p>Settings come from the same keys as the XA conformance tests: system property {@code concord.test.<key>},
 * else environment variable {@code CONCORD_TEST_<KEY>}, else what {@code scripts/test-env.sh} prepares (MariaDB on
 * 127.0.0.1:3306 and PostgreSQL on 127.0.0.1:5432, database, user and password {@code concord}). Keys:
 * {@code mariadb.url}, {@code mariadb.user}, {@code mariadb.password}, {@code postgresql.url},
 * {@code postgresql.user}, {@code postgresql.password}.
 */
final class BenchDatabases {
    /** The benchmark's own table, created and truncated by the harness and dropped at the end. */
    static final String TABLE = "concord_peer_bench";
    static final String INSERT = "INSERT INTO " + TABLE + " (tm, thread_no, seq, payload) VALUES (?, ?, ?, ?)";
    private static final String PAYLOAD = "x".repeat(48);

    final String mariaUrl = setting("mariadb.url", "jdbc:mysql://127.0.0.1:3306/concord");
    final String mariaUser = setting("mariadb.user", "concord");
    final String mariaPassword = setting("mariadb.password", "concord");
    final String pgUrl = setting("postgresql.url", "jdbc:postgresql://127.0.0.1:5432/concord");
    final String pgUser = setting("postgresql.user", "concord");
    final String pgPassword = setting("postgresql.password", "concord");

    MysqlXADataSource mariaXa() {
        MysqlXADataSource ds = new MysqlXADataSource();
        ds.setUrl(mariaUrl);
        ds.setUser(mariaUser);
        ds.setPassword(mariaPassword);
        return ds;
    }

    PGXADataSource pgXa() {
        PGXADataSource ds = new PGXADataSource();
        ds.setUrl(pgUrl);
        ds.setUser(pgUser);
        ds.setPassword(pgPassword);
        return ds;
    }

    Connection maria() throws SQLException {
        return DriverManager.getConnection(mariaUrl, mariaUser, mariaPassword);
    }

    Connection pg() throws SQLException {
        return DriverManager.getConnection(pgUrl, pgUser, pgPassword);
    }

    /**
     * Waits up to {@code seconds} until both databases accept a connection (other people's tests restart them on
     * a shared machine), then creates the table in both if needed and empties it, waiting at most 10 s for locks.
     */
    void createAndTruncate(int seconds) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (true) {
            try (Connection a = maria(); Connection b = pg()) {
                break;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                System.err.println("# waiting for the databases: " + e.getMessage().lines().findFirst().orElse(""));
                Thread.sleep(2000);
            }
        }
        try (Connection c = maria(); Statement s = c.createStatement()) {
            s.execute("SET SESSION lock_wait_timeout = 10");
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                    + "tm VARCHAR(32) NOT NULL, thread_no INT NOT NULL, seq BIGINT NOT NULL, payload VARCHAR(64)) "
                    + "ENGINE=InnoDB");
            s.execute("TRUNCATE TABLE " + TABLE);
        }
        try (Connection c = pg(); Statement s = c.createStatement()) {
            s.execute("SET lock_timeout = '10s'");
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id BIGSERIAL PRIMARY KEY, "
                    + "tm VARCHAR(32) NOT NULL, thread_no INT NOT NULL, seq BIGINT NOT NULL, payload VARCHAR(64))");
            s.execute("TRUNCATE TABLE " + TABLE);
        }
    }

    /** Rows of one contender (its {@code tm} column) in each database: {MariaDB, PostgreSQL}. */
    long[] rowCounts(String tm) throws SQLException {
        return new long[] {count(maria(), tm), count(pg(), tm)};
    }

    private static long count(Connection connection, String tm) throws SQLException {
        try (Connection c = connection;
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + TABLE + " WHERE tm = ?")) {
            ps.setString(1, tm);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    void drop() throws SQLException {
        for (Connection connection : new Connection[] {maria(), pg()}) {
            try (Connection c = connection; Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + TABLE);
            }
        }
    }

    /** The one-row insert of a branch; a fresh statement each time, the same for every contender. */
    static void insert(Connection c, String tm, int thread, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setString(1, tm);
            ps.setInt(2, thread);
            ps.setLong(3, seq);
            ps.setString(4, PAYLOAD);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("insert did not insert one row");
            }
        }
    }

    static String setting(String key, String defaultValue) {
        String value = System.getProperty("concord.test." + key);
        if (value == null || value.isBlank()) {
            value = System.getenv("CONCORD_TEST_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
        }
        return value == null || value.isBlank() ? defaultValue : value;
    }
}
