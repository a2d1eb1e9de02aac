package dev.concord.xa.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.BranchKind;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import java.util.List;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The XA state machine of the RocketMQ XAResource on the paths that need no broker. */
class RocketMqXAResourceStateTest {
    private final RocketMqResource resource = new RocketMqResource(RocketMqResourceConfig.builder().name("mq")
            .namesrvAddress("127.0.0.1:1").producerGroup("g").build(), OutcomeSource.unknown());
    private final RocketMqXAResource xa = new RocketMqXAResource(resource);
    private final ConcordXid xid = new ConcordXid(Gtrid.of("node", 1L, 7L), 3);
    private final TransactionalMessage message = TransactionalMessage.of("orders", new byte[] {1});

    @AfterEach
    void close() {
        resource.close();
    }

    @Test
    void namedAsAMessageResource() {
        assertEquals("mq", xa.resourceName());
        assertEquals(BranchKind.MESSAGE, xa.kind());
        assertEquals(BranchKind.MESSAGE, resource.kind());
        assertFalse(xa.supportsJoin());
        assertFalse(xa.isSameRM(new RocketMqXAResource(resource)));
        assertTrue(xa.isSameRM(xa));
        assertEquals(0, xa.recover(XAResource.TMSTARTRSCAN).length);
    }

    @Test
    void messagesNeedAnActiveBranch() throws XAException {
        assertThrows(IllegalStateException.class, () -> xa.addMessage(message));
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(message);
        xa.end(xid, XAResource.TMSUSPEND);
        assertThrows(IllegalStateException.class, () -> xa.addMessage(message));
        xa.start(xid, XAResource.TMRESUME);
        xa.addMessage(message);
        assertEquals(2, xa.messages(xid).size());
    }

    @Test
    void rollbackBeforePrepareDropsTheMessages() throws XAException {
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(message);
        xa.end(xid, XAResource.TMSUCCESS);
        xa.rollback(xid);
        assertEquals(List.of(), xa.messages(xid));
        assertEquals(XAException.XAER_NOTA, assertThrows(XAException.class, () -> xa.rollback(xid)).errorCode);
    }

    @Test
    void failedBranchVotesNo() throws XAException {
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.addMessage(message);
        xa.end(xid, XAResource.TMFAIL);
        assertEquals(XAException.XA_RBROLLBACK, assertThrows(XAException.class, () -> xa.prepare(xid)).errorCode);
    }

    @Test
    void protocolErrors() throws XAException {
        assertEquals(XAException.XAER_NOTA, assertThrows(XAException.class, () -> xa.commit(xid, false)).errorCode);
        assertEquals(XAException.XAER_NOTA, assertThrows(XAException.class, () -> xa.prepare(xid)).errorCode);
        xa.start(xid, XAResource.TMNOFLAGS);
        assertEquals(XAException.XAER_DUPID,
                assertThrows(XAException.class, () -> xa.start(xid, XAResource.TMNOFLAGS)).errorCode);
        assertEquals(XAException.XAER_PROTO, assertThrows(XAException.class, () -> xa.prepare(xid)).errorCode);
        assertEquals(XAException.XAER_PROTO, assertThrows(XAException.class, () -> xa.commit(xid, false)).errorCode);
    }

    @Test
    void emptyBranchIsReadOnlyAndOnePhaseCommitOfItIsANoOp() throws XAException {
        xa.start(xid, XAResource.TMNOFLAGS);
        xa.end(xid, XAResource.TMSUCCESS);
        assertEquals(XAResource.XA_RDONLY, xa.prepare(xid));
        ConcordXid other = new ConcordXid(xid.gtrid(), 4);
        xa.start(other, XAResource.TMNOFLAGS);
        xa.end(other, XAResource.TMSUCCESS);
        xa.commit(other, true);
    }

    @Test
    void restoredBranchIsPreparedAndBadRecoveryDataIsRefused() {
        HalfMessage h = new HalfMessage("b", "127.0.0.1:10911", 100, 1, "id", "tx", "orders");
        xa.restoreRecoveryData(xid, HalfMessage.encode("g", List.of(h)));
        assertEquals(1, HalfMessage.decode(xa.recoveryData(xid)).halves().size());
        assertThrows(IllegalArgumentException.class, () -> xa.restoreRecoveryData(xid, new byte[] {9, 9}));
    }
}
