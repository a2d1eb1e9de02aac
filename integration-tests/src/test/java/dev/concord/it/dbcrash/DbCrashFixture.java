package dev.concord.it.dbcrash;

import dev.concord.coordinator.CrashPoint;
import dev.concord.it.crash.ChildProcess;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.recovery.xid.XidFormat;
import dev.concord.xa.jdbc.JdbcXaResource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.transaction.xa.XAException;

/**
 * One crash test's coordinator child ({@link DbCrashChild}) and its share of the two test databases: a node id of
 * its own (so that its XIDs are told apart in MariaDB's server-wide {@code XA RECOVER}), a table of its own in both
 * databases, the child started in run or recovery mode in the test's directory, and what the databases hold.
 * {@link #close()} kills what still runs, rolls back whatever of this node is still prepared (only after a failure;
 * the tests assert there is none) and drops the tables.
 */
public final class DbCrashFixture implements AutoCloseable {
    /** The longest wait for a child's line or exit. */
    public static final Duration WAIT = Duration.ofSeconds(60);
    /** {@code begun tx<i> <gtrid>}, printed by the run before a transaction's work. */
    public static final Pattern BEGUN = Pattern.compile("begun tx(\\d+) (\\S+)");
    /** {@code committed tx<i> <gtrid>}, printed by the run once commit returned. */
    public static final Pattern COMMITTED = Pattern.compile("committed tx(\\d+) (\\S+)");
    private static final Pattern UNFINISHED = Pattern.compile("decided-unfinished (\\S+)");
    private static final Pattern ENDED = Pattern.compile("decided-ended (\\S+)");
    private static final String HORIZON = "recent-commits-horizon: ";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final String nodeId;
    private final String table;
    private final List<String> childProperties;
    private final JdbcXaResource mariaDb = CrashDatabases.mariaDb();
    private final JdbcXaResource postgres = CrashDatabases.postgres();
    private final List<ChildProcess> children = new ArrayList<>();

    private DbCrashFixture(Path dir, String prefix, List<String> childProperties) {
        this.dir = dir;
        this.nodeId = prefix + "-" + hex(6);
        this.table = prefix + "_" + hex(6);
        this.childProperties = List.copyOf(childProperties);
    }

    /**
     * Waits (bounded) for both databases and creates the table {@code (id INT PRIMARY KEY, gtrid VARCHAR(128))} in
     * each.
     *
     * @param dir             the children's data directory (their log)
     * @param prefix          the node id and table name start with it
     * @param childProperties system properties ({@code name=value}) given to every child, run and recovery
     */
    public static DbCrashFixture create(Path dir, String prefix, List<String> childProperties) throws Exception {
        DbCrashFixture f = new DbCrashFixture(dir, prefix, childProperties);
        f.awaitDatabases();
        f.execute(f.mariaDb, "CREATE TABLE " + f.table + " (id INT PRIMARY KEY, gtrid VARCHAR(128) NOT NULL) "
                + "ENGINE=InnoDB");
        f.execute(f.postgres, "CREATE TABLE " + f.table + " (id INT PRIMARY KEY, gtrid VARCHAR(128) NOT NULL)");
        return f;
    }

    public String nodeId() {
        return nodeId;
    }

    public JdbcXaResource mariaDb() {
        return mariaDb;
    }

    public JdbcXaResource postgres() {
        return postgres;
    }

    /** Starts the child with the fixture's and these system properties in the given mode ({@code run n}, {@code recover}). */
    public ChildProcess start(List<String> properties, String... mode) throws Exception {
        List<String> props = new ArrayList<>(childProperties);
        props.addAll(properties);
        List<String> args = new ArrayList<>(List.of(nodeId, table));
        args.addAll(List.of(mode));
        ChildProcess child = ChildProcess.start(DbCrashChild.class, props, dir, args.toArray(String[]::new));
        children.add(child);
        return child;
    }

