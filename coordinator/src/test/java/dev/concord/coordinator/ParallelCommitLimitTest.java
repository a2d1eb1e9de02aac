package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import dev.concord.coordinator.testing.MockResourceManager.BranchState;
import dev.concord.coordinator.testing.MockResourceManager.Op;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link CoordinatorConfig#parallelCommitLimit()}: a transaction hands slow branches to workers only while no more
 * transactions than the limit are in two-phase commit; beyond it each calls its branches on its own thread. Both
 * ways the protocol is the same.
 */
class ParallelCommitLimitTest {
    private final EngineFixture f = EngineFixture.withParallelCommitLimit(1);
    private final ExecutorService other = Executors.newSingleThreadExecutor();

    @AfterEach
    void close() {
        other.shutdownNow();
        f.close();
    }

    @Test
    void beyondTheLimitATransactionPreparesAndCommitsOnItsOwnThread() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        Map<String, Thread> ranOn = new ConcurrentHashMap<>();
        AtomicReference<Gtrid> first = new AtomicReference<>();
        CountDownLatch firstPreparing = new CountDownLatch(2);
        CountDownLatch secondDone = new CountDownLatch(1);
        for (MockResourceManager rm : new MockResourceManager[] {a, b}) {
            for (Op op : new Op[] {Op.PREPARE, Op.COMMIT}) {
                rm.during(op, xid -> {
                    Gtrid g = ConcordXid.from(xid).gtrid();
                    ranOn.put(rm.name() + "." + op + "." + (g.equals(first.get()) ? "first" : "second"),
                            Thread.currentThread());
                    if (g.equals(first.get()) && op == Op.PREPARE) {
                        // The first transaction stays inside prepare until the second one has committed.
                        firstPreparing.countDown();
                        await(secondDone);
                    } else {
                        // 2 ms a call: both resources stay slow (worth a worker) for the second transaction.
                        sleep(2);
                    }
                });
            }
        }

        Future<Thread> firstCommitter = other.submit(() -> {
            f.tm.begin();
            GlobalTransaction tx = f.tm.currentTransaction();
            first.set(tx.gtrid());
            tx.enlistResource(a.connect());
            tx.enlistResource(b.connect());
            f.tm.commit();
            return Thread.currentThread();
        });
        assertTrue(firstPreparing.await(30, TimeUnit.SECONDS),
                "the first transaction, alone within the limit, prepares both branches at once");

        GlobalTransaction second;
        try {
            f.tm.begin();
            second = f.tm.currentTransaction();
            second.enlistResource(a.connect());
            second.enlistResource(b.connect());
            f.tm.commit();
        } finally {
            secondDone.countDown();
        }
        Thread firstThread = firstCommitter.get(30, TimeUnit.SECONDS);

        Thread me = Thread.currentThread();
        for (String call : new String[] {"A.PREPARE", "B.PREPARE", "A.COMMIT", "B.COMMIT"}) {
            assertEquals(me, ranOn.get(call + ".second"), call + " of the transaction beyond the limit ran on "
                    + ranOn.get(call + ".second") + ", not on its committing thread");
        }
        assertNotEquals(firstThread, ranOn.get("B.PREPARE.first"), "within the limit a slow branch goes to a worker");
        assertEquals(TxState.COMMITTED, second.state());
        assertEquals(BranchState.COMMITTED, a.state(1, second.gtrid()));
        assertEquals(BranchState.COMMITTED, b.state(2, second.gtrid()));
        assertEquals(BranchState.COMMITTED, a.state(1, first.get()));
        assertEquals(BranchState.COMMITTED, b.state(2, first.get()));
        assertEquals(2, f.events.matching("log.decision").size(), "each decision forced before its phase 2");
    }

    /**
     * A commit that races the engine's close still calls every branch: a hand-off the stopped worker pool refuses
     * runs on the committing thread. (The pool used to drop it silently, and the commit waited for it forever.)
     */
    @Test
    void aCommitThatRacesCloseCallsItsBranchesOnItsOwnThreadInsteadOfWaitingForever() throws Exception {
        MockResourceManager a = f.database("A");
        MockResourceManager b = f.database("B");
        MockResourceManager c = f.database("C");
        Map<String, Thread> ranOn = new ConcurrentHashMap<>();
        for (MockResourceManager rm : new MockResourceManager[] {a, b, c}) {
            rm.during(Op.PREPARE, xid -> ranOn.put(rm.name(), Thread.currentThread()));
        }
        AtomicReference<GlobalTransaction> committed = new AtomicReference<>();
        Future<Thread> committer = other.submit(() -> {
            f.tm.begin();
            GlobalTransaction tx = f.tm.currentTransaction();
            committed.set(tx);
            tx.enlistResource(a.connect());
            tx.enlistResource(b.connect());
            tx.enlistResource(c.connect());
            f.coordinator.close();
            f.tm.commit();
            return Thread.currentThread();
        });
        Thread me = committer.get(30, TimeUnit.SECONDS);
        GlobalTransaction tx = committed.get();
        assertEquals(Map.of("A", me, "B", me, "C", me), ranOn, "every branch prepared on the committing thread");
        assertEquals(TxState.COMMITTED, tx.state());
        assertEquals(BranchState.COMMITTED, a.state(1, tx.gtrid()));
        assertEquals(BranchState.COMMITTED, b.state(2, tx.gtrid()));
        assertEquals(BranchState.COMMITTED, c.state(3, tx.gtrid()));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("waited 30 s in vain");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
