package dev.concord.service.core;

import dev.concord.coordinator.TxState;
import java.util.List;

/**
 * A transaction as clients see it. Branches of every kind are listed in {@code branches} (a message branch with
 * kind MESSAGE); the messages themselves, with their broker message ids and states, in {@code messages}.
 *
 * @param id             the transaction id, {@code node:beginMillis:sequence}
 * @param status         the engine's state
 * @param timedOut       true when the timeout rolled the transaction back
 * @param timeoutSeconds the transaction's timeout
 * @param beganAt        ISO-8601 begin time
 * @param finishedAt     ISO-8601 time phase 2 finished, or null while in flight
 * @param xid            format id and gtrid (hex) shared by every branch
 * @param branches       the registered or enlisted branches, in branch order
 * @param messages       the registered messages, in branch and registration order
 */
public record TransactionView(String id, TxState status, boolean timedOut, long timeoutSeconds, String beganAt,
                              String finishedAt, XidView xid, List<BranchView> branches,
                              List<MessageView> messages) {
}
