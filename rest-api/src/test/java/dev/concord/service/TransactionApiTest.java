package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.recovery.xid.XidFormat;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.ProblemAssert;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.TestDatabases;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transaction endpoints over real HTTP: the happy paths, and every client mistake answered with the right
 * status and an RFC 9457 problem body.
 */
class TransactionApiTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;
    private static final String ADMIN = ServiceFixture.ADMIN_TOKEN;

    @TempDir
    static Path dir;
    static ServiceFixture fixture;
    static Api api;

    @BeforeAll
    static void start() throws Exception {
        fixture = ServiceFixture.start(dir, ServiceFixture.uniqueNodeId("tx-api"),
                "http: {host: 127.0.0.1, port: 0, maxBodyBytes: 4096}\n"
                        + "transactions: {defaultTimeout: 30s, maxTimeout: 120s}\n"
                        + TestDatabases.resourcesYaml());
        api = fixture.api();
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    static JsonNode create(String body) {
        Reply r = api.post("/v1/transactions", body, CLIENT);
        assertEquals(201, r.status(), r::toString);
        return r.json();
    }

    static JsonNode problem(Reply r, int status, String type) {
        return ProblemAssert.problem(r, status, type);
    }

    @Test
    void createAnswers201WithLocationStatusAndXidParts() {
        Reply r = api.post("/v1/transactions", "{\"timeoutSeconds\": 45}", CLIENT);
        assertEquals(201, r.status(), r::toString);
        JsonNode tx = r.json();
        String id = tx.path("id").asText();
        assertEquals(api.base() + "/v1/transactions/" + id, r.header("Location"));
        assertEquals("ACTIVE", tx.path("status").asText());
        assertEquals(45, tx.path("timeoutSeconds").asInt());
        assertEquals(XidFormat.FORMAT_ID, tx.path("xid").path("formatId").asInt());
        assertEquals(Gtrid.parseText(id).toHex(), tx.path("xid").path("gtrid").asText());
        assertTrue(tx.path("branches").isArray() && tx.path("branches").isEmpty());

        Reply got = api.get("/v1/transactions/" + id, CLIENT);
        assertEquals(200, got.status());
        assertEquals(id, got.json().path("id").asText());
    }

    @Test
    void createWithoutBodyUsesTheDefaultTimeout() {
        Reply r = api.send("POST", "/v1/transactions", null, CLIENT, Map.of());
        assertEquals(201, r.status(), r::toString);
        assertEquals(30, r.json().path("timeoutSeconds").asInt());
        Reply empty = api.post("/v1/transactions", "{}", CLIENT);
        assertEquals(201, empty.status(), empty::toString);
    }

    @Test
    void commitOfATransactionWithoutBranchesCommitsAndStaysQueryable() {
        String id = create("{}").path("id").asText();
        Reply c = api.post("/v1/transactions/" + id + "/commit", null, CLIENT);
        assertEquals(200, c.status(), c::toString);
        assertEquals("COMMITTED", c.json().path("status").asText());
        Reply g = api.get("/v1/transactions/" + id, CLIENT);
        assertEquals("COMMITTED", g.json().path("status").asText());
        assertNotNull(g.json().get("finishedAt"));
    }

    @Test
    void commitAfterRollbackIsAConflict() {
        String id = create("{}").path("id").asText();
        Reply rb = api.post("/v1/transactions/" + id + "/rollback", null, CLIENT);
        assertEquals(200, rb.status(), rb::toString);
        assertEquals("ROLLED_BACK", rb.json().path("status").asText());
        JsonNode p = problem(api.post("/v1/transactions/" + id + "/commit", null, CLIENT), 409, "illegal-state");
        assertEquals("ROLLED_BACK", p.path("transaction").path("status").asText());
        problem(api.post("/v1/transactions/" + id + "/rollback", null, CLIENT), 409, "illegal-state");
    }

    @Test
    void rollbackAfterCommitIsAConflict() {
        String id = create("{}").path("id").asText();
        assertEquals(200, api.post("/v1/transactions/" + id + "/commit", null, CLIENT).status());
        problem(api.post("/v1/transactions/" + id + "/rollback", null, CLIENT), 409, "illegal-state");
        problem(api.post("/v1/transactions/" + id + "/branches", null, CLIENT), 409, "illegal-state");
    }

    @Test
    void registrationAfterCommitIsAConflict() {
        String id = create("{}").path("id").asText();
        assertEquals(200, api.post("/v1/transactions/" + id + "/commit", null, CLIENT).status());
        problem(api.post("/v1/transactions/" + id + "/branches/1/prepared", "{\"resource\":\"mariadb\"}", CLIENT),
                409, "illegal-state");
    }

    @Test
    void registeringABranchTheResourceDoesNotHavePreparedIsRefused() {
        String id = create("{}").path("id").asText();
        api.post("/v1/transactions/" + id + "/branches", null, CLIENT);
        JsonNode p = problem(api.post("/v1/transactions/" + id + "/branches/1/prepared", "{\"resource\":\"mariadb\"}",
                CLIENT), 409, "illegal-state");
        assertTrue(p.path("detail").asText().contains("not prepared"), p::toString);
        assertTrue(api.get("/v1/transactions/" + id, CLIENT).json().path("branches").isEmpty(),
                "the refused registration left the transaction as it was");
        assertEquals(200, api.post("/v1/transactions/" + id + "/rollback", null, CLIENT).status());
    }

    @Test
    void aTimedOutTransactionIsRolledBackAndCannotCommit() throws Exception {
        String id = create("{\"timeoutSeconds\": 1}").path("id").asText();
        JsonNode tx = awaitStatus(id, "ROLLED_BACK", Duration.ofSeconds(10));
        assertTrue(tx.path("timedOut").asBoolean(), tx::toString);
        JsonNode p = problem(api.post("/v1/transactions/" + id + "/commit", null, CLIENT), 409, "rolled-back");
        assertTrue(p.path("detail").asText().contains("timed out"), p::toString);
        problem(api.post("/v1/transactions/" + id + "/branches", null, CLIENT), 409, "rolled-back");
    }

    static JsonNode awaitStatus(String id, String status, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode tx;
        do {
            tx = api.get("/v1/transactions/" + id, CLIENT).json();
            if (status.equals(tx.path("status").asText())) {
                return tx;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("transaction " + id + " did not reach " + status + ": " + tx);
    }

    @Test
    void reservingABranchGivesTheXidAndTheSqlOfBothDatabases() {
        String id = create("{}").path("id").asText();
        Reply r = api.post("/v1/transactions/" + id + "/branches", null, CLIENT);
        assertEquals(201, r.status(), r::toString);
        JsonNode b = r.json();
        int n = b.path("branch").asInt();
        assertEquals(api.base() + "/v1/transactions/" + id + "/branches/" + n, r.header("Location"));
        ConcordXid xid = new ConcordXid(Gtrid.parseText(id), n);
        String gtridHex = HexFormat.of().formatHex(xid.getGlobalTransactionId());
        String bqualHex = HexFormat.of().formatHex(xid.getBranchQualifier());
        assertEquals(gtridHex, b.path("xid").path("gtrid").asText());
        assertEquals(bqualHex, b.path("xid").path("bqual").asText());
        assertEquals(XidFormat.FORMAT_ID, b.path("xid").path("formatId").asInt());
        String lit = "X'" + gtridHex + "',X'" + bqualHex + "'," + XidFormat.FORMAT_ID;
        assertEquals("XA START " + lit, b.path("mysql").path("start").asText());
        assertEquals("XA END " + lit, b.path("mysql").path("end").asText());
        assertEquals("XA PREPARE " + lit, b.path("mysql").path("prepare").asText());
        String gid = XidFormat.FORMAT_ID + "_" + Base64.getEncoder().encodeToString(xid.getGlobalTransactionId())
                + "_" + Base64.getEncoder().encodeToString(xid.getBranchQualifier());
        assertEquals(gid, b.path("postgresql").path("gid").asText());
        assertEquals("PREPARE TRANSACTION '" + gid + "'", b.path("postgresql").path("prepare").asText());
        assertFalse(b.path("registered").asBoolean());

        Reply second = api.post("/v1/transactions/" + id + "/branches", "{}", CLIENT);
        assertEquals(n + 1, second.json().path("branch").asInt(), "each reservation gets its own branch number");
        Reply again = api.get("/v1/transactions/" + id + "/branches/" + n, CLIENT);
        assertEquals(200, again.status());
        assertEquals(b.path("mysql"), again.json().path("mysql"));
    }

    @Test
    void listFiltersByStatusAndAgeAndPages() {
        Set<String> made = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            made.add(create("{}").path("id").asText());
        }
        String committed = create("{}").path("id").asText();
        api.post("/v1/transactions/" + committed + "/commit", null, CLIENT);

        Reply active = api.get("/v1/transactions?status=ACTIVE&limit=500", CLIENT);
        assertEquals(200, active.status(), active::toString);
        Set<String> activeIds = ids(active.json());
        assertTrue(activeIds.containsAll(made), activeIds::toString);
        assertFalse(activeIds.contains(committed));
        active.json().path("items").forEach(t -> assertEquals("ACTIVE", t.path("status").asText()));

        Reply both = api.get("/v1/transactions?status=active,committed&maxAgeSeconds=600", CLIENT);
        assertTrue(ids(both.json()).contains(committed));
        Reply old = api.get("/v1/transactions?minAgeSeconds=3600", CLIENT);
        assertTrue(old.json().path("items").isEmpty(), old::toString);

        Set<String> paged = new HashSet<>();
        String cursor = null;
        int pages = 0;
        do {
            Reply p = api.get("/v1/transactions?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), CLIENT);
            assertEquals(200, p.status(), p::toString);
            assertTrue(p.json().path("items").size() <= 2);
            for (String id : ids(p.json())) {
                assertTrue(paged.add(id), "page repeated " + id);
            }
            cursor = p.json().path("nextCursor").isMissingNode() ? null : p.json().path("nextCursor").asText();
            pages++;
        } while (cursor != null && pages < 200);
        assertTrue(paged.containsAll(made) && paged.contains(committed));
    }

    static Set<String> ids(JsonNode page) {
        Set<String> out = new HashSet<>();
        page.path("items").forEach(t -> out.add(t.path("id").asText()));
        return out;
    }

    // ------------------------------------------------------------------------------------------ client mistakes

    @Test
    void missingOrWrongTokensAre401WithBearerChallenge() {
        Reply none = api.get("/v1/transactions", null);
        problem(none, 401, "unauthorized");
        assertTrue(none.header("WWW-Authenticate").startsWith("Bearer"));
        problem(api.get("/v1/transactions", "not-a-configured-token-at-all"), 401, "unauthorized");
        problem(api.send("GET", "/v1/transactions", null, null, Map.of("Authorization", "Basic YWxpY2U6c2VjcmV0")),
                401, "unauthorized");
        problem(api.post("/v1/transactions", "{}", null), 401, "unauthorized");
    }

    @Test
    void aClientTokenCannotUseTheAdminEndpoints() {
        JsonNode p = problem(api.get("/v1/admin/in-doubt", CLIENT), 403, "forbidden");
        assertTrue(p.path("detail").asText().contains("admin"));
        assertEquals(200, api.get("/v1/admin/in-doubt", ADMIN).status());
        assertEquals(201, api.post("/v1/transactions", "{}", ADMIN).status(), "admin covers client");
    }

    @Test
    void unknownTransactionsAre404AndMalformedIdsAre400() {
        String unknown = Gtrid.of("tx-api-none", 1_700_000_000_000L, 42).toString();
        problem(api.get("/v1/transactions/" + unknown, CLIENT), 404, "not-found");
        problem(api.post("/v1/transactions/" + unknown + "/commit", null, CLIENT), 404, "not-found");
        problem(api.post("/v1/transactions/" + unknown + "/rollback", null, CLIENT), 404, "not-found");
        problem(api.post("/v1/transactions/" + unknown + "/branches", null, CLIENT), 404, "not-found");
        JsonNode p = problem(api.get("/v1/transactions/not-an-id", CLIENT), 400, "invalid-request");
        assertEquals("id", p.path("field").asText());
        problem(api.get("/v1/transactions/a:b:c", CLIENT), 400, "invalid-request");
        problem(api.get("/v1/transactions/n:1:" + "9".repeat(30), CLIENT), 400, "invalid-request");
        String id = create("{}").path("id").asText();
        problem(api.get("/v1/transactions/" + id + "/branches/0", CLIENT), 400, "invalid-request");
        problem(api.get("/v1/transactions/" + id + "/branches/x", CLIENT), 400, "invalid-request");
        problem(api.post("/v1/transactions/" + id + "/branches/-1/prepared", "{\"resource\":\"mariadb\"}", CLIENT),
                400, "invalid-request");
    }

    @Test
    void unknownPathsAre404AndWrongMethodsAre405() {
        problem(api.get("/v1/nothing-here", CLIENT), 404, "not-found");
        problem(api.get("/", null), 404, "not-found");
        Reply del = api.send("DELETE", "/v1/transactions", null, CLIENT, Map.of());
        problem(del, 405, "method-not-allowed");
        assertTrue(del.header("Allow").contains("POST"), del::toString);
        problem(api.send("PUT", "/v1/transactions/x:1:1/commit", "{}", CLIENT, Map.of()), 405, "method-not-allowed");
        problem(api.send("GET", "/v1/transactions/x:1:1/commit", null, CLIENT, Map.of()), 405,
                "method-not-allowed");
    }

    @Test
    void malformedAndInvalidBodiesAre400NamingTheField() {
        problem(api.post("/v1/transactions", "{\"timeoutSeconds\": ", CLIENT), 400, "invalid-request");
        problem(api.post("/v1/transactions", "[1,2]", CLIENT), 400, "invalid-request");
        problem(api.post("/v1/transactions", "\"text\"", CLIENT), 400, "invalid-request");
        problem(api.post("/v1/transactions", "{} {}", CLIENT), 400, "invalid-request");
        problem(api.post("/v1/transactions", "{\"timeoutSeconds\":1,\"timeoutSeconds\":2}", CLIENT), 400,
                "invalid-request");
        JsonNode unknown = problem(api.post("/v1/transactions", "{\"timeout\": 5}", CLIENT), 400, "invalid-request");
        assertEquals("timeout", unknown.path("field").asText());
        assertTrue(unknown.path("detail").asText().contains("timeoutSeconds"), unknown::toString);
        for (String bad : List.of("\"5\"", "5.5", "true", "{}", "[]", "0", "-1", "121", "99999999999999999999999")) {
            JsonNode p = problem(api.post("/v1/transactions", "{\"timeoutSeconds\": " + bad + "}", CLIENT), 400,
                    "invalid-request");
            assertEquals("timeoutSeconds", p.path("field").asText(), p::toString);
        }
        String id = create("{}").path("id").asText();
        problem(api.post("/v1/transactions/" + id + "/branches/1/prepared", null, CLIENT), 400, "invalid-request");
        JsonNode res = problem(api.post("/v1/transactions/" + id + "/branches/1/prepared",
                "{\"resource\":\"nope\"}", CLIENT), 400, "invalid-request");
        assertEquals("resource", res.path("field").asText());
        assertTrue(res.path("detail").asText().contains("mariadb"), res::toString);
        problem(api.get("/v1/transactions?limit=0", CLIENT), 400, "invalid-request");
        problem(api.get("/v1/transactions?limit=abc", CLIENT), 400, "invalid-request");
        problem(api.get("/v1/transactions?status=DONE", CLIENT), 400, "invalid-request");
        problem(api.get("/v1/transactions?minAgeSeconds=-5", CLIENT), 400, "invalid-request");
        problem(api.get("/v1/transactions?cursor=garbage", CLIENT), 400, "invalid-request");
        assertEquals("ACTIVE", api.get("/v1/transactions/" + id, CLIENT).json().path("status").asText(),
                "bad requests leave the transaction as it was");
        assertTrue(api.get("/v1/transactions/" + id, CLIENT).json().path("branches").isEmpty());
    }

    @Test
    void bodiesThatAreNotJsonAre415() {
        problem(api.send("POST", "/v1/transactions", "timeoutSeconds=5", CLIENT,
                Map.of("Content-Type", "application/x-www-form-urlencoded")), 415, "unsupported-media-type");
        problem(api.send("POST", "/v1/transactions", "{}", CLIENT, Map.of("Content-Type", "text/plain")), 415,
                "unsupported-media-type");
        assertEquals(201, api.send("POST", "/v1/transactions", "{}", CLIENT,
                Map.of("Content-Type", "application/json; charset=utf-8")).status());
    }

    @Test
    void bodiesOverTheLimitAre413WithOrWithoutALength() {
        String big = "{\"timeoutSeconds\": 5, \"pad\": \"" + "x".repeat(5000) + "\"}";
        JsonNode p = problem(api.post("/v1/transactions", big, CLIENT), 413, "payload-too-large");
        assertEquals(4096, p.path("limit").asInt());
        HttpRequest chunked = HttpRequest.newBuilder(URI.create(api.base() + "/v1/transactions"))
                .header("Authorization", "Bearer " + CLIENT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes())))
                .build();
        problem(api.send(chunked), 413, "payload-too-large");
    }

    @Test
    void theOutcomeQueryAnswersRollbackOrUnknown() {
        // COMMIT needs a committed branch: PreparedBranchesEndToEndTest checks it with real databases.
        String rolledBack = create("{}").path("id").asText();
        String active = create("{}").path("id").asText();
        assertEquals("UNKNOWN", outcome(active));
        api.post("/v1/transactions/" + rolledBack + "/rollback", null, CLIENT);
        assertEquals("ROLLBACK", outcome(rolledBack));
        assertEquals("UNKNOWN", outcome(Gtrid.of("another-node", System.currentTimeMillis(), 1).toString()));
        problem(api.get("/v1/transactions/nonsense/outcome", CLIENT), 400, "invalid-request");
        problem(api.get("/v1/transactions/" + active + "/outcome", null), 401, "unauthorized");
    }

    static String outcome(String id) {
        Reply r = api.get("/v1/transactions/" + id + "/outcome", CLIENT);
        assertEquals(200, r.status(), r::toString);
        assertEquals(id, r.json().path("transaction").asText());
        return r.json().path("outcome").asText();
    }

    @Test
    void theBranchEndpointSaysWhetherABranchIsRegistered() {
        String id = create("{}").path("id").asText();
        JsonNode b = api.get("/v1/transactions/" + id + "/branches/7", CLIENT).json();
        assertFalse(b.path("registered").asBoolean());
        assertNull(b.get("resource"));
    }
}
