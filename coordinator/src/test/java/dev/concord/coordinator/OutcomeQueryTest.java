package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.coordinator.testing.MockResourceManager.Op;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.InMemoryTransactionLog;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.outcome.OutcomeIndex;
import dev.concord.recovery.xid.Gtrid;
import jakarta.transaction.RollbackException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.transaction.xa.XAException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine keeps the outcome index true through every completion path. */
class OutcomeQueryTest {
    private final EngineFixture f = new EngineFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void activeTransactionIsUnknownAndCommittedOneIsCommit() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(a.connect());
        tx.enlistResource(b.connect());
        assertEquals(Outcome.UNKNOWN, f.coordinator.outcomeOf(tx.gtrid()));
        f.tm.commit();
        assertEquals(Outcome.COMMIT, f.coordinator.outcomeOf(tx.gtrid()));
    }

    @Test
    void decidedTransactionWhosePhaseTwoIsStillRetryingIsCommit() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").always(Op.COMMIT, XAException.XAER_RMFAIL);
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(a.connect());
        tx.enlistResource(b.connect());
        f.tm.commit();
        assertEquals(TxState.COMMITTING, tx.state(), "phase 2 is still being retried");
        assertEquals(Outcome.COMMIT, f.coordinator.outcomeOf(tx.gtrid()));
        b.clearScripts();
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(Outcome.COMMIT, f.coordinator.outcomeOf(tx.gtrid()));
    }

    @Test
    void onePhaseAndLoneVoterCommitsAreCommitThoughNothingIsLogged() throws Exception {
        MockResourceManager a = f.database("A");
        f.tm.begin();
        GlobalTransaction one = f.tm.currentTransaction();
        one.enlistResource(a.connect());
        f.tm.commit();
        assertEquals(Outcome.COMMIT, f.coordinator.outcomeOf(one.gtrid()));
        assertEquals(List.of(), f.events.matching("log."));
    }

    @Test
    void rolledBackAndRefusedTransactionsOfThisIncarnationAreRollback() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.PREPARE, XAException.XA_RBROLLBACK);
        // A transaction begun in the very millisecond the index opened counts as an earlier incarnation's
        // (answered UNKNOWN, never ROLLBACK); begin after it.
        while (System.currentTimeMillis() <= f.coordinator.outcomes().openedAtMillis()) {
            Thread.sleep(1);
        }
        f.tm.begin();
        GlobalTransaction explicit = f.tm.currentTransaction();
        explicit.enlistResource(a.connect());
        f.tm.rollback();
        assertEquals(Outcome.ROLLBACK, f.coordinator.outcomeOf(explicit.gtrid()));

        f.tm.begin();
        GlobalTransaction refused = f.tm.currentTransaction();
        refused.enlistResource(a.connect());
        refused.enlistResource(b.connect());
        assertThrows(RollbackException.class, f.tm::commit);
        assertEquals(Outcome.ROLLBACK, f.coordinator.outcomeOf(refused.gtrid()));
    }

    @Test
    void anotherNodesTransactionIsUnknown() {
        assertEquals(Outcome.UNKNOWN, f.coordinator.outcomeOf(Gtrid.of("other-node", System.currentTimeMillis(), 1)));
    }

    @Test
    void recoveredDecisionIsCommitBeforeAndAfterRecoveryFinishesIt() throws Exception {
        InMemoryTransactionLog log = new InMemoryTransactionLog();
        Gtrid earlier = Gtrid.of("test-node", System.currentTimeMillis() - 5_000, 1);
        log.forceCommitDecision(new CommitDecision(earlier, earlier.beginMillis(),
                List.of(new BranchRecord("A", 1, null), new BranchRecord("B", 2, null))));
        OutcomeIndex index = OutcomeIndex.open("test-node", Duration.ofMinutes(10), 1000, Clock.systemUTC(), log);
        ResourceRegistry registry = new ResourceRegistry();
        try (Coordinator c = new Coordinator(CoordinatorConfig.builder().nodeId("test-node").build(), log, registry,
                CoordinatorListener.NONE, index)) {
            assertEquals(Outcome.COMMIT, c.outcomeOf(earlier), "from the log at start");
            Gtrid unlogged = Gtrid.of("test-node", System.currentTimeMillis() - 4_000, 2);
            assertEquals(Outcome.UNKNOWN, c.outcomeOf(unlogged), "an earlier incarnation's transaction without a "
                    + "record may have committed in one phase: never ROLLBACK");
        }
    }

    @Test
    void indexOfAnotherNodeIsRefused() {
        OutcomeIndex other = OutcomeIndex.open("node-x", new InMemoryTransactionLog());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Coordinator(
                CoordinatorConfig.builder().nodeId("node-y").build(), new InMemoryTransactionLog(),
                new ResourceRegistry(), CoordinatorListener.NONE, other));
        assertEquals(true, e.getMessage().contains("node-x"));
    }
}
