package dev.concord.xa.conformance;

import static dev.concord.xa.conformance.XaTestSession.count;
import static dev.concord.xa.conformance.XaTestSession.insert;
import static dev.concord.xa.conformance.XaTestSession.listed;
import static dev.concord.xa.conformance.XaTestSession.newMarker;
import static dev.concord.xa.conformance.XaTestSession.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Prepared branches across a restart of the database server: each test prepares a branch that wrote a row and a
 * read-only branch, closes their connections, restarts the server through {@code scripts/db-restart.sh} (which
 * needs root) and then finishes the branches from a new connection. Tagged {@code server-restart} so that a run
 * can exclude it; it runs by default.
 */
@Tag("server-restart")
class PreparedBranchSurvivesServerRestartTest {

    private static final long RESTART_TIMEOUT_SECONDS = 180;

    private XaTestSession session;
    private XADataSource cleanUpWith;

    @BeforeEach
    void newSession() {
        session = new XaTestSession();
    }

    @AfterEach
    void nothingStaysPrepared() throws Exception {
        if (cleanUpWith != null) {
            List<TestXid> left = session.cleanUp(cleanUpWith);
            assertTrue(left.isEmpty(), "branches still prepared after cleanup: " + left);
        }
    }

    @Test
    void mariaDbBranchWithWorkSurvivesRestartButReadOnlyBranchIsLost() throws Exception {
        Outcome outcome = prepareRestartAndFinish(XaTestDatabases.mariaDb(), "mariadb");
        assertTrue(outcome.writingListed, "the prepared branch that wrote a row is listed after the restart");
        assertEquals(1, outcome.rowsAfterCommit, "and commits its row");
        assertFalse(outcome.readOnlyListed, "the prepared read-only branch is not listed after the restart");
        assertEquals(XaOutcome.fails(XAException.XAER_NOTA), outcome.readOnlyCommit,
                "and committing it reports an unknown XID");
    }

    @Test
    void postgresBranchWithWorkAndReadOnlyBranchBothSurviveRestart() throws Exception {
        Outcome outcome = prepareRestartAndFinish(XaTestDatabases.postgres(), "postgresql");
        assertTrue(outcome.writingListed, "the prepared branch that wrote a row is listed after the restart");
        assertEquals(1, outcome.rowsAfterCommit, "and commits its row");
        assertTrue(outcome.readOnlyListed, "the prepared read-only branch is listed after the restart");
        assertEquals(XaOutcome.OK, outcome.readOnlyCommit, "and commits");
    }

    /** What happened to the two branches after the restart. */
    private record Outcome(boolean writingListed, int rowsAfterCommit, boolean readOnlyListed,
            XaOutcome readOnlyCommit) {
    }

    private Outcome prepareRestartAndFinish(XADataSource dataSource, String server) throws Exception {
        cleanUpWith = dataSource;
        XaTestSession.createTable(dataSource);
        TestXid writing = session.newXid();
        TestXid readOnly = session.newXid();
        String marker = newMarker();

        XAConnection first = dataSource.getXAConnection();
        try {
            XAResource resource = first.getXAResource();
            resource.start(writing, XAResource.TMNOFLAGS);
            insert(first, marker);
            resource.end(writing, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, resource.prepare(writing));
        } finally {
            first.close();
        }
        XAConnection second = dataSource.getXAConnection();
        try {
            XAResource resource = second.getXAResource();
            resource.start(readOnly, XAResource.TMNOFLAGS);
            read(second);
            resource.end(readOnly, XAResource.TMSUCCESS);
            assertEquals(XAResource.XA_OK, resource.prepare(readOnly));
        } finally {
            second.close();
        }
        XAResource before = session.open(dataSource).getXAResource();
        assertTrue(listed(before, writing) && listed(before, readOnly), "both branches are prepared before");

        restart(server);

        XAResource after = session.open(dataSource).getXAResource();
        boolean writingListed = listed(after, writing);
        boolean readOnlyListed = listed(after, readOnly);
        int rows = -1;
        if (writingListed) {
            after.commit(writing, false);
            rows = count(dataSource, marker);
        }
        XaOutcome readOnlyCommit = XaOutcome.of(() -> after.commit(readOnly, false));
        return new Outcome(writingListed, rows, readOnlyListed, readOnlyCommit);
    }

    /** Runs {@code scripts/db-restart.sh server} and waits, bounded, for it to finish. */
    private static void restart(String server) throws IOException, InterruptedException {
        Path script = findScript();
        Path output = Files.createTempFile("db-restart-", ".log");
        try {
            Process process = new ProcessBuilder("bash", script.toString(), server)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(RESTART_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(script + " " + server + " did not finish within " + RESTART_TIMEOUT_SECONDS + " s:\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            assertEquals(0, process.exitValue(), () -> script + " " + server + " failed:\n" + readQuietly(output));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(output unreadable: " + e + ")";
        }
    }

    /** {@code scripts/db-restart.sh} in the working directory or the nearest parent that has it. */
    private static Path findScript() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("scripts").resolve("db-restart.sh");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("scripts/db-restart.sh not found above " + Path.of("").toAbsolutePath());
    }
}
