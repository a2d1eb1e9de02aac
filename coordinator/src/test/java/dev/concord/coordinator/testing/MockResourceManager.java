package dev.concord.coordinator.testing;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.NamedXAResource;
import dev.concord.coordinator.RecoverableResource;
import dev.concord.recovery.xid.ConcordXid;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * A scriptable resource manager for engine tests: it keeps branch states like a real RM (active, idle, prepared,
 * committed, rolled back), hands out connections ({@link Connection}, a {@link NamedXAResource}), lists prepared
 * branches in {@code recover()}, and answers each operation from a script: a return value or an XA error code, for
 * the next call or for every call.
 *
 * <p>Events are recorded as {@code NAME.op#branch}, e.g. {@code A.prepare#1}, {@code A.commit1p#1},
 * {@code A.end#1:TMSUCCESS}, {@code A.open}.
 */
public final class MockResourceManager implements RecoverableResource {
    /** The XA operations a script can answer. */
    public enum Op { START, END, PREPARE, COMMIT, COMMIT_ONE_PHASE, ROLLBACK, FORGET, RECOVER }

    /** A COMMIT script code: the commit takes effect but the reply is lost (the caller sees XAER_RMFAIL). */
    public static final int COMMITTED_BUT_REPLY_LOST = -1000;

    /** Branch states inside the mock RM. */
    public enum BranchState { ACTIVE, IDLE, PREPARED, COMMITTED, ROLLED_BACK, HEURISTIC }

    private final String name;
    private final BranchKind kind;
    private final EventRecorder recorder;
    private final Map<Op, Deque<Integer>> scripts = new EnumMap<>(Op.class);
    private final Map<Op, Integer> always = new EnumMap<>(Op.class);
    private final Map<Op, Consumer<Xid>> during = new EnumMap<>(Op.class);
    private final Map<String, BranchState> states = new LinkedHashMap<>();
    private final Map<String, Xid> xids = new LinkedHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private boolean supportsJoin;
    private boolean sameRmForAll;
    private java.time.Duration resendHorizon = java.time.Duration.ZERO;

    public MockResourceManager(String name, BranchKind kind, EventRecorder recorder) {
        this.name = name;
        this.kind = kind;
        this.recorder = recorder;
    }

    public MockResourceManager(String name, EventRecorder recorder) {
        this(name, BranchKind.DATABASE, recorder);
    }

    /** The next call of {@code op} answers {@code code}: an XA error code to throw, or for PREPARE a vote. */
    public synchronized MockResourceManager next(Op op, int code) {
        scripts.computeIfAbsent(op, o -> new ArrayDeque<>()).add(code);
        return this;
    }

    /** Every call of {@code op} answers {@code code} until {@link #clearScripts()}. */
    public synchronized MockResourceManager always(Op op, int code) {
        always.put(op, code);
        return this;
    }

    /** Calls of {@code op} stop answering the code {@link #always} set; other scripts and hooks stay. */
    public synchronized MockResourceManager stopAlways(Op op) {
        always.remove(op);
        return this;
    }

    /**
     * Every call of {@code op} (PREPARE, COMMIT, COMMIT_ONE_PHASE or ROLLBACK) runs {@code hook} first, on the
     * calling thread and outside the RM's lock: to see which thread makes the call, or to hold it until something
     * else has happened. Until {@link #clearScripts()}.
     */
    public synchronized MockResourceManager during(Op op, Consumer<Xid> hook) {
        during.put(op, hook);
        return this;
    }

    public synchronized void clearScripts() {
        scripts.clear();
        always.clear();
        during.clear();
    }

    private void runHook(Op op, Xid xid) {
        Consumer<Xid> hook;
        synchronized (this) {
            hook = during.get(op);
        }
        if (hook != null) {
            hook.accept(xid);
        }
    }

    /** Connections say {@code supportsJoin()} and TMJOIN works. */
    public synchronized MockResourceManager supportingJoin() {
        supportsJoin = true;
        return this;
    }

    /** {@code isSameRM} is true between this RM's connections (whether or not join works, like MariaDB). */
    public synchronized MockResourceManager sameRm() {
        sameRmForAll = true;
        return this;
    }

    /** Like RocketMQ: a phase-2 call that may have arrived must not be repeated within this horizon. */
    public synchronized MockResourceManager withResendHorizon(java.time.Duration horizon) {
        resendHorizon = horizon;
        return this;
    }

    @Override
    public synchronized java.time.Duration resendHorizon() {
        return resendHorizon;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BranchKind kind() {
        return kind;
    }

    @Override
    public Lease open() {
        recorder.record(name + ".open");
        Connection c = connect();
        return new Lease() {
            @Override
            public XAResource xaResource() {
                return c;
            }

            @Override
            public void close() {
            }
        };
    }

    /** A new connection to this RM. */
    public Connection connect() {
        return new Connection(connections.incrementAndGet());
    }

    /** A participant's branch prepared on a connection of its own (start, end, prepare), as recovery finds it. */
    public void seedPrepared(Xid xid) throws XAException {
        Connection c = connect();
        c.start(xid, XAResource.TMNOFLAGS);
        c.end(xid, XAResource.TMSUCCESS);
        c.prepare(xid);
    }

    /** The RM's state of a branch, or null if it never saw it. */
    public synchronized BranchState state(int branch, dev.concord.recovery.xid.Gtrid gtrid) {
        return states.get(key(new ConcordXid(gtrid, branch)));
    }

    /** States of every branch this RM saw. */
    public synchronized Map<String, BranchState> states() {
        return new LinkedHashMap<>(states);
    }

    /** Branches currently prepared. */
    public synchronized List<Xid> prepared() {
        List<Xid> out = new ArrayList<>();
        states.forEach((k, s) -> {
            if (s == BranchState.PREPARED || s == BranchState.HEURISTIC) {
                out.add(xids.get(k));
            }
        });
        return out;
    }

    private static String key(Xid xid) {
        ConcordXid c = ConcordXid.from(xid);
        return c != null ? c.gtrid() + "#" + c.branch() : xid.toString();
    }

    private static String label(Xid xid) {
        ConcordXid c = ConcordXid.from(xid);
        return c != null ? "#" + c.branch() : "#?";
    }

    private synchronized Integer scripted(Op op) {
        Deque<Integer> q = scripts.get(op);
        if (q != null && !q.isEmpty()) {
            return q.poll();
        }
        return always.get(op);
    }

    private static XAException xa(int code) {
        XAException e = new XAException("scripted " + code);
        e.errorCode = code;
        return e;
    }

    /** One connection (XAResource) of the mock RM. */
    public final class Connection implements NamedXAResource {
        private final int id;

        Connection(int id) {
            this.id = id;
        }

        public MockResourceManager rm() {
            return MockResourceManager.this;
        }

        @Override
        public String resourceName() {
            return name;
        }

        @Override
        public BranchKind kind() {
            return kind;
        }

        @Override
        public boolean supportsJoin() {
            return supportsJoin;
        }

        @Override
        public void start(Xid xid, int flags) throws XAException {
            String f = flags == TMJOIN ? ":TMJOIN" : flags == TMRESUME ? ":TMRESUME" : "";
            recorder.record(name + ".start" + label(xid) + f);
            Integer code = scripted(Op.START);
            if (code != null) {
                throw xa(code);
            }
            synchronized (MockResourceManager.this) {
                BranchState s = states.get(key(xid));
                if (flags == TMJOIN) {
                    if (!supportsJoin || s == null) {
                        throw xa(XAException.XAER_INVAL);
                    }
                } else if (flags == TMRESUME) {
                    if (s != BranchState.IDLE && s != BranchState.ACTIVE) {
                        throw xa(XAException.XAER_PROTO);
                    }
                } else if (s != null) {
                    throw xa(XAException.XAER_DUPID);
                }
                states.put(key(xid), BranchState.ACTIVE);
                xids.put(key(xid), xid);
            }
        }

        @Override
        public void end(Xid xid, int flags) throws XAException {
            String f = flags == TMSUCCESS ? "TMSUCCESS" : flags == TMFAIL ? "TMFAIL" : flags == TMSUSPEND ? "TMSUSPEND" : "" + flags;
            recorder.record(name + ".end" + label(xid) + ":" + f);
            Integer code = scripted(Op.END);
            if (code != null) {
                throw xa(code);
            }
            synchronized (MockResourceManager.this) {
                states.put(key(xid), BranchState.IDLE);
            }
        }

        @Override
        public int prepare(Xid xid) throws XAException {
            recorder.record(name + ".prepare" + label(xid));
            runHook(Op.PREPARE, xid);
            Integer code = scripted(Op.PREPARE);
            synchronized (MockResourceManager.this) {
                if (code != null && code != XA_OK && code != XA_RDONLY) {
                    if (code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND) {
                        states.put(key(xid), BranchState.ROLLED_BACK);
                    }
                    throw xa(code);
                }
                if (code != null && code == XA_RDONLY) {
                    states.put(key(xid), BranchState.COMMITTED);
                    return XA_RDONLY;
                }
                states.put(key(xid), BranchState.PREPARED);
                return XA_OK;
            }
        }

        @Override
        public void commit(Xid xid, boolean onePhase) throws XAException {
            recorder.record(name + (onePhase ? ".commit1p" : ".commit") + label(xid));
            runHook(onePhase ? Op.COMMIT_ONE_PHASE : Op.COMMIT, xid);
            Integer code = scripted(onePhase ? Op.COMMIT_ONE_PHASE : Op.COMMIT);
            synchronized (MockResourceManager.this) {
                BranchState s = states.get(key(xid));
                if (code != null && code == COMMITTED_BUT_REPLY_LOST) {
                    states.put(key(xid), BranchState.COMMITTED);
                    throw xa(XAException.XAER_RMFAIL);
                }
                if (code != null) {
                    if (code == XAException.XA_HEURRB || code == XAException.XA_HEURMIX
                            || code == XAException.XA_HEURHAZ || code == XAException.XA_HEURCOM) {
                        states.put(key(xid), BranchState.HEURISTIC);
                    }
                    throw xa(code);
                }
                if (s == null || s == BranchState.COMMITTED || s == BranchState.ROLLED_BACK) {
                    throw xa(XAException.XAER_NOTA);
                }
                states.put(key(xid), BranchState.COMMITTED);
            }
        }

        @Override
        public void rollback(Xid xid) throws XAException {
            recorder.record(name + ".rollback" + label(xid));
            runHook(Op.ROLLBACK, xid);
            Integer code = scripted(Op.ROLLBACK);
            synchronized (MockResourceManager.this) {
                if (code != null) {
                    if (code == XAException.XA_HEURCOM || code == XAException.XA_HEURMIX || code == XAException.XA_HEURHAZ) {
                        states.put(key(xid), BranchState.HEURISTIC);
                    }
                    throw xa(code);
                }
                BranchState s = states.get(key(xid));
                if (s == null || s == BranchState.COMMITTED || s == BranchState.ROLLED_BACK) {
                    throw xa(XAException.XAER_NOTA);
                }
                states.put(key(xid), BranchState.ROLLED_BACK);
            }
        }

        @Override
        public void forget(Xid xid) throws XAException {
            recorder.record(name + ".forget" + label(xid));
            Integer code = scripted(Op.FORGET);
            if (code != null) {
                throw xa(code);
            }
            synchronized (MockResourceManager.this) {
                states.remove(key(xid));
            }
        }

        @Override
        public Xid[] recover(int flag) throws XAException {
            recorder.record(name + ".recover");
            Integer code = scripted(Op.RECOVER);
            if (code != null) {
                throw xa(code);
            }
            synchronized (MockResourceManager.this) {
                List<Xid> out = new ArrayList<>();
                states.forEach((k, s) -> {
                    if (s == BranchState.PREPARED || s == BranchState.HEURISTIC) {
                        out.add(xids.get(k));
                    }
                });
                return out.toArray(new Xid[0]);
            }
        }

        @Override
        public boolean isSameRM(XAResource other) {
            return other instanceof Connection c && c.rm() == MockResourceManager.this && (sameRmForAll || c == this);
        }

        @Override
        public int getTransactionTimeout() {
            return 0;
        }

        @Override
        public boolean setTransactionTimeout(int seconds) {
            return false;
        }

        @Override
        public String toString() {
            return name + "/conn" + id;
        }
    }
}
