package dev.concord.recovery.xid;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A global transaction id: node id, begin time and sequence number.
 *
 * <p>Binary layout (at most 54 bytes): one version byte ({@code 1}), one node-id length byte, the node id in
 * US-ASCII, the begin time in epoch milliseconds (8 bytes, big-endian) and the sequence number (8 bytes,
 * big-endian). The begin time lets recovery tell a transaction that began after the oldest in-flight one from an
 * orphan, and the (begin time, sequence) pair keeps ids unique across restarts of the same node.
 */
public final class Gtrid implements Comparable<Gtrid> {
    private static final byte VERSION = 1;

    private final String nodeId;
    private final long beginMillis;
    private final long sequence;
    private final byte[] bytes;
    /** Kept: a gtrid is a key of several maps on the commit path. */
    private final int hash;

    private Gtrid(String nodeId, long beginMillis, long sequence, byte[] bytes) {
        this.nodeId = nodeId;
        this.beginMillis = beginMillis;
        this.sequence = sequence;
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /**
     * Builds a gtrid.
     *
     * @throws IllegalArgumentException if the node id is not 1 to {@value XidFormat#MAX_NODE_ID_LENGTH} printable
     *                                  ASCII characters
     */
    public static Gtrid of(String nodeId, long beginMillis, long sequence) {
        validateNodeId(nodeId);
        return ofValidNode(nodeId, nodeId.getBytes(StandardCharsets.US_ASCII), beginMillis, sequence);
    }

    /** For {@link XidFactory}, which validated and encoded the node id once. */
    static Gtrid ofValidNode(String nodeId, byte[] node, long beginMillis, long sequence) {
        ByteBuffer buf = ByteBuffer.allocate(2 + node.length + 16);
        buf.put(VERSION).put((byte) node.length).put(node).putLong(beginMillis).putLong(sequence);
        return new Gtrid(nodeId, beginMillis, sequence, buf.array());
    }

    /**
     * Parses the binary form.
     *
     * @throws IllegalArgumentException if the bytes are not a Concord gtrid
     */
    public static Gtrid parse(byte[] raw) {
        Gtrid parsed = tryParse(raw);
        if (parsed == null) {
            throw new IllegalArgumentException("not a Concord gtrid: " + HexFormat.of().formatHex(raw));
        }
        return parsed;
    }

    /** Parses the binary form, or returns {@code null} when the bytes are not a Concord gtrid. */
    public static Gtrid tryParse(byte[] raw) {
        if (raw == null || raw.length < 2 + 1 + 16 || raw[0] != VERSION) {
            return null;
        }
        int nodeLength = raw[1] & 0xff;
        if (nodeLength < 1 || nodeLength > XidFormat.MAX_NODE_ID_LENGTH || raw.length != 2 + nodeLength + 16) {
            return null;
        }
        String nodeId = new String(raw, 2, nodeLength, StandardCharsets.US_ASCII);
        if (!isValidNodeId(nodeId)) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.wrap(raw, 2 + nodeLength, 16);
        return new Gtrid(nodeId, buf.getLong(), buf.getLong(), raw.clone());
    }

    /** Parses the text form produced by {@link #toString()}: {@code nodeId:beginMillis:sequence}. */
    public static Gtrid parseText(String text) {
        Objects.requireNonNull(text, "text");
        int second = text.lastIndexOf(':');
        int first = second <= 0 ? -1 : text.lastIndexOf(':', second - 1);
        if (first <= 0) {
            throw new IllegalArgumentException("not a transaction id (expected node:beginMillis:sequence): " + text);
        }
        try {
            return of(text.substring(0, first), Long.parseLong(text.substring(first + 1, second)),
                    Long.parseLong(text.substring(second + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a transaction id (expected node:beginMillis:sequence): " + text, e);
        }
    }

    /** Checks a node id, with a message that says what is wrong. */
    public static void validateNodeId(String nodeId) {
        if (!isValidNodeId(nodeId)) {
            throw new IllegalArgumentException("node id must be 1 to " + XidFormat.MAX_NODE_ID_LENGTH
                    + " characters of [A-Za-z0-9._-], got: " + nodeId);
        }
    }

    private static boolean isValidNodeId(String nodeId) {
        if (nodeId == null || nodeId.isEmpty() || nodeId.length() > XidFormat.MAX_NODE_ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < nodeId.length(); i++) {
            char c = nodeId.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    public String nodeId() {
        return nodeId;
    }

    public long beginMillis() {
        return beginMillis;
    }

    public long sequence() {
        return sequence;
    }

    /** A copy of the binary form, as sent to resources. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Puts the binary form into {@code out}, without the copy {@link #toBytes()} makes. */
    public void writeTo(ByteBuffer out) {
        out.put(bytes);
    }

    /** Length of the binary form. */
    public int length() {
        return bytes.length;
    }

    /** The binary form in lower-case hex. */
    public String toHex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public int compareTo(Gtrid o) {
        int c = Long.compare(beginMillis, o.beginMillis);
        if (c != 0) {
            return c;
        }
        c = Long.compare(sequence, o.sequence);
        return c != 0 ? c : nodeId.compareTo(o.nodeId);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Gtrid g && g.hash == hash && Arrays.equals(bytes, g.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** Text form {@code nodeId:beginMillis:sequence}, accepted by {@link #parseText(String)}. */
    @Override
    public String toString() {
        return nodeId + ':' + beginMillis + ':' + sequence;
    }
}
