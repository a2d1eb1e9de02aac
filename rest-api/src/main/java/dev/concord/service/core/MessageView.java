package dev.concord.service.core;

import dev.concord.xa.rocketmq.RocketMqXAResource.MessageState;

/**
 * A message registered on a transaction, and what became of it.
 *
 * @param resource  the RocketMQ resource
 * @param branch    the transaction's branch on that resource
 * @param index     the message's position in the branch, from 0 (its {@code CONCORD_INDEX} property)
 * @param topic     the topic
 * @param messageId the broker's message id, the one consumers see (null until the message is sent at prepare)
 * @param state     REGISTERED, PREPARED (a half message, invisible), COMMITTED (delivered to the topic),
 *                  ROLLED_BACK (never delivered) or MISSING (the broker lost it before the commit)
 */
public record MessageView(String resource, int branch, int index, String topic, String messageId,
                          MessageState state) {
}
