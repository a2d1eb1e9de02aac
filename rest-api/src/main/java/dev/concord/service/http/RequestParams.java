package dev.concord.service.http;

import dev.concord.service.core.ServiceFailure;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.core.MediaType;

/** Parsing of path and query parameters, each failure a 400 naming the parameter. */
final class RequestParams {
    private RequestParams() {
    }

    /** An optional whole number within bounds. */
    static Long optionalLong(String name, String value, long min, long max) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        long v;
        try {
            v = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw ServiceFailure.invalid(name, name + " must be a whole number, got '" + clip(value) + "'");
        }
        if (v < min || v > max) {
            throw ServiceFailure.invalid(name, name + " must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    /** A whole number within bounds, or the default when absent. */
    static int intOr(String name, String value, int defaultValue, int min, int max) {
        Long v = optionalLong(name, value, min, max);
        return v == null ? defaultValue : v.intValue();
    }

    /** A branch number from a path segment. */
    static int branch(String value) {
        Long v = optionalLong("branch", value, 1, Integer.MAX_VALUE);
        if (v == null) {
            throw ServiceFailure.invalid("branch", "branch must be a number from 1");
        }
        return v.intValue();
    }

    /** The request's content type; a value that is not a media type at all is refused with 415. */
    static MediaType contentType(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        try {
            return MediaType.valueOf(header);
        } catch (IllegalArgumentException e) {
            throw new NotSupportedException("send the body as application/json");
        }
    }

    static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
