package dev.concord.recovery.xid;

/**
 * Constants of Concord's XID format.
 *
 * <p>Every XID Concord issues carries {@link #FORMAT_ID} and a gtrid laid out by {@link Gtrid}. Recovery only
 * touches XIDs with this format id and its own node id: MariaDB's {@code XA RECOVER} is server-wide, so other
 * products' and other nodes' branches are listed too and must be left alone.
 */
public final class XidFormat {
    /** "CONC" in ASCII; positive, because Connector/J cannot prepare a negative format id. */
    public static final int FORMAT_ID = 0x434F4E43;
    /** The XA limit for both gtrid and bqual. */
    public static final int MAX_PART_LENGTH = 64;
    /** Longest node id accepted, in bytes of its US-ASCII encoding. */
    public static final int MAX_NODE_ID_LENGTH = 36;

    private XidFormat() {
    }
}
