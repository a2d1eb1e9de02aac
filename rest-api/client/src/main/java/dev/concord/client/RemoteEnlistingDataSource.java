package dev.concord.client;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Objects;
import java.util.logging.Logger;
import javax.sql.DataSource;
import javax.sql.XAConnection;
import javax.sql.XADataSource;

/**
 * A {@link DataSource} over the application's own {@link XADataSource} that enlists in remote transactions. Inside
 * a transaction of the calling thread ({@link RemoteUserTransaction#begin}) every {@code getConnection} opens a new
 * physical connection and starts a new branch on it with an XID the service reserved; closing the connection
 * prepares the branch and registers it with the service as prepared on the resource named {@code resource} — the
 * name the service's configuration gives the same database. A connection still open at commit is prepared and
 * registered first; at rollback it is rolled back. Outside a transaction a connection is an ordinary local one.
 *
 * <p>There is no pool: each connection is a physical one, closed when the branch is prepared (MariaDB keeps a
 * prepared branch attached to its session). Two connections taken in one transaction are two branches, which do
 * not share locks: work on the same rows through one connection.
 */
public final class RemoteEnlistingDataSource implements DataSource {
    private final XADataSource xaDataSource;
    private final String resource;

    /**
     * @param xaDataSource the application's XA data source for the database
     * @param resource     the name of the same database among the service's configured resources
     */
    public RemoteEnlistingDataSource(XADataSource xaDataSource, String resource) {
        this.xaDataSource = Objects.requireNonNull(xaDataSource, "xaDataSource");
        if (resource == null || resource.isBlank()) {
            throw new IllegalArgumentException("the service's resource name is needed");
        }
        this.resource = resource;
    }

    /** The service's name for this database. */
    public String resource() {
        return resource;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return connection(xaDataSource.getXAConnection());
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        return connection(xaDataSource.getXAConnection(user, password));
    }

    private Connection connection(XAConnection xc) throws SQLException {
        RemoteTransaction tx = RemoteTransaction.current();
        if (tx == null) {
            return local(xc);
        }
        String reason = tx.rollbackOnlyReason();
        if (reason != null) {
            close(xc);
            throw new SQLException("transaction " + tx.id() + " is marked rollback-only (" + reason
                    + "): no more work is enlisted in it");
        }
        return BranchConnection.open(tx, resource, xaDataSource, xc);
    }

    /** A connection outside any transaction: closing it closes the physical connection. */
    private static Connection local(XAConnection xc) throws SQLException {
        Connection c;
        try {
            c = xc.getConnection();
        } catch (SQLException | RuntimeException e) {
            close(xc);
            throw e;
        }
        return (Connection) Proxy.newProxyInstance(RemoteEnlistingDataSource.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (p, method, args) -> {
                    if (method.getName().equals("close")) {
                        xc.close();
                        return null;
                    }
                    try {
                        return method.invoke(c, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static void close(XAConnection xc) {
        try {
            xc.close();
        } catch (SQLException e) {
            // Best effort.
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return xaDataSource.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        xaDataSource.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        xaDataSource.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return xaDataSource.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return xaDataSource.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (iface.isInstance(xaDataSource)) {
            return iface.cast(xaDataSource);
        }
        throw new SQLException("not a wrapper of " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this) || iface.isInstance(xaDataSource);
    }

    @Override
    public String toString() {
        return "RemoteEnlistingDataSource[" + resource + "]";
    }
}
