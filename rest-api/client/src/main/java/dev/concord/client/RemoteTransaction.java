package dev.concord.client;

import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.HeuristicRollbackException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.SystemException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A transaction of the coordinator service as this JVM sees it: its id, the service it lives in, the thread it is
 * associated with, a local rollback-only mark, and the database connections enlisted in it that are still open.
 * Thread association is per JVM (one {@link ThreadLocal} shared by every {@link RemoteUserTransaction}), so a
 * {@link RemoteEnlistingDataSource} finds the transaction however the application obtained its UserTransaction.
 *
 * <p>Mapping the service's answers onto JTA's exceptions happens here and nowhere else.
 */
final class RemoteTransaction {
    private static final ThreadLocal<RemoteTransaction> CURRENT = new ThreadLocal<>();

    private final ConcordServiceClient client;
    private final String id;
    private final List<BranchConnection> open = new ArrayList<>();
    private String rollbackOnlyReason;

    RemoteTransaction(ConcordServiceClient client, String id) {
        this.client = client;
        this.id = id;
    }

    /** The transaction of the calling thread, or null. */
    static RemoteTransaction current() {
        return CURRENT.get();
    }

    static void associate(RemoteTransaction tx) {
        CURRENT.set(tx);
    }

    static void dissociate() {
        CURRENT.remove();
    }

    ConcordServiceClient client() {
        return client;
    }

    String id() {
        return id;
    }

    synchronized void markRollbackOnly(String reason) {
        if (rollbackOnlyReason == null) {
            rollbackOnlyReason = reason;
        }
    }

    synchronized String rollbackOnlyReason() {
        return rollbackOnlyReason;
    }

    synchronized void opened(BranchConnection c) {
        open.add(c);
    }

    synchronized void closed(BranchConnection c) {
        open.remove(c);
    }

    private synchronized List<BranchConnection> takeOpen() {
        List<BranchConnection> all = new ArrayList<>(open);
        open.clear();
        return all;
    }

    /**
     * Commits: connections the application left open are prepared and registered first (as if closed); a
     * rollback-only transaction is rolled back instead.
     */
    void commit() throws RollbackException, HeuristicMixedException, HeuristicRollbackException, SystemException {
        for (BranchConnection c : takeOpen()) {
            if (rollbackOnlyReason() != null) {
                c.abort();
                continue;
            }
            try {
                c.prepareAndRegister();
            } catch (SQLException e) {
                markRollbackOnly(e.getMessage());
            }
        }
        String reason = rollbackOnlyReason();
        if (reason != null) {
            rollbackAtService();
            throw new RollbackException("transaction " + id + " was rolled back: it was marked rollback-only ("
                    + reason + ")");
        }
        TransactionInfo done;
        try {
            done = client.commit(id);
        } catch (ServiceCallException e) {
            commitRefused(e);
            return;
        }
        switch (done.status()) {
            case "COMMITTED", "COMMITTING", "COMMITTING_ONE_PHASE", "HEURISTIC_COMMIT" -> {
                // Decided: phase 2 of a branch may still be retried by the service.
            }
            case "HEURISTIC_ROLLBACK" -> throw new HeuristicRollbackException("transaction " + id
                    + ": every branch was rolled back by its resource on its own");
            case "HEURISTIC_MIXED", "HEURISTIC_HAZARD" -> throw new HeuristicMixedException("transaction " + id
                    + " ended " + done.status() + ": see the service's heuristics");
            default -> throw new RollbackException("transaction " + id + " ended " + done.status());
        }
    }

