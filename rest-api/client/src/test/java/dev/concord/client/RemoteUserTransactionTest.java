package dev.concord.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.NotSupportedException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.SystemException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's side of the JTA contract against a scripted service: which JTA exception each answer becomes, and
 * that the thread is dissociated after every commit and rollback. The real service is exercised in
 * integration-tests ({@code dev.concord.it.client}).
 */
class RemoteUserTransactionTest {
    private static final String ID = "node-1:1795602941844:1795602939169001";
    private static final String PATH = "/v1/transactions/" + ID;
    private static final String TOKEN = "client-token-for-unit-tests";

    private ScriptedService service;
    private RemoteUserTransaction ut;

    @BeforeEach
    void start() throws Exception {
        service = new ScriptedService().on("POST /v1/transactions", 201, ScriptedService.tx(ID, "ACTIVE"));
        ut = new RemoteUserTransaction(new ConcordServiceClient(service.uri(), TOKEN));
    }

    @AfterEach
    void stop() throws Exception {
        if (ut.getStatus() != Status.STATUS_NO_TRANSACTION) {
            service.on("POST " + PATH + "/rollback", 200, ScriptedService.tx(ID, "ROLLED_BACK"));
            ut.rollback();
        }
        service.close();
    }

    @Test
    void withoutATransactionCommitRollbackAndSetRollbackOnlyAreIllegalStateAndNothingIsSent() throws Exception {
        assertEquals(Status.STATUS_NO_TRANSACTION, ut.getStatus());
        assertThrows(IllegalStateException.class, ut::commit);
        assertThrows(IllegalStateException.class, ut::rollback);
        assertThrows(IllegalStateException.class, ut::setRollbackOnly);
        assertEquals(0, service.requests.size(), service.requests::toString);
    }

    @Test
    void beginTwiceIsNotSupportedAndKeepsTheFirstTransaction() throws Exception {
        ut.begin();
        assertEquals(ID, RemoteUserTransaction.currentTransactionId());
        assertThrows(NotSupportedException.class, ut::begin);
        assertEquals(ID, RemoteUserTransaction.currentTransactionId());
        assertEquals(1, service.requests.size(), service.requests::toString);
        assertTrue(service.requests.get(0).endsWith("auth=Bearer " + TOKEN), service.requests::toString);
    }

    @Test
    void theThreadTimeoutGoesWithBeginAndANegativeOneIsASystemException() throws Exception {
        assertThrows(SystemException.class, () -> ut.setTransactionTimeout(-1));
        ut.setTransactionTimeout(7);
        ut.begin();
        assertTrue(service.requests.get(0).contains("{\"timeoutSeconds\":7}"), service.requests::toString);
    }

    @Test
    void aRefusedBeginIsASystemExceptionWithTheServiceDetail() throws Exception {
        service.on("POST /v1/transactions", 400, ScriptedService.problem("invalid-request", 400,
                "timeoutSeconds must be between 1 and 3600, got 99999", null));
        ut.setTransactionTimeout(99999);
        SystemException e = assertThrows(SystemException.class, ut::begin);
        assertTrue(e.getMessage().contains("timeoutSeconds must be between 1 and 3600"), e::getMessage);
        assertNull(RemoteUserTransaction.currentTransactionId());
    }

    @Test
    void aCommitEndingInRollbackIsARollbackExceptionAndDissociates() throws Exception {
        service.on("POST " + PATH + "/commit", 409, ScriptedService.problem("rolled-back", 409,
                "timed out after 2 s", "ROLLED_BACK"));
        ut.begin();
        RollbackException e = assertThrows(RollbackException.class, ut::commit);
        assertTrue(e.getMessage().contains("timed out after 2 s"), e::getMessage);
        assertEquals(Status.STATUS_NO_TRANSACTION, ut.getStatus());
    }

    @Test
    void aHeuristicOutcomeIsAHeuristicMixedException() throws Exception {
        service.on("POST " + PATH + "/commit", 409, ScriptedService.problem("heuristic-outcome", 409,
                "branch 2 decided on its own", "HEURISTIC_MIXED"));
        ut.begin();
        assertThrows(HeuristicMixedException.class, ut::commit);
        assertNull(RemoteUserTransaction.currentTransactionId());
    }

    @Test
    void rollbackOnlyRollsBackAtTheServiceOnCommit() throws Exception {
        service.on("POST " + PATH + "/rollback", 200, ScriptedService.tx(ID, "ROLLED_BACK"))
                .on("GET " + PATH, 200, ScriptedService.tx(ID, "ACTIVE"));
        ut.begin();
        ut.setRollbackOnly();
        assertEquals(Status.STATUS_MARKED_ROLLBACK, ut.getStatus());
        assertThrows(RollbackException.class, ut::commit);
        assertTrue(service.requests.stream().anyMatch(r -> r.startsWith("POST " + PATH + "/rollback")),
                service.requests::toString);
        assertTrue(service.requests.stream().noneMatch(r -> r.startsWith("POST " + PATH + "/commit")),
                service.requests::toString);
    }

    @Test
    void aTransactionTheServiceForgotIsAnsweredFromItsOutcomeQuery() throws Exception {
        service.on("POST " + PATH + "/commit", 404, ScriptedService.problem("not-found", 404, "no transaction", null))
                .on("GET " + PATH + "/outcome", 200, "{\"transaction\":\"" + ID + "\",\"outcome\":\"ROLLBACK\"}");
        ut.begin();
        assertThrows(RollbackException.class, ut::commit);
        service.on("GET " + PATH + "/outcome", 200, "{\"transaction\":\"" + ID + "\",\"outcome\":\"COMMIT\"}");
        ut.begin();
        ut.commit();
        service.on("GET " + PATH + "/outcome", 200, "{\"transaction\":\"" + ID + "\",\"outcome\":\"UNKNOWN\"}");
        ut.begin();
        assertThrows(SystemException.class, ut::commit);
    }

    @Test
    void anUnreachableServiceIsASystemExceptionAndTheThreadIsDissociated() throws Exception {
        ut.begin();
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        RemoteUserTransaction unreachable = new RemoteUserTransaction(new ConcordServiceClient(
                URI.create("http://127.0.0.1:" + deadPort), TOKEN, Duration.ofSeconds(5)));
        assertThrows(NotSupportedException.class, unreachable::begin, "thread association is per thread, not per "
                + "UserTransaction instance");
        SystemException e = assertThrows(SystemException.class, () -> {
            service.close();
            ut.commit();
        });
        assertTrue(e.getMessage().contains("outcome is unknown"), e::getMessage);
        assertNull(RemoteUserTransaction.currentTransactionId());
        assertThrows(SystemException.class, unreachable::begin);
    }

    @Test
    void serviceStatesMapToJtaStatuses() {
        assertEquals(Status.STATUS_ACTIVE, RemoteTransaction.jtaStatus("ACTIVE"));
        assertEquals(Status.STATUS_COMMITTING, RemoteTransaction.jtaStatus("COMMITTING"));
        assertEquals(Status.STATUS_COMMITTED, RemoteTransaction.jtaStatus("COMMITTED"));
        assertEquals(Status.STATUS_ROLLEDBACK, RemoteTransaction.jtaStatus("ROLLED_BACK"));
        assertEquals(Status.STATUS_UNKNOWN, RemoteTransaction.jtaStatus("HEURISTIC_MIXED"));
    }
}
