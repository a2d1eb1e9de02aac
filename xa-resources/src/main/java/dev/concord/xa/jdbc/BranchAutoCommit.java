package dev.concord.xa.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.ConnectionEventListener;
import javax.sql.StatementEventListener;
import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * Keeps a pooled MariaDB/MySQL connection's auto-commit switch on the client while it serves an XA branch.
 *
 * <p>The pool turns auto-commit off when it enlists a connection and back on when the connection returns, and
 * mysql-connector-j sends each switch to the server as a {@code SET autocommit} statement: two round trips per
 * transaction that change nothing, since the server runs every statement between {@code XA START} and
 * {@code XA END} inside the branch whatever auto-commit says. So from {@link Resource#holdAutoCommitLocally()}
 * (called just before the branch starts) the connection only records what auto-commit is said to be, and it
 * reports that value; the first switch back to the server's own value ends this, and from then on every switch
 * goes to the server again. Outside a branch the connection is an ordinary one.
 */
final class BranchAutoCommit implements InvocationHandler {
    private final Connection driver;
    /** Guarded by this: whether switches are only recorded, the recorded value and the server's value. */
    private boolean local;
    private boolean recorded;
    private boolean server;

    private BranchAutoCommit(Connection driver) throws SQLException {
        this.driver = driver;
        this.server = driver.getAutoCommit();
    }

    /** The XA connection with its JDBC connection and XAResource wrapped as described above. */
    static XAConnection wrap(XAConnection xa) {
        return new Pooled(xa);
    }

    private synchronized void holdLocally() {
        if (!local) {
            local = true;
            recorded = server;
        }
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "setAutoCommit" -> {
                setAutoCommit((Boolean) args[0]);
                return null;
            }
            case "getAutoCommit" -> {
                synchronized (this) {
                    if (local) {
                        return recorded;
                    }
                }
                return driver.getAutoCommit();
            }
            case "equals" -> {
                return proxy == args[0];
            }
            case "hashCode" -> {
                return System.identityHashCode(proxy);
            }
            default -> {
                try {
                    return method.invoke(driver, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }
        }
    }

    private void setAutoCommit(boolean on) throws SQLException {
        synchronized (this) {
            if (local) {
                recorded = on;
                local = on != server;
                return;
            }
        }
        driver.setAutoCommit(on);
        synchronized (this) {
            server = on;
        }
    }

    /** The XA connection: hands out the wrapped JDBC connection and the marking XAResource. */
    private static final class Pooled implements XAConnection {
        private final XAConnection xa;
        private BranchAutoCommit handler;
        private Resource resource;

        Pooled(XAConnection xa) {
            this.xa = xa;
        }

        @Override
        public synchronized Connection getConnection() throws SQLException {
            handler = new BranchAutoCommit(xa.getConnection());
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                    new Class<?>[] {Connection.class}, handler);
        }

        @Override
        public synchronized XAResource getXAResource() throws SQLException {
            if (resource == null) {
                resource = new Resource(xa.getXAResource(), this);
            }
            return resource;
        }

        synchronized void holdLocally() {
            if (handler != null) {
                handler.holdLocally();
            }
        }

        @Override
        public void close() throws SQLException {
            xa.close();
        }

        @Override
        public void addConnectionEventListener(ConnectionEventListener listener) {
            xa.addConnectionEventListener(listener);
        }

        @Override
        public void removeConnectionEventListener(ConnectionEventListener listener) {
            xa.removeConnectionEventListener(listener);
        }

        @Override
        public void addStatementEventListener(StatementEventListener listener) {
            xa.addStatementEventListener(listener);
        }

        @Override
        public void removeStatementEventListener(StatementEventListener listener) {
            xa.removeStatementEventListener(listener);
        }
    }

    /** The driver's XAResource, plus the call that tells the connection a branch is about to start. */
    static final class Resource implements XAResource {
        private final XAResource driver;
        private final Pooled owner;

        Resource(XAResource driver, Pooled owner) {
            this.driver = driver;
            this.owner = owner;
        }

        /** A branch is about to start on this connection: keep auto-commit switches on the client. */
        void holdAutoCommitLocally() {
            owner.holdLocally();
        }

        @Override
        public void start(Xid xid, int flags) throws XAException {
            driver.start(xid, flags);
        }

        @Override
        public void end(Xid xid, int flags) throws XAException {
            driver.end(xid, flags);
        }

        @Override
        public int prepare(Xid xid) throws XAException {
            return driver.prepare(xid);
        }

        @Override
        public void commit(Xid xid, boolean onePhase) throws XAException {
            driver.commit(xid, onePhase);
        }

        @Override
        public void rollback(Xid xid) throws XAException {
            driver.rollback(xid);
        }

        @Override
        public void forget(Xid xid) throws XAException {
            driver.forget(xid);
        }

        @Override
        public Xid[] recover(int flag) throws XAException {
            return driver.recover(flag);
        }

        @Override
        public boolean isSameRM(XAResource other) throws XAException {
            return driver.isSameRM(other instanceof Resource r ? r.driver : other);
        }

        @Override
        public int getTransactionTimeout() throws XAException {
            return driver.getTransactionTimeout();
        }

        @Override
        public boolean setTransactionTimeout(int seconds) throws XAException {
            return driver.setTransactionTimeout(seconds);
        }
    }
}
