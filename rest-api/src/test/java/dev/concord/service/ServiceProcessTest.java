package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.RocksDbLogs;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.ServiceProcess;
import dev.concord.service.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process as an operator runs it: configuration errors stop it with status 2 and a message naming the key;
 * without a configuration file it runs on defaults with a generated admin token; SIGTERM stops it gracefully,
 * giving phase 2 in progress the grace period, and what is still unfinished is recovered at the next start.
 */
class ServiceProcessTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;
    private static final String ADMIN = ServiceFixture.ADMIN_TOKEN;

    @TempDir
    Path dir;

    @Test
    void aConfigurationErrorExitsWith2AndNamesTheKey() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "http:\n  port: 99999\n");
        try (ServiceProcess p = ServiceProcess.main(dir, Map.of(), "--config", bad.toString())) {
            assertEquals(2, p.awaitExit(60));
            assertTrue(p.output().contains("configuration error: http.port: must be between 0 and 65535"),
                    p::output);
        }
        try (ServiceProcess p = ServiceProcess.main(dir, Map.of("CONCORD_HTTP_PORT", "eighty"))) {
            assertEquals(2, p.awaitExit(60));
            assertTrue(p.output().contains("http.port (from CONCORD_HTTP_PORT)"), p::output);
        }
        try (ServiceProcess p = ServiceProcess.main(dir, Map.of(), "--bogus")) {
            assertEquals(2, p.awaitExit(60));
            assertTrue(p.output().contains("usage:"), p::output);
        }
    }

    @Test
    void withoutConfigurationItRunsOnDefaultsWithAGeneratedAdminTokenAndTheEmbeddedResources() throws Exception {
        try (ServiceProcess p = ServiceProcess.main(dir, Map.of("CONCORD_HTTP_PORT", "0"))) {
            Api api = new Api(p.awaitListening(120));
            Reply ready = api.get("/health/ready", null);
            assertEquals(200, ready.status(), ready::toString);
            assertTrue(ready.body().contains("{\"name\":\"embedded:rocketmq\",\"status\":\"UP\"}"), ready::toString);
            assertTrue(ready.body().contains("{\"name\":\"embedded:derby\",\"status\":\"UP\"}"), ready::toString);
            assertTrue(Files.isDirectory(dir.resolve("data").resolve("embedded").resolve("rocketmq")),
                    "the broker's store is under the data directory");
            Path tokenFile = dir.resolve("data").resolve("admin.token");
            assertTrue(p.output().contains("the admin token is in data/admin.token"), p::output);
            String token = Files.readString(tokenFile).trim();
            assertFalse(p.output().contains(token), "the token itself is never printed");
            String derbyPassword = Files.readString(dir.resolve("data/embedded/derby.password")).trim();
            assertFalse(p.output().contains(derbyPassword), "nor is the embedded database's password");
            assertEquals(201, api.post("/v1/transactions", "{}", token).status());
            assertEquals(200, api.get("/v1/admin/in-doubt", token).status(), "the generated token is an admin");
            try (var logFiles = Files.list(dir.resolve("data").resolve("log"))) {
                assertTrue(logFiles.anyMatch(f -> f.getFileName().toString().endsWith(".seg")),
                        "the transaction log is in data/log");
            }
            p.terminate();
            assertEquals(143, p.awaitExit(60), p::output);
            assertTrue(p.output().contains("concord: stopped"), p::output);
        } finally {
            RocksDbLogs.deleteFor(dir.resolve("data/embedded/rocketmq"));
        }
    }

    @Test
    void sigtermWaitsForPhaseTwoWithinTheGraceAndRecoveryFinishesTheRestAfterARestart() throws Exception {
        String node = ServiceFixture.uniqueNodeId("proc");
        Path config = dir.resolve("concord.yaml");
        Files.writeString(config, "nodeId: " + node + "\n"
                + "dataDir: data\n"
                + "http: {host: 127.0.0.1, port: 0}\n"
                + "shutdown: {grace: 3s}\n"
                + "recovery: {interval: 1s}\n"
                + "tokens:\n"
                + "  - {name: app, scope: client, token: " + CLIENT + "}\n"
                + "  - {name: ops, scope: admin, token: \"${OPS_TOKEN}\"}\n"
                + TestDatabases.resourcesYaml());
        Map<String, String> env = Map.of("OPS_TOKEN", ADMIN);
        Participants.createTables();
        String row = "proc-" + System.nanoTime();
        String id;
        // The participant keeps its MariaDB session open: the branch stays attached to it, so phase 2 of the decided
        // transaction keeps retrying (XAER_NOTA while the scan lists the branch) until the session ends.
        Connection participant = null;
        try {
            try (ServiceProcess p = ServiceProcess.main(dir, env, "--config", config.toString())) {
                Api api = new Api(p.awaitListening(60));
                id = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
                JsonNode reservation = api.post("/v1/transactions/" + id + "/branches", null, CLIENT).json();
                participant = Participants.prepareOnMariaDbKeepingSession(reservation, row);
                assertEquals(200, api.post("/v1/transactions/" + id + "/branches/" + reservation.path("branch").asInt()
                        + "/prepared", "{\"resource\":\"mariadb\"}", CLIENT).status());
                Reply c = api.post("/v1/transactions/" + id + "/commit", null, CLIENT);
                assertEquals("COMMITTING", c.json().path("status").asText(), c::toString);

                long start = System.nanoTime();
                p.terminate();
                assertEquals(143, p.awaitExit(60), p::output);
                long waitedMillis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(waitedMillis >= 2_500, "waited " + waitedMillis + " ms for phase 2: " + p.output());
                assertTrue(p.output().contains("CONCORD-3102"), p::output);
                assertTrue(p.output().contains("concord: stopped"), p::output);
            }
            assertFalse(Participants.inMariaDb(row), "not committed yet: the participant's session holds the branch");
            try (ServiceProcess p = ServiceProcess.main(dir, env, "--config", config.toString())) {
                Api api = new Api(p.awaitListening(60));
                assertTrue(p.output().contains("decisionsRedone=1"), p::output);
                JsonNode items = api.get("/v1/admin/in-doubt", ADMIN).json().path("items");
                boolean found = false;
                for (JsonNode t : items) {
                    if (t.path("transaction").asText().equals(id)) {
                        assertEquals("LOGGED_DECISION", t.path("source").asText());
                        found = true;
                    }
                }
                assertTrue(found, items::toString);
                assertEquals("COMMIT", api.get("/v1/transactions/" + id + "/outcome", CLIENT).json().path("outcome")
                        .asText(), "the logged decision still answers COMMIT after the restart");

                participant.close();
                participant = null;
                for (int i = 0; i < 1200 && !Participants.inMariaDb(row); i++) {
                    Thread.sleep(50);
                }
                assertTrue(Participants.inMariaDb(row), "recovery committed the branch once the session ended");
                p.terminate();
                p.awaitExit(60);
            }
        } finally {
            if (participant != null) {
                participant.close();
            }
            Participants.rollBackLeftovers(node);
        }
    }
}
