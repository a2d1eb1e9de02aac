package dev.concord.xa.jdbc;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.NamedXAResource;
import dev.concord.coordinator.RecoverableResource;
import java.lang.System.Logger.Level;
import java.sql.SQLException;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;

/**
 * A configured JDBC database that phase-2 retries and recovery reach by name: every {@link #open()} opens a new
 * physical {@link XAConnection} (never a pooled one) and closing the lease closes it.
 *
 * <p>Why a new connection each time: on MariaDB a prepared branch can be finished from another connection only
 * after the connection that prepared it has gone (while it is open, {@code XA COMMIT} from elsewhere answers
 * XAER_NOTA although {@code XA RECOVER} lists the XID), and a connection that failed with XAER_RMFAIL must be
 * replaced, not reused. Phase 2 and recovery are rare; the cost of a connect does not matter there.
 *
 * <p>The XAResource of a lease is a {@link NamedXAResource} named {@link #name()}. {@link #supportsJoin()} is true
 * only for PostgreSQL, where {@code start(xid, TMJOIN)} of an ended branch works on the same connection (pgjdbc's
 * {@code isSameRM} is true only for the same connection, so the engine never tries to join across connections).
 * MariaDB answers {@code isSameRM == true} for two connections and then rejects TMJOIN; a generic data source is not
 * trusted to join.
 *
 * <p><b>Recovery scope.</b> For MySQL and MariaDB, {@code recover()} is server-wide: {@code XA RECOVER} lists the
 * prepared branches of every database and user of the server, whatever the configured database. The engine keeps
 * only XIDs with Concord's format id and its own node id, so two resources on one server (or two coordinators
 * with different node ids) never touch each other's branches, but the node id must be unique per server. For
 * PostgreSQL the scan covers the configured database and the connecting role only.
 */
public final class JdbcXaResource implements RecoverableResource {
    private static final System.Logger LOG = System.getLogger(JdbcXaResource.class.getName());

    private final JdbcResourceConfig config;
    private final XADataSource dataSource;

    /**
     * Creates the resource; opens no connection.
     *
     * @throws IllegalArgumentException when the data source cannot be built from the configuration
     */
    public JdbcXaResource(JdbcResourceConfig config) {
        this.config = config;
        this.dataSource = XaDataSources.create(config);
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public BranchKind kind() {
        return BranchKind.DATABASE;
    }

    public JdbcResourceConfig config() {
        return config;
    }

    /** Whether the XAResources of this resource claim {@link NamedXAResource#supportsJoin()}: PostgreSQL only. */
    public boolean supportsJoin() {
        return config.supportsJoin();
    }

    /**
     * Opens a new physical XA connection.
     *
     * @throws XAException with XAER_RMFAIL when the database cannot be reached
     */
    @Override
    public Lease open() throws XAException {
        XAConnection connection;
        try {
            connection = dataSource.getXAConnection();
        } catch (SQLException | RuntimeException e) {
            XAException xa = new XAException("cannot connect to resource '" + name() + "': " + e.getMessage());
            xa.errorCode = XAException.XAER_RMFAIL;
            xa.initCause(e);
            throw xa;
        }
        try {
            NamedJdbcXAResource xa = new NamedJdbcXAResource(name(), supportsJoin(), connection.getXAResource(), null);
            return new ConnectionLease(connection, xa);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(connection);
            XAException xa = new XAException("resource '" + name() + "' gave no XAResource: " + e.getMessage());
            xa.errorCode = XAException.XAER_RMFAIL;
            xa.initCause(e);
            throw xa;
        }
    }

    private void closeQuietly(XAConnection connection) {
        try {
            connection.close();
        } catch (SQLException | RuntimeException e) {
            LOG.log(Level.DEBUG, "closing a connection of resource {0} failed: {1}", name(), e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "JdbcXaResource[" + config + "]";
    }

    private final class ConnectionLease implements Lease {
        private final XAConnection connection;
        private final NamedJdbcXAResource xaResource;

        ConnectionLease(XAConnection connection, NamedJdbcXAResource xaResource) {
            this.connection = connection;
            this.xaResource = xaResource;
        }

        @Override
        public NamedXAResource xaResource() {
            return xaResource;
        }

        @Override
        public void close() {
            xaResource.release();
            closeQuietly(connection);
        }
    }
}
