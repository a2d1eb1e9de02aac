package dev.concord.it.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.client.ConcordObjectFactory;
import dev.concord.client.ConcordServiceClient;
import dev.concord.client.OutgoingMessage;
import dev.concord.client.Outcome;
import dev.concord.client.RemoteEnlistingDataSource;
import dev.concord.client.RemoteUserTransaction;
import dev.concord.client.ServiceCallException;
import dev.concord.client.TransactionalMessageSender;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.TestDatabases;
import dev.concord.xa.rocketmq.Deliveries;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import jakarta.transaction.NotSupportedException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.SystemException;
import jakarta.transaction.UserTransaction;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.naming.Reference;
import javax.naming.StringRefAddr;
import javax.sql.DataSource;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Plain JTA against the real service process: {@code UserTransaction.begin()}, ordinary JDBC on MariaDB and
 * PostgreSQL through the enlisting data sources over the application's own XA data sources, a RocketMQ message
 * through the service, {@code commit()} — and rollback, rollback-only, timeout and bad input, each checked in the
 * databases, in what a consumer receives and in what the databases still hold prepared.
 */
@ExtendWith(SharedService.class)
class RemoteJtaTest {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    static RemoteService service;
    static EmbeddedRocketMq broker;

    private final UserTransaction ut = service.userTransaction();
    private final DataSource orders = RemoteService.mariaDb();
    private final DataSource invoices = RemoteService.postgres();
    private final TransactionalMessageSender events = new TransactionalMessageSender("events");

    @BeforeAll
    static void shared(RemoteService s, EmbeddedRocketMq b) {
        service = s;
        broker = b;
    }

    @AfterEach
    void noTransactionLeftOnTheThread() throws Exception {
        if (ut.getStatus() != Status.STATUS_NO_TRANSACTION) {
            ut.rollback();
            throw new AssertionError("the test left a transaction on the thread");
        }
    }

    private static String row(String what) {
        return "jta-" + what + "-" + System.nanoTime();
    }

    private static String topic() {
        String t = "client-jta-" + SEQUENCE.incrementAndGet() + "-" + System.nanoTime() % 100_000;
        broker.createTopic(t, 2);
        return t;
    }

    private static List<ConcordXid> preparedOf(String id) throws Exception {
        return Participants.preparedOf(Gtrid.parseText(id));
    }

