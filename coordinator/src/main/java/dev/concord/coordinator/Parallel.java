package dev.concord.coordinator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs one action per branch (a prepare, or a phase-2 step) and returns once every action has run.
 *
 * <p>Quick branches always run on the calling thread ({@link ResourceLatency}); so does everything when fewer than
 * two branches are slow. With two or more slow branches the calling thread takes the first slow one and the quick
 * ones and hands every other slow one to a worker, so that their round trips overlap — but only while at most
 * {@linkplain CoordinatorConfig#parallelCommitLimit() limit} transactions (by default as many as there are
 * processors) are in two-phase commit, between {@link #enter()} and {@link #leave()}: prepare, the decision's force
 * and phase 2. With more, the transaction calls all its branches one after the other on its own thread, slow ones
 * first. A limit of 0 never hands off.
 *
 * <p>Why: a hand-off costs the worker's wake-up and park and the caller's wait — context switches and tens of
 * microseconds of CPU. On a quiet machine that buys latency: a core is free to run the worker while the caller
 * waits for its own round trip. When more transactions are committing than there are cores, their round trips
 * already overlap one another's and the cores have work; a hand-off then only adds CPU, and CPU is what the
 * transactions queue for (measured with a MariaDB and a PostgreSQL branch per transaction, both servers on the
 * same 2 cores: at 8 threads the hand-offs cost about 30 µs of CPU and one context switch per transaction, and
 * fewer transactions per second; at 1 thread the overlap is worth keeping). Counting whole commits rather than
 * only the moments inside this method keeps the rule from flickering back to hand-offs whenever, under load,
 * most committers happen to be waiting for the log. The count is a hint about load, never a protocol decision:
 * either way every branch is called exactly once, in the same phase.
 */
final class Parallel {
    private final ExecutorService executor;
    private final ResourceLatency latency;
    private final int limit;
    /** Transactions between {@link #enter()} and {@link #leave()}: in two-phase commit. */
    private final AtomicInteger committing = new AtomicInteger();

    /**
     * @param limit up to how many transactions in two-phase commit a transaction still hands slow branches to
     *              workers; 0 never
     */
    Parallel(ExecutorService executor, ResourceLatency latency, int limit) {
        this.executor = executor;
        this.latency = latency;
        this.limit = limit;
    }

    void forEach(List<Branch> branches, Consumer<Branch> action) {
        int n = branches.size();
        if (n == 1) {
            timed(branches.get(0), action);
            return;
        }
        int slow = 0;
        for (int i = 0; i < n && slow < 2; i++) {
            if (!latency.isQuick(branches.get(i).resourceName())) {
                slow++;
            }
        }
        if (slow < 2) {
            // Nothing to hand off: the slow branch (if any) first, then the quick ones, all here.
            inOrder(branches, action);
            return;
        }
        if (limit == 0 || committing.get() > limit) {
            inOrder(branches, action);
        } else {
            handingOff(branches, action);
        }
    }

    /** A transaction starts its two-phase commit (prepare, decision, phase 2). */
    void enter() {
        committing.incrementAndGet();
    }

    /** A transaction that {@link #enter() entered} is done with its two-phase commit. */
    void leave() {
        committing.decrementAndGet();
    }

    /** Every branch on the calling thread, the slow ones first (their round trips are the ones worth starting early). */
    private void inOrder(List<Branch> branches, Consumer<Branch> action) {
        List<Branch> quick = null;
        for (Branch b : branches) {
            if (latency.isQuick(b.resourceName())) {
                if (quick == null) {
                    quick = new ArrayList<>(branches.size());
                }
                quick.add(b);
            } else {
                timed(b, action);
            }
        }
        if (quick != null) {
            for (Branch b : quick) {
                timed(b, action);
            }
        }
    }

    private void handingOff(List<Branch> branches, Consumer<Branch> action) {
        List<Branch> here = new ArrayList<>(branches.size());
        List<CompletableFuture<Void>> others = new ArrayList<>(branches.size() - 1);
        boolean keptSlow = false;
        for (Branch b : branches) {
            if (latency.isQuick(b.resourceName())) {
                here.add(b);
            } else if (!keptSlow) {
                // The calling thread takes the first slow branch itself, ahead of the quick ones.
                keptSlow = true;
                here.add(0, b);
            } else {
                try {
                    others.add(CompletableFuture.runAsync(() -> timed(b, action), executor));
                } catch (RejectedExecutionException e) {
                    here.add(b);
                }
            }
        }
        for (Branch b : here) {
            timed(b, action);
        }
        for (CompletableFuture<Void> f : others) {
            f.join();
        }
    }

    private void timed(Branch b, Consumer<Branch> action) {
        long start = latency.start();
        try {
            action.accept(b);
        } finally {
            latency.record(b.resourceName(), start);
        }
    }
}
