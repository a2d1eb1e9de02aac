package dev.concord.service.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

/** Checks of RFC 9457 problem responses. */
public final class ProblemAssert {
    private ProblemAssert() {
    }

    /** A problem with this status: problem+json, with type, title, status and detail, and no token in it. */
    public static JsonNode problemOf(Api.Reply r, int status) {
        assertEquals(status, r.status(), r::toString);
        assertTrue(r.contentType().startsWith("application/problem+json"), () -> "content type of " + r + ": "
                + r.contentType());
        JsonNode p = r.json();
        assertEquals(status, p.path("status").asInt(), r::toString);
        assertTrue(p.path("type").asText().startsWith("urn:concord:problem:"), r::toString);
        assertFalse(p.path("title").asText().isBlank(), r::toString);
        assertFalse(p.path("detail").asText().isBlank(), r::toString);
        assertFalse(r.body().contains(ServiceFixture.CLIENT_TOKEN) || r.body().contains(ServiceFixture.ADMIN_TOKEN),
                "a token leaked: " + r);
        return p;
    }

    /** A problem with this status and type slug. */
    public static JsonNode problem(Api.Reply r, int status, String type) {
        JsonNode p = problemOf(r, status);
        assertEquals("urn:concord:problem:" + type, p.path("type").asText(), r::toString);
        return p;
    }
}
