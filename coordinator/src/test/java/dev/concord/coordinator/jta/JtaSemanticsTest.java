package dev.concord.coordinator.jta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.testing.EngineFixture;
import dev.concord.coordinator.testing.MockResourceManager;
import jakarta.transaction.InvalidTransactionException;
import jakarta.transaction.NotSupportedException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import jakarta.transaction.UserTransaction;
import java.util.concurrent.CompletableFuture;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each JTA method's documented exception in each wrong state, and thread association. */
class JtaSemanticsTest {
    private final EngineFixture f = new EngineFixture();
    private final ConcordTransactionManager tm = f.tm;
    private final UserTransaction ut = new ConcordUserTransaction(tm);
    private final ConcordTransactionSynchronizationRegistry tsr = new ConcordTransactionSynchronizationRegistry(tm);

    @AfterEach
    void close() throws Exception {
        if (tm.getTransaction() != null) {
            tm.suspend();
        }
        f.close();
    }

    private static final Synchronization NOOP = new Synchronization() {
        @Override
        public void beforeCompletion() {
        }

        @Override
        public void afterCompletion(int status) {
        }
    };

    // ---------------------------------------------------------------- TransactionManager / UserTransaction

    @Test
    void beginTwiceIsANestedTransactionAndNotSupported() throws Exception {
        tm.begin();
        assertThrows(NotSupportedException.class, tm::begin);
        assertThrows(NotSupportedException.class, ut::begin);
        tm.rollback();
    }

    @Test
    void commitRollbackAndRollbackOnlyWithoutTransactionAreIllegalState() {
        assertThrows(IllegalStateException.class, tm::commit);
        assertThrows(IllegalStateException.class, tm::rollback);
        assertThrows(IllegalStateException.class, tm::setRollbackOnly);
        assertThrows(IllegalStateException.class, ut::commit);
        assertThrows(IllegalStateException.class, ut::rollback);
        assertThrows(IllegalStateException.class, ut::setRollbackOnly);
    }

    @Test
    void statusFollowsTheLifecycle() throws Exception {
        assertEquals(Status.STATUS_NO_TRANSACTION, tm.getStatus());
        assertEquals(Status.STATUS_NO_TRANSACTION, ut.getStatus());
        ut.begin();
        assertEquals(Status.STATUS_ACTIVE, ut.getStatus());
        Transaction tx = tm.getTransaction();
        ut.setRollbackOnly();
        assertEquals(Status.STATUS_MARKED_ROLLBACK, tm.getStatus());
        ut.rollback();
        assertEquals(Status.STATUS_NO_TRANSACTION, tm.getStatus());
        assertEquals(Status.STATUS_ROLLEDBACK, tx.getStatus());
        ut.begin();
        Transaction tx2 = tm.getTransaction();
        ut.commit();
        assertEquals(Status.STATUS_COMMITTED, tx2.getStatus());
    }

    @Test
    void commitAlwaysDisassociatesTheThreadEvenWhenItRollsBack() throws Exception {
        tm.begin();
        tm.setRollbackOnly();
        assertThrows(RollbackException.class, tm::commit);
        assertNull(tm.getTransaction());
        tm.begin();
        tm.commit();
    }

    @Test
    void negativeTimeoutIsRefusedAndZeroRestoresTheDefault() throws Exception {
        assertThrows(SystemException.class, () -> tm.setTransactionTimeout(-1));
        assertThrows(SystemException.class, () -> ut.setTransactionTimeout(Integer.MAX_VALUE));
        ut.setTransactionTimeout(7);
        tm.begin();
        assertEquals(7, f.tm.currentTransaction().timeout().toSeconds());
        tm.rollback();
        ut.setTransactionTimeout(0);
        tm.begin();
        assertEquals(30, f.tm.currentTransaction().timeout().toSeconds());
        tm.rollback();
    }

