package dev.concord.service.http;

import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import java.util.Map;

/**
 * The safety net for "every error is a problem": an error response that reaches the wire without a body (one
 * Jersey made itself) gets the problem document of its status.
 */
public final class ProblemBodyFilter implements ContainerResponseFilter {
    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        int status = response.getStatus();
        if (status < 400 || response.hasEntity() || HttpMethod.HEAD.equals(request.getMethod())) {
            return;
        }
        ProblemType type = ProblemType.ofStatus(status);
        String detail = status >= 500 ? "the request could not be processed" : Problems.reason(status);
        response.setEntity(Problems.body(type, status, detail, Map.of()), null, Problems.PROBLEM_JSON);
    }
}
