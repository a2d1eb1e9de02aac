package dev.concord.xa.conformance;

import javax.transaction.xa.XAException;

/**
 * What one {@code XAResource} call did: returned normally ({@link #OK}) or threw an {@link XAException} with a given
 * error code. Lets a test compare a measured outcome with an expected one in a single assertion.
 *
 * @param ok whether the call returned normally
 * @param errorCode the {@link XAException#errorCode} when it threw, 0 otherwise
 */
public record XaOutcome(boolean ok, int errorCode) {

    /** The call returned normally. */
    public static final XaOutcome OK = new XaOutcome(true, 0);

    /** A call to run and classify. */
    @FunctionalInterface
    public interface XaCall {
        /**
         * Runs the call.
         *
         * @throws XAException as the resource manager throws it
         */
        void run() throws XAException;
    }

    /** The call threw an {@link XAException} with {@code errorCode}. */
    public static XaOutcome fails(int errorCode) {
        return new XaOutcome(false, errorCode);
    }

    /** Runs {@code call} and returns what it did; exceptions other than {@link XAException} propagate. */
    public static XaOutcome of(XaCall call) {
        try {
            call.run();
            return OK;
        } catch (XAException e) {
            return fails(e.errorCode);
        }
    }

    @Override
    public String toString() {
        return ok ? "OK" : "XAException " + codeName(errorCode) + " (" + errorCode + ")";
    }

    /** The constant name of an XA error or return code, e.g. {@code XAER_NOTA} for -4. */
    public static String codeName(int code) {
        return switch (code) {
            case XAException.XA_RBROLLBACK -> "XA_RBROLLBACK";
            case XAException.XA_RBCOMMFAIL -> "XA_RBCOMMFAIL";
            case XAException.XA_RBDEADLOCK -> "XA_RBDEADLOCK";
            case XAException.XA_RBINTEGRITY -> "XA_RBINTEGRITY";
            case XAException.XA_RBOTHER -> "XA_RBOTHER";
            case XAException.XA_RBPROTO -> "XA_RBPROTO";
            case XAException.XA_RBTIMEOUT -> "XA_RBTIMEOUT";
            case XAException.XA_RBTRANSIENT -> "XA_RBTRANSIENT";
            case XAException.XA_NOMIGRATE -> "XA_NOMIGRATE";
            case XAException.XA_HEURHAZ -> "XA_HEURHAZ";
            case XAException.XA_HEURCOM -> "XA_HEURCOM";
            case XAException.XA_HEURRB -> "XA_HEURRB";
            case XAException.XA_HEURMIX -> "XA_HEURMIX";
            case XAException.XA_RETRY -> "XA_RETRY";
            case XAException.XA_RDONLY -> "XA_RDONLY";
            case XAException.XAER_ASYNC -> "XAER_ASYNC";
            case XAException.XAER_RMERR -> "XAER_RMERR";
            case XAException.XAER_NOTA -> "XAER_NOTA";
            case XAException.XAER_INVAL -> "XAER_INVAL";
            case XAException.XAER_PROTO -> "XAER_PROTO";
            case XAException.XAER_RMFAIL -> "XAER_RMFAIL";
            case XAException.XAER_DUPID -> "XAER_DUPID";
            case XAException.XAER_OUTSIDE -> "XAER_OUTSIDE";
            default -> "code " + code;
        };
    }
}
