package dev.concord.xa.conformance;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.transaction.xa.Xid;

/**
 * An XID for the conformance tests: its own format id, so that nothing else (Concord's recovery included) mistakes
 * these branches for its own, and random bytes, so that concurrent runs never collide.
 *
 * @param formatId the format id
 * @param gtrid the global transaction id (kept by reference: callers must not change it)
 * @param bqual the branch qualifier (kept by reference: callers must not change it)
 */
public record TestXid(int formatId, byte[] gtrid, byte[] bqual) implements Xid {

    /** "XACF" in ASCII: XA conformance; differs from Concord's own format id. */
    public static final int FORMAT_ID = 0x58414346;

    private static final SecureRandom RANDOM = new SecureRandom();

    /** A fresh XID with {@link #FORMAT_ID}, a random 16-byte gtrid and the one-byte bqual {@code 1}. */
    public static TestXid random() {
        return new TestXid(FORMAT_ID, randomBytes(16), new byte[] {1});
    }

    /** A fresh XID with the given format id and branch qualifier and a random 16-byte gtrid. */
    public static TestXid random(int formatId, byte[] bqual) {
        return new TestXid(formatId, randomBytes(16), bqual.clone());
    }

    /** {@code length} random bytes. */
    public static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    @Override
    public int getFormatId() {
        return formatId;
    }

    @Override
    public byte[] getGlobalTransactionId() {
        return gtrid.clone();
    }

    @Override
    public byte[] getBranchQualifier() {
        return bqual.clone();
    }

    /** Whether {@code other} has the same format id, gtrid bytes and bqual bytes. */
    public boolean matches(Xid other) {
        return other != null
                && other.getFormatId() == formatId
                && Arrays.equals(other.getGlobalTransactionId(), gtrid)
                && Arrays.equals(other.getBranchQualifier(), bqual);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TestXid xid && matches(xid);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * formatId + Arrays.hashCode(gtrid)) + Arrays.hashCode(bqual);
    }

    @Override
    public String toString() {
        return formatId + ":" + HexFormat.of().formatHex(gtrid) + ":" + HexFormat.of().formatHex(bqual);
    }
}
