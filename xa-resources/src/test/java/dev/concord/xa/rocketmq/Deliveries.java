package dev.concord.xa.rocketmq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * What a real consumer receives from one topic: a lite pull consumer of a group of its own, assigned every queue
 * of the topic from offset 0, polling in the background and keeping every message it gets (duplicates included).
 */
public final class Deliveries implements AutoCloseable {
    private final DefaultLitePullConsumer consumer;
    private final List<MessageExt> received = new ArrayList<>();
    private final Thread poller;
    private volatile boolean closed;

    public Deliveries(String namesrvAddress, String topic) throws MQClientException {
        String id = UUID.randomUUID().toString().substring(0, 8);
        consumer = new DefaultLitePullConsumer("concord-test-consumer-" + id);
        consumer.setNamesrvAddr(namesrvAddress);
        consumer.setInstanceName("concord-test-consumer-" + id);
        consumer.setPollTimeoutMillis(200);
        consumer.start();
        Collection<MessageQueue> queues = consumer.fetchMessageQueues(topic);
        consumer.assign(queues);
        for (MessageQueue q : queues) {
            seekToStart(q);
        }
        poller = new Thread(this::poll, "deliveries-" + topic);
        poller.setDaemon(true);
        poller.start();
    }

    /** The first request on a new connection sometimes fails while the pull thread opens it too: try again. */
    private void seekToStart(MessageQueue q) throws MQClientException {
        for (int attempt = 1; ; attempt++) {
            try {
                consumer.seek(q, 0);
                return;
            } catch (MQClientException e) {
                if (attempt == 5) {
                    throw e;
                }
                sleep(200);
            }
        }
    }

    private void poll() {
        while (!closed) {
            try {
                List<MessageExt> batch = consumer.poll(200);
                if (!batch.isEmpty()) {
                    synchronized (received) {
                        received.addAll(batch);
                        received.notifyAll();
                    }
                }
            } catch (RuntimeException e) {
                if (!closed) {
                    sleep(50);
                }
            }
        }
    }

    /** Waits until at least {@code n} messages arrived or {@code max} passed; returns what arrived. */
    public List<MessageExt> awaitAtLeast(int n, Duration max) throws InterruptedException {
        return awaitAtLeast(n, m -> true, max);
    }

    /**
     * Waits until at least {@code n} of the messages that arrived match {@code which}, or {@code max} passed;
     * returns the matching ones that arrived.
     */
    public List<MessageExt> awaitAtLeast(int n, Predicate<MessageExt> which, Duration max)
            throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        synchronized (received) {
            while (true) {
                List<MessageExt> matching = received.stream().filter(which).toList();
                long left = deadline - System.nanoTime();
                if (matching.size() >= n || left <= 0) {
                    return matching;
                }
                received.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** Waits {@code quiet} and returns everything received so far. */
    public List<MessageExt> after(Duration quiet) throws InterruptedException {
        Thread.sleep(quiet.toMillis());
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        poller.join(2000);
        consumer.shutdown();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
