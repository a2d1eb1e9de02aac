package dev.concord.service.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import org.apache.derby.jdbc.ClientXADataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the coordinator needs from the embedded XA database, checked on the real thing: a branch prepared on one
 * connection that is then closed is listed by {@code recover()} on a new connection, also after the database was
 * shut down and started again, and is committed or rolled back from there. Derby does all of it; H2, the other
 * candidate, drops a prepared branch when the session that prepared it closes, which is why the service embeds
 * Derby.
 */
class EmbeddedXaDatabaseTest {
    private static final int FORMAT = 0x434f4e43;
    private static final byte[] GTRID = "embedded-xa-database-test".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    @Test
    void derbyKeepsAPreparedBranchAfterItsSessionClosesAndAcrossARestart() throws Exception {
        int port = freePort();
        String password = "derby-test-password-1";
        Xid one = xid(1);
        Xid two = xid(2);
        Xid three = xid(3);
        EmbeddedDerby derby = EmbeddedDerby.start(dir.resolve("derby"), port, password);
        try {
            XADataSource ds = derbyXa(port, password);
            execute(ds, "CREATE TABLE xa_check (id INT PRIMARY KEY)");
            for (Xid x : List.of(one, two, three)) {
                prepareAndDisconnect(ds, x);
            }
            XAConnection other = ds.getXAConnection();
            try {
                XAResource r = other.getXAResource();
                assertEquals(List.of(1, 2, 3), ours(r.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)));
                r.commit(three, false);
            } finally {
                other.close();
            }
        } finally {
            derby.close();
        }

        derby = EmbeddedDerby.start(dir.resolve("derby"), port, password);
        try {
            XADataSource ds = derbyXa(port, password);
            XAConnection after = ds.getXAConnection();
            try {
                XAResource r = after.getXAResource();
                assertEquals(List.of(1, 2), ours(r.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)),
                        "the prepared branches survive the restart");
                r.commit(one, false);
                r.rollback(two);
                assertEquals(List.of(), ours(r.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)));
                XAException again = assertThrows(XAException.class, () -> r.commit(one, false));
                assertEquals(XAException.XAER_NOTA, again.errorCode);
            } finally {
                after.close();
            }
            assertEquals(List.of(1, 3), rows(ds));
        } finally {
            derby.close();
        }
    }

    @Test
    void h2DropsAPreparedBranchWhenTheSessionThatPreparedItCloses() throws Exception {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:file:" + dir.resolve("h2").resolve("check").toAbsolutePath());
        ds.setUser("sa");
        ds.setPassword("h2-test-password");
        XAConnection keeper = ds.getXAConnection();
        try {
            execute(ds, "CREATE TABLE xa_check (id INT PRIMARY KEY)");
            Xid x = xid(1);
            XAConnection preparing = ds.getXAConnection();
            XAResource pr = preparing.getXAResource();
            pr.start(x, XAResource.TMNOFLAGS);
            try (Statement s = preparing.getConnection().createStatement()) {
                s.execute("INSERT INTO xa_check VALUES (1)");
            }
            pr.end(x, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, pr.prepare(x));
            XAResource other = keeper.getXAResource();
            assertEquals(List.of(1), ours(other.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)),
                    "listed while the preparing session is open");

            preparing.close();
            assertEquals(List.of(), ours(other.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)),
                    "gone once the preparing session closed");
            assertThrows(XAException.class, () -> other.commit(x, false));
            assertEquals(List.of(), rows(ds), "and its work was rolled back");
        } finally {
            keeper.close();
        }
    }

    private static XADataSource derbyXa(int port, String password) {
        ClientXADataSource ds = new ClientXADataSource();
        ds.setServerName("127.0.0.1");
        ds.setPortNumber(port);
        ds.setDatabaseName(EmbeddedDerby.DATABASE);
        ds.setUser(EmbeddedDerby.USER);
        ds.setPassword(password);
        return ds;
    }

    private static void prepareAndDisconnect(XADataSource ds, Xid x) throws Exception {
        XAConnection xc = ds.getXAConnection();
        try {
            XAResource r = xc.getXAResource();
            r.start(x, XAResource.TMNOFLAGS);
            try (Statement s = xc.getConnection().createStatement()) {
                s.execute("INSERT INTO xa_check VALUES (" + x.getBranchQualifier()[0] + ")");
            }
            r.end(x, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, r.prepare(x));
        } finally {
            xc.close();
        }
    }

    private static void execute(XADataSource ds, String sql) throws Exception {
        XAConnection xc = ds.getXAConnection();
        try (Connection c = xc.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } finally {
            xc.close();
        }
    }

    private static List<Integer> rows(XADataSource ds) throws Exception {
        XAConnection xc = ds.getXAConnection();
        try (Connection c = xc.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM xa_check ORDER BY id")) {
            List<Integer> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
            return out;
        } finally {
            xc.close();
        }
    }

    /** The branch numbers of this test's XIDs among those listed, sorted. */
    private static List<Integer> ours(Xid[] listed) {
        List<Integer> out = new ArrayList<>();
        for (Xid x : listed) {
            if (x.getFormatId() == FORMAT && Arrays.equals(x.getGlobalTransactionId(), GTRID)) {
                out.add((int) x.getBranchQualifier()[0]);
            }
        }
        out.sort(null);
        return out;
    }

    private static Xid xid(int branch) {
        byte[] bqual = {(byte) branch};
        return new Xid() {
            @Override
            public int getFormatId() {
                return FORMAT;
            }

            @Override
            public byte[] getGlobalTransactionId() {
                return GTRID.clone();
            }

            @Override
            public byte[] getBranchQualifier() {
                return bqual.clone();
            }
        };
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }
}
