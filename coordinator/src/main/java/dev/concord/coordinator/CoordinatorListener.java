package dev.concord.coordinator;

/**
 * Observes transactions for metrics and operators. Called on the thread that caused the event; must not block or
 * throw.
 */
public interface CoordinatorListener {
    /** Observes nothing. */
    CoordinatorListener NONE = new CoordinatorListener() {
    };

    /** A transaction began. */
    default void begun(GlobalTransaction tx) {
    }

    /** A transaction reached a terminal state (committed, rolled back or heuristic) with phase 2 finished. */
    default void completed(GlobalTransaction tx) {
    }
}
