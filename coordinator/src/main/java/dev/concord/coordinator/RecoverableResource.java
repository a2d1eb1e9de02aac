package dev.concord.coordinator;

import java.time.Duration;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;

/**
 * A configured resource manager that phase-2 retries and recovery can reach by name: it hands out an XA connection
 * whenever asked, and never one that failed (XAER_RMFAIL): a failed connection is replaced rather than kept. A
 * resource may keep idle connections for reuse, as long as a dead one is never handed out in place of one that
 * works.
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
     * A connection: a new one, or an idle one the resource kept.
     *
     * @throws XAException with XAER_RMFAIL when the resource cannot be reached
     */
    Lease open() throws XAException;

    /**
     * Checks that the resource answers now (readiness). The default opens a connection and closes it; a resource
     * that keeps idle connections also makes sure the one it hands out still answers.
     *
     * @throws XAException with XAER_RMFAIL when the resource cannot be reached
     */
    default void checkReachable() throws XAException {
        Lease lease = open();
        lease.close();
    }

    /** A connection for phase 2 or recovery; closing it gives the connection back (or closes it). */
    interface Lease extends AutoCloseable {
        XAResource xaResource();

        @Override
        void close();
    }
}
