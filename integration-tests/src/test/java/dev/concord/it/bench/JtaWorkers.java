package dev.concord.it.bench;

import jakarta.transaction.Status;
import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;
import java.sql.Connection;
import javax.sql.DataSource;
import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;

/** The transaction loops shared by the three transaction managers, all through the standard JTA interfaces. */
final class JtaWorkers {
    /** Resource names of the two databases, where a contender needs them. */
    static final String MARIADB = "bench-mariadb";
    static final String POSTGRESQL = "bench-postgresql";

    private JtaWorkers() {
    }

    /** begin, enlist two no-I/O resources, commit. */
    static Contender.Worker nop(TransactionManager tm, XAResource a, XAResource b) {
        return () -> {
            tm.begin();
            try {
                Transaction tx = tm.getTransaction();
                tx.enlistResource(a);
                tx.enlistResource(b);
            } catch (Exception | Error e) {
                rollbackQuietly(tm);
                throw e;
            }
            tm.commit();
        };
    }

    /**
     * The xa-db transaction on one MariaDB and one PostgreSQL XA connection that this thread opens and keeps: enlist
     * the connection's XAResource (the transaction manager starts the branch), insert, the same on the other
     * database, commit.
     *
     * @param named whether to enlist the driver XAResources under a resource name ({@link NamedDelegate}, for
     *              Concord) or as they are
     */
    static Contender.Worker rawDb(TransactionManager tm, BenchDatabases db, String tag, int thread, boolean named)
            throws Exception {
        XAConnection mariaXa = db.mariaXa().getXAConnection();
        XAConnection pgXa = db.pgXa().getXAConnection();
        Connection maria = mariaXa.getConnection();
        Connection pg = pgXa.getConnection();
        XAResource mariaRes = named ? new NamedDelegate(MARIADB, mariaXa.getXAResource()) : mariaXa.getXAResource();
        XAResource pgRes = named ? new NamedDelegate(POSTGRESQL, pgXa.getXAResource()) : pgXa.getXAResource();
        return new Contender.Worker() {
            long seq;

            @Override
            public void transaction() throws Exception {
                tm.begin();
                try {
                    Transaction tx = tm.getTransaction();
                    tx.enlistResource(mariaRes);
                    BenchDatabases.insert(maria, tag, thread, seq);
                    tx.enlistResource(pgRes);
                    BenchDatabases.insert(pg, tag, thread, seq);
                } catch (Exception | Error e) {
                    rollbackQuietly(tm);
                    throw e;
                }
                tm.commit();
                seq++;
            }

            @Override
            public void close() {
                JtaWorkers.closeQuietly(maria, pg, mariaXa, pgXa);
            }
        };
    }

    /** The xa-db transaction through two enlisting pooled data sources: connections handed out already enlisted. */
    static Contender.Worker pooledDb(TransactionManager tm, DataSource maria, DataSource pg, String tag, int thread) {
        return new Contender.Worker() {
            long seq;

            @Override
            public void transaction() throws Exception {
                tm.begin();
                try {
                    try (Connection c = maria.getConnection()) {
                        BenchDatabases.insert(c, tag, thread, seq);
                    }
                    try (Connection c = pg.getConnection()) {
                        BenchDatabases.insert(c, tag, thread, seq);
                    }
                } catch (Exception | Error e) {
                    rollbackQuietly(tm);
                    throw e;
                }
                tm.commit();
                seq++;
            }
        };
    }

    /** Closes JDBC handles and XA connections, ignoring failures: the benchmark is over for them. */
    static void closeQuietly(Object... closeables) {
        for (Object c : closeables) {
            try {
                if (c instanceof AutoCloseable a) {
                    a.close();
                } else if (c instanceof XAConnection x) {
                    x.close();
                }
            } catch (Exception ignored) {
                // Nothing to do about it.
            }
        }
    }

    static void rollbackQuietly(TransactionManager tm) {
        try {
            if (tm.getStatus() != Status.STATUS_NO_TRANSACTION) {
                tm.rollback();
            }
        } catch (Exception | Error ignored) {
            // The original failure is what the caller reports.
        }
    }
}
