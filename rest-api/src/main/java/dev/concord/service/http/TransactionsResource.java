package dev.concord.service.http;

import dev.concord.coordinator.TxState;
import dev.concord.service.core.BranchReservation;
import dev.concord.service.core.OutcomeView;
import dev.concord.service.core.ServiceFailure;
import dev.concord.service.core.TransactionPage;
import dev.concord.service.core.MessageReceipt;
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
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.io.InputStream;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code /v1/transactions}: create, list, inspect, commit and roll back transactions; reserve branch XIDs for
 * participants that prepare their branch themselves, and register those branches as prepared. Each call is one
 * {@link TransactionService} call; this class only reads parameters and shapes responses.
 */
@Path("/v1/transactions")
@Produces(MediaType.APPLICATION_JSON)
@Singleton
public final class TransactionsResource {
    private final TransactionService service;
    private final JsonBodies json;

    @Inject
    public TransactionsResource(TransactionService service, JsonBodies json) {
        this.service = service;
        this.json = json;
    }

    /** Begins a transaction: 201 with its {@code Location}. */
    @POST
    public Response create(InputStream body, @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
                           @Context UriInfo uri) {
        Requests.CreateTransaction req = json.read(body, RequestParams.contentType(contentType),
                Requests.CreateTransaction.class, false);
        TransactionView tx = service.begin(req == null ? null : req.timeoutSeconds());
        return Response.created(uri.getBaseUriBuilder().path("v1/transactions/{id}").build(tx.id())).entity(tx)
                .build();
    }

    /** Lists transactions, newest first, filtered by status and age, in pages. */
    @GET
    public TransactionPage list(@QueryParam("status") List<String> status,
                                @QueryParam("minAgeSeconds") String minAge,
                                @QueryParam("maxAgeSeconds") String maxAge,
                                @QueryParam("limit") String limit,
                                @QueryParam("cursor") String cursor) {
        Set<TxState> states = EnumSet.noneOf(TxState.class);
        for (String s : status) {
            for (String part : s.split(",")) {
                String p = part.trim();
                if (p.isEmpty()) {
                    continue;
                }
                try {
                    states.add(TxState.valueOf(p.toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw ServiceFailure.invalid("status", "status must be one of " + EnumSet.allOf(TxState.class)
                            + ", got '" + RequestParams.clip(p) + "'");
                }
            }
        }
        Long min = RequestParams.optionalLong("minAgeSeconds", minAge, 0, 10L * 365 * 24 * 3600);
        Long max = RequestParams.optionalLong("maxAgeSeconds", maxAge, 0, 10L * 365 * 24 * 3600);
        int size = RequestParams.intOr("limit", limit, 50, 1, TransactionService.MAX_PAGE);
        return service.list(states, min == null ? null : Duration.ofSeconds(min),
                max == null ? null : Duration.ofSeconds(max), size, cursor == null || cursor.isEmpty() ? null : cursor);
    }

    /** One transaction: status, branches, XID parts. */
    @GET
    @Path("{id}")
    public TransactionView get(@PathParam("id") String id) {
        return service.get(id);
    }

    /**
     * The outcome query for in-doubt participants: COMMIT, ROLLBACK or UNKNOWN. Works for any id of this node
     * inside the outcome retention window, also after the transaction left the service's memory.
     */
    @GET
    @Path("{id}/outcome")
    public OutcomeView outcome(@PathParam("id") String id) {
        return service.outcome(id);
    }

    /** Commits (both phases, by the engine). */
    @POST
    @Path("{id}/commit")
    public TransactionView commit(@PathParam("id") String id) {
        return service.commit(id);
    }

    /** Rolls back. */
    @POST
    @Path("{id}/rollback")
    public TransactionView rollback(@PathParam("id") String id) {
        return service.rollback(id);
    }

    /** Reserves a branch XID for a participant: 201 with the XID, the SQL to run and the registration path. */
    @POST
    @Path("{id}/branches")
    public Response reserveBranch(@PathParam("id") String id, InputStream body,
                                  @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @Context UriInfo uri) {
        json.read(body, RequestParams.contentType(contentType), Requests.ReserveBranch.class, false);
        BranchReservation r = service.reserveBranch(id);
        return Response.created(uri.getBaseUriBuilder().path("v1/transactions/{id}/branches/{branch}")
                .build(r.transaction(), r.branch())).entity(r).build();
    }

    /** The XID and SQL of one branch number, and whether it is registered. */
    @GET
    @Path("{id}/branches/{branch}")
    public BranchReservation branch(@PathParam("id") String id, @PathParam("branch") String branch) {
        return service.branch(id, RequestParams.branch(branch));
    }

    /** Registers a branch the participant prepared itself. */
    @POST
    @Path("{id}/branches/{branch}/prepared")
    public TransactionView registerPrepared(@PathParam("id") String id, @PathParam("branch") String branch,
                                            InputStream body,
                                            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType) {
        int n = RequestParams.branch(branch);
        Requests.RegisterPrepared req = json.read(body, RequestParams.contentType(contentType),
                Requests.RegisterPrepared.class, true);
        return service.registerPrepared(id, n, req.resource());
    }

    /** Registers a message on a RocketMQ resource, delivered if and only if the transaction commits: 201. */
    @POST
    @Path("{id}/messages")
    public Response registerMessage(@PathParam("id") String id, InputStream body,
                                    @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @Context UriInfo uri) {
        Requests.RegisterMessage req = json.read(body, RequestParams.contentType(contentType),
                Requests.RegisterMessage.class, true);
        MessageReceipt r = service.registerMessage(id, new TransactionService.MessageSpec(req.resource(),
                req.topic(), req.tags(), req.keys(), req.body(), req.bodyBase64(), req.properties()));
        return Response.created(uri.getBaseUriBuilder().path("v1/transactions/{id}").build(r.transaction()))
                .entity(r).build();
    }
}
