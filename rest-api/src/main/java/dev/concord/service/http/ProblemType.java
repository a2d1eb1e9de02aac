package dev.concord.service.http;

import dev.concord.service.core.ServiceFailure;

/**
 * The problem types of the API (RFC 9457). Each has a stable URI ({@code urn:concord:problem:<slug>}), a title
 * and a status; the detail of each response says what went wrong in that case.
 */
public enum ProblemType {
    INVALID_REQUEST("invalid-request", "Invalid request", 400),
    MALFORMED_JSON("malformed-json", "Malformed JSON", 400),
    BAD_REQUEST("bad-request", "Bad request", 400),
    UNAUTHORIZED("unauthorized", "Authentication required", 401),
    FORBIDDEN("forbidden", "Not allowed", 403),
    NOT_FOUND("not-found", "Not found", 404),
    METHOD_NOT_ALLOWED("method-not-allowed", "Method not allowed", 405),
    NOT_ACCEPTABLE("not-acceptable", "Not acceptable", 406),
    ILLEGAL_STATE("illegal-state", "Illegal transaction state", 409),
    ROLLED_BACK("rolled-back", "Transaction rolled back", 409),
    HEURISTIC_OUTCOME("heuristic-outcome", "Heuristic outcome", 409),
    PAYLOAD_TOO_LARGE("payload-too-large", "Request body too large", 413),
    URI_TOO_LONG("uri-too-long", "URI too long", 414),
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", "Unsupported media type", 415),
    HEADERS_TOO_LARGE("headers-too-large", "Request headers too large", 431),
    INTERNAL_ERROR("internal-error", "Internal error", 500),
    LOG_UNAVAILABLE("log-unavailable", "Transaction log unavailable", 503),
    AUDIT_UNAVAILABLE("audit-unavailable", "Audit log unavailable", 503),
    SHUTTING_DOWN("shutting-down", "Shutting down", 503),
    NOT_READY("not-ready", "Not ready", 503),
    HTTP_ERROR("http-error", "HTTP error", 0);

    private final String slug;
    private final String title;
    private final int status;

    ProblemType(String slug, String title, int status) {
        this.slug = slug;
        this.title = title;
        this.status = status;
    }

    /** The type URI. */
    public String uri() {
        return "urn:concord:problem:" + slug;
    }

    public String title() {
        return title;
    }

    /** The HTTP status; 0 for {@link #HTTP_ERROR}, which takes the status of the error it reports. */
    public int status() {
        return status;
    }

    /** The type of a service failure. */
    public static ProblemType of(ServiceFailure.Kind kind) {
        return switch (kind) {
            case INVALID_REQUEST -> INVALID_REQUEST;
            case NOT_FOUND -> NOT_FOUND;
            case ILLEGAL_STATE -> ILLEGAL_STATE;
            case ROLLED_BACK -> ROLLED_BACK;
            case HEURISTIC -> HEURISTIC_OUTCOME;
            case LOG_UNAVAILABLE -> LOG_UNAVAILABLE;
            case SHUTTING_DOWN -> SHUTTING_DOWN;
            case AUDIT_UNAVAILABLE -> AUDIT_UNAVAILABLE;
        };
    }

    /** The type for an HTTP status that no more specific type covers. */
    public static ProblemType ofStatus(int status) {
        for (ProblemType t : values()) {
            if (t.status == status && t != INVALID_REQUEST && t != MALFORMED_JSON && t != ILLEGAL_STATE
                    && t != ROLLED_BACK && t != HEURISTIC_OUTCOME && t != LOG_UNAVAILABLE && t != AUDIT_UNAVAILABLE
                    && t != NOT_READY) {
                return t;
            }
        }
        return HTTP_ERROR;
    }
}
