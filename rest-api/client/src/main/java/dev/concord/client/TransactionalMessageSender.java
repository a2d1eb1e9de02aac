package dev.concord.client;

import java.util.Objects;

/**
 * Sends RocketMQ messages inside the calling thread's remote transaction, through the service's RocketMQ resource
 * {@code resource}: each message is sent as a half message when the transaction prepares and delivered if and only
 * if it commits, after the transaction's database branches. A send that got no answer marks the transaction
 * rollback-only, since the message may or may not be part of it.
 */
public final class TransactionalMessageSender {
    private final String resource;

    /** @param resource the name of a RocketMQ resource in the service's configuration */
    public TransactionalMessageSender(String resource) {
        if (resource == null || resource.isBlank()) {
            throw new IllegalArgumentException("the service's RocketMQ resource name is needed");
        }
        this.resource = resource;
    }

    public String resource() {
        return resource;
    }

    /**
     * Adds the message to the calling thread's transaction.
     *
     * @throws IllegalStateException when the thread has no transaction, or it is marked rollback-only
     * @throws ServiceCallException  when the service refuses the message (a bad field, a transaction no longer
     *                               active) or does not answer
     */
    public MessageReceipt send(OutgoingMessage message) throws ServiceCallException {
        Objects.requireNonNull(message, "message");
        RemoteTransaction tx = RemoteTransaction.current();
        if (tx == null) {
            throw new IllegalStateException("cannot send a transactional message: this thread has no transaction");
        }
        String reason = tx.rollbackOnlyReason();
        if (reason != null) {
            throw new IllegalStateException("transaction " + tx.id() + " is marked rollback-only (" + reason + ")");
        }
        try {
            return tx.client().registerMessage(tx.id(), resource, message);
        } catch (ServiceCallException e) {
            if (e.isUnanswered()) {
                tx.markRollbackOnly("a message got no answer: " + e.getMessage());
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return "TransactionalMessageSender[" + resource + "]";
    }
}
