package dev.concord.coordinator;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;

/**
 * The one place where XA return values and {@link XAException} error codes become protocol outcomes.
 *
 * <p>Driver facts behind the choices (see the XA conformance tests): MariaDB and PostgreSQL answer XAER_NOTA for an
 * unknown or finished XID, and MariaDB also answers XAER_NOTA for a prepared branch still attached to another
 * session, so XAER_NOTA on commit proves nothing until a recovery scan agrees; pgjdbc answers XAER_RMERR for a
 * branch another connection already committed, which is treated the same way. A one-phase commit of an unknown XID
 * gives XAER_INVAL (MariaDB) or XAER_RMERR (PostgreSQL): the work was not committed.
 */
public final class XaOutcomes {
    private XaOutcomes() {
    }

    /** The vote for a value returned by {@link XAResource#prepare}. */
    public static Vote prepareResult(int returned) {
        return returned == XAResource.XA_RDONLY ? Vote.READ_ONLY : Vote.YES;
    }

    /** The vote for an exception thrown by prepare. */
    public static Vote prepareFailure(Throwable failure) {
        if (failure instanceof XAException xa && isRollbackCode(xa.errorCode)) {
            return Vote.NO;
        }
        return Vote.FAILED;
    }

    /** The outcome of a two-phase commit call that threw. */
    public static BranchOutcome commitFailure(Throwable failure) {
        if (!(failure instanceof XAException xa)) {
            return BranchOutcome.RETRY_FRESH;
        }
        int code = xa.errorCode;
        if (isRollbackCode(code)) {
            return BranchOutcome.HEURISTIC_ROLLBACK;
        }
        BranchOutcome heuristic = heuristic(code, true);
        if (heuristic != null) {
            return heuristic;
        }
        switch (code) {
            case XAException.XA_RETRY:
                return BranchOutcome.RETRY;
            case XAException.XAER_RMFAIL:
                return BranchOutcome.RETRY_FRESH;
            case XAException.XAER_NOTA:
            case XAException.XAER_RMERR:
                // pgjdbc answers XAER_RMERR where MariaDB answers XAER_NOTA (a branch another connection already
                // committed); either way only the recovery scan can tell whether the branch is still prepared.
                return BranchOutcome.VERIFY_BY_SCAN;
            default:
                // XAER_PROTO, XAER_INVAL: the resource cannot say what became of the branch.
                return BranchOutcome.HEURISTIC_HAZARD;
        }
    }

    /** The outcome of a one-phase commit call that threw. */
    public static BranchOutcome onePhaseCommitFailure(Throwable failure) {
        if (isOnePhaseRollback(failure)) {
            return BranchOutcome.HEURISTIC_ROLLBACK;
        }
        if (!(failure instanceof XAException xa)) {
            return BranchOutcome.HEURISTIC_HAZARD;
        }
        BranchOutcome heuristic = heuristic(xa.errorCode, true);
        // XA_RETRY, XAER_RMFAIL, XAER_PROTO: the commit may or may not have happened.
        return heuristic != null ? heuristic : BranchOutcome.HEURISTIC_HAZARD;
    }

    /**
     * True when a one-phase failure means the resource rolled back as part of normal XA semantics: an XA_RB* code,
     * or no such active branch (XAER_NOTA, or MariaDB's XAER_INVAL and PostgreSQL's XAER_RMERR): nothing of it was
     * committed.
     */
    public static boolean isOnePhaseRollback(Throwable failure) {
        if (!(failure instanceof XAException xa)) {
            return false;
        }
        int code = xa.errorCode;
        return isRollbackCode(code) || code == XAException.XAER_NOTA || code == XAException.XAER_INVAL
                || code == XAException.XAER_RMERR;
    }

    /** The outcome of a rollback call that threw. */
    public static BranchOutcome rollbackFailure(Throwable failure) {
        if (!(failure instanceof XAException xa)) {
            return BranchOutcome.RETRY_FRESH;
        }
        int code = xa.errorCode;
        if (isRollbackCode(code)) {
            return BranchOutcome.DONE;
        }
        BranchOutcome heuristic = heuristic(code, false);
        if (heuristic != null) {
            return heuristic;
        }
        switch (code) {
            case XAException.XAER_NOTA:
                // Usually nothing is left to roll back, but MariaDB also answers XAER_NOTA for a branch still
                // attached to the session that prepared it: only the recovery scan can tell.
                return BranchOutcome.VERIFY_BY_SCAN;
            case XAException.XA_RETRY:
            case XAException.XAER_RMERR:
                return BranchOutcome.RETRY;
            case XAException.XAER_RMFAIL:
                return BranchOutcome.RETRY_FRESH;
            default:
                return BranchOutcome.HEURISTIC_HAZARD;
        }
    }

    /**
     * The outcome of a heuristic code, or null for any other code. A heuristic that matches the decision is done
     * (and forgotten at once); one that contradicts it is a heuristic outcome of the branch.
     */
    private static BranchOutcome heuristic(int code, boolean decidedCommit) {
        switch (code) {
            case XAException.XA_HEURCOM:
                return decidedCommit ? BranchOutcome.DONE_FORGET : BranchOutcome.HEURISTIC_COMMIT;
            case XAException.XA_HEURRB:
                return decidedCommit ? BranchOutcome.HEURISTIC_ROLLBACK : BranchOutcome.DONE_FORGET;
            case XAException.XA_HEURMIX:
                return BranchOutcome.HEURISTIC_MIXED;
            case XAException.XA_HEURHAZ:
                return BranchOutcome.HEURISTIC_HAZARD;
            default:
                return null;
        }
    }

    /** True for XA_RBBASE..XA_RBEND: the resource rolled the branch back. */
    public static boolean isRollbackCode(int code) {
        return code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND;
    }

    /** A readable name for an XA error code, for messages and logs. */
    public static String codeName(int code) {
        switch (code) {
            case XAException.XA_HEURCOM: return "XA_HEURCOM";
            case XAException.XA_HEURRB: return "XA_HEURRB";
            case XAException.XA_HEURMIX: return "XA_HEURMIX";
            case XAException.XA_HEURHAZ: return "XA_HEURHAZ";
            case XAException.XA_RETRY: return "XA_RETRY";
            case XAException.XA_RDONLY: return "XA_RDONLY";
            case XAException.XAER_RMERR: return "XAER_RMERR";
            case XAException.XAER_NOTA: return "XAER_NOTA";
            case XAException.XAER_INVAL: return "XAER_INVAL";
            case XAException.XAER_PROTO: return "XAER_PROTO";
            case XAException.XAER_RMFAIL: return "XAER_RMFAIL";
            case XAException.XAER_DUPID: return "XAER_DUPID";
            case XAException.XAER_OUTSIDE: return "XAER_OUTSIDE";
            case XAException.XAER_ASYNC: return "XAER_ASYNC";
            default:
                return isRollbackCode(code) ? "XA_RB(" + code + ")" : "XA(" + code + ")";
        }
    }

    /** Describes a failure for logs and exception messages. */
    public static String describe(Throwable failure) {
        if (failure instanceof XAException xa) {
            return codeName(xa.errorCode) + (xa.getMessage() == null ? "" : " " + xa.getMessage());
        }
        return String.valueOf(failure);
    }
}
