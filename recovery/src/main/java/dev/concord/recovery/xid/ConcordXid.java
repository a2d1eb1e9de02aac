package dev.concord.recovery.xid;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import javax.transaction.xa.Xid;

/**
 * The XID of one branch: Concord's format id, a {@link Gtrid} and a branch number as bqual.
 *
 * <p>The bqual is the branch number as 4 big-endian bytes and is never empty (Connector/J builds invalid SQL for
 * an empty bqual). Branch numbers start at 1.
 */
public final class ConcordXid implements Xid {
    private final Gtrid gtrid;
    private final int branch;

    public ConcordXid(Gtrid gtrid, int branch) {
        if (branch < 1) {
            throw new IllegalArgumentException("branch number must be >= 1, got " + branch);
        }
        this.gtrid = gtrid;
        this.branch = branch;
    }

    /** The bqual bytes for a branch number. */
    public static byte[] bqualOf(int branch) {
        return new byte[] {(byte) (branch >>> 24), (byte) (branch >>> 16), (byte) (branch >>> 8), (byte) branch};
    }

    /** The branch number in a bqual, or -1 when it is not one of ours. */
    public static int branchOf(byte[] bqual) {
        if (bqual == null || bqual.length != 4) {
            return -1;
        }
        int b = ByteBuffer.wrap(bqual).getInt();
        return b >= 1 ? b : -1;
    }

    /**
     * Reads any XID as a Concord XID.
     *
     * @return the XID, or {@code null} if its format id, gtrid or bqual is not Concord's
     */
    public static ConcordXid from(Xid xid) {
        if (xid instanceof ConcordXid c) {
            return c;
        }
        if (xid == null || xid.getFormatId() != XidFormat.FORMAT_ID) {
            return null;
        }
        Gtrid g = Gtrid.tryParse(xid.getGlobalTransactionId());
        int b = branchOf(xid.getBranchQualifier());
        return g == null || b < 0 ? null : new ConcordXid(g, b);
    }

    public Gtrid gtrid() {
        return gtrid;
    }

    public int branch() {
        return branch;
    }

    @Override
    public int getFormatId() {
        return XidFormat.FORMAT_ID;
    }

    @Override
    public byte[] getGlobalTransactionId() {
        return gtrid.toBytes();
    }

    @Override
    public byte[] getBranchQualifier() {
        return bqualOf(branch);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConcordXid x && x.branch == branch && x.gtrid.equals(gtrid);
    }

    @Override
    public int hashCode() {
        return gtrid.hashCode() * 31 + branch;
    }

    @Override
    public String toString() {
        return XidFormat.FORMAT_ID + ":" + gtrid + ":" + branch + " [" + gtrid.toHex() + "/"
                + HexFormat.of().formatHex(bqualOf(branch)) + "]";
    }

    /** True when two XIDs have the same format id, gtrid and bqual, whatever their classes. */
    public static boolean sameXid(Xid a, Xid b) {
        return a.getFormatId() == b.getFormatId()
                && Arrays.equals(a.getGlobalTransactionId(), b.getGlobalTransactionId())
                && Arrays.equals(a.getBranchQualifier(), b.getBranchQualifier());
    }
}
