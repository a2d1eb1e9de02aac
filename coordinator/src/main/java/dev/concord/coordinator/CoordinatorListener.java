package dev.concord.coordinator;

import java.util.List;

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

    /** The prepare phase of a two-phase commit ended (every branch voted or failed), after {@code nanos}. */
    default void prepared(GlobalTransaction tx, long nanos) {
    }

    /**
     * Phase 2 finished every branch of a job (online or recovered), {@code nanos} after the job was created,
     * retries included.
     */
    default void phaseTwoFinished(PhaseTwoJob job, long nanos) {
    }

    /** A listener that passes every event to each of {@code listeners}, in order. */
    static CoordinatorListener all(CoordinatorListener... listeners) {
        List<CoordinatorListener> each = List.of(listeners);
        return new CoordinatorListener() {
            @Override
            public void begun(GlobalTransaction tx) {
                each.forEach(l -> l.begun(tx));
            }

            @Override
            public void completed(GlobalTransaction tx) {
                each.forEach(l -> l.completed(tx));
            }

            @Override
            public void prepared(GlobalTransaction tx, long nanos) {
                each.forEach(l -> l.prepared(tx, nanos));
            }

            @Override
            public void phaseTwoFinished(PhaseTwoJob job, long nanos) {
                each.forEach(l -> l.phaseTwoFinished(job, nanos));
            }
        };
    }
}
