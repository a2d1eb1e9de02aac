package dev.concord.xa.jdbc;

import static dev.concord.xa.jdbc.JdbcFixture.count;
import static dev.concord.xa.jdbc.JdbcFixture.insert;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.RecoverableResource;
import dev.concord.recovery.xid.ConcordXid;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The idle-connection cache of {@link JdbcXaResource#open()} against the real databases. Which physical connection
 * a lease holds is seen from the server: MariaDB's {@code CONNECTION_ID()} and PostgreSQL's backend pid, asked
 * through the connection's logical handle, and whether that session still exists in the server's process list.
 */
class JdbcXaResourceCacheTest {
    /** The two databases, each with the fixture's resource that plain connections and tables go through. */
    enum Db {
        MARIADB, POSTGRES;

        JdbcResourceConfig.Builder config(String name) {
            return this == MARIADB ? JdbcFixture.mariaDbConfig(name) : JdbcFixture.postgresConfig(name);
        }

        JdbcXaResource fixtureResource(JdbcFixture fx) {
            return this == MARIADB ? fx.mariaDb : fx.postgres;
        }
    }

    private JdbcFixture fx;
    private final List<JdbcXaResource> resources = new ArrayList<>();
    private final List<RecoverableResource.Lease> leases = new ArrayList<>();

    @BeforeEach
    void setUp() {
        fx = new JdbcFixture();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (RecoverableResource.Lease l : leases) {
            l.close();
        }
        for (JdbcXaResource r : resources) {
            r.close();
        }
        assertTrue(fx.cleanUp().isEmpty(), "nothing of ours was left prepared");
    }

    private JdbcXaResource resource(Db db, UnaryOperator<JdbcResourceConfig.Builder> settings) {
        return keep(new JdbcXaResource(settings.apply(db.config("cache-" + db.name().toLowerCase())).build()));
    }

    private JdbcXaResource keep(JdbcXaResource r) {
        resources.add(r);
        return r;
    }

    private RecoverableResource.Lease open(JdbcXaResource r) throws XAException {
        RecoverableResource.Lease l = r.open();
        leases.add(l);
        return l;
    }

    /** The database session of the physical connection the lease holds now. */
    private static long session(RecoverableResource.Lease lease) throws SQLException {
        return JdbcFixture.sessionId(JdbcXaResource.logicalConnection(lease));
    }

    private static boolean alive(Db db, JdbcXaResource via, long session) throws SQLException {
        String sql = db == Db.MARIADB ? "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?"
                : "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?";
        try (Connection c = JdbcFixture.plain(via); PreparedStatement p = c.prepareStatement(sql)) {
            p.setLong(1, session);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1) > 0;
            }
        }
    }

    /** How many of the sessions the server still has, once that number has settled on {@code expected} (5 s). */
    private int awaitAlive(Db db, Set<Long> sessions, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int n;
        do {
            n = 0;
            for (long s : sessions) {
                n += alive(db, db.fixtureResource(fx), s) ? 1 : 0;
            }
            if (n == expected) {
                return n;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return n;
    }

    /** Ends the session server-side ({@code KILL} on MariaDB, {@code pg_terminate_backend} on PostgreSQL). */
    private void kill(Db db, long session) throws Exception {
        try (Connection c = JdbcFixture.plain(db.fixtureResource(fx)); Statement s = c.createStatement()) {
            if (db == Db.MARIADB) {
                s.execute("KILL " + session);
            } else {
                try (ResultSet r = s.executeQuery("SELECT pg_terminate_backend(" + session + ")")) {
                    r.next();
                    assertTrue(r.getBoolean(1), "backend " + session + " terminated");
                }
            }
        }
        assertEquals(0, awaitAlive(db, Set.of(session), 0), "session " + session + " is gone");
    }

    /**
     * Prepares a branch that inserts one row, on a connection of its own that is then closed, as a participant
     * does; returns its XID once the server has ended that session (MariaDB answers XAER_NOTA to a commit from
     * elsewhere while the preparing session is still there).
     */
    private ConcordXid preparedBranch(Db db, String table, int id) throws Exception {
        ConcordXid xid = new ConcordXid(fx.coordinator.xids().newGtrid(), 1);
        XAConnection a = XaDataSources.create(db.fixtureResource(fx).config()).getXAConnection();
        long preparing;
        try {
            XAResource xa = a.getXAResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            Connection c = a.getConnection();
            preparing = JdbcFixture.sessionId(c);
            insert(c, table, id, "branch " + id);
            xa.end(xid, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, xa.prepare(xid));
        } finally {
            a.close();
        }
        assertEquals(0, awaitAlive(db, Set.of(preparing), 0), "the preparing session ended");
        return xid;
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void twoSequentialLeasesUseTheSamePhysicalConnection(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);

        RecoverableResource.Lease first = open(r);
        long s1 = session(first);
        first.close();
        assertEquals(1, r.idleConnections());
        RecoverableResource.Lease second = open(r);
        long s2 = session(second);
        second.close();

        assertEquals(s1, s2, "the second lease got the first one's connection back");
        assertEquals(1, r.connectionsOpened());
        assertTrue(alive(db, r, s1), "the idle connection stays open");
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void phaseTwoThroughAReusedConnectionCommitsAndRollsBack(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);
        String table = fx.table(db.fixtureResource(fx));
        Set<Long> sessions = new HashSet<>();

        for (int id = 1; id <= 4; id++) {
            ConcordXid xid = preparedBranch(db, table, id);
            try (RecoverableResource.Lease lease = r.open()) {
                sessions.add(session(lease));
                if (id <= 2) {
                    lease.xaResource().commit(xid, false);
                } else {
                    lease.xaResource().rollback(xid);
                }
            }
        }

        assertEquals(1, sessions.size(), "all four phase-2 calls went through one connection: " + sessions);
        assertEquals(1, r.connectionsOpened());
        assertEquals(2, count(db.fixtureResource(fx), table), "the two committed rows, not the rolled-back ones");
        assertTrue(fx.ourPrepared(db.fixtureResource(fx)).isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void normalAnswersAboutABranchKeepTheConnection(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);
        ConcordXid unknown = new ConcordXid(fx.coordinator.xids().newGtrid(), 1);

        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
            XAException commit = assertThrows(XAException.class, () -> lease.xaResource().commit(unknown, false));
            assertEquals(XAException.XAER_NOTA, commit.errorCode);
            XAException rollback = assertThrows(XAException.class, () -> lease.xaResource().rollback(unknown));
            assertEquals(XAException.XAER_NOTA, rollback.errorCode);
        }
        String table = fx.table(db.fixtureResource(fx));
        ConcordXid xid = preparedBranch(db, table, 1);
        try (RecoverableResource.Lease lease = r.open()) {
            assertEquals(s1, session(lease), "XAER_NOTA left the connection in the cache");
            lease.xaResource().commit(xid, false);
        }
        assertEquals(1, count(db.fixtureResource(fx), table));
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void aConnectionWhoseXaCallFailedIsClosedNotReused(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);

        RecoverableResource.Lease first = open(r);
        long s1 = session(first);
        kill(db, s1);
        XAException failed = assertThrows(XAException.class,
                () -> first.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN));
        assertTrue(JdbcXaResource.leavesConnectionUncertain(failed), "code " + failed.errorCode);
        first.close();

        assertEquals(0, r.idleConnections(), "the failed connection was not kept");
        try (RecoverableResource.Lease second = r.open()) {
            assertNotEquals(s1, session(second));
            assertTrue(second.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN) != null);
        }
        assertEquals(2, r.connectionsOpened());
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void aCachedConnectionKilledWhileIdleFailsValidationAndANewOneServesPhaseTwo(Db db) throws Exception {
        JdbcXaResource r = keep(new JdbcXaResource(db.config("cache-validated").build(), Duration.ofMillis(50)));
        String table = fx.table(db.fixtureResource(fx));
        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
        }
        kill(db, s1);
        ConcordXid xid = preparedBranch(db, table, 1);
        Thread.sleep(100);

        try (RecoverableResource.Lease lease = r.open()) {
            long s2 = session(lease);
            assertNotEquals(s1, s2, "validation replaced the dead connection before the lease got it");
            lease.xaResource().commit(xid, false);
        }

        assertEquals(2, r.connectionsOpened());
        assertEquals(1, count(db.fixtureResource(fx), table));
        assertEquals(1, r.idleConnections(), "the new connection went back to the cache");
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void aCachedConnectionThatDiedTooRecentlyForValidationIsReplacedAndTheCallRepeated(Db db) throws Exception {
        // No validation within the hour: the dead connection reaches the lease, and the commit on it fails.
        JdbcXaResource r = keep(new JdbcXaResource(db.config("cache-repeat").build(), Duration.ofHours(1)));
        String table = fx.table(db.fixtureResource(fx));
        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
        }
        kill(db, s1);
        ConcordXid commit = preparedBranch(db, table, 1);
        ConcordXid rollback = preparedBranch(db, table, 2);

        long s2;
        try (RecoverableResource.Lease lease = r.open()) {
            lease.xaResource().commit(commit, false);
            s2 = session(lease);
        }
        assertNotEquals(s1, s2, "the commit went through a new connection");
        assertEquals(1, count(db.fixtureResource(fx), table));

        // The same for a rollback; and the new connection was kept.
        long s3;
        try (RecoverableResource.Lease lease = r.open()) {
            assertEquals(s2, session(lease));
            kill(db, s2);
            lease.xaResource().rollback(rollback);
            s3 = session(lease);
        }
        assertNotEquals(s2, s3);
        assertEquals(1, count(db.fixtureResource(fx), table));
        assertTrue(fx.ourPrepared(db.fixtureResource(fx)).isEmpty());
        assertEquals(3, r.connectionsOpened());
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void aLiveConnectionIsNotReplacedWhenItsFirstCallFails(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);
        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
        }
        ConcordXid xid = new ConcordXid(fx.coordinator.xids().newGtrid(), 1);

        try (RecoverableResource.Lease lease = r.open()) {
            assertEquals(s1, session(lease));
            // end() of a branch that was never started: an uncertain answer from a connection that is alive.
            XAException e = assertThrows(XAException.class, () -> lease.xaResource().end(xid, XAResource.TMSUCCESS));
            assertTrue(JdbcXaResource.leavesConnectionUncertain(e), "code " + e.errorCode);
            assertEquals(s1, session(lease), "the call was not repeated elsewhere");
        }

        assertEquals(1, r.connectionsOpened());
        assertEquals(0, r.idleConnections(), "the connection was closed after the failure");
        assertEquals(0, awaitAlive(db, Set.of(s1), 0));
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void aConnectionIdleLongerThanTheTimeoutIsClosedAndReplaced(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b.phase2IdleTimeout(Duration.ofMillis(100)));
        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
        }
        Thread.sleep(250);

        try (RecoverableResource.Lease lease = r.open()) {
            assertNotEquals(s1, session(lease));
        }

        assertEquals(0, awaitAlive(db, Set.of(s1), 0), "the expired connection was closed");
        assertEquals(2, r.connectionsOpened());
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void connectionsBeyondTheCapAreClosedWhenTheirLeasesEnd(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b.phase2IdleConnections(2));
        List<RecoverableResource.Lease> held = new ArrayList<>();
        Set<Long> sessions = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            RecoverableResource.Lease l = open(r);
            held.add(l);
            sessions.add(session(l));
        }
        assertEquals(5, sessions.size(), "five leases at once, five connections");
        assertEquals(5, awaitAlive(db, sessions, 5));

        for (RecoverableResource.Lease l : held) {
            l.close();
        }

        assertEquals(2, awaitAlive(db, sessions, 2), "the server keeps only the cap's worth");
        assertEquals(2, r.idleConnections());
        Set<Long> reused = new HashSet<>();
        try (RecoverableResource.Lease a = r.open(); RecoverableResource.Lease b = r.open()) {
            reused.add(session(a));
            reused.add(session(b));
        }
        assertEquals(2, reused.size());
        assertTrue(sessions.containsAll(reused), "the two kept connections were handed out again");
        assertEquals(5, r.connectionsOpened());
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void closeClosesTheIdleConnectionsAndLaterLeasesAreNotCached(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);
        Set<Long> sessions = new HashSet<>();
        RecoverableResource.Lease out = open(r);
        sessions.add(session(out));
        for (int i = 0; i < 2; i++) {
            RecoverableResource.Lease l = open(r);
            sessions.add(session(l));
        }
        for (RecoverableResource.Lease l : List.copyOf(leases.subList(1, 3))) {
            l.close();
        }
        assertEquals(2, r.idleConnections());

        r.close();

        assertEquals(0, r.idleConnections());
        long outSession = session(out);
        Set<Long> idleOnes = new HashSet<>(sessions);
        idleOnes.remove(outSession);
        assertEquals(0, awaitAlive(db, idleOnes, 0), "the idle connections are closed");
        assertTrue(alive(db, r, outSession), "a lease still out keeps its connection until it ends");
        out.close();
        assertEquals(0, awaitAlive(db, Set.of(outSession), 0), "... and then it is closed, not cached");

        long after;
        try (RecoverableResource.Lease lease = r.open()) {
            after = session(lease);
            assertTrue(lease.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN) != null);
        }
        assertFalse(sessions.contains(after));
        assertEquals(0, r.idleConnections());
        assertEquals(0, awaitAlive(db, Set.of(after), 0), "a lease after close() closes its connection");
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void noIdleConnectionsMeansANewConnectionForEveryLease(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b.phase2IdleConnections(0));
        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
        }
        assertEquals(0, awaitAlive(db, Set.of(s1), 0));
        try (RecoverableResource.Lease lease = r.open()) {
            assertNotEquals(s1, session(lease));
        }
        assertEquals(2, r.connectionsOpened());
        assertEquals(0, r.idleConnections());
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void aLeaseThatDidBranchWorkDoesNotGoBackToTheCache(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);
        String table = fx.table(db.fixtureResource(fx));
        ConcordXid xid = new ConcordXid(fx.coordinator.xids().newGtrid(), 1);
        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
            lease.xaResource().start(xid, XAResource.TMNOFLAGS);
            insert(JdbcXaResource.logicalConnection(lease), table, 1, "branch work");
            lease.xaResource().end(xid, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, lease.xaResource().prepare(xid));
        }

        assertEquals(0, r.idleConnections());
        assertEquals(0, awaitAlive(db, Set.of(s1), 0), "the connection that prepared the branch is gone");
        try (RecoverableResource.Lease lease = r.open()) {
            lease.xaResource().commit(xid, false);
        }
        assertEquals(1, count(db.fixtureResource(fx), table));
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void aLeaseHoldsItsConnectionAloneAndLosesItWhenClosed(Db db) throws Exception {
        JdbcXaResource r = resource(db, b -> b);
        RecoverableResource.Lease first = open(r);
        RecoverableResource.Lease second = open(r);
        assertNotEquals(session(first), session(second), "two leases at once never share a connection");
        XAResource firstXa = first.xaResource();
        first.close();

        RecoverableResource.Lease third = open(r);
        XAException e = assertThrows(XAException.class,
                () -> firstXa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN));
        assertEquals(XAException.XAER_RMFAIL, e.errorCode, "a closed lease cannot reach the connection any more");
        assertThrows(SQLException.class, () -> JdbcXaResource.logicalConnection(first));
        assertTrue(third.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN) != null);
        first.close();
        assertEquals(0, r.idleConnections(), "closing a lease twice gives nothing back twice");
    }

    @ParameterizedTest
    @EnumSource(Db.class)
    void readinessReplacesACachedConnectionThatDied(Db db) throws Exception {
        JdbcXaResource r = keep(new JdbcXaResource(db.config("cache-ready").build(), Duration.ofHours(1)));
        long s1;
        try (RecoverableResource.Lease lease = r.open()) {
            s1 = session(lease);
        }
        r.checkReachable();
        assertEquals(1, r.connectionsOpened(), "a live cached connection answers");
        kill(db, s1);

        r.checkReachable();

        assertEquals(2, r.connectionsOpened());
        assertEquals(1, r.idleConnections());
        try (RecoverableResource.Lease lease = r.open()) {
            assertNotEquals(s1, session(lease));
        }
    }

    @Test
    void readinessFailsWhenTheDatabaseCannotBeReached() {
        JdbcXaResource unreachable = keep(new JdbcXaResource(JdbcFixture.mariaDbConfig("cache-unreachable")
                .url("jdbc:mysql://127.0.0.1:1/concord").connectTimeout(Duration.ofSeconds(2)).build()));

        XAException e = assertThrows(XAException.class, unreachable::checkReachable);

        assertEquals(XAException.XAER_RMFAIL, e.errorCode);
    }

    @Test
    void onlyNormalAnswersAboutABranchLeaveAConnectionReusable() {
        for (int normal : new int[] {XAException.XAER_NOTA, XAException.XA_RBROLLBACK, XAException.XA_RBTIMEOUT,
                XAException.XA_RBEND, XAException.XA_HEURCOM, XAException.XA_HEURRB, XAException.XA_HEURMIX,
                XAException.XA_HEURHAZ, XAException.XA_RETRY, XAException.XA_RDONLY, XAException.XA_NOMIGRATE}) {
            assertFalse(JdbcXaResource.leavesConnectionUncertain(new XAException(normal)), "code " + normal);
        }
        for (int uncertain : new int[] {XAException.XAER_RMFAIL, XAException.XAER_RMERR, XAException.XAER_PROTO,
                XAException.XAER_INVAL, XAException.XAER_OUTSIDE, XAException.XAER_ASYNC, XAException.XAER_DUPID,
                0, 42}) {
            assertTrue(JdbcXaResource.leavesConnectionUncertain(new XAException(uncertain)), "code " + uncertain);
        }
        assertTrue(JdbcXaResource.leavesConnectionUncertain(new IllegalStateException("driver bug")));
    }
}
