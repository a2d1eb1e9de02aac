package dev.concord.xa.conformance;

import static dev.concord.xa.conformance.XaTestSession.count;
import static dev.concord.xa.conformance.XaTestSession.listed;
import static dev.concord.xa.conformance.XaTestSession.newMarker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.Test;

/**
 * XA behaviour of PostgreSQL 15 through pgjdbc's {@code PGXADataSource}, as measured.
 */
class PostgresXaConformanceTest extends XaConformanceTest {

    @Override
    protected XADataSource newDataSource() {
        return XaTestDatabases.postgres();
    }

    @Override
    protected XADataSource newOtherDatabaseDataSource() {
        return XaTestDatabases.postgresOtherDatabase();
    }

    /** {@code COMMIT PREPARED} works from any session of the same database and role. */
    @Override
    protected XaOutcome expectedCommitFromOtherConnectionWhileOpen() {
        return XaOutcome.OK;
    }

    @Override
    protected BranchSteps expectedStepsWithEmptyBranchQualifier() {
        return BranchSteps.ALL_OK;
    }

    @Override
    protected BranchSteps expectedStepsWithNegativeFormatId() {
        return BranchSteps.ALL_OK;
    }

    /** pgjdbc refuses: one-phase commit must be issued on the connection that started the branch. */
    @Override
    protected XaOutcome expectedOnePhaseCommitOfUnknownXid() {
        return XaOutcome.fails(XAException.XAER_RMERR);
    }

    /** pgjdbc supports no heuristic outcomes, so there is never anything to forget. */
    @Override
    protected XaOutcome expectedForgetOfUnknownXid() {
        return XaOutcome.fails(XAException.XAER_NOTA);
    }

    @Override
    protected XaOutcome expectedOnePhaseCommitFromOtherConnection() {
        return XaOutcome.fails(XAException.XAER_RMERR);
    }

    @Override
    protected XaOutcome expectedJoinOnSameConnection() {
        return XaOutcome.OK;
    }

    @Override
    protected XaOutcome expectedSuspend() {
        return XaOutcome.fails(XAException.XAER_RMERR);
    }

    @Override
    protected XaOutcome expectedResumeOfActiveBranch() {
        return XaOutcome.fails(XAException.XAER_PROTO);
    }

    @Override
    protected XaOutcome expectedStartOfSecondBranchWhileFirstActive() {
        return XaOutcome.fails(XAException.XAER_PROTO);
    }

    @Override
    protected XaOutcome expectedStartOfSecondBranchAfterFirstEnded() {
        return XaOutcome.fails(XAException.XAER_RMERR);
    }

    /** After {@code PREPARE TRANSACTION} the session is free for a new branch. */
    @Override
    protected XaOutcome expectedStartOfSecondBranchAfterFirstPrepared() {
        return XaOutcome.OK;
    }

    @Override
    protected XaOutcome expectedCommitOfReadOnlyBranchFromNewConnection() {
        return XaOutcome.OK;
    }

    @Override
    protected boolean expectedSameResourceManager() {
        return false;
    }

    /**
     * pgjdbc's {@code recover()} lists the prepared transactions of the current database only (checked by hand:
     * and of the current role only).
     */
    @Override
    protected boolean expectedRecoverIsServerWide() {
        return false;
    }

    @Test
    void commitOnPreparingConnectionAfterOtherConnectionCommittedFailsWithRmerrNotNota() throws Exception {
        TestXid xid = session().newXid();
        String marker = newMarker();
        XAConnection first = session().open(dataSource());
        assertEquals(XAResource.XA_OK, prepareWithWork(first, xid, marker));
        XAResource second = session().open(dataSource()).getXAResource();
        second.commit(xid, false);
        assertEquals(1, count(dataSource(), marker));

        XAResource preparing = first.getXAResource();
        assertEquals(XaOutcome.fails(XAException.XAER_RMERR), XaOutcome.of(() -> preparing.commit(xid, false)),
                "the preparing connection still remembers the XID and reports a resource error, not XAER_NOTA");
        assertFalse(listed(second, xid), "the branch stays committed");
    }
}
