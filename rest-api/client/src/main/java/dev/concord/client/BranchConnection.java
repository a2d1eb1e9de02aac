package dev.concord.client;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;

/**
 * One database branch of a remote transaction: a physical XA connection of the application's own data source,
 * started with the XID the service reserved. The application sees an ordinary {@link Connection}; closing it ends
 * the branch, prepares it, closes the physical connection (MariaDB keeps a prepared branch attached to the session
 * that prepared it, and the service could not commit it while that session lives) and only then registers the
 * prepared branch with the service, which finishes it from its own connection to the same database.
 *
 * <p>MariaDB and MySQL forget a prepared branch that wrote nothing as soon as the session that prepared it ends,
 * and then answer a commit from any other session with XA_RBROLLBACK, which the service would have to report as a
 * heuristic rollback. So on those databases a branch whose session wrote no row (the session's
 * {@code Handler_write}, {@code Handler_update} and {@code Handler_delete} counters did not move since XA START) is
 * committed in one phase on its own connection instead, like a read-only vote, and not registered.
 *
 * <p>Failures: a branch that cannot be prepared is rolled back and the transaction marked rollback-only. A
 * registration the service refuses (4xx: nothing registered) is rolled back here. A registration that got no answer
 * is left prepared: if the service did take it, it finishes it with the transaction; if not, the service's recovery
 * rolls it back as an orphan once the transaction is over. Either way the transaction is marked rollback-only.
 */
final class BranchConnection implements InvocationHandler {
    private final RemoteTransaction tx;
    private final BranchXid xid;
    private final String resource;
    private final XADataSource dataSource;
    private final XAConnection xaConnection;
    private final Connection connection;
    private final Connection proxy;
    /** MariaDB/MySQL: the session's row-write counters at XA START; null on other databases. */
    private final Long writesAtStart;
    private boolean finished;

    private BranchConnection(RemoteTransaction tx, BranchXid xid, String resource, XADataSource dataSource,
                             XAConnection xaConnection, Connection connection, Long writesAtStart) {
        this.tx = tx;
        this.xid = xid;
        this.resource = resource;
        this.dataSource = dataSource;
        this.xaConnection = xaConnection;
        this.connection = connection;
        this.writesAtStart = writesAtStart;
        this.proxy = (Connection) Proxy.newProxyInstance(BranchConnection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, this);
    }

    /** Reserves a branch, opens a physical connection and starts the branch on it. */
    static Connection open(RemoteTransaction tx, String resource, XADataSource dataSource, XAConnection xc)
            throws SQLException {
        BranchXid xid;
        try {
            xid = tx.client().reserveBranch(tx.id());
        } catch (ServiceCallException e) {
            closeQuietly(xc);
            throw new SQLException("cannot enlist resource '" + resource + "' in transaction " + tx.id() + ": "
                    + e.getMessage(), e);
        }
        try {
            xc.getXAResource().start(xid, XAResource.TMNOFLAGS);
            Connection c = xc.getConnection();
            BranchConnection b = new BranchConnection(tx, xid, resource, dataSource, xc, c, rowWrites(c));
            tx.opened(b);
            return b.proxy;
        } catch (XAException e) {
            closeQuietly(xc);
            throw new SQLException("XA start of branch " + xid + " on resource '" + resource + "' failed: "
                    + describe(e), e);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(xc);
            throw e;
        }
    }

