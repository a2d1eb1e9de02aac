package dev.concord.service.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;

/**
 * The test databases prepared by {@code scripts/test-env.sh}: MariaDB and PostgreSQL on 127.0.0.1, database
 * {@code concord}, user and password {@code concord}. Each setting can be changed with a system property
 * {@code concord.test.<key>} or an environment variable {@code CONCORD_TEST_<KEY>} (keys {@code mariadb.url},
 * {@code mariadb.user}, {@code mariadb.password}, {@code postgresql.url}, {@code postgresql.user},
 * {@code postgresql.password}), as in the other modules' tests.
 */
public final class TestDatabases {
    private TestDatabases() {
    }

    public static String mariaDbUrl() {
        return setting("mariadb.url", "jdbc:mysql://127.0.0.1:3306/concord");
    }

    public static String mariaDbUser() {
        return setting("mariadb.user", "concord");
    }

    public static String mariaDbPassword() {
        return setting("mariadb.password", "concord");
    }

    public static String postgresUrl() {
        return setting("postgresql.url", "jdbc:postgresql://127.0.0.1:5432/concord");
    }

    public static String postgresUser() {
        return setting("postgresql.user", "concord");
    }

    public static String postgresPassword() {
        return setting("postgresql.password", "concord");
    }

    /** A plain (non-XA) JDBC connection to MariaDB, as a participant that only speaks SQL would open. */
    public static Connection mariaDb() throws SQLException {
        return DriverManager.getConnection(mariaDbUrl(), mariaDbUser(), mariaDbPassword());
    }

    /** A plain (non-XA) JDBC connection to PostgreSQL. */
    public static Connection postgres() throws SQLException {
        return DriverManager.getConnection(postgresUrl(), postgresUser(), postgresPassword());
    }

    /** YAML for the two resources, named {@code mariadb} and {@code postgres}. */
    public static String resourcesYaml() {
        return "resources:\n"
                + "  databases:\n"
                + "    - {name: mariadb, type: mysql, url: \"" + mariaDbUrl() + "\", user: " + mariaDbUser()
                + ", password: \"" + mariaDbPassword() + "\"}\n"
                + "    - {name: postgres, type: postgresql, url: \"" + postgresUrl() + "\", user: " + postgresUser()
                + ", password: \"" + postgresPassword() + "\"}\n";
    }

    private static String setting(String key, String defaultValue) {
        String v = System.getProperty("concord.test." + key);
        if (v == null || v.isBlank()) {
            v = System.getenv("CONCORD_TEST_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
        }
        return v == null || v.isBlank() ? defaultValue : v;
    }
}
