package dev.concord.xa.rocketmq.bench;

import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.XidFactory;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import dev.concord.xa.rocketmq.OutcomeSource;
import dev.concord.xa.rocketmq.RocketMqResource;
import dev.concord.xa.rocketmq.RocketMqResourceConfig;
import dev.concord.xa.rocketmq.RocketMqXAResource;
import dev.concord.xa.rocketmq.TransactionalMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.transaction.xa.XAResource;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.store.config.FlushDiskType;

/**
 * What the RocketMQ adapter's two-phase path costs next to a plain send, on an embedded broker in this JVM. Not a
 * test: run it with {@code scripts/bench.sh rocketmq}.
 *
 * <p>Two workloads against the same broker and the same topic, 128-byte bodies, no consumer (nothing subscribes, so
 * delivery costs nothing):
 * <ul>
 *   <li><b>tx</b>: per operation one {@link RocketMqXAResource} branch, driven directly (no coordinator, no log):
 *       {@code start}, {@code addMessage}, {@code end}, {@code prepare} (the half send) and {@code commit} (the
 *       acknowledged END_TRANSACTION). One message per branch, so tx msgs/s = branches/s = half + END pairs/s.</li>
 *   <li><b>plain</b>: {@code DefaultMQProducer.send} (synchronous, SEND_OK required).</li>
 * </ul>
 * Every operation gets a new XAResource from one shared {@link RocketMqResource} (one producer), as the plain
 * threads share one {@link DefaultMQProducer}; neither producer retries a failed send, and any failure aborts.
 * Both workloads are first warmed up at the highest thread count (JIT), then, for each thread count, warmed up
 * again and measured for several rounds, tx and plain alternating within a round (the order swapped every round,
 * so neither always runs on the fuller store); the medians are printed, one line per thread count, then a
 * Markdown table with the medians and the range over the rounds:
 * <pre>
 *   BENCH rocketmq threads=N tx_msgs_per_s=X plain_msgs_per_s=Y ratio=R
 * </pre>
 * with R = X / Y. Progress and settings go to standard error.
 *
 * <p>System properties: {@code bench.warmupMillis} (3000, per workload), {@code bench.roundMillis} (3000, per
 * workload), {@code bench.rounds} (5), {@code bench.threads} (1,16), {@code bench.flush} (ASYNC_FLUSH, the setting
 * of the figures in FACTS.md; SYNC_FLUSH is the embedded broker's default and what a durable prepare needs),
 * {@code bench.bodyBytes} (128).
 */
public final class RocketMqBenchmark {
    private static final String TOPIC = "concord-bench";
    private static final int QUEUES = 8;
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(3);

    private RocketMqBenchmark() {
    }

    /** One workload operation; throws when the operation did not succeed. */
    @FunctionalInterface
    private interface Operation {
        void run() throws Exception;
    }

