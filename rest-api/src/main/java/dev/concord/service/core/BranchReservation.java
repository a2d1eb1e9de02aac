package dev.concord.service.core;

/**
 * A branch XID for a participant that prepares its branch itself, with the SQL it runs, and whether the branch
 * has been registered as prepared yet.
 *
 * @param transaction the transaction id
 * @param branch      the branch number to register once prepared
 * @param xid         format id, gtrid and bqual in hex
 * @param mysql       the MySQL / MariaDB statements
 * @param postgresql  the PostgreSQL gid and statements
 * @param registered  true once the branch was registered as prepared
 * @param resource    the resource it was registered in, or null
 */
public record BranchReservation(String transaction, int branch, XidView xid, XidSql.MySql mysql,
                                XidSql.Postgres postgresql, boolean registered, String resource) {
}
