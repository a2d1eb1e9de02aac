package dev.concord.client;

/**
 * What the service answered when it took a message.
 *
 * @param transaction the transaction id
 * @param resource    the RocketMQ resource
 * @param branch      the transaction's branch on that resource
 * @param index       the message's position in the branch, from 0 (its {@code CONCORD_INDEX} property)
 */
public record MessageReceipt(String transaction, String resource, int branch, int index) {
}
