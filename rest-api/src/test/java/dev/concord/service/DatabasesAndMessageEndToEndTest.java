package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.TestDatabases;
import dev.concord.xa.rocketmq.Deliveries;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import dev.concord.xa.rocketmq.TransactionalMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end over HTTP with all three kinds of participant at once: a MariaDB and a PostgreSQL branch prepared by
 * SQL-only participants and a RocketMQ message, on real servers and a real broker. Rows and the message go together:
 * both rows and exactly one delivery on commit, neither row and no delivery on rollback.
 */
class DatabasesAndMessageEndToEndTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;
    private static final String TOPIC = "e2e-orders";

    @TempDir
    static Path dir;
    static EmbeddedRocketMq broker;
    static ServiceFixture fixture;
    static Api api;
    static String nodeId;

    @BeforeAll
    static void start() throws Exception {
        Participants.createTables();
        broker = EmbeddedRocketMq.builder()
                .transactionTimeout(Duration.ofSeconds(2))
                .transactionCheckInterval(Duration.ofSeconds(1))
                .transactionCheckMax(30)
                .topic(TOPIC)
                .start();
        nodeId = ServiceFixture.uniqueNodeId("e2e-mq");
        fixture = ServiceFixture.start(dir, nodeId, TestDatabases.resourcesYaml()
                + "  rocketmq:\n"
                + "    - name: events\n"
                + "      namesrvAddress: \"" + broker.namesrvAddress() + "\"\n"
                + "      producerGroup: concord-e2e-mq-test\n"
                + "      sendTimeout: 5s\n"
                + "      checkHorizon: " + broker.checkHorizon().toSeconds() + "s\n");
        api = fixture.api();
    }

    @AfterAll
    static void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        if (broker != null) {
            broker.close();
        }
        Participants.rollBackLeftovers(nodeId);
    }

    private static String withMessage(String row) throws Exception {
        String id = PreparedBranchesEndToEndTest.twoPreparedBranches(api, row, 60);
        Reply m = api.post("/v1/transactions/" + id + "/messages", "{\"resource\":\"events\",\"topic\":\"" + TOPIC
                + "\",\"keys\":[\"" + row + "\"],\"body\":\"" + row + "\"}", CLIENT);
        assertEquals(201, m.status(), m::toString);
        JsonNode tx = api.get("/v1/transactions/" + id, CLIENT).json();
        assertEquals(List.of("DATABASE", "DATABASE", "MESSAGE"), List.of(tx.path("branches").path(0).path("kind")
                .asText(), tx.path("branches").path(1).path("kind").asText(),
                tx.path("branches").path(2).path("kind").asText()), tx::toString);
        return id;
    }

    private static List<MessageExt> bodies(List<MessageExt> all, String row) {
        return all.stream().filter(m -> row.equals(new String(m.getBody(), StandardCharsets.UTF_8))).toList();
    }

    @Test
    void commitMakesBothRowsVisibleAndDeliversTheMessageOnce() throws Exception {
        String row = "e2e-commit-" + UUID.randomUUID();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), TOPIC)) {
            String id = withMessage(row);
            Reply c = api.post("/v1/transactions/" + id + "/commit", null, CLIENT);
            assertEquals(200, c.status(), c::toString);
            assertEquals("COMMITTED", c.json().path("status").asText(), c::toString);
            c.json().path("branches").forEach(b -> assertEquals("DONE", b.path("outcome").asText(), c::toString));
            assertEquals("COMMITTED", c.json().path("messages").path(0).path("state").asText(), c::toString);
            assertTrue(Participants.inMariaDb(row), "row committed in MariaDB");
            assertTrue(Participants.inPostgres(row), "row committed in PostgreSQL");
            assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());

            consumer.awaitAtLeast(1, Duration.ofSeconds(15));
            List<MessageExt> delivered = bodies(consumer.after(Duration.ofMillis(1500)), row);
            assertEquals(1, delivered.size(), "exactly once: " + delivered);
            assertEquals(c.json().path("messages").path(0).path("messageId").asText(), delivered.get(0).getMsgId());
            assertEquals(c.json().path("xid").path("gtrid").asText(),
                    delivered.get(0).getProperty(TransactionalMessage.PROPERTY_GTRID));
        }
    }

    @Test
    void rollbackLeavesNeitherRowAndNeverDeliversTheMessage() throws Exception {
        String row = "e2e-rollback-" + UUID.randomUUID();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), TOPIC)) {
            String id = withMessage(row);
            Reply r = api.post("/v1/transactions/" + id + "/rollback", null, CLIENT);
            assertEquals(200, r.status(), r::toString);
            assertEquals("ROLLED_BACK", r.json().path("status").asText(), r::toString);
            assertFalse(Participants.inMariaDb(row));
            assertFalse(Participants.inPostgres(row));
            assertTrue(Participants.preparedOf(Gtrid.parseText(id)).isEmpty());
            assertEquals(List.of(), bodies(consumer.after(Duration.ofSeconds(4)), row),
                    "a rolled-back message is never delivered, also not by a check-back");
        }
    }
}
