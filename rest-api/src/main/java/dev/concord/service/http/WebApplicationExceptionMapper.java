package dev.concord.service.http;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Request;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.util.Map;

/**
 * Jersey's own errors (no such endpoint, method not allowed, unsupported or unacceptable media type, and any other
 * {@link WebApplicationException}) as problem responses, keeping headers such as {@code Allow} and
 * {@code WWW-Authenticate}.
 */
public final class WebApplicationExceptionMapper implements ExceptionMapper<WebApplicationException> {
    @Context
    private UriInfo uriInfo;
    @Context
    private Request request;

    @Override
    public Response toResponse(WebApplicationException e) {
        Response original = e.getResponse();
        int status = original == null ? 500 : original.getStatus();
        ProblemType type = ProblemType.ofStatus(status);
        String detail = switch (status) {
            case 404 -> "no endpoint at " + path();
            case 405 -> "this endpoint does not take " + method() + "; allowed: " + allowed(original);
            case 406 -> "this endpoint answers only application/json (or application/problem+json for errors)";
            case 415 -> "send the body as application/json";
            default -> status >= 500 ? "the request could not be processed" : safeMessage(e, status);
        };
        Response.ResponseBuilder b = Response.status(status).type(Problems.PROBLEM_JSON)
                .entity(Problems.body(type, status, detail, Map.of()));
        if (original != null) {
            for (String h : new String[] {HttpHeaders.ALLOW, HttpHeaders.WWW_AUTHENTICATE}) {
                Object v = original.getHeaderString(h);
                if (v != null) {
                    b.header(h, v);
                }
            }
        }
        return b.build();
    }

    private String path() {
        try {
            return "/" + uriInfo.getPath();
        } catch (RuntimeException e) {
            return "this path";
        }
    }

    private String method() {
        try {
            return request.getMethod();
        } catch (RuntimeException e) {
            return "this method";
        }
    }

    private static String allowed(Response r) {
        String allow = r == null ? null : r.getHeaderString(HttpHeaders.ALLOW);
        return allow == null || allow.isBlank() ? "none" : allow;
    }

    private static String safeMessage(WebApplicationException e, int status) {
        String m = e.getMessage();
        // Jersey's default messages are "HTTP 400 Bad Request" and the like: say the same in words.
        if (m == null || m.startsWith("HTTP " + status)) {
            return Problems.reason(status);
        }
        return m;
    }
}
