package dev.concord.xa.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RocketMqResourceConfigTest {
    private static RocketMqResourceConfig.Builder valid() {
        return RocketMqResourceConfig.builder().name("orders-mq").namesrvAddress("10.0.0.1:9876;10.0.0.2:9876")
                .producerGroup("concord_orders");
    }

    @Test
    void defaults() {
        RocketMqResourceConfig c = valid().build();
        assertEquals("orders-mq", c.name());
        assertEquals("10.0.0.1:9876;10.0.0.2:9876", c.namesrvAddress());
        assertEquals(Duration.ofSeconds(3), c.sendTimeout());
        assertFalse(c.hasAcl());
        assertNull(c.accessKey());
    }

    @Test
    void secretKeyIsNeverShown() {
        RocketMqResourceConfig c = valid().acl("AK1", "s3cr3t-value").build();
        assertTrue(c.hasAcl());
        assertTrue(c.toString().contains("AK1"), c.toString());
        assertFalse(c.toString().contains("s3cr3t-value"), c.toString());
    }

    @Test
    void refusesBadSettingsNamingThem() {
        assertMessage("resource name", valid().name("bad name"));
        assertMessage("namesrvAddress must be set", valid().namesrvAddress(" "));
        assertMessage("not a name-server address", valid().namesrvAddress("localhost"));
        assertMessage("port out of range", valid().namesrvAddress("localhost:99999"));
        assertMessage("producerGroup", valid().producerGroup("has space"));
        assertMessage("producerGroup", valid().producerGroup(null));
        assertMessage("both the access key and the secret key", valid().acl("AK", null));
        assertMessage("both the access key and the secret key", valid().acl(null, "secret"));
        assertMessage("sendTimeout", valid().sendTimeout(Duration.ZERO));
    }

    private static void assertMessage(String part, RocketMqResourceConfig.Builder b) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
