package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.service.config.ConfigException;
import dev.concord.service.config.ConfigLoader;
import dev.concord.service.config.ServiceConfig;
import dev.concord.service.embedded.EmbeddedResources;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.RocksDbLogs;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.Topics;
import dev.concord.xa.rocketmq.Deliveries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import org.apache.derby.jdbc.ClientXADataSource;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded default: with no resource configured the service runs a real RocketMQ broker and a Derby database of
 * its own under the data directory, registers them as resources, reports them in readiness, and keeps their data
 * and ports across a restart.
 */
class EmbeddedDefaultTest {
    private static final String TOPIC = "embedded-default-test";

    @TempDir
    Path dir;

    @AfterEach
    void deleteRocksDbLogs() throws Exception {
        RocksDbLogs.deleteFor(dir.resolve("data/embedded/rocketmq"));
    }

    @Test
    void withoutResourcesTheServiceCommitsAMessageAndADerbyBranchAndKeepsBothAcrossARestart() throws Exception {
        ServiceConfig config = ServiceFixture.config(dir, ServiceFixture.uniqueNodeId("emb"), "embedded: auto\n");
        assertTrue(config.embeddedResources(), "no resource is configured: the embedded ones run");
        String namesrv;
        String derbyUrl;
        String messageId;
        String row = "row-" + System.nanoTime();
        try (ServiceFixture f = ServiceFixture.start(config, ConcordService.Options.defaults())) {
            EmbeddedResources embedded = f.service().embedded();
            assertNotNull(embedded);
            namesrv = embedded.namesrvAddress();
            derbyUrl = embedded.databaseUrl();
            assertReady(f.api());
            String password = Files.readString(embedded.databasePasswordFile()).trim();
            try (Connection c = DriverManager.getConnection(derbyUrl, "concord", password);
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE embedded_default (id VARCHAR(100) PRIMARY KEY)");
            }

            Api api = f.api();
            String id = api.post("/v1/transactions", "{}", ServiceFixture.CLIENT_TOKEN).json().path("id").asText();
            Reply m = api.post("/v1/transactions/" + id + "/messages", "{\"resource\":\"rocketmq\",\"topic\":\""
                    + TOPIC + "\",\"body\":\"hello\"}", ServiceFixture.CLIENT_TOKEN);
            assertEquals(201, m.status(), m::toString);
            JsonNode reservation = api.post("/v1/transactions/" + id + "/branches", null, ServiceFixture.CLIENT_TOKEN)
                    .json();
            prepareOnDerby(derbyUrl, password, reservation, row);
            Reply registered = api.post("/v1/transactions/" + id + "/branches/" + reservation.path("branch").asInt()
                    + "/prepared", "{\"resource\":\"derby\"}", ServiceFixture.CLIENT_TOKEN);
            assertEquals(200, registered.status(), registered::toString);
            Reply committed = api.post("/v1/transactions/" + id + "/commit", null, ServiceFixture.CLIENT_TOKEN);
            assertEquals("COMMITTED", committed.json().path("status").asText(), committed::toString);
            JsonNode message = committed.json().path("messages").path(0);
            assertEquals("COMMITTED", message.path("state").asText(), committed::toString);
            messageId = message.path("messageId").asText();
            assertFalse(messageId.isEmpty(), committed::toString);

            assertEquals(List.of(messageId), receivedIds(namesrv, 1));
            assertTrue(rowExists(derbyUrl, password, row), "the participant's row is committed in Derby");
        }

        try (ServiceFixture f = ServiceFixture.start(config, ConcordService.Options.defaults())) {
            EmbeddedResources embedded = f.service().embedded();
            assertEquals(namesrv, embedded.namesrvAddress(), "the name server is where it was");
            assertEquals(derbyUrl, embedded.databaseUrl(), "the database is where it was");
            assertReady(f.api());
            String password = Files.readString(embedded.databasePasswordFile()).trim();
            assertTrue(rowExists(derbyUrl, password, row), "the database kept the row");
            assertEquals(List.of(messageId), receivedIds(namesrv, 1),
                    "the broker's store kept the message committed before the restart");
        }
    }

