package dev.concord.service.http;

import dev.concord.service.core.ServiceMetrics;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;

/** {@code /metrics}: Prometheus text exposition. Open: no token needed. */
@Path("/metrics")
@Access(open = true)
@Singleton
public final class MetricsResource {
    /** The Prometheus text format's media type. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final ServiceMetrics metrics;

    @Inject
    public MetricsResource(ServiceMetrics metrics) {
        this.metrics = metrics;
    }

    /** Every meter. */
    @GET
    @Produces(PROMETHEUS_TEXT)
    public String scrape() {
        return metrics.scrape();
    }
}
