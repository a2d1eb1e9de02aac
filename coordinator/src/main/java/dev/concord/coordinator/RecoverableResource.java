package dev.concord.coordinator;

import java.time.Duration;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;

/**
 * A configured resource manager that phase-2 retries and recovery can reach by name: it opens a fresh XA
 * connection whenever asked, so a failed connection (XAER_RMFAIL) is replaced rather than kept.
 */
public interface RecoverableResource {
    /** The configured name; the same as {@link NamedXAResource#resourceName()} of its connections. */
    String name();

    /** Phase-2 ordering class of the resource's branches. */
    BranchKind kind();

    /**
     * How long after a phase-2 call that may have reached the resource the engine must not repeat it. Zero (the
     * default) for resources where a repeated commit is harmless. RocketMQ returns the broker's check horizon: an END
     * that may have arrived is not re-sent while the broker's check-back can still deliver the outcome, because the
     * broker does not de-duplicate; after the horizon the broker has stopped checking, and only a re-sent END can
     * deliver a committed message.
     */
    default Duration resendHorizon() {
        return Duration.ZERO;
    }

    /**
     * Opens a new connection.
     *
     * @throws XAException with XAER_RMFAIL when the resource cannot be reached
     */
    Lease open() throws XAException;

    /** A connection opened for phase 2 or recovery; closing it releases the connection. */
    interface Lease extends AutoCloseable {
        XAResource xaResource();

        @Override
        void close();
    }
}
