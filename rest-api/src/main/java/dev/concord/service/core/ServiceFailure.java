package dev.concord.service.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Why a service operation did not do what was asked, in terms the HTTP layer turns into a problem response. The
 * message is the problem's detail: it says what went wrong in the caller's terms and holds no secret.
 */
public final class ServiceFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The kinds of failure; each has one problem type and HTTP status. */
    public enum Kind {
        /** The request is malformed or a field is invalid (400). */
        INVALID_REQUEST,
        /** No such transaction, or it finished too long ago to be remembered (404). */
        NOT_FOUND,
        /** The transaction's state does not allow the operation, as the engine decided (409). */
        ILLEGAL_STATE,
        /** A commit ended in a rollback, or the transaction can only roll back (409). */
        ROLLED_BACK,
        /** Resources decided on their own, against the transaction's outcome (409). */
        HEURISTIC,
        /** The transaction log cannot be written; nothing that needs it can be done (503). */
        LOG_UNAVAILABLE,
        /** The service is shutting down (503). */
        SHUTTING_DOWN,
        /** The audit log cannot be written, so the admin action was refused (503). */
        AUDIT_UNAVAILABLE
    }

    private final Kind kind;
    private final transient Map<String, Object> extensions;

    /** A failure without extension members. */
    public ServiceFailure(Kind kind, String detail) {
        this(kind, detail, Map.of(), null);
    }

    /**
     * A failure.
     *
     * @param extensions extra members for the problem body (e.g. {@code field}, {@code transaction})
     */
    public ServiceFailure(Kind kind, String detail, Map<String, Object> extensions, Throwable cause) {
        super(Objects.requireNonNull(detail, "detail"), cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.extensions = Collections.unmodifiableMap(new LinkedHashMap<>(extensions));
    }

    /** An invalid field: 400 with the field's name as the {@code field} member. */
    public static ServiceFailure invalid(String field, String detail) {
        return new ServiceFailure(Kind.INVALID_REQUEST, detail, Map.of("field", field), null);
    }

    public Kind kind() {
        return kind;
    }

    /** Extra members of the problem body, in order. */
    public Map<String, Object> extensions() {
        return extensions;
    }
}