    /**
     * Runs the child with the point armed in wait mode and kills it with SIGKILL there; returns the gtrid of the one
     * transaction that began. For {@code after-first-branch-commit} the other database branch usually commits too
     * before the kill (phase 2 commits branches in parallel and the point blocks only the thread that reached it).
     */
    public String runUntilKilledAt(CrashPoint point) throws Exception {
        ChildProcess child = start(List.of("concord.crashPoint=" + point.id(), "concord.crashMode=wait"), "run", "3");
        child.awaitStderr(l -> l.equals(CrashPoint.REACHED_MARKER + point.id()), WAIT,
                "the marker of crash point " + point.id());
        child.killMidRun();
        Map<Integer, String> begun = matches(child.stdout(), BEGUN);
        if (!begun.keySet().equals(Set.of(1))) {
            throw new AssertionError("the first transaction reaches the point; no other may begin: " + begun
                    + child.describe());
        }
        return begun.get(1);
    }

    /** Runs the child in recovery mode, with these extra system properties, to its end (exit status 0). */
    public Recovery recover(List<String> properties) throws Exception {
        ChildProcess child = start(properties, "recover");
        int status = child.awaitExit(WAIT);
        if (status != 0) {
            throw new AssertionError("recovery must exit 0, exited " + status + child.describe());
        }
        List<String> lines = child.stdout();
        String horizon = lines.stream().filter(l -> l.startsWith(HORIZON)).findFirst()
                .orElseThrow(() -> new AssertionError("no horizon printed" + child.describe()));
        return new Recovery(lines, new TreeSet<>(matches(lines, UNFINISHED).values()),
                new TreeSet<>(matches(lines, ENDED).values()), Long.parseLong(horizon.substring(HORIZON.length())));
    }

    /** What the recovery child printed, and the log's decisions at its start. */
    public record Recovery(List<String> lines, Set<String> unfinished, Set<String> ended, long horizon) {
        /** The lines that start with one of these prefixes. */
        public List<String> linesStartingWith(String... prefixes) {
            return lines.stream().filter(l -> {
                for (String p : prefixes) {
                    if (l.startsWith(p)) {
                        return true;
                    }
                }
                return false;
            }).toList();
        }

        @Override
        public String toString() {
            return String.join("\n", lines);
        }
    }

