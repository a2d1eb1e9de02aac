package dev.concord.client;

/**
 * A call to the coordinator service that did not succeed: either the service answered with an error (an RFC 9457
 * problem: {@link #status()}, {@link #problemType()}, {@link #getMessage()} holds its detail), or no answer came
 * back at all ({@link #isUnanswered()}: connection refused or lost, timeout), in which case the call may or may not
 * have taken effect.
 */
public final class ServiceCallException extends Exception {
    private static final long serialVersionUID = 1L;
    private static final String PROBLEM_PREFIX = "urn:concord:problem:";

    private final int status;
    private final String problemType;
    private final String transactionStatus;

    ServiceCallException(int status, String problemType, String detail, String transactionStatus) {
        super(detail);
        this.status = status;
        this.problemType = problemType;
        this.transactionStatus = transactionStatus;
    }

    ServiceCallException(String what, Throwable cause) {
        super(what + ": " + cause, cause);
        this.status = 0;
        this.problemType = null;
        this.transactionStatus = null;
    }

    /** The HTTP status, or 0 when no answer came back. */
    public int status() {
        return status;
    }

    /** The problem type without its {@code urn:concord:problem:} prefix, e.g. {@code rolled-back}; null if none. */
    public String problemType() {
        return problemType == null ? null : problemType.startsWith(PROBLEM_PREFIX)
                ? problemType.substring(PROBLEM_PREFIX.length()) : problemType;
    }

    /** The state of the transaction the problem names (e.g. {@code ROLLED_BACK}), or null. */
    public String transactionStatus() {
        return transactionStatus;
    }

    /** True when no answer came back: the call may or may not have taken effect. */
    public boolean isUnanswered() {
        return status == 0;
    }

    /** True for a 4xx answer: the service refused the call and changed nothing. */
    public boolean isRefusal() {
        return status >= 400 && status < 500;
    }
}