    @Test
    void commitWritesBothDatabasesAndDeliversTheMessageOnce() throws Exception {
        String row = row("commit");
        String topic = topic();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic)) {
            ut.begin();
            String id = RemoteUserTransaction.currentTransactionId();
            assertNotNull(id);
            assertEquals(Status.STATUS_ACTIVE, ut.getStatus());
            try (Connection c = orders.getConnection()) {
                RemoteService.insert(c, row, "order");
            }
            try (Connection c = invoices.getConnection()) {
                RemoteService.insert(c, row, "invoice");
            }
            events.send(OutgoingMessage.builder(topic, "order " + row).key(row).build());
            assertFalse(RemoteService.inMariaDb(row), "nothing is visible before the commit");
            ut.commit();

            assertEquals(Status.STATUS_NO_TRANSACTION, ut.getStatus());
            assertNull(RemoteUserTransaction.currentTransactionId());
            assertTrue(RemoteService.inMariaDb(row));
            assertTrue(RemoteService.inPostgres(row));
            assertEquals(Outcome.COMMIT, service.client().outcome(id));
            List<MessageExt> got = consumer.awaitAtLeast(1, Duration.ofSeconds(20));
            assertEquals(1, got.size(), got::toString);
            assertEquals("order " + row, new String(got.get(0).getBody(), StandardCharsets.UTF_8));
            assertEquals(1, consumer.after(Duration.ofMillis(500)).size(), "delivered once");
            assertEquals(List.of(), preparedOf(id));
        }
    }

    @Test
    void rollbackUndoesRegisteredAndStillOpenBranchesAndSendsNothing() throws Exception {
        String row = row("rollback");
        String topic = topic();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic)) {
            ut.begin();
            String id = RemoteUserTransaction.currentTransactionId();
            try (Connection c = orders.getConnection()) {
                RemoteService.insert(c, row, "order");
            }
            Connection open = invoices.getConnection();
            RemoteService.insert(open, row, "invoice");
            events.send(OutgoingMessage.builder(topic, "never").build());
            ut.rollback();

            assertTrue(open.isClosed(), "the rollback ended the open branch");
            open.close();
            assertFalse(RemoteService.inMariaDb(row));
            assertFalse(RemoteService.inPostgres(row));
            assertEquals(List.of(), preparedOf(id), "the registered branch was rolled back by the service");
            assertEquals(Outcome.ROLLBACK, service.client().outcome(id));
            assertEquals(List.of(), consumer.after(Duration.ofSeconds(1)));
        }
    }

    @Test
    void aConnectionStillOpenAtCommitIsPreparedRegisteredAndCommitted() throws Exception {
        String row = row("open");
        ut.begin();
        Connection m = orders.getConnection();
        Connection p = invoices.getConnection();
        RemoteService.insert(m, row, "order");
        RemoteService.insert(p, row, "invoice");
        ut.commit();
        m.close();
        p.close();
        assertTrue(RemoteService.inMariaDb(row));
        assertTrue(RemoteService.inPostgres(row));
    }

    @Test
    void aMariaDbBranchThatWroteNothingIsEndedInPlaceAndNotRegistered() throws Exception {
        String row = row("readonly");
        try (Connection c = TestDatabases.mariaDb()) {
            RemoteService.insert(c, row, "existing");
        }
        ut.begin();
        String id = RemoteUserTransaction.currentTransactionId();
        try (Connection c = orders.getConnection();
             java.sql.PreparedStatement q = c.prepareStatement("SELECT note FROM " + RemoteService.TABLE
                     + " WHERE id = ? FOR UPDATE")) {
            q.setString(1, row);
            try (java.sql.ResultSet rs = q.executeQuery()) {
                assertTrue(rs.next());
            }
        }
        try (Connection c = invoices.getConnection()) {
            RemoteService.insert(c, row, "invoice");
        }
        ut.commit();
        JsonNode tx = new Api(service.baseUri()).get("/v1/transactions/" + id, RemoteService.CLIENT_TOKEN).json();
        assertEquals("COMMITTED", tx.path("status").asText(), tx::toString);
        assertEquals(1, tx.path("branches").size(), "only the PostgreSQL branch was registered: " + tx);
        assertEquals("postgres", tx.path("branches").get(0).path("resource").asText(), tx::toString);
        assertTrue(RemoteService.inPostgres(row));
    }

    @Test
    void rollbackOnlyMakesCommitRollBackAndRefusesFurtherWork() throws Exception {
        String row = row("rbonly");
        ut.begin();
        String id = RemoteUserTransaction.currentTransactionId();
        try (Connection c = orders.getConnection()) {
            RemoteService.insert(c, row, "order");
        }
        Connection open = invoices.getConnection();
        RemoteService.insert(open, row, "invoice");
        ut.setRollbackOnly();
        assertEquals(Status.STATUS_MARKED_ROLLBACK, ut.getStatus());
        assertThrows(SQLException.class, invoices::getConnection, "no new work in a rollback-only transaction");
        assertThrows(IllegalStateException.class, () -> events.send(OutgoingMessage.builder("t", "x").build()));
        RollbackException e = assertThrows(RollbackException.class, ut::commit);
        assertTrue(e.getMessage().contains("rollback-only"), e::getMessage);
        assertEquals(Status.STATUS_NO_TRANSACTION, ut.getStatus());
        assertTrue(open.isClosed(), "the connection left open was rolled back, not prepared");
        assertFalse(RemoteService.inMariaDb(row));
        assertFalse(RemoteService.inPostgres(row));
        assertEquals(List.of(), preparedOf(id));
        assertEquals("ROLLED_BACK", service.client().get(id).status());
        JsonNode tx = new Api(service.baseUri()).get("/v1/transactions/" + id, RemoteService.CLIENT_TOKEN).json();
        assertEquals(1, tx.path("branches").size(), "only the closed connection's branch was registered: " + tx);
    }

    @Test
    void aTimedOutTransactionIsRolledBackByTheServiceAndCommitThrowsRollbackException() throws Exception {
        String row = row("timeout");
        ut.setTransactionTimeout(2);
        try {
            ut.begin();
        } finally {
            ut.setTransactionTimeout(0);
        }
        String id = RemoteUserTransaction.currentTransactionId();
        try (Connection c = orders.getConnection()) {
            RemoteService.insert(c, row, "order");
        }
        Connection late = invoices.getConnection();
        RemoteService.insert(late, row, "invoice");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (ut.getStatus() != Status.STATUS_ROLLEDBACK && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(Status.STATUS_ROLLEDBACK, ut.getStatus(), "the service rolled it back at its timeout");
        assertTrue(service.client().get(id).timedOut());
        SQLException refused = assertThrows(SQLException.class, late::close,
                "a branch closed after the timeout is refused by the service");
        assertTrue(refused.getMessage().contains("rolled back"), refused::getMessage);
        assertThrows(SQLException.class, orders::getConnection);
        RollbackException e = assertThrows(RollbackException.class, ut::commit);
        assertTrue(e.getMessage().contains("rolled back"), e::getMessage);
        assertFalse(RemoteService.inMariaDb(row));
        assertFalse(RemoteService.inPostgres(row));
        assertEquals(List.of(), preparedOf(id), "the registered branch by the service, the late one by the client");
    }

    @Test
    void badInputGetsTheJtaDocumentedExceptions() throws Exception {
        assertThrows(IllegalStateException.class, ut::commit, "commit without begin");
        assertThrows(IllegalStateException.class, ut::rollback, "rollback without begin");
        assertThrows(IllegalStateException.class, ut::setRollbackOnly, "setRollbackOnly without begin");
        assertThrows(SystemException.class, () -> ut.setTransactionTimeout(-1));
        assertThrows(IllegalStateException.class, () -> events.send(OutgoingMessage.builder("t", "x").build()));

        ut.begin();
        String id = RemoteUserTransaction.currentTransactionId();
        assertThrows(NotSupportedException.class, ut::begin, "begin twice");
        assertEquals(id, RemoteUserTransaction.currentTransactionId(), "the first transaction stays");
        ServiceCallException badTopic = assertThrows(ServiceCallException.class,
                () -> events.send(OutgoingMessage.builder("bad topic!", "x").build()));
        assertEquals(400, badTopic.status());
        ServiceCallException badResource = assertThrows(ServiceCallException.class,
                () -> new TransactionalMessageSender("nope").send(OutgoingMessage.builder("t", "x").build()));
        assertTrue(badResource.getMessage().contains("nope"), badResource::getMessage);
        ut.commit();
        assertEquals("COMMITTED", service.client().get(id).status(), "refused messages left it as it was");

        ut.setTransactionTimeout(100_000);
        try {
            SystemException tooLong = assertThrows(SystemException.class, ut::begin);
            assertTrue(tooLong.getMessage().contains("timeoutSeconds"), tooLong::getMessage);
        } finally {
            ut.setTransactionTimeout(0);
        }
        assertEquals(Status.STATUS_NO_TRANSACTION, ut.getStatus());

        UserTransaction wrongToken = new RemoteUserTransaction(new ConcordServiceClient(URI.create(
                service.baseUri()), "not-a-configured-token-000"));
        SystemException unauthorized = assertThrows(SystemException.class, wrongToken::begin);
        assertTrue(unauthorized.getMessage().contains("refused"), unauthorized::getMessage);

        DataSource unknownResource = new RemoteEnlistingDataSource(Participants.mariaDbXa(), "nope");
        String row = row("badres");
        ut.begin();
        Connection c = unknownResource.getConnection();
        RemoteService.insert(c, row, "order");
        SQLException refused = assertThrows(SQLException.class, c::close);
        assertTrue(refused.getMessage().contains("nope"), refused::getMessage);
        assertEquals(List.of(), preparedOf(RemoteUserTransaction.currentTransactionId()),
                "the refused branch was rolled back by the client");
        assertThrows(RollbackException.class, ut::commit);
        assertFalse(RemoteService.inMariaDb(row));
    }

    @Test
    void objectsBoundThroughJndiReferencesWorkAgainstTheService() throws Exception {
        ConcordObjectFactory factory = new ConcordObjectFactory();
        Reference utRef = new Reference("jakarta.transaction.UserTransaction", ConcordObjectFactory.class.getName(),
                null);
        utRef.add(new StringRefAddr("url", service.baseUri()));
        utRef.add(new StringRefAddr("token", RemoteService.CLIENT_TOKEN));
        UserTransaction jndiUt = (UserTransaction) factory.getObjectInstance(utRef, null, null, null);
        Reference dsRef = new Reference("javax.sql.DataSource", ConcordObjectFactory.class.getName(), null);
        dsRef.add(new StringRefAddr("resource", "mariadb"));
        dsRef.add(new StringRefAddr("xaDataSourceClass", "com.mysql.cj.jdbc.MysqlXADataSource"));
        dsRef.add(new StringRefAddr("xa.url", TestDatabases.mariaDbUrl()));
        dsRef.add(new StringRefAddr("xa.user", TestDatabases.mariaDbUser()));
        dsRef.add(new StringRefAddr("xa.password", TestDatabases.mariaDbPassword()));
        DataSource jndiDs = (DataSource) factory.getObjectInstance(dsRef, null, null, null);

        String row = row("jndi");
        jndiUt.begin();
        try (Connection c = jndiDs.getConnection()) {
            RemoteService.insert(c, row, "order");
        }
        try (Connection c = invoices.getConnection()) {
            RemoteService.insert(c, row, "invoice");
        }
        jndiUt.commit();
        assertTrue(RemoteService.inMariaDb(row));
        assertTrue(RemoteService.inPostgres(row));
        try (Connection outside = jndiDs.getConnection()) {
            assertTrue(outside.getAutoCommit(), "outside a transaction a connection is an ordinary local one");
        }
    }
}
