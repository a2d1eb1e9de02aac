package dev.concord.xa.jdbc;

import dev.concord.coordinator.NamedXAResource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * The driver's XAResource of one physical connection, under the name of its {@link JdbcXaResource}.
 *
 * <p>When the connection belongs to a pool ({@link EnlistingDataSource}), the {@link Owner} is told before a branch
 * starts and whenever an XA call fails, so that a connection whose XA state is uncertain is destroyed instead of
 * pooled; and once the owner has given the connection back ({@link #release()}), every call fails with
 * XAER_RMFAIL, so that the engine reaches the branch through a fresh connection and never issues XA commands on a
 * connection somebody else may be using.
 */
final class NamedJdbcXAResource implements NamedXAResource {
    /** The pooled connection behind the XAResource. */
    interface Owner {
        /** Called before {@code start}; the connection gets ready for the branch. */
        void beforeStart() throws XAException;

        /** An XA call failed: the connection must not be pooled again. */
        void failed();
    }

    private static final Owner NONE = new Owner() {
        @Override
        public void beforeStart() {
        }

        @Override
        public void failed() {
        }
    };

    private final String resourceName;
    private final boolean supportsJoin;
    private final XAResource driver;
    private final Owner owner;
    private volatile boolean released;

    NamedJdbcXAResource(String resourceName, boolean supportsJoin, XAResource driver, Owner owner) {
        this.resourceName = resourceName;
        this.supportsJoin = supportsJoin;
        this.driver = driver;
        this.owner = owner == null ? NONE : owner;
    }

    @Override
    public String resourceName() {
        return resourceName;
    }

    @Override
    public boolean supportsJoin() {
        return supportsJoin;
    }

    /** From now on every call fails with XAER_RMFAIL: the connection went back to its pool. */
    void release() {
        released = true;
    }

    private void checkUsable() throws XAException {
        if (released) {
            XAException e = new XAException("the connection of resource '" + resourceName
                    + "' was given back to its pool after its transaction ended; use a fresh connection");
            e.errorCode = XAException.XAER_RMFAIL;
            throw e;
        }
    }

    private XAException failed(XAException e) {
        owner.failed();
        return e;
    }

    private RuntimeException failed(RuntimeException e) {
        owner.failed();
        return e;
    }

    @Override
    public void start(Xid xid, int flags) throws XAException {
        checkUsable();
        try {
            owner.beforeStart();
            driver.start(xid, flags);
        } catch (XAException e) {
            throw failed(e);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public void end(Xid xid, int flags) throws XAException {
        checkUsable();
        try {
            driver.end(xid, flags);
        } catch (XAException e) {
            throw failed(e);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public int prepare(Xid xid) throws XAException {
        checkUsable();
        try {
            return driver.prepare(xid);
        } catch (XAException e) {
            throw failed(e);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public void commit(Xid xid, boolean onePhase) throws XAException {
        checkUsable();
        try {
            driver.commit(xid, onePhase);
        } catch (XAException e) {
            throw failed(e);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public void rollback(Xid xid) throws XAException {
        checkUsable();
        try {
            driver.rollback(xid);
        } catch (XAException e) {
            throw failed(e);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public void forget(Xid xid) throws XAException {
        checkUsable();
        try {
            driver.forget(xid);
        } catch (XAException e) {
            throw failed(e);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /**
     * The driver's recovery scan. For MySQL and MariaDB it is server-wide ({@code XA RECOVER} lists the prepared
     * branches of every database and user); the engine keeps only XIDs with Concord's format id and its node id.
     */
    @Override
    public Xid[] recover(int flag) throws XAException {
        checkUsable();
        try {
            return driver.recover(flag);
        } catch (XAException e) {
            throw failed(e);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public boolean isSameRM(XAResource other) throws XAException {
        checkUsable();
        XAResource unwrapped = other instanceof NamedJdbcXAResource n ? n.driver : other;
        return driver.isSameRM(unwrapped);
    }

    @Override
    public int getTransactionTimeout() throws XAException {
        return driver.getTransactionTimeout();
    }

    @Override
    public boolean setTransactionTimeout(int seconds) throws XAException {
        return driver.setTransactionTimeout(seconds);
    }

    @Override
    public String toString() {
        return "NamedJdbcXAResource[" + resourceName + (released ? ", released" : "") + "]";
    }
}
