package dev.concord.recovery.xid;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issues gtrids for one node.
 *
 * <p>The sequence starts at the factory's creation time in microseconds and counts up, so a restarted node
 * continues above every sequence it issued before unless the wall clock went back by more than the time the
 * previous run lasted; together with the begin time in the gtrid that keeps ids unique across restarts.
 */
public final class XidFactory {
    private final String nodeId;
    private final byte[] nodeBytes;
    private final Clock clock;
    private final AtomicLong sequence;

    public XidFactory(String nodeId, Clock clock) {
        Gtrid.validateNodeId(nodeId);
        this.nodeId = nodeId;
        this.nodeBytes = nodeId.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        this.clock = clock;
        this.sequence = new AtomicLong(clock.millis() * 1000);
    }

    public XidFactory(String nodeId) {
        this(nodeId, Clock.systemUTC());
    }

    public String nodeId() {
        return nodeId;
    }

    /** A new gtrid stamped with the current time. */
    public Gtrid newGtrid() {
        return Gtrid.ofValidNode(nodeId, nodeBytes, clock.millis(), sequence.incrementAndGet());
    }

    /** True when the XID is Concord's and was issued by this node. */
    public boolean isOurs(javax.transaction.xa.Xid xid) {
        ConcordXid c = ConcordXid.from(xid);
        return c != null && c.gtrid().nodeId().equals(nodeId);
    }
}
