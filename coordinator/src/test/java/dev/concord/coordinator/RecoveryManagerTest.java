package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.coordinator.testing.MockResourceManager.BranchState;
import dev.concord.coordinator.testing.MockResourceManager.Op;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.transaction.xa.XAException;
import javax.transaction.xa.Xid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Recovery from a seeded log and seeded resource managers, brought back one by one. */
class RecoveryManagerTest {
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

    @Test
    void commitDecisionWithoutEndIsCommittedOnEveryBranchAndEnded() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        Gtrid g = previousRun(1);
        a.seedPrepared(new ConcordXid(g, 1));
        b.seedPrepared(new ConcordXid(g, 2));
        f.log.forceCommitDecision(new CommitDecision(g, earlier,
                List.of(new BranchRecord("A", 1, null), new BranchRecord("B", 2, null))));
        f.events.clear();

        RecoveryManager.Report r = recovery.recover();

        assertEquals(1, r.decisionsRedone());
        assertEquals(1, r.decisionsFinished());
        assertEquals(BranchState.COMMITTED, a.state(1, g));
        assertEquals(BranchState.COMMITTED, b.state(2, g));
        assertTrue(f.log.unfinishedDecisions().isEmpty());
        List<String> e = f.events.events();
        int end = e.indexOf("log.end");
        assertTrue(e.subList(0, end).containsAll(List.of("A.open", "B.open", "A.commit#1", "B.commit#2")), e.toString());
        assertEquals(List.of("A.open", "A.recover", "B.open", "B.recover"), e.subList(end + 1, e.size()),
                "the scan comes after the redo, and finds nothing left to do");
    }

    @Test
    void branchAlreadyCommittedBeforeTheCrashCountsAsDoneWhenTheScanHasNoTrace() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        Gtrid g = previousRun(2);
        a.seedPrepared(new ConcordXid(g, 1));
        a.connect().commit(new ConcordXid(g, 1), false); // committed before the crash
        b.seedPrepared(new ConcordXid(g, 2));
        f.log.forceCommitDecision(new CommitDecision(g, earlier,
                List.of(new BranchRecord("A", 1, null), new BranchRecord("B", 2, null))));

        recovery.recover();

        assertEquals(BranchState.COMMITTED, b.state(2, g));
        assertTrue(f.log.unfinishedDecisions().isEmpty());
    }

    @Test
    void notaWhileTheScanStillListsTheBranchIsRetriedNotCountedDone() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XAER_NOTA);
        Gtrid g = previousRun(3);
        a.seedPrepared(new ConcordXid(g, 1));
        b.seedPrepared(new ConcordXid(g, 2));
        f.log.forceCommitDecision(new CommitDecision(g, earlier,
                List.of(new BranchRecord("A", 1, null), new BranchRecord("B", 2, null))));

        RecoveryManager.Report r = recovery.recover();
        assertEquals(0, r.decisionsFinished(), "B answered NOTA but still lists the XID");
        // The retry runs in the background and may already have finished when the scan looks (then nothing is
        // listed); either way the decided branch must not be rolled back as an orphan.
        assertEquals(0, r.orphansRolledBack(), "the in-doubt branch is not taken for an orphan");

        for (int i = 0; i < 200 && !f.log.unfinishedDecisions().isEmpty(); i++) {
            Thread.sleep(20);
        }
        assertEquals(BranchState.COMMITTED, b.state(2, g));
        assertTrue(f.log.unfinishedDecisions().isEmpty());
    }

    @Test
    void preparedBranchWithoutDecisionIsRolledBack() throws Exception {
        MockResourceManager a = f.database("A");
        Gtrid g = previousRun(4);
        a.seedPrepared(new ConcordXid(g, 1));

        RecoveryManager.Report r = recovery.recover();

        assertEquals(1, r.orphansRolledBack());
        assertEquals(BranchState.ROLLED_BACK, a.state(1, g));
        assertTrue(f.events.matching("log.").isEmpty(), "presumed abort writes nothing");
    }

    @Test
    void orphanAnsweringNotaWhileStillListedIsNotCountedAndIsRolledBackLater() throws Exception {
        MockResourceManager a = f.database("A");
        Gtrid g = previousRun(9);
        a.seedPrepared(new ConcordXid(g, 1));
        a.next(Op.ROLLBACK, XAException.XAER_NOTA);

        assertEquals(0, recovery.recover().orphansRolledBack());
        assertEquals(BranchState.PREPARED, a.state(1, g));
        assertEquals(1, recovery.recover().orphansRolledBack());
        assertEquals(BranchState.ROLLED_BACK, a.state(1, g));
    }

    @Test
    void inFlightTransactionsAreNeverRolledBack() throws Exception {
        MockResourceManager a = f.database("A");
        GlobalTransaction tx = f.coordinator.begin(Duration.ofSeconds(30));
        ConcordXid xid = tx.reserveBranchXid();
        a.seedPrepared(xid); // a participant prepared its branch; the transaction is still active

        RecoveryManager.Report r = recovery.recover();

        assertEquals(0, r.orphansRolledBack());
        assertEquals(1, r.leftInFlight());
        assertEquals(BranchState.PREPARED, a.state(xid.branch(), tx.gtrid()));
        tx.registerPreparedBranch("A", xid.branch());
        tx.commit();
        assertEquals(BranchState.COMMITTED, a.state(xid.branch(), tx.gtrid()));
    }

    @Test
    void xidBegunAfterTheOldestInFlightTransactionIsLeftForTheNextPass() throws Exception {
        MockResourceManager a = f.database("A");
        GlobalTransaction old = f.coordinator.begin(Duration.ofSeconds(30));
        Gtrid younger = Gtrid.of("test-node", old.gtrid().beginMillis() + 1, 99);
        a.seedPrepared(new ConcordXid(younger, 1));

        assertEquals(0, recovery.recover().orphansRolledBack());
        old.rollback();
        assertEquals(1, recovery.recover().orphansRolledBack());
    }

    @Test
    void otherNodesAndOtherProductsXidsAreNeverTouched() throws Exception {
        MockResourceManager a = f.database("A");
        Xid otherNode = new ConcordXid(Gtrid.of("other-node", earlier, 1), 1);
        Xid otherProduct = new Xid() {
            @Override
            public int getFormatId() {
                return 4660;
            }

            @Override
            public byte[] getGlobalTransactionId() {
                return previousRun(5).toBytes();
            }

            @Override
            public byte[] getBranchQualifier() {
                return ConcordXid.bqualOf(1);
            }
        };
        a.seedPrepared(otherNode);
        a.seedPrepared(otherProduct);

        RecoveryManager.Report r = recovery.recover();

        assertEquals(0, r.orphansRolledBack());
        assertEquals(2, a.prepared().size());
        assertTrue(f.events.matching("A.rollback").isEmpty());
    }

    @Test
    void unreachableResourceIsReportedAndRecoveredOnALaterPass() throws Exception {
        MockResourceManager a = f.database("A");
        Gtrid g = previousRun(6);
        a.seedPrepared(new ConcordXid(g, 1));
        a.next(Op.RECOVER, XAException.XAER_RMFAIL);

        RecoveryManager.Report first = recovery.recover();
        assertEquals(List.of("A"), first.unreachableResources());
        assertEquals(BranchState.PREPARED, a.state(1, g));

        RecoveryManager.Report second = recovery.recover();
        assertTrue(second.unreachableResources().isEmpty());
        assertEquals(BranchState.ROLLED_BACK, a.state(1, g));
    }

    @Test
    void decisionForAResourceThatIsNotConfiguredYetIsKeptAndRetried() throws Exception {
        Gtrid g = previousRun(7);
        f.log.forceCommitDecision(new CommitDecision(g, earlier,
                List.of(new BranchRecord("late", 1, null), new BranchRecord("late", 2, null))));
        recovery.recover();
        assertEquals(1, f.log.unfinishedDecisions().size());
        assertTrue(recovery.inDoubt().contains(g));

        MockResourceManager late = f.database("late");
        late.seedPrepared(new ConcordXid(g, 1));
        late.seedPrepared(new ConcordXid(g, 2));
        for (int i = 0; i < 250 && !f.log.unfinishedDecisions().isEmpty(); i++) {
            Thread.sleep(20);
        }
        assertEquals(BranchState.COMMITTED, late.state(1, g));
        assertEquals(BranchState.COMMITTED, late.state(2, g));
        assertTrue(recovery.inDoubt().isEmpty());
    }

    @Test
    void heuristicIsKeptUntilAnOperatorForgetsIt() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XA_HEURRB);
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(a.connect());
        tx.enlistResource(b.connect());
        assertThrows(jakarta.transaction.HeuristicMixedException.class, f.tm::commit);

        List<HeuristicRecord> h = recovery.heuristics();
        assertEquals(1, h.size());
        assertEquals(HeuristicOutcome.ROLLED_BACK, h.get(0).outcome());
        recovery.recover();
        assertEquals(1, recovery.heuristics().size(), "recovery does not forget on its own");

        assertThrows(IllegalArgumentException.class, () -> recovery.forget(tx.gtrid(), "B", 9));
        recovery.forget(tx.gtrid(), "B", 2);
        assertTrue(recovery.heuristics().isEmpty());
        assertEquals(List.of("B.forget#2"), f.events.matching("B.forget"));
    }

    @Test
    void periodicPassesRunOnTheEngineTimer() throws Exception {
        MockResourceManager a = f.database("A");
        recovery.start(Duration.ofMillis(20));
        Gtrid g = previousRun(8);
        a.seedPrepared(new ConcordXid(g, 1));
        for (int i = 0; i < 250 && a.state(1, g) != BranchState.ROLLED_BACK; i++) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertEquals(BranchState.ROLLED_BACK, a.state(1, g));
        assertThrows(IllegalStateException.class, () -> recovery.start(Duration.ofSeconds(1)));
    }
}
