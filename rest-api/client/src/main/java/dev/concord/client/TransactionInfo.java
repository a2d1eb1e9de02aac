package dev.concord.client;

/**
 * A transaction as the service reports it.
 *
 * @param id       the transaction id, {@code node:beginMillis:sequence}
 * @param status   the service's state name: ACTIVE, MARKED_ROLLBACK, PREPARING, COMMITTING_ONE_PHASE, COMMITTING,
 *                 COMMITTED, ROLLING_BACK, ROLLED_BACK or a HEURISTIC_* state
 * @param timedOut true when the service rolled it back because its timeout passed
 */
public record TransactionInfo(String id, String status, boolean timedOut) {
}
