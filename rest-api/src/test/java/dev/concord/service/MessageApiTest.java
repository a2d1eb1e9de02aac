package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.service.config.ConfigException;
import dev.concord.service.config.ConfigLoader;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.ProblemAssert;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.xa.rocketmq.Deliveries;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import dev.concord.xa.rocketmq.TransactionalMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/transactions/{id}/messages} against a real embedded RocketMQ name server and broker (started
 * once for the class): a registered message is delivered exactly once if and only if the transaction commits.
 */
class MessageApiTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @TempDir
    static Path dir;
    static EmbeddedRocketMq broker;
    static ServiceFixture fixture;
    static Api api;

    @BeforeAll
    static void start() throws Exception {
        broker = EmbeddedRocketMq.builder()
                .transactionTimeout(Duration.ofSeconds(2))
                .transactionCheckInterval(Duration.ofSeconds(1))
                .transactionOpBatchInterval(Duration.ofMillis(200))
                .transactionCheckMax(30)
                .start();
        fixture = ServiceFixture.start(dir, ServiceFixture.uniqueNodeId("msg-api"),
                "transactions: {defaultTimeout: 30s, maxTimeout: 120s}\n"
                        + "resources:\n"
                        + "  rocketmq:\n"
                        + "    - name: events\n"
                        + "      namesrvAddress: \"" + broker.namesrvAddress() + "\"\n"
                        + "      producerGroup: concord-msg-api-test\n"
                        + "      sendTimeout: 5s\n"
                        + "      checkHorizon: " + broker.checkHorizon().toSeconds() + "s\n"
                        + "      maxMessageBytes: 64\n");
        api = fixture.api();
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static String topic() {
        String t = "msg-api-" + SEQUENCE.incrementAndGet();
        broker.createTopic(t, 2);
        return t;
    }

    private static String begin() {
        Reply r = api.post("/v1/transactions", "", CLIENT);
        assertEquals(201, r.status(), r::toString);
        return r.json().path("id").asText();
    }

    private static Reply message(String id, String json) {
        return api.post("/v1/transactions/" + id + "/messages", json, CLIENT);
    }

    @Test
    void aCommittedMessageIsDeliveredExactlyOnce() throws Exception {
        String topic = topic();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic)) {
            String id = begin();
            Reply r = message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"tags\":\"order\","
                    + "\"keys\":[\"order-1\"],\"body\":\"hello\",\"properties\":{\"kind\":\"test\"}}");
            assertEquals(201, r.status(), r::toString);
            JsonNode receipt = r.json();
            assertEquals(id, receipt.path("transaction").asText());
            assertEquals(0, receipt.path("index").asInt());
            int branch = receipt.path("branch").asInt();
            assertTrue(branch >= 1, r::toString);
            Reply second = message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"bodyBase64\":\""
                    + Base64.getEncoder().encodeToString(new byte[] {0, 1, 2, (byte) 0xff}) + "\"}");
            assertEquals(201, second.status(), second::toString);
            assertEquals(1, second.json().path("index").asInt());
            assertEquals(branch, second.json().path("branch").asInt(), "one branch per resource");

            JsonNode tx = api.get("/v1/transactions/" + id, CLIENT).json();
            assertEquals(1, tx.path("branches").size(), tx::toString);
            assertEquals("MESSAGE", tx.path("branches").get(0).path("kind").asText(), tx::toString);
            String gtridHex = tx.path("xid").path("gtrid").asText();
            assertTrue(!gtridHex.isEmpty(), tx::toString);
            assertEquals(2, tx.path("messages").size(), tx::toString);
            for (JsonNode m : tx.path("messages")) {
                assertEquals("REGISTERED", m.path("state").asText(), tx::toString);
                assertTrue(m.path("messageId").isMissingNode(), "no id before it is sent: " + tx);
            }
            assertEquals(List.of(), consumer.after(Duration.ofMillis(500)), "nothing before the commit");

            Reply c = api.post("/v1/transactions/" + id + "/commit", "", CLIENT);
            assertEquals(200, c.status(), c::toString);
            List<MessageExt> got = consumer.awaitAtLeast(2, Duration.ofSeconds(15));
            assertEquals(2, got.size(), got::toString);
            List<MessageExt> all = consumer.after(Duration.ofMillis(1500));
            assertEquals(2, all.size(), "exactly once: " + all);
            MessageExt text = all.stream().filter(m -> "0".equals(m.getProperty(TransactionalMessage.PROPERTY_INDEX)))
                    .findFirst().orElseThrow();
            assertEquals("hello", new String(text.getBody(), StandardCharsets.UTF_8));
            assertEquals(gtridHex, text.getProperty(TransactionalMessage.PROPERTY_GTRID));
            assertEquals("order", text.getTags());
            assertTrue(List.of(text.getKeys().split(" ")).contains("order-1"), text.getKeys());
            assertEquals("test", text.getProperty("kind"));
            MessageExt binary = all.stream().filter(m -> "1".equals(m.getProperty(TransactionalMessage.PROPERTY_INDEX)))
                    .findFirst().orElseThrow();
            assertEquals(List.of(0, 1, 2, 255), toList(binary.getBody()));
            assertEquals(gtridHex, binary.getProperty(TransactionalMessage.PROPERTY_GTRID));
            JsonNode views = c.json().path("messages");
            assertEquals(List.of("COMMITTED", "COMMITTED"), List.of(views.path(0).path("state").asText(),
                    views.path(1).path("state").asText()), c::toString);
            assertEquals(List.of(text.getMsgId(), binary.getMsgId()), List.of(views.path(0).path("messageId").asText(),
                    views.path(1).path("messageId").asText()), "the view shows the ids consumers see");
        }
    }

    @Test
    void aRolledBackMessageIsNeverDelivered() throws Exception {
        String topic = topic();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic)) {
            String id = begin();
            Reply r = message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"body\":\"never\"}");
            assertEquals(201, r.status(), r::toString);
            Reply rb = api.post("/v1/transactions/" + id + "/rollback", "", CLIENT);
            assertEquals(200, rb.status(), rb::toString);
            assertEquals("ROLLED_BACK", rb.json().path("messages").path(0).path("state").asText(), rb::toString);
            assertEquals(List.of(), consumer.after(Duration.ofSeconds(4)));
        }
    }

    @Test
    void badMessagesAreProblemsNamingTheField() {
        String topic = topic();
        String id = begin();
        field(message(id, "{\"resource\":\"nope\",\"topic\":\"" + topic + "\",\"body\":\"x\"}"), "resource");
        field(message(id, "{\"topic\":\"" + topic + "\",\"body\":\"x\"}"), "resource");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"body\":\"x\",\"bodyBase64\":\"eA==\"}"),
                "body");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\"}"), "body");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"bodyBase64\":\"%%not base64\"}"),
                "bodyBase64");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"\",\"body\":\"x\"}"), "topic");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"bad topic\",\"body\":\"x\"}"), "topic");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"body\":\"" + "x".repeat(65) + "\"}"),
                "body");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"bodyBase64\":\""
                + Base64.getEncoder().encodeToString(new byte[65]) + "\"}"), "bodyBase64");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"body\":\"x\",\"keys\":[\"a b\"]}"),
                "keys");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"body\":\"x\","
                + "\"properties\":{\"CONCORD_GTRID\":\"x\"}}"), "properties");
        field(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"body\":\"x\",\"extra\":1}"), "extra");
        // None of these enlisted anything.
        assertEquals(0, api.get("/v1/transactions/" + id, CLIENT).json().path("branches").size());

        assertEquals(200, api.post("/v1/transactions/" + id + "/rollback", "", CLIENT).status());
        ProblemAssert.problemOf(message(id, "{\"resource\":\"events\",\"topic\":\"" + topic + "\",\"body\":\"x\"}"),
                409);
        ProblemAssert.problemOf(message("msg-api-x:1:1", "{\"resource\":\"events\",\"topic\":\"" + topic
                + "\",\"body\":\"x\"}"), 404);
    }

    private static void field(Reply r, String field) {
        JsonNode p = ProblemAssert.problemOf(r, 400);
        assertEquals(field, p.path("field").asText(), r::toString);
    }

    @Test
    void anOutcomeRetentionNotLongerThanTheCheckHorizonIsRefused() {
        String yaml = "outcomes: {retention: 60s}\n"
                + "resources:\n"
                + "  rocketmq:\n"
                + "    - {name: events, namesrvAddress: \"127.0.0.1:9876\", producerGroup: g1, checkHorizon: 60s}\n";
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.fromYaml(yaml, Map.of()));
        assertTrue(e.getMessage().startsWith("outcomes.retention"), e.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.fromYaml(
                "resources: {rocketmq: [{name: events, producerGroup: g1}]}\n", Map.of()));
        assertTrue(missing.getMessage().startsWith("resources.rocketmq[0].namesrvAddress"), missing.getMessage());
        assertEquals(1, assertDoesNotThrow("outcomes: {retention: 61s}\n" + yaml.substring(yaml.indexOf('\n') + 1)));
    }

    private static int assertDoesNotThrow(String yaml) {
        try {
            return ConfigLoader.fromYaml(yaml, Map.of()).rocketmq().size();
        } catch (ConfigException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private static List<Integer> toList(byte[] b) {
        List<Integer> out = new ArrayList<>();
        for (byte x : b) {
            out.add(x & 0xff);
        }
        return out;
    }
}
