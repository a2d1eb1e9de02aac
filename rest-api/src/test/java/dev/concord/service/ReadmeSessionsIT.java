package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.concord.service.testing.ReadmeSession;
import dev.concord.service.testing.RocksDbLogs;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.ServiceProcess;
import dev.concord.service.testing.TestDatabases;
import dev.concord.service.testing.Topics;
import dev.concord.xa.rocketmq.Deliveries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's sessions, run as written (bash, curl, jq, mariadb) against {@code java -jar concord-service.jar}: the
 * quick start on the embedded default, and a participant that prepares its MariaDB branch with the {@code mariadb}
 * client. Only what the README says is substituted: the service's address ({@code C}), the row id ({@code ID}),
 * and the node id and port in {@code concord.yaml}.
 */
class ReadmeSessionsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAMESRV = Pattern.compile("embedded RocketMQ name server (\\S+)");

    @TempDir
    Path dir;

    @AfterEach
    void deleteRocksDbLogs() throws Exception {
        RocksDbLogs.deleteFor(dir.resolve("data/embedded/rocketmq"));
    }

    @Test
    void quickStartCommitsAMessageThatAConsumerReceivesUnderThePrintedId() throws Exception {
        try (ServiceProcess p = ServiceProcess.jar(jar(), dir, Map.of("CONCORD_HTTP_PORT", "0"))) {
            String base = p.awaitListening(120);
            ReadmeSession session = ReadmeSession.block("quick-start")
                    .substitute("C=http://127.0.0.1:8080", "C=" + base);
            ReadmeSession.Result r = session.run(dir, 120);
            assertEquals(0, r.exitStatus(), r::toString);
            List<String> lines = r.lines();
            assertEquals(2, lines.size(), r::toString);
            JsonNode receipt = JSON.readTree(lines.get(0));
            assertEquals("rocketmq", receipt.path("resource").asText(), r::toString);
            assertEquals("orders", receipt.path("topic").asText(), r::toString);
            JsonNode outcome = JSON.readTree(lines.get(1));
            assertEquals("COMMITTED", outcome.path("status").asText(), r::toString);
            assertEquals(1, outcome.path("messages").size(), r::toString);
            JsonNode message = outcome.path("messages").path(0);
            assertEquals("COMMITTED", message.path("state").asText(), r::toString);
            String messageId = message.path("messageId").asText();
            assertFalse(messageId.isEmpty(), r::toString);

            MessageExt received = receive(namesrv(p), "orders", messageId);
            assertEquals("{\"order\":42}", new String(received.getBody(), StandardCharsets.UTF_8));
            assertTrue(received.getKeys().contains("order-42"), received::toString);
            // No graceful stop (ServiceProcessTest covers it): the embedded broker's alone takes about 10 s.
        }
    }

    @Test
    void mariadbParticipantPreparesItsBranchWithTheClientAndTheRowIsCommitted() throws Exception {
        int id = ThreadLocalRandom.current().nextInt(1_000_000, Integer.MAX_VALUE);
        String yaml = ReadmeSession.block("mariadb-config")
                .substitute("nodeId: shop-1", "nodeId: " + ServiceFixture.uniqueNodeId("readme"))
                .substitute("port: 8080", "port: 0").text();
        Files.writeString(dir.resolve("concord.yaml"), yaml);
        try (ServiceProcess p = ServiceProcess.jar(jar(), dir, Map.of("DB_PASSWORD", "concord"),
                "--config", "concord.yaml")) {
            String base = p.awaitListening(120);
            ReadmeSession session = ReadmeSession.block("mariadb-participant")
                    .substitute("C=http://127.0.0.1:8080", "C=" + base)
                    .substitute("ID=42", "ID=" + id);
            ReadmeSession.Result r = session.run(dir, 120);
            assertEquals(0, r.exitStatus(), r::toString);
            List<String> lines = r.lines();
            assertEquals(4, lines.size(), r::toString);
            JsonNode registered = JSON.readTree(lines.get(0));
            assertEquals("ACTIVE", registered.path("status").asText(), r::toString);
            assertEquals("YES", registered.path("branches").path(0).path("vote").asText(), r::toString);
            assertEquals("orders", registered.path("branches").path(0).path("resource").asText(), r::toString);
            JsonNode committed = JSON.readTree(lines.get(1));
            assertEquals("COMMITTED", committed.path("status").asText(), r::toString);
            assertEquals("DONE", committed.path("branches").path(0).path("outcome").asText(), r::toString);
            assertEquals("id\titem", lines.get(2), r::toString);
            assertEquals(id + "\tbook", lines.get(3), r::toString);
            assertEquals("book", itemInMariaDb(id), "the row is committed in MariaDB");

            p.terminate();
            assertEquals(143, p.awaitExit(60), p::output);
        } finally {
            deleteRow(id);
        }
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty("concord.service.jar", "target/concord-service.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "no " + jar);
        return jar;
    }

    private static String namesrv(ServiceProcess p) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            Matcher m = NAMESRV.matcher(p.output());
            if (m.find()) {
                return m.group(1);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the service did not print the embedded name server: " + p.output());
    }

    /** The message with {@code messageId}, as a consumer of its own group receives it from the topic. */
    private static MessageExt receive(String namesrv, String topic, String messageId) throws Exception {
        try (Deliveries consumer = Topics.consume(namesrv, topic)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (MessageExt m : consumer.awaitAtLeast(1, Duration.ofSeconds(1))) {
                    if (m.getMsgId().equals(messageId)) {
                        return m;
                    }
                }
            }
        }
        throw new AssertionError("no message " + messageId + " arrived on topic " + topic);
    }

    private static String itemInMariaDb(int id) throws Exception {
        try (Connection c = TestDatabases.mariaDb();
             PreparedStatement s = c.prepareStatement("SELECT item FROM readme_orders WHERE id = ?")) {
            s.setInt(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static void deleteRow(int id) throws Exception {
        try (Connection c = TestDatabases.mariaDb();
             PreparedStatement s = c.prepareStatement("DELETE FROM readme_orders WHERE id = ?")) {
            s.setInt(1, id);
            s.executeUpdate();
        } catch (java.sql.SQLSyntaxErrorException e) {
            // The session failed before it created the table: nothing to delete.
        }
    }
}
