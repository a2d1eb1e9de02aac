package dev.concord.xa.rocketmq;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded broker restarts on the same ports and store, and a branch prepared before the restart is committed
 * after it: the half message survived (SYNC_FLUSH, the default) and the acknowledged END reaches the new broker.
 */
class RocketMqBrokerRestartTest {
    private static final String TOPIC = "restart-orders";

    private static EmbeddedRocketMq broker;
    private static RocketMqResource mq;

    @BeforeAll
    static void start() {
        broker = EmbeddedRocketMq.builder().topic(TOPIC, 2).start();
        mq = new RocketMqResource(RocketMqResourceConfig.builder().name("mq").namesrvAddress(broker.namesrvAddress())
                .producerGroup("concord-restart-group").build(), OutcomeSource.unknown()).start();
    }

    @AfterAll
    static void stop() {
        if (mq != null) {
            mq.close();
        }
        if (broker != null) {
            broker.close();
            assertTrue(!Files.exists(broker.storeDir()), "temporary store deleted on close");
        }
    }

    @Test
    void branchPreparedBeforeABrokerRestartCommitsAfterIt() throws Exception {
        Gtrid gtrid = Gtrid.of("restart-test", System.currentTimeMillis(), 1);
        ConcordXid before = new ConcordXid(gtrid, 1);
        ConcordXid across = new ConcordXid(gtrid, 2);
        RocketMqXAResource xa = mq.newXAResource();
        prepare(xa, before, "committed-before");
        xa.commit(before, false);
        prepare(xa, across, "prepared-before");
        String namesrv = broker.namesrvAddress();
        String address = broker.brokerAddress();

        broker.restart();
        assertEquals(namesrv, broker.namesrvAddress());
        assertEquals(address, broker.brokerAddress());

        // Phase 2 retries a commit the broker could not take yet (XAER_RMFAIL), as the engine would.
        PhaseTwoRetries.commit(xa, across, Duration.ofSeconds(20));

        try (Deliveries deliveries = new Deliveries(broker.namesrvAddress(), TOPIC)) {
            List<MessageExt> got = deliveries.awaitAtLeast(2, Duration.ofSeconds(15));
            assertEquals(List.of("committed-before", "prepared-before"),
                    got.stream().map(m -> new String(m.getBody(), UTF_8)).sorted().toList());
            assertEquals(2, deliveries.after(Duration.ofSeconds(1)).size(), "each once");
        }
    }

    private static void prepare(RocketMqXAResource xa, ConcordXid xid, String body) throws XAException {
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(TransactionalMessage.of(TOPIC, body.getBytes(UTF_8)));
        xa.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, xa.prepare(xid));
    }
}
