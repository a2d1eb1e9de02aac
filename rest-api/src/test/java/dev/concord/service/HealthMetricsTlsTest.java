package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.concord.service.testing.Api;
import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.ServiceFixture;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health and metrics need no token; metrics count what happened; the service speaks TLS with a key store. */
class HealthMetricsTlsTest {
    private static final String CLIENT = ServiceFixture.CLIENT_TOKEN;

    @TempDir
    Path dir;

    @Test
    void healthAndMetricsAreOpenAndMetricsCountTransactions() throws Exception {
        try (ServiceFixture f = ServiceFixture.start(dir, ServiceFixture.uniqueNodeId("metrics"), "")) {
            Api api = f.api();
            Reply live = api.get("/health/live", null);
            assertEquals(200, live.status());
            assertEquals("UP", live.json().path("status").asText());
            Reply ready = api.get("/health/ready", null);
            assertEquals(200, ready.status(), ready::toString);
            assertEquals("log", ready.json().path("checks").get(0).path("name").asText());

            String a = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
            String b = api.post("/v1/transactions", "{}", CLIENT).json().path("id").asText();
            api.post("/v1/transactions/" + a + "/commit", null, CLIENT);
            api.post("/v1/transactions/" + b + "/rollback", null, CLIENT);

            Reply m = api.get("/metrics", null);
            assertEquals(200, m.status());
            assertTrue(m.contentType().startsWith("text/plain"), m.contentType());
            String text = m.body();
            assertTrue(value(text, "concord_transactions_begun_total") >= 2, text);
            assertTrue(value(text, "concord_transactions_committed_total") >= 1, text);
            assertTrue(value(text, "concord_transactions_rolled_back_total") >= 1, text);
            assertTrue(value(text, "concord_commit_duration_seconds_count{result=\"committed\"}") >= 1, text);
            assertEquals(0.0, value(text, "concord_transactions_in_doubt"), text);
            assertEquals(0.0, value(text, "concord_heuristics_pending"), text);
            assertTrue(text.contains("concord_transactions_in_flight"), text);
            assertTrue(text.contains("concord_log_force_duration_seconds"), text);
            assertTrue(text.contains("jvm_memory_used_bytes"), text);
            assertEquals(200, api.get("/openapi.json", null).status());
        }
    }

    static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + "(?:\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
        if (!m.find()) {
            throw new AssertionError("no series " + series);
        }
        return Double.parseDouble(m.group(1));
    }

    @Test
    void withAKeyStoreTheServiceSpeaksTls() throws Exception {
        Path keystore = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "concord", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "test-pass",
                "-keypass", "test-pass").redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes());
        assertEquals(0, keytool.waitFor(), out);

        String tls = "http: {host: 127.0.0.1, port: 0, tls: {keystore: \"" + keystore + "\", keystorePassword: "
                + "\"${KS_PASSWORD}\"}}\n";
        var config = dev.concord.service.config.ConfigLoader.fromYaml(
                "nodeId: tls-test\ndataDir: \"" + dir.resolve("data") + "\"\n"
                        + "tokens: [{name: app, scope: client, token: " + CLIENT + "}]\nembedded: off\n" + tls,
                java.util.Map.of("KS_PASSWORD", "test-pass"));
        try (ServiceFixture f = ServiceFixture.start(config, ConcordService.Options.defaults())) {
            assertTrue(f.service().baseUri().startsWith("https://"), f.service().baseUri());
            KeyStore server = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                server.load(in, "test-pass".toCharArray());
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("concord", server.getCertificate("concord"));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            Api api = new Api(f.service().baseUri(), ssl);
            Reply created = api.post("/v1/transactions", "{}", CLIENT);
            assertEquals(201, created.status(), created::toString);
            assertTrue(created.header("Location").startsWith("https://"), created::toString);
            JsonNode live = api.get("/health/live", null).json();
            assertEquals("UP", live.path("status").asText());
            assertFalse(f.service().config().toString().contains("test-pass"), "the key store password is not shown");
        }
    }
}
