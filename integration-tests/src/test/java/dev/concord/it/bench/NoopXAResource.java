package dev.concord.it.bench;

import dev.concord.coordinator.NamedXAResource;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * A resource manager that does no I/O: {@code prepare} votes {@link XAResource#XA_OK}, {@code commit} and
 * {@code rollback} do nothing and {@code recover} finds nothing. Two of them per transaction is Narayana's own
 * benchmark shape: what is left to measure is the transaction manager and its log.
 *
 * <p>Two instances are the same resource manager when they have the same name, so the two branches of a
 * transaction (different names) are never joined. Not {@link java.io.Serializable}: Narayana would otherwise
 * serialize it into every log record.
 */
final class NoopXAResource implements NamedXAResource {
    private final String name;
    private int timeoutSeconds;

    NoopXAResource(String name) {
        this.name = name;
    }

    @Override
    public String resourceName() {
        return name;
    }

    @Override
    public void start(Xid xid, int flags) {
    }

    @Override
    public void end(Xid xid, int flags) {
    }

    @Override
    public int prepare(Xid xid) {
        return XA_OK;
    }

    @Override
    public void commit(Xid xid, boolean onePhase) {
    }

    @Override
    public void rollback(Xid xid) {
    }

    @Override
    public void forget(Xid xid) {
    }

    @Override
    public Xid[] recover(int flag) {
        return new Xid[0];
    }

    @Override
    public boolean isSameRM(XAResource other) {
        return other instanceof NoopXAResource n && n.name.equals(name);
    }

    @Override
    public int getTransactionTimeout() {
        return timeoutSeconds;
    }

    @Override
    public boolean setTransactionTimeout(int seconds) {
        this.timeoutSeconds = seconds;
        return true;
    }

    @Override
    public String toString() {
        return "NoopXAResource[" + name + "]";
    }
}
