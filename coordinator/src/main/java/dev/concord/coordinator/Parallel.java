package dev.concord.coordinator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/** Runs one action per item, in parallel when there are several: the first item on the calling thread. */
final class Parallel {
    private Parallel() {
    }

    static <T> void forEach(ExecutorService executor, List<T> items, Consumer<T> action) {
        if (items.size() == 1) {
            action.accept(items.get(0));
            return;
        }
        List<CompletableFuture<Void>> others = new ArrayList<>(items.size());
        for (int i = 1; i < items.size(); i++) {
            T item = items.get(i);
            try {
                others.add(CompletableFuture.runAsync(() -> action.accept(item), executor));
            } catch (RejectedExecutionException e) {
                action.accept(item);
            }
        }
        if (!items.isEmpty()) {
            action.accept(items.get(0));
        }
        for (CompletableFuture<Void> f : others) {
            f.join();
        }
    }
}
