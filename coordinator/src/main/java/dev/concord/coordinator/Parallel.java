package dev.concord.coordinator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Runs one action per branch: every slow branch but one on a worker, in parallel; the remaining slow one and every
 * quick one on the calling thread ({@link ResourceLatency}). With only quick branches, or one slow branch, nothing
 * changes threads. Returns once every action has run.
 */
final class Parallel {
    private Parallel() {
    }

    static void forEach(ExecutorService executor, ResourceLatency latency, List<Branch> branches,
                        Consumer<Branch> action) {
        if (branches.size() == 1) {
            timed(latency, branches.get(0), action);
            return;
        }
        List<Branch> here = new ArrayList<>(branches.size());
        List<CompletableFuture<Void>> others = null;
        boolean keptSlow = false;
        for (Branch b : branches) {
            if (latency.isQuick(b.resourceName())) {
                here.add(b);
            } else if (!keptSlow) {
                // The calling thread takes the first slow branch itself, ahead of the quick ones.
                keptSlow = true;
                here.add(0, b);
            } else {
                if (others == null) {
                    others = new ArrayList<>(branches.size() - 1);
                }
                try {
                    others.add(CompletableFuture.runAsync(() -> timed(latency, b, action), executor));
                } catch (RejectedExecutionException e) {
                    here.add(b);
                }
            }
        }
        for (Branch b : here) {
            timed(latency, b, action);
        }
        if (others != null) {
            for (CompletableFuture<Void> f : others) {
                f.join();
            }
        }
    }

    private static void timed(ResourceLatency latency, Branch b, Consumer<Branch> action) {
        long start = latency.start();
        try {
            action.accept(b);
        } finally {
            latency.record(b.resourceName(), start);
        }
    }
}
