package dev.concord.recovery.log.file;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.xid.Gtrid;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Encodes {@link LogRecord}s as framed bytes and decodes them back, strictly.
 *
 * <p>Frame layout (all integers big-endian):
 * <pre>
 *   int    length   number of bytes after the checksum (type byte + payload), at least 1
 *   int    crc32c   CRC32C over those {@code length} bytes
 *   byte   type     1 DECISION, 2 END (version 1 only), 3 HEURISTIC, 4 FORGET, 5 END (timed),
 *                   6 RECENT_COMMIT, 7 COMMIT_HORIZON
 *   byte[] payload
 * </pre>
 * A length of zero never starts a frame: segments are pre-allocated with zeros, so it marks the end of the written
 * data. Payloads (format version {@value #FORMAT_VERSION}, stated in every segment header):
 * <pre>
 *   DECISION        long serial, gtrid, long decidedAtMillis, int branchCount, branch...
 *   HEURISTIC       long serial, gtrid, branch, byte outcome, string detail, long recordedAtMillis
 *   FORGET          gtrid, string resourceName, int branch
 *   END (5)         gtrid, long endedAtMillis
 *   RECENT_COMMIT   gtrid, long endedAtMillis
 *   COMMIT_HORIZON  long horizonMillis
 *   gtrid  = byte length, bytes (the binary form of {@link Gtrid})
 *   branch = string resourceName, int branch, int dataLength, bytes recoveryData
 *   string = int length, UTF-8 bytes
 * </pre>
 * Format version 1 had types 1 to 4 only, and its END (type 2) was just the gtrid, without a time. This build
 * reads segments of both versions and writes version {@value #FORMAT_VERSION}; each record type is accepted only
 * in the versions that define it, so a type-2 END in a version-2 segment is corruption, as is a type-5 END in a
 * version-1 one. A version-1 END decodes to an {@link LogRecord.End} with {@link LogRecord.End#UNKNOWN_TIME}, and
 * such a value encodes back to the version-1 layout (the log itself never writes one).
 *
 * <p>Heuristic outcomes have fixed codes (1 COMMITTED, 2 ROLLED_BACK, 3 MIXED, 4 HAZARD), not enum ordinals, so
 * that reordering the enum can never change what an old log means. Decoding rejects anything that is not exactly
 * this layout, including trailing bytes, because a record that only half makes sense is corrupt, not a variant.
 */
public final class LogRecordCodec {
    /** The version of this record format, written in every segment header. */
    public static final int FORMAT_VERSION = 2;
    /** The oldest format version this build reads. */
    public static final int OLDEST_READABLE_VERSION = 1;
    /** Bytes before the type byte: the length and the checksum. */
    public static final int FRAME_HEADER_BYTES = 8;

    static final byte TYPE_DECISION = 1;
    /** The END of format version 1: gtrid only. */
    static final byte TYPE_END_V1 = 2;
    static final byte TYPE_HEURISTIC = 3;
    static final byte TYPE_FORGET = 4;
    static final byte TYPE_END = 5;
    static final byte TYPE_RECENT_COMMIT = 6;
    static final byte TYPE_COMMIT_HORIZON = 7;
    private static final byte HIGHEST_TYPE = TYPE_COMMIT_HORIZON;

    private LogRecordCodec() {
    }

    /** Encodes a record as one complete frame: length, checksum, type and payload. */
    public static byte[] encode(LogRecord record) {
        byte[] frame = new byte[FRAME_HEADER_BYTES + bodyBytes(record)];
        ByteBuffer out = ByteBuffer.wrap(frame).position(FRAME_HEADER_BYTES); // length and checksum go in below
        if (record instanceof LogRecord.Decision d) {
            out.put(TYPE_DECISION).putLong(d.serial());
            writeGtrid(out, d.decision().gtrid());
            out.putLong(d.decision().decidedAtMillis()).putInt(d.decision().branches().size());
            for (BranchRecord b : d.decision().branches()) {
                writeBranch(out, b);
            }
        } else if (record instanceof LogRecord.End e) {
            out.put(e.timeUnknown() ? TYPE_END_V1 : TYPE_END);
            writeGtrid(out, e.gtrid());
            if (!e.timeUnknown()) {
                out.putLong(e.endedAtMillis());
            }
        } else if (record instanceof LogRecord.RecentCommit r) {
            out.put(TYPE_RECENT_COMMIT);
            writeGtrid(out, r.gtrid());
            out.putLong(r.endedAtMillis());
        } else if (record instanceof LogRecord.CommitHorizon h) {
            out.put(TYPE_COMMIT_HORIZON).putLong(h.horizonMillis());
        } else if (record instanceof LogRecord.Heuristic h) {
            HeuristicRecord r = h.heuristic();
            out.put(TYPE_HEURISTIC).putLong(h.serial());
            writeGtrid(out, r.gtrid());
            writeBranch(out, r.branch());
            out.put(outcomeCode(r.outcome()));
            writeString(out, r.detail());
            out.putLong(r.recordedAtMillis());
        } else {
            LogRecord.Forget f = (LogRecord.Forget) record;
            out.put(TYPE_FORGET);
            writeGtrid(out, f.gtrid());
            writeString(out, f.resourceName());
            out.putInt(f.branch());
        }
        if (out.hasRemaining()) {
            throw new IllegalStateException("encoded " + out.position() + " bytes of a " + frame.length
                    + "-byte frame of " + record);
        }
        int length = frame.length - FRAME_HEADER_BYTES;
        out.putInt(0, length).putInt(4, crcOf(frame, FRAME_HEADER_BYTES, length));
        return frame;
    }

    /** The bytes after the frame header: type byte and payload. */
    private static int bodyBytes(LogRecord record) {
        if (record instanceof LogRecord.Decision d) {
            int bytes = 1 + 8 + gtridBytes(d.decision().gtrid()) + 8 + 4;
            for (BranchRecord b : d.decision().branches()) {
                bytes += branchBytes(b);
            }
            return bytes;
        } else if (record instanceof LogRecord.End e) {
            return 1 + gtridBytes(e.gtrid()) + (e.timeUnknown() ? 0 : 8);
        } else if (record instanceof LogRecord.RecentCommit r) {
            return 1 + gtridBytes(r.gtrid()) + 8;
        } else if (record instanceof LogRecord.CommitHorizon) {
            return 1 + 8;
        } else if (record instanceof LogRecord.Heuristic h) {
            HeuristicRecord r = h.heuristic();
            return 1 + 8 + gtridBytes(r.gtrid()) + branchBytes(r.branch()) + 1 + stringBytes(r.detail()) + 8;
        } else if (record instanceof LogRecord.Forget f) {
            return 1 + gtridBytes(f.gtrid()) + stringBytes(f.resourceName()) + 4;
        }
        throw new IllegalArgumentException("unknown record " + record);
    }

    private static int gtridBytes(Gtrid gtrid) {
        return 1 + gtrid.length();
    }

    private static int branchBytes(BranchRecord b) {
        return stringBytes(b.resourceName()) + 4 + 4 + b.recoveryDataLength();
    }

    private static int stringBytes(String s) {
        return 4 + utf8Length(s);
    }

    /** The length of {@code s} in UTF-8, as {@link String#getBytes} encodes it (a lone surrogate becomes '?'). */
    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** The frame length of a {@link LogRecord.RecentCommit} (and of a timed END) of this transaction. */
    static int recentCommitFrameBytes(Gtrid gtrid) {
        return FRAME_HEADER_BYTES + 1 + 1 + gtrid.length() + 8;
    }

    /**
     * Decodes one complete frame of the current format version.
     *
     * @throws CorruptRecordException if the bytes are not exactly one valid frame
     */
    public static LogRecord decode(byte[] frame) throws CorruptRecordException {
        return decode(frame, FORMAT_VERSION);
    }

    /**
     * Decodes one complete frame read from a segment of the given format version.
     *
     * @throws CorruptRecordException if the bytes are not exactly one valid frame of that version
     */
    public static LogRecord decode(byte[] frame, int version) throws CorruptRecordException {
        FrameRead read = read(frame, 0, frame.length, version);
        if (read.record() == null) {
            throw new CorruptRecordException(read.problem());
        }
        if (read.frameLength() != frame.length) {
            throw new CorruptRecordException((frame.length - read.frameLength()) + " bytes after the frame");
        }
        return read.record();
    }

    /** The outcome of reading a frame: the record and the frame's length, or what is wrong with it. */
    record FrameRead(LogRecord record, int frameLength, String problem) {
        static FrameRead bad(String problem) {
            return new FrameRead(null, 0, problem);
        }
    }

    /** Reads a frame of the current format version; see {@link #read(byte[], int, int, int)}. */
    static FrameRead read(byte[] bytes, int offset, int limit) {
        return read(bytes, offset, limit, FORMAT_VERSION);
    }

    /**
     * Reads the frame that starts at {@code offset}, using only bytes before {@code limit}, as a record of a
     * segment of format {@code version}. Never throws for bad input: replay calls it on damaged bytes and at every
     * offset of a damaged region.
     */
    static FrameRead read(byte[] bytes, int offset, int limit, int version) {
        if (limit - offset < FRAME_HEADER_BYTES) {
            return FrameRead.bad("only " + Math.max(0, limit - offset) + " bytes left, a frame header needs "
                    + FRAME_HEADER_BYTES);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        int length = buf.getInt(offset);
        if (length == 0) {
            return FrameRead.bad("zero length where a record should start");
        }
        if (length < 0 || length > limit - offset - FRAME_HEADER_BYTES) {
            return FrameRead.bad("length " + length + " runs past the end of the data");
        }
        int start = offset + FRAME_HEADER_BYTES;
        if (buf.getInt(offset + 4) != crcOf(bytes, start, length)) {
            return FrameRead.bad("checksum mismatch");
        }
        if (!typeExistsIn(bytes[start], version)) {
            return FrameRead.bad("record type " + bytes[start] + " does not exist in log format version " + version);
        }
        try {
            return new FrameRead(decodeBody(ByteBuffer.wrap(bytes, start, length).slice()),
                    FRAME_HEADER_BYTES + length, null);
        } catch (CorruptRecordException e) {
            return FrameRead.bad(e.getMessage());
        }
    }

    /** True when a frame could start here: cheap checks that let a scan skip most offsets without a checksum. */
    static boolean plausibleFrameStart(byte[] bytes, int offset, int limit) {
        if (limit - offset < FRAME_HEADER_BYTES + 1) {
            return false;
        }
        int length = ByteBuffer.wrap(bytes).getInt(offset);
        if (length < 1 || length > limit - offset - FRAME_HEADER_BYTES) {
            return false;
        }
        byte type = bytes[offset + FRAME_HEADER_BYTES];
        return type >= TYPE_DECISION && type <= HIGHEST_TYPE;
    }

    /** True when records of this type may appear in a segment of this format version. */
    static boolean typeExistsIn(byte type, int version) {
        return switch (type) {
            case TYPE_DECISION, TYPE_HEURISTIC, TYPE_FORGET -> version == 1 || version == 2;
            case TYPE_END_V1 -> version == 1;
            case TYPE_END, TYPE_RECENT_COMMIT, TYPE_COMMIT_HORIZON -> version == 2;
            default -> true; // unknown types are reported as such by the decoder
        };
    }

    /**
     * Says, for an operator, what a damaged region seems to hold: the record it decodes to when the checksum is
     * ignored, or its type byte and first bytes in hex.
     */
    static String describeDamaged(byte[] bytes, int offset, int limit) {
        int available = limit - offset;
        String hex = HexFormat.of().formatHex(bytes, offset, offset + Math.min(available, 32));
        if (available >= FRAME_HEADER_BYTES + 1) {
            int length = ByteBuffer.wrap(bytes).getInt(offset);
            if (length >= 1 && length <= available - FRAME_HEADER_BYTES) {
                try {
                    LogRecord guess = decodeBody(ByteBuffer.wrap(bytes, offset + FRAME_HEADER_BYTES, length).slice());
                    return "probably " + guess + " (decoded ignoring the checksum)";
                } catch (CorruptRecordException e) {
                    return "undecodable (" + e.getMessage() + "), first bytes " + hex;
                }
            }
        }
        return "undecodable, first bytes " + hex;
    }

    static int crcOf(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    private static LogRecord decodeBody(ByteBuffer in) throws CorruptRecordException {
        try {
            byte type = in.get();
            LogRecord record;
            switch (type) {
                case TYPE_DECISION -> {
                    long serial = readSerial(in);
                    Gtrid gtrid = readGtrid(in);
                    long decidedAt = in.getLong();
                    int count = in.getInt();
                    // Each branch takes at least 12 bytes; refusing bigger counts avoids a huge allocation.
                    if (count < 1 || count > in.remaining() / 12) {
                        throw new CorruptRecordException("branch count " + count + " does not fit the record");
                    }
                    List<BranchRecord> branches = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        branches.add(readBranch(in));
                    }
                    record = new LogRecord.Decision(serial, new CommitDecision(gtrid, decidedAt, branches));
                }
                case TYPE_END_V1 -> record = new LogRecord.End(readGtrid(in), LogRecord.End.UNKNOWN_TIME);
                case TYPE_END -> record = new LogRecord.End(readGtrid(in), readTime(in));
                case TYPE_RECENT_COMMIT -> record = new LogRecord.RecentCommit(readGtrid(in), readTime(in));
                case TYPE_COMMIT_HORIZON -> record = new LogRecord.CommitHorizon(in.getLong());
                case TYPE_HEURISTIC -> {
                    long serial = readSerial(in);
                    Gtrid gtrid = readGtrid(in);
                    BranchRecord branch = readBranch(in);
                    HeuristicOutcome outcome = outcomeOf(in.get());
                    String detail = readString(in);
                    long recordedAt = in.getLong();
                    record = new LogRecord.Heuristic(serial,
                            new HeuristicRecord(gtrid, branch, outcome, detail, recordedAt));
                }
                case TYPE_FORGET -> record = new LogRecord.Forget(readGtrid(in), readString(in), in.getInt());
                default -> throw new CorruptRecordException("unknown record type " + type);
            }
            if (in.hasRemaining()) {
                throw new CorruptRecordException(in.remaining() + " unexpected bytes after the record");
            }
            return record;
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("record ends early");
        } catch (IllegalArgumentException e) {
            // The value classes refuse impossible parts (empty resource name, branch 0, no branches).
            throw new CorruptRecordException("impossible value: " + e.getMessage());
        }
    }

    private static long readSerial(ByteBuffer in) throws CorruptRecordException {
        long serial = in.getLong();
        if (serial < 0) {
            throw new CorruptRecordException("negative serial " + serial);
        }
        return serial;
    }

    private static long readTime(ByteBuffer in) throws CorruptRecordException {
        long millis = in.getLong();
        if (millis == LogRecord.End.UNKNOWN_TIME) {
            throw new CorruptRecordException("END time " + millis + " is the marker of an untimed END");
        }
        return millis;
    }

    private static void writeGtrid(ByteBuffer out, Gtrid gtrid) {
        out.put((byte) gtrid.length());
        gtrid.writeTo(out);
    }

    private static Gtrid readGtrid(ByteBuffer in) throws CorruptRecordException {
        byte[] raw = new byte[in.get() & 0xff];
        in.get(raw);
        Gtrid gtrid = Gtrid.tryParse(raw);
        if (gtrid == null) {
            throw new CorruptRecordException("not a Concord gtrid: " + HexFormat.of().formatHex(raw));
        }
        return gtrid;
    }

    private static void writeBranch(ByteBuffer out, BranchRecord branch) {
        writeString(out, branch.resourceName());
        out.putInt(branch.branch()).putInt(branch.recoveryDataLength());
        branch.writeRecoveryData(out);
    }

    private static BranchRecord readBranch(ByteBuffer in) throws CorruptRecordException {
        String resource = readString(in);
        int branch = in.getInt();
        byte[] data = new byte[readLength(in)];
        in.get(data);
        return new BranchRecord(resource, branch, data);
    }

    private static void writeString(ByteBuffer out, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.putInt(utf8.length).put(utf8);
    }

    private static String readString(ByteBuffer in) throws CorruptRecordException {
        int length = readLength(in);
        ByteBuffer utf8 = in.slice().limit(length);
        in.position(in.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(utf8).toString();
        } catch (CharacterCodingException e) {
            throw new CorruptRecordException("a string is not valid UTF-8");
        }
    }

    private static int readLength(ByteBuffer in) throws CorruptRecordException {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new CorruptRecordException("length " + length + " does not fit the record");
        }
        return length;
    }

    private static byte outcomeCode(HeuristicOutcome outcome) {
        return switch (outcome) {
            case COMMITTED -> 1;
            case ROLLED_BACK -> 2;
            case MIXED -> 3;
            case HAZARD -> 4;
        };
    }

    private static HeuristicOutcome outcomeOf(byte code) throws CorruptRecordException {
        return switch (code) {
            case 1 -> HeuristicOutcome.COMMITTED;
            case 2 -> HeuristicOutcome.ROLLED_BACK;
            case 3 -> HeuristicOutcome.MIXED;
            case 4 -> HeuristicOutcome.HAZARD;
            default -> throw new CorruptRecordException("unknown heuristic outcome code " + code);
        };
    }
}
