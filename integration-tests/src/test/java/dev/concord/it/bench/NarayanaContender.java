package dev.concord.it.bench;

import jakarta.transaction.TransactionManager;
import java.nio.file.Path;

/**
 * Narayana standalone ({@code com.arjuna.ats.jta.TransactionManager}), configured through its system properties
 * before its first class is touched: every object store under the temporary directory (action store, plus the
 * communication and state stores, which otherwise land in {@code ./ObjectStore}), a node identifier, and either
 * the journal store ({@code HornetqObjectStoreAdaptor}, NIO: {@code asyncIO=false}) or the default shadow store.
 * Both stores keep their defaults for durability (the journal syncs writes and deletes; the shadow store syncs).
 *
 * <p>For xa-db each thread keeps one XA connection per database and enlists its driver XAResource: the
 * standalone jar has no connection pool.
 */
final class NarayanaContender implements Contender {
    static final String JOURNAL_STORE = "com.arjuna.ats.internal.arjuna.objectstore.hornetq.HornetqObjectStoreAdaptor";

    private final TransactionManager tm;
    private final BenchDatabases db = new BenchDatabases();
    private final String tag;

    NarayanaContender(Path dir, boolean journal, ChildOptions options) {
        Path store = dir.resolve("narayana-store").toAbsolutePath();
        this.tag = journal ? "narayana-journal" : "narayana-shadow";
        System.setProperty("ObjectStoreEnvironmentBean.objectStoreDir", store.toString());
        System.setProperty("ObjectStoreEnvironmentBean.communicationStore.objectStoreDir", store.toString());
        System.setProperty("ObjectStoreEnvironmentBean.stateStore.objectStoreDir", store.toString());
        System.setProperty("CoreEnvironmentBean.nodeIdentifier", "bench-narayana");
        System.setProperty("JTAEnvironmentBean.xaRecoveryNodes", "bench-narayana");
        if (journal) {
            System.setProperty("ObjectStoreEnvironmentBean.objectStoreType", JOURNAL_STORE);
            System.setProperty("HornetqJournalEnvironmentBean.asyncIO", "false");
            System.setProperty("HornetqJournalEnvironmentBean.storeDir", store.resolve("journal").toString());
        }
        this.tm = com.arjuna.ats.jta.TransactionManager.transactionManager();
    }

    @Override
    public Worker worker(Workload workload, int threadIndex) throws Exception {
        return switch (workload) {
            case NOP -> JtaWorkers.nop(tm, new NoopXAResource(ConcordContender.NOP_A),
                    new NoopXAResource(ConcordContender.NOP_B));
            case XA_DB -> JtaWorkers.rawDb(tm, db, tag, threadIndex, false);
            case REST -> throw new UnsupportedOperationException("rest");
        };
    }

    @Override
    public void close() {
        // The child JVM exits right after; Narayana's reaper threads are daemons.
    }
}
