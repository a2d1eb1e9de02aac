package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.service.core.XidSql;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.FailingDisk;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.ProblemAssert;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.TestDatabases;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end over HTTP with real MariaDB and PostgreSQL: participants that speak only SQL prepare their own
 * branches with the XIDs the coordinator hands out, register them, and the coordinator commits or rolls them back
 * through its own XA connections (Connector/J and pgjdbc).
 */
class PreparedBranchesEndToEndTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;

    @TempDir
    static Path dir;
    static ServiceFixture fixture;
    static Api api;
    static String nodeId;

    @BeforeAll
    static void start() throws Exception {
        Participants.createTables();
        nodeId = ServiceFixture.uniqueNodeId("e2e");
        fixture = ServiceFixture.start(dir, nodeId, TestDatabases.resourcesYaml());
        api = fixture.api();
    }

    @AfterAll
    static void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        Participants.rollBackLeftovers(nodeId);
    }

    /** Creates a transaction, and prepares one MariaDB and one PostgreSQL branch of it, registered. */
    static String twoPreparedBranches(Api api, String rowId, int timeoutSeconds) throws Exception {
        Reply created = api.post("/v1/transactions", "{\"timeoutSeconds\": " + timeoutSeconds + "}", CLIENT);
        assertEquals(201, created.status(), created::toString);
        String id = created.json().path("id").asText();
        JsonNode forMaria = api.post("/v1/transactions/" + id + "/branches", null, CLIENT).json();
        JsonNode forPostgres = api.post("/v1/transactions/" + id + "/branches", null, CLIENT).json();
        Participants.prepareOnMariaDb(forMaria, rowId);
        Participants.prepareOnPostgres(forPostgres, rowId);
        Reply r1 = api.post("/v1/transactions/" + id + "/branches/" + forMaria.path("branch").asInt() + "/prepared",
                "{\"resource\": \"mariadb\"}", CLIENT);
        assertEquals(200, r1.status(), r1::toString);
        Reply r2 = api.post("/v1/transactions/" + id + "/branches/" + forPostgres.path("branch").asInt()
                + "/prepared", "{\"resource\": \"postgres\"}", CLIENT);
        assertEquals(200, r2.status(), r2::toString);
        JsonNode branches = r2.json().path("branches");
        assertEquals(2, branches.size(), r2::toString);
        assertEquals("YES", branches.get(0).path("vote").asText());
        assertTrue(api.get("/v1/transactions/" + id + "/branches/" + forMaria.path("branch").asInt(), CLIENT).json()
                .path("registered").asBoolean());
        return id;
    }

    @Test
    void commitMakesTheRowsOfBothSqlOnlyParticipantsVisible() throws Exception {
        String row = "commit-" + UUID.randomUUID();
        String id = twoPreparedBranches(api, row, 60);
        assertFalse(Participants.inMariaDb(row) || Participants.inPostgres(row), "prepared is not committed");

        Reply c = api.post("/v1/transactions/" + id + "/commit", null, CLIENT);
        assertEquals(200, c.status(), c::toString);
        assertEquals("COMMITTED", c.json().path("status").asText(), c::toString);
        c.json().path("branches").forEach(b -> assertEquals("DONE", b.path("outcome").asText(), c::toString));
        assertEquals("COMMIT", api.get("/v1/transactions/" + id + "/outcome", CLIENT).json().path("outcome").asText());
        assertTrue(Participants.inMariaDb(row), "row committed in MariaDB");
        assertTrue(Participants.inPostgres(row), "row committed in PostgreSQL");
        assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());
    }

    @Test
    void metricsTimeEachPhaseAndTheLogsForcesWithTheirBatches() throws Exception {
        String id = twoPreparedBranches(api, "metrics-" + UUID.randomUUID(), 60);
        assertEquals("COMMITTED", api.post("/v1/transactions/" + id + "/commit", null, CLIENT).json()
                .path("status").asText());
        String text = api.get("/metrics", null).body();
        assertTrue(HealthMetricsTlsTest.value(text, "concord_prepare_duration_seconds_count") >= 1, text);
        assertTrue(HealthMetricsTlsTest.value(text, "concord_decision_force_duration_seconds_count") >= 1, text);
        assertTrue(HealthMetricsTlsTest.value(text,
                "concord_phase2_duration_seconds_count{direction=\"commit\"}") >= 1, text);
        double forces = HealthMetricsTlsTest.value(text, "concord_log_force_duration_seconds_count");
        assertTrue(forces >= 1, text);
        assertEquals(forces, HealthMetricsTlsTest.value(text, "concord_log_force_batch_records_count"), text);
        assertTrue(HealthMetricsTlsTest.value(text, "concord_log_force_batch_records_sum") >= 1,
                "the decision record was in a force's batch: " + text);
        assertEquals(0.0, HealthMetricsTlsTest.value(text, "concord_recovery_lag_seconds"), text);
    }

    @Test
    void rollbackLeavesTheRowsInNeitherDatabase() throws Exception {
        String row = "rollback-" + UUID.randomUUID();
        String id = twoPreparedBranches(api, row, 60);
        Reply r = api.post("/v1/transactions/" + id + "/rollback", null, CLIENT);
        assertEquals(200, r.status(), r::toString);
        assertEquals("ROLLED_BACK", r.json().path("status").asText(), r::toString);
        assertFalse(Participants.inMariaDb(row));
        assertFalse(Participants.inPostgres(row));
        assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());
        ProblemAssert.problemOf(api.post("/v1/transactions/" + id + "/commit", null, CLIENT), 409);
    }

    @Test
    void aTimeoutRollsBackBranchesTheParticipantsPrepared() throws Exception {
        String row = "timeout-" + UUID.randomUUID();
        String id = twoPreparedBranches(api, row, 2);
        long deadline = System.nanoTime() + 15_000_000_000L;
        JsonNode tx;
        do {
            Thread.sleep(100);
            tx = api.get("/v1/transactions/" + id, CLIENT).json();
        } while (!"ROLLED_BACK".equals(tx.path("status").asText()) && System.nanoTime() < deadline);
        assertEquals("ROLLED_BACK", tx.path("status").asText(), tx::toString);
        assertTrue(tx.path("timedOut").asBoolean());
        assertFalse(Participants.inMariaDb(row));
        assertFalse(Participants.inPostgres(row));
        assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());
    }

    @Test
    void theGidHandedOutIsTheOnePgjdbcUsesForTheSameXid() throws Exception {
        Reply created = api.post("/v1/transactions", "{}", CLIENT);
        String id = created.json().path("id").asText();
        JsonNode reservation = api.post("/v1/transactions/" + id + "/branches", null, CLIENT).json();
        ConcordXid xid = new ConcordXid(Gtrid.parseText(id), reservation.path("branch").asInt());
        XAConnection xc = Participants.postgresXa().getXAConnection();
        try {
            XAResource xa = xc.getXAResource();
            xa.start(xid, XAResource.TMNOFLAGS);
            xa.end(xid, XAResource.TMSUCCESS);
            xa.prepare(xid);
            try (Connection c = TestDatabases.postgres();
                 PreparedStatement q = c.prepareStatement("SELECT count(*) FROM pg_prepared_xacts WHERE gid = ?")) {
                q.setString(1, reservation.path("postgresql").path("gid").asText());
                try (ResultSet rs = q.executeQuery()) {
                    rs.next();
                    assertEquals(1, rs.getInt(1), "pgjdbc prepared the XID under the gid the API hands out");
                }
            }
            assertEquals(XidSql.postgresGid(xid), reservation.path("postgresql").path("gid").asText());
            xa.rollback(xid);
        } finally {
            xc.close();
        }
        api.post("/v1/transactions/" + id + "/rollback", null, CLIENT);
    }

    @Test
    void aLogThatCannotBeWrittenAnswers503AndRollsBack() throws Exception {
        FailingDisk disk = new FailingDisk();
        String node = ServiceFixture.uniqueNodeId("e2e-disk");
        try (ServiceFixture broken = ServiceFixture.start(
                ServiceFixture.config(dir.resolve("broken"), node, TestDatabases.resourcesYaml()),
                new ConcordService.Options(disk, Clock.systemUTC()))) {
            Api a = broken.api();
            String row = "disk-" + UUID.randomUUID();
            String id = twoPreparedBranches(a, row, 60);
            disk.fail = true;
            Reply c = a.post("/v1/transactions/" + id + "/commit", null, CLIENT);
            JsonNode p = ProblemAssert.problemOf(c, 503);
            assertEquals("urn:concord:problem:log-unavailable", p.path("type").asText(), c::toString);
            assertEquals("ROLLED_BACK", p.path("transaction").path("status").asText(), c::toString);
            assertFalse(Participants.inMariaDb(row));
            assertFalse(Participants.inPostgres(row));
            assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());

            Reply ready = a.get("/health/ready", null);
            JsonNode r = ProblemAssert.problemOf(ready, 503);
            assertTrue(r.path("detail").asText().startsWith("log:"), ready::toString);
        } finally {
            Participants.rollBackLeftovers(node);
        }
    }

    @Test
    void readinessChecksEveryResource() {
        Reply ready = api.get("/health/ready", null);
        assertEquals(200, ready.status(), ready::toString);
        List<String> names = ready.json().path("checks").findValuesAsText("name");
        assertTrue(names.containsAll(List.of("log", "resource:mariadb", "resource:postgres")), names::toString);
    }
}
