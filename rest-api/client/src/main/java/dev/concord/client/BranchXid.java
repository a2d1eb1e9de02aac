package dev.concord.client;

import java.util.Arrays;
import java.util.HexFormat;
import javax.transaction.xa.Xid;

/** A branch XID the service reserved for this client: its branch number and the XID parts it handed out. */
public final class BranchXid implements Xid {
    private final String transaction;
    private final int branch;
    private final int formatId;
    private final byte[] gtrid;
    private final byte[] bqual;

    BranchXid(String transaction, int branch, int formatId, String gtridHex, String bqualHex) {
        this.transaction = transaction;
        this.branch = branch;
        this.formatId = formatId;
        this.gtrid = HexFormat.of().parseHex(gtridHex);
        this.bqual = HexFormat.of().parseHex(bqualHex);
        if (branch < 1 || gtrid.length == 0 || gtrid.length > MAXGTRIDSIZE || bqual.length == 0
                || bqual.length > MAXBQUALSIZE) {
            throw new IllegalArgumentException("the service handed out an unusable XID for branch " + branch
                    + " of " + transaction);
        }
    }

    /** The transaction id. */
    public String transaction() {
        return transaction;
    }

    /** The branch number, from 1. */
    public int branch() {
        return branch;
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

    @Override
    public boolean equals(Object o) {
        return o instanceof BranchXid x && formatId == x.formatId && Arrays.equals(gtrid, x.gtrid)
                && Arrays.equals(bqual, x.bqual);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(gtrid) + Arrays.hashCode(bqual);
    }

    @Override
    public String toString() {
        return transaction + "/" + branch;
    }
}