    private void commitRefused(ServiceCallException e) throws RollbackException, HeuristicMixedException,
            HeuristicRollbackException, SystemException {
        if (e.isUnanswered()) {
            throw systemException("no answer to the commit of " + id + ", so its outcome is unknown here; the "
                    + "service finishes it either way (ask its outcome query)", e);
        }
        String type = e.problemType() == null ? "" : e.problemType();
        switch (type) {
            case "rolled-back", "log-unavailable" -> throw withCause(new RollbackException(e.getMessage()), e);
            case "heuristic-outcome" -> {
                if ("HEURISTIC_ROLLBACK".equals(e.transactionStatus())) {
                    throw withCause(new HeuristicRollbackException(e.getMessage()), e);
                }
                throw withCause(new HeuristicMixedException(e.getMessage()), e);
            }
            case "illegal-state" -> {
                String s = e.transactionStatus() == null ? "" : e.transactionStatus();
                if (s.startsWith("ROLL")) {
                    throw withCause(new RollbackException(e.getMessage()), e);
                }
                if (s.startsWith("COMMIT")) {
                    return;
                }
                throw systemException(e.getMessage(), e);
            }
            case "not-found" -> {
                // The service no longer holds the transaction (restarted, or it was forgotten): ask its log.
                Outcome o;
                try {
                    o = client.outcome(id);
                } catch (ServiceCallException again) {
                    throw systemException("transaction " + id + " is unknown to the service and its outcome "
                            + "cannot be asked: " + again.getMessage(), again);
                }
                if (o == Outcome.COMMIT) {
                    return;
                }
                if (o == Outcome.ROLLBACK) {
                    throw withCause(new RollbackException("transaction " + id + " is unknown to the service, whose "
                            + "log says it did not commit"), e);
                }
                throw systemException("transaction " + id + " is unknown to the service and its outcome is "
                        + "UNKNOWN", e);
            }
            default -> throw systemException(e.getMessage(), e);
        }
    }

    /** Rolls back: connections still open are rolled back on the spot, registered branches by the service. */
    void rollback() throws SystemException {
        for (BranchConnection c : takeOpen()) {
            c.abort();
        }
        rollbackAtService();
    }

    private void rollbackAtService() throws SystemException {
        try {
            client.rollback(id);
        } catch (ServiceCallException e) {
            if ("not-found".equals(e.problemType())) {
                return; // Not held any more: never decided, so presumed aborted.
            }
            String s = e.transactionStatus() == null ? "" : e.transactionStatus();
            if ("illegal-state".equals(e.problemType()) && s.startsWith("ROLL")) {
                return;
            }
            throw systemException(e.isUnanswered() ? "no answer to the rollback of " + id + "; the service rolls "
                    + "it back at its timeout" : e.getMessage(), e);
        }
    }

    /** The JTA status: the service's state, with the local rollback-only mark on top. */
    int status() throws SystemException {
        TransactionInfo info;
        try {
            info = client.get(id);
        } catch (ServiceCallException e) {
            if ("not-found".equals(e.problemType())) {
                return Status.STATUS_UNKNOWN;
            }
            throw systemException(e.getMessage(), e);
        }
        int status = jtaStatus(info.status());
        if (status == Status.STATUS_ACTIVE && rollbackOnlyReason() != null) {
            return Status.STATUS_MARKED_ROLLBACK;
        }
        return status;
    }

    static int jtaStatus(String serviceState) {
        return switch (serviceState) {
            case "ACTIVE" -> Status.STATUS_ACTIVE;
            case "MARKED_ROLLBACK" -> Status.STATUS_MARKED_ROLLBACK;
            case "PREPARING" -> Status.STATUS_PREPARING;
            case "COMMITTING", "COMMITTING_ONE_PHASE" -> Status.STATUS_COMMITTING;
            case "COMMITTED", "HEURISTIC_COMMIT" -> Status.STATUS_COMMITTED;
            case "ROLLING_BACK" -> Status.STATUS_ROLLING_BACK;
            case "ROLLED_BACK", "HEURISTIC_ROLLBACK" -> Status.STATUS_ROLLEDBACK;
            default -> Status.STATUS_UNKNOWN;
        };
    }

    private static SystemException systemException(String message, Throwable cause) {
        return withCause(new SystemException(message), cause);
    }

    private static <T extends Exception> T withCause(T e, Throwable cause) {
        e.initCause(cause);
        return e;
    }

    @Override
    public String toString() {
        return id;
    }
}
