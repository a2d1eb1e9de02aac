package dev.concord.xa.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RocketMqRecoveryDataTest {
    private static final HalfMessage FIRST = new HalfMessage("broker-a", "10.0.0.7:10911", 1_234_567_890_123L, 42,
            "7F0000010000A1B2C3D4", "tx-1", "orders");
    private static final HalfMessage SECOND = new HalfMessage("broker-b", "[::1]:10911", 0, 0, "id-2", null, "audit");

    @Test
    void roundTripKeepsEveryField() {
        byte[] data = HalfMessage.encode("group-1", List.of(FIRST, SECOND));
        HalfMessage.Decoded d = HalfMessage.decode(data);
        assertEquals("group-1", d.producerGroup());
        assertEquals(List.of(FIRST, new HalfMessage("broker-b", "[::1]:10911", 0, 0, "id-2", "", "audit")), d.halves());
        assertEquals(HalfMessage.VERSION, data[0]);
    }

    @Test
    void encodingIsCompact() {
        byte[] data = HalfMessage.encode("concord-group", List.of(FIRST));
        assertTrue(data.length < 100, data.length + " bytes");
    }

    @Test
    void otherVersionsAndDamagedDataAreRefused() {
        byte[] data = HalfMessage.encode("g", List.of(FIRST));
        byte[] future = data.clone();
        future[0] = 2;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HalfMessage.decode(future)).getMessage()
                .contains("version 2"));
        assertThrows(IllegalArgumentException.class, () -> HalfMessage.decode(Arrays.copyOf(data, data.length - 3)));
        assertThrows(IllegalArgumentException.class, () -> HalfMessage.decode(Arrays.copyOf(data, data.length + 1)));
        assertThrows(IllegalArgumentException.class, () -> HalfMessage.decode(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> HalfMessage.decode(null));
    }
}
