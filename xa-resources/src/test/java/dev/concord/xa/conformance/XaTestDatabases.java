package dev.concord.xa.conformance;

import com.mysql.cj.jdbc.MysqlXADataSource;
import java.sql.SQLException;
import java.util.Locale;
import org.postgresql.xa.PGXADataSource;

/**
 * Connection settings of the test databases and the XA data sources built from them.
 *
 * <p>Each setting is read from a system property {@code concord.test.<key>}, else from the environment variable
 * {@code CONCORD_TEST_<KEY>} (upper case, dots and dashes as underscores), else the default that
 * {@code scripts/test-env.sh} prepares: MariaDB on {@code 127.0.0.1:3306} and PostgreSQL on {@code 127.0.0.1:5432},
 * database {@code concord} (and {@code concord_other} for scope checks), user and password {@code concord}.
 * Keys: {@code mariadb.url}, {@code mariadb.other-url}, {@code mariadb.user}, {@code mariadb.password},
 * {@code postgresql.url}, {@code postgresql.other-url}, {@code postgresql.user}, {@code postgresql.password}.
 */
public final class XaTestDatabases {

    private XaTestDatabases() {
    }

    /** MariaDB (through mysql-connector-j) on the {@code concord} database. */
    public static MysqlXADataSource mariaDb() {
        return mariaDb(setting("mariadb.url", "jdbc:mysql://127.0.0.1:3306/concord"));
    }

    /** MariaDB with Connector/J's {@code pinGlobalTxToPhysicalConnection=true}, on the {@code concord} database. */
    public static MysqlXADataSource mariaDbPinnedToPhysicalConnection() {
        MysqlXADataSource dataSource = mariaDb();
        try {
            dataSource.setPinGlobalTxToPhysicalConnection(true);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set pinGlobalTxToPhysicalConnection", e);
        }
        return dataSource;
    }

    /** MariaDB on a second database of the same server ({@code concord_other}). */
    public static MysqlXADataSource mariaDbOtherDatabase() {
        return mariaDb(setting("mariadb.other-url", "jdbc:mysql://127.0.0.1:3306/concord_other"));
    }

    /** PostgreSQL (through pgjdbc) on the {@code concord} database. */
    public static PGXADataSource postgres() {
        return postgres(setting("postgresql.url", "jdbc:postgresql://127.0.0.1:5432/concord"));
    }

    /** PostgreSQL on a second database of the same cluster ({@code concord_other}). */
    public static PGXADataSource postgresOtherDatabase() {
        return postgres(setting("postgresql.other-url", "jdbc:postgresql://127.0.0.1:5432/concord_other"));
    }

    private static MysqlXADataSource mariaDb(String url) {
        MysqlXADataSource dataSource = new MysqlXADataSource();
        dataSource.setUrl(url);
        dataSource.setUser(setting("mariadb.user", "concord"));
        dataSource.setPassword(setting("mariadb.password", "concord"));
        return dataSource;
    }

    private static PGXADataSource postgres(String url) {
        PGXADataSource dataSource = new PGXADataSource();
        dataSource.setUrl(url);
        dataSource.setUser(setting("postgresql.user", "concord"));
        dataSource.setPassword(setting("postgresql.password", "concord"));
        return dataSource;
    }

    /**
     * One setting: system property {@code concord.test.<key>}, else environment variable {@code CONCORD_TEST_<KEY>},
     * else {@code defaultValue}.
     */
    public static String setting(String key, String defaultValue) {
        String value = System.getProperty("concord.test." + key);
        if (value == null || value.isBlank()) {
            value = System.getenv("CONCORD_TEST_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
        }
        return value == null || value.isBlank() ? defaultValue : value;
    }
}
