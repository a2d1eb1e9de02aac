package dev.concord.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.concord.service.testing.Api.Reply;
import dev.concord.service.testing.ServiceFixture;
import dev.concord.service.testing.TestDatabases;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's own database connections in the service: the configured {@code phase2IdleConnections} reach
 * the resources, idle ones are reused by recovery and readiness, and shutdown closes them. Sessions are counted in
 * PostgreSQL's {@code pg_stat_activity} by the application name each resource connects with.
 */
class DatabaseConnectionsTest {
    @TempDir
    Path dir;

    private static int sessionsNamed(String name) throws Exception {
        try (Connection c = TestDatabases.postgres(); PreparedStatement p =
                c.prepareStatement("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?")) {
            p.setString(1, name);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    private static void awaitSessionsNamed(String name, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (sessionsNamed(name) != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, sessionsNamed(name), "sessions named " + name);
    }

    private static String database(String name, String app, String extra) {
        return "    - {name: " + name + ", type: postgresql, url: \"" + TestDatabases.postgresUrl() + "\", user: "
                + TestDatabases.postgresUser() + ", password: \"" + TestDatabases.postgresPassword()
                + "\", properties: {applicationName: " + app + "}" + extra + "}\n";
    }

    @Test
    void idleConnectionsAreKeptAsConfiguredAndClosedAtShutdown() throws Exception {
        String cached = "concord-svc-cached-" + UUID.randomUUID().toString().substring(0, 8);
        String uncached = "concord-svc-uncached-" + UUID.randomUUID().toString().substring(0, 8);
        String yaml = "resources:\n  databases:\n"
                + database("cached", cached, ", phase2IdleTimeout: 10m")
                + database("uncached", uncached, ", phase2IdleConnections: 0");

        ServiceFixture fixture = ServiceFixture.start(dir, ServiceFixture.uniqueNodeId("conn"), yaml);
        try {
            // The recovery pass at start scanned both; readiness asks both again.
            for (int i = 0; i < 3; i++) {
                Reply ready = fixture.api().get("/health/ready", null);
                assertEquals(200, ready.status(), ready::toString);
            }
            awaitSessionsNamed(cached, 1);
            awaitSessionsNamed(uncached, 0);
        } finally {
            fixture.close();
        }

        awaitSessionsNamed(cached, 0);
    }
}
