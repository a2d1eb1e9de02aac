package dev.concord.xa.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.concord.recovery.outcome.Outcome;
import java.util.HexFormat;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;

class RocketMqCheckListenerTest {
    private static final byte[] GTRID = {1, 2, 3, (byte) 0xfe};

    private static MessageExt checked(String gtridProperty) {
        MessageExt m = new MessageExt();
        m.setTopic("orders");
        if (gtridProperty != null) {
            m.putUserProperty(TransactionalMessage.PROPERTY_GTRID, gtridProperty);
        }
        return m;
    }

    private static LocalTransactionState answer(OutcomeSource source, String gtridProperty) {
        return new OutcomeCheckListener(source).checkLocalTransaction(checked(gtridProperty));
    }

    @Test
    void answersFromTheOutcomeOfTheGtrid() {
        String hex = HexFormat.of().formatHex(GTRID);
        OutcomeSource source = g -> HexFormat.of().formatHex(g).equals(hex) ? Outcome.COMMIT : Outcome.ROLLBACK;
        assertEquals(LocalTransactionState.COMMIT_MESSAGE, answer(source, hex));
        assertEquals(LocalTransactionState.ROLLBACK_MESSAGE, answer(source, "00"));
        assertEquals(LocalTransactionState.UNKNOW, answer(g -> Outcome.UNKNOWN, hex));
        assertEquals(LocalTransactionState.UNKNOW, answer(g -> null, hex));
    }

    @Test
    void neverRollsBackWhatItCannotIdentify() {
        OutcomeSource rollback = g -> Outcome.ROLLBACK;
        assertEquals(LocalTransactionState.UNKNOW, answer(rollback, null));
        assertEquals(LocalTransactionState.UNKNOW, answer(rollback, "not-hex"));
        assertEquals(LocalTransactionState.UNKNOW, answer(g -> {
            throw new IllegalStateException("index unavailable");
        }, HexFormat.of().formatHex(GTRID)));
    }

    @Test
    void commitAnswersNameTheMessageSoItsOwnerNeverEndsItAgain() {
        java.util.List<String> committed = new java.util.ArrayList<>();
        String hex = HexFormat.of().formatHex(GTRID);
        MessageExt m = checked(hex);
        org.apache.rocketmq.common.message.MessageClientIDSetter.setUniqID(m);
        String id = org.apache.rocketmq.common.message.MessageClientIDSetter.getUniqID(m);
        new OutcomeCheckListener(g -> Outcome.COMMIT, committed::add).checkLocalTransaction(m);
        new OutcomeCheckListener(g -> Outcome.UNKNOWN, committed::add).checkLocalTransaction(checked(hex));
        new OutcomeCheckListener(g -> Outcome.ROLLBACK, committed::add).checkLocalTransaction(checked(hex));
        assertEquals(java.util.List.of(id), committed);
    }

    @Test
    void localTransactionCallbackIsUnused() {
        assertEquals(LocalTransactionState.UNKNOW,
                new OutcomeCheckListener(OutcomeSource.unknown()).executeLocalTransaction(checked("00"), null));
    }
}