    @Override
    public Object invoke(Object p, Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "close":
                tx.closed(this);
                prepareAndRegister();
                return null;
            case "isClosed":
                return isFinished() || connection.isClosed();
            case "commit", "rollback", "setSavepoint", "releaseSavepoint":
                throw new SQLException(method.getName() + " is not allowed on a connection enlisted in global "
                        + "transaction " + tx.id() + ": commit or roll back the transaction");
            case "setAutoCommit":
                if (Boolean.TRUE.equals(args[0])) {
                    throw new SQLException("auto-commit cannot be switched on inside global transaction " + tx.id());
                }
                return null;
            case "getAutoCommit":
                return false;
            case "equals":
                return p == args[0];
            case "hashCode":
                return System.identityHashCode(p);
            case "toString":
                return "connection of branch " + xid + " on " + resource;
            default:
                break;
        }
        if (isFinished()) {
            throw new SQLException("connection of branch " + xid + " is closed");
        }
        try {
            return method.invoke(connection, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private synchronized boolean isFinished() {
        return finished;
    }

    private synchronized boolean finish() {
        if (finished) {
            return false;
        }
        finished = true;
        return true;
    }

    /** Ends, prepares and registers the branch; does nothing the second time. */
    void prepareAndRegister() throws SQLException {
        if (!finish()) {
            return;
        }
        XAResource xa;
        int vote;
        try {
            xa = xaConnection.getXAResource();
        } catch (SQLException e) {
            closeQuietly(xaConnection);
            tx.markRollbackOnly("branch " + xid + " lost its connection: " + e.getMessage());
            throw e;
        }
        if (writesAtStart != null && writesAtStart.equals(rowWrites(connection))) {
            commitReadOnly(xa);
            return;
        }
        try {
            xa.end(xid, XAResource.TMSUCCESS);
            vote = xa.prepare(xid);
        } catch (XAException e) {
            rollbackQuietly(xa);
            closeQuietly(xaConnection);
            String reason = "branch " + xid + " on resource '" + resource + "' could not be prepared: " + describe(e);
            tx.markRollbackOnly(reason);
            throw new SQLException(reason, e);
        }
        closeQuietly(xaConnection);
        if (vote == XAResource.XA_RDONLY) {
            return; // Nothing to commit: the resource already forgot the branch.
        }
        try {
            tx.client().registerPrepared(xid, resource);
        } catch (ServiceCallException e) {
            String reason = "prepared branch " + xid + " on resource '" + resource + "' was not registered: "
                    + e.getMessage();
            tx.markRollbackOnly(reason);
            if (e.isRefusal()) {
                rollbackPrepared();
                throw new SQLException(reason + "; it was rolled back", e);
            }
            throw new SQLException(reason + "; it stays prepared until the service finishes it with the "
                    + "transaction or its recovery rolls it back", e);
        }
    }

    /** A branch that wrote nothing: committed in one phase here, so that there is nothing to register. */
    private void commitReadOnly(XAResource xa) throws SQLException {
        try {
            xa.end(xid, XAResource.TMSUCCESS);
            xa.commit(xid, true);
        } catch (XAException e) {
            rollbackQuietly(xa);
            String reason = "read-only branch " + xid + " on resource '" + resource + "' could not be ended: "
                    + describe(e);
            tx.markRollbackOnly(reason);
            throw new SQLException(reason, e);
        } finally {
            closeQuietly(xaConnection);
        }
    }

    /**
     * MariaDB/MySQL: the session's count of rows written, updated and deleted (internal temporary tables have
     * counters of their own); null on other databases or when it cannot be read.
     */
    private static Long rowWrites(Connection c) {
        try {
            String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
            if (!product.contains("mysql") && !product.contains("mariadb")) {
                return null;
            }
            long sum = 0;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SHOW SESSION STATUS WHERE Variable_name IN ('Handler_write', 'Handler_update', "
                            + "'Handler_delete')")) {
                while (rs.next()) {
                    sum += rs.getLong(2);
                }
            }
            return sum;
        } catch (SQLException e) {
            return null;
        }
    }

    /** Rolls the branch back while it is still open (a rollback of the whole transaction). */
    void abort() {
        if (!finish()) {
            return;
        }
        try {
            XAResource xa = xaConnection.getXAResource();
            try {
                xa.end(xid, XAResource.TMFAIL);
            } catch (XAException e) {
                // Already ended or rolled back by the resource: the rollback below settles it.
            }
            rollbackQuietly(xa);
        } catch (SQLException e) {
            // The connection is gone, and with it the work of the branch that was never prepared.
        } finally {
            closeQuietly(xaConnection);
        }
    }

    private void rollbackPrepared() {
        XAConnection fresh = null;
        try {
            fresh = dataSource.getXAConnection();
            fresh.getXAResource().rollback(xid);
        } catch (SQLException | XAException e) {
            // Left prepared: the service's recovery rolls back a branch of its node that no transaction holds.
        } finally {
            closeQuietly(fresh);
        }
    }

    private void rollbackQuietly(XAResource xa) {
        try {
            xa.rollback(xid);
        } catch (XAException e) {
            // Rolled back by the resource already (XA_RB*), or unknown to it: nothing is left to undo.
        }
    }

    private static void closeQuietly(XAConnection xc) {
        if (xc == null) {
            return;
        }
        try {
            xc.close();
        } catch (SQLException e) {
            // Closing is best effort: the database ends the session's unprepared work with it.
        }
    }

    static String describe(XAException e) {
        return "XA error " + e.errorCode + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
    }
}
