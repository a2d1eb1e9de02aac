package dev.concord.client;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the coordinator service on a loopback port: answers each "METHOD /path" with a scripted status
 * and JSON body (404 problem when nothing is scripted) and records every request with its body.
 */
final class ScriptedService implements AutoCloseable {
    record Answer(int status, String body) {
    }

    private final HttpServer server;
    private final Map<String, Answer> script = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();

    ScriptedService() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String key = exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath();
            requests.add(key + (body.isEmpty() ? "" : " " + body) + " auth=" + exchange.getRequestHeaders()
                    .getFirst("Authorization"));
            Answer a = script.getOrDefault(key, new Answer(404, problem("not-found", 404, "nothing scripted", null)));
            byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", a.status() < 300 ? "application/json"
                    : "application/problem+json");
            exchange.sendResponseHeaders(a.status(), out.length);
            try (OutputStream o = exchange.getResponseBody()) {
                o.write(out);
            }
        });
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    ScriptedService on(String methodAndPath, int status, String body) {
        script.put(methodAndPath, new Answer(status, body));
        return this;
    }

    static String tx(String id, String status) {
        return "{\"id\":\"" + id + "\",\"status\":\"" + status + "\",\"timedOut\":false}";
    }

    static String problem(String type, int status, String detail, String txStatus) {
        return "{\"type\":\"urn:concord:problem:" + type + "\",\"title\":\"t\",\"status\":" + status
                + ",\"detail\":\"" + detail + "\"" + (txStatus == null ? ""
                : ",\"transaction\":{\"id\":\"x\",\"status\":\"" + txStatus + "\"}") + "}";
    }

    private boolean stopped;

    @Override
    public synchronized void close() {
        if (!stopped) {
            stopped = true;
            server.stop(0);
        }
    }
}
