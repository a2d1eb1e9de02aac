package dev.concord.xa.rocketmq;

import java.time.Duration;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * Phase 2 of one branch, retried as the engine would while the resource cannot take it yet (XAER_RMFAIL: a broker
 * that is restarting), for tests that drive a {@link RocketMqXAResource} directly.
 */
public final class PhaseTwoRetries {
    private PhaseTwoRetries() {
    }

    /** Commits (two-phase), retrying XAER_RMFAIL every 200 ms for at most {@code max}. */
    public static void commit(XAResource xa, Xid xid, Duration max) throws Exception {
        end(xa, xid, true, max);
    }

    /** Rolls back, retrying XAER_RMFAIL every 200 ms for at most {@code max}. */
    public static void rollback(XAResource xa, Xid xid, Duration max) throws Exception {
        end(xa, xid, false, max);
    }

    private static void end(XAResource xa, Xid xid, boolean commit, Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            try {
                if (commit) {
                    xa.commit(xid, false);
                } else {
                    xa.rollback(xid);
                }
                return;
            } catch (XAException e) {
                if (e.errorCode != XAException.XAER_RMFAIL || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }
}
