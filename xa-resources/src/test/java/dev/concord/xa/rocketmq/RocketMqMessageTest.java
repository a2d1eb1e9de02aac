package dev.concord.xa.rocketmq;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.junit.jupiter.api.Test;

class RocketMqMessageTest {
    @Test
    void carriesWhatTheApplicationSet() {
        TransactionalMessage m = TransactionalMessage.builder("orders").tags("created").key("o-1").key("c-9")
                .body("hi".getBytes(UTF_8)).property("tenant", "t1").build();
        assertEquals("orders", m.topic());
        assertEquals("created", m.tags());
        assertEquals(List.of("o-1", "c-9"), m.keys());
        assertEquals(Map.of("tenant", "t1"), m.properties());
        assertEquals("hi", new String(m.body(), UTF_8));
    }

    @Test
    void refusesWhatRocketMqWouldRefuseOrConcordReserves() {
        assertMessage("topic", TransactionalMessage.builder("bad topic").body(new byte[1]));
        assertMessage("body must not be empty", TransactionalMessage.builder("t"));
        assertMessage("contain no space", TransactionalMessage.builder("t").body(new byte[1]).key("a b"));
        assertMessage("reserved by RocketMQ", TransactionalMessage.builder("t").body(new byte[1])
                .property(MessageConst.PROPERTY_KEYS, "x"));
        assertMessage("reserved by Concord", TransactionalMessage.builder("t").body(new byte[1])
                .property(TransactionalMessage.PROPERTY_GTRID, "x"));
        assertMessage("separate properties", TransactionalMessage.builder("t").body(new byte[1])
                .property("p", "a" + (char) 2 + "b"));
        assertMessage("non-blank value", TransactionalMessage.builder("t").body(new byte[1]).property("p", " "));
    }

    @Test
    void halfMessageCarriesGtridBranchAndIndexAsPropertiesAndKeys() {
        RocketMqResource r = new RocketMqResource(RocketMqResourceConfig.builder().name("mq")
                .namesrvAddress("127.0.0.1:9876").producerGroup("g1").build(), OutcomeSource.unknown());
        TransactionalMessage m = TransactionalMessage.builder("orders").key("o-1").body(new byte[] {1})
                .property("tenant", "t1").build();
        Message msg = r.toHalfMessage(m, "abcd", "3", 5);
        assertEquals("abcd", msg.getUserProperty(TransactionalMessage.PROPERTY_GTRID));
        assertEquals("3", msg.getUserProperty(TransactionalMessage.PROPERTY_BRANCH));
        assertEquals("5", msg.getUserProperty(TransactionalMessage.PROPERTY_INDEX));
        assertEquals("t1", msg.getUserProperty("tenant"));
        assertEquals(List.of("o-1", "abcd", "abcd:3"), List.of(msg.getKeys().split(" ")));
        assertEquals("true", msg.getProperty(MessageConst.PROPERTY_TRANSACTION_PREPARED));
        assertEquals("g1", msg.getProperty(MessageConst.PROPERTY_PRODUCER_GROUP));
        r.close();
    }

    private static void assertMessage(String part, TransactionalMessage.Builder b) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
