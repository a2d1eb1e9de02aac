package dev.concord.service.http;

import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.UUID;

/**
 * Anything not mapped otherwise: a 500 problem whose detail holds only an incident id; the exception itself is
 * logged under that id (message CONCORD-3001), never sent to the client.
 */
public final class UnexpectedErrorMapper implements ExceptionMapper<Throwable> {
    private static final System.Logger LOG = System.getLogger(UnexpectedErrorMapper.class.getName());

    @Override
    public Response toResponse(Throwable e) {
        String incident = UUID.randomUUID().toString();
        LOG.log(Level.ERROR, "CONCORD-3001 unexpected error, incident " + incident, e);
        return Problems.response(ProblemType.INTERNAL_ERROR, 500, "an unexpected error occurred; incident "
                + incident + " is in the coordinator's log", Map.of("incident", incident));
    }
}
