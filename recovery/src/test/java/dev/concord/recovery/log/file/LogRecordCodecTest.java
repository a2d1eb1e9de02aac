package dev.concord.recovery.log.file;

import static dev.concord.recovery.log.LogTestData.binaryData;
import static dev.concord.recovery.log.LogTestData.decision;
import static dev.concord.recovery.log.LogTestData.gtrid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.xid.Gtrid;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Records survive encoding unchanged, and anything that is not exactly a valid frame is rejected. */
class LogRecordCodecTest {

    private static LogRecord roundTrip(LogRecord record) throws CorruptRecordException {
        return LogRecordCodec.decode(LogRecordCodec.encode(record));
    }

    @Test
    void decisionWith64BytesOfBinaryRecoveryDataRoundTrips() throws Exception {
        byte[] everyByte = new byte[64];
        for (int i = 0; i < 64; i++) {
            everyByte[i] = (byte) (i * 4 + 3); // covers 0x03..0xff, including bytes >= 0x80
        }
        everyByte[10] = 0;
        CommitDecision d = new CommitDecision(gtrid(1), -5, List.of(
                new BranchRecord("mariadb-orders", 1, everyByte),
                new BranchRecord("rocketmq-événements", 2, binaryData(9))));
        LogRecord record = new LogRecord.Decision(42, d);
        LogRecord decoded = roundTrip(record);
        assertEquals(record, decoded);
        assertArrayEquals(everyByte,
                ((LogRecord.Decision) decoded).decision().branches().get(0).recoveryData());
    }

    @Test
    void endRoundTripsWithItsTime() throws Exception {
        assertEquals(new LogRecord.End(gtrid(3), 1_700_000_000_123L),
                roundTrip(new LogRecord.End(gtrid(3), 1_700_000_000_123L)));
    }

    @Test
    void recentCommitAndCommitHorizonRoundTrip() throws Exception {
        LogRecord recent = new LogRecord.RecentCommit(gtrid(4), -7);
        LogRecord horizon = new LogRecord.CommitHorizon(Long.MIN_VALUE + 1);
        assertEquals(recent, roundTrip(recent));
        assertEquals(horizon, roundTrip(horizon));
    }

    @Test
    void recentCommitFrameBytesIsTheEncodedLengthOfEveryGtridSize() {
        for (Gtrid g : List.of(Gtrid.of("n", 1, 2), gtrid(1), Gtrid.of("n".repeat(36), 3, 4))) {
            assertEquals(LogRecordCodec.encode(new LogRecord.RecentCommit(g, 5)).length,
                    LogRecordCodec.recentCommitFrameBytes(g), g.toString());
            assertEquals(LogRecordCodec.encode(new LogRecord.End(g, 5)).length,
                    LogRecordCodec.recentCommitFrameBytes(g), g.toString());
        }
    }

