package dev.concord.coordinator;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.xid.ConcordXid;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import javax.transaction.xa.XAResource;

/**
 * One branch of a global transaction: its XID, the resource it lives in, the XAResource objects associated with
 * it, and what prepare and phase 2 made of it. Guarded by the owning transaction's lock while the transaction is
 * active, and by its phase-2 job afterwards.
 */
public final class Branch {
    /** Association of the branch's XAResources with the XID (XA's start/end states, seen from the engine). */
    public enum Association { ACTIVE, SUSPENDED, ENDED, FAILED }

    private final ConcordXid xid;
    private final String resourceName;
    private final BranchKind kind;
    private final Map<XAResource, Association> associations = new IdentityHashMap<>(2);
    private final XAResource xaResource;
    private Vote vote;
    private byte[] recoveryData = new byte[0];
    private BranchOutcome outcome;
    private int attempts;
    private String lastError;
    private long notBeforeMillis;

    Branch(ConcordXid xid, String resourceName, BranchKind kind, XAResource xaResource) {
        this.xid = xid;
        this.resourceName = resourceName;
        this.kind = kind;
        this.xaResource = xaResource;
    }

    /** A branch known only from the log, to be finished through a resource obtained by name. */
    public static Branch fromRecord(ConcordXid xid, BranchRecord record, BranchKind kind) {
        Branch b = prepared(xid, record.resourceName(), kind);
        b.recoveryData = record.recoveryData();
        return b;
    }

    /** A branch some other party prepared: the engine has no XAResource for it and reaches it by name. */
    static Branch prepared(ConcordXid xid, String resourceName, BranchKind kind) {
        Branch b = new Branch(xid, resourceName, kind, null);
        b.vote = Vote.YES;
        return b;
    }

    public ConcordXid xid() {
        return xid;
    }

    public String resourceName() {
        return resourceName;
    }

    public BranchKind kind() {
        return kind;
    }

    /** The XAResource that started the branch; null for a branch rebuilt from the log. */
    public XAResource xaResource() {
        return xaResource;
    }

    /** The XAResources associated with this branch (the starting one and any that joined). */
    List<XAResource> associated() {
        return new ArrayList<>(associations.keySet());
    }

    /** The association of one XAResource with this branch, or null when it never was associated. */
    Association associationOf(XAResource r) {
        return associations.get(r);
    }

    void associate(XAResource r, Association a) {
        associations.put(r, a);
    }

    public Vote vote() {
        return vote;
    }

    void vote(Vote v) {
        this.vote = v;
    }

    byte[] recoveryData() {
        return recoveryData;
    }

    void recoveryData(byte[] data) {
        this.recoveryData = data == null ? new byte[0] : data;
    }

    /** The last phase-2 outcome; null before phase 2. */
    public BranchOutcome outcome() {
        return outcome;
    }

    void outcome(BranchOutcome o) {
        this.outcome = o;
    }

    /** Number of phase-2 attempts so far. */
    public int attempts() {
        return attempts;
    }

    void countAttempt() {
        attempts++;
    }

    /** No phase-2 call before this time (see {@link RecoverableResource#resendHorizon()}); 0 for none. */
    public long notBeforeMillis() {
        return notBeforeMillis;
    }

    void notBefore(long millis) {
        this.notBeforeMillis = Math.max(notBeforeMillis, millis);
    }

    /** The last phase-2 error, or null. */
    public String lastError() {
        return lastError;
    }

    void lastError(String e) {
        this.lastError = e;
    }

    BranchRecord toRecord() {
        return new BranchRecord(resourceName, xid.branch(), recoveryData);
    }

    @Override
    public String toString() {
        return resourceName + "#" + xid.branch();
    }
}
