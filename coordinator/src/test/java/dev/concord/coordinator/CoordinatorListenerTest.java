package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.coordinator.testing.MockResourceManager.Op;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.transaction.xa.XAException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The listener hears of each phase once, in protocol order, with its duration; phase 2 once it is finished. */
class CoordinatorListenerTest {
    private final List<String> heard = new CopyOnWriteArrayList<>();
    private final CoordinatorListener recorder = new CoordinatorListener() {
        @Override
        public void begun(GlobalTransaction tx) {
            heard.add("begun");
        }

        @Override
        public void prepared(GlobalTransaction tx, long nanos) {
            assertTrue(nanos >= 0);
            heard.add("prepared");
        }

        @Override
        public void phaseTwoFinished(PhaseTwoJob job, long nanos) {
            assertTrue(nanos >= 0);
            assertTrue(job.isFinished());
            heard.add("phase2:" + job.direction());
        }

        @Override
        public void completed(GlobalTransaction tx) {
            heard.add("completed:" + tx.state());
        }
    };
    private final EngineFixture f = new EngineFixture(CoordinatorListener.all(recorder, CoordinatorListener.NONE));

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
    void aTwoPhaseCommitIsHeardPhaseByPhase() throws Exception {
        begin(f.database("A"), f.database("B"));
        f.tm.commit();
        assertEquals(List.of("begun", "prepared", "phase2:COMMIT", "completed:COMMITTED"), heard);
    }

    @Test
    void aRetriedPhaseTwoIsHeardOnceWhenItFinishes() throws Exception {
        MockResourceManager b = f.database("B").next(Op.COMMIT, XAException.XAER_RMFAIL);
        GlobalTransaction tx = begin(f.database("A"), b);
        f.tm.commit();
        assertEquals(TxState.COMMITTED, tx.completion().get(10, TimeUnit.SECONDS));
        assertEquals(List.of("begun", "prepared", "phase2:COMMIT", "completed:COMMITTED"), heard);
    }

    @Test
    void aRollbackIsHeardWithoutAPreparePhase() throws Exception {
        begin(f.database("A"), f.database("B"));
        f.tm.rollback();
        assertEquals(List.of("begun", "phase2:ROLLBACK", "completed:ROLLED_BACK"), heard);
    }
}
