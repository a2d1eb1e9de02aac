package dev.concord.service.http;

/** The JSON request bodies of the API; each is read strictly by {@link JsonBodies}. */
public final class Requests {
    private Requests() {
    }

    /**
     * Body of {@code POST /v1/transactions}; optional.
     *
     * @param timeoutSeconds the transaction's timeout; the configured default when absent
     */
    public record CreateTransaction(Long timeoutSeconds) {
    }

    /**
     * Body of {@code POST /v1/transactions/{id}/branches}; optional, and takes no fields today.
     */
    public record ReserveBranch() {
    }

    /**
     * Body of {@code POST /v1/transactions/{id}/branches/{branch}/prepared}.
     *
     * @param resource the configured resource in which the participant prepared the branch
     */
    public record RegisterPrepared(String resource) {
    }

    /**
     * Body of the admin actions on one transaction and of a recovery scan.
     *
     * @param reason why the operator takes the action; required, written to the audit log
     */
    public record Reason(String reason) {
    }

    /**
     * Body of {@code POST /v1/admin/heuristics/forget}.
     *
     * @param transaction the transaction id
     * @param resource    the branch's resource
     * @param branch      the branch number
     * @param reason      why; required, written to the audit log
     */
    public record Forget(String transaction, String resource, Integer branch, String reason) {
    }
}
