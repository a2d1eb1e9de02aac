package dev.concord.xa.jdbc;

import static dev.concord.xa.jdbc.JdbcFixture.count;
import static dev.concord.xa.jdbc.JdbcFixture.insert;
import static dev.concord.xa.jdbc.JdbcFixture.sessionId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.TxState;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.xa.conformance.XaTestDatabases;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two-phase commit across the real MariaDB and PostgreSQL through the embedded JTA API and {@link EnlistingDataSource}:
 * commit, rollback, a no vote, a timeout, participant-prepared branches, and what the pool hands out afterwards.
 */
class EnlistingDataSourceTest {
    private JdbcFixture fx;
    private EnlistingDataSource maria;
    private EnlistingDataSource pg;
    private String mariaTable;
    private String pgTable;

    @BeforeEach
    void setUp() throws Exception {
        fx = new JdbcFixture();
        maria = fx.pool(fx.mariaDb);
        pg = fx.pool(fx.postgres);
        mariaTable = fx.table(fx.mariaDb);
        pgTable = fx.table(fx.postgres);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (fx.tm.getTransaction() != null) {
            fx.tm.rollback();
        }
        fx.cleanUp();
    }

    private void assertNothingPrepared() throws Exception {
        assertTrue(fx.ourPrepared(fx.mariaDb).isEmpty(), "nothing of ours is prepared in MariaDB");
        assertTrue(fx.ourPrepared(fx.postgres).isEmpty(), "nothing of ours is prepared in PostgreSQL");
    }

    @Test
    void commitMakesTheRowsVisibleInBothDatabases() throws Exception {
        fx.tm.begin();
        GlobalTransaction tx = fx.tm.currentTransaction();
        try (Connection m = maria.getConnection(); Connection p = pg.getConnection()) {
            insert(m, mariaTable, 1, "committed");
            insert(p, pgTable, 1, "committed");
        }
        assertEquals(2, tx.branches().size(), "one branch per database");
        assertEquals(0, count(fx.mariaDb, mariaTable), "nothing is visible before commit");

        fx.tm.commit();

        assertEquals(TxState.COMMITTED, tx.state());
        assertEquals(1, count(fx.mariaDb, mariaTable));
        assertEquals(1, count(fx.postgres, pgTable));
        assertTrue(fx.log.unfinishedDecisions().isEmpty(), "the decision was logged and ended");
        assertNothingPrepared();
    }

    @Test
    void rollbackLeavesTheRowsInNeitherDatabase() throws Exception {
        fx.tm.begin();
        try (Connection m = maria.getConnection(); Connection p = pg.getConnection()) {
            insert(m, mariaTable, 1, "rolled back");
            insert(p, pgTable, 1, "rolled back");
        }

        fx.tm.rollback();

        assertEquals(0, count(fx.mariaDb, mariaTable));
        assertEquals(0, count(fx.postgres, pgTable));
        assertNothingPrepared();
    }

    @Test
    void deferredConstraintViolatedAtPrepareRollsBackBothDatabases() throws Exception {
        JdbcXaResource pgSingle = new JdbcXaResource(JdbcFixture.postgresConfig("postgres-deferred").maxPoolSize(1).build());
        EnlistingDataSource refusing = fx.pool(pgSingle);
        String deferred = fx.table(pgSingle, "(id INT PRIMARY KEY, v VARCHAR(64) NOT NULL, "
                + "CONSTRAINT $TABLE_v UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)");
        fx.tm.begin();
        long refusingSession;
        try (Connection m = maria.getConnection(); Connection p = refusing.getConnection()) {
            refusingSession = sessionId(p);
            insert(m, mariaTable, 1, "fine");
            insert(p, deferred, 1, "duplicate");
            insert(p, deferred, 2, "duplicate");
        }

        RollbackException e = assertThrows(RollbackException.class, fx.tm::commit);

        assertTrue(e.getMessage().contains("postgres-deferred"), "the refusing branch is named: " + e.getMessage());
        assertEquals(0, count(fx.mariaDb, mariaTable));
        assertEquals(0, count(pgSingle, deferred));
        assertNothingPrepared();
        try (Connection p = refusing.getConnection()) {
            assertTrue(sessionId(p) != refusingSession, "the connection whose prepare failed was closed, not pooled");
            assertTrue(p.getAutoCommit());
        }
    }

    @Test
    void timeoutRollsBackBothDatabasesAndLeavesNothingPrepared() throws Exception {
        fx.tm.setTransactionTimeout(1);
        fx.tm.begin();
        fx.tm.setTransactionTimeout(0);
        GlobalTransaction tx = fx.tm.currentTransaction();
        Connection kept = maria.getConnection();
        insert(kept, mariaTable, 1, "too late");
        try (Connection p = pg.getConnection()) {
            insert(p, pgTable, 1, "too late");
        }

        assertEquals(TxState.ROLLED_BACK, tx.completion().get(10, TimeUnit.SECONDS));
        assertTrue(tx.isTimedOut());
        SQLException refused = assertThrows(SQLException.class, maria::getConnection);
        assertTrue(refused.getMessage().contains("timed out"), refused.getMessage());
        assertThrows(SQLException.class, () -> insert(kept, mariaTable, 2, "after the rollback"),
                "a handle kept over the timeout is closed");
        assertThrows(RollbackException.class, fx.tm::commit);

        assertEquals(Status.STATUS_NO_TRANSACTION, fx.tm.getStatus());
        assertEquals(0, count(fx.mariaDb, mariaTable));
        assertEquals(0, count(fx.postgres, pgTable));
        assertNothingPrepared();
        try (Connection m = maria.getConnection()) {
            assertTrue(m.getAutoCommit(), "the pool hands out ordinary connections again");
        }
    }

