package dev.concord.client;

import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.HeuristicRollbackException;
import jakarta.transaction.NotSupportedException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.SystemException;
import jakarta.transaction.UserTransaction;
import java.util.Objects;
import javax.naming.Reference;
import javax.naming.Referenceable;
import javax.naming.StringRefAddr;

/**
 * {@link UserTransaction} whose transactions live in the coordinator service: {@code begin} starts one there and
 * associates it with the calling thread, {@code commit} and {@code rollback} end it there (both phases run in the
 * service) and dissociate the thread. Database work joins through {@link RemoteEnlistingDataSource}, messages
 * through {@link TransactionalMessageSender}.
 *
 * <p>Exceptions are JTA's: {@link NotSupportedException} for a begin on a thread that already has a transaction,
 * {@link IllegalStateException} for commit, rollback or setRollbackOnly without one, {@link RollbackException} when
 * a commit ends in a rollback (rollback-only, timeout, a branch that could not prepare), heuristic exceptions for
 * heuristic outcomes, {@link SystemException} when the service cannot be reached or refuses for another reason —
 * after a commit that got no answer the outcome is the service's to tell ({@link ConcordServiceClient#outcome}).
 *
 * <p>setRollbackOnly is kept in this JVM: commit then rolls back. There is no TransactionSynchronizationRegistry
 * and no suspend/resume in remote mode.
 */
public final class RemoteUserTransaction implements UserTransaction, Referenceable {
    private final ConcordServiceClient client;
    private final int defaultTimeoutSeconds;
    private final ThreadLocal<Integer> threadTimeout = new ThreadLocal<>();

    /** Transactions with the service's default timeout. */
    public RemoteUserTransaction(ConcordServiceClient client) {
        this(client, 0);
    }

    /**
     * @param defaultTimeoutSeconds the timeout of transactions begun without {@link #setTransactionTimeout}, or 0
     *                              for the service's default
     */
    public RemoteUserTransaction(ConcordServiceClient client, int defaultTimeoutSeconds) {
        this.client = Objects.requireNonNull(client, "client");
        if (defaultTimeoutSeconds < 0) {
            throw new IllegalArgumentException("the default timeout must not be negative, got " + defaultTimeoutSeconds);
        }
        this.defaultTimeoutSeconds = defaultTimeoutSeconds;
    }

    /** The id of the calling thread's remote transaction, or null. */
    public static String currentTransactionId() {
        RemoteTransaction tx = RemoteTransaction.current();
        return tx == null ? null : tx.id();
    }

    /** The service client this UserTransaction talks to. */
    public ConcordServiceClient client() {
        return client;
    }

    @Override
    public void begin() throws NotSupportedException, SystemException {
        RemoteTransaction current = RemoteTransaction.current();
        if (current != null) {
            throw new NotSupportedException("this thread already has transaction " + current.id()
                    + "; nested transactions are not supported");
        }
        Integer t = threadTimeout.get();
        TransactionInfo info;
        try {
            info = client.begin(t == null ? defaultTimeoutSeconds : t);
        } catch (ServiceCallException e) {
            SystemException se = new SystemException("cannot begin a transaction: " + e.getMessage());
            se.initCause(e);
            throw se;
        }
        RemoteTransaction.associate(new RemoteTransaction(client, info.id()));
    }

    @Override
    public void commit() throws RollbackException, HeuristicMixedException, HeuristicRollbackException,
            SecurityException, IllegalStateException, SystemException {
        RemoteTransaction tx = required("commit");
        try {
            tx.commit();
        } finally {
            RemoteTransaction.dissociate();
        }
    }

    @Override
    public void rollback() throws IllegalStateException, SecurityException, SystemException {
        RemoteTransaction tx = required("roll back");
        try {
            tx.rollback();
        } finally {
            RemoteTransaction.dissociate();
        }
    }

    @Override
    public void setRollbackOnly() throws IllegalStateException, SystemException {
        required("mark rollback-only").markRollbackOnly("setRollbackOnly was called");
    }

    @Override
    public int getStatus() throws SystemException {
        RemoteTransaction tx = RemoteTransaction.current();
        return tx == null ? Status.STATUS_NO_TRANSACTION : tx.status();
    }

    /** Sets the timeout of transactions this thread begins from now on; 0 restores the default. */
    @Override
    public void setTransactionTimeout(int seconds) throws SystemException {
        if (seconds < 0) {
            throw new SystemException("the transaction timeout must not be negative, got " + seconds);
        }
        if (seconds == 0) {
            threadTimeout.remove();
        } else {
            threadTimeout.set(seconds);
        }
    }

    private static RemoteTransaction required(String what) {
        RemoteTransaction tx = RemoteTransaction.current();
        if (tx == null) {
            throw new IllegalStateException("cannot " + what + ": this thread has no transaction");
        }
        return tx;
    }

    /** A JNDI reference that {@link ConcordObjectFactory} turns back into an equivalent UserTransaction. */
    @Override
    public Reference getReference() {
        Reference ref = new Reference(RemoteUserTransaction.class.getName(), ConcordObjectFactory.class.getName(),
                null);
        ref.add(new StringRefAddr(ConcordObjectFactory.URL, client.baseUri()));
        ref.add(new StringRefAddr(ConcordObjectFactory.TOKEN, client.token()));
        ref.add(new StringRefAddr(ConcordObjectFactory.TIMEOUT_SECONDS, Integer.toString(defaultTimeoutSeconds)));
        ref.add(new StringRefAddr(ConcordObjectFactory.REQUEST_TIMEOUT_SECONDS,
                Long.toString(client.requestTimeout().toSeconds())));
        return ref;
    }

    @Override
    public String toString() {
        return "RemoteUserTransaction[" + client.baseUri() + "]";
    }
}
