package dev.concord.it.dbcrash;

import static dev.concord.it.dbcrash.DbCrashFixture.BEGUN;
import static dev.concord.it.dbcrash.DbCrashFixture.COMMITTED;
import static dev.concord.it.dbcrash.DbCrashFixture.WAIT;
import static dev.concord.it.dbcrash.DbCrashFixture.matches;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.CrashPoint;
import dev.concord.it.crash.ChildProcess;
import dev.concord.it.dbcrash.DbCrashFixture.Recovery;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.xa.jdbc.JdbcXaResource;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
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
 * <p>Each test has its own node id, log directory and table in both databases ({@link DbCrashFixture}). Needs the two
 * test databases ({@code scripts/test-env.sh}).
 */
class DatabaseCrashRecoveryTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private DbCrashFixture db;
    private JdbcXaResource mariaDb;
    private JdbcXaResource postgres;

    @BeforeEach
    void createTables() throws Exception {
        db = DbCrashFixture.create(dir, "dbcrash", List.of());
        mariaDb = db.mariaDb();
        postgres = db.postgres();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(CrashPoint.class)
    void transactionKilledAtCrashPointEndsInBothDatabasesOrInNeitherAsTheDurableDecisionSaysWithNothingPrepared(
            CrashPoint point) throws Exception {
        String gtrid = db.runUntilKilledAt(point);
        boolean decided = point != CrashPoint.AFTER_ALL_PREPARES && point != CrashPoint.BEFORE_DECISION_FORCE;
        assertStateAtKill(point, gtrid);

        Recovery recovery = db.recover(List.of());
        assertEquals(decided ? Set.of(gtrid) : Set.of(), recovery.unfinished(),
                "the log holds the decision without END exactly when it was forced before the kill: " + recovery);
        assertTrue(recovery.lines().contains("unfinished-decisions-after: 0"),
                "recovery must finish the decision: " + recovery);

        Map<Integer, String> maria = db.rows(mariaDb);
        Map<Integer, String> pg = db.rows(postgres);
        Map<Integer, String> expected = decided ? Map.of(1, gtrid) : Map.of();
        assertEquals(expected, maria, "MariaDB after recovery (" + (decided ? "committed" : "rolled back") + ")");
        assertEquals(expected, pg, "PostgreSQL after recovery (" + (decided ? "committed" : "rolled back") + ")");
        db.assertNothingOfOursPrepared();
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
        ChildProcess child = db.start(List.of(), "run", "1000000");
        child.awaitStdout(l -> l.startsWith("committed tx" + afterCommitted + " "), WAIT,
                "the commit of tx" + afterCommitted);
        TimeUnit.MICROSECONDS.sleep(delayMicros);
        child.killMidRun();
        begun = matches(child.stdout(), BEGUN);
        reportedCommitted = new TreeSet<>(matches(child.stdout(), COMMITTED).values());
        Set<String> unfinished = new TreeSet<>(begun.values());
        unfinished.removeAll(reportedCommitted);
        assertTrue(unfinished.size() <= 1, "transactions run one after another; unfinished at the kill: "
                + unfinished + how);

        Recovery recovery = db.recover(List.of());
        long firstBegin = begun.values().stream().mapToLong(g -> Gtrid.parseText(g).beginMillis()).min().orElseThrow();
        assertTrue(recovery.horizon() < firstBegin, "the log must list every commit that ended in this run: horizon "
                + recovery.horizon() + ", first begin " + firstBegin + how);
        Set<String> decided = new TreeSet<>(recovery.unfinished());
        decided.addAll(recovery.ended());
        assertTrue(begun.values().containsAll(decided), "decisions of transactions that never began: " + decided + how);
        assertTrue(decided.containsAll(reportedCommitted), "every reported commit had a durable decision" + how);

        Map<Integer, String> maria = db.rows(mariaDb);
        Map<Integer, String> pg = db.rows(postgres);
        for (Map.Entry<Integer, String> tx : begun.entrySet()) {
            boolean committed = decided.contains(tx.getValue());
            String what = "tx" + tx.getKey() + " " + tx.getValue() + (committed ? " (decided)" : " (never decided)");
            assertEquals(committed ? tx.getValue() : null, maria.get(tx.getKey()), "MariaDB row of " + what + how);
            assertEquals(committed ? tx.getValue() : null, pg.get(tx.getKey()), "PostgreSQL row of " + what + how);
        }
        assertTrue(begun.keySet().containsAll(maria.keySet()), "MariaDB rows of transactions that never began" + how);
        assertTrue(begun.keySet().containsAll(pg.keySet()), "PostgreSQL rows of transactions that never began" + how);
        db.assertNothingOfOursPrepared();
        System.out.println("killed" + how + ": begun " + begun.size() + ", reported committed "
                + reportedCommitted.size() + ", unfinished " + unfinished + " decided="
                + decided.containsAll(unfinished) + ", recovery: " + recovery.lines().stream()
                .filter(l -> l.startsWith("recovered ") || l.startsWith("prepared-before")).toList());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** What the databases hold right after the kill, before any recovery. */
    private void assertStateAtKill(CrashPoint point, String gtrid) throws Exception {
        Map<String, Map<Integer, String>> rows = Map.of("MariaDB", db.rows(mariaDb), "PostgreSQL", db.rows(postgres));
        Map<String, List<String>> prepared = Map.of("MariaDB", db.preparedGtrids(mariaDb),
                "PostgreSQL", db.preparedGtrids(postgres));
        String state = " at the kill: rows=" + rows + " prepared=" + prepared;
        for (String name : rows.keySet()) {
            boolean committedHere = rows.get(name).equals(Map.of(1, gtrid));
            boolean preparedHere = prepared.get(name).equals(List.of(gtrid));
            switch (point) {
                case AFTER_ALL_PREPARES, BEFORE_DECISION_FORCE, AFTER_DECISION_FORCE -> {
                    assertTrue(preparedHere, name + " holds the branch prepared" + state);
                    assertTrue(rows.get(name).isEmpty(), name + " has committed nothing" + state);
                }
                case AFTER_FIRST_BRANCH_COMMIT -> assertTrue(
                        committedHere && prepared.get(name).isEmpty() || preparedHere && rows.get(name).isEmpty(),
                        name + " holds the branch either committed or prepared" + state);
                case BEFORE_END_RECORD -> {
                    assertTrue(committedHere, name + " has committed the branch" + state);
                    assertTrue(prepared.get(name).isEmpty(), name + " holds nothing prepared" + state);
                }
            }
        }
        if (point == CrashPoint.AFTER_FIRST_BRANCH_COMMIT) {
            assertTrue(rows.values().stream().anyMatch(r -> !r.isEmpty()), "the first branch is committed" + state);
        }
        // The SQL views that the final check reads see the same prepared branches as the drivers' recover().
        assertEquals(prepared.get("MariaDB").size(), db.xaRecoverRowsOfOurs().size(), "XA RECOVER" + state);
        assertEquals(prepared.get("PostgreSQL").size(), db.pgPreparedXactsOfOurs().size(), "pg_prepared_xacts" + state);
    }
}
