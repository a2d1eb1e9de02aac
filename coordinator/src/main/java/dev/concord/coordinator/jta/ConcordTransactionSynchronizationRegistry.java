package dev.concord.coordinator.jta;

import dev.concord.coordinator.GlobalTransaction;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * The {@link TransactionSynchronizationRegistry} of the embedded transaction manager, for frameworks (JPA
 * providers, connection pools) that attach resources and interposed synchronizations to the current transaction.
 */
public final class ConcordTransactionSynchronizationRegistry implements TransactionSynchronizationRegistry {
    private final ConcordTransactionManager tm;

    public ConcordTransactionSynchronizationRegistry(ConcordTransactionManager tm) {
        this.tm = tm;
    }

    /** The gtrid of the current transaction (unique, with equals and hashCode), or null outside a transaction. */
    @Override
    public Object getTransactionKey() {
        GlobalTransaction tx = tm.currentTransaction();
        return tx == null ? null : tx.gtrid();
    }

    @Override
    public void putResource(Object key, Object value) {
        required("put a resource").putResource(key, value);
    }

    @Override
    public Object getResource(Object key) {
        return required("get a resource").getResource(key);
    }

    @Override
    public void registerInterposedSynchronization(Synchronization sync) {
        required("register a synchronization").registerInterposedSynchronization(sync);
    }

    @Override
    public int getTransactionStatus() {
        GlobalTransaction tx = tm.currentTransaction();
        return tx == null ? Status.STATUS_NO_TRANSACTION : tx.getStatus();
    }

    @Override
    public void setRollbackOnly() {
        required("mark rollback-only").setRollbackOnly();
    }

    @Override
    public boolean getRollbackOnly() {
        return required("read rollback-only").isRollbackOnly();
    }

    private GlobalTransaction required(String what) {
        GlobalTransaction tx = tm.currentTransaction();
        if (tx == null) {
            throw new IllegalStateException("cannot " + what + ": no transaction is associated with this thread");
        }
        return tx;
    }
}
