package dev.concord.it.bench;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.sql.Connection;
import java.util.Arrays;
import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * The ceiling of the xa-db workload: the two-phase commit written by hand on both databases, with no transaction
 * manager and no log. Each thread keeps one XA connection per database; a transaction is start, insert, end on
 * MariaDB, the same on PostgreSQL, prepare both, commit both — in that order, one call after the other.
 */
final class BaselineContender implements Contender {
    private static final int FORMAT_ID = 0x42454E43; // "BENC"
    private final BenchDatabases db = new BenchDatabases();
    private final byte[] runId = new byte[8];

    BaselineContender(ChildOptions options) {
        new SecureRandom().nextBytes(runId);
    }

    @Override
    public Worker worker(Workload workload, int threadIndex) throws Exception {
        if (workload != Workload.XA_DB) {
            throw new UnsupportedOperationException("the hand-written baseline exists for xa-db only");
        }
        XAConnection mariaXa = db.mariaXa().getXAConnection();
        XAConnection pgXa = db.pgXa().getXAConnection();
        Connection maria = mariaXa.getConnection();
        Connection pg = pgXa.getConnection();
        XAResource mariaRes = mariaXa.getXAResource();
        XAResource pgRes = pgXa.getXAResource();
        return new Worker() {
            long seq;

            @Override
            public void transaction() throws Exception {
                byte[] gtrid = ByteBuffer.allocate(20).put(runId).putInt(threadIndex).putLong(seq).array();
                Xid x1 = new BenchXid(gtrid, (byte) 1);
                Xid x2 = new BenchXid(gtrid, (byte) 2);
                mariaRes.start(x1, XAResource.TMNOFLAGS);
                BenchDatabases.insert(maria, "baseline", threadIndex, seq);
                mariaRes.end(x1, XAResource.TMSUCCESS);
                pgRes.start(x2, XAResource.TMNOFLAGS);
                BenchDatabases.insert(pg, "baseline", threadIndex, seq);
                pgRes.end(x2, XAResource.TMSUCCESS);
                if (mariaRes.prepare(x1) != XAResource.XA_OK || pgRes.prepare(x2) != XAResource.XA_OK) {
                    throw new IllegalStateException("a branch with an insert voted read-only");
                }
                mariaRes.commit(x1, false);
                pgRes.commit(x2, false);
                seq++;
            }

            @Override
            public void close() {
                JtaWorkers.closeQuietly(maria, pg, mariaXa, pgXa);
            }
        };
    }

    @Override
    public void close() {
    }

    private record BenchXid(byte[] gtrid, byte bqual) implements Xid {
        @Override
        public int getFormatId() {
            return FORMAT_ID;
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return gtrid.clone();
        }

        @Override
        public byte[] getBranchQualifier() {
            return new byte[] {bqual};
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BenchXid x && x.bqual == bqual && Arrays.equals(x.gtrid, gtrid);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(gtrid) * 31 + bqual;
        }

        @Override
        public String toString() {
            return "BenchXid[" + bqual + "]";
        }
    }
}
