package dev.concord.xa.conformance;

import static dev.concord.xa.conformance.XaTestSession.count;
import static dev.concord.xa.conformance.XaTestSession.insert;
import static dev.concord.xa.conformance.XaTestSession.listed;
import static dev.concord.xa.conformance.XaTestSession.newMarker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.Test;

/**
 * XA behaviour of MariaDB 10.11 through mysql-connector-j's {@code MysqlXADataSource}, as measured.
 */
class MariaDbXaConformanceTest extends XaConformanceTest {

    @Override
    protected XADataSource newDataSource() {
        return XaTestDatabases.mariaDb();
    }

    @Override
    protected XADataSource newOtherDatabaseDataSource() {
        return XaTestDatabases.mariaDbOtherDatabase();
    }

    /** The server refuses: the prepared XID belongs to the still-connected session of A. */
    @Override
    protected XaOutcome expectedCommitFromOtherConnectionWhileOpen() {
        return XaOutcome.fails(XAException.XAER_NOTA);
    }

    /** The driver writes an empty bqual as {@code 0x}, a syntax error: already {@code XA START} fails. */
    @Override
    protected BranchSteps expectedStepsWithEmptyBranchQualifier() {
        return BranchSteps.allFail(XAException.XAER_RMFAIL);
    }

    /**
     * The driver writes a negative format id as hex ({@code 0xffffffff} for -1), which the server rejects as a syntax
     * error: already {@code XA START} fails.
     */
    @Override
    protected BranchSteps expectedStepsWithNegativeFormatId() {
        return BranchSteps.allFail(XAException.XAER_RMFAIL);
    }

    @Override
    protected XaOutcome expectedOnePhaseCommitOfUnknownXid() {
        return XaOutcome.fails(XAException.XAER_INVAL);
    }

    /** {@code forget} of an XID the server never saw returns normally. */
    @Override
    protected XaOutcome expectedForgetOfUnknownXid() {
        return XaOutcome.OK;
    }

    @Override
    protected XaOutcome expectedOnePhaseCommitFromOtherConnection() {
        return XaOutcome.fails(XAException.XAER_INVAL);
    }

    @Override
    protected XaOutcome expectedJoinOnSameConnection() {
        return XaOutcome.fails(XAException.XAER_INVAL);
    }

    @Override
    protected XaOutcome expectedSuspend() {
        return XaOutcome.fails(XAException.XAER_INVAL);
    }

    @Override
    protected XaOutcome expectedResumeOfActiveBranch() {
        return XaOutcome.fails(XAException.XAER_INVAL);
    }

    @Override
    protected XaOutcome expectedStartOfSecondBranchWhileFirstActive() {
        return XaOutcome.fails(XAException.XAER_RMFAIL);
    }

    @Override
    protected XaOutcome expectedStartOfSecondBranchAfterFirstEnded() {
        return XaOutcome.fails(XAException.XAER_RMFAIL);
    }

    /** A session with a prepared branch can do nothing else until that branch is finished. */
    @Override
    protected XaOutcome expectedStartOfSecondBranchAfterFirstPrepared() {
        return XaOutcome.fails(XAException.XAER_RMFAIL);
    }

    /** The server lists the detached read-only branch but reports it rolled back when asked to commit it. */
    @Override
    protected XaOutcome expectedCommitOfReadOnlyBranchFromNewConnection() {
        return XaOutcome.fails(XAException.XA_RBROLLBACK);
    }

    /** True, which invites TMJOIN across connections; TMJOIN fails even on one connection. */
    @Override
    protected boolean expectedSameResourceManager() {
        return true;
    }

    /** {@code XA RECOVER} lists every prepared branch of the server, whatever the database or user. */
    @Override
    protected boolean expectedRecoverIsServerWide() {
        return true;
    }

    @Test
    void commitFromSecondConnectionWhileFirstStillOpenWorksWithPinGlobalTxToPhysicalConnection() throws Exception {
        XADataSource pinned = XaTestDatabases.mariaDbPinnedToPhysicalConnection();
        TestXid xid = session().newXid();
        String marker = newMarker();
        XAConnection first = session().open(pinned);
        assertEquals(XAResource.XA_OK, prepareWithWork(first, xid, marker));

        XAResource second = session().open(pinned).getXAResource();
        second.commit(xid, false);
        assertEquals(1, count(dataSource(), marker), "the commit was routed to the first physical connection");
        assertFalse(listed(second, xid), "the committed branch is no longer listed");
    }

    @Test
    void workAfterRejectedStartRunsOutsideAnyBranchAndIsCommittedAtOnce() throws Exception {
        TestXid xid = session().track(TestXid.random(TestXid.FORMAT_ID, new byte[0]));
        String marker = newMarker();
        XAConnection connection = session().open(dataSource());
        XAResource resource = connection.getXAResource();
        assertEquals(XaOutcome.fails(XAException.XAER_RMFAIL),
                XaOutcome.of(() -> resource.start(xid, XAResource.TMNOFLAGS)));
        assertTrue(connection.getConnection().getAutoCommit(), "the connection stays in auto-commit mode");
        insert(connection, marker);
        assertEquals(1, count(dataSource(), marker), "the work is committed although the branch never existed");
    }
}
