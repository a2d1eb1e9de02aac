package dev.concord.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;

/**
 * The coordinator service's transaction calls over HTTP (docs/rest-api.md), with a bearer token of client scope.
 * One instance is safe to share between threads. Every failure is a {@link ServiceCallException}: a problem the
 * service answered, or no answer at all.
 */
public final class ConcordServiceClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Default time to wait for an answer; a commit waits for both phases. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final HttpClient http;
    private final String base;
    private final String token;
    private final String authorization;
    private final Duration requestTimeout;

    /**
     * @param baseUri the service, e.g. {@code http://127.0.0.1:8080}
     * @param token   a token of client (or admin) scope
     */
    public ConcordServiceClient(URI baseUri, String token) {
        this(baseUri, token, DEFAULT_REQUEST_TIMEOUT);
    }

    public ConcordServiceClient(URI baseUri, String token, Duration requestTimeout) {
        Objects.requireNonNull(baseUri, "baseUri");
        if (!"http".equals(baseUri.getScheme()) && !"https".equals(baseUri.getScheme())) {
            throw new IllegalArgumentException("the service URI must be http or https, got " + baseUri);
        }
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("a bearer token is needed");
        }
        String b = baseUri.toString();
        this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
        this.token = token;
        this.authorization = "Bearer " + token;
        this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** The service's base URI. */
    public String baseUri() {
        return base;
    }

    String token() {
        return token;
    }

    /** How long a call waits for the service's answer. */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * Begins a transaction.
     *
     * @param timeoutSeconds the transaction's timeout, or 0 for the service's default
     */
    public TransactionInfo begin(int timeoutSeconds) throws ServiceCallException {
        ObjectNode body = JSON.createObjectNode();
        if (timeoutSeconds > 0) {
            body.put("timeoutSeconds", timeoutSeconds);
        }
        return info(post("/v1/transactions", body, "begin a transaction"));
    }

    /** The transaction's current state. */
    public TransactionInfo get(String id) throws ServiceCallException {
        return info(send(request(tx(id)).GET(), "read transaction " + id));
    }

    /** Commits both phases; answers once the commit is decided. */
    public TransactionInfo commit(String id) throws ServiceCallException {
        return info(post(tx(id) + "/commit", null, "commit " + id));
    }

    /** Rolls back. */
    public TransactionInfo rollback(String id) throws ServiceCallException {
        return info(post(tx(id) + "/rollback", null, "roll back " + id));
    }

    /** Reserves the XID of a new branch, for a branch this client prepares itself. */
    public BranchXid reserveBranch(String id) throws ServiceCallException {
        JsonNode r = post(tx(id) + "/branches", null, "reserve a branch of " + id);
        JsonNode xid = r.path("xid");
        return new BranchXid(r.path("transaction").asText(id), r.path("branch").asInt(), xid.path("formatId").asInt(),
                xid.path("gtrid").asText(), xid.path("bqual").asText());
    }

    /** Registers a branch this client prepared, to be finished by the service through its resource {@code resource}. */
    public void registerPrepared(BranchXid xid, String resource) throws ServiceCallException {
        ObjectNode body = JSON.createObjectNode().put("resource", resource);
        post(tx(xid.transaction()) + "/branches/" + xid.branch() + "/prepared", body,
                "register branch " + xid.branch() + " of " + xid.transaction());
    }

    /** Registers a message on the RocketMQ resource {@code resource}, delivered if and only if the transaction commits. */
    public MessageReceipt registerMessage(String id, String resource, OutgoingMessage m) throws ServiceCallException {
        ObjectNode body = JSON.createObjectNode().put("resource", resource).put("topic", m.topic());
        if (m.tags() != null) {
            body.put("tags", m.tags());
        }
        if (!m.keys().isEmpty()) {
            m.keys().forEach(body.putArray("keys")::add);
        }
        body.put("bodyBase64", Base64.getEncoder().encodeToString(m.body()));
        if (!m.properties().isEmpty()) {
            ObjectNode p = body.putObject("properties");
            m.properties().forEach(p::put);
        }
        JsonNode r = post(tx(id) + "/messages", body, "register a message on " + id);
        return new MessageReceipt(r.path("transaction").asText(id), r.path("resource").asText(resource),
                r.path("branch").asInt(), r.path("index").asInt());
    }

    /** Did the transaction commit? Answered from the service's log, also after the transaction left its memory. */
    public Outcome outcome(String id) throws ServiceCallException {
        JsonNode r = send(request(tx(id) + "/outcome").GET(), "ask the outcome of " + id);
        try {
            return Outcome.valueOf(r.path("outcome").asText());
        } catch (IllegalArgumentException e) {
            throw new ServiceCallException(200, null, "the service answered an unknown outcome: " + r, null);
        }
    }

    private static String tx(String id) {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("no transaction id");
        }
        // Ids are node:beginMillis:sequence; anything else is encoded and left to the service to refuse.
        return "/v1/transactions/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("%3A", ":");
    }

    private static TransactionInfo info(JsonNode r) {
        return new TransactionInfo(r.path("id").asText(), r.path("status").asText(), r.path("timedOut").asBoolean());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(requestTimeout)
                .header("Authorization", authorization);
    }

    private JsonNode post(String path, JsonNode body, String what) throws ServiceCallException {
        HttpRequest.Builder r = request(path);
        if (body == null) {
            r.POST(HttpRequest.BodyPublishers.noBody());
        } else {
            r.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString(),
                    StandardCharsets.UTF_8));
        }
        return send(r, what);
    }

    private JsonNode send(HttpRequest.Builder request, String what) throws ServiceCallException {
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ServiceCallException("no answer from the coordinator service at " + base + " to '" + what
                    + "'", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceCallException("interrupted while waiting for the coordinator service to " + what, e);
        }
        JsonNode json = parse(response.body());
        if (response.statusCode() >= 200 && response.statusCode() < 300) {
            if (json == null) {
                throw new ServiceCallException(response.statusCode(), null, "the coordinator service answered '"
                        + what + "' with a body that is not JSON", null);
            }
            return json;
        }
        if (json == null || !json.isObject()) {
            throw new ServiceCallException(response.statusCode(), null, "the coordinator service refused to " + what
                    + " with status " + response.statusCode(), null);
        }
        JsonNode txStatus = json.path("transaction").path("status");
        throw new ServiceCallException(response.statusCode(), json.path("type").asText(null),
                "the coordinator service refused to " + what + ": " + json.path("detail").asText(
                        json.path("title").asText("status " + response.statusCode())),
                txStatus.isTextual() ? txStatus.asText() : null);
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isEmpty()) {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }
}
