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
     * Body of {@code POST /v1/transactions/{id}/messages}: exactly one of {@code body} and {@code bodyBase64}.
     *
     * @param resource   the configured RocketMQ resource
     * @param topic      the topic
     * @param tags       the message's tags, optional
     * @param keys       the message's keys, optional
     * @param body       the body as text (sent as UTF-8)
     * @param bodyBase64 the body as base64
     * @param properties user properties, optional
     */
    public record RegisterMessage(String resource, String topic, String tags, java.util.List<String> keys,
                                  String body, String bodyBase64, java.util.Map<String, String> properties) {
    }

    /**
     * Body of the admin actions on one transaction and of a recovery scan.
     *
     * @param reason why the operator takes the action; required, written to the audit log
     */
    public record Reason(String reason) {
    }

    /**
     * Body of {@code POST /v1/admin/in-doubt/{id}/commit} and {@code .../rollback}.
     *
     * @param reason   why; required, written to the audit log
     * @param branch   the one branch to act on; every in-doubt branch of the transaction when absent
     * @param resource the branch's resource; optional (the branch is looked for in every resource when absent)
     */
    public record Resolve(String reason, Integer branch, String resource) {
    }

    /**
     * Body of {@code POST /v1/admin/heuristics/forget}.
     *
     * @param transaction the transaction id
     * @param resource    the branch's resource; absent with {@code branch} for every branch of the transaction
     * @param branch      the branch number; absent with {@code resource} for every branch of the transaction
     * @param reason      why; required, written to the audit log
     */
    public record Forget(String transaction, String resource, Integer branch, String reason) {
    }
}
