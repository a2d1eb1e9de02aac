package dev.concord.service.http;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds RFC 9457 problem responses ({@code application/problem+json}). */
public final class Problems {
    /** The problem media type. */
    public static final String MEDIA_TYPE = "application/problem+json";
    /** The problem media type as a {@link MediaType}. */
    public static final MediaType PROBLEM_JSON = MediaType.valueOf(MEDIA_TYPE);

    private Problems() {
    }

    /** The problem body: type, title, status, detail, then the extension members in order. */
    public static Map<String, Object> body(ProblemType type, int status, String detail, Map<String, Object> extensions) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", type.uri());
        body.put("title", type == ProblemType.HTTP_ERROR ? reason(status) : type.title());
        body.put("status", status);
        body.put("detail", detail);
        extensions.forEach(body::putIfAbsent);
        return body;
    }

    /** A problem response with the type's own status. */
    public static Response response(ProblemType type, String detail) {
        return response(type, type.status(), detail, Map.of());
    }

    /** A problem response. */
    public static Response response(ProblemType type, int status, String detail, Map<String, Object> extensions) {
        return Response.status(status).type(PROBLEM_JSON).entity(body(type, status, detail, extensions)).build();
    }

    /** The reason phrase of a status, or "HTTP error". */
    public static String reason(int status) {
        Response.Status s = Response.Status.fromStatusCode(status);
        return s == null ? "HTTP error" : s.getReasonPhrase();
    }
}