    /** Runs the benchmark; see the class description. Exits the JVM (RocketMQ leaves threads behind). */
    public static void main(String[] args) {
        int status = 0;
        try {
            run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        System.out.flush();
        System.exit(status);
    }

    private static void run() throws Exception {
        long warmupMillis = Long.getLong("bench.warmupMillis", 3000);
        long roundMillis = Long.getLong("bench.roundMillis", 3000);
        int rounds = Integer.getInteger("bench.rounds", 5);
        int[] threadCounts = Arrays.stream(System.getProperty("bench.threads", "1,16").split(","))
                .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        FlushDiskType flush = FlushDiskType.valueOf(System.getProperty("bench.flush", "ASYNC_FLUSH"));
        int bodyBytes = Integer.getInteger("bench.bodyBytes", 128);
        byte[] body = new byte[bodyBytes];
        ThreadLocalRandom.current().nextBytes(body);

        long began = System.nanoTime();
        EmbeddedRocketMq broker = EmbeddedRocketMq.builder().flushDiskType(flush).topic(TOPIC, QUEUES).build();
        RocketMqResource resource = null;
        DefaultMQProducer plain = null;
        List<String[]> table = new ArrayList<>();
        try {
            broker.start();
            info("broker %s up in %d ms; %s, %d-byte bodies, warm-up %d ms, %d rounds of %d ms per workload",
                    broker.brokerAddress(), (System.nanoTime() - began) / 1_000_000, flush, bodyBytes, warmupMillis,
                    rounds, roundMillis);

            resource = new RocketMqResource(RocketMqResourceConfig.builder().name("bench-mq")
                    .namesrvAddress(broker.namesrvAddress()).producerGroup("concord-bench-tx")
                    .sendTimeout(SEND_TIMEOUT).checkHorizon(broker.checkHorizon()).build(),
                    OutcomeSource.unknown()).start();
            plain = new DefaultMQProducer("concord-bench-plain");
            plain.setNamesrvAddr(broker.namesrvAddress());
            plain.setInstanceName("concord-bench-plain-" + ProcessHandle.current().pid());
            plain.setSendMsgTimeout((int) SEND_TIMEOUT.toMillis());
            plain.setRetryTimesWhenSendFailed(0);
            plain.start();

            RocketMqResource tx = resource;
            DefaultMQProducer producer = plain;
            TransactionalMessage txMessage = TransactionalMessage.of(TOPIC, body);
            XidFactory xids = new XidFactory("rmq-bench");
            Operation txPair = () -> {
                ConcordXid xid = new ConcordXid(xids.newGtrid(), 1);
                RocketMqXAResource xa = tx.newXAResource();
                xa.start(xid, XAResource.TMNOFLAGS);
                xa.addMessage(txMessage);
                xa.end(xid, XAResource.TMSUCCESS);
                int vote = xa.prepare(xid);
                if (vote != XAResource.XA_OK) {
                    throw new IllegalStateException("prepare voted " + vote + ", expected XA_OK");
                }
                xa.commit(xid, false);
            };
            Operation plainSend = () -> {
                SendResult r = producer.send(new Message(TOPIC, body));
                if (r.getSendStatus() != SendStatus.SEND_OK) {
                    throw new IllegalStateException("plain send answered " + r.getSendStatus());
                }
            };

            // JIT warm-up of client and broker first at the highest thread count (most operations per second),
            // so the first thread count's rounds do not still run partly interpreted code.
            int most = Arrays.stream(threadCounts).max().orElse(1);
            measure(txPair, most, warmupMillis);
            measure(plainSend, most, warmupMillis);
            for (int threads : threadCounts) {
                measure(txPair, threads, warmupMillis);
                measure(plainSend, threads, warmupMillis);
                double[] txRates = new double[rounds];
                double[] plainRates = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    if (r % 2 == 0) {
                        txRates[r] = measure(txPair, threads, roundMillis);
                        plainRates[r] = measure(plainSend, threads, roundMillis);
                    } else {
                        plainRates[r] = measure(plainSend, threads, roundMillis);
                        txRates[r] = measure(txPair, threads, roundMillis);
                    }
                    info("threads=%d round %d: tx %.0f msg/s, plain %.0f msg/s", threads, r + 1, txRates[r],
                            plainRates[r]);
                }
                double txMedian = median(txRates);
                double plainMedian = median(plainRates);
                double ratio = txMedian / plainMedian;
                System.out.printf(Locale.ROOT, "BENCH rocketmq threads=%d tx_msgs_per_s=%.0f plain_msgs_per_s=%.0f"
                        + " ratio=%.3f%n", threads, txMedian, plainMedian, ratio);
                System.out.flush();
                table.add(new String[] {Integer.toString(threads), fmt("%.0f", txMedian), range(txRates),
                        fmt("%.0f", plainMedian), range(plainRates), fmt("%.2f", ratio)});
            }

            System.out.println();
            System.out.printf(Locale.ROOT, "RocketMQ 5.5.0 embedded broker, %s, %d-byte bodies, medians of %d "
                    + "rounds of %.1f s per workload%n%n", flush, bodyBytes, rounds, roundMillis / 1000.0);
            System.out.println("| threads | tx (half + acked END) msg/s | tx range | plain send msg/s | plain range "
                    + "| tx / plain |");
            System.out.println("|--------:|----------------------------:|---------:|-----------------:|------------:"
                    + "|-----------:|");
            for (String[] row : table) {
                System.out.println("| " + String.join(" | ", row) + " |");
            }
            System.out.flush();
        } finally {
            long stopping = System.nanoTime();
            if (plain != null) {
                plain.shutdown();
            }
            if (resource != null) {
                resource.close();
            }
            broker.close();
            info("broker stopped in %d ms; whole run %.1f s", (System.nanoTime() - stopping) / 1_000_000,
                    (System.nanoTime() - began) / 1e9);
        }
    }

    /** Runs {@code op} on {@code threads} threads for {@code millis}; returns operations per second. */
    private static double measure(Operation op, int threads, long millis) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder done = new LongAdder();
        List<Throwable> failures = new ArrayList<>();
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    while (!stop.get()) {
                        op.run();
                        done.increment();
                    }
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                    stop.set(true);
                }
            }, "bench-worker-" + t);
            workers.add(thread);
            thread.start();
        }
        start.await();
        long begin = System.nanoTime();
        long deadline = begin + millis * 1_000_000;
        while (!stop.get() && System.nanoTime() < deadline) {
            Thread.sleep(Math.max(1, Math.min(50, (deadline - System.nanoTime()) / 1_000_000)));
        }
        // Operations finishing after the deadline are not counted; they only pad the last few milliseconds.
        long count = done.sum();
        double seconds = (System.nanoTime() - begin) / 1e9;
        stop.set(true);
        for (Thread t : workers) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a worker failed", failures.get(0));
        }
        return count / seconds;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static String range(double[] values) {
        double min = Arrays.stream(values).min().orElse(0);
        double max = Arrays.stream(values).max().orElse(0);
        return fmt("%.0f", min) + "–" + fmt("%.0f", max);
    }

    private static String fmt(String format, double value) {
        return String.format(Locale.ROOT, format, value);
    }

    private static void info(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[rocketmq-bench] " + format + "%n", args);
        System.err.flush();
    }
}
