package dev.concord.xa.jdbc;

import static dev.concord.xa.jdbc.JdbcFixture.count;
import static dev.concord.xa.jdbc.JdbcFixture.insert;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.NamedXAResource;
import dev.concord.coordinator.RecoverableResource;
import dev.concord.recovery.xid.ConcordXid;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link JdbcXaResource} against the real databases: its leases, its names, and what TMJOIN really does. */
class JdbcXaResourceTest {
    private JdbcFixture fx;

    @BeforeEach
    void setUp() {
        fx = new JdbcFixture();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (fx.tm.getTransaction() != null) {
            fx.tm.rollback();
        }
        fx.cleanUp();
    }

    /** PostgreSQL sessions whose application name is {@code name}. */
    private int sessionsNamed(String name) throws Exception {
        try (Connection c = JdbcFixture.plain(fx.postgres);
                PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?")) {
            p.setString(1, name);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    private void awaitSessionsNamed(String name, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (sessionsNamed(name) != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, sessionsNamed(name), "sessions named " + name);
    }

    private ConcordXid newXid() {
        return new ConcordXid(fx.coordinator.xids().newGtrid(), 1);
    }

    @Test
    void withoutIdleConnectionsEveryLeaseIsANewPhysicalConnectionThatClosingTheLeaseCloses() throws Exception {
        String app = "concord-lease-" + JdbcFixture.hex(4);
        JdbcXaResource resource = new JdbcXaResource(JdbcFixture.postgresConfig("postgres-leases")
                .property("applicationName", app).phase2IdleConnections(0).build());

        RecoverableResource.Lease first = resource.open();
        RecoverableResource.Lease second = resource.open();
        awaitSessionsNamed(app, 2);
        first.close();
        awaitSessionsNamed(app, 1);
        assertNotNull(second.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN),
                "the other lease still works");
        second.close();
        awaitSessionsNamed(app, 0);
    }

    @Test
    void leasesGiveTheirConnectionsBackUntilTheResourceIsClosed() throws Exception {
        String app = "concord-cached-" + JdbcFixture.hex(4);
        JdbcXaResource resource = new JdbcXaResource(JdbcFixture.postgresConfig("postgres-cached")
                .property("applicationName", app).build());

        RecoverableResource.Lease first = resource.open();
        RecoverableResource.Lease second = resource.open();
        first.close();
        second.close();
        try (RecoverableResource.Lease third = resource.open()) {
            assertNotNull(third.xaResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN));
        }
        awaitSessionsNamed(app, 2);
        assertEquals(2, resource.connectionsOpened());

        resource.close();

        awaitSessionsNamed(app, 0);
    }

    @Test
    void genericResourceIsConfiguredThroughTheDataSourcesBeanProperties() throws Exception {
        String app = "concord-generic-" + JdbcFixture.hex(4);
        JdbcResourceConfig pg = fx.postgres.config();
        JdbcXaResource generic = new JdbcXaResource(JdbcResourceConfig.builder()
                .name("generic-postgres")
                .type("generic")
                .dataSourceClassName("org.postgresql.xa.PGXADataSource")
                .url(pg.url())
                .user(pg.user())
                .password(pg.password())
                .property("applicationName", app)
                .property("tcpKeepAlive", "true")
                .build());

        try (RecoverableResource.Lease lease = generic.open()) {
            awaitSessionsNamed(app, 1);
            NamedXAResource xa = assertInstanceOf(NamedXAResource.class, lease.xaResource());
            assertEquals("generic-postgres", xa.resourceName());
            assertFalse(xa.supportsJoin(), "a generic data source is not trusted to join");
        }
        generic.close();
        awaitSessionsNamed(app, 0);
    }

    @Test
    void leasesAreNamedAfterTheResourceAndClaimJoinOnlyOnPostgres() throws Exception {
        try (RecoverableResource.Lease m = fx.mariaDb.open(); RecoverableResource.Lease p = fx.postgres.open()) {
            NamedXAResource maria = assertInstanceOf(NamedXAResource.class, m.xaResource());
            NamedXAResource pg = assertInstanceOf(NamedXAResource.class, p.xaResource());
            assertEquals(JdbcFixture.MARIADB, maria.resourceName());
            assertEquals(JdbcFixture.POSTGRES, pg.resourceName());
            assertEquals(BranchKind.DATABASE, maria.kind());
            assertFalse(maria.supportsJoin());
            assertTrue(pg.supportsJoin());
        }
        assertEquals(BranchKind.DATABASE, fx.mariaDb.kind());
    }

    @Test
    void mariaDbRefusesJoinOfAnEndedBranchOnTheSameConnection() throws Exception {
        ConcordXid xid = newXid();
        try (RecoverableResource.Lease lease = fx.mariaDb.open()) {
            XAResource xa = lease.xaResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            xa.end(xid, XAResource.TMSUCCESS);

            assertThrows(XAException.class, () -> xa.start(xid, XAResource.TMJOIN));

            xa.rollback(xid);
        }
        assertFalse(fx.mariaDb.supportsJoin());
    }

    @Test
    void postgresJoinsAnEndedBranchOnTheSameConnection() throws Exception {
        ConcordXid xid = newXid();
        try (RecoverableResource.Lease lease = fx.postgres.open()) {
            XAResource xa = lease.xaResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            xa.end(xid, XAResource.TMSUCCESS);

            xa.start(xid, XAResource.TMJOIN);
            xa.end(xid, XAResource.TMSUCCESS);

            assertEquals(XAResource.XA_OK, xa.prepare(xid));
            xa.rollback(xid);
        }
        assertTrue(fx.postgres.supportsJoin());
    }

    @Test
    void theEngineJoinsAReenlistedPostgresConnectionIntoItsExistingBranch() throws Exception {
        EnlistingDataSource pg = fx.pool(fx.postgres);
        String table = fx.table(fx.postgres);
        fx.tm.begin();
        GlobalTransaction tx = fx.tm.currentTransaction();
        try (Connection c = pg.getConnection()) {
            insert(c, table, 1, "before the delist");
            XAResource enlisted = tx.branches().get(0).xaResource();
            tx.delistResource(enlisted, XAResource.TMSUCCESS);
            tx.enlistResource(enlisted);
            insert(c, table, 2, "after the join");
        }
        assertEquals(1, tx.branches().size(), "the second enlistment joined the branch");

        fx.tm.commit();

        assertEquals(2, count(fx.postgres, table));
    }

    @Test
    void openFailsWithRmfailWhenTheDatabaseCannotBeReached() {
        JdbcXaResource unreachable = new JdbcXaResource(JdbcFixture.mariaDbConfig("mariadb-unreachable")
                .url("jdbc:mysql://127.0.0.1:1/concord")
                .password("not-shown-anywhere")
                .connectTimeout(Duration.ofSeconds(2))
                .build());

        XAException e = assertThrows(XAException.class, unreachable::open);

        assertEquals(XAException.XAER_RMFAIL, e.errorCode);
        assertTrue(e.getMessage().contains("mariadb-unreachable"), e.getMessage());
        assertFalse(e.getMessage().contains("not-shown-anywhere"), e.getMessage());
        assertFalse(unreachable.toString().contains("not-shown-anywhere"), unreachable.toString());
    }
}
