package dev.concord.service.core;

import dev.concord.recovery.xid.ConcordXid;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The exact SQL a participant runs to prepare a branch with a Concord-issued XID itself.
 *
 * <p><b>MySQL / MariaDB</b>: the XID as {@code X'<gtrid hex>',X'<bqual hex>',<formatId>} in {@code XA START},
 * {@code XA END} and {@code XA PREPARE} (the participant's work goes between START and END). MariaDB keeps a
 * prepared branch attached to the session that prepared it: the participant must close that connection before the
 * coordinator can finish the branch.
 *
 * <p><b>PostgreSQL</b>: the gid in the form pgjdbc's {@code PGXAResource} uses, so that the coordinator's pgjdbc
 * connection finds and finishes the branch: {@code <formatId>_<base64(gtrid)>_<base64(bqual)>}, standard Base64
 * with padding (pgjdbc 42.7 {@code RecoveredXid.xidToString}). The participant runs {@code BEGIN}, its work, then
 * {@code PREPARE TRANSACTION '<gid>'}. The Base64 alphabet has no quote, so the gid needs no escaping.
 */
public final class XidSql {
    private XidSql() {
    }

    /** The XID as MySQL's XA statements write it: {@code X'..',X'..',formatId}. */
    public static String mysqlXid(ConcordXid xid) {
        HexFormat hex = HexFormat.of();
        return "X'" + hex.formatHex(xid.getGlobalTransactionId()) + "',X'" + hex.formatHex(xid.getBranchQualifier())
                + "'," + xid.getFormatId();
    }

    /** The PostgreSQL gid pgjdbc uses for this XID. */
    public static String postgresGid(ConcordXid xid) {
        Base64.Encoder b64 = Base64.getEncoder();
        return xid.getFormatId() + "_" + b64.encodeToString(xid.getGlobalTransactionId()) + "_"
                + b64.encodeToString(xid.getBranchQualifier());
    }

    /** MySQL / MariaDB statements for one branch. */
    public static MySql mysql(ConcordXid xid) {
        String x = mysqlXid(xid);
        return new MySql("XA START " + x, "XA END " + x, "XA PREPARE " + x);
    }

    /** PostgreSQL statements for one branch. */
    public static Postgres postgres(ConcordXid xid) {
        String gid = postgresGid(xid);
        return new Postgres(gid, "BEGIN", "PREPARE TRANSACTION '" + gid + "'");
    }

    /**
     * The MySQL / MariaDB statements, in the order the participant runs them (its work between start and end).
     *
     * @param start   {@code XA START X'..',X'..',fmt}
     * @param end     {@code XA END X'..',X'..',fmt}
     * @param prepare {@code XA PREPARE X'..',X'..',fmt}
     */
    public record MySql(String start, String end, String prepare) {
    }

    /**
     * The PostgreSQL statements.
     *
     * @param gid     the global transaction identifier pgjdbc uses for this XID
     * @param begin   {@code BEGIN}
     * @param prepare {@code PREPARE TRANSACTION '<gid>'}
     */
    public record Postgres(String gid, String begin, String prepare) {
    }
}
