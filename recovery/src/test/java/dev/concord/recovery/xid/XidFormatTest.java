package dev.concord.recovery.xid;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import javax.transaction.xa.Xid;
import org.junit.jupiter.api.Test;

class XidFormatTest {
    @Test
    void gtridRoundTripsThroughBytesAndText() {
        Gtrid g = Gtrid.of("node-7", 1_700_000_000_123L, 42);
        Gtrid parsed = Gtrid.parse(g.toBytes());
        assertEquals(g, parsed);
        assertEquals("node-7", parsed.nodeId());
        assertEquals(1_700_000_000_123L, parsed.beginMillis());
        assertEquals(42, parsed.sequence());
        assertEquals(g, Gtrid.parseText(g.toString()));
    }

    @Test
    void longestGtridFitsTheXaLimit() {
        Gtrid g = Gtrid.of("n".repeat(XidFormat.MAX_NODE_ID_LENGTH), Long.MAX_VALUE, Long.MAX_VALUE);
        assertTrue(g.length() <= XidFormat.MAX_PART_LENGTH, "gtrid is " + g.length() + " bytes");
    }

    @Test
    void badNodeIdsAreRefusedWithTheReason() {
        for (String bad : new String[] {"", "n".repeat(37), "has space", "ünïcode", "a:b"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gtrid.of(bad, 1, 1));
            assertTrue(e.getMessage().contains("node id"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Gtrid.validateNodeId(null));
    }

    @Test
    void foreignBytesAreNotParsedAsAGtrid() {
        assertNull(Gtrid.tryParse(new byte[0]));
        assertNull(Gtrid.tryParse(new byte[] {9, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
        assertNull(Gtrid.tryParse("some-other-product-gtrid".getBytes()));
        assertThrows(IllegalArgumentException.class, () -> Gtrid.parse(new byte[] {1, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> Gtrid.parseText("no-colons"));
        assertThrows(IllegalArgumentException.class, () -> Gtrid.parseText("n:x:1"));
    }

    @Test
    void bqualIsTheBranchNumberAndNeverEmpty() {
        Gtrid g = Gtrid.of("n1", 5, 6);
        ConcordXid xid = new ConcordXid(g, 3);
        assertEquals(XidFormat.FORMAT_ID, xid.getFormatId());
        assertTrue(xid.getFormatId() > 0, "Connector/J cannot prepare a negative format id");
        assertArrayEquals(new byte[] {0, 0, 0, 3}, xid.getBranchQualifier());
        assertEquals(3, ConcordXid.branchOf(xid.getBranchQualifier()));
        assertThrows(IllegalArgumentException.class, () -> new ConcordXid(g, 0));
    }

    @Test
    void anyXidWithOurFormatIsReadBackAndOthersAreNot() {
        ConcordXid original = new ConcordXid(Gtrid.of("n1", 5, 6), 2);
        Xid copy = plainXid(original.getFormatId(), original.getGlobalTransactionId(), original.getBranchQualifier());
        assertEquals(original, ConcordXid.from(copy));
        assertTrue(ConcordXid.sameXid(original, copy));
        assertNull(ConcordXid.from(plainXid(4660, original.getGlobalTransactionId(), original.getBranchQualifier())));
        assertNull(ConcordXid.from(plainXid(XidFormat.FORMAT_ID, original.getGlobalTransactionId(), new byte[0])));
    }

    @Test
    void factoryIssuesUniqueIdsAcrossRestartsAndRecognisesOnlyItsNode() {
        Clock clock = Clock.fixed(Instant.ofEpochMilli(1_000_000), ZoneOffset.UTC);
        XidFactory first = new XidFactory("node-a", clock);
        Set<Gtrid> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            assertTrue(seen.add(first.newGtrid()));
        }
        // A restart later (clock moved on) continues above every sequence issued before.
        XidFactory restarted = new XidFactory("node-a", Clock.offset(clock, java.time.Duration.ofMillis(1)));
        for (int i = 0; i < 1000; i++) {
            assertTrue(seen.add(restarted.newGtrid()));
        }
        Gtrid ours = restarted.newGtrid();
        assertTrue(restarted.isOurs(new ConcordXid(ours, 1)));
        assertFalse(restarted.isOurs(new ConcordXid(new XidFactory("node-b", clock).newGtrid(), 1)));
        assertNotEquals(first.newGtrid(), restarted.newGtrid());
    }

    private static Xid plainXid(int format, byte[] gtrid, byte[] bqual) {
        return new Xid() {
            @Override
            public int getFormatId() {
                return format;
            }

            @Override
            public byte[] getGlobalTransactionId() {
                return gtrid;
            }

            @Override
            public byte[] getBranchQualifier() {
                return bqual;
            }
        };
    }
}