    @Test
    void versionOneEndDecodesWithoutATimeFromAVersionOneSegmentOnly() throws Exception {
        LogRecord untimed = new LogRecord.End(gtrid(2), LogRecord.End.UNKNOWN_TIME);
        byte[] frame = LogRecordCodec.encode(untimed);
        assertEquals(2, frame[8], "type 2, the version-1 END");
        assertEquals(gtrid(2).length() + 2, frame.length - 8, "type, gtrid length and gtrid: no time");
        assertEquals(untimed, LogRecordCodec.decode(frame, 1));
        CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(frame));
        assertTrue(e.getMessage().contains("does not exist in log format version 2"), e.getMessage());
    }

    @Test
    void recordTypesOfVersionTwoAreCorruptionInAVersionOneSegment() {
        for (LogRecord record : List.of(new LogRecord.End(gtrid(1), 5), new LogRecord.RecentCommit(gtrid(1), 5),
                new LogRecord.CommitHorizon(5))) {
            byte[] frame = LogRecordCodec.encode(record);
            assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(frame, 1), record.toString());
        }
    }

    @Test
    void recordsCommonToBothVersionsDecodeInEither() throws Exception {
        LogRecord decision = new LogRecord.Decision(3, decision(3));
        LogRecord forget = new LogRecord.Forget(gtrid(3), "orders-db", 1);
        for (int version = 1; version <= 2; version++) {
            assertEquals(decision, LogRecordCodec.decode(LogRecordCodec.encode(decision), version));
            assertEquals(forget, LogRecordCodec.decode(LogRecordCodec.encode(forget), version));
        }
    }

    @Test
    void endTimeEqualToTheUntimedMarkerIsRejected() {
        byte[] frame = LogRecordCodec.encode(new LogRecord.End(gtrid(1), 0));
        ByteBuffer.wrap(frame).putLong(frame.length - 8, LogRecord.End.UNKNOWN_TIME);
        byte[] body = Arrays.copyOfRange(frame, 8, frame.length);
        assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(frameAround(body)));
    }

    @Test
    void heuristicRoundTripsForEveryOutcome() throws Exception {
        for (HeuristicOutcome outcome : HeuristicOutcome.values()) {
            HeuristicRecord h = new HeuristicRecord(gtrid(4), new BranchRecord("pg", 3, binaryData(1)), outcome,
                    outcome == HeuristicOutcome.HAZARD ? "" : "detail ✓ " + "x".repeat(500), Long.MAX_VALUE);
            LogRecord record = new LogRecord.Heuristic(Long.MAX_VALUE, h);
            assertEquals(record, roundTrip(record), outcome.name());
        }
    }

    @Test
    void stringsOfEveryUtf8WidthRoundTripAndALoneSurrogateBecomesAQuestionMark() throws Exception {
        String everyWidth = "a\u00e9\u20ac\uD83D\uDE00z"; // 1, 2, 3 and 4 bytes in UTF-8
        LogRecord forget = new LogRecord.Forget(gtrid(6), everyWidth, 1);
        assertEquals(forget, roundTrip(forget));
        HeuristicRecord lone = new HeuristicRecord(gtrid(6), new BranchRecord(everyWidth, 2, null),
                HeuristicOutcome.MIXED, "x\uD800y", 1);
        LogRecord decoded = roundTrip(new LogRecord.Heuristic(1, lone));
        assertEquals("x?y", ((LogRecord.Heuristic) decoded).heuristic().detail());
    }

    @Test
    void forgetRoundTrips() throws Exception {
        LogRecord record = new LogRecord.Forget(gtrid(5), "orders-db", 17);
        assertEquals(record, roundTrip(record));
    }

    @Test
    void longestGtridRoundTrips() throws Exception {
        Gtrid longest = Gtrid.of("n".repeat(36), Long.MAX_VALUE, Long.MIN_VALUE);
        LogRecord record = new LogRecord.End(longest, Long.MAX_VALUE);
        assertEquals(record, roundTrip(record));
    }

    @Test
    void endRecordHasTheDocumentedLayout() {
        Gtrid g = gtrid(1);
        byte[] frame = LogRecordCodec.encode(new LogRecord.End(g, 0x0102030405060708L));
        ByteBuffer buf = ByteBuffer.wrap(frame);
        assertEquals(frame.length - LogRecordCodec.FRAME_HEADER_BYTES, buf.getInt(0), "length of type + payload");
        CRC32C crc = new CRC32C();
        crc.update(frame, 8, frame.length - 8);
        assertEquals((int) crc.getValue(), buf.getInt(4), "CRC32C over type + payload");
        assertEquals(5, frame[8], "type END");
        assertEquals(g.length(), frame[9], "gtrid length");
        assertArrayEquals(g.toBytes(), Arrays.copyOfRange(frame, 10, 10 + g.length()));
        assertEquals(0x0102030405060708L, buf.getLong(10 + g.length()), "END time");
        assertEquals(10 + g.length() + 8, frame.length);
    }

    @Test
    void heuristicOutcomesHaveFixedCodes() {
        HeuristicOutcome[] inCodeOrder = {HeuristicOutcome.COMMITTED, HeuristicOutcome.ROLLED_BACK,
                HeuristicOutcome.MIXED, HeuristicOutcome.HAZARD};
        for (int code = 1; code <= 4; code++) {
            HeuristicRecord h = new HeuristicRecord(gtrid(1), new BranchRecord("r", 1, null), inCodeOrder[code - 1],
                    "", 0);
            byte[] frame = LogRecordCodec.encode(new LogRecord.Heuristic(0, h));
            // type, serial, gtrid, then the branch: name (4 + 1), branch (4), data length (4), no data
            int outcomeAt = 8 + 1 + 8 + 1 + gtrid(1).length() + 5 + 4 + 4;
            assertEquals(code, frame[outcomeAt], inCodeOrder[code - 1].name());
        }
    }

    @Test
    void everyFlippedBitIsRejected() {
        byte[] frame = LogRecordCodec.encode(new LogRecord.Decision(1, decision(1)));
        for (int i = 0; i < frame.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] damaged = frame.clone();
                damaged[i] ^= (byte) (1 << bit);
                assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(damaged),
                        "bit " + bit + " of byte " + i);
            }
        }
    }

    @Test
    void everyTruncationIsRejected() {
        byte[] frame = LogRecordCodec.encode(new LogRecord.Decision(1, decision(1)));
        for (int length = 0; length < frame.length; length++) {
            byte[] cut = Arrays.copyOf(frame, length);
            assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(cut), "cut to " + length);
        }
    }

    @Test
    void bytesAfterTheFrameAreRejected() {
        byte[] frame = LogRecordCodec.encode(new LogRecord.End(gtrid(1), 1));
        byte[] longer = Arrays.copyOf(frame, frame.length + 1);
        assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(longer));
    }

    /** Builds a frame with a correct checksum around an arbitrary body, to test what the checksum cannot catch. */
    private static byte[] frameAround(byte[] body) {
        ByteBuffer frame = ByteBuffer.allocate(8 + body.length);
        frame.putInt(body.length).putInt(LogRecordCodec.crcOf(body, 0, body.length)).put(body);
        return frame.array();
    }

    @Test
    void unknownTypeIsRejectedEvenWithAValidChecksum() {
        byte[] body = HexFormat.of().parseHex("09" + gtrid(1).toHex());
        CorruptRecordException e = assertThrows(CorruptRecordException.class,
                () -> LogRecordCodec.decode(frameAround(body)));
        assertTrue(e.getMessage().contains("unknown record type 9"), e.getMessage());
    }

    @Test
    void trailingBytesInsideAFrameAreRejectedEvenWithAValidChecksum() {
        byte[] end = LogRecordCodec.encode(new LogRecord.End(gtrid(1), 1));
        byte[] body = Arrays.copyOf(Arrays.copyOfRange(end, 8, end.length), end.length - 8 + 2);
        assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(frameAround(body)));
    }

    @Test
    void gtridOfAnotherFormatIsRejectedEvenWithAValidChecksum() {
        byte[] body = HexFormat.of().parseHex("0203" + "aabbcc");
        assertThrows(CorruptRecordException.class, () -> LogRecordCodec.decode(frameAround(body)));
    }

    @Test
    void zeroLengthIsNeverAFrame() {
        CorruptRecordException e = assertThrows(CorruptRecordException.class,
                () -> LogRecordCodec.decode(new byte[16]));
        assertTrue(e.getMessage().contains("zero length"), e.getMessage());
    }
}
