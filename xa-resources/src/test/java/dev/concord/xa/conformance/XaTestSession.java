package dev.concord.xa.conformance;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * What one test opened and which XIDs it used, so that the test can end by closing every connection and rolling
 * back whatever it left prepared. Also holds the small SQL helpers the tests share: the table {@value #TABLE} with
 * one column {@code marker}, written inside branches and counted outside them.
 */
public final class XaTestSession {

    /** The table the tests write to, in every database they use. */
    public static final String TABLE = "xa_conformance";

    /** How long {@link #close} and {@link #cleanUp} wait for the server to end a closed connection's session. */
    private static final long SESSION_END_TIMEOUT_MS = 10_000;

    private final List<XAConnection> connections = new ArrayList<>();
    private final Map<XAConnection, ServerSession> sessions = new IdentityHashMap<>();
    private final List<TestXid> xids = new ArrayList<>();

    /** The server-side session behind one opened connection, and how to see whether it still exists. */
    private record ServerSession(XADataSource dataSource, long id, String existsQuery) {
    }

    /** Creates {@value #TABLE} in the database of {@code dataSource} unless it exists. */
    public static void createTable(XADataSource dataSource) throws SQLException {
        XAConnection xaConnection = dataSource.getXAConnection();
        try (Connection connection = xaConnection.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (marker VARCHAR(64) NOT NULL)");
        } finally {
            xaConnection.close();
        }
    }

    /** Opens an XA connection that {@link #cleanUp} will close, and notes the id of its server-side session. */
    public XAConnection open(XADataSource dataSource) throws SQLException {
        XAConnection connection = dataSource.getXAConnection();
        connections.add(connection);
        Connection handle = connection.getConnection();
        boolean postgres = handle.getMetaData().getDatabaseProductName().contains("PostgreSQL");
        try (Statement statement = handle.createStatement();
                ResultSet row = statement.executeQuery(
                        postgres ? "SELECT pg_backend_pid()" : "SELECT CONNECTION_ID()")) {
            row.next();
            sessions.put(connection, new ServerSession(dataSource, row.getLong(1), postgres
                    ? "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?"
                    : "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?"));
        }
        return connection;
    }

    /**
     * Closes {@code connection}, then waits until its server-side session has ended. {@code close()} returns once
     * the driver has sent its goodbye, and the server ends the session afterwards on its own thread; until it has,
     * MariaDB keeps a prepared branch attached to that session and answers XAER_NOTA to every other connection that
     * tries to finish it (measured: the "commit from B while A is still open" row of the facts).
     */
    public void close(XAConnection connection) throws SQLException {
        connection.close();
        ServerSession session = sessions.remove(connection);
        if (session == null) {
            return;
        }
        long deadline = System.nanoTime() + SESSION_END_TIMEOUT_MS * 1_000_000;
        XAConnection watcher = session.dataSource().getXAConnection();
        try (PreparedStatement exists = watcher.getConnection().prepareStatement(session.existsQuery())) {
            exists.setLong(1, session.id());
            while (true) {
                try (ResultSet row = exists.executeQuery()) {
                    row.next();
                    if (row.getInt(1) == 0) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline || !pause()) {
                    throw new SQLException("server session " + session.id() + " still exists "
                            + SESSION_END_TIMEOUT_MS + " ms after its connection was closed");
                }
            }
        } finally {
            watcher.close();
        }
    }

    /** A fresh random XID that {@link #cleanUp} will roll back if it is left prepared. */
    public TestXid newXid() {
        return track(TestXid.random());
    }

    /** Registers {@code xid} for {@link #cleanUp}, and returns it. */
    public TestXid track(TestXid xid) {
        xids.add(xid);
        return xid;
    }

    /** A fresh marker value for {@link #insert} and {@link #count}. */
    public static String newMarker() {
        return HexFormat.of().formatHex(TestXid.randomBytes(16));
    }

    /** Inserts one row with {@code marker} through the connection's current transaction (branch or local). */
    public static void insert(XAConnection xaConnection, String marker) throws SQLException {
        Connection connection = xaConnection.getConnection();
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + TABLE + " (marker) VALUES (?)")) {
            insert.setString(1, marker);
            insert.executeUpdate();
        }
    }

    /** Runs a read-only query through the connection's current transaction. */
    public static void read(XAConnection xaConnection) throws SQLException {
        try (Statement statement = xaConnection.getConnection().createStatement();
                ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM " + TABLE)) {
            rows.next();
        }
    }

    /** Counts the committed rows with {@code marker}, on a new connection outside any branch. */
    public static int count(XADataSource dataSource, String marker) throws SQLException {
        XAConnection xaConnection = dataSource.getXAConnection();
        try (Connection connection = xaConnection.getConnection();
                PreparedStatement query = connection.prepareStatement(
                        "SELECT COUNT(*) FROM " + TABLE + " WHERE marker = ?")) {
            query.setString(1, marker);
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        } finally {
            xaConnection.close();
        }
    }

    /** Whether a full {@code recover()} scan of {@code resource} lists {@code xid} with identical bytes. */
    public static boolean listed(XAResource resource, TestXid xid) throws XAException {
        return find(resource, xid) != null;
    }

    /** The XID object {@code recover()} returns for {@code xid}, or null when it is not listed. */
    public static Xid find(XAResource resource, TestXid xid) throws XAException {
        for (Xid candidate : resource.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)) {
            if (xid.matches(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Whether a new connection of {@code dataSource} lists {@code xid} in {@code recover()}. */
    public boolean listedByNewConnection(XADataSource dataSource, TestXid xid) throws SQLException, XAException {
        return listed(open(dataSource).getXAResource(), xid);
    }

    /**
     * Closes every connection this session opened, then, through a new connection of each data source given, rolls
     * back every tracked XID that {@code recover()} still lists.
     *
     * @return the tracked XIDs still listed afterwards (empty when the cleanup worked)
     */
    public List<TestXid> cleanUp(XADataSource... scanWith) throws SQLException {
        for (XAConnection connection : connections) {
            try {
                connection.close();
            } catch (SQLException e) {
                // The connection may already be broken (for example by a server restart); closing is best effort.
            }
        }
        connections.clear();
        List<TestXid> left = new ArrayList<>();
        for (XADataSource dataSource : scanWith) {
            XAConnection connection = dataSource.getXAConnection();
            try {
                XAResource resource = connection.getXAResource();
                // A session closed just now may not have ended on the server yet; MariaDB refuses to roll back its
                // branches until it has (see close), so the scan is repeated for a while before it reports them.
                long deadline = System.nanoTime() + SESSION_END_TIMEOUT_MS * 1_000_000;
                List<TestXid> stillListed;
                do {
                    for (TestXid xid : xids) {
                        rollbackIfListed(resource, xid);
                    }
                    stillListed = new ArrayList<>();
                    for (TestXid xid : xids) {
                        if (listed(resource, xid)) {
                            stillListed.add(xid);
                        }
                    }
                } while (!stillListed.isEmpty() && System.nanoTime() < deadline && pause());
                for (TestXid xid : stillListed) {
                    if (!left.contains(xid)) {
                        left.add(xid);
                    }
                }
            } catch (XAException e) {
                throw new SQLException("recover() failed during cleanup: " + XaOutcome.fails(e.errorCode), e);
            } finally {
                connection.close();
            }
        }
        return left;
    }

    /** Sleeps briefly between polls; false when interrupted (the interrupt is kept). */
    private static boolean pause() {
        try {
            Thread.sleep(5);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void rollbackIfListed(XAResource resource, TestXid xid) throws XAException {
        if (listed(resource, xid)) {
            try {
                resource.rollback(xid);
            } catch (XAException e) {
                // Some rollbacks report an outcome code (MariaDB: XA_RBROLLBACK for a read-only branch) yet finish
                // the branch; the caller checks recover() afterwards.
            }
        }
    }
}
