package dev.concord.xa.jdbc;

import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import io.agroal.api.transaction.TransactionAware;
import io.agroal.api.transaction.TransactionIntegration;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.SystemException;
import java.lang.System.Logger.Level;
import java.sql.SQLException;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;

/**
 * Ties Agroal's pool to Concord's embedded transaction manager: inside a transaction, the first
 * {@code getConnection()} of a thread enlists the pooled connection's XAResource (the engine starts the branch) and
 * every later one in the same transaction gets a new handle on the same connection. The connection goes back to
 * the pool only in {@code afterCompletion}, after phase 2 of its branch; handles closed earlier do not end the
 * branch.
 *
 * <p>The transaction's resource map (keyed by an object of this data source) remembers the enlisted connection. A
 * connection whose XA calls failed, or whose transaction ended in an unknown state, is destroyed instead of pooled.
 */
final class PoolTransactionIntegration implements TransactionIntegration {
    private static final System.Logger LOG = System.getLogger(PoolTransactionIntegration.class.getName());

    private final ConcordTransactionManager tm;
    private final String resourceName;
    private final boolean supportsJoin;
    private final Object key;

    PoolTransactionIntegration(ConcordTransactionManager tm, String resourceName, boolean supportsJoin) {
        this.tm = tm;
        this.resourceName = resourceName;
        this.supportsJoin = supportsJoin;
        this.key = new Object() {
            @Override
            public String toString() {
                return "EnlistedConnection[" + resourceName + "]";
            }
        };
    }

    /**
     * The calling thread's transaction if a connection may be enlisted in it (active or marked rollback-only), or
     * null when there is none or it is completing (a connection asked for in {@code afterCompletion} is an
     * ordinary one).
     *
     * @throws SQLException when the transaction timed out: its work was rolled back, and an auto-commit connection
     *                      would silently keep the rest of it
     */
    private GlobalTransaction enlistable() throws SQLException {
        GlobalTransaction tx = tm.currentTransaction();
        if (tx == null) {
            return null;
        }
        if (tx.isTimedOut()) {
            throw new SQLException("transaction " + tx.gtrid() + " timed out after " + tx.timeout().toSeconds()
                    + " s and was rolled back; no connection of resource '" + resourceName
                    + "' is handed out in it (end it with commit or rollback)");
        }
        int status = tx.getStatus();
        return status == Status.STATUS_ACTIVE || status == Status.STATUS_MARKED_ROLLBACK ? tx : null;
    }

    private boolean inEnlistableTransaction() {
        GlobalTransaction tx = tm.currentTransaction();
        if (tx == null) {
            return false;
        }
        int status = tx.getStatus();
        return tx.isTimedOut() || status == Status.STATUS_ACTIVE || status == Status.STATUS_MARKED_ROLLBACK;
    }

    @Override
    public TransactionAware getTransactionAware() throws SQLException {
        GlobalTransaction tx = enlistable();
        return tx == null ? null : (TransactionAware) tx.getResource(key);
    }

    @Override
    public void associate(TransactionAware connection, XAResource driverResource) throws SQLException {
        GlobalTransaction tx = enlistable();
        // Agroal asks this on every use of a handle: an enlisted connection is refused outside its transaction,
        // an ordinary one inside a transaction (no deferred enlistment).
        connection.transactionCheckCallback(this::inEnlistableTransaction);
        if (tx == null) {
            return;
        }
        // Under the transaction's lock, so that a timeout cannot roll back between enlisting and registering.
        synchronized (tx) {
            Object held = tx.getResource(key);
            if (held == connection) {
                return;
            }
            if (held != null) {
                throw new SQLException("transaction " + tx.gtrid() + " already has a connection of resource '"
                        + resourceName + "'");
            }
            EnlistedConnection enlisted = new EnlistedConnection(connection, driverResource);
            try {
                tx.enlistResource(enlisted.xaResource());
                tx.registerInterposedSynchronization(enlisted);
                tx.putResource(key, connection);
            } catch (RollbackException | SystemException | RuntimeException e) {
                enlisted.abandon();
                throw new SQLException("cannot enlist a connection of resource '" + resourceName
                        + "' in transaction " + tx.gtrid() + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public boolean disassociate(TransactionAware connection) {
        return true;
    }

    @Override
    public void addResourceRecoveryFactory(ResourceRecoveryFactory factory) {
        // Recovery reaches the database through its JdbcXaResource in the engine's ResourceRegistry.
    }

    @Override
    public void removeResourceRecoveryFactory(ResourceRecoveryFactory factory) {
        // See addResourceRecoveryFactory.
    }

    /** One pooled connection enlisted in one transaction, until the transaction's afterCompletion. */
    private final class EnlistedConnection implements Synchronization, NamedJdbcXAResource.Owner {
        private final TransactionAware connection;
        private final NamedJdbcXAResource xaResource;
        private final XAResource driver;
        private volatile boolean started;

        EnlistedConnection(TransactionAware connection, XAResource driver) {
            this.connection = connection;
            this.driver = driver;
            this.xaResource = new NamedJdbcXAResource(resourceName, supportsJoin, driver, this);
        }

        NamedJdbcXAResource xaResource() {
            return xaResource;
        }

        @Override
        public void beforeStart() throws XAException {
            try {
                if (driver instanceof BranchAutoCommit.Resource r) {
                    r.holdAutoCommitLocally();
                }
                connection.transactionStart();
                started = true;
            } catch (SQLException e) {
                XAException xa = new XAException("connection cannot join a transaction: " + e.getMessage());
                xa.errorCode = XAException.XAER_RMFAIL;
                xa.initCause(e);
                throw xa;
            }
        }

        @Override
        public void failed() {
            connection.setFlushOnly();
        }

        @Override
        public void beforeCompletion() {
            // The engine ends the branch (TMSUCCESS) itself before prepare.
        }

        @Override
        public void afterCompletion(int status) {
            xaResource.release();
            if (status != Status.STATUS_COMMITTED && status != Status.STATUS_ROLLEDBACK) {
                connection.setFlushOnly();
            }
            giveBack();
        }

        /** Enlistment failed: nothing refers to the connection; destroy it if it was made ready for a branch. */
        void abandon() {
            xaResource.release();
            if (started) {
                connection.setFlushOnly();
                giveBack();
            }
        }

        private void giveBack() {
            try {
                connection.transactionEnd();
            } catch (SQLException | RuntimeException e) {
                LOG.log(Level.WARNING, "CONCORD-3001 returning a connection of {0} to its pool failed: {1}",
                        xaResource.resourceName(), e.getMessage());
            }
        }
    }
}
