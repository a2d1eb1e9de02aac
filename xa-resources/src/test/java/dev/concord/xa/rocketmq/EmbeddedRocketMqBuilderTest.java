package dev.concord.xa.rocketmq;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Settings the embedded broker refuses before it touches a port or the disk. */
class EmbeddedRocketMqBuilderTest {
    @Test
    void fixedPortsOutOfRangeOrCollidingWithTheBrokersSecondPortAreRefused() {
        assertRefused(EmbeddedRocketMq.builder().ports(80, 20_000), "namesrvPort");
        assertRefused(EmbeddedRocketMq.builder().ports(20_000, 1025), "brokerPort");
        assertRefused(EmbeddedRocketMq.builder().ports(20_000, 70_000), "brokerPort");
        assertRefused(EmbeddedRocketMq.builder().ports(20_000, 20_002), "collides");
        assertRefused(EmbeddedRocketMq.builder().ports(20_000, 20_000), "collides");
    }

    private static void assertRefused(EmbeddedRocketMq.Builder b, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
