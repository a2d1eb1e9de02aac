package dev.concord.service.core;

/**
 * A message registered on a transaction.
 *
 * @param transaction the transaction id
 * @param resource    the RocketMQ resource
 * @param branch      the number of the transaction's branch on that resource (one per resource)
 * @param index       the message's position in the branch, from 0 (its {@code CONCORD_INDEX} property)
 * @param topic       the topic it is delivered to if the transaction commits
 * @param bodyBytes   the size of its body
 */
public record MessageReceipt(String transaction, String resource, int branch, int index, String topic,
                             int bodyBytes) {
}
