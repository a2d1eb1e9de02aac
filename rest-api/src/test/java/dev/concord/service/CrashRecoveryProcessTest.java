package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.coordinator.CrashPoint;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.ServiceProcess;
import dev.concord.service.testing.TestDatabases;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service process is killed with SIGKILL at each crash point while it commits, over REST, a transaction with a
 * MariaDB and a PostgreSQL branch that SQL-only participants prepared; it is started again on the same data
 * directory, and the admin API and the databases show that recovery finished everything: nothing in doubt, no
 * heuristic, a recovery pass that finds nothing left to do, the row in both databases exactly when the commit
 * decision was durable and in neither otherwise, and no branch of ours left prepared.
 */
class CrashRecoveryProcessTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;
    private static final String ADMIN = ServiceFixture.ADMIN_TOKEN;

    @TempDir
    Path dir;

    @BeforeAll
    static void tables() throws Exception {
        Participants.createTables();
    }

    /** Whether the commit decision is on disk when the process dies at this point. */
    static boolean decisionDurable(CrashPoint point) {
        return switch (point) {
            case AFTER_ALL_PREPARES, BEFORE_DECISION_FORCE -> false;
            case AFTER_DECISION_FORCE, AFTER_FIRST_BRANCH_COMMIT, BEFORE_END_RECORD -> true;
        };
    }

    static List<ConcordXid> preparedOfNode(String node) throws Exception {
        List<ConcordXid> out = new ArrayList<>(Participants.preparedOfNode(Participants.mariaDbXa(), node));
        out.addAll(Participants.preparedOfNode(Participants.postgresXa(), node));
        return out;
    }

    @ParameterizedTest
    @EnumSource(CrashPoint.class)
    void killedAtTheCrashPointDuringARestCommitAndRestartedRecoveryFinishesEverything(CrashPoint point)
            throws Exception {
        String node = ServiceFixture.uniqueNodeId("crash");
        Path config = dir.resolve("concord.yaml");
        Files.writeString(config, "nodeId: " + node + "\n"
                + "dataDir: data\n"
                + "http: {host: 127.0.0.1, port: 0}\n"
                + "shutdown: {grace: 1s}\n"
                + "recovery: {interval: 1s}\n"
                + "tokens:\n"
                + "  - {name: app, scope: client, token: " + CLIENT + "}\n"
                + "  - {name: ops, scope: admin, token: " + ADMIN + "}\n"
                + TestDatabases.resourcesYaml());
        boolean durable = decisionDurable(point);
        String row = "crash-" + point.id() + "-" + UUID.randomUUID();
        try {
            String id;
            try (ServiceProcess p = ServiceProcess.main(dir, Map.of("CONCORD_CRASH_POINT", point.id(),
                    "CONCORD_CRASH_MODE", "wait"), "--config", config.toString())) {
                Api api = new Api(p.awaitListening(60));
                id = PreparedBranchesEndToEndTest.twoPreparedBranches(api, row, 120);
                HttpRequest commit = HttpRequest.newBuilder(URI.create(api.base() + "/v1/transactions/" + id
                        + "/commit")).header("Authorization", "Bearer " + CLIENT).timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.noBody()).build();
                var answer = api.client().sendAsync(commit, HttpResponse.BodyHandlers.ofString());
                p.awaitOutput(CrashPoint.REACHED_MARKER + point.id(), 60);
                p.kill();
                assertEquals(137, p.awaitExit(30), "killed by SIGKILL: " + p.output());
                assertTrue(answer.handle((r, e) -> r == null || r.statusCode() >= 500).join(),
                        "the client got no commit answer from the killed process");
            }
            Gtrid gtrid = Gtrid.parseText(id);
            boolean inMaria = Participants.inMariaDb(row);
            boolean inPostgres = Participants.inPostgres(row);
            int prepared = Participants.preparedOf(gtrid).size();
            switch (point) {
                case AFTER_ALL_PREPARES, BEFORE_DECISION_FORCE, AFTER_DECISION_FORCE -> {
                    assertEquals(2, prepared, "both branches still prepared at the crash");
                    assertFalse(inMaria || inPostgres, "nothing committed before the crash");
                }
                // Phase 2 commits both branches in parallel: the other may have committed too.
                case AFTER_FIRST_BRANCH_COMMIT -> assertTrue(inMaria || inPostgres, "a branch committed");
                case BEFORE_END_RECORD -> assertTrue(inMaria && inPostgres && prepared == 0, "phase 2 finished");
            }

            try (ServiceProcess p = ServiceProcess.main(dir, Map.of(), "--config", config.toString())) {
                Api api = new Api(p.awaitListening(60));
                String started = p.output();
                assertTrue(started.contains(durable ? "recovery at start: Report[decisionsRedone=1"
                        : "recovery at start: Report[decisionsRedone=0"), started);
                // The pass at start finishes everything unless a database is briefly away (other suites restart
                // them): then the periodic passes (every second here) finish it.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline && !(api.get("/v1/admin/in-doubt", ADMIN).json().path("items")
                        .isEmpty() && preparedOfNode(node).isEmpty())) {
                    Thread.sleep(200);
                }

                Reply inDoubt = api.get("/v1/admin/in-doubt", ADMIN);
                assertEquals(200, inDoubt.status(), inDoubt::toString);
                assertEquals(0, inDoubt.json().path("items").size(), "nothing in doubt: " + inDoubt);
                Reply heuristics = api.get("/v1/admin/heuristics", ADMIN);
                assertEquals(0, heuristics.json().path("items").size(), "no heuristic: " + heuristics);
                Reply scan = api.post("/v1/admin/recovery/scan", "{\"reason\":\"check after the crash at "
                        + point.id() + "\"}", ADMIN);
                assertEquals(200, scan.status(), scan::toString);
                JsonNode report = scan.json();
                assertEquals(0, report.path("decisionsRedone").asInt(), scan::toString);
                assertEquals(0, report.path("orphansRolledBack").asInt(), scan::toString);
                assertEquals(0, report.path("leftInFlight").asInt(), scan::toString);
                assertEquals(0, report.path("unreachableResources").size(), scan::toString);
                JsonNode audit = api.get("/v1/admin/audit?limit=2", ADMIN).json().path("items");
                assertEquals("SUCCEEDED", audit.get(0).path("result").asText(), audit::toString);
                assertEquals("recovery-scan", audit.get(0).path("action").asText(), audit::toString);
                assertEquals("ops", audit.get(0).path("who").asText(), audit::toString);
                assertEquals(durable ? "COMMIT" : "UNKNOWN", api.get("/v1/transactions/" + id + "/outcome", CLIENT)
                        .json().path("outcome").asText(), "a transaction of the previous incarnation without a "
                        + "commit record is unknowable; a recovered commit answers COMMIT");

                assertEquals(durable, Participants.inMariaDb(row), "MariaDB row");
                assertEquals(durable, Participants.inPostgres(row), "PostgreSQL row");
                assertEquals(List.of(), preparedOfNode(node), "nothing of ours prepared in either database");
                p.terminate();
                assertEquals(143, p.awaitExit(60), p::output);
            }
        } finally {
            Participants.rollBackLeftovers(node);
        }
    }
}
