package dev.concord.coordinator;

import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * An XAResource that tells the engine what it needs to commit the branch again after a crash: the name under
 * which the resource is configured (recovery re-obtains resources by name, never by serializing them), its kind,
 * whether it really supports {@code TMJOIN}, and any per-branch recovery data.
 *
 * <p>A plain XAResource may be enlisted too; it is named after its class and cannot be reached by recovery unless
 * a resource of that name is registered.
 */
public interface NamedXAResource extends XAResource {
    /** The configured name of the resource manager this XAResource belongs to. */
    String resourceName();

    /** Phase-2 ordering class of the branch. */
    default BranchKind kind() {
        return BranchKind.DATABASE;
    }

    /**
     * Whether {@code start(xid, TMJOIN)} really works for two XAResources of this resource manager for which
     * {@code isSameRM} is true. MariaDB answers {@code isSameRM == true} and then rejects TMJOIN, so the default is
     * false: the engine starts a separate branch.
     */
    default boolean supportsJoin() {
        return false;
    }

    /** Data recorded with the commit decision and handed back through {@link #restoreRecoveryData}; asked after prepare. */
    default byte[] recoveryData(Xid xid) {
        return new byte[0];
    }

    /** Gives a fresh instance the recovery data of a branch before phase 2 is done from it. */
    default void restoreRecoveryData(Xid xid, byte[] data) {
    }
}
