package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Participants;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated requests — random and mutated JSON bodies, paths, methods, headers and tokens from a seeded
 * {@link Random} — against a running service with real databases: no answer is a 5xx, every error is a problem
 * document with the status it is sent with, and afterwards no transaction is left in flight and no branch of this
 * node is left prepared in either database. The seed ({@code -Dconcord.fuzz.seed}) and the number of cases
 * ({@code -Dconcord.fuzz.cases}) can be changed; the run stops after 60 s whatever the count.
 */
class FuzzTest {
    private static final long SEED = Long.getLong("concord.fuzz.seed", 20261125L);
    private static final int CASES = Integer.getInteger("concord.fuzz.cases", 3000);
    private static final Duration BUDGET = Duration.ofSeconds(60);
    private static final String[] TOKENS = {ServiceFixture.CLIENT_TOKEN, ServiceFixture.CLIENT_TOKEN,
            ServiceFixture.CLIENT_TOKEN, ServiceFixture.ADMIN_TOKEN, ServiceFixture.ADMIN_TOKEN, null,
            "garbage-token-0000000000", ""};
    private static final String[] METHODS = {"GET", "GET", "GET", "POST", "POST", "POST", "POST", "POST", "PUT",
            "DELETE", "PATCH", "HEAD", "OPTIONS"};
    private static final String[] TEMPLATES = {
        "/v1/transactions", "/v1/transactions", "/v1/transactions", "/v1/transactions/{id}", "/v1/transactions/{id}/commit",
        "/v1/transactions/{id}/rollback", "/v1/transactions/{id}/branches", "/v1/transactions/{id}/branches/{n}",
        "/v1/transactions/{id}/branches/{n}/prepared", "/v1/transactions/{id}/outcome", "/v1/admin/in-doubt",
        "/v1/admin/heuristics", "/v1/admin/heuristics/forget", "/v1/admin/recovery/scan", "/v1/admin/audit",
        "/v1/admin/transactions/{id}/commit", "/v1/admin/transactions/{id}/rollback", "/health/live",
        "/health/ready", "/metrics", "/openapi.json", "/", "/v1", "/v2/transactions", "/v1/transactions/{id}/x"};
    private static final String[] BODIES = {
        "{}", "{\"timeoutSeconds\": 1}", "{\"timeoutSeconds\": 3}", "{\"resource\": \"mariadb\"}",
        "{\"resource\": \"postgres\"}", "{\"resource\": \"nope\"}", "{\"reason\": \"fuzz\"}",
        "{\"transaction\": \"{id}\", \"resource\": \"mariadb\", \"branch\": 1, \"reason\": \"fuzz\"}",
        "[]", "null", "\"x\"", "42"};

    @TempDir
    static Path dir;
    static ServiceFixture fixture;
    static Api api;
    static String nodeId;

    @BeforeAll
    static void start() throws Exception {
        nodeId = ServiceFixture.uniqueNodeId("fuzz");
        fixture = ServiceFixture.start(dir, nodeId,
                "http: {host: 127.0.0.1, port: 0, maxBodyBytes: 2048}\n"
                        + "transactions: {defaultTimeout: 2s, maxTimeout: 5s}\n"
                        + "shutdown: {grace: 2s}\n"
                        + TestDatabases.resourcesYaml());
        api = fixture.api();
    }

