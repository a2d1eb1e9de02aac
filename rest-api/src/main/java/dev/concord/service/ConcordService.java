package dev.concord.service;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.CoordinatorListener;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.RecoveryManager;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.file.ChannelOpener;
import dev.concord.recovery.log.file.FileLogConfig;
import dev.concord.recovery.log.file.FileTransactionLog;
import dev.concord.recovery.outcome.OutcomeIndex;
import dev.concord.service.config.Scope;
import dev.concord.service.config.ServiceConfig;
import dev.concord.service.core.AuditLog;
import dev.concord.service.core.GeneratedSecret;
import dev.concord.service.core.HealthService;
import dev.concord.service.core.MonitoredLogWriter;
import dev.concord.service.core.RecoveryAdmin;
import dev.concord.service.core.ServiceMetrics;
import dev.concord.service.core.TransactionDirectory;
import dev.concord.service.core.TransactionService;
import dev.concord.service.embedded.EmbeddedResources;
import dev.concord.service.http.ApiServer;
import dev.concord.xa.jdbc.JdbcResourceConfig;
import dev.concord.xa.jdbc.JdbcXaResource;
import dev.concord.xa.rocketmq.RocketMqLogging;
import dev.concord.xa.rocketmq.RocketMqResource;
import dev.concord.xa.rocketmq.RocketMqResourceConfig;
import dev.concord.recovery.outcome.Outcome;
import dev.concord.recovery.xid.Gtrid;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The coordinator service, assembled: the durable log in the data directory, the configured database resources,
 * the engine, recovery (a pass at start, then periodic), the audit log, metrics, and the HTTP API.
 *
 * <p><b>Shutdown</b> ({@link #close()}): no new transaction is begun and readiness turns DOWN; the HTTP server
 * stops accepting and gives requests in progress (a commit, say) the grace period to finish; then the service waits,
 * within what is left of the grace period, for phase 2 of every decided transaction to finish; then recovery, the
 * engine, the databases' idle connections and the logs are closed. Whatever phase 2 is still unfinished then is in
 * the log, and recovery finishes it at the next start.
 *
 * <p>With no resource configured (or {@code embedded: on}) it first starts its embedded RocketMQ broker and Derby
 * database ({@link EmbeddedResources}) and adds them to the configured resources; they stop after the log closes.
 *
 * <p>When the configuration has no token, an admin token is generated once and kept in {@value #GENERATED_TOKEN_FILE}
 * in the data directory (owner-readable only); the token itself is never logged.
 */
public final class ConcordService implements AutoCloseable {
    /** The file a generated admin token is kept in, in the data directory. */
    public static final String GENERATED_TOKEN_FILE = "admin.token";

    private static final System.Logger LOG = System.getLogger(ConcordService.class.getName());

    private final ServiceConfig config;
    private final FileTransactionLog log;
    private final Coordinator coordinator;
    private final RecoveryManager recovery;
    private final AuditLog audit;
    private final HealthService health;
    private final TransactionService transactions;
    private final ServiceMetrics metrics;
    private final ApiServer api;
    private final RecoveryManager.Report firstRecovery;
    private final Path generatedToken;
    private final List<RocketMqResource> rocketmq;
    private final List<JdbcXaResource> databases;
    private final EmbeddedResources embedded;
    private boolean closed;

    /**
     * Options that are not configuration: hooks for tests.
     *
     * @param channelOpener opens the log's segment files; null for the default (tests make writes fail with it)
     * @param clock         the clock of the engine and the service
     */
    public record Options(ChannelOpener channelOpener, Clock clock) {
        /** Production defaults. */
        public static Options defaults() {
            return new Options(null, Clock.systemUTC());
        }
    }

    private ConcordService(ServiceConfig config, FileTransactionLog log, Coordinator coordinator,
                           RecoveryManager recovery, AuditLog audit, HealthService health,
                           TransactionService transactions, ServiceMetrics metrics, ApiServer api,
                           RecoveryManager.Report firstRecovery, Path generatedToken,
                           List<RocketMqResource> rocketmq, List<JdbcXaResource> databases,
                           EmbeddedResources embedded) {
        this.config = config;
        this.log = log;
        this.coordinator = coordinator;
        this.recovery = recovery;
        this.audit = audit;
        this.health = health;
        this.transactions = transactions;
        this.metrics = metrics;
        this.api = api;
        this.firstRecovery = firstRecovery;
        this.generatedToken = generatedToken;
        this.rocketmq = List.copyOf(rocketmq);
        this.databases = List.copyOf(databases);
        this.embedded = embedded;
    }

    /**
     * Starts the service.
     *
     * @throws StartupException when something the service needs cannot be had (the message says what)
     */
    public static ConcordService start(ServiceConfig config, Options options) throws StartupException {
        // RocketMQ's jars bring their own logging, which SLF4J's discovery initializes even with no RocketMQ
        // resource, and which then writes to ${user.home}/logs/rocketmqlogs: send it where Concord wants it.
        RocketMqLogging.redirectUnlessConfigured(RocketMqLogging.defaultDirectory(), "WARN");
        Path dataDir = config.dataDir();
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StartupException("cannot create the data directory " + dataDir + " (dataDir): " + e, e);
        }
        Path generatedToken = null;
        if (config.tokens().isEmpty()) {
            generatedToken = dataDir.resolve(GENERATED_TOKEN_FILE);
            config = config.withTokens(List.of(new ServiceConfig.Token("generated-admin",
                    generatedAdminToken(generatedToken), Scope.ADMIN)));
        }
        FileLogConfig.Builder logConfig = FileLogConfig.builder(dataDir.resolve("log"))
                .commitRetention(config.outcomes().retention()).maxRecentCommits(config.outcomes().maxCommits());
        if (options.channelOpener() != null) {
            logConfig.channelOpener(options.channelOpener());
        }
        ServiceMetrics metrics = new ServiceMetrics(options.clock());
        logConfig.forceObserver(metrics);
        FileTransactionLog log;
        try {
            log = FileTransactionLog.open(logConfig.clock(options.clock()).build());
        } catch (LogException e) {
            throw new StartupException("cannot open the transaction log in " + dataDir.resolve("log") + ": "
                    + e.getMessage(), e);
        }
        List<AutoCloseable> opened = new ArrayList<>();
        opened.add(log);
        try {
            EmbeddedResources embedded = null;
            if (config.embeddedResources()) {
                try {
                    embedded = EmbeddedResources.start(dataDir);
                } catch (Exception e) {
                    throw new StartupException(e.getMessage(), e);
                }
                opened.add(0, embedded);
                config = config.withResources(embedded.database(), embedded.rocketmq());
            }
            TransactionDirectory directory = new TransactionDirectory(config.transactions().retainFinished(),
                    config.transactions().retainFinishedFor(), options.clock());
            ResourceRegistry registry = new ResourceRegistry();
            List<JdbcXaResource> databases = new ArrayList<>();
            for (JdbcResourceConfig db : config.databases()) {
                JdbcXaResource resource = new JdbcXaResource(db);
                opened.add(0, resource);
                databases.add(resource);
                registry.register(resource);
            }
            // The broker's check-backs ask the engine's outcome index; the engine exists only once the registry
            // is complete, so the resources reach it through this reference (UNKNOWN until it is set).
            AtomicReference<Coordinator> engine = new AtomicReference<>();
            Map<String, RocketMqResource> messageResources = new LinkedHashMap<>();
            Map<String, Long> messageLimits = new LinkedHashMap<>();
            for (ServiceConfig.RocketMq r : config.rocketmq()) {
                RocketMqResourceConfig mq = r.resource();
                if (config.outcomes().retention().compareTo(mq.checkHorizon()) <= 0) {
                    throw new StartupException("outcomes.retention (" + config.outcomes().retention()
                            + ") must be longer than the checkHorizon (" + mq.checkHorizon()
                            + ") of RocketMQ resource '" + mq.name() + "'", null);
                }
                RocketMqResource resource = new RocketMqResource(mq, g -> {
                    Coordinator c = engine.get();
                    Gtrid x = Gtrid.tryParse(g);
                    return x == null || c == null ? Outcome.UNKNOWN : c.outcomeOf(x);
                });
                opened.add(0, resource);
                resource.start();
                registry.register(resource);
                messageResources.put(mq.name(), resource);
                messageLimits.put(mq.name(), r.maxMessageBytes());
            }
            MonitoredLogWriter writer = new MonitoredLogWriter(log, metrics);
            CoordinatorConfig engineConfig = CoordinatorConfig.builder().nodeId(config.nodeId())
                    .defaultTimeout(config.transactions().defaultTimeout())
                    .maxTimeout(config.transactions().maxTimeout()).clock(options.clock()).build();
            OutcomeIndex outcomes = OutcomeIndex.open(config.nodeId(), config.outcomes().retention(),
                    config.outcomes().maxCommits(), options.clock(), log);
            Coordinator coordinator = new Coordinator(engineConfig, writer, registry,
                    CoordinatorListener.all(directory, metrics), outcomes);
            engine.set(coordinator);
            opened.add(0, coordinator);
            metrics.bind(coordinator, log);
            RecoveryManager recovery = new RecoveryManager(coordinator, log);
            opened.add(0, recovery);
            RecoveryManager.Report first = recovery.recover();
            recovery.start(config.recoveryInterval());
            AuditLog audit;
            try {
                audit = AuditLog.open(dataDir.resolve("audit.log"), options.clock());
            } catch (IOException e) {
                throw new StartupException("cannot open the audit log " + dataDir.resolve("audit.log") + ": " + e, e);
            }
            opened.add(0, audit);
            TransactionService transactions = new TransactionService(coordinator, directory, metrics, options.clock(),
                    messageResources, messageLimits);
            RecoveryAdmin admin = new RecoveryAdmin(coordinator, recovery, log, audit, transactions, options.clock());
            HealthService health = new HealthService(writer, dataDir.resolve("log"), registry, Duration.ofSeconds(5),
                    embedded == null ? List::of : embedded::checks);
            opened.add(0, health);
            ApiServer api;
            try {
                api = ApiServer.start(config, new ApiServer.Services(transactions, admin, health, metrics),
                        config.shutdownGrace());
            } catch (Exception e) {
                throw new StartupException("cannot start the HTTP server on " + config.http().host() + ":"
                        + config.http().port() + ": " + e.getMessage(), e);
            }
            return new ConcordService(config, log, coordinator, recovery, audit, health, transactions, metrics, api,
                    first, generatedToken, List.copyOf(messageResources.values()), databases, embedded);
        } catch (StartupException | RuntimeException e) {
            for (AutoCloseable c : opened) {
                closeQuietly(c);
            }
            throw e instanceof StartupException s ? s : new StartupException(e.getMessage(), e);
        }
    }

    private static String generatedAdminToken(Path file) throws StartupException {
        try {
            return GeneratedSecret.readOrCreate(file);
        } catch (IOException e) {
            throw new StartupException("no token is configured and the generated admin token cannot be kept in "
                    + file + ": " + e, e);
        }
    }

    /** The effective configuration (with the generated token, if any). */
    public ServiceConfig config() {
        return config;
    }

    /** The port the API listens on. */
    public int port() {
        return api.port();
    }

    /** The API's base URI, e.g. {@code http://127.0.0.1:8080}. */
    public String baseUri() {
        String host = config.http().host();
        if ("0.0.0.0".equals(host) || "::".equals(host)) {
            host = "127.0.0.1";
        }
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return (api.isTls() ? "https" : "http") + "://" + host + ":" + port();
    }

    /** The file holding the generated admin token, or null when tokens are configured. */
    public Path generatedTokenFile() {
        return generatedToken;
    }

    /** The embedded broker and database, or null when the configuration does not run them. */
    public EmbeddedResources embedded() {
        return embedded;
    }

    /** What the recovery pass at start did. */
    public RecoveryManager.Report firstRecovery() {
        return firstRecovery;
    }

    /** The engine, for tests and embedding. */
    public Coordinator coordinator() {
        return coordinator;
    }

    /** The metrics registry. */
    public ServiceMetrics metrics() {
        return metrics;
    }

    /**
     * What a shutdown did.
     *
     * @param phaseTwoUnfinished decided transactions whose phase 2 was still unfinished when the grace period
     *                           ended; recovery finishes them at the next start
     * @param millis             how long the shutdown took
     */
    public record ShutdownReport(long phaseTwoUnfinished, long millis) {
    }

    /** Stops gracefully, as described on the class; waits at most the configured grace period (plus closing). */
    @Override
    public void close() {
        shutdown();
    }

    /**
     * Stops gracefully, as {@link #close()}, and says what was left for recovery (the process's log handlers may
     * already be gone when a shutdown hook runs, so the caller reports it).
     */
    public synchronized ShutdownReport shutdown() {
        if (closed) {
            return new ShutdownReport(0, 0);
        }
        closed = true;
        long began = System.nanoTime();
        long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
        transactions.stopBeginning();
        health.shuttingDown();
        try {
            api.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "CONCORD-3101 HTTP server stop: {0}", e.toString());
        }
        long unfinished = awaitPhaseTwo(deadline);
        recovery.close();
        coordinator.close();
        for (RocketMqResource mq : rocketmq) {
            closeQuietly(mq);
        }
        for (JdbcXaResource db : databases) {
            db.close();
        }
        log.close();
        audit.close();
        health.close();
        if (embedded != null) {
            embedded.close();
        }
        LOG.log(Level.INFO, "CONCORD-3103 coordinator {0} stopped", config.nodeId());
        return new ShutdownReport(unfinished, (System.nanoTime() - began) / 1_000_000);
    }

    /** Waits for phase 2 of decided transactions until the deadline; returns how many are still unfinished. */
    private long awaitPhaseTwo(long deadline) {
        List<CompletableFuture<?>> decided = new ArrayList<>();
        for (GlobalTransaction tx : coordinator.inFlight()) {
            if (!tx.state().isActive()) {
                decided.add(tx.completion());
            }
        }
        if (decided.isEmpty()) {
            return 0;
        }
        try {
            CompletableFuture.allOf(decided.toArray(CompletableFuture[]::new))
                    .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            long left = decided.stream().filter(f -> !f.isDone()).count();
            LOG.log(Level.WARNING, "CONCORD-3102 {0} transaction(s) still in phase 2 at shutdown; recovery "
                    + "finishes them at the next start", left);
            return left;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return decided.stream().filter(f -> !f.isDone()).count();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "closing {0} after a failed start: {1}", c, e.toString());
        }
    }

    /** The service could not start; the message says what is missing. */
    public static final class StartupException extends Exception {
        private static final long serialVersionUID = 1L;

        /** A startup failure. */
        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
