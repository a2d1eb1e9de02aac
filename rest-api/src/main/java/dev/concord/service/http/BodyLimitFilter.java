package dev.concord.service.http;

import jakarta.annotation.Priority;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;

/**
 * Refuses a request whose declared {@code Content-Length} is over the limit before anything else happens (413);
 * a body without a length (chunked) is cut off at the limit by {@link JsonBodies} when it is read.
 */
@PreMatching
@Priority(10)
public final class BodyLimitFilter implements ContainerRequestFilter {
    private final long limit;

    public BodyLimitFilter(long limit) {
        this.limit = limit;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
            return;
        }
        long n;
        try {
            n = Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            // Jetty refuses malformed lengths before they get here; nothing to check.
            return;
        }
        if (n > limit) {
            request.abortWith(new PayloadTooLargeException(limit).getResponse());
        }
    }
}
