package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.coordinator.testing.MockResourceManager.BranchState;
import dev.concord.coordinator.testing.MockResourceManager.Op;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.transaction.xa.XAException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An operator's commit or rollback of one in-doubt branch or of a whole transaction: carried out only in the
 * direction of the transaction's decision, through the engine's phase-2 code, with heuristic outcomes recorded.
 */
class BranchResolutionTest {
    private final EngineFixture f = new EngineFixture();
    private final RecoveryManager recovery = new RecoveryManager(f.coordinator, f.log);
    private final long earlier = System.currentTimeMillis() - 60_000;

    @AfterEach
    void close() {
        recovery.close();
        f.close();
    }

    private Gtrid previousRun(long sequence) {
        return Gtrid.of("test-node", earlier, sequence);
    }

    /** A commit decision for A#1 and B#2 in the log, both branches prepared. */
    private Gtrid loggedDecision(MockResourceManager a, MockResourceManager b, long sequence) throws Exception {
        Gtrid g = previousRun(sequence);
        a.seedPrepared(new ConcordXid(g, 1));
        b.seedPrepared(new ConcordXid(g, 2));
        f.log.forceCommitDecision(new CommitDecision(g, earlier,
                List.of(new BranchRecord("A", 1, null), new BranchRecord("B", 2, null))));
        return g;
    }

    @Test
    void committingOneBranchOfALoggedDecisionCommitsOnlyItAndTheLastOneEndsTheDecision() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        Gtrid g = loggedDecision(a, b, 1);

        RecoveryManager.Resolution r = recovery.resolve(g, PhaseTwoJob.Direction.COMMIT, "A", 1);

        assertEquals(PhaseTwoJob.Direction.COMMIT, r.decision().direction());
        assertEquals("logged commit decision", r.decision().basis());
        assertEquals(1, r.branches().size());
        assertEquals(BranchOutcome.DONE, r.branches().get(0).outcome());
        assertEquals(BranchState.COMMITTED, a.state(1, g));
        assertEquals(BranchState.PREPARED, b.state(2, g), "only the branch asked for");
        assertEquals(1, f.log.unfinishedDecisions().size(), "B is still to be committed");

