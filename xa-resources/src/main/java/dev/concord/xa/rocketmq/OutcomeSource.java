package dev.concord.xa.rocketmq;

import dev.concord.recovery.outcome.Outcome;

/**
 * Answers "did global transaction T commit?" for the broker's check-backs. The coordinator's outcome index
 * implements it; the adapter depends on nothing else of it.
 *
 * <p>Contract: {@link Outcome#COMMIT} only when a commit decision exists; {@link Outcome#ROLLBACK} only when T
 * certainly did not and will not commit; {@link Outcome#UNKNOWN} whenever in doubt (T still in flight, older than
 * the retention window, another node's). Commit outcomes must stay answerable for longer than the broker's check
 * horizon, or a committed message may be dropped by the broker after its last unanswered check.
 */
@FunctionalInterface
public interface OutcomeSource {
    /** The outcome of the transaction with this gtrid (raw bytes). Must not block for long; may be called concurrently. */
    Outcome outcomeOf(byte[] gtrid);

    /** A source that never knows: check-backs keep half messages pending until an END or the broker's horizon. */
    static OutcomeSource unknown() {
        return gtrid -> Outcome.UNKNOWN;
    }
}