    @Test
    void branchPreparedByAParticipantWithRawSqlIsCommittedByTheCoordinator() throws Exception {
        fx.tm.begin();
        GlobalTransaction tx = fx.tm.currentTransaction();
        ConcordXid xid = tx.reserveBranchXid();
        try (Connection raw = JdbcFixture.plain(fx.mariaDb); Statement s = raw.createStatement()) {
            s.execute("XA START " + sqlXid(xid));
            insert(raw, mariaTable, 1, "participant");
            s.execute("XA END " + sqlXid(xid));
            s.execute("XA PREPARE " + sqlXid(xid));
        }
        assertEquals(1, fx.ourPrepared(fx.mariaDb).size(), "the participant left its branch prepared");
        tx.registerPreparedBranch(JdbcFixture.MARIADB, xid.branch());
        try (Connection p = pg.getConnection()) {
            insert(p, pgTable, 1, "enlisted");
        }

        fx.tm.commit();

        assertEquals(TxState.COMMITTED, tx.state());
        assertEquals(1, count(fx.mariaDb, mariaTable));
        assertEquals(1, count(fx.postgres, pgTable));
        assertNothingPrepared();
    }

    @Test
    void branchPreparedByAParticipantOnItsOwnXaConnectionIsRolledBackByTheCoordinator() throws Exception {
        fx.tm.begin();
        GlobalTransaction tx = fx.tm.currentTransaction();
        ConcordXid xid = tx.reserveBranchXid();
        XAConnection participant = XaTestDatabases.postgres().getXAConnection();
        try {
            XAResource xa = participant.getXAResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            insert(participant.getConnection(), pgTable, 1, "participant");
            xa.end(xid, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, xa.prepare(xid));
        } finally {
            participant.close();
        }
        assertEquals(1, fx.ourPrepared(fx.postgres).size(), "the participant left its branch prepared");
        tx.registerPreparedBranch(JdbcFixture.POSTGRES, xid.branch());
        try (Connection m = maria.getConnection()) {
            insert(m, mariaTable, 1, "enlisted");
        }

        fx.tm.rollback();

        assertEquals(TxState.ROLLED_BACK, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(0, count(fx.mariaDb, mariaTable));
        assertEquals(0, count(fx.postgres, pgTable));
        assertNothingPrepared();
    }

    @Test
    void theSameTransactionGetsItsConnectionAgainAndClosingAHandleDoesNotEndTheBranch() throws Exception {
        fx.tm.begin();
        GlobalTransaction tx = fx.tm.currentTransaction();
        long session;
        try (Connection first = maria.getConnection()) {
            session = sessionId(first);
            insert(first, mariaTable, 1, "first handle");
        }
        try (Connection second = maria.getConnection()) {
            assertEquals(session, sessionId(second), "the second handle is on the same physical connection");
            insert(second, mariaTable, 2, "second handle");
        }
        assertEquals(1, tx.branches().size(), "one branch for the data source");
        assertEquals(0, count(fx.mariaDb, mariaTable), "closing the handles committed nothing");

        fx.tm.commit();

        assertEquals(2, count(fx.mariaDb, mariaTable));
    }

    @Test
    void connectionHandedOutAfterATransactionIsNotInsideABranch() throws Exception {
        for (JdbcResourceConfig.Builder b : new JdbcResourceConfig.Builder[] {
                JdbcFixture.mariaDbConfig("mariadb-single"), JdbcFixture.postgresConfig("postgres-single")}) {
            JdbcXaResource resource = new JdbcXaResource(b.maxPoolSize(1).build());
            EnlistingDataSource single = fx.pool(resource);
            String table = fx.table(resource);
            long session;

            fx.tm.begin();
            try (Connection c = single.getConnection()) {
                session = sessionId(c);
                insert(c, table, 1, "in a committed branch");
            }
            fx.tm.commit();
            fx.tm.begin();
            try (Connection c = single.getConnection()) {
                assertEquals(session, sessionId(c), "the pool of one connection reuses it");
                insert(c, table, 2, "in a rolled-back branch");
            }
            fx.tm.rollback();

            try (Connection c = single.getConnection()) {
                assertEquals(session, sessionId(c), resource.name() + ": the same connection, outside a transaction");
                assertTrue(c.getAutoCommit(), resource.name() + ": auto-commit is back on");
                insert(c, table, 3, "auto-committed");
                assertEquals(2, count(resource, table), resource.name() + ": the insert committed by itself");
            }
            assertTrue(fx.ourPrepared(resource).isEmpty(), resource.name() + ": XA RECOVER shows nothing of ours");
        }
    }

    @Test
    void exhaustedPoolFailsWithAClearMessageAfterTheAcquireTimeout() throws Exception {
        JdbcXaResource resource = new JdbcXaResource(JdbcFixture.mariaDbConfig("mariadb-exhausted")
                .maxPoolSize(1).acquireTimeout(Duration.ofMillis(300)).build());
        EnlistingDataSource single = fx.pool(resource);
        try (Connection held = single.getConnection()) {
            long start = System.nanoTime();
            SQLException e = assertThrows(SQLTransientConnectionException.class, single::getConnection);
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertTrue(waitedMillis >= 250, "waited for the acquire timeout, not " + waitedMillis + " ms");
            assertTrue(e.getMessage().contains("exhausted") && e.getMessage().contains("maxPoolSize")
                    && e.getMessage().contains("mariadb-exhausted"), e.getMessage());
            assertFalse(held.isClosed());
        }
        try (Connection again = single.getConnection()) {
            assertTrue(again.isValid(1), "a returned connection is handed out again");
        }
    }

    @Test
    void anEnlistedHandleRefusesLocalCommitAndAutoCommit() throws Exception {
        fx.tm.begin();
        try (Connection m = maria.getConnection()) {
            insert(m, mariaTable, 1, "in a branch");
            assertThrows(SQLException.class, m::commit);
            assertThrows(SQLException.class, () -> m.setAutoCommit(true));
        }
        fx.tm.rollback();

        assertEquals(0, count(fx.mariaDb, mariaTable));
        assertNothingPrepared();
    }

    @Test
    void aConnectionTakenBeforeTheTransactionBeganRefusesWorkInsideIt() throws Exception {
        try (Connection before = maria.getConnection()) {
            fx.tm.begin();
            assertThrows(SQLException.class, () -> insert(before, mariaTable, 1, "deferred enlistment"));
            fx.tm.rollback();
        }
        assertEquals(0, count(fx.mariaDb, mariaTable));
    }

    @Test
    void aRollbackOnlyTransactionGetsNoNewConnection() throws Exception {
        fx.tm.begin();
        fx.tm.setRollbackOnly();

        SQLException e = assertThrows(SQLException.class, pg::getConnection);

        assertTrue(e.getMessage().contains("rollback-only"), e.getMessage());
        fx.tm.rollback();
        try (Connection p = pg.getConnection()) {
            assertTrue(p.getAutoCommit(), "the refused connection went back to the pool unharmed");
        }
    }

    @Test
    void mariaDbTransactionsSendNoAutoCommitSwitchesYetTheConnectionSaysOffInsideAndOnOutside() throws Exception {
        JdbcXaResource single = new JdbcXaResource(JdbcFixture.mariaDbConfig("maria-autocommit").maxPoolSize(1).build());
        EnlistingDataSource ds = fx.pool(single);
        String table = fx.table(single);
        long sessionBefore;
        long switchesBefore;
        try (Connection c = ds.getConnection()) {
            sessionBefore = sessionId(c);
            switchesBefore = sessionStatus(c, "Com_set_option");
        }
        for (int i = 1; i <= 5; i++) {
            fx.tm.begin();
            try (Connection c = ds.getConnection()) {
                assertFalse(c.getAutoCommit(), "inside a transaction the connection says auto-commit is off");
                insert(c, table, i, "in a branch");
            }
            if (i == 5) {
                fx.tm.rollback();
            } else {
                fx.tm.commit();
            }
        }
        try (Connection c = ds.getConnection()) {
            assertEquals(sessionBefore, sessionId(c), "the same pooled connection served every transaction");
            assertEquals(switchesBefore, sessionStatus(c, "Com_set_option"),
                    "no SET statement reached MariaDB for the five transactions");
            assertTrue(c.getAutoCommit(), "back in the pool, the connection is in auto-commit mode again");
            insert(c, table, 100, "auto-committed");
        }
        assertEquals(5, count(single, table), "four committed rows, the rolled-back one absent, the auto-committed "
                + "one visible at once");
    }

    /** A session status counter of MariaDB, read on the connection itself. */
    private static long sessionStatus(Connection c, String name) throws SQLException {
        try (Statement s = c.createStatement();
                java.sql.ResultSet r = s.executeQuery("SHOW SESSION STATUS LIKE '" + name + "'")) {
            assertTrue(r.next(), name);
            return r.getLong(2);
        }
    }

    /** The XID in MariaDB's SQL syntax: {@code X'gtrid', X'bqual', formatId}. */
    private static String sqlXid(ConcordXid xid) {
        HexFormat hex = HexFormat.of();
        return "X'" + hex.formatHex(xid.getGlobalTransactionId()) + "', X'" + hex.formatHex(xid.getBranchQualifier())
                + "', " + xid.getFormatId();
    }
}
