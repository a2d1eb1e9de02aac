package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.Test;

/** The mapping of XA codes to outcomes, written out as a table. */
class XaOutcomesTest {
    private static XAException xa(int code) {
        XAException e = new XAException("x");
        e.errorCode = code;
        return e;
    }

    @Test
    void prepareVotes() {
        assertEquals(Vote.YES, XaOutcomes.prepareResult(XAResource.XA_OK));
        assertEquals(Vote.READ_ONLY, XaOutcomes.prepareResult(XAResource.XA_RDONLY));
        for (int rb = XAException.XA_RBBASE; rb <= XAException.XA_RBEND; rb++) {
            assertEquals(Vote.NO, XaOutcomes.prepareFailure(xa(rb)), "XA_RB " + rb);
        }
        for (int code : new int[] {XAException.XAER_RMERR, XAException.XAER_RMFAIL, XAException.XAER_NOTA,
                XAException.XAER_PROTO, XAException.XAER_INVAL}) {
            assertEquals(Vote.FAILED, XaOutcomes.prepareFailure(xa(code)), XaOutcomes.codeName(code));
        }
        assertEquals(Vote.FAILED, XaOutcomes.prepareFailure(new RuntimeException("driver bug")));
    }

    @Test
    void commitFailures() {
        assertEquals(BranchOutcome.DONE_FORGET, XaOutcomes.commitFailure(xa(XAException.XA_HEURCOM)));
        assertEquals(BranchOutcome.HEURISTIC_ROLLBACK, XaOutcomes.commitFailure(xa(XAException.XA_HEURRB)));
        assertEquals(BranchOutcome.HEURISTIC_MIXED, XaOutcomes.commitFailure(xa(XAException.XA_HEURMIX)));
        assertEquals(BranchOutcome.HEURISTIC_HAZARD, XaOutcomes.commitFailure(xa(XAException.XA_HEURHAZ)));
        assertEquals(BranchOutcome.RETRY, XaOutcomes.commitFailure(xa(XAException.XA_RETRY)));
        assertEquals(BranchOutcome.RETRY_FRESH, XaOutcomes.commitFailure(xa(XAException.XAER_RMFAIL)));
        assertEquals(BranchOutcome.VERIFY_BY_SCAN, XaOutcomes.commitFailure(xa(XAException.XAER_NOTA)));
        assertEquals(BranchOutcome.HEURISTIC_ROLLBACK, XaOutcomes.commitFailure(xa(XAException.XA_RBROLLBACK)));
        assertEquals(BranchOutcome.VERIFY_BY_SCAN, XaOutcomes.commitFailure(xa(XAException.XAER_RMERR)));
        assertEquals(BranchOutcome.HEURISTIC_HAZARD, XaOutcomes.commitFailure(xa(XAException.XAER_PROTO)));
        assertEquals(BranchOutcome.RETRY_FRESH, XaOutcomes.commitFailure(new IllegalStateException("socket closed")));
    }

    @Test
    void onePhaseCommitFailures() {
        // Unknown XID in one phase: MariaDB says XAER_INVAL, PostgreSQL XAER_RMERR: nothing was committed.
        assertTrue(XaOutcomes.isOnePhaseRollback(xa(XAException.XAER_INVAL)));
        assertTrue(XaOutcomes.isOnePhaseRollback(xa(XAException.XAER_RMERR)));
        assertTrue(XaOutcomes.isOnePhaseRollback(xa(XAException.XAER_NOTA)));
        assertTrue(XaOutcomes.isOnePhaseRollback(xa(XAException.XA_RBDEADLOCK)));
        assertFalse(XaOutcomes.isOnePhaseRollback(xa(XAException.XAER_RMFAIL)));
        assertEquals(BranchOutcome.HEURISTIC_HAZARD, XaOutcomes.onePhaseCommitFailure(xa(XAException.XAER_RMFAIL)));
        assertEquals(BranchOutcome.HEURISTIC_MIXED, XaOutcomes.onePhaseCommitFailure(xa(XAException.XA_HEURMIX)));
        assertEquals(BranchOutcome.DONE_FORGET, XaOutcomes.onePhaseCommitFailure(xa(XAException.XA_HEURCOM)));
    }

    @Test
    void rollbackFailures() {
        assertEquals(BranchOutcome.VERIFY_BY_SCAN, XaOutcomes.rollbackFailure(xa(XAException.XAER_NOTA)));
        assertEquals(BranchOutcome.DONE, XaOutcomes.rollbackFailure(xa(XAException.XA_RBTIMEOUT)));
        assertEquals(BranchOutcome.DONE_FORGET, XaOutcomes.rollbackFailure(xa(XAException.XA_HEURRB)));
        assertEquals(BranchOutcome.HEURISTIC_COMMIT, XaOutcomes.rollbackFailure(xa(XAException.XA_HEURCOM)));
        assertEquals(BranchOutcome.HEURISTIC_MIXED, XaOutcomes.rollbackFailure(xa(XAException.XA_HEURMIX)));
        assertEquals(BranchOutcome.RETRY_FRESH, XaOutcomes.rollbackFailure(xa(XAException.XAER_RMFAIL)));
        assertEquals(BranchOutcome.RETRY, XaOutcomes.rollbackFailure(xa(XAException.XAER_RMERR)));
    }

    @Test
    void codeNamesAreReadable() {
        assertEquals("XAER_NOTA", XaOutcomes.codeName(XAException.XAER_NOTA));
        assertTrue(XaOutcomes.describe(xa(XAException.XAER_RMFAIL)).startsWith("XAER_RMFAIL"));
    }
}