    @Test
    void configuredResourcesTurnTheEmbeddedOnesOffUnlessAskedFor() throws Exception {
        String mq = "resources:\n  rocketmq:\n    - {name: events, namesrvAddress: 127.0.0.1:9876, "
                + "producerGroup: g}\n";
        assertFalse(ConfigLoader.fromYaml(mq, Map.of()).embeddedResources());
        assertTrue(ConfigLoader.fromYaml(mq + "embedded: on\n", Map.of()).embeddedResources());
        assertFalse(ConfigLoader.fromYaml("embedded: off\n", Map.of()).embeddedResources());
        assertTrue(ConfigLoader.fromYaml("", Map.of()).embeddedResources());
        assertFalse(ConfigLoader.fromYaml("", Map.of("CONCORD_EMBEDDED", "off")).embeddedResources());
        String clash = "resources:\n  rocketmq:\n    - {name: derby, namesrvAddress: 127.0.0.1:9876, "
                + "producerGroup: g}\nembedded: on\n";
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.fromYaml(clash, Map.of()));
        assertTrue(e.getMessage().startsWith("embedded: "), e.getMessage());
        ConfigException bad = assertThrows(ConfigException.class,
                () -> ConfigLoader.fromYaml("embedded: sometimes\n", Map.of()));
        assertEquals("embedded: must be auto, on or off, got 'sometimes'", bad.getMessage());
    }

    private static void assertReady(Api api) {
        Reply ready = api.get("/health/ready", null);
        assertEquals(200, ready.status(), ready::toString);
        for (String check : List.of("resource:derby", "resource:rocketmq", "embedded:derby", "embedded:rocketmq")) {
            boolean up = false;
            for (JsonNode c : ready.json().path("checks")) {
                up |= c.path("name").asText().equals(check) && c.path("status").asText().equals("UP");
            }
            assertTrue(up, check + " is up: " + ready.body());
        }
    }

    private static List<String> receivedIds(String namesrv, int n) throws Exception {
        try (Deliveries consumer = Topics.consume(namesrv, TOPIC)) {
            List<MessageExt> got = consumer.awaitAtLeast(n, Duration.ofSeconds(30));
            return got.stream().map(MessageExt::getMsgId).toList();
        }
    }

    /** A participant of its own: XA START / insert / XA END / PREPARE with the reserved XID, then it disconnects. */
    private static void prepareOnDerby(String url, String password, JsonNode reservation, String row)
            throws Exception {
        JsonNode xid = reservation.path("xid");
        Xid x = new ReservedXid(xid.path("formatId").asInt(), HexFormat.of().parseHex(xid.path("gtrid").asText()),
                HexFormat.of().parseHex(xid.path("bqual").asText()));
        String port = url.replaceAll(".*:(\\d+)/.*", "$1");
        ClientXADataSource ds = new ClientXADataSource();
        ds.setServerName("127.0.0.1");
        ds.setPortNumber(Integer.parseInt(port));
        ds.setDatabaseName("concord");
        XAConnection xc = ds.getXAConnection("concord", password);
        try (Connection c = xc.getConnection(); Statement s = c.createStatement()) {
            XAResource r = xc.getXAResource();
            r.start(x, XAResource.TMNOFLAGS);
            s.execute("INSERT INTO embedded_default VALUES ('" + row + "')");
            r.end(x, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, r.prepare(x));
        } finally {
            xc.close();
        }
    }

    private static boolean rowExists(String url, String password, String row) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "concord");
        p.setProperty("password", password);
        try (Connection c = DriverManager.getConnection(url, p); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM embedded_default WHERE id = '" + row + "'")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }

    private record ReservedXid(int formatId, byte[] gtrid, byte[] bqual) implements Xid {
        @Override
        public int getFormatId() {
            return formatId;
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return gtrid.clone();
        }

        @Override
        public byte[] getBranchQualifier() {
            return bqual.clone();
        }
    }
}
