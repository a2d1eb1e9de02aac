package dev.concord.it.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.it.crash.FileXaResourceManager.CommittedBranch;
import dev.concord.it.crash.FileXaResourceManager.Connection;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The XA behaviour and the crash safety of the test resource manager the crash tests rely on. */
class FileXaResourceManagerTest {
    private static final ConcordXid XID = new ConcordXid(Gtrid.of("rm-test", 1_000L, 7L), 2);

    @TempDir
    Path dir;

    @Test
    void preparedBranchIsListedByANewInstanceAndCommitsThroughIt() throws Exception {
        prepare(new FileXaResourceManager("rm", dir), XID, "k=v");

        FileXaResourceManager reopened = new FileXaResourceManager("rm", dir);
        Xid[] listed = reopened.connect().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
        assertEquals(1, listed.length);
        assertEquals(XID, ConcordXid.from(listed[0]));
        assertArrayEquals(XID.getBranchQualifier(), listed[0].getBranchQualifier());
        assertEquals(0, reopened.connect().recover(XAResource.TMNOFLAGS).length, "a scan returns everything at its start");

        reopened.connect().commit(listed[0], false);
        assertEquals(List.of(new CommittedBranch(FileXaResourceManager.xidName(XID), List.of("k=v"))),
                FileXaResourceManager.readCommitted(dir));
        assertEquals(List.of(), FileXaResourceManager.readPrepared(dir));
    }

    @Test
    void unknownXidAnswersXaerNotaOnCommitAndRollback() {
        Connection c = new FileXaResourceManager("rm", dir).connect();
        assertXa(XAException.XAER_NOTA, () -> c.commit(XID, false));
        assertXa(XAException.XAER_NOTA, () -> c.commit(XID, true));
        assertXa(XAException.XAER_NOTA, () -> c.rollback(XID));
        assertXa(XAException.XAER_NOTA, () -> c.forget(XID));
    }

    @Test
    void committingOrRollingBackAFinishedBranchAgainAnswersXaerNota() throws Exception {
        FileXaResourceManager rm = new FileXaResourceManager("rm", dir);
        prepare(rm, XID, "k=v");
        rm.connect().commit(XID, false);
        assertXa(XAException.XAER_NOTA, () -> rm.connect().commit(XID, false));
        assertEquals(1, FileXaResourceManager.readCommitted(dir).size());

        ConcordXid other = new ConcordXid(XID.gtrid(), 3);
        prepare(rm, other, "x=y");
        rm.connect().rollback(other);
        assertXa(XAException.XAER_NOTA, () -> rm.connect().rollback(other));
        assertEquals(1, FileXaResourceManager.readCommitted(dir).size(), "a rolled-back branch leaves no row");
    }

    @Test
    void onePhaseCommitWritesTheRowsAndTmFailRollsBack() throws Exception {
        FileXaResourceManager rm = new FileXaResourceManager("rm", dir);
        Connection c = rm.connect();
        c.start(XID, XAResource.TMNOFLAGS);
        c.write("k", "v");
        c.end(XID, XAResource.TMSUCCESS);
        c.commit(XID, true);
        assertEquals(1, FileXaResourceManager.readCommitted(dir).size());

        ConcordXid failed = new ConcordXid(XID.gtrid(), 9);
        c.start(failed, XAResource.TMNOFLAGS);
        c.write("k2", "v2");
        c.end(failed, XAResource.TMFAIL);
        assertXa(XAException.XA_RBROLLBACK, () -> c.commit(failed, true));
        assertEquals(1, FileXaResourceManager.readCommitted(dir).size());
    }

    @Test
    void branchWithoutRowsVotesReadOnlyAndWorkOutsideABranchIsRefused() throws Exception {
        FileXaResourceManager rm = new FileXaResourceManager("rm", dir);
        Connection c = rm.connect();
        assertThrows(IllegalStateException.class, () -> c.write("k", "v"));
        c.start(XID, XAResource.TMNOFLAGS);
        assertXa(XAException.XAER_DUPID, () -> rm.connect().start(XID, XAResource.TMNOFLAGS));
        c.end(XID, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_RDONLY, c.prepare(XID));
        assertEquals(List.of(), FileXaResourceManager.readPrepared(dir));
    }

    @Test
    void commitCutShortAfterItsLineWasWrittenIsFinishedWithoutADuplicate() throws Exception {
        prepare(new FileXaResourceManager("rm", dir), XID, "k=v");
        // The state a crash between the append and the deletion of the prepared file leaves.
        Files.writeString(dir.resolve(FileXaResourceManager.COMMITTED_LOG),
                FileXaResourceManager.xidName(XID) + " k=v\n", StandardCharsets.UTF_8);

        new FileXaResourceManager("rm", dir).connect().commit(XID, false);
        assertEquals(1, FileXaResourceManager.readCommitted(dir).size());
        assertEquals(List.of(), FileXaResourceManager.readPrepared(dir));
    }

    @Test
    void rollbackOfABranchWhoseCommitWasCutShortReportsHeuristicCommit() throws Exception {
        prepare(new FileXaResourceManager("rm", dir), XID, "k=v");
        Files.writeString(dir.resolve(FileXaResourceManager.COMMITTED_LOG),
                FileXaResourceManager.xidName(XID) + " k=v\n", StandardCharsets.UTF_8);

        assertXa(XAException.XA_HEURCOM, () -> new FileXaResourceManager("rm", dir).connect().rollback(XID));
        assertEquals(List.of(), FileXaResourceManager.readPrepared(dir));
    }

    @Test
    void openingCutsATornLastLineAndDeletesAnUnfinishedPrepare() throws Exception {
        FileXaResourceManager rm = new FileXaResourceManager("rm", dir);
        prepare(rm, XID, "k=v");
        rm.connect().commit(XID, false);
        Path log = dir.resolve(FileXaResourceManager.COMMITTED_LOG);
        Files.writeString(log, "434f4e43-00-00000009 torn", StandardOpenOption.APPEND);
        Files.writeString(dir.resolve("434f4e43-00-00000009.tmp"), "x=y\n");

        new FileXaResourceManager("rm", dir);
        assertEquals(1, FileXaResourceManager.readCommitted(dir).size());
        assertTrue(Files.readString(log).endsWith("\n"));
        assertEquals(List.of(), FileXaResourceManager.readPrepared(dir));
        assertTrue(Files.notExists(dir.resolve("434f4e43-00-00000009.tmp")));
    }

    private static void prepare(FileXaResourceManager rm, Xid xid, String row) throws XAException {
        Connection c = rm.connect();
        c.start(xid, XAResource.TMNOFLAGS);
        String[] kv = row.split("=");
        c.write(kv[0], kv[1]);
        c.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, c.prepare(xid));
    }

    private static void assertXa(int code, Executable call) {
        XAException e = assertThrows(XAException.class, call);
        assertEquals(code, e.errorCode, "XA error code");
    }
}
