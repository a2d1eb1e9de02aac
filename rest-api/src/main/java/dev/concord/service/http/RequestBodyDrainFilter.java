package dev.concord.service.http;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads what is left of a request body before the response goes out, when the endpoint did not read it (a 404,
 * 405, 401 or a body-less endpoint). Otherwise Jetty, finding unread content that has not arrived yet when the
 * response completes, closes the connection without saying so, and a client that reuses it for its next request
 * sees that request fail. A body over the limit is not read: the response then says {@code Connection: close}.
 */
public final class RequestBodyDrainFilter implements ContainerResponseFilter {
    private final long limit;

    public RequestBodyDrainFilter(long limit) {
        this.limit = limit;
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        boolean chunked = request.getHeaderString("Transfer-Encoding") != null;
        if (!chunked && (length == null || "0".equals(length.trim()))) {
            return;
        }
        try {
            long declared = length == null ? -1 : Long.parseLong(length.trim());
            if (declared > limit) {
                response.getHeaders().putSingle("Connection", "close");
                return;
            }
        } catch (NumberFormatException e) {
            response.getHeaders().putSingle("Connection", "close");
            return;
        }
        InputStream in = request.getEntityStream();
        if (in == null) {
            return;
        }
        byte[] buf = new byte[8192];
        long read = 0;
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                read += n;
                if (read > limit) {
                    response.getHeaders().putSingle("Connection", "close");
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            response.getHeaders().putSingle("Connection", "close");
        }
    }
}