    @Test
    void suspendAndResumeMoveTheAssociation() throws Exception {
        assertNull(tm.suspend(), "suspend without a transaction returns null");
        tm.begin();
        Transaction tx = tm.suspend();
        assertNotNull(tx);
        assertEquals(Status.STATUS_NO_TRANSACTION, tm.getStatus());
        CompletableFuture.runAsync(() -> {
            try {
                tm.resume(tx);
                assertSame(tx, tm.getTransaction());
                tm.commit();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).join();
        assertEquals(Status.STATUS_COMMITTED, tx.getStatus());
    }

    @Test
    void resumeWhileAssociatedIsIllegalState() throws Exception {
        tm.begin();
        Transaction first = tm.suspend();
        tm.begin();
        assertThrows(IllegalStateException.class, () -> tm.resume(first));
        tm.rollback();
        tm.resume(first);
        tm.rollback();
    }

    @Test
    void resumeOfEndedOrForeignTransactionIsInvalid() throws Exception {
        tm.begin();
        Transaction tx = tm.suspend();
        tx.rollback();
        assertThrows(InvalidTransactionException.class, () -> tm.resume(tx));
        assertThrows(InvalidTransactionException.class, () -> tm.resume(null));
        assertThrows(InvalidTransactionException.class, () -> tm.resume(foreignTransaction()));
    }

    // ---------------------------------------------------------------- Transaction

    @Test
    void enlistAfterRollbackOnlyIsRollbackException() throws Exception {
        MockResourceManager a = f.database("A");
        tm.begin();
        Transaction tx = tm.getTransaction();
        tx.setRollbackOnly();
        assertThrows(RollbackException.class, () -> tx.enlistResource(a.connect()));
        assertThrows(RollbackException.class, () -> tx.registerSynchronization(NOOP));
        tm.rollback();
    }

    @Test
    void enlistDelistAndRegisterAfterCompletionAreIllegalState() throws Exception {
        MockResourceManager a = f.database("A");
        tm.begin();
        Transaction tx = tm.getTransaction();
        MockResourceManager.Connection c = a.connect();
        tx.enlistResource(c);
        tm.commit();
        assertThrows(IllegalStateException.class, () -> tx.enlistResource(a.connect()));
        assertThrows(IllegalStateException.class, () -> tx.delistResource(c, XAResource.TMSUCCESS));
        assertThrows(IllegalStateException.class, () -> tx.registerSynchronization(NOOP));
        assertThrows(IllegalStateException.class, tx::commit);
        assertThrows(IllegalStateException.class, tx::rollback);
        assertThrows(IllegalStateException.class, tx::setRollbackOnly);
    }

    @Test
    void delistOfAResourceThatIsNotEnlistedIsIllegalState() throws Exception {
        MockResourceManager a = f.database("A");
        tm.begin();
        Transaction tx = tm.getTransaction();
        assertThrows(IllegalStateException.class, () -> tx.delistResource(a.connect(), XAResource.TMSUCCESS));
        MockResourceManager.Connection c = a.connect();
        tx.enlistResource(c);
        assertThrows(IllegalArgumentException.class, () -> tx.delistResource(c, XAResource.TMJOIN));
        tx.delistResource(c, XAResource.TMSUCCESS);
        assertThrows(IllegalStateException.class, () -> tx.delistResource(c, XAResource.TMSUCCESS));
        tm.commit();
    }

    @Test
    void nullArgumentsAreRefused() throws Exception {
        tm.begin();
        Transaction tx = tm.getTransaction();
        assertThrows(IllegalArgumentException.class, () -> tx.enlistResource(null));
        assertThrows(IllegalArgumentException.class, () -> tx.registerSynchronization(null));
        assertThrows(NullPointerException.class, () -> tsr.putResource(null, "v"));
        tm.rollback();
    }

    @Test
    void enlistingTheSameActiveResourceTwiceIsANoOp() throws Exception {
        MockResourceManager a = f.database("A");
        tm.begin();
        Transaction tx = tm.getTransaction();
        MockResourceManager.Connection c = a.connect();
        assertTrue(tx.enlistResource(c));
        assertTrue(tx.enlistResource(c));
        assertEquals(1, f.tm.currentTransaction().branches().size());
        tm.commit();
    }

    // ---------------------------------------------------------------- TransactionSynchronizationRegistry

    @Test
    void registryWithoutTransactionIsIllegalStateExceptForKeyAndStatus() {
        assertNull(tsr.getTransactionKey());
        assertEquals(Status.STATUS_NO_TRANSACTION, tsr.getTransactionStatus());
        assertThrows(IllegalStateException.class, () -> tsr.putResource("k", "v"));
        assertThrows(IllegalStateException.class, () -> tsr.getResource("k"));
        assertThrows(IllegalStateException.class, () -> tsr.registerInterposedSynchronization(NOOP));
        assertThrows(IllegalStateException.class, tsr::setRollbackOnly);
        assertThrows(IllegalStateException.class, tsr::getRollbackOnly);
    }

    @Test
    void registryResourcesAndRollbackOnlyBelongToTheCurrentTransaction() throws Exception {
        tm.begin();
        Object key = tsr.getTransactionKey();
        assertNotNull(key);
        tsr.putResource("k", "v");
        assertEquals("v", tsr.getResource("k"));
        assertFalse(tsr.getRollbackOnly());
        Transaction first = tm.suspend();
        tm.begin();
        assertNull(tsr.getResource("k"), "resources are per transaction");
        assertFalse(key.equals(tsr.getTransactionKey()));
        tm.rollback();
        tm.resume(first);
        tsr.setRollbackOnly();
        assertTrue(tsr.getRollbackOnly());
        assertEquals(Status.STATUS_MARKED_ROLLBACK, tsr.getTransactionStatus());
        tm.rollback();
    }

    @Test
    void interposedSynchronizationAfterCompletionIsIllegalState() throws Exception {
        tm.begin();
        GlobalTransaction tx = tm.currentTransaction();
        tm.commit();
        assertThrows(IllegalStateException.class, () -> tx.registerInterposedSynchronization(NOOP));
    }

    private static Transaction foreignTransaction() {
        return new Transaction() {
            @Override
            public void commit() {
            }

            @Override
            public boolean delistResource(XAResource xaRes, int flag) {
                return false;
            }

            @Override
            public boolean enlistResource(XAResource xaRes) {
                return false;
            }

            @Override
            public int getStatus() {
                return Status.STATUS_ACTIVE;
            }

            @Override
            public void registerSynchronization(Synchronization sync) {
            }

            @Override
            public void rollback() {
            }

            @Override
            public void setRollbackOnly() {
            }
        };
    }
}
