package dev.concord.xa.conformance;

import static dev.concord.xa.conformance.XaTestSession.count;
import static dev.concord.xa.conformance.XaTestSession.insert;
import static dev.concord.xa.conformance.XaTestSession.listed;
import static dev.concord.xa.conformance.XaTestSession.newMarker;
import static dev.concord.xa.conformance.XaTestSession.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The measured XA behaviour of one database and its JDBC driver (the "XA behaviour" table of the project's facts),
 * written once for every database. Where databases agree, the test states the behaviour; where they differ, the
 * subclass supplies the measured value through an {@code expected...} method and the test checks it.
 *
 * <p>Every test uses fresh random XIDs with {@link TestXid#FORMAT_ID}, writes rows with a fresh marker to
 * {@value XaTestSession#TABLE}, and ends by closing its connections and rolling back anything it left prepared;
 * the cleanup fails the test if a branch stays prepared.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class XaConformanceTest {

    private XADataSource dataSource;
    private XADataSource otherDatabase;
    private XaTestSession session;

    /** A data source on the main test database. */
    protected abstract XADataSource newDataSource();

    /** A data source on a second database of the same server, same user. */
    protected abstract XADataSource newOtherDatabaseDataSource();

    /** {@code commit(xid, false)} from connection B while connection A, which prepared the branch, is still open. */
    protected abstract XaOutcome expectedCommitFromOtherConnectionWhileOpen();

    /** What start, end and prepare do for an XID with an empty branch qualifier (work is done after start). */
    protected abstract BranchSteps expectedStepsWithEmptyBranchQualifier();

    /** What start, end and prepare do for an XID with a negative format id (work is done after start). */
    protected abstract BranchSteps expectedStepsWithNegativeFormatId();

    /** {@code commit(xid, true)} of an XID the resource manager never saw. */
    protected abstract XaOutcome expectedOnePhaseCommitOfUnknownXid();

    /** {@code forget(xid)} of an XID the resource manager never saw. */
    protected abstract XaOutcome expectedForgetOfUnknownXid();

    /** {@code commit(xid, true)} from a connection other than the one that did the work and ended the branch. */
    protected abstract XaOutcome expectedOnePhaseCommitFromOtherConnection();

    /** {@code start(xid, TMJOIN)} on the connection that just ended the branch with TMSUCCESS. */
    protected abstract XaOutcome expectedJoinOnSameConnection();

    /** {@code end(xid, TMSUSPEND)} of an active branch. */
    protected abstract XaOutcome expectedSuspend();

    /** {@code start(xid, TMRESUME)} of a branch still active because its suspension was refused. */
    protected abstract XaOutcome expectedResumeOfActiveBranch();

    /** {@code start(second, TMNOFLAGS)} while the first branch is active on the same connection. */
    protected abstract XaOutcome expectedStartOfSecondBranchWhileFirstActive();

    /** {@code start(second, TMNOFLAGS)} after the first branch was ended (TMSUCCESS) but not prepared. */
    protected abstract XaOutcome expectedStartOfSecondBranchAfterFirstEnded();

    /** {@code start(second, TMNOFLAGS)} after the first branch was prepared on the same, still open connection. */
    protected abstract XaOutcome expectedStartOfSecondBranchAfterFirstPrepared();

    /** {@code commit(xid, false)} of a prepared read-only branch from a new connection after the first closed. */
    protected abstract XaOutcome expectedCommitOfReadOnlyBranchFromNewConnection();

    /** {@code isSameRM} for the resources of two connections of one data source. */
    protected abstract boolean expectedSameResourceManager();

    /** Whether {@code recover()} on the main database lists a branch prepared in the other database. */
    protected abstract boolean expectedRecoverIsServerWide();

    /**
     * Expected outcomes of the first three steps of a branch.
     *
     * @param start outcome of {@code start(xid, TMNOFLAGS)}
     * @param end outcome of {@code end(xid, TMSUCCESS)}
     * @param prepare outcome of {@code prepare(xid)}
     */
    protected record BranchSteps(XaOutcome start, XaOutcome end, XaOutcome prepare) {
        /** All three steps succeed. */
        public static final BranchSteps ALL_OK = new BranchSteps(XaOutcome.OK, XaOutcome.OK, XaOutcome.OK);

        /** All three steps throw {@code errorCode}. */
        public static BranchSteps allFail(int errorCode) {
            XaOutcome failure = XaOutcome.fails(errorCode);
            return new BranchSteps(failure, failure, failure);
        }
    }

    /** The main data source, for subclasses' own tests. */
    protected final XADataSource dataSource() {
        return dataSource;
    }

    /** The session of the running test, for subclasses' own tests. */
    protected final XaTestSession session() {
        return session;
    }

    @BeforeAll
    void createTables() throws Exception {
        dataSource = newDataSource();
        otherDatabase = newOtherDatabaseDataSource();
        XaTestSession.createTable(dataSource);
        XaTestSession.createTable(otherDatabase);
    }

    @BeforeEach
    void newSession() {
        session = new XaTestSession();
    }

    @AfterEach
    void nothingStaysPrepared() throws Exception {
        List<TestXid> left = session.cleanUp(dataSource, otherDatabase);
        assertTrue(left.isEmpty(), "branches still prepared after cleanup: " + left);
    }

    // ---------------------------------------------------------------- helpers

    /** Starts {@code xid} on {@code connection}, inserts {@code marker}, ends and prepares it; returns the vote. */
    protected final int prepareWithWork(XAConnection connection, TestXid xid, String marker) throws Exception {
        XAResource resource = connection.getXAResource();
        resource.start(xid, XAResource.TMNOFLAGS);
        insert(connection, marker);
        resource.end(xid, XAResource.TMSUCCESS);
        return resource.prepare(xid);
    }

    private XAResource newResource() throws Exception {
        return session.open(dataSource).getXAResource();
    }

    // ---------------------------------------------------------------- prepare on A, finish on B

    @Test
    void branchPreparedOnClosedConnectionIsListedAndCommittedFromNewConnection() throws Exception {
        TestXid xid = session.newXid();
        String marker = newMarker();
        XAConnection first = session.open(dataSource);
        assertEquals(XAResource.XA_OK, prepareWithWork(first, xid, marker));
        session.close(first);

        XAResource second = newResource();
        assertTrue(listed(second, xid), "recover() on a new connection lists the prepared branch");
        second.commit(xid, false);
        assertEquals(1, count(dataSource, marker));
        assertFalse(listed(second, xid), "a committed branch is no longer listed");
    }

    @Test
    void branchPreparedOnClosedConnectionIsRolledBackFromNewConnection() throws Exception {
        TestXid xid = session.newXid();
        String marker = newMarker();
        XAConnection first = session.open(dataSource);
        assertEquals(XAResource.XA_OK, prepareWithWork(first, xid, marker));
        session.close(first);

        XAResource second = newResource();
        second.rollback(xid);
        assertEquals(0, count(dataSource, marker));
        assertFalse(listed(second, xid), "a rolled-back branch is no longer listed");
    }

    @Test
    void commitFromSecondConnectionWhileFirstStillOpenHasMeasuredOutcomeAlthoughRecoverListsXid() throws Exception {
        TestXid xid = session.newXid();
        String marker = newMarker();
        XAConnection first = session.open(dataSource);
        assertEquals(XAResource.XA_OK, prepareWithWork(first, xid, marker));

        XAResource second = newResource();
        assertTrue(listed(second, xid), "recover() on the second connection lists the branch the first prepared");
        assertEquals(expectedCommitFromOtherConnectionWhileOpen(), XaOutcome.of(() -> second.commit(xid, false)));
        if (expectedCommitFromOtherConnectionWhileOpen().ok()) {
            assertEquals(1, count(dataSource, marker));
            assertFalse(listed(second, xid), "a committed branch is no longer listed");
        } else {
            assertEquals(0, count(dataSource, marker), "the refused commit committed nothing");
            assertTrue(listed(second, xid), "the branch is still prepared after the refused commit");
            first.getXAResource().rollback(xid);
            assertFalse(listed(second, xid), "the first connection could still finish its branch");
        }
    }

    // ---------------------------------------------------------------- XID encoding

    @Test
    void binaryXidWith64ByteGtridAndBqualOfArbitraryBytesRoundTripsThroughRecover() throws Exception {
        byte[] gtrid = TestXid.randomBytes(Xid.MAXGTRIDSIZE);
        byte[] bqual = TestXid.randomBytes(Xid.MAXBQUALSIZE);
        byte[] awkward = {0x00, (byte) 0xFF, '\'', '\\', '"', ',', '_', '=', (byte) 0x80, ' '};
        System.arraycopy(awkward, 0, gtrid, 0, awkward.length);
        System.arraycopy(awkward, 0, bqual, bqual.length - awkward.length, awkward.length);
        TestXid xid = session.track(new TestXid(TestXid.FORMAT_ID, gtrid, bqual));
        String marker = newMarker();
        XAConnection first = session.open(dataSource);
        assertEquals(XAResource.XA_OK, prepareWithWork(first, xid, marker));
        session.close(first);

        XAResource second = newResource();
        Xid recovered = XaTestSession.find(second, xid);
        assertNotNull(recovered, "recover() lists the binary XID");
        assertEquals(TestXid.FORMAT_ID, recovered.getFormatId());
        assertArrayEquals(gtrid, recovered.getGlobalTransactionId());
        assertArrayEquals(bqual, recovered.getBranchQualifier());
        second.commit(recovered, false);
        assertEquals(1, count(dataSource, marker), "the XID returned by recover() finishes the branch");
    }

    @Test
    void emptyBranchQualifierFailsOrWorksAtTheMeasuredStep() throws Exception {
        checkBranchSteps(session.track(TestXid.random(TestXid.FORMAT_ID, new byte[0])),
                expectedStepsWithEmptyBranchQualifier());
    }

    @Test
    void negativeFormatIdFailsOrWorksAtTheMeasuredStep() throws Exception {
        checkBranchSteps(session.track(TestXid.random(-TestXid.FORMAT_ID, new byte[] {1})),
                expectedStepsWithNegativeFormatId());
    }

    private void checkBranchSteps(TestXid xid, BranchSteps expected) throws Exception {
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        XaOutcome start = XaOutcome.of(() -> resource.start(xid, XAResource.TMNOFLAGS));
        insert(connection, newMarker());
        XaOutcome end = XaOutcome.of(() -> resource.end(xid, XAResource.TMSUCCESS));
        XaOutcome prepare = XaOutcome.of(() -> assertEquals(XAResource.XA_OK, resource.prepare(xid)));
        assertEquals(expected, new BranchSteps(start, end, prepare));
        XAResource other = newResource();
        if (prepare.ok()) {
            Xid recovered = XaTestSession.find(other, xid);
            assertNotNull(recovered, "recover() lists the prepared branch");
            assertEquals(xid.getFormatId(), recovered.getFormatId());
            assertArrayEquals(xid.bqual(), recovered.getBranchQualifier());
            resource.commit(xid, false);
        }
        assertFalse(listed(other, xid), "nothing of this XID stays prepared");
    }

    // ---------------------------------------------------------------- unknown and finished XIDs

    @Test
    void commitOfUnknownXidFailsWithNota() throws Exception {
        XAResource resource = newResource();
        TestXid xid = session.newXid();
        assertEquals(XaOutcome.fails(XAException.XAER_NOTA), XaOutcome.of(() -> resource.commit(xid, false)));
    }

    @Test
    void rollbackOfUnknownXidFailsWithNota() throws Exception {
        XAResource resource = newResource();
        TestXid xid = session.newXid();
        assertEquals(XaOutcome.fails(XAException.XAER_NOTA), XaOutcome.of(() -> resource.rollback(xid)));
    }

    @Test
    void commitAndRollbackOfCommittedXidFailWithNotaOnSameAndOtherConnection() throws Exception {
        TestXid xid = session.newXid();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        prepareWithWork(connection, xid, newMarker());
        resource.commit(xid, false);
        checkFinished(resource, xid);
        checkFinished(newResource(), xid);
    }

    @Test
    void commitAndRollbackOfRolledBackXidFailWithNotaOnSameAndOtherConnection() throws Exception {
        TestXid xid = session.newXid();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        prepareWithWork(connection, xid, newMarker());
        resource.rollback(xid);
        checkFinished(resource, xid);
        checkFinished(newResource(), xid);
    }

    private static void checkFinished(XAResource resource, TestXid xid) {
        XaOutcome nota = XaOutcome.fails(XAException.XAER_NOTA);
        assertEquals(nota, XaOutcome.of(() -> resource.commit(xid, false)), "commit of a finished XID");
        assertEquals(nota, XaOutcome.of(() -> resource.rollback(xid)), "rollback of a finished XID");
    }

    @Test
    void onePhaseCommitOfUnknownXidFailsWithMeasuredCode() throws Exception {
        XAResource resource = newResource();
        TestXid xid = session.newXid();
        assertFalse(expectedOnePhaseCommitOfUnknownXid().ok(), "the expectation is a failure");
        assertEquals(expectedOnePhaseCommitOfUnknownXid(), XaOutcome.of(() -> resource.commit(xid, true)));
    }

    @Test
    void forgetOfUnknownXidHasMeasuredOutcome() throws Exception {
        XAResource resource = newResource();
        TestXid xid = session.newXid();
        assertEquals(expectedForgetOfUnknownXid(), XaOutcome.of(() -> resource.forget(xid)));
    }

    // ---------------------------------------------------------------- read-only branches

    @Test
    void prepareOfEmptyBranchVotesXaOkAndBranchStaysPreparedUntilCommitted() throws Exception {
        checkReadOnlyVote(false);
    }

    @Test
    void prepareOfReadOnlyBranchVotesXaOkAndBranchStaysPreparedUntilCommitted() throws Exception {
        checkReadOnlyVote(true);
    }

    private void checkReadOnlyVote(boolean withRead) throws Exception {
        TestXid xid = session.newXid();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        resource.start(xid, XAResource.TMNOFLAGS);
        if (withRead) {
            read(connection);
        }
        resource.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, resource.prepare(xid), "the vote is XA_OK, never XA_RDONLY");
        XAResource other = newResource();
        assertTrue(listed(other, xid), "the read-only branch is prepared and must be finished");
        resource.commit(xid, false);
        assertFalse(listed(other, xid), "the committed branch is gone");
    }

    @Test
    void commitOfPreparedReadOnlyBranchFromNewConnectionHasMeasuredOutcome() throws Exception {
        TestXid xid = session.newXid();
        XAConnection first = session.open(dataSource);
        XAResource resource = first.getXAResource();
        resource.start(xid, XAResource.TMNOFLAGS);
        read(first);
        resource.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, resource.prepare(xid));
        session.close(first);

        XAResource second = newResource();
        assertTrue(listed(second, xid), "recover() lists the read-only branch after its connection closed");
        assertEquals(expectedCommitOfReadOnlyBranchFromNewConnection(),
                XaOutcome.of(() -> second.commit(xid, false)));
        assertFalse(listed(second, xid), "the branch is gone after the commit call");
    }

    // ---------------------------------------------------------------- one-phase commit

    @Test
    void onePhaseCommitFromOtherConnectionFailsWithMeasuredCodeAndWorkingConnectionCanStillCommit()
            throws Exception {
        TestXid xid = session.newXid();
        String marker = newMarker();
        XAConnection working = session.open(dataSource);
        XAResource resource = working.getXAResource();
        resource.start(xid, XAResource.TMNOFLAGS);
        insert(working, marker);
        resource.end(xid, XAResource.TMSUCCESS);

        XAResource other = newResource();
        assertFalse(expectedOnePhaseCommitFromOtherConnection().ok(), "the expectation is a failure");
        assertEquals(expectedOnePhaseCommitFromOtherConnection(), XaOutcome.of(() -> other.commit(xid, true)));
        assertEquals(0, count(dataSource, marker), "the refused one-phase commit committed nothing");
        resource.commit(xid, true);
        assertEquals(1, count(dataSource, marker), "the working connection commits in one phase");
    }

    // ---------------------------------------------------------------- association: join, suspend, interleave

    @Test
    void joinOnSameConnectionAfterEndHasMeasuredOutcome() throws Exception {
        TestXid xid = session.newXid();
        String marker = newMarker();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        resource.start(xid, XAResource.TMNOFLAGS);
        insert(connection, marker);
        resource.end(xid, XAResource.TMSUCCESS);

        XaOutcome join = XaOutcome.of(() -> resource.start(xid, XAResource.TMJOIN));
        assertEquals(expectedJoinOnSameConnection(), join);
        if (join.ok()) {
            insert(connection, marker);
            resource.end(xid, XAResource.TMSUCCESS);
        }
        assertEquals(XAResource.XA_OK, resource.prepare(xid));
        resource.commit(xid, false);
        assertEquals(join.ok() ? 2 : 1, count(dataSource, marker), "work of every association period commits");
    }

    @Test
    void suspendAndResumeAreRejectedAndBranchStaysActive() throws Exception {
        TestXid xid = session.newXid();
        String marker = newMarker();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        resource.start(xid, XAResource.TMNOFLAGS);
        insert(connection, marker);

        assertFalse(expectedSuspend().ok(), "the expectation is a failure");
        assertFalse(expectedResumeOfActiveBranch().ok(), "the expectation is a failure");
        assertEquals(expectedSuspend(), XaOutcome.of(() -> resource.end(xid, XAResource.TMSUSPEND)));
        assertEquals(expectedResumeOfActiveBranch(), XaOutcome.of(() -> resource.start(xid, XAResource.TMRESUME)));
        resource.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_OK, resource.prepare(xid));
        resource.commit(xid, false);
        assertEquals(1, count(dataSource, marker), "the branch was still active and commits its work");
    }

    @Test
    void startOfSecondBranchWhileFirstActiveIsRejected() throws Exception {
        TestXid first = session.newXid();
        TestXid second = session.newXid();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        resource.start(first, XAResource.TMNOFLAGS);
        insert(connection, newMarker());

        assertFalse(expectedStartOfSecondBranchWhileFirstActive().ok(), "the expectation is a failure");
        assertEquals(expectedStartOfSecondBranchWhileFirstActive(),
                XaOutcome.of(() -> resource.start(second, XAResource.TMNOFLAGS)));
        resource.end(first, XAResource.TMSUCCESS);
        resource.rollback(first);
        assertFalse(listed(resource, second), "the refused branch does not exist");
    }

    @Test
    void startOfSecondBranchAfterFirstEndedButNotPreparedIsRejected() throws Exception {
        TestXid first = session.newXid();
        TestXid second = session.newXid();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        resource.start(first, XAResource.TMNOFLAGS);
        insert(connection, newMarker());
        resource.end(first, XAResource.TMSUCCESS);

        assertFalse(expectedStartOfSecondBranchAfterFirstEnded().ok(), "the expectation is a failure");
        assertEquals(expectedStartOfSecondBranchAfterFirstEnded(),
                XaOutcome.of(() -> resource.start(second, XAResource.TMNOFLAGS)));
        resource.rollback(first);
        assertFalse(listed(resource, second), "the refused branch does not exist");
    }

    @Test
    void startOfSecondBranchAfterFirstPreparedOnSameConnectionHasMeasuredOutcome() throws Exception {
        TestXid first = session.newXid();
        TestXid second = session.newXid();
        String marker = newMarker();
        XAConnection connection = session.open(dataSource);
        XAResource resource = connection.getXAResource();
        assertEquals(XAResource.XA_OK, prepareWithWork(connection, first, newMarker()));

        XaOutcome start = XaOutcome.of(() -> resource.start(second, XAResource.TMNOFLAGS));
        assertEquals(expectedStartOfSecondBranchAfterFirstPrepared(), start);
        if (start.ok()) {
            insert(connection, marker);
            resource.end(second, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, resource.prepare(second));
            resource.commit(second, false);
            assertEquals(1, count(dataSource, marker), "the second branch commits its own work");
        }
        resource.rollback(first);
        assertFalse(listed(resource, first), "the first branch is finished");
    }

    // ---------------------------------------------------------------- resource manager identity and timeouts

    @Test
    void isSameRmForTwoConnectionsOfOneDataSourceHasMeasuredAnswer() throws Exception {
        XAResource first = newResource();
        XAResource second = newResource();
        assertTrue(first.isSameRM(first), "a resource is the same RM as itself");
        assertEquals(expectedSameResourceManager(), first.isSameRM(second));
    }

    @Test
    void setTransactionTimeoutIsUnsupportedAndReturnsFalse() throws Exception {
        XAResource resource = newResource();
        assertFalse(resource.setTransactionTimeout(30), "setTransactionTimeout reports that it did nothing");
        assertEquals(0, resource.getTransactionTimeout());
    }

    // ---------------------------------------------------------------- recover() scope

    @Test
    void branchPreparedInOtherDatabaseIsListedThereAndInMainDatabaseOnlyWhenRecoverIsServerWide() throws Exception {
        TestXid xid = session.newXid();
        String marker = newMarker();
        XAConnection preparing = session.open(otherDatabase);
        assertEquals(XAResource.XA_OK, prepareWithWork(preparing, xid, marker));
        session.close(preparing);

        assertEquals(expectedRecoverIsServerWide(), session.listedByNewConnection(dataSource, xid),
                "whether recover() on the main database lists the other database's branch");
        XAResource inOther = session.open(otherDatabase).getXAResource();
        assertTrue(listed(inOther, xid), "recover() on the branch's own database lists it");
        inOther.rollback(xid);
        assertEquals(0, count(otherDatabase, marker));
        assertFalse(listed(inOther, xid), "the branch is rolled back");
    }
}
