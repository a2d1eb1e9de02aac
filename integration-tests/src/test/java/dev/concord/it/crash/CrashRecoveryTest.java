package dev.concord.it.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.CrashPoint;
import dev.concord.it.crash.FileXaResourceManager.CommittedBranch;
import dev.concord.recovery.xid.Gtrid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.transaction.xa.Xid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kills a real coordinator process ({@link CrashChild}) with SIGKILL, at each {@link CrashPoint} and at an arbitrary
 * moment, restarts it in recovery mode, and checks from the resource managers' files that every transaction is
 * all-or-nothing across the three {@link FileXaResourceManager}s, that nothing is left prepared, and that the
 * outcome follows presumed abort: committed exactly when the commit decision was durable before the kill.
 */
class CrashRecoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern BEGUN = Pattern.compile("begun (tx\\d+) (\\S+)");
    private static final Pattern COMMITTED = Pattern.compile("committed (tx\\d+) (\\S+)");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @EnumSource(CrashPoint.class)
    void transactionKilledAtCrashPointIsAllOrNothingAfterRecoveryAndCommittedExactlyWhenTheDecisionWasDurable(
            CrashPoint point) throws Exception {
        Map<String, String> begun = runUntilKilledAt(point);

        Snapshot atKill = Snapshot.read(dir);
        boolean decided = point != CrashPoint.AFTER_ALL_PREPARES && point != CrashPoint.BEFORE_DECISION_FORCE;
        assertStateAtKill(point, atKill);

        List<String> recovery = recover();
        assertTrue(recovery.contains("unfinished-decisions-before: " + (decided ? 1 : 0)),
                "the log must hold the decision exactly when it was forced before the kill: " + recovery);
        assertTrue(recovery.contains("unfinished-decisions-after: 0"), "recovery must finish the decision: " + recovery);

        Snapshot after = Snapshot.read(dir);
        after.assertNothingPrepared();
        after.assertAtomicAndNoDuplicates(begun.keySet());
        if (decided) {
            after.assertCommittedEverywhere("tx1", begun.get("tx1"));
        } else {
            after.assertCommittedNowhere("tx1");
        }
    }

    @Test
    void recoveringTwiceAfterAKillInPhaseTwoCommitsEveryBranchExactlyOnce() throws Exception {
        Map<String, String> begun = runUntilKilledAt(CrashPoint.AFTER_FIRST_BRANCH_COMMIT);

        recover();
        Snapshot first = Snapshot.read(dir);
        first.assertNothingPrepared();
        first.assertAtomicAndNoDuplicates(begun.keySet());
        first.assertCommittedEverywhere("tx1", begun.get("tx1"));
        Map<String, byte[]> logsAfterFirst = committedLogBytes();

        List<String> second = recover();
        assertTrue(second.contains("unfinished-decisions-before: 0"), "the first recovery wrote END: " + second);
        assertTrue(second.stream().anyMatch(l -> l.startsWith("recovered ") && l.contains(" redone=0 ")
                && l.endsWith(" orphans-rolled-back=0")), "the second recovery has nothing to do: " + second);
        Snapshot again = Snapshot.read(dir);
        again.assertNothingPrepared();
        again.assertAtomicAndNoDuplicates(begun.keySet());
        again.assertCommittedEverywhere("tx1", begun.get("tx1"));
        Map<String, byte[]> logsAfterSecond = committedLogBytes();
        for (String rm : CrashChild.RESOURCE_MANAGERS) {
            assertEquals(new String(logsAfterFirst.get(rm)), new String(logsAfterSecond.get(rm)),
                    rm + "/committed.log must not change in the second recovery");
        }
    }

    /**
     * The resource managers print each durable step (3 prepares and 3 commits per transaction); killing right after
     * the n-th step, for n covering every position in a transaction, lands the SIGKILL in every phase of the
     * protocol, give or take the few steps the child makes while the kill is on its way.
     */
    @ParameterizedTest(name = "killed right after durable step {0}")
    @ValueSource(ints = {6, 13, 20, 27, 34, 41, 124, 245})
    void coordinatorKilledAtAnArbitraryMomentLeavesEveryTransactionAllOrNothingAfterRecovery(int stepsBeforeKill)
            throws Exception {
        Map<String, String> begun;
        Set<String> reportedCommitted;
        try (ChildProcess child = ChildProcess.start(List.of(CrashChild.TRACE_PROPERTY + "=true"), dir, "run",
                "1000000")) {
            int[] steps = {0};
            child.awaitStdout(l -> l.startsWith("step ") && ++steps[0] == stepsBeforeKill, WAIT,
                    stepsBeforeKill + " durable steps");
            child.killMidRun();
            begun = matches(child.stdout(), BEGUN);
            reportedCommitted = matches(child.stdout(), COMMITTED).keySet();
        }
        Set<String> unfinished = new TreeSet<>(begun.keySet());
        unfinished.removeAll(reportedCommitted);
        assertTrue(unfinished.size() <= 1, "transactions run one after another; unfinished at the kill: " + unfinished);
        Snapshot atKill = Snapshot.read(dir);

        recover();
        Snapshot after = Snapshot.read(dir);
        after.assertNothingPrepared();
        after.assertAtomicAndNoDuplicates(begun.keySet());
        for (String key : begun.keySet()) {
            // A branch committed before the kill means the decision was made: the rest must follow.
            if (reportedCommitted.contains(key) || atKill.rmsWithCommitted(key) > 0) {
                after.assertCommittedEverywhere(key, begun.get(key));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * Runs the child with the point armed in wait mode, kills it with SIGKILL there; returns the begun transactions.
     * For {@code after-first-branch-commit} the commits of rm-b and rm-c hang, so that exactly rm-a's branch is
     * committed at the kill (phase 2 runs in parallel, and the other branches would otherwise race the kill).
     */
    private Map<String, String> runUntilKilledAt(CrashPoint point) throws Exception {
        List<String> props = new ArrayList<>(List.of("concord.crashPoint=" + point.id(), "concord.crashMode=wait"));
        if (point == CrashPoint.AFTER_FIRST_BRANCH_COMMIT) {
            props.add(CrashChild.HOLD_COMMITS_PROPERTY + "=rm-b,rm-c");
        }
        try (ChildProcess child = ChildProcess.start(props, dir, "run", "3")) {
            child.awaitStderr(l -> l.equals(CrashPoint.REACHED_MARKER + point.id()), WAIT,
                    "the marker of crash point " + point.id());
            child.killMidRun();
            Map<String, String> begun = matches(child.stdout(), BEGUN);
            assertEquals(Set.of("tx1"), begun.keySet(),
                    "the first transaction reaches the point; no other may begin" + child.describe());
            return begun;
        }
    }

    /** Runs the child in recovery mode to its end; returns its standard output. */
    private List<String> recover() throws Exception {
        try (ChildProcess child = ChildProcess.start(List.of(), dir, "recover")) {
            int status = child.awaitExit(WAIT);
            assertEquals(0, status, "recovery must exit 0" + child.describe());
            return child.stdout();
        }
    }


    private void assertStateAtKill(CrashPoint point, Snapshot s) {
        int committed = s.rmsWithCommitted("tx1");
        int prepared = s.rmsWithPrepared("tx1");
        int rms = CrashChild.RESOURCE_MANAGERS.size();
        String state = " at the kill: " + s;
        switch (point) {
            case AFTER_ALL_PREPARES, BEFORE_DECISION_FORCE, AFTER_DECISION_FORCE -> {
                assertEquals(rms, prepared, "every branch is prepared" + state);
                assertEquals(0, committed, "no branch is committed" + state);
            }
            case AFTER_FIRST_BRANCH_COMMIT -> {
                assertTrue(s.committedRows("rm-a").containsKey("tx1"), "rm-a's branch (the first) is committed" + state);
                assertEquals(1, committed, "only rm-a's branch is committed" + state);
                assertEquals(rms - 1, prepared, "the others are still prepared" + state);
            }
            case BEFORE_END_RECORD -> {
                assertEquals(rms, committed, "every branch is committed" + state);
                assertEquals(0, prepared, "nothing is prepared any more" + state);
            }
        }
    }

    private Map<String, byte[]> committedLogBytes() throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        for (String rm : CrashChild.RESOURCE_MANAGERS) {
            out.put(rm, Files.readAllBytes(dir.resolve(rm).resolve(FileXaResourceManager.COMMITTED_LOG)));
        }
        return out;
    }

    /** Key to gtrid text of every line matching the pattern. */
    private static Map<String, String> matches(List<String> lines, Pattern p) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String l : lines) {
            Matcher m = p.matcher(l);
            if (m.matches()) {
                out.put(m.group(1), m.group(2));
            }
        }
        return out;
    }

    /** What the resource managers' files say, read while no process uses them. */
    private record Snapshot(Map<String, List<CommittedBranch>> committed, Map<String, Map<Xid, List<String>>> prepared) {
        static Snapshot read(Path dir) throws IOException {
            Map<String, List<CommittedBranch>> committed = new TreeMap<>();
            Map<String, Map<Xid, List<String>>> prepared = new TreeMap<>();
            for (String rm : CrashChild.RESOURCE_MANAGERS) {
                Path rmDir = dir.resolve(rm);
                committed.put(rm, FileXaResourceManager.readCommitted(rmDir));
                Map<Xid, List<String>> p = new LinkedHashMap<>();
                for (Xid x : FileXaResourceManager.readPrepared(rmDir)) {
                    p.put(x, FileXaResourceManager.readPreparedRows(rmDir, x));
                }
                prepared.put(rm, p);
            }
            return new Snapshot(committed, prepared);
        }

        /** Committed rows of one resource manager, {@code key -> values} (more than one value is a duplicate). */
        Map<String, List<String>> committedRows(String rm) {
            Map<String, List<String>> out = new TreeMap<>();
            for (CommittedBranch b : committed.get(rm)) {
                for (String row : b.rows()) {
                    String[] kv = row.split("=", 2);
                    out.computeIfAbsent(kv[0], k -> new ArrayList<>()).add(kv[1]);
                    assertEquals(gtridHexOf(b.xidName()), Gtrid.parseText(kv[1]).toHex(),
                            "row " + row + " of " + rm + " was committed under the XID of another transaction: "
                                    + b.xidName());
                }
            }
            return out;
        }

        int rmsWithCommitted(String key) {
            return (int) committed.keySet().stream().filter(rm -> committedRows(rm).containsKey(key)).count();
        }

        int rmsWithPrepared(String key) {
            return (int) prepared.values().stream()
                    .filter(p -> p.values().stream().anyMatch(rows -> rows.stream().anyMatch(r -> r.startsWith(key + "="))))
                    .count();
        }

        void assertNothingPrepared() {
            prepared.forEach((rm, p) -> assertTrue(p.isEmpty(), rm + " still holds prepared branches: " + p.keySet()));
        }

        /**
         * Every transaction (the begun ones and any whose rows appear) is committed in every resource manager or in
         * none, at most once in each, and no resource manager holds rows of a transaction that never began.
         */
        void assertAtomicAndNoDuplicates(Set<String> begun) {
            Set<String> keys = new TreeSet<>(begun);
            for (String rm : committed.keySet()) {
                Map<String, List<String>> rows = committedRows(rm);
                rows.forEach((k, v) -> assertEquals(1, v.size(), rm + " committed " + k + " more than once: " + v));
                Set<String> xids = new TreeSet<>();
                for (CommittedBranch b : committed.get(rm)) {
                    assertTrue(xids.add(b.xidName()), rm + " committed branch " + b.xidName() + " twice");
                }
                keys.addAll(rows.keySet());
            }
            assertTrue(begun.containsAll(keys), "rows of transactions that never began: " + keys);
            int rms = committed.size();
            for (String key : keys) {
                int n = rmsWithCommitted(key);
                assertTrue(n == 0 || n == rms, key + " is committed in " + n + " of " + rms
                        + " resource managers: " + this);
            }
        }

        void assertCommittedEverywhere(String key, String gtrid) {
            for (String rm : committed.keySet()) {
                assertEquals(List.of(gtrid), committedRows(rm).get(key), key + " must be committed once in " + rm
                        + ": " + this);
            }
        }

        void assertCommittedNowhere(String key) {
            assertEquals(0, rmsWithCommitted(key), key + " must be rolled back everywhere: " + this);
        }

        private static String gtridHexOf(String xidName) {
            String gtridHex = xidName.split("-")[1];
            HexFormat.of().parseHex(gtridHex);
            return gtridHex;
        }

        @Override
        public String toString() {
            return "committed=" + committed + " prepared=" + prepared;
        }
    }
}
