package dev.concord.service.http;

import jakarta.ws.rs.WebApplicationException;
import java.util.Map;

/** A request body over the configured limit: 413. */
public final class PayloadTooLargeException extends WebApplicationException {
    private static final long serialVersionUID = 1L;

    /** The body exceeds {@code limit} bytes. */
    public PayloadTooLargeException(long limit) {
        super(Problems.response(ProblemType.PAYLOAD_TOO_LARGE, 413, "the request body exceeds the limit of "
                + limit + " bytes (http.maxBodyBytes)", Map.of("limit", limit)));
    }
}