        RecoveryManager.Resolution all = recovery.resolve(g, PhaseTwoJob.Direction.COMMIT, null, null);
        assertEquals(2, all.branches().size());
        assertTrue(all.branches().stream().allMatch(RecoveryManager.BranchResult::finished), all::toString);
        assertEquals(BranchState.COMMITTED, b.state(2, g));
        assertTrue(f.log.unfinishedDecisions().isEmpty(), "END written once every branch is done");
        assertTrue(f.events.events().contains("log.end"));
    }

    @Test
    void rollingBackABranchOfALoggedCommitDecisionIsRefused() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        Gtrid g = loggedDecision(a, b, 2);
        f.events.clear();

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> recovery.resolve(g, PhaseTwoJob.Direction.ROLLBACK, "A", 1));

        assertTrue(e.getMessage().contains("decided to COMMIT"), e.getMessage());
        assertEquals(BranchState.PREPARED, a.state(1, g));
        assertTrue(f.events.matching("A.rollback").isEmpty(), f.events.events().toString());
    }

    @Test
    void committingABranchWithoutACommitDecisionIsRefusedAndRollingItBackWorks() throws Exception {
        MockResourceManager a = f.database("A");
        Gtrid g = previousRun(3);
        a.seedPrepared(new ConcordXid(g, 1));

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> recovery.resolve(g, PhaseTwoJob.Direction.COMMIT, "A", 1));
        assertTrue(e.getMessage().contains("presumed abort"), e.getMessage());
        assertTrue(f.events.matching("A.commit").isEmpty(), f.events.events().toString());
        assertEquals(BranchState.PREPARED, a.state(1, g));

        RecoveryManager.Resolution r = recovery.resolve(g, PhaseTwoJob.Direction.ROLLBACK, null, 1);
        assertFalse(r.decision().evidenced());
        assertEquals("A", r.branches().get(0).resourceName());
        assertEquals(BranchOutcome.DONE, r.branches().get(0).outcome());
        assertEquals(BranchState.ROLLED_BACK, a.state(1, g));
        assertTrue(f.events.matching("log.").isEmpty(), "presumed abort writes nothing");
    }

    @Test
    void aBranchNoDecisionNamesAndNoResourceHoldsIsNotFound() throws Exception {
        f.database("A");
        Gtrid g = previousRun(4);
        assertThrows(IllegalArgumentException.class, () -> recovery.resolve(g, PhaseTwoJob.Direction.ROLLBACK,
                "A", 1));
        assertThrows(IllegalArgumentException.class, () -> recovery.resolve(g, PhaseTwoJob.Direction.ROLLBACK,
                null, null));
        assertThrows(IllegalArgumentException.class, () -> recovery.resolve(g, PhaseTwoJob.Direction.ROLLBACK,
                "no-such-resource", 1));
    }

    @Test
    void aResourceThatCannotBeScannedDoesNotHideABranchFoundElsewhereButIsNamedWhenNothingIsFound()
            throws Exception {
        MockResourceManager down = f.database("DOWN").always(Op.RECOVER, XAException.XAER_RMFAIL);
        MockResourceManager a = f.database("A");
        Gtrid g = previousRun(7);
        a.seedPrepared(new ConcordXid(g, 1));

        RecoveryManager.Resolution r = recovery.resolve(g, PhaseTwoJob.Direction.ROLLBACK, null, 1);
        assertEquals(BranchState.ROLLED_BACK, a.state(1, g));
        assertEquals(1, r.branches().size());

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> recovery.resolve(g, PhaseTwoJob.Direction.ROLLBACK, null, 2));
        assertTrue(e.getMessage().contains("[DOWN] cannot be scanned"), e.getMessage());
        assertTrue(down.states().isEmpty());
    }

    @Test
    void anotherNodesTransactionIsNotTouched() throws Exception {
        MockResourceManager a = f.database("A");
        Gtrid other = Gtrid.of("other-node", earlier, 5);
        a.seedPrepared(new ConcordXid(other, 1));
        assertThrows(IllegalArgumentException.class, () -> recovery.resolve(other, PhaseTwoJob.Direction.ROLLBACK,
                "A", 1));
        assertEquals(BranchState.PREPARED, a.state(1, other));
    }

    @Test
    void anActiveTransactionHasNoDecisionYet() throws Exception {
        MockResourceManager a = f.database("A");
        GlobalTransaction tx = f.coordinator.begin(null);
        tx.enlistResource(a.connect());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> recovery.resolve(tx.gtrid(), PhaseTwoJob.Direction.ROLLBACK, null, null));
        assertTrue(e.getMessage().contains("no decided phase 2"), e.getMessage());
        assertEquals(TxState.ACTIVE, tx.state());
        tx.rollback();
    }

    @Test
    void aBranchOfATransactionStillInPhaseTwoIsCommittedOnTheOperatorsWordButNotRolledBack() throws Exception {
        MockResourceManager a = f.database("A");
        // Until the operator has acted, the transaction's own retries (on engine threads) fail before they reach B,
        // so that they cannot commit B first once it stops failing; they fail the way a broken connection does.
        Thread operator = Thread.currentThread();
        AtomicBoolean operatorActed = new AtomicBoolean();
        MockResourceManager b = f.database("B").always(Op.COMMIT, XAException.XAER_RMFAIL).during(Op.COMMIT, xid -> {
            if (Thread.currentThread() != operator && !operatorActed.get()) {
                throw new IllegalStateException("connection lost (held back until the operator has acted)");
            }
        });
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(a.connect());
        tx.enlistResource(b.connect());
        f.tm.commit();
        assertEquals(TxState.COMMITTING, tx.state(), "B keeps failing: phase 2 retries in the background");

        assertThrows(IllegalStateException.class,
                () -> recovery.resolve(tx.gtrid(), PhaseTwoJob.Direction.ROLLBACK, "B", 2));
        assertEquals(BranchState.PREPARED, b.state(2, tx.gtrid()));

        b.stopAlways(Op.COMMIT);
        RecoveryManager.Resolution r = recovery.resolve(tx.gtrid(), PhaseTwoJob.Direction.COMMIT, "B", 2);
        operatorActed.set(true);
        assertEquals("in flight, COMMITTING", r.decision().basis());
        assertEquals(BranchOutcome.DONE, r.branches().get(0).outcome());
        assertEquals(BranchState.COMMITTED, b.state(2, tx.gtrid()));
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS),
                "the transaction's own retry finds the branch done");
    }

    @Test
    void aHeuristicOutcomeOfTheOperatorsCommitIsRecordedAndThenOnlyForgotten() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        Gtrid g = loggedDecision(a, b, 6);
        a.next(Op.COMMIT, XAException.XA_HEURRB);

        RecoveryManager.Resolution r = recovery.resolve(g, PhaseTwoJob.Direction.COMMIT, "A", 1);

        assertEquals(BranchOutcome.HEURISTIC_ROLLBACK, r.branches().get(0).outcome());
        assertTrue(r.branches().get(0).finished());
        assertEquals(1, f.log.heuristics().size());
        assertEquals(HeuristicOutcome.ROLLED_BACK, f.log.heuristics().get(0).outcome());
        assertTrue(f.log.heuristics().get(0).isFor(g, "A", 1));
        IllegalStateException again = assertThrows(IllegalStateException.class,
                () -> recovery.resolve(g, PhaseTwoJob.Direction.COMMIT, "A", 1));
        assertTrue(again.getMessage().contains("forget"), again.getMessage());

        assertEquals(1, recovery.forgetTransaction(g).size());
        assertTrue(f.log.heuristics().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> recovery.forgetTransaction(g));
    }
}
