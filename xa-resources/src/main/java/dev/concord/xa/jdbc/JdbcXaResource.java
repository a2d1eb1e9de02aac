package dev.concord.xa.jdbc;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.NamedXAResource;
import dev.concord.coordinator.RecoverableResource;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * A configured JDBC database that registration checks, phase 2 and recovery reach by name. {@link #open()} hands
 * out a physical {@link XAConnection} from a small cache of idle ones, or connects when none is idle; closing the
 * lease puts the connection back, or closes it. These are the coordinator's own connections; the application's
 * pool ({@link EnlistingDataSource}) is separate.
 *
 * <p><b>What the cache keeps.</b> At most {@link JdbcResourceConfig#phase2IdleConnections()} idle connections (0:
 * every lease is a new connection, closed with the lease). A returned connection is closed instead of kept when
 * <ul>
 *   <li>an XA call on it failed in a way that leaves the connection's state uncertain: XAER_RMFAIL, XAER_RMERR,
 *       XAER_PROTO, XAER_INVAL, XAER_OUTSIDE, XAER_ASYNC, XAER_DUPID, any other code not listed below, or a
 *       RuntimeException. A connection the server ended answers XAER_RMFAIL on mysql-connector-j and XAER_RMERR on
 *       pgjdbc, so both count. The normal answers about a branch leave the connection as it was and do not count:
 *       XAER_NOTA (no such branch), XA_RB* (rolled back), XA_HEUR* (heuristic outcome), XA_RETRY, XA_RDONLY,
 *       XA_NOMIGRATE;</li>
 *   <li>the lease started a branch on it ({@code start}): a connection that did branch work may still carry the
 *       branch (MariaDB keeps a prepared branch attached to the connection that prepared it until that connection
 *       goes, and answers XAER_NOTA to {@code XA COMMIT} from any other connection meanwhile);</li>
 *   <li>the cache is full, or the resource was {@link #close() closed}.</li>
 * </ul>
 * So cached connections only ever finish, scan for or forget branches other connections prepared; a connection is
 * held by at most one lease at a time, and a closed lease cannot reach it any more (its calls fail with
 * XAER_RMFAIL). A cached connection can send {@code XA COMMIT} sooner after a participant closed its connection
 * than a new connection could; should MariaDB not have ended the participant's session yet, it answers XAER_NOTA,
 * which the engine checks against a recovery scan and retries, as it always has.
 *
 * <p><b>Idle connections.</b> One idle for longer than {@link JdbcResourceConfig#phase2IdleTimeout()} is closed
 * instead of reused (at the next {@code open()} or return, there is no background thread); one idle for more than
 * {@value #VALIDATE_AFTER_IDLE_SECONDS} s is checked with {@code isValid} on its logical connection (a ping on
 * MariaDB, an empty query on PostgreSQL) and closed if it fails, then the next one, or a new connection, is tried.
 * A connection that died more recently is caught when it is used: when the first XA call of a lease on a cached
 * connection fails with an uncertain code and the connection is no longer valid, the connection is closed and the
 * call is made once more on a new connection. A commit or rollback repeated this way is what the engine would do on
 * its next attempt anyway (a branch the first call did finish answers XAER_NOTA, and the recovery scan settles it),
 * so a dead cached connection never fails a call that a new connection would have done.
 *
 * <p>The XAResource of a lease is a {@link NamedXAResource} named {@link #name()}. {@link #supportsJoin()} is true
 * only for PostgreSQL, where {@code start(xid, TMJOIN)} of an ended branch works on the same connection (pgjdbc's
 * {@code isSameRM} is true only for the same connection, so the engine never tries to join across connections).
 * MariaDB answers {@code isSameRM == true} for two connections and then rejects TMJOIN; a generic data source is not
 * trusted to join.
 *
 * <p><b>Recovery scope.</b> For MySQL and MariaDB, {@code recover()} is server-wide: {@code XA RECOVER} lists the
 * prepared branches of every database and user of the server, whatever the configured database. The engine keeps
 * only XIDs with Concord's format id and its own node id, so two resources on one server (or two coordinators
 * with different node ids) never touch each other's branches, but the node id must be unique per server. For
 * PostgreSQL the scan covers the configured database and the connecting role only.
 *
 * <p>{@link #close()} closes the idle connections; leases still out close their connection when they are closed,
 * and {@code open()} after {@code close()} still works, without the cache (each lease a new connection), so that
 * phase 2 still running during a shutdown is not turned into a failure.
 */
public final class JdbcXaResource implements RecoverableResource, AutoCloseable {
    /** An idle connection older than this is checked with {@code isValid} before it is handed out. */
    static final int VALIDATE_AFTER_IDLE_SECONDS = 2;

    private static final System.Logger LOG = System.getLogger(JdbcXaResource.class.getName());

    private final JdbcResourceConfig config;
    private final XADataSource dataSource;
    private final long validateAfterIdleNanos;
    private final long idleTimeoutNanos;
    private final int validationSeconds;
    /** Idle connections, the most recently returned first. Guarded by itself, as is {@link #closed}. */
    private final ArrayDeque<Physical> idle = new ArrayDeque<>();
    private boolean closed;
    private final AtomicLong connects = new AtomicLong();

    /**
     * Creates the resource; opens no connection.
     *
     * @throws IllegalArgumentException when the data source cannot be built from the configuration
     */
    public JdbcXaResource(JdbcResourceConfig config) {
        this(config, Duration.ofSeconds(VALIDATE_AFTER_IDLE_SECONDS));
    }

    /** Tests shorten the idle time after which a cached connection is validated. */
    JdbcXaResource(JdbcResourceConfig config, Duration validateAfterIdle) {
        this.config = config;
        this.dataSource = XaDataSources.create(config);
        this.validateAfterIdleNanos = validateAfterIdle.toNanos();
        this.idleTimeoutNanos = config.phase2IdleTimeout().toNanos();
        this.validationSeconds = Math.min(5, XaDataSources.seconds(config.connectTimeout()));
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public BranchKind kind() {
        return BranchKind.DATABASE;
    }

    public JdbcResourceConfig config() {
        return config;
    }

    /** Whether the XAResources of this resource claim {@link NamedXAResource#supportsJoin()}: PostgreSQL only. */
    public boolean supportsJoin() {
        return config.supportsJoin();
    }

    /** Idle connections in the cache now. */
    public int idleConnections() {
        synchronized (idle) {
            return idle.size();
        }
    }

    /** Physical connections this resource has opened so far (cached or not). */
    public long connectionsOpened() {
        return connects.get();
    }

    /**
     * A lease on an idle connection of the cache, or on a new physical XA connection when none is idle (or none
     * idle is still valid).
     *
     * @throws XAException with XAER_RMFAIL when the database cannot be reached
     */
    @Override
    public Lease open() throws XAException {
        List<Physical> expired = new ArrayList<>(0);
        try {
            while (true) {
                long now = System.nanoTime();
                Physical candidate;
                synchronized (idle) {
                    candidate = idle.pollFirst();
                    evictExpired(now, expired);
                }
                if (candidate == null) {
                    break;
                }
                long idleFor = now - candidate.idleSince;
                if (idleFor > idleTimeoutNanos) {
                    expired.add(candidate);
                    continue;
                }
                if (idleFor > validateAfterIdleNanos && !candidate.isValid()) {
                    LOG.log(Level.DEBUG, "an idle connection of resource {0} is no longer valid; closing it", name());
                    expired.add(candidate);
                    continue;
                }
                return new ConnectionLease(candidate, true);
            }
        } finally {
            for (Physical p : expired) {
                p.close();
            }
        }
        return new ConnectionLease(connect(), false);
    }

    /**
     * Readiness: a new connection opens, or an idle one of the cache passes {@code isValid} (if it does not, it is
     * closed and a new connection must open).
     *
     * @throws XAException with XAER_RMFAIL when the database cannot be reached
     */
    @Override
    public void checkReachable() throws XAException {
        ConnectionLease lease = (ConnectionLease) open();
        try {
            lease.checkAnswers();
        } finally {
            lease.close();
        }
    }

    /** Closes the idle connections; see the class comment for what happens afterwards. */
    @Override
    public void close() {
        List<Physical> toClose;
        synchronized (idle) {
            closed = true;
            toClose = new ArrayList<>(idle);
            idle.clear();
        }
        for (Physical p : toClose) {
            p.close();
        }
    }

    /** Moves connections idle past the timeout (the oldest are last) to {@code out}; called holding the lock. */
    private void evictExpired(long now, List<Physical> out) {
        while (!idle.isEmpty() && now - idle.peekLast().idleSince > idleTimeoutNanos) {
            out.add(idle.pollLast());
        }
    }

    /** Keeps a returned connection if it may be kept and there is room, else closes it. */
    private void giveBack(Physical p, boolean keep) {
        List<Physical> toClose = new ArrayList<>(1);
        synchronized (idle) {
            long now = System.nanoTime();
            evictExpired(now, toClose);
            if (keep && !closed && idle.size() < config.phase2IdleConnections()) {
                p.idleSince = now;
                idle.addFirst(p);
            } else {
                toClose.add(p);
            }
        }
        for (Physical c : toClose) {
            c.close();
        }
    }

    private Physical connect() throws XAException {
        XAConnection connection;
        try {
            connection = dataSource.getXAConnection();
        } catch (SQLException | RuntimeException e) {
            XAException xa = new XAException("cannot connect to resource '" + name() + "': " + e.getMessage());
            xa.errorCode = XAException.XAER_RMFAIL;
            xa.initCause(e);
            throw xa;
        }
        connects.incrementAndGet();
        try {
            return new Physical(connection, connection.getXAResource());
        } catch (SQLException | RuntimeException e) {
            closeQuietly(connection);
            XAException xa = new XAException("resource '" + name() + "' gave no XAResource: " + e.getMessage());
            xa.errorCode = XAException.XAER_RMFAIL;
            xa.initCause(e);
            throw xa;
        }
    }

    /**
     * True when a failed XA call leaves the connection's state uncertain, so that it must not be reused; false for
     * the normal answers about a branch (see the class comment).
     */
    static boolean leavesConnectionUncertain(Throwable failure) {
        if (!(failure instanceof XAException xa)) {
            return true;
        }
        int code = xa.errorCode;
        if (code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND) {
            return false;
        }
        switch (code) {
            case XAException.XAER_NOTA:
            case XAException.XA_HEURHAZ:
            case XAException.XA_HEURCOM:
            case XAException.XA_HEURRB:
            case XAException.XA_HEURMIX:
            case XAException.XA_RETRY:
            case XAException.XA_RDONLY:
            case XAException.XA_NOMIGRATE:
                return false;
            default:
                return true;
        }
    }

    private void closeQuietly(XAConnection connection) {
        try {
            connection.close();
        } catch (SQLException | RuntimeException e) {
            LOG.log(Level.DEBUG, "closing a connection of resource {0} failed: {1}", name(), e.getMessage());
        }
    }

    /** The logical connection of the physical connection a lease holds now; for tests. */
    static Connection logicalConnection(Lease lease) throws SQLException {
        ConnectionLease l = (ConnectionLease) lease;
        synchronized (l) {
            if (l.physical == null) {
                throw new SQLException("the lease is closed");
            }
            return l.physical.logical();
        }
    }

    @Override
    public String toString() {
        return "JdbcXaResource[" + config + "]";
    }

    /**
     * One physical connection: owned by the cache while idle, by exactly one lease otherwise; only its owner uses
     * it.
     */
    private final class Physical {
        final XAConnection connection;
        final XAResource driver;
        /** The logical connection, obtained once when first needed and kept for the connection's life. */
        private Connection logical;
        /** When it went idle ({@link System#nanoTime()}); written under the cache's lock. */
        long idleSince;

        Physical(XAConnection connection, XAResource driver) {
            this.connection = connection;
            this.driver = driver;
        }

        Connection logical() throws SQLException {
            if (logical == null) {
                logical = connection.getConnection();
            }
            return logical;
        }

        /** A cheap round trip: {@code isValid} on the logical connection; false when it fails in any way. */
        boolean isValid() {
            try {
                return logical().isValid(validationSeconds);
            } catch (SQLException | RuntimeException e) {
                return false;
            }
        }

        void close() {
            closeQuietly(connection);
        }
    }

    /** Some XA call, made on whichever driver XAResource the lease holds. */
    @FunctionalInterface
    private interface XaCall<T> {
        T on(XAResource driver) throws XAException;
    }

    /**
     * A lease on one physical connection. Calls and close are serialized on the lease, so a connection is never
     * given back while a call on it is running.
     */
    private final class ConnectionLease implements Lease {
        private final NamedJdbcXAResource xaResource;
        /** Guarded by this; null once the lease is closed. */
        private Physical physical;
        /** Guarded by this: taken from the cache and no call on it has come back yet. */
        private boolean unproven;
        /** Guarded by this: false once the connection's state is uncertain or it did branch work. */
        private boolean reusable = true;

        ConnectionLease(Physical physical, boolean fromCache) {
            this.physical = physical;
            this.unproven = fromCache;
            this.xaResource = new NamedJdbcXAResource(name(), supportsJoin(), new LeasedXAResource(), null);
        }

        @Override
        public NamedXAResource xaResource() {
            return xaResource;
        }

        synchronized <T> T call(XaCall<T> call) throws XAException {
            Physical p = held();
            boolean retryable = unproven;
            unproven = false;
            try {
                return call.on(p.driver);
            } catch (XAException | RuntimeException e) {
                if (!leavesConnectionUncertain(e)) {
                    throw e;
                }
                if (!retryable || p.isValid()) {
                    reusable = false;
                    throw e;
                }
                // The cached connection died while idle: nothing was done on it. Replace it and call once more.
                Physical fresh;
                try {
                    fresh = replace(p);
                } catch (XAException c) {
                    e.addSuppressed(c);
                    throw e;
                }
                LOG.log(Level.DEBUG, "a cached connection of resource {0} had died; the call was repeated on a new "
                        + "connection after: {1}", name(), e.toString());
                try {
                    return call.on(fresh.driver);
                } catch (XAException | RuntimeException again) {
                    if (leavesConnectionUncertain(again)) {
                        reusable = false;
                    }
                    throw again;
                }
            }
        }

        /** Closes the dead connection {@code p} and holds a new one instead. */
        private Physical replace(Physical p) throws XAException {
            Physical fresh;
            try {
                fresh = connect();
            } catch (XAException e) {
                reusable = false;
                throw e;
            }
            physical = fresh;
            p.close();
            return fresh;
        }

        /** A connection from the cache must pass {@code isValid}, else a new one must open; a new one has. */
        synchronized void checkAnswers() throws XAException {
            Physical p = held();
            boolean cached = unproven;
            unproven = false;
            if (cached && !p.isValid()) {
                replace(p);
            }
        }

        /** Marks the connection as one that must not go back to the cache (it did branch work). */
        synchronized void doesBranchWork() {
            reusable = false;
        }

        synchronized <T> T local(XaCall<T> call) throws XAException {
            return call.on(held().driver);
        }

        private Physical held() throws XAException {
            if (physical == null) {
                XAException e = new XAException("the lease on resource '" + name() + "' is closed");
                e.errorCode = XAException.XAER_RMFAIL;
                throw e;
            }
            return physical;
        }

        @Override
        public void close() {
            xaResource.release();
            Physical p;
            boolean keep;
            synchronized (this) {
                p = physical;
                keep = reusable;
                physical = null;
            }
            if (p != null) {
                giveBack(p, keep);
            }
        }

        /** The lease's calls on its current connection; the connection may be replaced by {@link #call}. */
        private final class LeasedXAResource implements XAResource {
            @Override
            public void start(Xid xid, int flags) throws XAException {
                doesBranchWork();
                call(d -> {
                    d.start(xid, flags);
                    return null;
                });
            }

            @Override
            public void end(Xid xid, int flags) throws XAException {
                call(d -> {
                    d.end(xid, flags);
                    return null;
                });
            }

            @Override
            public int prepare(Xid xid) throws XAException {
                return call(d -> d.prepare(xid));
            }

            @Override
            public void commit(Xid xid, boolean onePhase) throws XAException {
                call(d -> {
                    d.commit(xid, onePhase);
                    return null;
                });
            }

            @Override
            public void rollback(Xid xid) throws XAException {
                call(d -> {
                    d.rollback(xid);
                    return null;
                });
            }

            @Override
            public void forget(Xid xid) throws XAException {
                call(d -> {
                    d.forget(xid);
                    return null;
                });
            }

            @Override
            public Xid[] recover(int flag) throws XAException {
                return call(d -> d.recover(flag));
            }

            @Override
            public boolean isSameRM(XAResource other) throws XAException {
                XAResource unwrapped = other instanceof LeasedXAResource l ? l.outer().physicalDriver() : other;
                return local(d -> d.isSameRM(unwrapped));
            }

            @Override
            public int getTransactionTimeout() throws XAException {
                return local(XAResource::getTransactionTimeout);
            }

            @Override
            public boolean setTransactionTimeout(int seconds) throws XAException {
                return local(d -> d.setTransactionTimeout(seconds));
            }

            private ConnectionLease outer() {
                return ConnectionLease.this;
            }
        }

        private XAResource physicalDriver() throws XAException {
            synchronized (this) {
                return held().driver;
            }
        }
    }
}
