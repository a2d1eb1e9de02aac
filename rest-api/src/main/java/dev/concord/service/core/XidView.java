package dev.concord.service.core;

import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.recovery.xid.XidFormat;
import java.util.HexFormat;

/**
 * The parts of an XID as a participant needs them: the format id in decimal, gtrid and bqual in lower-case hex.
 *
 * @param formatId Concord's format id, {@value XidFormat#FORMAT_ID}
 * @param gtrid    the global transaction id bytes in hex
 * @param bqual    the branch qualifier bytes in hex (4 bytes, the branch number), or null for a whole transaction
 */
public record XidView(int formatId, String gtrid, String bqual) {
    /** The transaction-level parts (no bqual). */
    public static XidView of(Gtrid gtrid) {
        return new XidView(XidFormat.FORMAT_ID, gtrid.toHex(), null);
    }

    /** The parts of one branch's XID. */
    public static XidView of(ConcordXid xid) {
        return new XidView(xid.getFormatId(), xid.gtrid().toHex(), HexFormat.of().formatHex(xid.getBranchQualifier()));
    }
}
