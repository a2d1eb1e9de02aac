package dev.concord.service.core;

import dev.concord.recovery.outcome.Outcome;

/**
 * The answer to "did transaction T commit?".
 *
 * @param transaction the transaction id
 * @param outcome     COMMIT, ROLLBACK, or UNKNOWN (no safe answer yet; ask again later)
 */
public record OutcomeView(String transaction, Outcome outcome) {
}
