package dev.concord.xa.jdbc;

import static dev.concord.xa.jdbc.JdbcFixture.count;
import static dev.concord.xa.jdbc.JdbcFixture.insert;
import static dev.concord.xa.jdbc.JdbcFixture.prepared;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.RecoveryManager;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.xa.conformance.XaTestDatabases;
import java.util.List;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RecoveryManager} against the real databases through {@link JdbcXaResource}: branches prepared by a
 * connection that is gone (as after a crash), found by the resources' recovery scans.
 */
class JdbcRecoveryTest {
    private JdbcFixture fx;
    private String mariaTable;
    private String pgTable;

    @BeforeEach
    void setUp() throws Exception {
        fx = new JdbcFixture();
        mariaTable = fx.table(fx.mariaDb);
        pgTable = fx.table(fx.postgres);
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.cleanUp();
    }

    /** Prepares a branch that inserts one row, on its own connection, and closes the connection. */
    private static void prepareAndDisconnect(XADataSource dataSource, ConcordXid xid, String table, int id)
            throws Exception {
        XAConnection connection = dataSource.getXAConnection();
        try {
            XAResource xa = connection.getXAResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            insert(connection.getConnection(), table, id, "prepared by " + xid.gtrid().nodeId());
            xa.end(xid, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, xa.prepare(xid));
        } finally {
            connection.close();
        }
    }

    private static Gtrid gtrid(String node, long sequence) {
        return Gtrid.of(node, System.currentTimeMillis() - 60_000, sequence);
    }

    @Test
    void preparedOrphansOfThisNodeAreRolledBackAndAnotherNodesBranchesAreLeftAlone() throws Exception {
        Gtrid ours = gtrid(fx.nodeId, 1);
        Gtrid theirs = gtrid(fx.otherNode(), 1);
        prepareAndDisconnect(XaTestDatabases.mariaDb(), new ConcordXid(ours, 1), mariaTable, 1);
        prepareAndDisconnect(XaTestDatabases.postgres(), new ConcordXid(ours, 2), pgTable, 1);
        prepareAndDisconnect(XaTestDatabases.mariaDb(), new ConcordXid(theirs, 1), mariaTable, 2);
        prepareAndDisconnect(XaTestDatabases.postgres(), new ConcordXid(theirs, 2), pgTable, 2);

        RecoveryManager.Report report = fx.recovery.recover();

        assertEquals(2, report.orphansRolledBack(), "one orphan per database: " + report);
        assertTrue(report.unreachableResources().isEmpty(), report.toString());
        assertTrue(fx.ourPrepared(fx.mariaDb).isEmpty(), "our MariaDB orphan was rolled back");
        assertTrue(fx.ourPrepared(fx.postgres).isEmpty(), "our PostgreSQL orphan was rolled back");
        assertEquals(List.of(new ConcordXid(theirs, 1)), prepared(fx.mariaDb, theirs.nodeId()),
                "the other node's MariaDB branch is still prepared");
        assertEquals(List.of(new ConcordXid(theirs, 2)), prepared(fx.postgres, theirs.nodeId()),
                "the other node's PostgreSQL branch is still prepared");
        assertEquals(0, count(fx.mariaDb, mariaTable));
        assertEquals(0, count(fx.postgres, pgTable));
    }

    @Test
    void loggedCommitDecisionWithoutEndIsCommittedInBothDatabases() throws Exception {
        Gtrid decided = gtrid(fx.nodeId, 2);
        prepareAndDisconnect(XaTestDatabases.mariaDb(), new ConcordXid(decided, 1), mariaTable, 1);
        prepareAndDisconnect(XaTestDatabases.postgres(), new ConcordXid(decided, 2), pgTable, 1);
        fx.log.forceCommitDecision(new CommitDecision(decided, System.currentTimeMillis(), List.of(
                new BranchRecord(JdbcFixture.MARIADB, 1, new byte[0]),
                new BranchRecord(JdbcFixture.POSTGRES, 2, new byte[0]))));

        RecoveryManager.Report report = fx.recovery.recover();

        assertEquals(1, report.decisionsFinished(), report.toString());
        assertEquals(0, report.orphansRolledBack(), report.toString());
        assertEquals(1, count(fx.mariaDb, mariaTable));
        assertEquals(1, count(fx.postgres, pgTable));
        assertTrue(fx.log.unfinishedDecisions().isEmpty(), "END was written");
        assertTrue(fx.ourPrepared(fx.mariaDb).isEmpty());
        assertTrue(fx.ourPrepared(fx.postgres).isEmpty());
    }
}
