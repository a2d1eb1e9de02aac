package dev.concord.service.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.mysql.cj.jdbc.MysqlXADataSource;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import org.postgresql.xa.PGXADataSource;

/**
 * Participants that speak only SQL: each prepares its branch with the statements the coordinator handed out, over a
 * plain JDBC connection (no XA API), then closes that connection. Plus the checks: rows in a table, branches still
 * prepared in a database.
 */
public final class Participants {
    /** The table both databases get. */
    public static final String TABLE = "rest_api_e2e";

    private Participants() {
    }

    /** Creates the test table in both databases. */
    public static void createTables() throws SQLException {
        try (Connection m = TestDatabases.mariaDb(); Statement s = m.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id VARCHAR(100) PRIMARY KEY, note VARCHAR(100))"
                    + " ENGINE=InnoDB");
        }
        try (Connection p = TestDatabases.postgres(); Statement s = p.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id VARCHAR(100) PRIMARY KEY, note VARCHAR(100))");
        }
    }

    /** MariaDB: XA START, the insert, XA END, XA PREPARE with the reserved branch's SQL; then the session closes. */
    public static void prepareOnMariaDb(JsonNode reservation, String rowId) throws SQLException {
        prepareOnMariaDbKeepingSession(reservation, rowId).close();
    }

    /**
     * The same, but the session stays open and is returned: MariaDB keeps the prepared branch attached to it, so a
     * commit from any other connection answers XAER_NOTA while the recovery scan still lists the branch.
     */
    public static Connection prepareOnMariaDbKeepingSession(JsonNode reservation, String rowId) throws SQLException {
        JsonNode sql = reservation.path("mysql");
        Connection c = TestDatabases.mariaDb();
        try (Statement s = c.createStatement()) {
            s.execute(sql.path("start").asText());
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + TABLE + " (id, note) VALUES (?, ?)")) {
                insert.setString(1, rowId);
                insert.setString(2, "mariadb");
                insert.executeUpdate();
            }
            s.execute(sql.path("end").asText());
            s.execute(sql.path("prepare").asText());
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** PostgreSQL: BEGIN, the insert, PREPARE TRANSACTION with the reserved branch's gid; then the session closes. */
    public static void prepareOnPostgres(JsonNode reservation, String rowId) throws SQLException {
        JsonNode sql = reservation.path("postgresql");
        try (Connection c = TestDatabases.postgres(); Statement s = c.createStatement()) {
            s.execute(sql.path("begin").asText());
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + TABLE + " (id, note) VALUES (?, ?)")) {
                insert.setString(1, rowId);
                insert.setString(2, "postgres");
                insert.executeUpdate();
            }
            s.execute(sql.path("prepare").asText());
        }
    }

    /** True when the row is visible (committed) in MariaDB. */
    public static boolean inMariaDb(String rowId) throws SQLException {
        try (Connection c = TestDatabases.mariaDb()) {
            return exists(c, rowId);
        }
    }

    /** True when the row is visible (committed) in PostgreSQL. */
    public static boolean inPostgres(String rowId) throws SQLException {
        try (Connection c = TestDatabases.postgres()) {
            return exists(c, rowId);
        }
    }

    private static boolean exists(Connection c, String rowId) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM " + TABLE + " WHERE id = ?")) {
            q.setString(1, rowId);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next();
            }
        }
    }

    public static MysqlXADataSource mariaDbXa() {
        MysqlXADataSource ds = new MysqlXADataSource();
        ds.setUrl(TestDatabases.mariaDbUrl());
        ds.setUser(TestDatabases.mariaDbUser());
        ds.setPassword(TestDatabases.mariaDbPassword());
        return ds;
    }

    public static PGXADataSource postgresXa() {
        PGXADataSource ds = new PGXADataSource();
        ds.setUrl(TestDatabases.postgresUrl());
        ds.setUser(TestDatabases.postgresUser());
        ds.setPassword(TestDatabases.postgresPassword());
        return ds;
    }

    /** The branches of transactions of this node that a database still holds prepared. */
    public static List<ConcordXid> preparedOfNode(XADataSource ds, String nodeId) throws SQLException, XAException {
        XAConnection xc = ds.getXAConnection();
        try {
            Xid[] listed = xc.getXAResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
            List<ConcordXid> out = new ArrayList<>();
            for (Xid x : listed == null ? new Xid[0] : listed) {
                ConcordXid c = ConcordXid.from(x);
                if (c != null && c.gtrid().nodeId().equals(nodeId)) {
                    out.add(c);
                }
            }
            return out;
        } finally {
            xc.close();
        }
    }

    /** The branches of one transaction still prepared in either database. */
    public static List<ConcordXid> preparedOf(Gtrid gtrid) throws SQLException, XAException {
        List<ConcordXid> out = new ArrayList<>();
        for (XADataSource ds : List.<XADataSource>of(mariaDbXa(), postgresXa())) {
            for (ConcordXid x : preparedOfNode(ds, gtrid.nodeId())) {
                if (x.gtrid().equals(gtrid)) {
                    out.add(x);
                }
            }
        }
        return out;
    }

    /** Rolls back every branch of this node still prepared in either database (test cleanup). */
    public static void rollBackLeftovers(String nodeId) throws SQLException, XAException {
        for (XADataSource ds : List.<XADataSource>of(mariaDbXa(), postgresXa())) {
            XAConnection xc = ds.getXAConnection();
            try {
                for (ConcordXid x : preparedOfNode(ds, nodeId)) {
                    xc.getXAResource().rollback(x);
                }
            } finally {
                xc.close();
            }
        }
    }
}
