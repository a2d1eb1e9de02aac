package dev.concord.it.bench;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.RecoverableResource;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.recovery.log.file.FileLogConfig;
import dev.concord.recovery.log.file.FileTransactionLog;
import dev.concord.xa.jdbc.EnlistingDataSource;
import dev.concord.xa.jdbc.JdbcResourceConfig;
import dev.concord.xa.jdbc.JdbcXaResource;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;
import javax.transaction.xa.XAResource;

/**
 * Concord embedded: the engine over the durable file log, through its JTA transaction manager. For xa-db the
 * branches come from its {@link EnlistingDataSource} pools (or, with {@code --concord-db=raw}, from XA connections
 * each thread keeps, as for Narayana).
 */
final class ConcordContender implements Contender {
    static final String NOP_A = "nop-a";
    static final String NOP_B = "nop-b";

    private final LongAdder forceNanos = new LongAdder();
    private final FileTransactionLog log;
    private final Coordinator coordinator;
    private final ConcordTransactionManager tm;
    private final ChildOptions options;
    /** The contender's id, which marks its rows in the databases. */
    private final String label;
    private final BenchDatabases db = new BenchDatabases();
    private JdbcXaResource mariaResource;
    private JdbcXaResource pgResource;
    private EnlistingDataSource mariaPool;
    private EnlistingDataSource pgPool;

    /**
     * @param label        the contender's id, which marks its rows
     * @param directWrites the log's {@code directWrites} (on by default; off forces through the page cache)
     */
    ConcordContender(Path dir, ChildOptions options, String label, boolean directWrites) throws Exception {
        this.options = options;
        this.label = label;
        this.log = FileTransactionLog.open(FileLogConfig.builder(dir.resolve("concord-log"))
                .directWrites(directWrites).forceObserver((nanos, records) -> forceNanos.add(nanos)).build());
        ResourceRegistry registry = new ResourceRegistry();
        registry.register(new NoopResource(NOP_A));
        registry.register(new NoopResource(NOP_B));
        this.coordinator = new Coordinator(CoordinatorConfig.builder().nodeId("bench-concord").build(), log, registry);
        this.tm = new ConcordTransactionManager(coordinator);
    }

    @Override
    public Worker worker(Workload workload, int threadIndex) throws Exception {
        return switch (workload) {
            case NOP -> JtaWorkers.nop(tm, new NoopXAResource(NOP_A), new NoopXAResource(NOP_B));
            case XA_DB -> {
                registerDatabases();
                yield options.concordDbPool()
                        ? JtaWorkers.pooledDb(tm, mariaPool, pgPool, label, threadIndex)
                        : JtaWorkers.rawDb(tm, db, label, threadIndex, true);
            }
            case REST -> throw new UnsupportedOperationException("rest");
        };
    }

    /** Registers both databases (phase-2 retries reach them by name) and, in pool mode, opens their pools. */
    private synchronized void registerDatabases() throws SQLException {
        if (mariaResource != null) {
            return;
        }
        int size = Math.max(1, options.maxDbThreads());
        mariaResource = new JdbcXaResource(JdbcResourceConfig.builder().name(JtaWorkers.MARIADB)
                .type(JdbcResourceConfig.Type.MYSQL).url(db.mariaUrl).user(db.mariaUser).password(db.mariaPassword)
                .minPoolSize(size).maxPoolSize(size).acquireTimeout(Duration.ofSeconds(30)).build());
        pgResource = new JdbcXaResource(JdbcResourceConfig.builder().name(JtaWorkers.POSTGRESQL)
                .type(JdbcResourceConfig.Type.POSTGRESQL).url(db.pgUrl).user(db.pgUser).password(db.pgPassword)
                .minPoolSize(size).maxPoolSize(size).acquireTimeout(Duration.ofSeconds(30)).build());
        if (options.concordDbPool()) {
            mariaPool = EnlistingDataSource.open(mariaResource, tm);
            pgPool = EnlistingDataSource.open(pgResource, tm);
        } else {
            coordinator.registry().register(mariaResource);
            coordinator.registry().register(pgResource);
        }
    }

    @Override
    public long forceCount() {
        return log.forceCount();
    }

    @Override
    public long forceNanos() {
        return forceNanos.sum();
    }

    @Override
    public void close() {
        if (mariaPool != null) {
            mariaPool.close();
            pgPool.close();
        }
        coordinator.close();
        if (mariaResource != null) {
            mariaResource.close();
            pgResource.close();
        }
        log.close();
    }

    /** What phase-2 retries and recovery would open for a no-I/O branch. */
    private record NoopResource(String name) implements RecoverableResource {
        @Override
        public BranchKind kind() {
            return BranchKind.DATABASE;
        }

        @Override
        public Lease open() {
            NoopXAResource xa = new NoopXAResource(name);
            return new Lease() {
                @Override
                public XAResource xaResource() {
                    return xa;
                }

                @Override
                public void close() {
                }
            };
        }
    }
}
