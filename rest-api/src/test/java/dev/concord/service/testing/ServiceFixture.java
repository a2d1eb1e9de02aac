package dev.concord.service.testing;

import dev.concord.service.ConcordService;
import dev.concord.service.config.ConfigLoader;
import dev.concord.service.config.ServiceConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** A running service on a free loopback port, with a client and an admin token, in a test's own directory. */
public final class ServiceFixture implements AutoCloseable {
    public static final String CLIENT_TOKEN = "client-token-for-tests-0001";
    public static final String ADMIN_TOKEN = "admin-token-for-tests-00001";

    private final ConcordService service;
    private final Api api;

    private ServiceFixture(ConcordService service) {
        this.service = service;
        this.api = new Api(service.baseUri());
    }

    /** A node id no other test uses, so recovery passes of different tests never touch each other's XIDs. */
    public static String uniqueNodeId(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    }

    /**
     * The configuration: data in {@code dir}, port 0, two tokens, no embedded resources, plus {@code extraYaml}
     * (top-level keys).
     */
    public static ServiceConfig config(Path dir, String nodeId, String extraYaml) throws Exception {
        String yaml = "nodeId: " + nodeId + "\n"
                + "dataDir: \"" + dir.resolve("data") + "\"\n"
                + "tokens:\n"
                + "  - {name: app, scope: client, token: " + CLIENT_TOKEN + "}\n"
                + "  - {name: ops, scope: admin, token: " + ADMIN_TOKEN + "}\n"
                + extraYaml;
        if (!yaml.contains("http:")) {
            yaml += "\nhttp: {host: 127.0.0.1, port: 0}\n";
        }
        if (!yaml.contains("embedded:")) {
            // The embedded broker and database are tested on their own (EmbeddedDefaultTest).
            yaml += "\nembedded: off\n";
        }
        return ConfigLoader.fromYaml(yaml, Map.of());
    }

    public static ServiceFixture start(Path dir, String nodeId, String extraYaml) throws Exception {
        return start(config(dir, nodeId, extraYaml), ConcordService.Options.defaults());
    }

    public static ServiceFixture start(ServiceConfig config, ConcordService.Options options) throws Exception {
        return new ServiceFixture(ConcordService.start(config, options));
    }

    public Api api() {
        return api;
    }

    public ConcordService service() {
        return service;
    }

    @Override
    public void close() {
        service.close();
    }
}
