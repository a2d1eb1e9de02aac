package dev.concord.service.embedded;

import dev.concord.service.config.ConfigLoader;
import dev.concord.service.config.ServiceConfig;
import dev.concord.service.core.GeneratedSecret;
import dev.concord.service.core.HealthService;
import dev.concord.xa.jdbc.JdbcResourceConfig;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import dev.concord.xa.rocketmq.RocketMqResourceConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The service's embedded default: a real RocketMQ name server and broker ({@link EmbeddedRocketMq}) and an XA
 * database ({@link EmbeddedDerby}), both in the service's JVM, on 127.0.0.1, with their data under
 * {@code <dataDir>/embedded}:
 * <ul>
 *   <li>{@code rocketmq/}: the broker's store (synchronous flush), kept across restarts, so a half message that
 *       was prepared before a restart is still there for phase 2 or the broker's check-back; topics are created
 *       on first use;</li>
 *   <li>{@code derby/}: the database {@value EmbeddedDerby#DATABASE}, user {@value EmbeddedDerby#USER}, with its
 *       password in {@code derby.password} (generated once, owner-readable);</li>
 *   <li>{@code ports.properties}: the ports, chosen free at the first start and kept.</li>
 * </ul>
 * They are registered as the RocketMQ resource {@value ServiceConfig#EMBEDDED_ROCKETMQ} and the database resource
 * {@value ServiceConfig#EMBEDDED_DATABASE}. This is for trying Concord out and for tests: one broker without a
 * replica and one database, sharing the coordinator's process and heap (about 250 MB more), so that a crash of the
 * process takes all three down together. Production points the service at real clusters instead.
 */
public final class EmbeddedResources implements AutoCloseable {
    /** Producer group of the embedded RocketMQ resource. */
    static final String PRODUCER_GROUP = "concord-embedded";
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(2);

    private final Path dir;
    private final EmbeddedRocketMq broker;
    private final EmbeddedDerby derby;
    private final Path passwordFile;

    private EmbeddedResources(Path dir, EmbeddedRocketMq broker, EmbeddedDerby derby, Path passwordFile) {
        this.dir = dir;
        this.broker = broker;
        this.derby = derby;
        this.passwordFile = passwordFile;
    }

    /**
     * Starts broker and database under {@code dataDir/embedded}.
     *
     * @throws Exception when either cannot start (the message says which)
     */
    public static EmbeddedResources start(Path dataDir) throws Exception {
        Path dir = dataDir.resolve("embedded");
        Files.createDirectories(dir);
        EmbeddedPorts ports = EmbeddedPorts.load(dir.resolve("ports.properties"));
        Path passwordFile = dir.resolve("derby.password");
        String password = GeneratedSecret.readOrCreate(passwordFile);
        EmbeddedDerby derby;
        try {
            derby = EmbeddedDerby.start(dir.resolve("derby"), ports.get(EmbeddedPorts.DERBY), password);
        } catch (Exception e) {
            throw new IOException("the embedded Derby database did not start on 127.0.0.1:"
                    + ports.get(EmbeddedPorts.DERBY) + ": " + e.getMessage(), e);
        }
        EmbeddedRocketMq broker;
        try {
            broker = EmbeddedRocketMq.builder().storeDir(dir.resolve("rocketmq").toAbsolutePath())
                    .ports(ports.get(EmbeddedPorts.NAMESRV), ports.get(EmbeddedPorts.BROKER),
                            ports.get(EmbeddedPorts.HA))
                    .autoCreateTopics(true).logDir(dir.resolve("logs").toAbsolutePath()).start();
        } catch (RuntimeException e) {
            derby.close();
            throw new IOException("the embedded RocketMQ broker did not start (name server 127.0.0.1:"
                    + ports.get(EmbeddedPorts.NAMESRV) + ", broker port " + ports.get(EmbeddedPorts.BROKER) + "): "
                    + e.getMessage(), e);
        }
        return new EmbeddedResources(dir, broker, derby, passwordFile);
    }

    /** The database resource {@value ServiceConfig#EMBEDDED_DATABASE}: Derby's ClientXADataSource, type generic. */
    public JdbcResourceConfig database() {
        return derby.resource(ServiceConfig.EMBEDDED_DATABASE);
    }

    /** The RocketMQ resource {@value ServiceConfig#EMBEDDED_ROCKETMQ}, with the broker's own check horizon. */
    public ServiceConfig.RocketMq rocketmq() {
        RocketMqResourceConfig mq = RocketMqResourceConfig.builder().name(ServiceConfig.EMBEDDED_ROCKETMQ)
                .namesrvAddress(broker.namesrvAddress()).producerGroup(PRODUCER_GROUP)
                .checkHorizon(broker.checkHorizon()).build();
        return new ServiceConfig.RocketMq(mq, ConfigLoader.MAX_MESSAGE_BYTES);
    }

    /** The name server address consumers use, {@code 127.0.0.1:port}. */
    public String namesrvAddress() {
        return broker.namesrvAddress();
    }

    /** The JDBC URL of the database for participants (user {@value EmbeddedDerby#USER}). */
    public String databaseUrl() {
        return derby.url();
    }

    /** The file holding the database password. */
    public Path databasePasswordFile() {
        return passwordFile;
    }

    /** One line for the start-up message: where each embedded server listens. */
    public String describe() {
        return "embedded RocketMQ name server " + broker.namesrvAddress() + " (resource '"
                + ServiceConfig.EMBEDDED_ROCKETMQ + "'), embedded Derby " + derby.url() + " user "
                + EmbeddedDerby.USER + ", password in " + passwordFile + " (resource '"
                + ServiceConfig.EMBEDDED_DATABASE + "')";
    }

    /**
     * Readiness checks: {@code embedded:rocketmq} is up while the broker runs and its name server and broker ports
     * accept a connection; {@code embedded:derby} while the network server answers a ping.
     */
    public List<HealthService.Check> checks() {
        HealthService.Check mq;
        if (!broker.isRunning()) {
            mq = down("embedded:rocketmq", "the embedded broker is stopped");
        } else {
            String unreachable = unreachable(broker.namesrvPort(), broker.brokerPort());
            mq = unreachable == null ? up("embedded:rocketmq") : down("embedded:rocketmq", unreachable);
        }
        HealthService.Check db = derby.isRunning() ? up("embedded:derby")
                : down("embedded:derby", "the embedded Derby server does not answer on 127.0.0.1:" + derby.port());
        return List.of(mq, db);
    }

    private static String unreachable(int... ports) {
        for (int port : ports) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), (int) CHECK_TIMEOUT.toMillis());
            } catch (IOException e) {
                return "nothing accepts connections on 127.0.0.1:" + port + ": " + e.getMessage();
            }
        }
        return null;
    }

    private static HealthService.Check up(String name) {
        return new HealthService.Check(name, HealthService.Status.UP, null);
    }

    private static HealthService.Check down(String name, String detail) {
        return new HealthService.Check(name, HealthService.Status.DOWN, detail);
    }

    /** Stops the broker (its store is flushed) and the database; their data stays in the data directory. */
    @Override
    public void close() {
        try {
            broker.close();
        } finally {
            derby.close();
        }
    }

    @Override
    public String toString() {
        return "EmbeddedResources[" + dir + "]";
    }
}
