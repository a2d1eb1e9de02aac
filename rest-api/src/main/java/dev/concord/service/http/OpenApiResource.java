package dev.concord.service.http;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code /openapi.json}: the hand-written OpenAPI 3 description of this API, from the classpath resource
 * {@value #RESOURCE}. A test checks that its paths and the routed endpoints are the same. Open: no token needed.
 */
@Path("/openapi.json")
@Access(open = true)
@Singleton
public final class OpenApiResource {
    /** Classpath location of the document. */
    public static final String RESOURCE = "/dev/concord/service/openapi.json";

    private final byte[] document;

    @Inject
    public OpenApiResource() {
        try (InputStream in = OpenApiResource.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the OpenAPI document " + RESOURCE + " is missing from the build");
            }
            document = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The document. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public byte[] document() {
        return document.clone();
    }
}
