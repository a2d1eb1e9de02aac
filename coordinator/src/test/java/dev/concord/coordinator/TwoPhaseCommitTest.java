package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.coordinator.testing.MockResourceManager.BranchState;
import dev.concord.coordinator.testing.MockResourceManager.Op;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.xid.Gtrid;
import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.HeuristicRollbackException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.Transaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The exact order of branch calls and log writes for every completion path of the engine. */
class TwoPhaseCommitTest {
    private final EngineFixture f = new EngineFixture();

    @AfterEach
    void close() {
        f.close();
    }

    private GlobalTransaction begin(MockResourceManager... rms) throws Exception {
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        for (MockResourceManager rm : rms) {
            tx.enlistResource(rm.connect());
        }
        return tx;
    }

    @Test
    void twoBranchesCommitDecisionIsForcedBeforeAnyPhaseTwoCallAndEndAfterAll() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS",
                "A.prepare#1|B.prepare#2", "log.decision[A#1,B#2]", "A.commit#1|B.commit#2", "log.end");
        assertEquals(TxState.COMMITTED, tx.state());
        assertEquals(BranchState.COMMITTED, a.state(1, tx.gtrid()));
        assertEquals(BranchState.COMMITTED, b.state(2, tx.gtrid()));
        assertTrue(f.log.unfinishedDecisions().isEmpty());
        assertEquals(Status.STATUS_NO_TRANSACTION, f.tm.getStatus());
    }

    @Test
    void threeBranchesCommitDatabasesBeforeMessages() throws Exception {
        MockResourceManager mq = f.messages("MQ");
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        begin(mq, a, b);
        f.tm.commit();
        f.events.assertSequence("MQ.start#1", "A.start#2", "B.start#3",
                "MQ.end#1:TMSUCCESS", "A.end#2:TMSUCCESS", "B.end#3:TMSUCCESS",
                "MQ.prepare#1|A.prepare#2|B.prepare#3", "log.decision[A#2,B#3,MQ#1]",
                "A.commit#2|B.commit#3", "MQ.commit#1", "log.end");
    }

    @Test
    void singleBranchCommitsInOnePhaseWithoutLogWrite() throws Exception {
        MockResourceManager a = f.database("A");
        GlobalTransaction tx = begin(a);
        f.tm.commit();
        f.events.assertSequence("A.start#1", "A.end#1:TMSUCCESS", "A.commit1p#1");
        assertEquals(TxState.COMMITTED, tx.state());
    }

    @Test
    void readOnlyVoteLeavesPhaseTwoAndLoneVoterNeedsNoLog() throws Exception {
        MockResourceManager a = f.database("A").next(Op.PREPARE, XAResource.XA_RDONLY);
        MockResourceManager b = f.database("B");
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS",
                "A.prepare#1|B.prepare#2", "B.commit#2");
        assertEquals(TxState.COMMITTED, tx.state());
    }

    @Test
    void allReadOnlyCommitsWithoutPhaseTwo() throws Exception {
        MockResourceManager a = f.database("A").next(Op.PREPARE, XAResource.XA_RDONLY);
        MockResourceManager b = f.database("B").next(Op.PREPARE, XAResource.XA_RDONLY);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS",
                "A.prepare#1|B.prepare#2");
        assertEquals(TxState.COMMITTED, tx.state());
    }

    @Test
    void noVoteRollsBackEveryOtherBranchAndWritesNothing() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.PREPARE, XAException.XA_RBINTEGRITY);
        MockResourceManager c = f.database("C");
        GlobalTransaction tx = begin(a, b, c);
        RollbackException e = assertThrows(RollbackException.class, f.tm::commit);
        assertTrue(e.getMessage().contains("B#2"), e.getMessage());
        f.events.assertSequence("A.start#1", "B.start#2", "C.start#3",
                "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS", "C.end#3:TMSUCCESS",
                "A.prepare#1|B.prepare#2|C.prepare#3", "A.rollback#1|C.rollback#3");
        assertEquals(TxState.ROLLED_BACK, tx.state());
        assertTrue(a.prepared().isEmpty() && c.prepared().isEmpty());
    }

    @Test
    void prepareExceptionRollsBackAllBranchesIncludingTheFailedOneAndReportsEveryFailure() throws Exception {
        MockResourceManager a = f.database("A").next(Op.PREPARE, XAException.XAER_RMERR);
        MockResourceManager b = f.database("B").next(Op.PREPARE, XAException.XAER_RMFAIL);
        MockResourceManager c = f.database("C");
        GlobalTransaction tx = begin(a, b, c);
        RollbackException e = assertThrows(RollbackException.class, f.tm::commit);
        assertEquals(1, e.getSuppressed().length, "both failures are reported, not just the first");
        f.events.assertSequence("A.start#1", "B.start#2", "C.start#3",
                "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS", "C.end#3:TMSUCCESS",
                "A.prepare#1|B.prepare#2|C.prepare#3", "A.rollback#1|B.rollback#2|C.rollback#3");
        assertEquals(TxState.ROLLED_BACK, tx.state());
    }

    @Test
    void commitFailureIsRetriedWithFreshConnectionAndEndWrittenAfterIt() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XAER_RMFAIL);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit(); // the decision is durable: commit returns, phase 2 finishes in the background
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS",
                "A.prepare#1|B.prepare#2", "log.decision[A#1,B#2]", "A.commit#1|B.commit#2",
                "B.open", "B.commit#2", "log.end");
        assertEquals(BranchState.COMMITTED, b.state(2, tx.gtrid()));
    }

    @Test
    void retriesKeepGoingUntilTheResourceAnswers() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XA_RETRY)
                .next(Op.COMMIT, XAException.XAER_RMFAIL).next(Op.COMMIT, XAException.XA_RETRY);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(4, f.events.matching("B.commit#2").size());
        assertEquals(List.of("log.decision[A#1,B#2]", "log.end"), f.events.matching("log."));
    }

    @Test
    void notaOnCommitIsSuccessOnlyWhenTheScanHasNoTraceOfTheBranch() throws Exception {
        MockResourceManager a = f.database("A");
        // Like MariaDB with the branch still attached to another session: NOTA, but recover() still lists it.
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XAER_NOTA);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(BranchState.COMMITTED, b.state(2, tx.gtrid()), "the branch was really committed by a retry");
        assertTrue(f.events.events().indexOf("B.recover") < f.events.events().lastIndexOf("B.commit#2"));
    }

    @Test
    void notaOnCommitWithNoTraceInTheScanCountsAsDone() throws Exception {
        MockResourceManager a = f.database("A");
        // The first commit takes effect but its reply is lost; the retry then gets XAER_NOTA.
        MockResourceManager b = f.database("B").next(Op.COMMIT, MockResourceManager.COMMITTED_BUT_REPLY_LOST);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(List.of("B.open", "B.commit#2", "B.recover"),
                f.events.events().subList(f.events.events().indexOf("B.open"), f.events.events().indexOf("log.end")));
        assertEquals(List.of("B.commit#2", "B.commit#2"), f.events.matching("B.commit#2"),
                "no further retries once the scan shows no trace");
    }

    @Test
    void notaOnCommitWithAFailedScanIsRetried() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XAER_NOTA)
                .next(Op.RECOVER, XAException.XAER_RMFAIL);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(BranchState.COMMITTED, b.state(2, tx.gtrid()));
        assertEquals(2, f.events.matching("B.commit#2").size());
    }

    @Test
    void heuristicRollbackOfOneBranchIsMixedAndRecorded() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XA_HEURRB);
        GlobalTransaction tx = begin(a, b);
        assertThrows(HeuristicMixedException.class, f.tm::commit);
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS",
                "A.prepare#1|B.prepare#2", "log.decision[A#1,B#2]", "A.commit#1|B.commit#2",
                "log.heuristic[B#2 ROLLED_BACK]", "log.end");
        assertEquals(TxState.HEURISTIC_MIXED, tx.state());
        assertEquals(1, f.log.heuristics().size());
        assertEquals(HeuristicOutcome.ROLLED_BACK, f.log.heuristics().get(0).outcome());
        assertTrue(f.events.matching("B.forget").isEmpty(), "a heuristic is forgotten only on an operator's word");
    }

    @Test
    void heuristicRollbackOfEveryBranchIsHeuristicRollback() throws Exception {
        MockResourceManager a = f.database("A").next(Op.COMMIT, XAException.XA_HEURRB);
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XA_HEURRB);
        GlobalTransaction tx = begin(a, b);
        assertThrows(HeuristicRollbackException.class, f.tm::commit);
        assertEquals(TxState.HEURISTIC_ROLLBACK, tx.state());
        assertEquals(2, f.log.heuristics().size());
    }

    @Test
    void heuristicHazardIsReportedAsMixed() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XA_HEURHAZ);
        GlobalTransaction tx = begin(a, b);
        assertThrows(HeuristicMixedException.class, f.tm::commit);
        assertEquals(TxState.HEURISTIC_HAZARD, tx.state());
    }

    @Test
    void heuristicCommitMatchingTheDecisionIsForgottenAtOnce() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XA_HEURCOM);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.state());
        assertEquals(List.of("B.forget#2"), f.events.matching("B.forget"));
        assertTrue(f.log.heuristics().isEmpty());
    }

    @Test
    void onePhaseCommitRefusedByResourceIsRollback() throws Exception {
        MockResourceManager a = f.database("A").next(Op.COMMIT_ONE_PHASE, XAException.XA_RBDEADLOCK);
        GlobalTransaction tx = begin(a);
        assertThrows(RollbackException.class, f.tm::commit);
        assertEquals(TxState.ROLLED_BACK, tx.state());
    }

    @Test
    void onePhaseCommitWithUnknownOutcomeIsHazard() throws Exception {
        MockResourceManager a = f.database("A").next(Op.COMMIT_ONE_PHASE, XAException.XAER_RMFAIL);
        GlobalTransaction tx = begin(a);
        assertThrows(HeuristicMixedException.class, f.tm::commit);
        assertEquals(TxState.HEURISTIC_HAZARD, tx.state());
        f.events.assertSequence("A.start#1", "A.end#1:TMSUCCESS", "A.commit1p#1", "log.heuristic[A#1 HAZARD]");
    }

    @Test
    void rollbackEndsWithTmFailAndRollsBackEveryBranchWithoutLogWrite() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        GlobalTransaction tx = begin(a, b);
        f.tm.rollback();
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMFAIL", "B.end#2:TMFAIL",
                "A.rollback#1|B.rollback#2");
        assertEquals(TxState.ROLLED_BACK, tx.state());
    }

    @Test
    void setRollbackOnlyMakesCommitRollBack() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        GlobalTransaction tx = begin(a, b);
        f.tm.setRollbackOnly();
        assertEquals(Status.STATUS_MARKED_ROLLBACK, f.tm.getStatus());
        assertThrows(RollbackException.class, f.tm::commit);
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMFAIL", "B.end#2:TMFAIL",
                "A.rollback#1|B.rollback#2");
        assertEquals(TxState.ROLLED_BACK, tx.state());
    }

    @Test
    void decisionWriteFailureRollsBackAndIsNeverAcknowledged() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        GlobalTransaction tx = begin(a, b);
        f.log.failWrites(true);
        RollbackException e = assertThrows(RollbackException.class, f.tm::commit);
        assertTrue(e.getMessage().contains("No space left"), e.getMessage());
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS",
                "A.prepare#1|B.prepare#2", "log.failed", "A.rollback#1|B.rollback#2");
        assertEquals(TxState.ROLLED_BACK, tx.state());
    }

    @Test
    void loneVoterWhoseCommitNeedsRetryGetsItsDecisionForcedFirst() throws Exception {
        MockResourceManager a = f.database("A").next(Op.PREPARE, XAResource.XA_RDONLY);
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XAER_RMFAIL);
        GlobalTransaction tx = begin(a, b);
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMSUCCESS", "B.end#2:TMSUCCESS",
                "A.prepare#1|B.prepare#2", "B.commit#2", "log.decision[B#2]", "B.open", "B.commit#2", "log.end");
    }

    @Test
    void timeoutRollsBackAndLaterCommitGetsRollbackException() throws Exception {
        try (EngineFixture g = new EngineFixture(Duration.ofMillis(50))) {
            MockResourceManager a = g.database("A");
            g.tm.begin();
            GlobalTransaction tx = g.tm.currentTransaction();
            tx.enlistResource(a.connect());
            assertEquals(TxState.ROLLED_BACK, tx.completion().get(10, TimeUnit.SECONDS));
            assertTrue(tx.isTimedOut());
            assertEquals(Status.STATUS_ROLLEDBACK, g.tm.getStatus(), "the timed-out thread sees the rollback");
            assertThrows(RollbackException.class, () -> tx.enlistResource(a.connect()));
            RollbackException e = assertThrows(RollbackException.class, g.tm::commit);
            assertTrue(e.getMessage().contains("timed out"), e.getMessage());
            assertEquals(Status.STATUS_NO_TRANSACTION, g.tm.getStatus());
            g.events.assertSequence("A.start#1", "A.end#1:TMFAIL", "A.rollback#1");
        }
    }

    @Test
    void synchronizationsRunAroundCompletionInterposedInside() throws Exception {
        MockResourceManager a = f.database("A");
        GlobalTransaction tx = begin(a);
        List<String> calls = new ArrayList<>();
        tx.registerSynchronization(sync("s1", calls));
        tx.registerInterposedSynchronization(sync("i1", calls));
        tx.registerSynchronization(sync("s2", calls));
        f.tm.commit();
        assertEquals(List.of("s1.before", "s2.before", "i1.before", "i1.after:" + Status.STATUS_COMMITTED,
                "s1.after:" + Status.STATUS_COMMITTED, "s2.after:" + Status.STATUS_COMMITTED), calls);
        assertTrue(f.events.events().contains("A.commit1p#1"));
    }

    @Test
    void beforeCompletionThatThrowsRollsBackWithTheCause() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        GlobalTransaction tx = begin(a, b);
        List<String> calls = new ArrayList<>();
        IllegalStateException boom = new IllegalStateException("flush failed");
        tx.registerSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
                throw boom;
            }

            @Override
            public void afterCompletion(int status) {
                calls.add("after:" + status);
            }
        });
        tx.registerSynchronization(sync("s2", calls));
        RollbackException e = assertThrows(RollbackException.class, f.tm::commit);
        assertEquals(boom, e.getCause());
        assertEquals(List.of("after:" + Status.STATUS_ROLLEDBACK, "s2.after:" + Status.STATUS_ROLLEDBACK), calls,
                "later beforeCompletion callbacks are skipped; every afterCompletion runs");
        f.events.assertSequence("A.start#1", "B.start#2", "A.end#1:TMFAIL", "B.end#2:TMFAIL",
                "A.rollback#1|B.rollback#2");
    }

    @Test
    void synchronizationRegisteredDuringBeforeCompletionAlsoRuns() throws Exception {
        MockResourceManager a = f.database("A");
        GlobalTransaction tx = begin(a);
        List<String> calls = new ArrayList<>();
        tx.registerSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
                calls.add("first.before");
                try {
                    tx.registerSynchronization(sync("late", calls));
                } catch (RollbackException e) {
                    throw new AssertionError(e);
                }
            }

            @Override
            public void afterCompletion(int status) {
            }
        });
        f.tm.commit();
        assertEquals(List.of("first.before", "late.before", "late.after:" + Status.STATUS_COMMITTED), calls);
    }

    @Test
    void joinIsUsedOnlyWhereTheResourceReallySupportsIt() throws Exception {
        MockResourceManager joining = f.database("J").supportingJoin().sameRm();
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(joining.connect());
        tx.enlistResource(joining.connect());
        f.tm.commit();
        f.events.assertSequence("J.start#1", "J.start#1:TMJOIN", "J.end#1:TMSUCCESS|J.end#1:TMSUCCESS", "J.commit1p#1");

        // MariaDB-like: isSameRM says true, TMJOIN is not supported: two separate branches.
        f.events.clear();
        MockResourceManager mariaLike = f.database("M").sameRm();
        f.tm.begin();
        GlobalTransaction tx2 = f.tm.currentTransaction();
        tx2.enlistResource(mariaLike.connect());
        tx2.enlistResource(mariaLike.connect());
        f.tm.commit();
        f.events.assertSequence("M.start#1", "M.start#2", "M.end#1:TMSUCCESS", "M.end#2:TMSUCCESS",
                "M.prepare#1|M.prepare#2", "log.decision[M#1,M#2]", "M.commit#1|M.commit#2", "log.end");
        assertEquals(2, tx2.branches().size());
    }

    @Test
    void refusedJoinFallsBackToASeparateBranch() throws Exception {
        MockResourceManager rm = f.database("J").supportingJoin().sameRm();
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(rm.connect());
        rm.next(Op.START, XAException.XAER_INVAL);
        tx.enlistResource(rm.connect());
        assertEquals(2, tx.branches().size());
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.state());
    }

    @Test
    void suspendedBranchIsResumedOnReEnlistAndEndedAtCommit() throws Exception {
        MockResourceManager a = f.database("A");
        f.tm.begin();
        Transaction tx = f.tm.getTransaction();
        MockResourceManager.Connection c = a.connect();
        tx.enlistResource(c);
        tx.delistResource(c, XAResource.TMSUSPEND);
        tx.enlistResource(c);
        tx.delistResource(c, XAResource.TMSUCCESS);
        f.tm.commit();
        f.events.assertSequence("A.start#1", "A.end#1:TMSUSPEND", "A.start#1:TMRESUME", "A.end#1:TMSUCCESS",
                "A.commit1p#1");
    }

    @Test
    void delistWithTmFailMarksRollbackOnly() throws Exception {
        MockResourceManager a = f.database("A");
        f.tm.begin();
        Transaction tx = f.tm.getTransaction();
        MockResourceManager.Connection c = a.connect();
        tx.enlistResource(c);
        tx.delistResource(c, XAResource.TMFAIL);
        assertEquals(Status.STATUS_MARKED_ROLLBACK, tx.getStatus());
        assertThrows(RollbackException.class, f.tm::commit);
        f.events.assertSequence("A.start#1", "A.end#1:TMFAIL", "A.rollback#1");
    }

    @Test
    void prepareRollbackFailureIsRetriedUntilTheBranchIsGone() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.PREPARE, XAException.XA_RBROLLBACK);
        a.next(Op.ROLLBACK, XAException.XAER_RMFAIL);
        GlobalTransaction tx = begin(a, b);
        assertThrows(RollbackException.class, f.tm::commit);
        assertEquals(TxState.ROLLED_BACK, tx.completion().get(10, TimeUnit.SECONDS));
        assertTrue(a.prepared().isEmpty());
        assertEquals(List.of("A.rollback#1", "A.rollback#1"), f.events.matching("A.rollback"));
    }

    @Test
    void notaOnRollbackWhileTheScanStillListsTheBranchIsRetried() throws Exception {
        // MariaDB: a branch still attached to the session that prepared it answers XAER_NOTA from elsewhere.
        MockResourceManager a = f.database("A").next(Op.ROLLBACK, XAException.XAER_NOTA);
        MockResourceManager b = f.database("B").next(Op.PREPARE, XAException.XA_RBROLLBACK);
        GlobalTransaction tx = begin(a, b);
        assertThrows(RollbackException.class, f.tm::commit);
        assertEquals(TxState.ROLLED_BACK, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(BranchState.ROLLED_BACK, a.state(1, tx.gtrid()), "the branch was really rolled back");
        assertEquals(List.of("A.rollback#1", "A.recover", "A.open", "A.rollback#1"),
                f.events.matching("A.").subList(3, 7));
    }

    @Test
    void heuristicCommitDuringRollbackIsReportedAsMixed() throws Exception {
        MockResourceManager a = f.database("A").next(Op.ROLLBACK, XAException.XA_HEURCOM);
        MockResourceManager b = f.database("B").next(Op.PREPARE, XAException.XA_RBROLLBACK);
        GlobalTransaction tx = begin(a, b);
        assertThrows(HeuristicMixedException.class, f.tm::commit);
        assertEquals(TxState.HEURISTIC_COMMIT, tx.state());
        assertEquals(List.of("log.heuristic[A#1 COMMITTED]"), f.events.matching("log."));
    }

    @Test
    void preparedBranchRegisteredByAParticipantIsFinishedThroughTheRegistry() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager p = f.database("P");
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(a.connect());
        var xid = tx.reserveBranchXid();
        // The participant prepares on its own connection.
        MockResourceManager.Connection own = p.connect();
        own.start(xid, XAResource.TMNOFLAGS);
        own.end(xid, XAResource.TMSUCCESS);
        own.prepare(xid);
        tx.registerPreparedBranch("P", xid.branch());
        f.tm.commit();
        assertEquals(BranchState.COMMITTED, p.state(xid.branch(), tx.gtrid()));
        assertEquals(List.of("A.prepare#1"), f.events.matching("A.prepare"));
        assertEquals(List.of("log.decision[A#1,P#2]", "log.end"), f.events.matching("log."));
        assertTrue(f.events.events().lastIndexOf("P.open") > f.events.events().indexOf("log.decision[A#1,P#2]"),
                "phase 2 reaches the participant's branch through a connection of its own");
        assertTrue(f.events.events().indexOf("P.recover") < f.events.events().indexOf("log.decision[A#1,P#2]"),
                "registration checked the branch is prepared");
    }

    @Test
    void registeringABranchThatWasNeverPreparedIsRefused() throws Exception {
        MockResourceManager p = f.database("P");
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        var xid = tx.reserveBranchXid();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tx.registerPreparedBranch("P", xid.branch()));
        assertTrue(e.getMessage().contains("not prepared"), e.getMessage());
        assertTrue(tx.branches().isEmpty());
        f.tm.rollback();
    }

    @Test
    void emptyTransactionCommitsAndIsAnsweredCommit() throws Exception {
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.state());
        assertEquals(dev.concord.recovery.outcome.Outcome.COMMIT, f.coordinator.outcomeOf(tx.gtrid()));
    }

    @Test
    void registeringAPreparedBranchOfAnUnknownResourceIsRefused() throws Exception {
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tx.registerPreparedBranch("nope", 7));
        assertTrue(e.getMessage().contains("nope"));
        f.tm.rollback();
    }

    @Test
    void gtridCarriesNodeAndBeginTime() throws Exception {
        f.tm.begin();
        Gtrid g = f.tm.currentTransaction().gtrid();
        assertEquals("test-node", g.nodeId());
        assertTrue(g.length() <= 64);
        assertTrue(f.coordinator.oldestInFlightBeginMillis().isPresent());
        f.tm.rollback();
        assertTrue(f.coordinator.oldestInFlightBeginMillis().isEmpty());
        assertNull(f.tm.getTransaction());
    }

    @Test
    void heuristicExceptionNamesTheBranch() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XA_HEURMIX);
        begin(a, b);
        HeuristicMixedException e = assertThrows(HeuristicMixedException.class, f.tm::commit);
        assertTrue(e.getMessage().contains("B#2=HEURISTIC_MIXED"), e.getMessage());
        assertInstanceOf(String.class, e.getMessage());
    }

    private static Synchronization sync(String name, List<String> calls) {
        return new Synchronization() {
            @Override
            public void beforeCompletion() {
                calls.add(name + ".before");
            }

            @Override
            public void afterCompletion(int status) {
                calls.add(name + ".after:" + status);
            }
        };
    }
}
