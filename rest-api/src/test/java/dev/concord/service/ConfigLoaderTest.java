package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.service.config.ConfigException;
import dev.concord.service.config.ConfigLoader;
import dev.concord.service.config.Scope;
import dev.concord.service.config.ServiceConfig;
import dev.concord.xa.jdbc.JdbcResourceConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration: defaults, the YAML file, environment overrides, and refusals that name the key. */
class ConfigLoaderTest {
    private static final String TOKEN = "s3cret-token-value-0123456789";

    static String problem(String yaml, Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.fromYaml(yaml, env));
        return e.getMessage();
    }

    static String problem(String yaml) {
        return problem(yaml, Map.of());
    }

    @Test
    void withoutAFileEverySettingHasItsDefault() throws Exception {
        ServiceConfig c = ConfigLoader.load(null, Map.of());
        assertEquals("concord-1", c.nodeId());
        assertEquals(Path.of("data"), c.dataDir());
        assertEquals(8080, c.http().port());
        assertEquals("127.0.0.1", c.http().host());
        assertEquals(1 << 20, c.http().maxBodyBytes());
        assertNull(c.http().tls());
        assertEquals(Duration.ofSeconds(60), c.transactions().defaultTimeout());
        assertEquals(Duration.ofHours(1), c.transactions().maxTimeout());
        assertEquals(10_000, c.transactions().retainFinished());
        assertEquals(Duration.ofMinutes(10), c.outcomes().retention());
        assertEquals(Duration.ofSeconds(30), c.recoveryInterval());
        assertTrue(c.tokens().isEmpty());
        assertTrue(c.databases().isEmpty());
    }

    @Test
    void aFullFileIsRead(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("concord.yaml");
        Files.writeString(file, """
                nodeId: orders-1
                dataDir: /var/lib/concord
                http: {host: 0.0.0.0, port: 9090, maxBodyBytes: 2048}
                transactions: {defaultTimeout: 90s, maxTimeout: 2h, retainFinished: 5, retainFinishedFor: 5m}
                outcomes: {retention: 30m, maxCommits: 1000}
                recovery: {interval: 250ms}
                shutdown: {grace: 1m}
                tokens:
                  - {name: orders-app, scope: client, token: "%s"}
                  - {name: operator, scope: ADMIN, token: "${OPS_TOKEN}"}
                resources:
                  databases:
                    - name: orders
                      type: mysql
                      url: jdbc:mysql://127.0.0.1:3306/orders
                      user: concord
                      password: "${DB_PASSWORD:-fallback}"
                      pool: {min: 1, max: 4}
                      connectTimeout: 3s
                      phase2IdleConnections: 0
                      phase2IdleTimeout: 5m
                      properties: {tcpKeepAlive: "true"}
                    - {name: billing, type: postgresql, url: "jdbc:postgresql://127.0.0.1:5432/billing"}
                """.formatted(TOKEN));
        ServiceConfig c = ConfigLoader.load(file, Map.of("OPS_TOKEN", "ops-token-from-the-environment"));
        assertEquals("orders-1", c.nodeId());
        assertEquals(Path.of("/var/lib/concord"), c.dataDir());
        assertEquals(9090, c.http().port());
        assertEquals("0.0.0.0", c.http().host());
        assertEquals(2048, c.http().maxBodyBytes());
        assertEquals(Duration.ofSeconds(90), c.transactions().defaultTimeout());
        assertEquals(Duration.ofHours(2), c.transactions().maxTimeout());
        assertEquals(5, c.transactions().retainFinished());
        assertEquals(Duration.ofMinutes(5), c.transactions().retainFinishedFor());
        assertEquals(Duration.ofMinutes(30), c.outcomes().retention());
        assertEquals(1000, c.outcomes().maxCommits());
        assertEquals(Duration.ofMillis(250), c.recoveryInterval());
        assertEquals(Duration.ofMinutes(1), c.shutdownGrace());
        assertEquals(Scope.CLIENT, c.tokens().get(0).scope());
        assertEquals(Scope.ADMIN, c.tokens().get(1).scope());
        assertEquals("ops-token-from-the-environment", c.tokens().get(1).value());
        JdbcResourceConfig orders = c.databases().get(0);
        assertEquals("orders", orders.name());
        assertEquals(JdbcResourceConfig.Type.MYSQL, orders.type());
        assertEquals("fallback", orders.password());
        assertEquals(4, orders.maxPoolSize());
        assertEquals(Duration.ofSeconds(3), orders.connectTimeout());
        assertEquals(0, orders.phase2IdleConnections());
        assertEquals(Duration.ofMinutes(5), orders.phase2IdleTimeout());
        JdbcResourceConfig billing = c.databases().get(1);
        assertEquals(JdbcResourceConfig.Type.POSTGRESQL, billing.type());
        assertEquals(JdbcResourceConfig.DEFAULT_PHASE2_IDLE_CONNECTIONS, billing.phase2IdleConnections());
        assertEquals(4, billing.phase2IdleConnections());
        assertEquals(Duration.ofSeconds(60), billing.phase2IdleTimeout());
    }

    @Test
    void environmentVariablesOverrideTheFile() throws Exception {
        ServiceConfig c = ConfigLoader.fromYaml("nodeId: a\nhttp: {port: 1000}\n", Map.of(
                "CONCORD_NODE_ID", "from-env", "CONCORD_HTTP_PORT", "8181", "CONCORD_DATA_DIR", "other-data",
                "CONCORD_TX_DEFAULT_TIMEOUT", "5s", "CONCORD_RECOVERY_INTERVAL", "2m",
                "CONCORD_ADMIN_TOKEN", "admin-token-from-environment", "CONCORD_CLIENT_TOKEN",
                "client-token-from-environment"));
        assertEquals("from-env", c.nodeId());
        assertEquals(8181, c.http().port());
        assertEquals(Path.of("other-data"), c.dataDir());
        assertEquals(Duration.ofSeconds(5), c.transactions().defaultTimeout());
        assertEquals(Duration.ofMinutes(2), c.recoveryInterval());
        assertEquals(2, c.tokens().size());
        assertTrue(c.tokens().stream().anyMatch(t -> t.name().equals("env-admin") && t.scope() == Scope.ADMIN));
        assertTrue(c.tokens().stream().anyMatch(t -> t.name().equals("env-client") && t.scope() == Scope.CLIENT));
    }

    @Test
    void problemsNameTheKey() {
        assertTrue(problem("http: {port: 70000}").startsWith("http.port: must be between 0 and 65535"));
        assertTrue(problem("http: {port: eighty}").startsWith("http.port: must be a whole number"));
        assertTrue(problem("http: {prot: 80}").startsWith("http.prot: unknown key in http"));
        assertTrue(problem("htp: {port: 80}").startsWith("htp: unknown key"));
        assertTrue(problem("nodeId: \"a b\"").startsWith("nodeId: node id must be"));
        assertTrue(problem("transactions: {defaultTimeout: soon}").startsWith("transactions.defaultTimeout: not a"));
        assertTrue(problem("transactions: {defaultTimeout: 0s}").startsWith("transactions.defaultTimeout: must be"));
        assertTrue(problem("transactions: {defaultTimeout: 2h, maxTimeout: 1h}").startsWith("transactions.maxTimeout"));
        assertTrue(problem("outcomes: {retention: 8d}").startsWith("outcomes.retention"));
        assertTrue(problem("recovery: {interval: 10ms}").startsWith("recovery.interval"));
        assertTrue(problem("http: [1, 2]").startsWith("http: must be a mapping"));
        assertTrue(problem("tokens: {a: b}").startsWith("tokens: must be a list"));
        assertTrue(problem("dataDir: \"\"").startsWith("dataDir: must not be empty"));
        assertTrue(problem("nodeId: a\nnodeId: b").contains("not valid YAML"));
        assertTrue(problem("a: [").contains("not valid YAML"));
        assertTrue(problem("- 1\n- 2").contains("top level must be a mapping"));
        assertTrue(problem("dataDir: \"${NOT_SET_ANYWHERE}\"").startsWith("dataDir: environment variable "
                + "NOT_SET_ANYWHERE is not set"));
        assertTrue(problem("", Map.of("CONCORD_HTTP_PORT", "x")).startsWith("http.port (from CONCORD_HTTP_PORT): "
                + "must be a whole number"));
        assertTrue(problem("http: {tls: {keystore: /no/such/file.p12, keystorePassword: pw}}")
                .startsWith("http.tls.keystore: no readable file"));
        assertTrue(problem("http: {tls: {keystorePassword: pw}}").startsWith("http.tls.keystore: must be set"));
    }

    @Test
    void tokensAreCheckedAndNeverPrinted() throws Exception {
        assertTrue(problem("tokens: [{name: a, scope: client, token: short}]").startsWith("tokens[0].token: must be "
                + "at least 16"));
        assertTrue(problem("tokens: [{name: a, scope: root, token: " + TOKEN + "}]").startsWith("tokens[0].scope"));
        assertTrue(problem("tokens: [{name: a, scope: client, token: " + TOKEN + "}, {name: a, scope: admin, token: "
                + TOKEN + "x}]").startsWith("tokens[1].name: another token"));
        String dup = problem("tokens: [{name: a, scope: client, token: " + TOKEN + "}, {name: b, scope: admin, "
                + "token: " + TOKEN + "}]");
        assertTrue(dup.startsWith("tokens[1].token: two tokens have the same value"), dup);
        assertFalse(dup.contains(TOKEN));
        assertTrue(problem("", Map.of("CONCORD_ADMIN_TOKEN", "short")).startsWith("tokens[0].token (from "
                + "CONCORD_ADMIN_TOKEN)"));
        ServiceConfig c = ConfigLoader.fromYaml("tokens: [{name: a, scope: client, token: " + TOKEN + "}]\n"
                + "resources: {databases: [{name: d, type: postgresql, url: \"jdbc:postgresql://h/db\", user: u, "
                + "password: hunter2-password}]}", Map.of());
        assertFalse(c.toString().contains(TOKEN), c::toString);
        assertFalse(c.toString().contains("hunter2"), c::toString);
    }

    @Test
    void databasesAreValidatedWithTheirPosition() {
        assertTrue(problem("resources: {databases: [{type: mysql, url: \"jdbc:mysql://h/d\"}]}")
                .startsWith("resources.databases[0].name: must be set"));
        assertTrue(problem("resources: {databases: [{name: a, url: \"jdbc:mysql://h/d\"}]}")
                .startsWith("resources.databases[0].type: must be set"));
        assertTrue(problem("resources: {databases: [{name: a, type: oracle, url: \"jdbc:x\"}]}")
                .startsWith("resources.databases[0].type: resource type must be mysql, postgresql or generic"));
        String url = problem("resources: {databases: [{name: a, type: mysql, url: \"mysql://h/d\"}]}");
        assertTrue(url.startsWith("resources.databases[0]: resource 'a': url must start with 'jdbc:'"), url);
        assertTrue(problem("resources: {databases: [{name: a, type: mysql, url: \"jdbc:mysql://h/d\"}, "
                + "{name: a, type: mysql, url: \"jdbc:mysql://h/e\"}]}").startsWith("resources.databases[1].name"));
        assertTrue(problem("resources: {databases: [{name: a, type: mysql, url: \"jdbc:mysql://h/d\", pool: "
                + "{max: 0}}]}").startsWith("resources.databases[0].pool.max"));
        assertTrue(problem("resources: {kafka: []}").startsWith("resources.kafka: unknown key"));
        String db = "resources: {databases: [{name: a, type: mysql, url: \"jdbc:mysql://h/d\", ";
        assertEquals("resources.databases[0].phase2IdleConnections: must be between 0 and 1000, got -1",
                problem(db + "phase2IdleConnections: -1}]}"));
        assertEquals("resources.databases[0].phase2IdleConnections: must be between 0 and 1000, got 5000",
                problem(db + "phase2IdleConnections: 5000}]}"));
        assertEquals("resources.databases[0].phase2IdleConnections: must be a whole number, got 'few'",
                problem(db + "phase2IdleConnections: few}]}"));
        assertEquals("resources.databases[0].phase2IdleTimeout: must be positive, got 0s",
                problem(db + "phase2IdleTimeout: 0s}]}"));
        String notDuration = problem(db + "phase2IdleTimeout: soon}]}");
        assertTrue(notDuration.startsWith("resources.databases[0].phase2IdleTimeout: not a duration"), notDuration);
        String unknown = problem(db + "phase2Idle: 3}]}");
        assertTrue(unknown.startsWith("resources.databases[0].phase2Idle: unknown key"), unknown);
        assertTrue(unknown.contains("phase2IdleConnections, phase2IdleTimeout"), unknown);
        assertTrue(problem("resources: {databases: [{name: a, type: mysql, url: \"jdbc:mysql://h/d\", "
                + "colour: red}]}").startsWith("resources.databases[0].colour: unknown key"));
    }
}
