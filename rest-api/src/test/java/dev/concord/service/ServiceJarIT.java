package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.ServiceProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one built artifact: {@code java -jar concord-service.jar --config FILE} starts the whole service (Jersey,
 * HK2 and Jetty found through the merged META-INF/services of the shaded jar), serves the API, and stops on
 * SIGTERM.
 */
class ServiceJarIT {
    @TempDir
    Path dir;

    @Test
    void javaDashJarRunsTheService() throws Exception {
        Path jar = Path.of(System.getProperty("concord.service.jar", "target/concord-service.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "no " + jar);
        Path config = dir.resolve("concord.yaml");
        Files.writeString(config, "nodeId: " + ServiceFixture.uniqueNodeId("jar") + "\n"
                + "http: {host: 127.0.0.1, port: 0}\n"
                + "tokens: [{name: app, scope: client, token: \"${APP_TOKEN}\"}]\n"
                + "embedded: off\n");
        try (ServiceProcess p = ServiceProcess.jar(jar, dir, Map.of("APP_TOKEN", ServiceFixture.CLIENT_TOKEN),
                "--config", config.toString())) {
            Api api = new Api(p.awaitListening(60));
            Reply created = api.post("/v1/transactions", "{\"timeoutSeconds\": 30}", ServiceFixture.CLIENT_TOKEN);
            assertEquals(201, created.status(), created::toString);
            String id = created.json().path("id").asText();
            assertEquals("COMMITTED", api.post("/v1/transactions/" + id + "/commit", null,
                    ServiceFixture.CLIENT_TOKEN).json().path("status").asText());
            assertEquals(401, api.get("/v1/transactions", null).status());
            assertEquals("3.0.3", api.get("/openapi.json", null).json().path("openapi").asText());
            assertTrue(api.get("/metrics", null).body().contains("concord_transactions_committed_total"));
            p.terminate();
            assertEquals(143, p.awaitExit(60), p::output);
            assertTrue(p.output().contains("concord: stopped"), p::output);
        }
    }
}
