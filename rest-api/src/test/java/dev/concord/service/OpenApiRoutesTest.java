package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.concord.service.http.Access;
import dev.concord.service.http.ApiServer;
import dev.concord.service.http.AuthorizationFeature;
import dev.concord.service.http.OpenApiResource;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.glassfish.jersey.server.model.Resource;
import org.glassfish.jersey.server.model.ResourceMethod;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document is true to the routes: every path and method in it is routed by Jersey and every routed
 * endpoint is in it, and the endpoints it marks as needing no token are exactly the open ones.
 */
class OpenApiRoutesTest {

    /** "METHOD /path" of every routed endpoint, with whether it is open. */
    static Map<String, Boolean> routed() {
        Map<String, Boolean> out = new TreeMap<>();
        for (Class<?> c : ApiServer.resourceClasses()) {
            collect(Resource.from(c), "", c, out);
        }
        return out;
    }

    private static void collect(Resource r, String prefix, Class<?> type, Map<String, Boolean> out) {
        String path = normalize(prefix + "/" + r.getPath());
        for (ResourceMethod m : r.getResourceMethods()) {
            Method java = m.getInvocable().getDefinitionMethod();
            Access a = AuthorizationFeature.accessOf(java, type);
            out.put(m.getHttpMethod() + " " + path, a != null && a.open());
        }
        for (Resource child : r.getChildResources()) {
            collect(child, path, type, out);
        }
    }

    private static String normalize(String p) {
        String s = p.replaceAll("/+", "/");
        return s.length() > 1 && s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    static JsonNode document() throws Exception {
        try (InputStream in = OpenApiResource.class.getResourceAsStream(OpenApiResource.RESOURCE)) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** "METHOD /path" of every operation in the document, with whether it needs no token. */
    static Map<String, Boolean> documented(JsonNode doc) {
        Map<String, Boolean> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> p = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = p.getValue().fields(); ops.hasNext(); ) {
                Map.Entry<String, JsonNode> op = ops.next();
                JsonNode security = op.getValue().get("security");
                out.put(op.getKey().toUpperCase(Locale.ROOT) + " " + p.getKey(),
                        security != null && security.isArray() && security.isEmpty());
            }
        }
        return out;
    }

    @Test
    void everyDocumentedPathIsRoutedAndEveryRouteIsDocumented() throws Exception {
        Map<String, Boolean> routed = routed();
        Map<String, Boolean> documented = documented(document());
        TreeSet<String> undocumented = new TreeSet<>(routed.keySet());
        undocumented.removeAll(documented.keySet());
        TreeSet<String> unrouted = new TreeSet<>(documented.keySet());
        unrouted.removeAll(routed.keySet());
        assertTrue(undocumented.isEmpty(), "routed but not in openapi.json: " + undocumented);
        assertTrue(unrouted.isEmpty(), "in openapi.json but not routed: " + unrouted);
        assertTrue(routed.size() >= 20, routed::toString);
    }

    @Test
    void theDocumentMarksExactlyTheOpenEndpointsAsNeedingNoToken() throws Exception {
        assertEquals(routed(), documented(document()));
    }

    @Test
    void everyOperationDocumentsItsErrorsAsProblems() throws Exception {
        JsonNode doc = document();
        assertEquals("3.0.3", doc.path("openapi").asText());
        doc.path("paths").fields().forEachRemaining(p -> p.getValue().fields().forEachRemaining(op -> {
            JsonNode responses = op.getValue().path("responses");
            assertTrue(responses.size() > 0, p.getKey());
            responses.fields().forEachRemaining(r -> {
                if (r.getKey().startsWith("4") || r.getKey().startsWith("5")) {
                    JsonNode resp = r.getValue().has("$ref") ? doc.at("/components/responses/"
                            + r.getValue().path("$ref").asText().substring("#/components/responses/".length()))
                            : r.getValue();
                    assertTrue(resp.path("content").has("application/problem+json"),
                            op.getKey() + " " + p.getKey() + " " + r.getKey());
                }
            });
        }));
    }
}
