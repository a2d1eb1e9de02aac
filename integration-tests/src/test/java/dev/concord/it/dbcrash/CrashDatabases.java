package dev.concord.it.dbcrash;

import dev.concord.recovery.xid.ConcordXid;
import dev.concord.xa.jdbc.JdbcResourceConfig;
import dev.concord.xa.jdbc.JdbcXaResource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * The two test databases as Concord JDBC XA resources, shared by {@link DbCrashChild} and the tests that kill it.
 *
 * <p>Settings are read like the XA conformance tests' {@code XaTestDatabases} (which lives in the xa-resources test
 * sources, not on this class path): system property {@code concord.test.<key>}, else environment variable
 * {@code CONCORD_TEST_<KEY>} (upper case, dots and dashes as underscores), else what {@code scripts/test-env.sh}
 * prepares — MariaDB on 127.0.0.1:3306 and PostgreSQL on 127.0.0.1:5432, database, user and password
 * {@code concord}. The test hands the {@code concord.test.*} system properties on to its children.
 */
public final class CrashDatabases {
    public static final String MARIADB = "mariadb";
    public static final String POSTGRES = "postgres";
    /** Prefix of the system properties that carry the settings. */
    private static final String PROPERTY_PREFIX = "concord.test.";

    private CrashDatabases() {
    }

    /** MariaDB through mysql-connector-j. */
    public static JdbcXaResource mariaDb() {
        return new JdbcXaResource(config(MARIADB, JdbcResourceConfig.Type.MYSQL, "mariadb",
                "jdbc:mysql://127.0.0.1:3306/concord"));
    }

    /** PostgreSQL through pgjdbc. */
    public static JdbcXaResource postgres() {
        return new JdbcXaResource(config(POSTGRES, JdbcResourceConfig.Type.POSTGRESQL, "postgresql",
                "jdbc:postgresql://127.0.0.1:5432/concord"));
    }

    private static JdbcResourceConfig config(String name, JdbcResourceConfig.Type type, String key, String url) {
        return JdbcResourceConfig.builder()
                .name(name)
                .type(type)
                .url(setting(key + ".url", url))
                .user(setting(key + ".user", "concord"))
                .password(setting(key + ".password", "concord"))
                .maxPoolSize(4)
                .connectTimeout(Duration.ofSeconds(5))
                .acquireTimeout(Duration.ofSeconds(5))
                .build();
    }

    public static String setting(String key, String defaultValue) {
        String v = System.getProperty(PROPERTY_PREFIX + key);
        if (v == null || v.isBlank()) {
            v = System.getenv("CONCORD_TEST_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
        }
        return v == null || v.isBlank() ? defaultValue : v;
    }

    /** A plain auto-commit connection outside any branch, for setup and checks. */
    public static Connection plain(JdbcXaResource resource) throws SQLException {
        JdbcResourceConfig c = resource.config();
        return DriverManager.getConnection(c.url(), c.user(), c.password());
    }

    /**
     * The branches of the node that the resource's recovery scan lists as prepared, read through a fresh XA
     * connection ({@code XA RECOVER} on MariaDB, {@code pg_prepared_xacts} of the database on PostgreSQL).
     */
    public static List<ConcordXid> prepared(JdbcXaResource resource, String nodeId) throws XAException {
        List<ConcordXid> out = new ArrayList<>();
        try (var lease = resource.open()) {
            Xid[] listed = lease.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
            for (Xid x : listed == null ? new Xid[0] : listed) {
                ConcordXid c = ConcordXid.from(x);
                if (c != null && c.gtrid().nodeId().equals(nodeId)) {
                    out.add(c);
                }
            }
        }
        return out;
    }
}
