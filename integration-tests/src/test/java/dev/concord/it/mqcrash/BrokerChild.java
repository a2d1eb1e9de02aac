package dev.concord.it.mqcrash;

import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import java.nio.file.Path;

/**
 * A RocketMQ name server and broker in a process of their own, for the test that kills the broker:
 * {@code java ... BrokerChild <store-dir> <topic> [<namesrv-port> <broker-port>]}. Starts an {@link EmbeddedRocketMq}
 * with {@link ShortChecks} (SYNC_FLUSH) on the store directory and the topic — on the given ports, or on free ones —
 * prints {@code broker-ready <namesrv-port> <broker-port> <check-horizon-millis>} and runs until it is killed.
 * A failure to start prints its stack trace and exits 1.
 */
public final class BrokerChild {
    /** The start of the line printed once the broker is ready. */
    static final String READY = "broker-ready ";

    private BrokerChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedRocketMq broker;
        try {
            EmbeddedRocketMq.Builder b = ShortChecks.broker().storeDir(Path.of(args[0])).topic(args[1], 2);
            if (args.length == 4) {
                b.ports(Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            }
            broker = b.start();
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(1);
            return;
        }
        System.out.println(READY + port(broker.namesrvAddress()) + " " + port(broker.brokerAddress()) + " "
                + broker.checkHorizon().toMillis());
        System.out.flush();
        Thread.currentThread().join();
    }

    private static String port(String address) {
        return address.substring(address.lastIndexOf(':') + 1);
    }
}
