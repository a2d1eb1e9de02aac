package dev.concord.it.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.client.OutgoingMessage;
import dev.concord.client.RemoteUserTransaction;
import dev.concord.client.ServiceCallException;
import dev.concord.client.TransactionalMessageSender;
import dev.concord.xa.rocketmq.Deliveries;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import jakarta.transaction.UserTransaction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionAspectSupport;
import org.springframework.transaction.jta.JtaTransactionManager;

/**
 * Spring's {@link JtaTransactionManager} driving the remote UserTransaction: {@code @Transactional} code writes to
 * MariaDB and PostgreSQL with {@link JdbcTemplate}s over the enlisting data sources and sends a RocketMQ message;
 * the real service commits or rolls back all of it.
 */
@ExtendWith(SharedService.class)
class SpringJtaTest {
    static RemoteService service;
    static EmbeddedRocketMq broker;
    static AnnotationConfigApplicationContext context;
    static OrderService orders;

    @BeforeAll
    static void start(RemoteService s, EmbeddedRocketMq b) {
        service = s;
        broker = b;
        context = new AnnotationConfigApplicationContext(Config.class);
        orders = context.getBean(OrderService.class);
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }

    /** The application's wiring, as a Spring application would declare it. */
    @Configuration
    @EnableTransactionManagement
    static class Config {
        @Bean
        UserTransaction userTransaction() {
            return service.userTransaction();
        }

        @Bean
        PlatformTransactionManager transactionManager(UserTransaction ut) {
            return new JtaTransactionManager(ut);
        }

        @Bean
        OrderService orderService() {
            return new OrderService(new JdbcTemplate(RemoteService.mariaDb()),
                    new JdbcTemplate(RemoteService.postgres()), new TransactionalMessageSender("events"));
        }
    }

    /** Application code: an order row in MariaDB, an invoice row in PostgreSQL, an event, in one transaction. */
    static class OrderService {
        private final JdbcTemplate ordersDb;
        private final JdbcTemplate billingDb;
        private final TransactionalMessageSender events;

        OrderService(JdbcTemplate ordersDb, JdbcTemplate billingDb, TransactionalMessageSender events) {
            this.ordersDb = ordersDb;
            this.billingDb = billingDb;
            this.events = events;
        }

        @Transactional
        public String place(String id, String topic) throws ServiceCallException {
            ordersDb.update("INSERT INTO " + RemoteService.TABLE + " (id, note) VALUES (?, ?)", id, "order");
            ordersDb.update("UPDATE " + RemoteService.TABLE + " SET note = ? WHERE id = ?", "order, placed", id);
            billingDb.update("INSERT INTO " + RemoteService.TABLE + " (id, note) VALUES (?, ?)", id, "invoice");
            events.send(OutgoingMessage.builder(topic, "placed " + id).key(id).build());
            return RemoteUserTransaction.currentTransactionId();
        }

        @Transactional
        public void placeThenFail(String id, String topic) throws ServiceCallException {
            place(id, topic);
            throw new IllegalStateException("out of stock");
        }

        @Transactional
        public void placeThenMarkRollbackOnly(String id, String topic) throws ServiceCallException {
            place(id, topic);
            TransactionAspectSupport.currentTransactionStatus().setRollbackOnly();
        }

        @Transactional(readOnly = true)
        public String note(String id) {
            return ordersDb.queryForObject("SELECT note FROM " + RemoteService.TABLE + " WHERE id = ?", String.class,
                    id);
        }
    }

    private static String topic() {
        String t = "client-spring-" + System.nanoTime() % 1_000_000;
        broker.createTopic(t, 2);
        return t;
    }

    @Test
    void aTransactionalMethodCommitsBothDatabasesAndTheMessage() throws Exception {
        String id = "spring-ok-" + System.nanoTime();
        String topic = topic();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic)) {
            String tx = orders.place(id, topic);
            assertTrue(tx != null && !tx.isEmpty(), "the method ran in a remote transaction");
            assertEquals(null, RemoteUserTransaction.currentTransactionId(), "Spring ended it");
            assertTrue(RemoteService.inMariaDb(id));
            assertTrue(RemoteService.inPostgres(id));
            assertEquals("order, placed", orders.note(id), "both statements ran on the method's one connection");
            assertEquals("COMMITTED", service.client().get(tx).status());
            List<MessageExt> got = consumer.awaitAtLeast(1, Duration.ofSeconds(20));
            assertEquals(1, got.size(), got::toString);
            assertEquals("placed " + id, new String(got.get(0).getBody(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void anExceptionRollsBackBothDatabasesAndTheMessage() throws Exception {
        String id = "spring-fail-" + System.nanoTime();
        String topic = topic();
        try (Deliveries consumer = new Deliveries(broker.namesrvAddress(), topic)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> orders.placeThenFail(id, topic));
            assertEquals("out of stock", e.getMessage());
            assertEquals(null, RemoteUserTransaction.currentTransactionId());
            assertFalse(RemoteService.inMariaDb(id));
            assertFalse(RemoteService.inPostgres(id));
            assertEquals(List.of(), consumer.after(Duration.ofSeconds(1)));
        }
    }

    @Test
    void rollbackOnlyFromSpringRollsBackEverything() throws Exception {
        String id = "spring-rbonly-" + System.nanoTime();
        orders.placeThenMarkRollbackOnly(id, topic());
        assertEquals(null, RemoteUserTransaction.currentTransactionId());
        assertFalse(RemoteService.inMariaDb(id));
        assertFalse(RemoteService.inPostgres(id));
    }
}
