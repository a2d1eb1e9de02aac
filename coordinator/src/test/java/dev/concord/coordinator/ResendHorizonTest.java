package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.coordinator.testing.MockResourceManager.BranchState;
import dev.concord.coordinator.testing.MockResourceManager.Op;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.time.Duration;
import java.util.List;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A resource with a resend horizon (RocketMQ, whose broker does not de-duplicate ENDs) is never called twice within
 * it; its check-back, answered COMMIT from the outcome index meanwhile, delivers the outcome.
 */
class ResendHorizonTest {
    private final EngineFixture f = new EngineFixture();

    @AfterEach
    void close() {
        f.close();
    }

    /** Waits (bounded) until the control branch has been called {@code calls} times: retry rounds went on. */
    private void awaitControlCalls(int calls) throws InterruptedException {
        for (int i = 0; i < 500 && f.events.matching("CONTROL.commit").size() < calls; i++) {
            Thread.sleep(10);
        }
        assertTrue(f.events.matching("CONTROL.commit").size() >= calls, "the retry loop kept running");
    }

    @Test
    void failedEndIsNotRepeatedWithinTheHorizonWhileTheOutcomeStaysCommit() throws Exception {
        MockResourceManager db = f.database("DB");
        MockResourceManager mq = f.messages("MQ").withResendHorizon(Duration.ofHours(1))
                .next(Op.COMMIT, XAException.XAER_RMFAIL);
        // A control branch without horizon that keeps failing, to observe that retry rounds go on.
        MockResourceManager control = f.messages("CONTROL").always(Op.COMMIT, XAException.XA_RETRY);
        f.tm.begin();
        GlobalTransaction tx = f.tm.currentTransaction();
        tx.enlistResource(db.connect());
        tx.enlistResource(mq.connect());
        tx.enlistResource(control.connect());
        f.tm.commit();

        awaitControlCalls(4);
        assertEquals(1, f.events.matching("MQ.commit").size(), "the END was not sent again within the horizon");
        assertEquals(TxState.COMMITTING, tx.state());
        assertEquals(Outcome.COMMIT, f.coordinator.outcomeOf(tx.gtrid()), "check-backs are answered COMMIT");
        control.clearScripts();
    }

    @Test
    void recoveredDecisionWaitsForTheHorizonBeforeResendingAndResendsAfterIt() throws Exception {
        MockResourceManager db = f.database("DB");
        MockResourceManager mq = f.messages("MQ").withResendHorizon(Duration.ofHours(1));
        RecoveryManager recovery = new RecoveryManager(f.coordinator, f.log);
        long now = System.currentTimeMillis();

        Gtrid recent = Gtrid.of("test-node", now - 1_000, 1);
        Gtrid old = Gtrid.of("test-node", now - 3 * 3_600_000L, 2);
        for (Gtrid g : List.of(recent, old)) {
            for (int branch = 1; branch <= 2; branch++) {
                MockResourceManager rm = branch == 1 ? db : mq;
                MockResourceManager.Connection c = rm.connect();
                ConcordXid xid = new ConcordXid(g, branch);
                c.start(xid, XAResource.TMNOFLAGS);
                c.end(xid, XAResource.TMSUCCESS);
                c.prepare(xid);
            }
            f.log.forceCommitDecision(new CommitDecision(g, g.beginMillis(),
                    List.of(new BranchRecord("DB", 1, null), new BranchRecord("MQ", 2, null))));
        }

        recovery.recover();

        assertEquals(BranchState.COMMITTED, db.state(1, recent), "database branches are redone at once");
        assertEquals(BranchState.PREPARED, mq.state(2, recent), "within the horizon the check-back has the message");
        assertEquals(BranchState.COMMITTED, mq.state(2, old), "past the horizon END is re-sent");
        assertEquals(List.of(recent), f.log.unfinishedDecisions().stream().map(CommitDecision::gtrid).toList());
        recovery.close();
    }
}
