package dev.concord.recovery.log.file;

/**
 * Observes the forces of a {@link FileTransactionLog}, for metrics: one call per {@code force}, from the thread that
 * did it, after the force and without the log's lock. Must be quick and must not throw.
 */
@FunctionalInterface
public interface ForceObserver {
    /** Observes nothing. */
    ForceObserver NONE = (nanos, records) -> {
    };

    /**
     * A force finished.
     *
     * @param nanos   how long the force took
     * @param records how many records it made durable (the group-commit batch; may be 0 for a force that only
     *                secures a segment before it is released)
     */
    void forced(long nanos, int records);
}
