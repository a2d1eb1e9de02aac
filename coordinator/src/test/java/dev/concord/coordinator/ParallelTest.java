package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.recovery.xid.XidFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ParallelTest {
    private final ExecutorService workers = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        workers.shutdownNow();
    }

    private static List<Branch> branches(String... resources) {
        Gtrid gtrid = new XidFactory("parallel-test").newGtrid();
        List<Branch> out = new ArrayList<>();
        for (String r : resources) {
            out.add(new Branch(new ConcordXid(gtrid, out.size() + 1), r, BranchKind.DATABASE, null));
        }
        return out;
    }

    /** A clock on which every call takes {@code callNanos}: start and record are one tick apart. */
    private static ResourceLatency latencyWithCallsOf(long callNanos) {
        AtomicLong now = new AtomicLong();
        return new ResourceLatency(() -> now.getAndAdd(callNanos));
    }

    @Test
    void resourcesNotSeenYetAreCalledInParallelOneOfThemOnTheCallingThread() {
        CyclicBarrier allStarted = new CyclicBarrier(3);
        Map<String, Thread> ranOn = new ConcurrentHashMap<>();
        new Parallel(workers, new ResourceLatency(), 1).forEach(branches("db1", "db2", "db3"), b -> {
            ranOn.put(b.resourceName(), Thread.currentThread());
            try {
                // Sequential calls would never get three parties here at once.
                allStarted.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("branch " + b + " waited in vain for the others to start", e);
            }
        });
        assertEquals(Set.of("db1", "db2", "db3"), ranOn.keySet());
        assertEquals(3, Set.copyOf(ranOn.values()).size(), "each on a thread of its own");
        assertTrue(ranOn.containsValue(Thread.currentThread()), "the caller takes one branch itself");
    }

    @Test
    void quickResourcesAreCalledOnTheCallingThreadOnly() {
        ResourceLatency latency = latencyWithCallsOf(2_000);
        List<Branch> branches = branches("mem1", "mem2", "mem3");
        Parallel parallel = new Parallel(workers, latency, 1);
        parallel.forEach(branches, b -> { });
        List<Thread> ranOn = new ArrayList<>();
        parallel.forEach(branches, b -> ranOn.add(Thread.currentThread()));
        assertEquals(List.of(Thread.currentThread(), Thread.currentThread(), Thread.currentThread()), ranOn);
    }

    @Test
    void slowResourcesGoToWorkersWhileQuickOnesStayOnTheCallingThread() throws Exception {
        AtomicLong now = new AtomicLong();
        ResourceLatency latency = new ResourceLatency(now::get);
        long start = latency.start();
        now.addAndGet(2_000_000);
        latency.record("slow1", start);
        latency.record("slow2", start);
        now.addAndGet(1_000);
        start = latency.start();
        latency.record("quick", start);
        CyclicBarrier slowOnes = new CyclicBarrier(2);
        Map<String, Thread> ranOn = new ConcurrentHashMap<>();
        new Parallel(workers, latency, 1).forEach(branches("quick", "slow1", "slow2"), b -> {
            ranOn.put(b.resourceName(), Thread.currentThread());
            if (b.resourceName().startsWith("slow")) {
                try {
                    slowOnes.await(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError("slow branch " + b + " ran without the other", e);
                }
            }
        });
        assertEquals(Thread.currentThread(), ranOn.get("quick"));
        assertTrue(ranOn.get("slow1") != ranOn.get("slow2"), "the slow branches ran at the same time");
    }

    @Test
    void beyondTheLimitATransactionCallsItsSlowBranchesOnItsOwnThread() {
        Parallel parallel = new Parallel(workers, new ResourceLatency(), 1);
        parallel.enter();
        parallel.enter();
        try {
            // Two transactions in two-phase commit, limit 1: "db1" and "db2" are not seen yet, so slow, and would
            // otherwise go one to a worker.
            List<Thread> ranOn = new ArrayList<>();
            parallel.forEach(branches("db1", "db2"), b -> ranOn.add(Thread.currentThread()));
            assertEquals(List.of(Thread.currentThread(), Thread.currentThread()), ranOn);
        } finally {
            parallel.leave();
        }
        // One left, within the limit: the hand-off is back.
        Map<String, Thread> ranOn = new ConcurrentHashMap<>();
        CyclicBarrier together = new CyclicBarrier(2);
        parallel.forEach(branches("db3", "db4"), b -> {
            ranOn.put(b.resourceName(), Thread.currentThread());
            try {
                together.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("within the limit both slow branches run at once", e);
            }
        });
        assertEquals(2, Set.copyOf(ranOn.values()).size());
        parallel.leave();
    }

    @Test
    void slowBranchesBeyondTheLimitRunFirstAndQuickOnesAfterThem() {
        AtomicLong now = new AtomicLong();
        ResourceLatency latency = new ResourceLatency(now::get);
        long start = latency.start();
        now.addAndGet(1_000);
        latency.record("quick", start);
        Parallel parallel = new Parallel(workers, latency, 0);
        List<String> order = new ArrayList<>();
        parallel.forEach(branches("quick", "slow1", "slow2"), b -> order.add(b.resourceName()));
        assertEquals(List.of("slow1", "slow2", "quick"), order);
    }

    @Test
    void aLimitOfZeroNeverHandsOff() {
        List<Thread> ranOn = new ArrayList<>();
        new Parallel(workers, new ResourceLatency(), 0).forEach(branches("db1", "db2", "db3"),
                b -> ranOn.add(Thread.currentThread()));
        assertEquals(List.of(Thread.currentThread(), Thread.currentThread(), Thread.currentThread()), ranOn);
    }

    @Test
    void aQuickResourceThatTurnsSlowIsNoticedWithinAFewCalls() {
        AtomicLong now = new AtomicLong();
        ResourceLatency latency = new ResourceLatency(now::get);
        long start = latency.start();
        now.addAndGet(1_000);
        latency.record("r", start);
        assertTrue(latency.isQuick("r"));
        int calls = 0;
        while (latency.isQuick("r") && calls < 10) {
            start = latency.start();
            now.addAndGet(5_000_000);
            latency.record("r", start);
            calls++;
        }
        assertFalse(latency.isQuick("r"));
        assertEquals(1, calls, "one 5 ms call outweighs a 1 µs average");
        assertFalse(latency.isQuick("never-called"), "an unknown resource counts as slow");
    }
}
