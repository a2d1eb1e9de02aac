package dev.concord.service.http;

import dev.concord.coordinator.PhaseTwoJob;
import dev.concord.service.config.Scope;
import dev.concord.service.core.AuditLog;
import dev.concord.service.core.RecoveryAdmin;
import dev.concord.service.core.TransactionService;
import dev.concord.service.core.TransactionView;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.SecurityContext;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * {@code /v1/admin}: recovery administration, admin tokens only. Lists in-doubt and heuristic transactions per
 * branch and the audit log; runs a recovery pass, forgets heuristic outcomes, commits or rolls back a transaction
 * that is still active, commits or rolls back one in-doubt branch or every one of a transaction — each action with a
 * required reason, audited under the token's name.
 */
@Path("/v1/admin")
@Produces(MediaType.APPLICATION_JSON)
@Access(Scope.ADMIN)
@Singleton
public final class AdminResource {
    private final RecoveryAdmin admin;
    private final JsonBodies json;

    @Inject
    public AdminResource(RecoveryAdmin admin, JsonBodies json) {
        this.admin = admin;
        this.json = json;
    }

    /** Transactions whose outcome is not settled at every resource, per branch. */
    @GET
    @Path("in-doubt")
    public Map<String, List<RecoveryAdmin.InDoubtTransaction>> inDoubt() {
        return Map.of("items", admin.inDoubt());
    }

    /** Heuristic outcomes not yet forgotten, per branch. */
    @GET
    @Path("heuristics")
    public Map<String, List<RecoveryAdmin.HeuristicView>> heuristics() {
        return Map.of("items", admin.heuristics());
    }

    /** Runs a recovery pass now. */
    @POST
    @Path("recovery/scan")
    public RecoveryAdmin.ScanReport scan(InputStream body, @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
                                         @Context SecurityContext caller) {
        Requests.Reason req = json.read(body, RequestParams.contentType(contentType), Requests.Reason.class, true);
        return admin.scan(who(caller), req.reason());
    }

    /** Commits one in-doubt branch of a transaction, or every one, if its decision is COMMIT. */
    @POST
    @Path("in-doubt/{id}/commit")
    public RecoveryAdmin.Resolution commitInDoubt(@PathParam("id") String id, InputStream body,
                                                  @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
                                                  @Context SecurityContext caller) {
        Requests.Resolve req = json.read(body, RequestParams.contentType(contentType), Requests.Resolve.class, true);
        return admin.resolve(who(caller), req.reason(), id, PhaseTwoJob.Direction.COMMIT, req.resource(),
                req.branch());
    }

    /** Rolls back one in-doubt branch of a transaction, or every one, if its decision is ROLLBACK. */
    @POST
    @Path("in-doubt/{id}/rollback")
    public RecoveryAdmin.Resolution rollbackInDoubt(@PathParam("id") String id, InputStream body,
                                                    @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
                                                    @Context SecurityContext caller) {
        Requests.Resolve req = json.read(body, RequestParams.contentType(contentType), Requests.Resolve.class, true);
        return admin.resolve(who(caller), req.reason(), id, PhaseTwoJob.Direction.ROLLBACK, req.resource(),
                req.branch());
    }

    /** Forgets the heuristic outcome of one branch, or of every branch of a transaction; answers the ones left. */
    @POST
    @Path("heuristics/forget")
    public Map<String, List<RecoveryAdmin.HeuristicView>> forget(InputStream body,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @Context SecurityContext caller) {
        Requests.Forget req = json.read(body, RequestParams.contentType(contentType), Requests.Forget.class, true);
        return Map.of("items", admin.forget(who(caller), req.reason(), req.transaction(), req.resource(),
                req.branch()));
    }

    /** Commits a transaction in flight on an operator's word. */
    @POST
    @Path("transactions/{id}/commit")
    public TransactionView commit(@PathParam("id") String id, InputStream body,
                                  @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
                                  @Context SecurityContext caller) {
        Requests.Reason req = json.read(body, RequestParams.contentType(contentType), Requests.Reason.class, true);
        return admin.commit(who(caller), req.reason(), id);
    }

    /** Rolls back a transaction in flight on an operator's word. */
    @POST
    @Path("transactions/{id}/rollback")
    public TransactionView rollback(@PathParam("id") String id, InputStream body,
                                    @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
                                    @Context SecurityContext caller) {
        Requests.Reason req = json.read(body, RequestParams.contentType(contentType), Requests.Reason.class, true);
        return admin.rollback(who(caller), req.reason(), id);
    }

    /** The audit log, newest first. */
    @GET
    @Path("audit")
    public Map<String, List<AuditLog.Entry>> audit(@QueryParam("limit") String limit,
                                                   @QueryParam("before") String before) {
        int n = RequestParams.intOr("limit", limit, 100, 1, TransactionService.MAX_PAGE);
        Long b = RequestParams.optionalLong("before", before, 1, Long.MAX_VALUE);
        return Map.of("items", admin.audit(n, b));
    }

    private static String who(SecurityContext caller) {
        return caller == null || caller.getUserPrincipal() == null ? "unknown" : caller.getUserPrincipal().getName();
    }
}
