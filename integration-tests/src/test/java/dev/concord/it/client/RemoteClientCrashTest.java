package dev.concord.it.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.client.OutgoingMessage;
import dev.concord.client.Outcome;
import dev.concord.client.RemoteUserTransaction;
import dev.concord.client.TransactionalMessageSender;
import dev.concord.it.crash.ChildProcess;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Participants;
import dev.concord.xa.rocketmq.Deliveries;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import jakarta.transaction.SystemException;
import jakarta.transaction.UserTransaction;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crashes around the remote client, each a real process killed with SIGKILL: the application after registering
 * one branch (the service times the transaction out and rolls everything back), the application after preparing a
 * branch but before registering it (the service's recovery rolls the orphan back), and the service after forcing
 * its commit decision (recovery finishes the commit after a restart). Checked in both databases, in what they
 * still hold prepared, and in what a consumer receives.
 */
@ExtendWith(SharedService.class)
class RemoteClientCrashTest {
    private static final Duration STARTUP = Duration.ofSeconds(60);

    static RemoteService service;
    static EmbeddedRocketMq broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void shared(RemoteService s, EmbeddedRocketMq b) {
        service = s;
        broker = b;
    }

    private static String topic(String what) {
        String t = "client-crash-" + what + "-" + System.nanoTime() % 1_000_000;
        broker.createTopic(t, 2);
        return t;
    }

    private static List<ConcordXid> preparedOf(String id) throws Exception {
        return Participants.preparedOf(Gtrid.parseText(id));
    }

    private static JsonNode transaction(RemoteService s, String id) {
        return new Api(s.baseUri()).get("/v1/transactions/" + id, RemoteService.ADMIN_TOKEN).json();
    }

    private static void await(String what, Duration max, Check check) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + max.toSeconds() + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    /** A condition that may need the databases. */
    private interface Check {
        boolean holds() throws Exception;
    }

    @Test
    void anApplicationKilledAfterRegisteringOneBranchIsRolledBackEntirelyAtItsTimeout() throws Exception {
        String row = "crash-reg-" + System.nanoTime();
        String topic = topic("reg");
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic);
             ChildProcess app = ChildProcess.start(RemoteClientChild.class, List.of(), dir, "registered-one",
                     service.baseUri(), RemoteService.CLIENT_TOKEN, row, topic)) {
            String id = app.awaitStdout(l -> l.startsWith("TX "), STARTUP, "its transaction id").substring(3);
            app.awaitStdout("READY"::equals, STARTUP, "READY");
            assertEquals(1, preparedOf(id).size(), "the MariaDB branch is prepared: " + preparedOf(id));
            JsonNode branches = transaction(service, id).path("branches");
            assertEquals(2, branches.size(), branches::toString);
            assertEquals("mariadb", branches.get(0).path("resource").asText(), "the MariaDB branch is registered, "
                    + "then the message branch: " + branches);
            assertEquals("MESSAGE", branches.get(1).path("kind").asText(), branches::toString);

            app.kill();
            await("the service rolled the transaction back at its timeout", Duration.ofSeconds(30),
                    () -> "ROLLED_BACK".equals(transaction(service, id).path("status").asText()));
            assertTrue(transaction(service, id).path("timedOut").asBoolean());
            await("no branch of it stays prepared", Duration.ofSeconds(30), () -> preparedOf(id).isEmpty());
            assertFalse(RemoteService.inMariaDb(row));
            assertFalse(RemoteService.inPostgres(row));
            assertEquals(List.of(), consumer.after(Duration.ofSeconds(1)));
            assertEquals(Outcome.ROLLBACK, service.client().outcome(id));
        }
    }

    @Test
    void anApplicationKilledAfterPreparingButBeforeRegisteringLeavesAnOrphanThatRecoveryRollsBack()
            throws Exception {
        String row = "crash-orphan-" + System.nanoTime();
        try (ChildProcess app = ChildProcess.start(RemoteClientChild.class, List.of(), dir, "prepared-unregistered",
                service.baseUri(), RemoteService.CLIENT_TOKEN, row, "unused")) {
            String id = app.awaitStdout(l -> l.startsWith("TX "), STARTUP, "its transaction id").substring(3);
            app.awaitStdout(l -> l.startsWith("REGISTRATION-HELD "), STARTUP, "the held registration");
            assertEquals(1, preparedOf(id).size(), "the MariaDB branch is prepared");
            assertEquals(0, transaction(service, id).path("branches").size(), "but not registered");

            app.kill();
            await("recovery rolled the orphan back", Duration.ofSeconds(40), () -> preparedOf(id).isEmpty());
            assertFalse(RemoteService.inMariaDb(row));
            assertEquals("ROLLED_BACK", transaction(service, id).path("status").asText());
        }
    }

    @Test
    void aServiceKilledAfterItsCommitDecisionIsFinishedByRecoveryAfterARestart() throws Exception {
        String row = "crash-svc-" + System.nanoTime();
        String topic = topic("svc");
        try (RemoteService crashing = RemoteService.start("client-svc", broker, Map.of(
                "CONCORD_CRASH_POINT", "after-decision-force", "CONCORD_CRASH_MODE", "wait"));
             Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic)) {
            UserTransaction ut = crashing.userTransaction();
            AtomicReference<String> id = new AtomicReference<>();
            CompletableFuture<Void> application = CompletableFuture.runAsync(() -> {
                try {
                    ut.begin();
                    id.set(RemoteUserTransaction.currentTransactionId());
                    try (Connection c = RemoteService.mariaDb().getConnection()) {
                        RemoteService.insert(c, row, "order");
                    }
                    try (Connection c = RemoteService.postgres().getConnection()) {
                        RemoteService.insert(c, row, "invoice");
                    }
                    new TransactionalMessageSender("events").send(OutgoingMessage.builder(topic, "placed " + row)
                            .build());
                    ut.commit();
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            crashing.awaitOutput("concord-crash-point-reached: after-decision-force", 60);
            crashing.kill();

            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> application.get(60, TimeUnit.SECONDS));
            SystemException e = assertInstanceOf(SystemException.class, failed.getCause());
            assertTrue(e.getMessage().contains("outcome is unknown"), e::getMessage);
            assertFalse(RemoteService.inMariaDb(row), "phase 2 had not begun");
            assertEquals(2, preparedOf(id.get()).size(), "both database branches are prepared");

            crashing.restart(Map.of());
            await("recovery committed both branches", Duration.ofSeconds(60),
                    () -> RemoteService.inMariaDb(row) && RemoteService.inPostgres(row));
            assertEquals(Outcome.COMMIT, crashing.client().outcome(id.get()));
            List<MessageExt> got = consumer.awaitAtLeast(1, Duration.ofSeconds(40));
            assertEquals(1, got.size(), got::toString);
            assertEquals(1, consumer.after(Duration.ofSeconds(1)).size(), "delivered once");
            await("no branch stays prepared", Duration.ofSeconds(30), () -> preparedOf(id.get()).isEmpty());
        }
    }
}
