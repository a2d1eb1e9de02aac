package dev.concord.service.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error responses — a request Jetty refuses before it reaches the API (a malformed request line, an
 * ambiguous URI, headers or URI too large, the server shutting down) — as problem+json like every other error.
 * Server-side messages are not passed on for 5xx statuses.
 */
public final class ProblemErrorHandler extends ErrorHandler {
    private final ObjectMapper json = new ObjectMapper();

    /** Every method gets a problem body (Jetty's default gives one only to GET, POST and HEAD). */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        byte[] body = problem(code, message);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, Problems.MEDIA_TYPE);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        // Jetty drops the connection after refusing a request at this level; say so, or a client would send its
        // next request on a connection that is about to close.
        response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        byte[] body = problem(status, reason);
        fields.put(new HttpField(HttpHeader.CONTENT_TYPE, Problems.MEDIA_TYPE));
        return ByteBuffer.wrap(body);
    }

    private byte[] problem(int status, String message) {
        ProblemType type = switch (status) {
            case 400 -> ProblemType.BAD_REQUEST;
            case 413 -> ProblemType.PAYLOAD_TOO_LARGE;
            case 414 -> ProblemType.URI_TOO_LONG;
            case 431 -> ProblemType.HEADERS_TOO_LARGE;
            case 503 -> ProblemType.SHUTTING_DOWN;
            default -> ProblemType.ofStatus(status);
        };
        String detail;
        if (status >= 500) {
            detail = status == 503 ? "the coordinator is not accepting requests (shutting down)"
                    : "the request could not be processed";
        } else {
            detail = message == null || message.isBlank() ? Problems.reason(status) : message;
        }
        try {
            return json.writeValueAsBytes(Problems.body(type, status, detail, Map.of()));
        } catch (JsonProcessingException e) {
            return ("{\"type\":\"" + type.uri() + "\",\"status\":" + status + "}").getBytes(StandardCharsets.UTF_8);
        }
    }
}
