package dev.concord.it.dbcrash;

import dev.concord.it.crash.ChildProcess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.CrashPoint;
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
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.transaction.xa.XAException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kills a real coordinator process ({@link DbCrashChild}) with SIGKILL while its transactions span MariaDB and
 * PostgreSQL — at each {@link CrashPoint} and at an arbitrary moment of a loop of transactions — restarts it in
 * recovery mode, and checks in the databases themselves that every transaction is in both or in neither, that it is
 * committed exactly when its commit decision was durable in the log before the kill (presumed abort), and that
 * neither {@code XA RECOVER} nor {@code pg_prepared_xacts} holds an XID of the test's node any more.
 *
 * <p>Each test has its own node id (so its XIDs are told apart in MariaDB's server-wide {@code XA RECOVER}), its own
 * log directory and its own table in both databases, dropped afterwards. Needs the two test databases
 * ({@code scripts/test-env.sh}).
 */
class DatabaseCrashRecoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern BEGUN = Pattern.compile("begun tx(\\d+) (\\S+)");
    private static final Pattern COMMITTED = Pattern.compile("committed tx(\\d+) (\\S+)");
    private static final Pattern UNFINISHED = Pattern.compile("decided-unfinished (\\S+)");
    private static final Pattern ENDED = Pattern.compile("decided-ended (\\S+)");
    private static final String HORIZON = "recent-commits-horizon: ";
    private static final boolean LINUX = System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux");
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private final String nodeId = "dbcrash-" + hex(6);
    private final String table = "dbcrash_" + hex(6);
    private final JdbcXaResource mariaDb = CrashDatabases.mariaDb();
    private final JdbcXaResource postgres = CrashDatabases.postgres();
    private final List<ChildProcess> children = new ArrayList<>();

    @BeforeEach
    void createTables() throws Exception {
        awaitDatabases();
        execute(mariaDb, "CREATE TABLE " + table + " (id INT PRIMARY KEY, gtrid VARCHAR(128) NOT NULL) ENGINE=InnoDB");
        execute(postgres, "CREATE TABLE " + table + " (id INT PRIMARY KEY, gtrid VARCHAR(128) NOT NULL)");
    }

    /**
     * Kills what is still running, rolls back whatever of this node is still prepared (only after a failure; the
     * tests assert there is none) and drops the tables.
     */
    @AfterEach
    void cleanUp() throws Exception {
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
        }
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(CrashPoint.class)
    void transactionKilledAtCrashPointEndsInBothDatabasesOrInNeitherAsTheDurableDecisionSaysWithNothingPrepared(
            CrashPoint point) throws Exception {
        String gtrid = runUntilKilledAt(point);
        boolean decided = point != CrashPoint.AFTER_ALL_PREPARES && point != CrashPoint.BEFORE_DECISION_FORCE;
        assertStateAtKill(point, gtrid);

        Recovery recovery = recover();
        assertEquals(decided ? Set.of(gtrid) : Set.of(), recovery.unfinished(),
                "the log holds the decision without END exactly when it was forced before the kill: " + recovery);
        assertTrue(recovery.lines().contains("unfinished-decisions-after: 0"),
                "recovery must finish the decision: " + recovery);

        Map<Integer, String> maria = rows(mariaDb);
        Map<Integer, String> pg = rows(postgres);
        Map<Integer, String> expected = decided ? Map.of(1, gtrid) : Map.of();
        assertEquals(expected, maria, "MariaDB after recovery (" + (decided ? "committed" : "rolled back") + ")");
        assertEquals(expected, pg, "PostgreSQL after recovery (" + (decided ? "committed" : "rolled back") + ")");
        assertNothingOfOursPrepared();
        System.out.println("killed at " + point.id() + ", recovery: " + recovery.lines().stream()
                .filter(l -> l.startsWith("pass ") || l.startsWith("recovered ")).toList());
    }

    @Test
    void coordinatorKilledAtAnArbitraryMomentLeavesEveryTransactionInBothDatabasesExactlyWhenItsDecisionWasDurable()
            throws Exception {
        long seed = RANDOM.nextLong();
        Random random = new Random(seed);
        int afterCommitted = 3 + random.nextInt(6);
        long delayMicros = random.nextInt(40_000);
        String how = " (seed " + seed + ": killed " + delayMicros + " µs after tx" + afterCommitted + " committed)";

        Map<Integer, String> begun;
        Set<String> reportedCommitted;
        ChildProcess child = start(List.of(), "run", "1000000");
        child.awaitStdout(l -> l.startsWith("committed tx" + afterCommitted + " "), WAIT,
                "the commit of tx" + afterCommitted);
        TimeUnit.MICROSECONDS.sleep(delayMicros);
        assertKilled(child.kill(), child);
        begun = matches(child.stdout(), BEGUN);
        reportedCommitted = new TreeSet<>(matches(child.stdout(), COMMITTED).values());
        Set<String> unfinished = new TreeSet<>(begun.values());
        unfinished.removeAll(reportedCommitted);
        assertTrue(unfinished.size() <= 1, "transactions run one after another; unfinished at the kill: "
                + unfinished + how);

        Recovery recovery = recover();
        long firstBegin = begun.values().stream().mapToLong(g -> Gtrid.parseText(g).beginMillis()).min().orElseThrow();
        assertTrue(recovery.horizon() < firstBegin, "the log must list every commit that ended in this run: horizon "
                + recovery.horizon() + ", first begin " + firstBegin + how);
        Set<String> decided = new TreeSet<>(recovery.unfinished());
        decided.addAll(recovery.ended());
        assertTrue(begun.values().containsAll(decided), "decisions of transactions that never began: " + decided + how);
        assertTrue(decided.containsAll(reportedCommitted), "every reported commit had a durable decision" + how);

        Map<Integer, String> maria = rows(mariaDb);
        Map<Integer, String> pg = rows(postgres);
        for (Map.Entry<Integer, String> tx : begun.entrySet()) {
            boolean committed = decided.contains(tx.getValue());
            String what = "tx" + tx.getKey() + " " + tx.getValue() + (committed ? " (decided)" : " (never decided)");
            assertEquals(committed ? tx.getValue() : null, maria.get(tx.getKey()), "MariaDB row of " + what + how);
            assertEquals(committed ? tx.getValue() : null, pg.get(tx.getKey()), "PostgreSQL row of " + what + how);
        }
        assertTrue(begun.keySet().containsAll(maria.keySet()), "MariaDB rows of transactions that never began" + how);
        assertTrue(begun.keySet().containsAll(pg.keySet()), "PostgreSQL rows of transactions that never began" + how);
        assertNothingOfOursPrepared();
        System.out.println("killed" + how + ": begun " + begun.size() + ", reported committed "
                + reportedCommitted.size() + ", unfinished " + unfinished + " decided="
                + decided.containsAll(unfinished) + ", recovery: " + recovery.lines().stream()
                .filter(l -> l.startsWith("recovered ") || l.startsWith("prepared-before")).toList());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * Runs the child with the point armed in wait mode and kills it with SIGKILL there; returns the gtrid of the one
     * transaction that began. For {@code after-first-branch-commit} the other branch usually commits too before the
     * kill (phase 2 commits branches in parallel and the point blocks only the thread that reached it).
     */
    private String runUntilKilledAt(CrashPoint point) throws Exception {
        ChildProcess child = start(List.of("concord.crashPoint=" + point.id(), "concord.crashMode=wait"), "run", "3");
        child.awaitStderr(l -> l.equals(CrashPoint.REACHED_MARKER + point.id()), WAIT,
                "the marker of crash point " + point.id());
        assertKilled(child.kill(), child);
        Map<Integer, String> begun = matches(child.stdout(), BEGUN);
        assertEquals(Set.of(1), begun.keySet(), "the first transaction reaches the point; no other may begin"
                + child.describe());
        return begun.get(1);
    }

    /** What the databases hold right after the kill, before any recovery. */
    private void assertStateAtKill(CrashPoint point, String gtrid) throws Exception {
        Map<String, Map<Integer, String>> rows = Map.of("MariaDB", rows(mariaDb), "PostgreSQL", rows(postgres));
        Map<String, List<String>> prepared = Map.of("MariaDB", preparedGtrids(mariaDb),
                "PostgreSQL", preparedGtrids(postgres));
        String state = " at the kill: rows=" + rows + " prepared=" + prepared;
        for (String db : rows.keySet()) {
            boolean committedHere = rows.get(db).equals(Map.of(1, gtrid));
            boolean preparedHere = prepared.get(db).equals(List.of(gtrid));
            switch (point) {
                case AFTER_ALL_PREPARES, BEFORE_DECISION_FORCE, AFTER_DECISION_FORCE -> {
                    assertTrue(preparedHere, db + " holds the branch prepared" + state);
                    assertTrue(rows.get(db).isEmpty(), db + " has committed nothing" + state);
                }
                case AFTER_FIRST_BRANCH_COMMIT -> assertTrue(
                        committedHere && prepared.get(db).isEmpty() || preparedHere && rows.get(db).isEmpty(),
                        db + " holds the branch either committed or prepared" + state);
                case BEFORE_END_RECORD -> {
                    assertTrue(committedHere, db + " has committed the branch" + state);
                    assertTrue(prepared.get(db).isEmpty(), db + " holds nothing prepared" + state);
                }
            }
        }
        if (point == CrashPoint.AFTER_FIRST_BRANCH_COMMIT) {
            assertTrue(rows.values().stream().anyMatch(r -> !r.isEmpty()), "the first branch is committed" + state);
        }
        // The SQL views that the final check reads see the same prepared branches as the drivers' recover().
        assertEquals(prepared.get("MariaDB").size(), xaRecoverRowsOfOurs().size(), "XA RECOVER" + state);
        assertEquals(prepared.get("PostgreSQL").size(), pgPreparedXactsOfOurs().size(), "pg_prepared_xacts" + state);
    }

    /**
     * Neither database lists an XID of this node: asked through the drivers' {@code recover()} on a fresh XA
     * connection, and in SQL — MariaDB's {@code XA RECOVER} (server-wide) and PostgreSQL's
     * {@code pg_prepared_xacts} (every database of the cluster).
     */
    private void assertNothingOfOursPrepared() throws Exception {
        assertEquals(List.of(), preparedGtrids(mariaDb), "MariaDB's recover() lists XIDs of " + nodeId);
        assertEquals(List.of(), preparedGtrids(postgres), "PostgreSQL's recover() lists XIDs of " + nodeId);
        assertEquals(List.of(), xaRecoverRowsOfOurs(), "XA RECOVER lists XIDs of " + nodeId);
        assertEquals(List.of(), pgPreparedXactsOfOurs(), "pg_prepared_xacts lists XIDs of " + nodeId);
    }

    private List<String> preparedGtrids(JdbcXaResource r) throws XAException {
        return CrashDatabases.prepared(r, nodeId).stream().map(x -> x.gtrid().toString()).toList();
    }

    /** Rows of MariaDB's {@code XA RECOVER} with Concord's format id whose data holds this node's id. */
    private List<String> xaRecoverRowsOfOurs() throws SQLException {
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
    private List<String> pgPreparedXactsOfOurs() throws SQLException {
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

    /** The committed rows of the test's table, id to gtrid text, read on a new connection. */
    private Map<Integer, String> rows(JdbcXaResource r) throws SQLException {
        Map<Integer, String> out = new TreeMap<>();
        try (Connection c = CrashDatabases.plain(r); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, gtrid FROM " + table)) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getString(2));
            }
        }
        return out;
    }

    /** Runs the child in recovery mode to its end. */
    private Recovery recover() throws Exception {
        ChildProcess child = start(List.of(), "recover");
        int status = child.awaitExit(WAIT);
        assertEquals(0, status, "recovery must exit 0" + child.describe());
        List<String> lines = child.stdout();
        String horizon = lines.stream().filter(l -> l.startsWith(HORIZON)).findFirst()
                .orElseThrow(() -> new AssertionError("no horizon printed" + child.describe()));
        return new Recovery(lines, new TreeSet<>(matches(lines, UNFINISHED).values()),
                new TreeSet<>(matches(lines, ENDED).values()), Long.parseLong(horizon.substring(HORIZON.length())));
    }

    /** What the recovery child printed, and the log's decisions at its start. */
    private record Recovery(List<String> lines, Set<String> unfinished, Set<String> ended, long horizon) {
        @Override
        public String toString() {
            return String.join("\n", lines);
        }
    }

    private ChildProcess start(List<String> properties, String... mode) throws Exception {
        List<String> args = new ArrayList<>(List.of(nodeId, table));
        args.addAll(List.of(mode));
        ChildProcess child = ChildProcess.start(DbCrashChild.class, properties, dir, args.toArray(String[]::new));
        children.add(child);
        return child;
    }

    private static void assertKilled(int status, ChildProcess child) {
        if (LINUX) {
            assertEquals(128 + 9, status, "the child must die of SIGKILL" + child.describe());
        } else {
            assertNotEquals(0, status, "the child must not exit normally" + child.describe());
        }
        assertTrue(child.stdout().stream().noneMatch("done"::equals), "the child must not have finished its run");
    }

    /** The first group (a number, or the whole key) to the second of every matching line. */
    private static Map<Integer, String> matches(List<String> lines, Pattern p) {
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

    private static void execute(JdbcXaResource r, String sql) throws SQLException {
        try (Connection c = CrashDatabases.plain(r); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
