package dev.concord.coordinator.jta;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.GlobalTransaction;
import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.HeuristicRollbackException;
import jakarta.transaction.InvalidTransactionException;
import jakarta.transaction.NotSupportedException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;
import java.time.Duration;

/**
 * The JTA {@link TransactionManager} over a {@link Coordinator}: associates global transactions with threads.
 * Nested transactions are not supported. A transaction stays associated with its thread until commit, rollback or
 * suspend, also after a timeout rolled it back: the thread then sees {@link Status#STATUS_ROLLEDBACK} and its
 * commit throws {@link RollbackException}.
 */
public final class ConcordTransactionManager implements TransactionManager {
    private final Coordinator coordinator;
    private final ThreadLocal<GlobalTransaction> current = new ThreadLocal<>();
    private final ThreadLocal<Integer> timeoutSeconds = new ThreadLocal<>();

    public ConcordTransactionManager(Coordinator coordinator) {
        this.coordinator = coordinator;
    }

    public Coordinator coordinator() {
        return coordinator;
    }

    @Override
    public void begin() throws NotSupportedException, SystemException {
        if (current.get() != null) {
            throw new NotSupportedException("nested transactions are not supported: this thread is already "
                    + "associated with " + current.get().gtrid());
        }
        Integer seconds = timeoutSeconds.get();
        try {
            current.set(coordinator.begin(seconds == null ? null : Duration.ofSeconds(seconds)));
        } catch (IllegalArgumentException e) {
            SystemException se = new SystemException(e.getMessage());
            se.initCause(e);
            throw se;
        }
    }

    @Override
    public void commit() throws RollbackException, HeuristicMixedException, HeuristicRollbackException,
            SecurityException, IllegalStateException, SystemException {
        GlobalTransaction tx = required("commit");
        try {
            tx.commit();
        } finally {
            current.set(null); // keeps the thread's entry: the next begin on this thread allocates none
        }
    }

    @Override
    public void rollback() throws IllegalStateException, SecurityException, SystemException {
        GlobalTransaction tx = required("roll back");
        try {
            tx.rollback();
        } finally {
            current.set(null);
        }
    }

    @Override
    public void setRollbackOnly() throws IllegalStateException, SystemException {
        required("mark rollback-only").setRollbackOnly();
    }

    @Override
    public int getStatus() {
        GlobalTransaction tx = current.get();
        return tx == null ? Status.STATUS_NO_TRANSACTION : tx.getStatus();
    }

    @Override
    public Transaction getTransaction() {
        return current.get();
    }

    /** The transaction associated with the calling thread, or null. */
    public GlobalTransaction currentTransaction() {
        return current.get();
    }

    /**
     * Sets the timeout of transactions this thread begins from now on; 0 restores the default.
     *
     * @throws SystemException when the value is negative or above the configured maximum
     */
    @Override
    public void setTransactionTimeout(int seconds) throws SystemException {
        if (seconds < 0) {
            throw new SystemException("transaction timeout must not be negative, got " + seconds);
        }
        if (Duration.ofSeconds(seconds).compareTo(coordinator.config().maxTimeout()) > 0) {
            throw new SystemException("transaction timeout " + seconds + " s exceeds the maximum "
                    + coordinator.config().maxTimeout().toSeconds() + " s");
        }
        if (seconds == 0) {
            timeoutSeconds.remove();
        } else {
            timeoutSeconds.set(seconds);
        }
    }

    @Override
    public Transaction suspend() {
        GlobalTransaction tx = current.get();
        current.set(null);
        return tx;
    }

    @Override
    public void resume(Transaction tobj) throws InvalidTransactionException, IllegalStateException, SystemException {
        if (current.get() != null) {
            throw new IllegalStateException("this thread is already associated with " + current.get().gtrid());
        }
        if (!(tobj instanceof GlobalTransaction tx)) {
            throw new InvalidTransactionException("not a transaction of this transaction manager: " + tobj);
        }
        if (tx.state().isTerminal() || coordinator.find(tx.gtrid()).orElse(null) != tx) {
            throw new InvalidTransactionException("transaction " + tx.gtrid() + " has ended (" + tx.state() + ")");
        }
        current.set(tx);
    }

    private GlobalTransaction required(String what) {
        GlobalTransaction tx = current.get();
        if (tx == null) {
            throw new IllegalStateException("cannot " + what + ": no transaction is associated with this thread");
        }
        return tx;
    }
}
