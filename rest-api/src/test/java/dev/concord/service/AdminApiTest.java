package dev.concord.service;

import static dev.concord.service.testing.ProblemAssert.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicOutcome;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.file.FileLogConfig;
import dev.concord.recovery.log.file.FileTransactionLog;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recovery admin endpoints over HTTP: in-doubt transactions (one this process is still completing, one only
 * the log knows), heuristic outcomes, and the audited actions (scan, forget, commit, rollback) with their reasons.
 */
class AdminApiTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;
    private static final String ADMIN = ServiceFixture.ADMIN_TOKEN;

    @TempDir
    static Path dir;
    static ServiceFixture fixture;
    static Api api;
    static String nodeId;
    static Gtrid heuristicTx;
    static Gtrid loggedTx;
    static Gtrid twoHeuristicsTx;

    @BeforeAll
    static void start() throws Exception {
        nodeId = ServiceFixture.uniqueNodeId("admin");
        Path logDir = dir.resolve("data").resolve("log");
        Files.createDirectories(logDir);
        long now = System.currentTimeMillis();
        heuristicTx = Gtrid.of(nodeId, now - 60_000, 1);
        loggedTx = Gtrid.of(nodeId, now - 30_000, 2);
        twoHeuristicsTx = Gtrid.of(nodeId, now - 40_000, 3);
        try (FileTransactionLog log = FileTransactionLog.open(FileLogConfig.builder(logDir).build())) {
            log.forceHeuristic(new HeuristicRecord(heuristicTx, new BranchRecord("mariadb", 1, new byte[0]),
                    HeuristicOutcome.ROLLED_BACK, "commit: XA_HEURRB", now - 50_000));
            for (int branch = 1; branch <= 2; branch++) {
                log.forceHeuristic(new HeuristicRecord(twoHeuristicsTx, new BranchRecord("postgres", branch,
                        new byte[0]), HeuristicOutcome.HAZARD, "commit: XAER_RMFAIL", now - 40_000));
            }
            // A decision whose resource is no longer configured: recovery keeps retrying it.
            log.forceCommitDecision(new CommitDecision(loggedTx, now - 20_000, List.of(
                    new BranchRecord("retired-db", 1, new byte[0]), new BranchRecord("retired-db", 2, new byte[0]))));
        }
        fixture = ServiceFixture.start(dir, nodeId, "shutdown: {grace: 2s}\n" + TestDatabases.resourcesYaml()
                + "    - {name: down, type: mysql, url: \"jdbc:mysql://127.0.0.1:1/none\", user: x, password: y,"
                + " connectTimeout: 2s}\n");
        api = fixture.api();
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    static JsonNode items(Reply r) {
        assertEquals(200, r.status(), r::toString);
        return r.json().path("items");
    }

    static JsonNode find(JsonNode items, String field, String value) {
        for (JsonNode n : items) {
            if (value.equals(n.path(field).asText())) {
                return n;
            }
        }
        throw new AssertionError("no item with " + field + "=" + value + " in " + items);
    }

    @Test
    void inDoubtListsALoggedDecisionPerBranch() {
        JsonNode t = find(items(api.get("/v1/admin/in-doubt", ADMIN)), "transaction", loggedTx.toString());
        assertEquals("LOGGED_DECISION", t.path("source").asText());
        assertEquals("COMMIT", t.path("decision").asText());
        assertTrue(t.path("ageSeconds").asLong() >= 19, t::toString);
        assertEquals(2, t.path("branches").size());
        assertEquals("retired-db", t.path("branches").get(0).path("resource").asText());
        assertEquals("00000001", t.path("branches").get(0).path("xid").path("bqual").asText());
        assertEquals(loggedTx.toHex(), t.path("branches").get(1).path("xid").path("gtrid").asText());
    }

    @Test
    void theRecoveryLagIsTheAgeOfTheOldestUnfinishedDecision() {
        String text = api.get("/metrics", null).body();
        assertTrue(HealthMetricsTlsTest.value(text, "concord_recovery_lag_seconds") >= 19, text);
        assertTrue(HealthMetricsTlsTest.value(text, "concord_transactions_in_doubt") >= 1, text);
    }

    @Test
    void inDoubtListsATransactionWhosePhaseTwoIsRetryingWithAttemptsAndLastError() throws Exception {
        Participants.createTables();
        String id = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
        JsonNode reservation = api.post("/v1/transactions/" + id + "/branches", null, CLIENT).json();
        String row = "admin-retry-" + System.nanoTime();
        // The participant keeps its session open: MariaDB keeps the branch attached to it, so the coordinator's
        // commit from its own connection answers XAER_NOTA while the scan still lists the branch: phase 2 retries.
        try (Connection participant = Participants.prepareOnMariaDbKeepingSession(reservation, row)) {
            Reply reg = api.post("/v1/transactions/" + id + "/branches/" + reservation.path("branch").asInt()
                    + "/prepared", "{\"resource\":\"mariadb\"}", CLIENT);
            assertEquals(200, reg.status(), reg::toString);
            Reply c = api.post("/v1/transactions/" + id + "/commit", null, CLIENT);
            assertEquals(200, c.status(), c::toString);
            assertEquals("COMMITTING", c.json().path("status").asText(), "decided, phase 2 retrying: " + c);
            assertEquals("COMMIT", api.get("/v1/transactions/" + id + "/outcome", CLIENT).json().path("outcome").asText());

            JsonNode t = find(items(api.get("/v1/admin/in-doubt", ADMIN)), "transaction", id);
            assertEquals("IN_FLIGHT", t.path("source").asText());
            assertEquals("COMMITTING", t.path("status").asText());
            JsonNode b = t.path("branches").get(0);
            assertEquals("mariadb", b.path("resource").asText());
            assertTrue(b.path("attempts").asInt() >= 1, b::toString);
            assertTrue(b.path("lastError").asText().contains("XAER_NOTA"), b::toString);
            assertTrue(b.path("outcome").asText().startsWith("VERIFY") || b.path("outcome").asText().startsWith("RETRY"),
                    b::toString);
        }
        // The participant's session is gone: the next retry commits the branch.
        for (int i = 0; i < 300 && !Participants.inMariaDb(row); i++) {
            Thread.sleep(50);
        }
        assertTrue(Participants.inMariaDb(row), "committed once the participant's session ended");
    }

    @Test
    void heuristicsAreListedAndForgottenOnlyWithAReasonAndAudited() {
        JsonNode h = find(items(api.get("/v1/admin/heuristics", ADMIN)), "transaction", heuristicTx.toString());
        assertEquals("ROLLED_BACK", h.path("outcome").asText());
        assertEquals("mariadb", h.path("resource").asText());
        assertEquals(1, h.path("branch").asInt());
        assertEquals("commit: XA_HEURRB", h.path("detail").asText());

        String target = "\"transaction\":\"" + heuristicTx + "\",\"resource\":\"mariadb\",\"branch\":1";
        JsonNode noReason = problem(api.post("/v1/admin/heuristics/forget", "{" + target + "}", ADMIN), 400,
                "invalid-request");
        assertEquals("reason", noReason.path("field").asText());
        problem(api.post("/v1/admin/heuristics/forget", "{" + target + ",\"reason\":\"  \"}", ADMIN), 400,
                "invalid-request");
        problem(api.post("/v1/admin/heuristics/forget", "{" + target + ",\"reason\":\"x\"}", CLIENT), 403,
                "forbidden");
        problem(api.post("/v1/admin/heuristics/forget", "{\"transaction\":\"" + heuristicTx
                + "\",\"resource\":\"mariadb\",\"branch\":9,\"reason\":\"wrong branch\"}", ADMIN), 404, "not-found");

        Reply forgot = api.post("/v1/admin/heuristics/forget", "{" + target
                + ",\"reason\":\"checked by hand: the row was re-applied (ticket 42)\"}", ADMIN);
        assertEquals(200, forgot.status(), forgot::toString);
        for (JsonNode left : forgot.json().path("items")) {
            assertFalse(left.path("transaction").asText().equals(heuristicTx.toString()), forgot::toString);
        }

        List<JsonNode> forgets = audit("forget-heuristic");
        assertTrue(forgets.stream().anyMatch(e -> e.path("result").asText().equals("SUCCEEDED")
                && e.path("reason").asText().contains("ticket 42") && e.path("who").asText().equals("ops")
                && e.path("target").asText().contains(heuristicTx.toString())), forgets::toString);
        assertTrue(forgets.stream().anyMatch(e -> e.path("result").asText().equals("REQUESTED")), forgets::toString);
        assertTrue(forgets.stream().anyMatch(e -> e.path("result").asText().equals("FAILED")
                && e.path("reason").asText().equals("wrong branch")), forgets::toString);
    }

    @Test
    void everyHeuristicOutcomeOfATransactionIsForgottenAtOnce() {
        Reply forgot = api.post("/v1/admin/heuristics/forget", "{\"transaction\":\"" + twoHeuristicsTx
                + "\",\"reason\":\"both re-applied by hand, ticket 43\"}", ADMIN);
        assertEquals(200, forgot.status(), forgot::toString);
        for (JsonNode left : items(api.get("/v1/admin/heuristics", ADMIN))) {
            assertFalse(left.path("transaction").asText().equals(twoHeuristicsTx.toString()), forgot::toString);
        }
        assertTrue(audit("forget-heuristic").stream().anyMatch(e -> e.path("result").asText().equals("SUCCEEDED")
                && e.path("target").asText().equals(twoHeuristicsTx.toString())));
        problem(api.post("/v1/admin/heuristics/forget", "{\"transaction\":\"" + twoHeuristicsTx
                + "\",\"branch\":1,\"reason\":\"no resource\"}", ADMIN), 400, "invalid-request");
        problem(api.post("/v1/admin/heuristics/forget", "{\"transaction\":\"" + twoHeuristicsTx
                + "\",\"reason\":\"nothing left\"}", ADMIN), 404, "not-found");
    }

    @Test
    void aBranchOfATransactionInPhaseTwoIsCommittedButNotRolledBackOnAnOperatorsWord() throws Exception {
        Participants.createTables();
        String id = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
        JsonNode reservation = api.post("/v1/transactions/" + id + "/branches", null, CLIENT).json();
        String row = "admin-branch-" + System.nanoTime();
        // The participant's open session keeps the MariaDB branch attached: the decided commit retries.
        try (Connection participant = Participants.prepareOnMariaDbKeepingSession(reservation, row)) {
            assertEquals(200, api.post("/v1/transactions/" + id + "/branches/1/prepared",
                    "{\"resource\":\"mariadb\"}", CLIENT).status());
            assertEquals("COMMITTING", api.post("/v1/transactions/" + id + "/commit", null, CLIENT).json()
                    .path("status").asText());

            JsonNode refused = problem(api.post("/v1/admin/in-doubt/" + id + "/rollback",
                    "{\"branch\":1,\"reason\":\"undo it\"}", ADMIN), 409, "illegal-state");
            assertTrue(refused.path("detail").asText().contains("decided to COMMIT"), refused::toString);
            assertEquals(1, Participants.preparedOf(Gtrid.parseText(id)).size(), "the branch was not touched");
            problem(api.post("/v1/admin/in-doubt/" + id + "/commit", "{\"branch\":1}", ADMIN), 400,
                    "invalid-request");
            problem(api.post("/v1/admin/in-doubt/" + id + "/commit", "{\"branch\":1,\"reason\":\"r\"}", CLIENT),
                    403, "forbidden");
            problem(api.post("/v1/admin/in-doubt/" + id + "/commit",
                    "{\"branch\":7,\"resource\":\"mariadb\",\"reason\":\"no such\"}", ADMIN), 404, "not-found");
            JsonNode unsure = problem(api.post("/v1/admin/in-doubt/" + id + "/commit",
                    "{\"branch\":7,\"reason\":\"no such\"}", ADMIN), 409, "illegal-state");
            assertTrue(unsure.path("detail").asText().contains("[down] cannot be scanned"), unsure::toString);
        }
        Reply done = api.post("/v1/admin/in-doubt/" + id + "/commit",
                "{\"branch\":1,\"resource\":\"mariadb\",\"reason\":\"the participant is gone\"}", ADMIN);
        assertEquals(200, done.status(), done::toString);
        assertEquals("COMMIT", done.json().path("decision").asText(), done::toString);
        JsonNode b = done.json().path("branches").get(0);
        assertEquals("mariadb", b.path("resource").asText(), done::toString);
        assertEquals("DONE", b.path("outcome").asText(), done::toString);
        assertTrue(b.path("finished").asBoolean(), done::toString);
        assertTrue(Participants.inMariaDb(row), "committed");
        assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());
        assertTrue(audit("rollback-in-doubt").stream().anyMatch(e -> e.path("result").asText().equals("FAILED")
                && e.path("reason").asText().equals("undo it") && e.path("target").asText().equals(id + " #1")));
        assertTrue(audit("commit-in-doubt").stream().anyMatch(e -> e.path("result").asText().equals("SUCCEEDED")
                && e.path("target").asText().equals(id + " mariadb#1")
                && e.path("detail").asText().contains("mariadb#1 DONE")));
    }

    @Test
    void aPreparedBranchWithoutACommitDecisionIsRolledBackButNotCommittedOnAnOperatorsWord() throws Exception {
        Participants.createTables();
        // Begun first and kept active, so no recovery pass takes the later transaction's branch for an orphan.
        String guard = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
        String id = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
        JsonNode reservation = api.post("/v1/transactions/" + id + "/branches", null, CLIENT).json();
        String row = "admin-orphan-" + System.nanoTime();
        Participants.prepareOnPostgres(reservation, row);
        // Never registered: the transaction rolls back without it, and the branch stays prepared.
        assertEquals("ROLLED_BACK", api.post("/v1/transactions/" + id + "/rollback", null, CLIENT).json()
                .path("status").asText());
        assertEquals(1, Participants.preparedOf(Gtrid.parseText(id)).size());

        JsonNode refused = problem(api.post("/v1/admin/in-doubt/" + id + "/commit",
                "{\"reason\":\"the participant insists\"}", ADMIN), 409, "illegal-state");
        assertTrue(refused.path("detail").asText().contains("decided to ROLLBACK"), refused::toString);
        assertEquals(1, Participants.preparedOf(Gtrid.parseText(id)).size(), "the branch was not touched");

        Reply done = api.post("/v1/admin/in-doubt/" + id + "/rollback", "{\"reason\":\"clean up\"}", ADMIN);
        assertEquals(200, done.status(), done::toString);
        assertEquals("ROLLBACK", done.json().path("decision").asText(), done::toString);
        assertEquals("postgres", done.json().path("branches").get(0).path("resource").asText(), done::toString);
        assertEquals("DONE", done.json().path("branches").get(0).path("outcome").asText(), done::toString);
        assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());
        assertFalse(Participants.inPostgres(row));
        problem(api.post("/v1/admin/in-doubt/" + id + "/rollback", "{\"reason\":\"again\",\"resource\":"
                + "\"postgres\"}", ADMIN), 404, "not-found");
        api.post("/v1/transactions/" + guard + "/rollback", null, CLIENT);
    }

    static List<JsonNode> audit(String action) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode e : items(api.get("/v1/admin/audit?limit=500", ADMIN))) {
            if (e.path("action").asText().equals(action)) {
                assertFalse(e.path("at").asText().isBlank());
                assertTrue(e.path("seq").asLong() > 0);
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void aScanRunsARecoveryPassAndIsAudited() {
        problem(api.post("/v1/admin/recovery/scan", "{}", ADMIN), 400, "invalid-request");
        Reply r = api.post("/v1/admin/recovery/scan", "{\"reason\":\"after the network repair\"}", ADMIN);
        assertEquals(200, r.status(), r::toString);
        assertTrue(r.json().path("unreachableResources").toString().contains("down"), r::toString);
        assertTrue(audit("recovery-scan").stream().anyMatch(e -> e.path("reason").asText()
                .equals("after the network repair") && e.path("result").asText().equals("SUCCEEDED")
                && e.path("detail").asText().contains("unreachable [down]")), () -> audit("recovery-scan").toString());
    }

    @Test
    void anOperatorCanRollBackOrCommitATransactionInFlightWithAReason() {
        String a = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
        problem(api.post("/v1/admin/transactions/" + a + "/rollback", "{}", ADMIN), 400, "invalid-request");
        problem(api.post("/v1/admin/transactions/" + a + "/rollback", "{\"reason\":\"stuck\"}", CLIENT), 403,
                "forbidden");
        Reply rb = api.post("/v1/admin/transactions/" + a + "/rollback", "{\"reason\":\"client vanished\"}", ADMIN);
        assertEquals(200, rb.status(), rb::toString);
        assertEquals("ROLLED_BACK", rb.json().path("status").asText());
        problem(api.post("/v1/admin/transactions/" + a + "/commit", "{\"reason\":\"too late\"}", ADMIN), 409,
                "illegal-state");
        String b = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
        Reply c = api.post("/v1/admin/transactions/" + b + "/commit", "{\"reason\":\"finish it\"}", ADMIN);
        assertEquals(200, c.status(), c::toString);
        problem(api.post("/v1/admin/transactions/" + Gtrid.of(nodeId, 1, 1) + "/commit", "{\"reason\":\"x\"}",
                ADMIN), 404, "not-found");
        assertTrue(audit("rollback-transaction").stream().anyMatch(e -> e.path("target").asText().equals(a)
                && e.path("reason").asText().equals("client vanished")));
        assertTrue(audit("commit-transaction").stream().anyMatch(e -> e.path("target").asText().equals(a)
                && e.path("result").asText().equals("FAILED")));
    }

    @Test
    void everyAdminEndpointNeedsAnAdminToken() {
        for (String path : List.of("/v1/admin/in-doubt", "/v1/admin/heuristics", "/v1/admin/audit")) {
            problem(api.get(path, null), 401, "unauthorized");
            problem(api.get(path, CLIENT), 403, "forbidden");
        }
        for (String path : List.of("/v1/admin/recovery/scan", "/v1/admin/heuristics/forget",
                "/v1/admin/transactions/x:1:1/commit", "/v1/admin/transactions/x:1:1/rollback",
                "/v1/admin/in-doubt/x:1:1/commit", "/v1/admin/in-doubt/x:1:1/rollback")) {
            problem(api.post(path, "{\"reason\":\"r\"}", null), 401, "unauthorized");
            problem(api.post(path, "{\"reason\":\"r\"}", CLIENT), 403, "forbidden");
        }
    }

    @Test
    void readinessIsDownWhileAConfiguredResourceIsUnreachable() {
        Reply r = api.get("/health/ready", null);
        JsonNode p = problem(r, 503, "not-ready");
        assertTrue(p.path("detail").asText().contains("resource:down"), r::toString);
        JsonNode down = find(p.path("checks"), "name", "resource:down");
        assertEquals("DOWN", down.path("status").asText());
        assertEquals("UP", find(p.path("checks"), "name", "resource:mariadb").path("status").asText());
        assertEquals("UP", find(p.path("checks"), "name", "log").path("status").asText());
        assertEquals(200, api.get("/health/live", null).status(), "alive all the same");
    }

    @Test
    void theAuditLogPages() {
        api.post("/v1/admin/recovery/scan", "{\"reason\":\"one\"}", ADMIN);
        api.post("/v1/admin/recovery/scan", "{\"reason\":\"two\"}", ADMIN);
        JsonNode first = items(api.get("/v1/admin/audit?limit=1", ADMIN));
        assertEquals(1, first.size());
        long seq = first.get(0).path("seq").asLong();
        JsonNode older = items(api.get("/v1/admin/audit?before=" + seq, ADMIN));
        older.forEach(e -> assertTrue(e.path("seq").asLong() < seq));
        problem(api.get("/v1/admin/audit?limit=0", ADMIN), 400, "invalid-request");
        problem(api.get("/v1/admin/audit?before=x", ADMIN), 400, "invalid-request");
        problem(api.send("DELETE", "/v1/admin/audit", null, ADMIN, Map.of()), 405, "method-not-allowed");
    }
}