    @AfterAll
    static void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        Participants.rollBackLeftovers(nodeId);
    }

    @Test
    void generatedRequestsNeverGet5xxAndLeaveNothingOpen() throws Exception {
        Random random = new Random(SEED);
        List<String> ids = new ArrayList<>();
        ids.add(Gtrid.of(nodeId, System.currentTimeMillis(), 1).toString());
        long deadline = System.nanoTime() + BUDGET.toNanos();
        int sent = 0;
        int created = 0;
        String previous = "nothing";
        for (; sent < CASES && System.nanoTime() < deadline; sent++) {
            if (sent % 20 == 0) {
                // Now and then a well-formed create, so that mutated requests meet real transactions.
                Api.Reply c = api.post("/v1/transactions", "{\"timeoutSeconds\": " + (1 + random.nextInt(3)) + "}",
                        ServiceFixture.CLIENT_TOKEN);
                assertEquals(201, c.status(), c::toString);
                ids.add(c.json().path("id").asText());
                created++;
            }
            String method = pick(random, METHODS);
            String path = path(random, ids);
            String body = method.equals("POST") || random.nextInt(8) == 0 ? body(random, ids) : null;
            if (method.equals("HEAD") || method.equals("GET") || method.equals("OPTIONS")) {
                body = null;
            }
            HttpRequest.Builder r;
            try {
                r = HttpRequest.newBuilder(URI.create(api.base() + path)).timeout(Duration.ofSeconds(30))
                        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new AssertionError("generated an invalid URI: " + path, e);
            }
            String token = pick(random, TOKENS);
            if (token != null) {
                r.header("Authorization", random.nextInt(20) == 0 ? "Basic " + token : "Bearer " + token);
            }
            if (body != null) {
                r.header("Content-Type", contentType(random));
            }
            String what = "case " + sent + " (seed " + SEED + "): " + method + " " + path + " body=" + body;
            Api.Reply reply;
            try {
                reply = api.send(r.build());
            } catch (AssertionError e) {
                throw new AssertionError(what + " after " + previous + ": " + e.getMessage(), e);
            }
            previous = what + " -> " + reply.status();
            assertTrue(reply.status() < 500, () -> what + " -> " + reply);
            if (reply.status() >= 400 && !method.equals("HEAD")) {
                assertTrue(reply.contentType().startsWith("application/problem+json"), () -> what + " -> " + reply);
                JsonNode p = reply.json();
                assertEquals(reply.status(), p.path("status").asInt(), () -> what + " -> " + reply);
                assertTrue(p.path("type").asText().startsWith("urn:concord:problem:"), () -> what + " -> " + reply);
            }
            if (reply.status() == 201 && path.equals("/v1/transactions")) {
                ids.add(reply.json().path("id").asText());
                created++;
            }
        }
        int raw = rawRequests(random);
        assertTrue(sent >= Math.min(CASES, 500), "only " + sent + " cases ran within " + BUDGET);
        assertTrue(created > 0, "the generator never created a transaction");
        System.out.println("fuzz: " + sent + " generated requests, " + raw + " raw ones, " + created
                + " transactions created, seed " + SEED);

        long settle = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!fixture.service().coordinator().inFlight().isEmpty() && System.nanoTime() < settle) {
            Thread.sleep(100);
        }
        assertTrue(fixture.service().coordinator().inFlight().isEmpty(), () -> "left in flight: "
                + fixture.service().coordinator().inFlight());
        assertTrue(Participants.preparedOfNode(Participants.mariaDbXa(), nodeId).isEmpty());
        assertTrue(Participants.preparedOfNode(Participants.postgresXa(), nodeId).isEmpty());
    }

    /** Malformed HTTP sent over a raw socket: Jetty's own refusals must be problems too, never 5xx. */
    private int rawRequests(Random random) throws IOException {
        String host = "Host: 127.0.0.1\r\n";
        List<String> requests = new ArrayList<>(List.of(
                "GET /v1/transactions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
                "POST /v1/transactions HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                "GET /v1/%zz HTTP/1.1\r\n" + host + "\r\n",
                "GET /v1/transactions/a%2Fb HTTP/1.1\r\n" + host + "\r\n",
                "GET /../../etc/passwd HTTP/1.1\r\n" + host + "\r\n",
                "GET /v1/transactions HTTP/1.1\r\n" + host + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n",
                "GET /" + "a".repeat(20_000) + " HTTP/1.1\r\n" + host + "\r\n",
                "BREW /v1/transactions HTTP/1.1\r\n" + host + "\r\n",
                "GET /v1/transactions HTTP/1.1\r\n" + host + "Bad Header\r\n\r\n"));
        for (int i = 0; i < 30; i++) {
            byte[] junk = new byte[1 + random.nextInt(60)];
            random.nextBytes(junk);
            requests.add("GET /" + new String(junk, StandardCharsets.ISO_8859_1).replaceAll("[\\r\\n ]", "x")
                    + " HTTP/1.1\r\n" + host + "\r\n");
        }
        int n = 0;
        for (String req : requests) {
            String answer = exchange(req);
            if (answer.isEmpty()) {
                continue;
            }
            n++;
            int status = Integer.parseInt(answer.substring(9, 12));
            assertTrue(status < 500, () -> "raw " + req.substring(0, Math.min(60, req.length())) + " -> " + answer);
            if (status >= 400 && !answer.contains("Content-Length: 0\r\n")) {
                assertTrue(answer.toLowerCase().contains("content-type: application/problem+json"),
                        () -> "raw " + req.substring(0, Math.min(60, req.length())) + " -> " + answer);
            }
        }
        return n;
    }

    private static String exchange(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", fixture.service().port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int r; (r = in.read(buf)) > 0; ) {
                    got.write(buf, 0, r);
                    if (got.size() > 1 << 20) {
                        break;
                    }
                }
            } catch (IOException e) {
                // The server may reset a connection it refused; what arrived is judged.
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static String path(Random random, List<String> ids) {
        String p = pick(random, TEMPLATES);
        p = p.replace("{id}", id(random, ids)).replace("{n}", branch(random));
        switch (random.nextInt(12)) {
            case 0 -> p = p + "/";
            case 1 -> p = p.replaceFirst("/", "//");
            case 2 -> p = p + "/" + encoded(random, 1 + random.nextInt(20));
            case 3 -> p = p + "?limit=" + pick(random, new String[] {"0", "1", "-3", "x", "500", "501", "9".repeat(25)})
                    + "&status=" + pick(random, new String[] {"ACTIVE", "COMMITTED,ACTIVE", "nope", ""})
                    + "&cursor=" + encoded(random, random.nextInt(10)) + "&minAgeSeconds=" + (random.nextInt(20) - 5);
            case 4 -> p = p.toUpperCase();
            case 5 -> p = p + "/.";
            default -> {
            }
        }
        return p;
    }

    private static String id(Random random, List<String> ids) {
        return switch (random.nextInt(6)) {
            case 0, 1, 2 -> ids.get(random.nextInt(ids.size()));
            case 3 -> {
                String id = ids.get(random.nextInt(ids.size()));
                int at = random.nextInt(id.length());
                yield id.substring(0, at) + encoded(random, 1) + id.substring(Math.min(id.length(), at + 1));
            }
            case 4 -> encoded(random, random.nextInt(30) + 1);
            default -> pick(random, new String[] {"a:1:2", "node:-1:5", "n:" + Long.MAX_VALUE + ":1",
                    "x".repeat(120) + ":1:1", "%00", "%C3%A9t%C3%A9:1:1", "other-node:1700000000000:9"});
        };
    }

    private static String branch(Random random) {
        return pick(random, new String[] {"1", "2", "3", "0", "-1", "2147483648", "abc", "1e3",
                String.valueOf(random.nextInt(100))});
    }

    private static String encoded(Random random, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int c = random.nextInt(256);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }

    private static String body(Random random, List<String> ids) {
        String b = pick(random, BODIES).replace("{id}", ids.get(random.nextInt(ids.size())));
        int mutations = random.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            b = mutate(random, b);
        }
        return b;
    }

    private static String mutate(Random random, String b) {
        switch (random.nextInt(14)) {
            case 0:
                return b.isEmpty() ? b : b.substring(0, random.nextInt(b.length()));
            case 1:
                return b.replaceFirst("\\d+", pick(random, new String[] {"-1", "0", "1.5", "1e400", "\"7\"",
                        "99999999999999999999", "null", "true", "[]", "{}"}));
            case 2:
                return b.replaceFirst("\"[a-zA-Z]+\":", "\"" + encoded(random, 1 + random.nextInt(6)) + "\":");
            case 3:
                return b.startsWith("{") && b.length() > 2 ? "{\"extra\": 1, " + b.substring(1) : b;
            case 4:
                return "[".repeat(random.nextInt(200)) + b;
            case 5: {
                byte[] junk = new byte[random.nextInt(40)];
                random.nextBytes(junk);
                return b + new String(junk, StandardCharsets.ISO_8859_1);
            }
            case 6:
                return b.replace("fuzz", "x".repeat(random.nextInt(3000)));
            case 7:
                return b.startsWith("{\"") ? b.replaceFirst("\\{", "{\"timeoutSeconds\": 2, ") : b;
            case 8:
                return b.replace(':', random.nextBoolean() ? ',' : ':');
            case 9:
                return "";
            case 10:
                return b.replace("\"", "'");
            case 11:
                return "{\"a\":" + "{\"a\":".repeat(random.nextInt(2000)) + "1" + "}".repeat(2000);
            case 12:
                return b.replace("mariadb", "\u00e9\u0000\ud83d\ude00");
            default:
                return " \n\t" + b + " ";
        }
    }

    private static String contentType(Random random) {
        return pick(random, new String[] {"application/json", "application/json", "application/json; charset=utf-8",
                "text/plain", "application/x-www-form-urlencoded", "application/problem+json", "*/*", "garbage/",
                "application/json; charset=latin1", "multipart/form-data; boundary=x"});
    }

    private static <T> T pick(Random random, T[] values) {
        return values[random.nextInt(values.length)];
    }
}
