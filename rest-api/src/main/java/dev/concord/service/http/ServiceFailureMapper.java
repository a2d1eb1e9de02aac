package dev.concord.service.http;

import dev.concord.service.core.ServiceFailure;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;

/** Turns a {@link ServiceFailure} into its problem response. */
public final class ServiceFailureMapper implements ExceptionMapper<ServiceFailure> {
    @Override
    public Response toResponse(ServiceFailure e) {
        ProblemType type = ProblemType.of(e.kind());
        return Problems.response(type, type.status(), e.getMessage(), e.extensions());
    }
}
