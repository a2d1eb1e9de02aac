package dev.concord.service.http;

import dev.concord.service.core.HealthService;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code /health/live} (the process answers) and {@code /health/ready} (the log is writable and every resource
 * answers; 503 problem with the failing checks otherwise). Open: no token needed.
 */
@Path("/health")
@Produces(MediaType.APPLICATION_JSON)
@Access(open = true)
@Singleton
public final class HealthResource {
    private final HealthService health;

    @Inject
    public HealthResource(HealthService health) {
        this.health = health;
    }

    /** Liveness. */
    @GET
    @Path("live")
    public HealthService.Report live() {
        return health.live();
    }

    /** Readiness. */
    @GET
    @Path("ready")
    public Response ready() {
        HealthService.Report r = health.ready();
        if (r.status() == HealthService.Status.UP) {
            return Response.ok(r).build();
        }
        String down = r.checks().stream().filter(c -> c.status() == HealthService.Status.DOWN)
                .map(c -> c.name() + ": " + c.detail()).collect(Collectors.joining("; "));
        return Problems.response(ProblemType.NOT_READY, 503, down, Map.of("checks", r.checks()));
    }
}
