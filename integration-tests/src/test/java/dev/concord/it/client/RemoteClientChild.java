package dev.concord.it.client;

import com.sun.net.httpserver.HttpServer;
import dev.concord.client.ConcordServiceClient;
import dev.concord.client.OutgoingMessage;
import dev.concord.client.RemoteUserTransaction;
import dev.concord.client.TransactionalMessageSender;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.util.concurrent.Executors;

/**
 * An application using the client, run as a child JVM that the crash tests kill with SIGKILL at a known moment. It
 * prints {@code TX <id>} once its transaction began, then:
 *
 * <ul>
 *   <li>{@code registered-one}: writes a MariaDB row through the enlisting data source and closes the connection
 *       (prepared and registered), writes a PostgreSQL row on a connection it keeps open, adds a message, prints
 *       {@code READY} and waits to be killed;</li>
 *   <li>{@code prepared-unregistered}: talks to the service through a relay in this JVM that holds back the
 *       registration of prepared branches; writes a MariaDB row and closes the connection, so the client prepares
 *       the branch and sends its registration, which the relay holds after printing {@code REGISTRATION-HELD}.</li>
 * </ul>
 *
 * Arguments: data directory (unused), scenario, service URI, token, row id, topic.
 */
public final class RemoteClientChild {
    private RemoteClientChild() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[1];
        URI service = URI.create(args[2]);
        String token = args[3];
        String row = args[4];
        String topic = args[5];
        switch (scenario) {
            case "registered-one" -> registeredOne(service, token, row, topic);
            case "prepared-unregistered" -> preparedUnregistered(service, token, row);
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    private static RemoteUserTransaction begin(URI service, String token) throws Exception {
        RemoteUserTransaction ut = new RemoteUserTransaction(new ConcordServiceClient(service, token));
        ut.setTransactionTimeout(3);
        ut.begin();
        say("TX " + RemoteUserTransaction.currentTransactionId());
        return ut;
    }

    private static void registeredOne(URI service, String token, String row, String topic) throws Exception {
        begin(service, token);
        try (Connection c = RemoteService.mariaDb().getConnection()) {
            RemoteService.insert(c, row, "order");
        }
        Connection open = RemoteService.postgres().getConnection();
        RemoteService.insert(open, row, "invoice");
        new TransactionalMessageSender("events").send(OutgoingMessage.builder(topic, "never " + row).build());
        say("READY");
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void preparedUnregistered(URI service, String token, String row) throws Exception {
        URI relay = startRelay(service);
        begin(relay, token);
        try (Connection c = RemoteService.mariaDb().getConnection()) {
            RemoteService.insert(c, row, "order");
        }
        throw new AssertionError("the registration was not held");
    }

    /** Passes every request on to the service, except registrations of prepared branches, which it never answers. */
    private static URI startRelay(URI service) throws IOException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getRawPath();
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (path.endsWith("/prepared")) {
                say("REGISTRATION-HELD " + path);
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            HttpRequest.Builder r = HttpRequest.newBuilder(service.resolve(exchange.getRequestURI().toString()))
                    .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
            for (String h : new String[] {"Authorization", "Content-Type"}) {
                String v = exchange.getRequestHeaders().getFirst(h);
                if (v != null) {
                    r.header(h, v);
                }
            }
            try {
                HttpResponse<byte[]> answer = http.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
                answer.headers().firstValue("Content-Type").ifPresent(v -> exchange.getResponseHeaders().add(
                        "Content-Type", v));
                exchange.sendResponseHeaders(answer.statusCode(), answer.body().length == 0 ? -1
                        : answer.body().length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(answer.body());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exchange.sendResponseHeaders(502, -1);
            }
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