    /** The committed rows of the table, id to gtrid text, read on a new connection. */
    public Map<Integer, String> rows(JdbcXaResource r) throws SQLException {
        Map<Integer, String> out = new TreeMap<>();
        try (Connection c = CrashDatabases.plain(r); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, gtrid FROM " + table)) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getString(2));
            }
        }
        return out;
    }

    /** The gtrids of this node's branches that the resource's recovery scan lists as prepared. */
    public List<String> preparedGtrids(JdbcXaResource r) throws XAException {
        return CrashDatabases.prepared(r, nodeId).stream().map(x -> x.gtrid().toString()).toList();
    }

    /**
     * Neither database lists an XID of this node: asked through the drivers' {@code recover()} on a fresh XA
     * connection, and in SQL — MariaDB's {@code XA RECOVER} (server-wide) and PostgreSQL's
     * {@code pg_prepared_xacts} (every database of the cluster).
     */
    public void assertNothingOfOursPrepared() throws Exception {
        expectNone(preparedGtrids(mariaDb), "MariaDB's recover() lists XIDs of " + nodeId);
        expectNone(preparedGtrids(postgres), "PostgreSQL's recover() lists XIDs of " + nodeId);
        expectNone(xaRecoverRowsOfOurs(), "XA RECOVER lists XIDs of " + nodeId);
        expectNone(pgPreparedXactsOfOurs(), "pg_prepared_xacts lists XIDs of " + nodeId);
    }

    private static void expectNone(List<String> listed, String what) {
        if (!listed.isEmpty()) {
            throw new AssertionError(what + ": " + listed);
        }
    }

    /** Rows of MariaDB's {@code XA RECOVER} with Concord's format id whose data holds this node's id. */
    public List<String> xaRecoverRowsOfOurs() throws SQLException {
        byte[] node = nodeId.getBytes(StandardCharsets.US_ASCII);
        List<String> out = new ArrayList<>();
        try (Connection c = CrashDatabases.plain(mariaDb); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("XA RECOVER")) {
            while (r.next()) {
                byte[] data = r.getBytes("data");
                if (r.getInt("formatID") == XidFormat.FORMAT_ID && indexOf(data, node) >= 0) {
                    out.add(HexFormat.of().formatHex(data));
                }
            }
        }
        return out;
    }

    /** Gids in {@code pg_prepared_xacts} whose gtrid (pgjdbc writes {@code formatId_base64(gtrid)_base64(bqual)}) is this node's. */
    public List<String> pgPreparedXactsOfOurs() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = CrashDatabases.plain(postgres); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT gid FROM pg_prepared_xacts")) {
            while (r.next()) {
                String gid = r.getString(1);
                String[] parts = gid.split("_");
                if (parts.length != 3 || !parts[0].equals(Integer.toString(XidFormat.FORMAT_ID))) {
                    continue;
                }
                try {
                    Gtrid g = Gtrid.tryParse(Base64.getDecoder().decode(parts[1]));
                    if (g != null && g.nodeId().equals(nodeId)) {
                        out.add(gid);
                    }
                } catch (IllegalArgumentException notBase64) {
                    // Not written by pgjdbc: not ours.
                }
            }
        }
        return out;
    }

    /** The first group (a number, or the running count) to the last group of every matching line. */
    public static Map<Integer, String> matches(List<String> lines, Pattern p) {
        Map<Integer, String> out = new TreeMap<>();
        int n = 0;
        for (String l : lines) {
            Matcher m = p.matcher(l);
            if (m.matches()) {
                out.put(m.groupCount() == 2 ? Integer.parseInt(m.group(1)) : n++, m.group(m.groupCount()));
            }
        }
        return out;
    }

    /** Kills what still runs, rolls back this node's prepared branches, drops the tables, closes the resources. */
    @Override
    public void close() throws Exception {
        for (ChildProcess child : children) {
            child.close();
        }
        List<Exception> failures = new ArrayList<>();
        for (JdbcXaResource r : List.of(mariaDb, postgres)) {
            try {
                rollBackOurs(r);
            } catch (Exception e) {
                failures.add(e);
            }
            try (Connection c = CrashDatabases.plain(r); Statement s = c.createStatement()) {
                s.execute(r == mariaDb ? "SET SESSION lock_wait_timeout = 10" : "SET lock_timeout = '10s'");
                s.execute("DROP TABLE IF EXISTS " + table);
            } catch (SQLException e) {
                failures.add(e);
            }
            r.close();
        }
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    /** Rolls back this node's prepared branches; a MariaDB branch of a dying session may need a few tries. */
    private void rollBackOurs(JdbcXaResource r) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<ConcordXid> left = CrashDatabases.prepared(r, nodeId);
        while (!left.isEmpty()) {
            try (var lease = r.open()) {
                for (ConcordXid x : left) {
                    try {
                        lease.xaResource().rollback(x);
                    } catch (XAException e) {
                        // XAER_NOTA while still listed: the session that prepared it has not ended yet.
                    }
                }
            }
            left = CrashDatabases.prepared(r, nodeId);
            if (!left.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("cannot roll back " + left + " in " + r.name());
                }
                Thread.sleep(100);
            }
        }
    }

    /** Waits (bounded) until both databases accept a connection: other tests may be restarting them. */
    private void awaitDatabases() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Connection a = CrashDatabases.plain(mariaDb); Connection b = CrashDatabases.plain(postgres)) {
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    private void execute(JdbcXaResource r, String sql) throws SQLException {
        try (Connection c = CrashDatabases.plain(r); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; haystack != null && i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
