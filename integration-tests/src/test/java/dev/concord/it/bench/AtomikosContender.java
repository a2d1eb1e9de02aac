package dev.concord.it.bench;

import com.atomikos.datasource.xa.XATransactionalResource;
import com.atomikos.icatch.config.Configuration;
import com.atomikos.icatch.jta.UserTransactionManager;
import com.atomikos.jdbc.AtomikosDataSourceBean;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import javax.transaction.xa.XAResource;

/**
 * Atomikos (jakarta classifier) with its file log: a {@code jta.properties} in the temporary directory named by
 * {@code com.atomikos.icatch.file}, with the log there, {@code max_actives} raised above the largest thread count
 * (the default 50 refuses new transactions at 64 threads), {@code registered=true}, everything else Atomikos's
 * default. A manually enlisted XAResource must belong to a registered recoverable resource, so the two no-I/O
 * resources are registered as such; for xa-db the branches come from {@link AtomikosDataSourceBean} pools.
 */
final class AtomikosContender implements Contender {
    private final UserTransactionManager tm;
    private final ChildOptions options;
    private final BenchDatabases db = new BenchDatabases();
    private AtomikosDataSourceBean maria;
    private AtomikosDataSourceBean pg;

    AtomikosContender(Path dir, ChildOptions options) throws Exception {
        this.options = options;
        Path logDir = Files.createDirectories(dir.resolve("atomikos-log")).toAbsolutePath();
        Properties p = new Properties();
        p.setProperty("com.atomikos.icatch.tm_unique_name", "bench-atomikos");
        p.setProperty("com.atomikos.icatch.log_base_dir", logDir.toString());
        p.setProperty("com.atomikos.icatch.log_base_name", "tmlog");
        p.setProperty("com.atomikos.icatch.max_actives", "10000");
        p.setProperty("com.atomikos.icatch.default_jta_timeout", "60000");
        p.setProperty("com.atomikos.icatch.registered", "true");
        Path file = dir.resolve("jta.properties").toAbsolutePath();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "PeerBenchmark");
        }
        System.setProperty("com.atomikos.icatch.file", file.toString());
        Configuration.addResource(new NoopResource(ConcordContender.NOP_A));
        Configuration.addResource(new NoopResource(ConcordContender.NOP_B));
        this.tm = new UserTransactionManager();
        tm.setForceShutdown(true);
        tm.init();
    }

    @Override
    public Worker worker(Workload workload, int threadIndex) throws Exception {
        return switch (workload) {
            case NOP -> JtaWorkers.nop(tm, new NoopXAResource(ConcordContender.NOP_A),
                    new NoopXAResource(ConcordContender.NOP_B));
            case XA_DB -> {
                openPools();
                yield JtaWorkers.pooledDb(tm, maria, pg, "atomikos", threadIndex);
            }
            case REST -> throw new UnsupportedOperationException("rest");
        };
    }

    private synchronized void openPools() throws Exception {
        if (maria != null) {
            return;
        }
        int size = Math.max(1, options.maxDbThreads());
        maria = pool(JtaWorkers.MARIADB, "com.mysql.cj.jdbc.MysqlXADataSource", db.mariaUrl, db.mariaUser,
                db.mariaPassword, size);
        pg = pool(JtaWorkers.POSTGRESQL, "org.postgresql.xa.PGXADataSource", db.pgUrl, db.pgUser, db.pgPassword,
                size);
    }

    private static AtomikosDataSourceBean pool(String name, String xaClass, String url, String user, String password,
                                               int size) throws Exception {
        AtomikosDataSourceBean ds = new AtomikosDataSourceBean();
        ds.setUniqueResourceName(name);
        ds.setXaDataSourceClassName(xaClass);
        Properties xa = new Properties();
        xa.setProperty("url", url);
        xa.setProperty("user", user);
        xa.setProperty("password", password);
        ds.setXaProperties(xa);
        ds.setMinPoolSize(size);
        ds.setMaxPoolSize(size);
        ds.setBorrowConnectionTimeout(30);
        ds.init();
        return ds;
    }

    @Override
    public void close() throws IOException {
        if (maria != null) {
            maria.close();
            pg.close();
        }
        tm.close();
    }

    /** The registered recoverable resource a no-I/O XAResource of this name belongs to. */
    private static final class NoopResource extends XATransactionalResource {
        NoopResource(String name) {
            super(name);
        }

        @Override
        protected XAResource refreshXAConnection() {
            return new NoopXAResource(getName());
        }

        @Override
        public boolean usesXAResource(XAResource xaResource) {
            return xaResource instanceof NoopXAResource n && n.resourceName().equals(getName());
        }
    }
}
