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
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.RocksDbLogs;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.TestDatabases;
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
 * The embedded default: the service runs a real RocketMQ broker and a Derby database of its own under the data
 * directory (with no resource configured, or asked for besides configured ones), registers them as resources,
 * reports them in readiness, and keeps their data and ports across a restart.
 */
class EmbeddedDefaultTest {
    private static final String TOPIC = "embedded-default-test";

    @TempDir
    Path dir;

    @AfterEach
    void deleteRocksDbLogs() throws Exception {
        RocksDbLogs.deleteFor(dir.resolve("data/embedded/rocketmq"));
    }

    /**
     * One run commits a transaction with a message and a Derby branch, and leaves a second one in doubt: its
     * MariaDB participant keeps the session that prepared the branch, so phase 2 cannot finish before the service
     * stops, and its message stays a half message on the broker. After the restart the ports, the Derby row and the
     * first message are still there, and recovery delivers the second message from the kept broker store.
     */
    @Test
    void theEmbeddedServersKeepCommittedDataAndInDoubtHalfMessagesAcrossARestart() throws Exception {
        String node = ServiceFixture.uniqueNodeId("emb");
        ServiceConfig config = ServiceFixture.config(dir, node, "embedded: on\nshutdown: {grace: 1s}\n"
                + "recovery: {interval: 1s}\n" + TestDatabases.resourcesYaml());
        assertTrue(config.embeddedResources());
        Participants.createTables();
        String namesrv;
        String derbyUrl;
        String committedId;
        String inDoubtId;
        String derbyRow = "row-" + System.nanoTime();
        String mariaDbRow = "emb-" + System.nanoTime();
        Connection participant = null;
        try {
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
                String id = begin(api);
                addMessage(api, id, "committed");
                JsonNode reservation = reserve(api, id);
                prepareOnDerby(derbyUrl, password, reservation, derbyRow);
                register(api, id, reservation, "derby");
                Reply committed = api.post("/v1/transactions/" + id + "/commit", null, ServiceFixture.CLIENT_TOKEN);
                assertEquals("COMMITTED", committed.json().path("status").asText(), committed::toString);
                JsonNode message = committed.json().path("messages").path(0);
                assertEquals("COMMITTED", message.path("state").asText(), committed::toString);
                committedId = message.path("messageId").asText();
                assertFalse(committedId.isEmpty(), committed::toString);
                assertEquals(List.of(committedId), receivedIds(namesrv, 1));
                assertTrue(rowExists(derbyUrl, password, derbyRow), "the participant's row is committed in Derby");

                String held = begin(api);
                addMessage(api, held, "in doubt");
                JsonNode heldReservation = reserve(api, held);
                participant = Participants.prepareOnMariaDbKeepingSession(heldReservation, mariaDbRow);
                register(api, held, heldReservation, "mariadb");
                Reply committing = api.post("/v1/transactions/" + held + "/commit", null, ServiceFixture.CLIENT_TOKEN);
                assertEquals("COMMITTING", committing.json().path("status").asText(), committing::toString);
                JsonNode half = committing.json().path("messages").path(0);
                assertEquals("PREPARED", half.path("state").asText(), "a half message: " + committing);
                inDoubtId = half.path("messageId").asText();
                assertFalse(inDoubtId.isEmpty(), committing::toString);
            }
            participant.close();
            participant = null;

            try (ServiceFixture f = ServiceFixture.start(config, ConcordService.Options.defaults())) {
                EmbeddedResources embedded = f.service().embedded();
                assertEquals(namesrv, embedded.namesrvAddress(), "the name server is where it was");
                assertEquals(derbyUrl, embedded.databaseUrl(), "the database is where it was");
                assertReady(f.api());
                String password = Files.readString(embedded.databasePasswordFile()).trim();
                assertTrue(rowExists(derbyUrl, password, derbyRow), "the database kept the row");
                List<String> ids = receivedIds(namesrv, 2);
                assertTrue(ids.contains(committedId), "the broker kept the committed message: " + ids);
                assertTrue(ids.contains(inDoubtId), "the half message kept across the restart is delivered: " + ids);
                assertTrue(Participants.inMariaDb(mariaDbRow), "recovery committed the MariaDB branch too");
            }
        } finally {
            if (participant != null) {
                participant.close();
            }
            Participants.rollBackLeftovers(node);
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

    private static String begin(Api api) {
        return api.post("/v1/transactions", "{}", ServiceFixture.CLIENT_TOKEN).json().path("id").asText();
    }

    private static void addMessage(Api api, String id, String body) {
        Reply m = api.post("/v1/transactions/" + id + "/messages", "{\"resource\":\"rocketmq\",\"topic\":\""
                + TOPIC + "\",\"body\":\"" + body + "\"}", ServiceFixture.CLIENT_TOKEN);
        assertEquals(201, m.status(), m::toString);
    }

    private static JsonNode reserve(Api api, String id) {
        return api.post("/v1/transactions/" + id + "/branches", null, ServiceFixture.CLIENT_TOKEN).json();
    }

    private static void register(Api api, String id, JsonNode reservation, String resource) {
        Reply r = api.post("/v1/transactions/" + id + "/branches/" + reservation.path("branch").asInt()
                + "/prepared", "{\"resource\":\"" + resource + "\"}", ServiceFixture.CLIENT_TOKEN);
        assertEquals(200, r.status(), r::toString);
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

    /** The ids of what a new consumer receives from the topic once at least {@code n} messages arrived. */
    private static List<String> receivedIds(String namesrv, int n) throws Exception {
        try (Deliveries consumer = Topics.consume(namesrv, TOPIC)) {
            List<MessageExt> got = consumer.awaitAtLeast(n, Duration.ofSeconds(60));
            return got.stream().map(MessageExt::getMsgId).distinct().toList();
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
