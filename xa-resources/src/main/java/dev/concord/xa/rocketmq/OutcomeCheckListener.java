package dev.concord.xa.rocketmq;

import dev.concord.recovery.outcome.Outcome;
import java.lang.System.Logger.Level;
import java.util.HexFormat;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.rocketmq.common.message.MessageClientIDSetter;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Answers the broker's check-backs for half messages of a Concord producer group from an {@link OutcomeSource}, by
 * the gtrid in the message's {@value TransactionalMessage#PROPERTY_GTRID} property: COMMIT gives COMMIT_MESSAGE,
 * ROLLBACK gives ROLLBACK_MESSAGE, and anything else (UNKNOWN, no or unreadable gtrid, a failing source) gives
 * UNKNOW, so the broker asks again later. It never answers ROLLBACK for a transaction that may have committed.
 *
 * <p>Concord never uses the local-transaction callback (half messages are sent with {@code send()}), so
 * {@link #executeLocalTransaction} answers UNKNOW.
 */
public final class OutcomeCheckListener implements TransactionListener {
    private static final System.Logger LOG = System.getLogger(OutcomeCheckListener.class.getName());

    private final OutcomeSource outcomes;
    private final Consumer<String> committedMessages;

    public OutcomeCheckListener(OutcomeSource outcomes) {
        this(outcomes, id -> { });
    }

    /**
     * @param committedMessages told the unique message id of every half message answered COMMIT_MESSAGE, so that
     *                          its owner does not end it again (the broker would deliver it twice)
     */
    public OutcomeCheckListener(OutcomeSource outcomes, Consumer<String> committedMessages) {
        this.outcomes = Objects.requireNonNull(outcomes, "outcomes");
        this.committedMessages = Objects.requireNonNull(committedMessages, "committedMessages");
    }

    @Override
    public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
        return LocalTransactionState.UNKNOW;
    }

    @Override
    public LocalTransactionState checkLocalTransaction(MessageExt msg) {
        String hex = msg.getProperty(TransactionalMessage.PROPERTY_GTRID);
        if (hex == null || hex.isEmpty()) {
            LOG.log(Level.WARNING, "CONCORD-4101 check-back for message {0} of topic {1} without a {2} property: "
                    + "answering UNKNOWN", msg.getMsgId(), msg.getTopic(), TransactionalMessage.PROPERTY_GTRID);
            return LocalTransactionState.UNKNOW;
        }
        byte[] gtrid;
        try {
            gtrid = HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            LOG.log(Level.WARNING, "CONCORD-4102 check-back for message {0} with an unreadable gtrid {1}: answering UNKNOWN",
                    msg.getMsgId(), hex);
            return LocalTransactionState.UNKNOW;
        }
        Outcome outcome;
        try {
            outcome = outcomes.outcomeOf(gtrid);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "CONCORD-4103 outcome of {0} unavailable for a check-back: answering UNKNOWN: {1}",
                    hex, e.toString());
            return LocalTransactionState.UNKNOW;
        }
        LocalTransactionState answer = answerFor(outcome);
        if (answer == LocalTransactionState.COMMIT_MESSAGE) {
            committedMessages.accept(MessageClientIDSetter.getUniqID(msg));
        }
        LOG.log(Level.DEBUG, "check-back for message {0} of {1}: {2}", msg.getMsgId(), hex, answer);
        return answer;
    }

    /** The check-back answer for an outcome; null counts as UNKNOWN. */
    static LocalTransactionState answerFor(Outcome outcome) {
        if (outcome == Outcome.COMMIT) {
            return LocalTransactionState.COMMIT_MESSAGE;
        }
        if (outcome == Outcome.ROLLBACK) {
            return LocalTransactionState.ROLLBACK_MESSAGE;
        }
        return LocalTransactionState.UNKNOW;
    }
}
