package dev.concord.xa.rocketmq;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.rocketmq.broker.BrokerController;
import org.apache.rocketmq.broker.BrokerPathConfigHelper;
import org.apache.rocketmq.common.BrokerConfig;
import org.apache.rocketmq.common.MQVersion;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.config.ConfigHelper;
import org.apache.rocketmq.common.constant.PermName;
import org.apache.rocketmq.common.namesrv.NamesrvConfig;
import org.apache.rocketmq.namesrv.NamesrvController;
import org.apache.rocketmq.remoting.netty.NettyClientConfig;
import org.apache.rocketmq.remoting.netty.NettyServerConfig;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.apache.rocketmq.remoting.protocol.body.ClusterInfo;
import org.apache.rocketmq.remoting.protocol.route.BrokerData;
import org.apache.rocketmq.store.config.FlushDiskType;
import org.apache.rocketmq.store.config.MessageStoreConfig;

/**
 * A RocketMQ name server and one broker running inside this JVM, for tests and for trying Concord out.
 *
 * <p>What it is: the RocketMQ 5.5.0 {@code NamesrvController} and {@code BrokerController} from Maven Central,
 * listening on 127.0.0.1 on free ports chosen at the first start and kept across restarts (or on fixed ones,
 * {@link Builder#ports}), with a store in a
 * temporary directory (or one the caller names) and small store files (16 MiB commit-log files instead of 1 GiB,
 * about 40 MB on disk). {@link #stop()} and {@link #start()} restart it on the same ports and the same store, so
 * half messages and committed messages survive a restart (a graceful one: the store is flushed on stop).
 *
 * <p>Limits (production points Concord at a real RocketMQ cluster instead):
 * <ul>
 *   <li>One master broker, no replica: a crash of this JVM takes broker and coordinator down together, and with
 *       the default {@link FlushDiskType#SYNC_FLUSH} only what was acknowledged is on disk.</li>
 *   <li>It shares the JVM's heap (150 to 220 MB resident) and threads with the application, and sets JVM-wide
 *       state: the system properties {@code rocketmq.remoting.version} (without it the broker registers as
 *       version 3.0.0 and its topics are ignored) and {@code tls.server.mode=disabled} (unless already set), the
 *       broker's static configuration-file path, and RocketMQ's logging (see {@link RocketMqLogging}; by default
 *       WARN and above go to {@code rocketmq-<pid>.log} under {@code java.io.tmpdir/concord-rocketmq-logs}, not to
 *       {@code ${user.home}}). Only RocksDB's info log, which the broker opens, goes to
 *       {@code ${user.home}/logs/rocketmqlogs} whatever is configured; {@link #close()} deletes it for a temporary
 *       store. Run at most one per JVM.</li>
 *   <li>The broker also listens on its port minus 2 (RocketMQ's "fast" channel) and on an HA port, which RocketMQ
 *       binds on every interface, not only on loopback. No ACL, no TLS.</li>
 *   <li>Topics are not created on first use unless {@link Builder#autoCreateTopics(boolean)} is set: create them
 *       with {@link Builder#topic(String)} or {@link #createTopic(String, int)}.</li>
 *   <li>A graceful stop takes several seconds (RocketMQ waits for its services).</li>
 * </ul>
 *
 * <p>The transaction check settings are the broker's: {@link Builder#transactionTimeout} (age of a half message
 * before its first check-back), {@link Builder#transactionCheckInterval}, {@link Builder#transactionCheckMax}
 * (after that many unanswered checks the broker drops the half message) and {@link Builder#transactionOpBatchInterval},
 * which must stay below the check interval or a check-back COMMIT can be delivered twice. {@link #checkHorizon()}
 * is how long the broker keeps checking a half message.
 */
public final class EmbeddedRocketMq implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EmbeddedRocketMq.class.getName());
    private static final String LOOPBACK = "127.0.0.1";
    private static final Duration REGISTRATION_WAIT = Duration.ofSeconds(20);

    private final Builder settings;
    private final Path storeDir;
    private final boolean ownsStoreDir;
    private final int namesrvPort;
    private final int brokerPort;
    private final int haPort;
    private final Map<String, Integer> topics = new LinkedHashMap<>();
    private NamesrvController namesrv;
    private BrokerController broker;
    private boolean closed;

    private EmbeddedRocketMq(Builder b) throws IOException {
        this.settings = b.copy();
        if (b.storeDir == null) {
            this.storeDir = Files.createTempDirectory("concord-rocketmq-");
            this.ownsStoreDir = true;
        } else {
            this.storeDir = Files.createDirectories(b.storeDir.toAbsolutePath());
            this.ownsStoreDir = false;
        }
        this.namesrvPort = b.namesrvPort != 0 ? b.namesrvPort : freePort();
        this.brokerPort = b.brokerPort != 0 ? b.brokerPort : freeBrokerPort();
        this.haPort = b.haPort != 0 ? b.haPort : freePort();
        this.topics.putAll(b.topics);
    }

    /** A builder with the defaults listed on {@link Builder}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The name-server address clients are configured with, {@code 127.0.0.1:port}. */
    public String namesrvAddress() {
        return LOOPBACK + ":" + namesrvPort;
    }

    /** The broker's address, {@code 127.0.0.1:port}. */
    public String brokerAddress() {
        return LOOPBACK + ":" + brokerPort;
    }

    /** The name server's port. */
    public int namesrvPort() {
        return namesrvPort;
    }

    /** The broker's port (it also listens on this port minus 2). */
    public int brokerPort() {
        return brokerPort;
    }

    /** The broker's HA port. */
    public int haPort() {
        return haPort;
    }

    public String brokerName() {
        return settings.brokerName;
    }

    public String clusterName() {
        return settings.clusterName;
    }

    /** The store directory; kept across restarts, deleted by {@link #close()} only when it was a temporary one. */
    public Path storeDir() {
        return storeDir;
    }

    /**
     * How long the broker may keep checking a half message before it drops it: transactionTimeout +
     * (transactionCheckMax + 1) × transactionCheckInterval — the check scan runs once per interval, so a check can
     * come up to one interval after it is due. Commit outcomes must stay answerable for longer than this.
     */
    public Duration checkHorizon() {
        return settings.transactionTimeout.plus(
                settings.transactionCheckInterval.multipliedBy(settings.transactionCheckMax + 1L));
    }

    /** True while name server and broker run. */
    public synchronized boolean isRunning() {
        return broker != null;
    }

    /**
     * Starts name server and broker (again, after {@link #stop()}: same ports, same store) and waits until the
     * name server lists the broker and every configured topic has a route.
     *
     * @throws IllegalStateException when it does not come up
     */
    public synchronized EmbeddedRocketMq start() {
        if (closed) {
            throw new IllegalStateException("the embedded RocketMQ was closed");
        }
        if (broker != null) {
            return this;
        }
        RocketMqLogging.redirectUnlessConfigured(settings.logDir, settings.logLevel);
        System.setProperty(RemotingCommand.REMOTING_VERSION_KEY, Integer.toString(MQVersion.CURRENT_VERSION));
        if (System.getProperty("tls.server.mode") == null) {
            System.setProperty("tls.server.mode", "disabled");
        }
        long began = System.nanoTime();
        try {
            startNamesrv();
            startBroker();
            awaitRegistration();
            for (Map.Entry<String, Integer> t : topics.entrySet()) {
                putTopic(t.getKey(), t.getValue());
            }
            for (String topic : topics.keySet()) {
                awaitRoute(topic);
            }
        } catch (RuntimeException e) {
            stopQuietly();
            throw e;
        } catch (Exception e) {
            stopQuietly();
            throw new IllegalStateException("the embedded RocketMQ did not start: " + e, e);
        }
        LOG.log(System.Logger.Level.INFO, "embedded RocketMQ started in {0} ms: name server {1}, broker {2}, store {3}",
                (System.nanoTime() - began) / 1_000_000, namesrvAddress(), brokerAddress(), storeDir);
        return this;
    }

    private void startNamesrv() throws Exception {
        NamesrvConfig config = new NamesrvConfig();
        Path home = storeDir.resolve("namesrv");
        Files.createDirectories(home);
        config.setRocketmqHome(home.toString());
        config.setKvConfigPath(home.resolve("kvConfig.json").toString());
        config.setConfigStorePath(home.resolve("namesrv.properties").toString());
        NettyServerConfig server = new NettyServerConfig();
        server.setBindAddress(LOOPBACK);
        server.setListenPort(namesrvPort);
        server.setServerWorkerThreads(2);
        server.setServerCallbackExecutorThreads(2);
        NamesrvController c = new NamesrvController(config, server, new NettyClientConfig());
        if (!c.initialize()) {
            c.shutdown();
            throw new IllegalStateException("the embedded name server did not initialize on port " + namesrvPort);
        }
        c.start();
        namesrv = c;
    }

    private void startBroker() throws Exception {
        BrokerConfig bc = new BrokerConfig();
        bc.setRocketmqHome(storeDir.toString());
        bc.setBrokerName(settings.brokerName);
        bc.setBrokerClusterName(settings.clusterName);
        bc.setNamesrvAddr(namesrvAddress());
        bc.setBrokerIP1(LOOPBACK);
        bc.setBrokerIP2(LOOPBACK);
        bc.setAutoCreateTopicEnable(settings.autoCreateTopics);
        bc.setTransactionTimeOut(settings.transactionTimeout.toMillis());
        bc.setTransactionCheckInterval(settings.transactionCheckInterval.toMillis());
        bc.setTransactionCheckMax(settings.transactionCheckMax);
        bc.setTransactionOpBatchInterval((int) settings.transactionOpBatchInterval.toMillis());

        MessageStoreConfig store = new MessageStoreConfig();
        store.setStorePathRootDir(storeDir.toString());
        store.setStorePathCommitLog(storeDir.resolve("commitlog").toString());
        store.setMappedFileSizeCommitLog(16 * 1024 * 1024);
        store.setMappedFileSizeConsumeQueue(50_000 * 20);
        store.setMaxHashSlotNum(50_000);
        store.setMaxIndexNum(200_000);
        store.setTimerWheelEnable(false);
        store.setMappedFileSizeTimerLog(4 * 1024 * 1024);
        store.setHaListenPort(haPort);
        store.setFlushDiskType(settings.flushDiskType);

        NettyServerConfig server = new NettyServerConfig();
        server.setBindAddress(LOOPBACK);
        server.setListenPort(brokerPort);

        if (!settings.extra.isEmpty()) {
            Properties p = new Properties();
            p.putAll(settings.extra);
            MixAll.properties2Object(p, bc);
            MixAll.properties2Object(p, store);
        }
        Path config = storeDir.resolve("config");
        Files.createDirectories(config);
        BrokerPathConfigHelper.setBrokerConfigPath(config.resolve("broker.properties").toString());

        BrokerController c = new BrokerController(bc, server, new NettyClientConfig(), store);
        if (!c.initialize()) {
            c.shutdown();
            throw new IllegalStateException("the embedded broker did not initialize (store " + storeDir + ")");
        }
        broker = c;
        c.start();
    }

    /** broker.start() may skip registering with the name server: register until the name server lists the broker. */
    private void awaitRegistration() throws InterruptedException {
        long deadline = System.nanoTime() + REGISTRATION_WAIT.toNanos();
        while (!registered()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the embedded broker did not register with the name server within "
                        + REGISTRATION_WAIT.toSeconds() + " s");
            }
            try {
                broker.registerBrokerAll(true, false, true);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "broker registration attempt failed: {0}", e.toString());
            }
            if (!registered()) {
                Thread.sleep(100);
            }
        }
    }

    private boolean registered() {
        ClusterInfo info = namesrv.getRouteInfoManager().getAllClusterInfo();
        Map<String, BrokerData> brokers = info.getBrokerAddrTable();
        if (brokers == null) {
            return false;
        }
        BrokerData data = brokers.get(settings.brokerName);
        return data != null && data.getBrokerAddrs() != null && data.getBrokerAddrs().containsValue(brokerAddress());
    }

    /**
     * Creates a topic (or changes its queue count) and waits until the name server routes it. The topic is
     * remembered and exists again after a restart.
     *
     * @throws IllegalStateException when the broker is not running or the route does not appear
     */
    public synchronized void createTopic(String topic, int queues) {
        if (broker == null) {
            throw new IllegalStateException("the embedded RocketMQ is not running");
        }
        validateTopic(topic, queues);
        topics.put(topic, queues);
        putTopic(topic, queues);
        try {
            awaitRoute(topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the route of " + topic, e);
        }
    }

    private void putTopic(String topic, int queues) {
        TopicConfig tc = new TopicConfig(topic, queues, queues, PermName.PERM_READ | PermName.PERM_WRITE);
        broker.getTopicConfigManager().updateTopicConfig(tc);
        broker.registerBrokerAll(false, false, true);
    }

    private void awaitRoute(String topic) throws InterruptedException {
        long deadline = System.nanoTime() + REGISTRATION_WAIT.toNanos();
        while (namesrv.getRouteInfoManager().pickupTopicRouteData(topic) == null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the name server has no route for topic " + topic + " after "
                        + REGISTRATION_WAIT.toSeconds() + " s");
            }
            broker.registerBrokerAll(false, false, true);
            Thread.sleep(100);
        }
    }

    /** Stops broker and name server gracefully; the store and the ports are kept for {@link #start()}. */
    public synchronized void stop() {
        if (broker == null && namesrv == null) {
            return;
        }
        long began = System.nanoTime();
        stopQuietly();
        LOG.log(System.Logger.Level.INFO, "embedded RocketMQ stopped in {0} ms", (System.nanoTime() - began) / 1_000_000);
    }

    /** Stops and starts again on the same ports and store. */
    public synchronized EmbeddedRocketMq restart() {
        stop();
        return start();
    }

    /**
     * Shuts the broker down and, once it has unregistered from the name server, the name server and the broker's
     * two remoting servers in parallel with the rest of the broker's shutdown: each remoting server waits up to 3 s
     * for its event thread, and one after the other they made a stop take about 15 s.
     */
    private void stopQuietly() {
        BrokerController b = broker;
        NamesrvController n = namesrv;
        broker = null;
        namesrv = null;
        List<Thread> helpers = new ArrayList<>();
        if (b != null) {
            helpers.add(background("broker", b::shutdown));
            if (n != null) {
                awaitUnregistered(n, Duration.ofSeconds(3));
            }
            helpers.add(background("broker-remoting", () -> b.getRemotingServer().shutdown()));
            helpers.add(background("broker-fast-remoting", () -> b.getFastRemotingServer().shutdown()));
        }
        if (n != null) {
            helpers.add(background("namesrv", n::shutdown));
        }
        for (Thread t : helpers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void awaitUnregistered(NamesrvController n, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            Map<String, BrokerData> brokers = n.getRouteInfoManager().getAllClusterInfo().getBrokerAddrTable();
            if (brokers == null || !brokers.containsKey(settings.brokerName)) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Thread background(String what, Runnable shutdown) {
        Thread t = new Thread(() -> {
            try {
                shutdown.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "embedded RocketMQ: shutdown of the {0} failed: {1}", what, e.toString());
            }
        }, "embedded-rocketmq-stop-" + what);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Stops, and deletes the store when it is a temporary directory this instance created. */
    @Override
    public synchronized void close() {
        stop();
        closed = true;
        if (ownsStoreDir) {
            deleteTree(storeDir);
            deleteRocksDbLogs();
        }
    }

    @Override
    public String toString() {
        return "EmbeddedRocketMq[namesrv=" + namesrvAddress() + ", broker=" + settings.brokerName + "@" + brokerAddress()
                + ", store=" + storeDir + (isRunning() ? ", running" : ", stopped") + "]";
    }

    /**
     * RocksDB, which the broker's store opens, writes its info log to {@code ${user.home}/logs/rocketmqlogs} (RocketMQ
     * hard-codes that directory) under the database path with every {@code /} turned into {@code _}: delete the
     * ones of this temporary store.
     */
    private void deleteRocksDbLogs() {
        Path dir;
        try {
            dir = Path.of(ConfigHelper.getDBLogDir());
        } catch (RuntimeException e) {
            return;
        }
        String db = storeDir.toAbsolutePath().toString();
        String prefix = db.replaceFirst("^[/\\\\]+", "").replaceAll("[^A-Za-z0-9._-]", "_") + "_";
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (n.startsWith(prefix) && n.contains("_LOG")) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not delete RocksDB logs of {0}: {1}", storeDir, e.toString());
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete the embedded RocketMQ store {0}: {1}", root, e.toString());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0));
            return s.getLocalPort();
        }
    }

    /** A free port p whose p - 2 is free too: the broker listens on both. */
    private static int freeBrokerPort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int p = freePort();
            if (p - 2 >= 1024 && canBind(p - 2)) {
                return p;
            }
        }
        throw new IOException("no free port pair (p, p - 2) found on " + LOOPBACK);
    }

    private static boolean canBind(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void validateTopic(String topic, int queues) {
        if (topic == null || !topic.matches("[%|a-zA-Z0-9_-]{1,127}")) {
            throw new IllegalArgumentException("topic must be 1 to 127 characters of [%|a-zA-Z0-9_-], got: " + topic);
        }
        if (queues < 1 || queues > 64) {
            throw new IllegalArgumentException("queues must be 1 to 64, got " + queues);
        }
    }

    /**
     * Builds an {@link EmbeddedRocketMq}. Defaults: broker {@code concord-broker} in cluster {@code ConcordCluster},
     * a new temporary store directory, {@link FlushDiskType#SYNC_FLUSH}, no automatic topic creation, the broker's
     * own transaction check settings (timeout 6 s, check interval 30 s, 15 checks) except the op batch interval,
     * 200 ms, and RocketMQ logs at WARN in {@code java.io.tmpdir/concord-rocketmq-logs}.
     */
    public static final class Builder {
        private Path storeDir;
        private String brokerName = "concord-broker";
        private String clusterName = "ConcordCluster";
        private FlushDiskType flushDiskType = FlushDiskType.SYNC_FLUSH;
        private boolean autoCreateTopics;
        private Duration transactionTimeout = Duration.ofSeconds(6);
        private Duration transactionCheckInterval = Duration.ofSeconds(30);
        private int transactionCheckMax = 15;
        private Duration transactionOpBatchInterval = Duration.ofMillis(200);
        private Path logDir = Path.of(System.getProperty("java.io.tmpdir"), "concord-rocketmq-logs");
        private String logLevel = "WARN";
        private int namesrvPort;
        private int brokerPort;
        private int haPort;
        private final Map<String, Integer> topics = new LinkedHashMap<>();
        private final Map<String, String> extra = new LinkedHashMap<>();

        private Builder() {
        }

        private Builder copy() {
            Builder b = new Builder();
            b.storeDir = storeDir;
            b.brokerName = brokerName;
            b.clusterName = clusterName;
            b.flushDiskType = flushDiskType;
            b.autoCreateTopics = autoCreateTopics;
            b.transactionTimeout = transactionTimeout;
            b.transactionCheckInterval = transactionCheckInterval;
            b.transactionCheckMax = transactionCheckMax;
            b.transactionOpBatchInterval = transactionOpBatchInterval;
            b.logDir = logDir;
            b.logLevel = logLevel;
            b.namesrvPort = namesrvPort;
            b.brokerPort = brokerPort;
            b.haPort = haPort;
            b.topics.putAll(topics);
            b.extra.putAll(extra);
            return b;
        }

        /** The store directory; created when missing and never deleted. Default: a new temporary directory. */
        public Builder storeDir(Path v) {
            this.storeDir = v;
            return this;
        }

        /**
         * Fixed ports for the name server and the broker (which also listens on {@code brokerPort - 2}), so that
         * another process can start a broker on the same store and addresses; 0 (the default) chooses a free one.
         */
        public Builder ports(int namesrvPort, int brokerPort) {
            return ports(namesrvPort, brokerPort, 0);
        }

        public Builder brokerName(String v) {
            this.brokerName = v;
            return this;
        }

        public Builder clusterName(String v) {
            this.clusterName = v;
            return this;
        }

        /** SYNC_FLUSH (default: a half message acknowledged at prepare is on disk) or ASYNC_FLUSH (faster). */
        public Builder flushDiskType(FlushDiskType v) {
            this.flushDiskType = v;
            return this;
        }

        /** Whether a send to an unknown topic creates it (RocketMQ's autoCreateTopicEnable). Default false. */
        public Builder autoCreateTopics(boolean v) {
            this.autoCreateTopics = v;
            return this;
        }

        /** Age of a half message before the broker first checks back on it. */
        public Builder transactionTimeout(Duration v) {
            this.transactionTimeout = v;
            return this;
        }

        /** Period of the broker's check-back scan. */
        public Builder transactionCheckInterval(Duration v) {
            this.transactionCheckInterval = v;
            return this;
        }

        /** Check-backs of one half message before the broker drops it (moves it to TRANS_CHECK_MAX_TIME_TOPIC). */
        public Builder transactionCheckMax(int v) {
            this.transactionCheckMax = v;
            return this;
        }

        /** How often the broker writes its batched op (ended) records; must stay below the check interval. */
        public Builder transactionOpBatchInterval(Duration v) {
            this.transactionOpBatchInterval = v;
            return this;
        }

        /** A topic created at every start. */
        public Builder topic(String name) {
            return topic(name, 4);
        }

        /** A topic with {@code queues} read and write queues, created at every start. */
        public Builder topic(String name, int queues) {
            validateTopic(name, queues);
            topics.put(name, queues);
            return this;
        }

        /**
         * Any other BrokerConfig or MessageStoreConfig property, by its RocketMQ name (for example
         * {@code fileReservedTime}); applied after Concord's settings.
         */
        public Builder brokerProperty(String key, String value) {
            extra.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Where RocketMQ's own log goes when nothing else configured it (see {@link RocketMqLogging}). */
        public Builder logDir(Path v) {
            this.logDir = Objects.requireNonNull(v, "logDir");
            return this;
        }

        /**
         * Fixed ports instead of free ones chosen at {@link #build()}: a process that restarts its broker on the same
         * store (and wants its clients to find it again) passes the ports of the first run. 0 chooses a free port.
         * The broker also listens on {@code brokerPort - 2}.
         */
        public Builder ports(int namesrvPort, int brokerPort, int haPort) {
            this.namesrvPort = namesrvPort;
            this.brokerPort = brokerPort;
            this.haPort = haPort;
            return this;
        }

        /** RocketMQ's log level when Concord configures it: WARN by default. */
        public Builder logLevel(String v) {
            this.logLevel = v;
            return this;
        }

        /**
         * Validates the settings and chooses the ports; starts nothing.
         *
         * @throws IllegalArgumentException naming the setting and the problem
         * @throws UncheckedIOException when the store directory cannot be created
         */
        public EmbeddedRocketMq build() {
            if (brokerName == null || !brokerName.matches("[a-zA-Z0-9_-]{1,64}")) {
                throw new IllegalArgumentException("brokerName must be 1 to 64 characters of [a-zA-Z0-9_-], got: " + brokerName);
            }
            if (clusterName == null || !clusterName.matches("[a-zA-Z0-9_-]{1,64}")) {
                throw new IllegalArgumentException("clusterName must be 1 to 64 characters of [a-zA-Z0-9_-], got: " + clusterName);
            }
            Objects.requireNonNull(flushDiskType, "flushDiskType");
            if (namesrvPort != 0 && (namesrvPort < 1024 || namesrvPort > 65535)) {
                throw new IllegalArgumentException("namesrvPort must be 0 or 1024 to 65535, got " + namesrvPort);
            }
            if (brokerPort != 0 && (brokerPort < 1026 || brokerPort > 65535)) {
                throw new IllegalArgumentException("brokerPort must be 0 or 1026 to 65535 (the broker also listens "
                        + "on brokerPort - 2), got " + brokerPort);
            }
            if (namesrvPort != 0 && (namesrvPort == brokerPort || namesrvPort == brokerPort - 2)) {
                throw new IllegalArgumentException("namesrvPort " + namesrvPort + " collides with brokerPort "
                        + brokerPort + " or brokerPort - 2");
            }
            requirePort("haPort", haPort, 0);
            requirePositive("transactionTimeout", transactionTimeout);
            requirePositive("transactionCheckInterval", transactionCheckInterval);
            requirePositive("transactionOpBatchInterval", transactionOpBatchInterval);
            if (transactionCheckMax < 1) {
                throw new IllegalArgumentException("transactionCheckMax must be >= 1, got " + transactionCheckMax);
            }
            if (transactionOpBatchInterval.compareTo(transactionCheckInterval) >= 0) {
                throw new IllegalArgumentException("transactionOpBatchInterval (" + transactionOpBatchInterval
                        + ") must be below transactionCheckInterval (" + transactionCheckInterval
                        + "), or a check-back COMMIT can be delivered twice");
            }
            Set<String> managed = Set.of("brokerName", "brokerClusterName", "namesrvAddr", "brokerIP1", "brokerIP2",
                    "storePathRootDir", "storePathCommitLog", "haListenPort", "listenPort", "rocketmqHome");
            List<String> refused = new ArrayList<>();
            for (String k : extra.keySet()) {
                if (managed.contains(k)) {
                    refused.add(k);
                }
            }
            if (!refused.isEmpty()) {
                throw new IllegalArgumentException("broker properties " + refused + " are managed by EmbeddedRocketMq");
            }
            try {
                return new EmbeddedRocketMq(this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare the embedded RocketMQ store", e);
            }
        }

        /** Builds and starts. */
        public EmbeddedRocketMq start() {
            return build().start();
        }

        private static void requirePort(String setting, int port, int min) {
            if (port != 0 && (port < min || port > 65535)) {
                throw new IllegalArgumentException(setting + " must be 0 (a free port) or " + Math.max(1, min)
                        + " to 65535, got " + port);
            }
        }

        private static void requirePositive(String setting, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(setting + " must be positive, got " + d);
            }
        }
    }
}
