package dev.concord.service.config;

import dev.concord.xa.rocketmq.RocketMqResourceConfig;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.xa.jdbc.JdbcResourceConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the service configuration: one YAML file, then environment-variable overrides, then validation. Every
 * problem is reported as a {@link ConfigException} naming the key; unknown keys are refused so that a misspelt
 * key does not silently fall back to a default.
 *
 * <h2>File</h2>
 * <pre>
 * nodeId: concord-1                 # 1-36 of [A-Za-z0-9._-]; unique per database server
 * dataDir: data                     # transaction log in dataDir/log, audit log in dataDir/audit.log
 * http:
 *   host: 127.0.0.1
 *   port: 8080                      # 0 picks a free port
 *   maxBodyBytes: 1048576
 *   tls: {keystore: server.p12, keystorePassword: "${KEYSTORE_PASSWORD}", keystoreType: PKCS12}
 * transactions: {defaultTimeout: 60s, maxTimeout: 1h, retainFinished: 10000, retainFinishedFor: 1h}
 * outcomes: {retention: 10m, maxCommits: 200000}   # how long "did T commit?" is answerable
 * embedded: auto                    # auto | on | off: embedded Derby + RocketMQ (auto: when no resource is configured)
 * recovery: {interval: 30s}
 * shutdown: {grace: 30s}
 * tokens:
 *   - {name: orders-app, scope: client, token: "${ORDERS_TOKEN}"}
 * resources:
 *   databases:
 *     - name: orders
 *       type: mysql                   # mysql | postgresql | generic
 *       url: jdbc:mysql://127.0.0.1:3306/orders
 *       user: concord
 *       password: "${ORDERS_DB_PASSWORD}"
 *       dataSourceClass: ...          # generic only
 *       properties: {connectTimeout: "5000"}
 *       pool: {min: 0, max: 10}
 *       connectTimeout: 10s
 *       acquireTimeout: 30s
 *       validateAfterIdle: 30s
 *       phase2IdleConnections: 4      # the coordinator's own idle connections (checks, phase 2, recovery); 0: none
 *       phase2IdleTimeout: 60s        # one idle longer is closed instead of reused
 *   rocketmq:
 *     - name: events
 *       namesrvAddress: 127.0.0.1:9876  # host:port[;host:port...]
 *       producerGroup: concord-events   # used by no other application
 *       sendTimeout: 3s
 *       checkHorizon: 486s              # the brokers' transactionTimeOut + (checkMax + 1) x checkInterval
 *       accessKey: ...                  # ACL, both or neither
 *       secretKey: "${EVENTS_SECRET_KEY}"
 *       maxMessageBytes: 4194304        # largest message body a client may register (at most 4 MiB)
 * </pre>
 * {@code outcomes.retention} must be longer than every RocketMQ resource's {@code checkHorizon}: the broker's
 * check-back asks the outcome query until the horizon, and must not get ROLLBACK for a commit forgotten early.
 * Durations are a number with a unit ({@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d}), a plain
 * number of seconds, or ISO-8601 ({@code PT30S}). A string value may refer to environment variables as
 * {@code ${NAME}} or {@code ${NAME:-default}}; an unset variable without a default is an error.
 *
 * <h2>Environment overrides</h2>
 * Applied after the file: {@code CONCORD_NODE_ID}, {@code CONCORD_DATA_DIR}, {@code CONCORD_HTTP_HOST},
 * {@code CONCORD_HTTP_PORT}, {@code CONCORD_HTTP_MAX_BODY_BYTES}, {@code CONCORD_TLS_KEYSTORE},
 * {@code CONCORD_TLS_KEYSTORE_PASSWORD}, {@code CONCORD_TLS_KEYSTORE_TYPE}, {@code CONCORD_TX_DEFAULT_TIMEOUT},
 * {@code CONCORD_TX_MAX_TIMEOUT}, {@code CONCORD_TX_RETAIN_FINISHED}, {@code CONCORD_TX_RETAIN_FINISHED_FOR},
 * {@code CONCORD_OUTCOME_RETENTION}, {@code CONCORD_RECOVERY_INTERVAL}, {@code CONCORD_SHUTDOWN_GRACE},
 * {@code CONCORD_EMBEDDED}; and {@code CONCORD_CLIENT_TOKEN} /
 * {@code CONCORD_ADMIN_TOKEN}, which add a token named {@code env-client} / {@code env-admin}.
 */
public final class ConfigLoader {
    /** Smallest accepted token length: shorter secrets are too easy to guess. */
    public static final int MIN_TOKEN_LENGTH = 16;
    /** Largest accepted {@code http.maxBodyBytes}. */
    public static final long MAX_BODY_LIMIT = 64L << 20;

    /** Largest (and default) {@code maxMessageBytes} of a RocketMQ resource: the broker's default maxMessageSize. */
    public static final long MAX_MESSAGE_BYTES = 4L << 20;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

    /** Environment variables that override one key, in the order they are applied. */
    private static final Map<String, String> OVERRIDES = new LinkedHashMap<>();

    static {
        OVERRIDES.put("CONCORD_NODE_ID", "nodeId");
        OVERRIDES.put("CONCORD_DATA_DIR", "dataDir");
        OVERRIDES.put("CONCORD_HTTP_HOST", "http.host");
        OVERRIDES.put("CONCORD_HTTP_PORT", "http.port");
        OVERRIDES.put("CONCORD_HTTP_MAX_BODY_BYTES", "http.maxBodyBytes");
        OVERRIDES.put("CONCORD_TLS_KEYSTORE", "http.tls.keystore");
        OVERRIDES.put("CONCORD_TLS_KEYSTORE_PASSWORD", "http.tls.keystorePassword");
        OVERRIDES.put("CONCORD_TLS_KEYSTORE_TYPE", "http.tls.keystoreType");
        OVERRIDES.put("CONCORD_TX_DEFAULT_TIMEOUT", "transactions.defaultTimeout");
        OVERRIDES.put("CONCORD_TX_MAX_TIMEOUT", "transactions.maxTimeout");
        OVERRIDES.put("CONCORD_TX_RETAIN_FINISHED", "transactions.retainFinished");
        OVERRIDES.put("CONCORD_TX_RETAIN_FINISHED_FOR", "transactions.retainFinishedFor");
        OVERRIDES.put("CONCORD_OUTCOME_RETENTION", "outcomes.retention");
        OVERRIDES.put("CONCORD_RECOVERY_INTERVAL", "recovery.interval");
        OVERRIDES.put("CONCORD_SHUTDOWN_GRACE", "shutdown.grace");
        OVERRIDES.put("CONCORD_EMBEDDED", "embedded");
    }

    private final Map<String, String> env;
    /** Key path → environment variable it was taken from, for messages. */
    private final Map<String, String> origins = new LinkedHashMap<>();

    private ConfigLoader(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /**
     * Loads the configuration.
     *
     * @param file the YAML file, or null for defaults plus environment overrides
     * @param env  the environment ({@code System.getenv()} in production)
     */
    public static ServiceConfig load(Path file, Map<String, String> env) throws ConfigException {
        String text = "";
        if (file != null) {
            try {
                text = Files.readString(file);
            } catch (IOException | RuntimeException e) {
                throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage(), e);
            }
        }
        return new ConfigLoader(env).read(text, file == null ? "defaults" : file.toString());
    }

    /** Loads the configuration from YAML text (an empty string means defaults). */
    public static ServiceConfig fromYaml(String yaml, Map<String, String> env) throws ConfigException {
        return new ConfigLoader(env).read(yaml, "configuration");
    }

    private ServiceConfig read(String text, String source) throws ConfigException {
        ObjectNode root = parse(text, source);
        applyOverrides(root);
        Node top = new Node(root, "", this);
        top.allowOnly("nodeId", "dataDir", "http", "transactions", "outcomes", "recovery", "shutdown", "tokens",
                "resources", "embedded");

        String nodeId = top.string("nodeId", "concord-1");
        try {
            Gtrid.validateNodeId(nodeId);
        } catch (IllegalArgumentException e) {
            throw top.problem("nodeId", e.getMessage());
        }
        Path dataDir = top.path("dataDir", "data");

        Node h = top.child("http");
        h.allowOnly("host", "port", "maxBodyBytes", "tls");
        String host = h.string("host", "127.0.0.1");
        if (host.isBlank()) {
            throw h.problem("host", "must not be empty");
        }
        int port = (int) h.integer("port", 8080, 0, 65535);
        long maxBody = h.integer("maxBodyBytes", 1L << 20, 1, MAX_BODY_LIMIT);
        ServiceConfig.Tls tls = readTls(h.child("tls"));

        Node t = top.child("transactions");
        t.allowOnly("defaultTimeout", "maxTimeout", "retainFinished", "retainFinishedFor");
        Duration defaultTimeout = t.duration("defaultTimeout", Duration.ofSeconds(60));
        Duration maxTimeout = t.duration("maxTimeout", Duration.ofHours(1));
        if (maxTimeout.compareTo(defaultTimeout) < 0) {
            throw t.problem("maxTimeout", "must not be below transactions.defaultTimeout (" + defaultTimeout + ")");
        }
        int retainFinished = (int) t.integer("retainFinished", 10_000, 0, 1_000_000);
        Duration retainFor = t.duration("retainFinishedFor", Duration.ofHours(1));

        Node o = top.child("outcomes");
        o.allowOnly("retention", "maxCommits");
        Duration outcomeRetention = o.duration("retention", RecentCommits.DEFAULT_COMMIT_RETENTION);
        if (outcomeRetention.compareTo(RecentCommits.MAX_COMMIT_RETENTION) > 0) {
            throw o.problem("retention", "must be at most " + RecentCommits.MAX_COMMIT_RETENTION.toDays() + " days");
        }
        int maxCommits = (int) o.integer("maxCommits", RecentCommits.DEFAULT_MAX_RECENT_COMMITS, 1,
                RecentCommits.MAX_MAX_RECENT_COMMITS);

        Node r = top.child("recovery");
        r.allowOnly("interval");
        Duration recoveryInterval = r.duration("interval", Duration.ofSeconds(30));
        if (recoveryInterval.toMillis() < 100) {
            throw r.problem("interval", "must be at least 100ms");
        }
        Node s = top.child("shutdown");
        s.allowOnly("grace");
        Duration grace = s.duration("grace", Duration.ofSeconds(30));

        List<ServiceConfig.Token> tokens = readTokens(top);
        Node resources = top.child("resources");
        resources.allowOnly("databases", "rocketmq");
        List<JdbcResourceConfig> databases = readDatabases(resources);
        List<ServiceConfig.RocketMq> rocketmq = readRocketMq(resources, databases);
        for (ServiceConfig.RocketMq rmq : rocketmq) {
            RocketMqResourceConfig mq = rmq.resource();
            if (outcomeRetention.compareTo(mq.checkHorizon()) <= 0) {
                throw o.problem("retention", "must be longer than the checkHorizon (" + mq.checkHorizon()
                        + ") of RocketMQ resource '" + mq.name() + "', got " + outcomeRetention
                        + ": the broker's check-back must find every commit it asks about");
            }
        }

        ServiceConfig.Embedded embedded = readEmbedded(top);
        boolean embeddedResources = embedded == ServiceConfig.Embedded.ON
                || (embedded == ServiceConfig.Embedded.AUTO && databases.isEmpty() && rocketmq.isEmpty());
        if (embeddedResources) {
            for (String name : List.of(ServiceConfig.EMBEDDED_DATABASE, ServiceConfig.EMBEDDED_ROCKETMQ)) {
                boolean taken = databases.stream().anyMatch(d -> d.name().equals(name))
                        || rocketmq.stream().anyMatch(m -> m.resource().name().equals(name));
                if (taken) {
                    throw top.problem("embedded", "the embedded resources are named '"
                            + ServiceConfig.EMBEDDED_DATABASE + "' and '" + ServiceConfig.EMBEDDED_ROCKETMQ
                            + "'; a configured resource is already named '" + name + "'");
                }
            }
        }

        return new ServiceConfig(nodeId, dataDir,
                new ServiceConfig.Http(host, port, maxBody, tls),
                new ServiceConfig.Transactions(defaultTimeout, maxTimeout, retainFinished, retainFor),
                new ServiceConfig.Outcomes(outcomeRetention, maxCommits), recoveryInterval, grace, tokens, databases,
                rocketmq, embedded, embeddedResources);
    }

    private static ServiceConfig.Embedded readEmbedded(Node top) throws ConfigException {
        String value = top.string("embedded", "auto").trim().toLowerCase(Locale.ROOT);
        return switch (value) {
            case "auto" -> ServiceConfig.Embedded.AUTO;
            case "on", "true" -> ServiceConfig.Embedded.ON;
            case "off", "false" -> ServiceConfig.Embedded.OFF;
            default -> throw top.problem("embedded", "must be auto, on or off, got '" + value + "'");
        };
    }

    private ObjectNode parse(String text, String source) throws ConfigException {
        if (text == null || text.isBlank()) {
            return JsonNodeFactory.instance.objectNode();
        }
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        yaml.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        JsonNode node;
        try {
            node = yaml.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source + " is not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        }
        if (node == null || node.isMissingNode() || node.isNull()) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (!node.isObject()) {
            throw new ConfigException(source + ": the top level must be a mapping of keys, got " + kind(node));
        }
        return (ObjectNode) node;
    }

    private void applyOverrides(ObjectNode root) throws ConfigException {
        for (Map.Entry<String, String> o : OVERRIDES.entrySet()) {
            String value = env.get(o.getKey());
            if (value == null) {
                continue;
            }
            String[] keys = o.getValue().split("\\.");
            ObjectNode parent = root;
            for (int i = 0; i < keys.length - 1; i++) {
                JsonNode child = parent.get(keys[i]);
                if (child == null || child.isNull()) {
                    child = parent.putObject(keys[i]);
                } else if (!child.isObject()) {
                    throw new ConfigException(String.join(".", List.of(keys).subList(0, i + 1))
                            + ": must be a mapping (needed for " + o.getKey() + "), got " + kind(child));
                }
                parent = (ObjectNode) child;
            }
            parent.set(keys[keys.length - 1], TextNode.valueOf(value));
            origins.put(o.getValue(), o.getKey());
        }
        addEnvToken(root, "CONCORD_CLIENT_TOKEN", "env-client", Scope.CLIENT);
        addEnvToken(root, "CONCORD_ADMIN_TOKEN", "env-admin", Scope.ADMIN);
    }

    private void addEnvToken(ObjectNode root, String variable, String name, Scope scope) throws ConfigException {
        String value = env.get(variable);
        if (value == null) {
            return;
        }
        JsonNode tokens = root.get("tokens");
        if (tokens == null || tokens.isNull()) {
            tokens = root.putArray("tokens");
        } else if (!tokens.isArray()) {
            throw new ConfigException("tokens: must be a list (needed for " + variable + "), got " + kind(tokens));
        }
        ObjectNode t = ((ArrayNode) tokens).addObject();
        t.put("name", name).put("scope", scope.configName()).put("token", value);
        origins.put("tokens[" + (tokens.size() - 1) + "]", variable);
    }

    private ServiceConfig.Tls readTls(Node tls) throws ConfigException {
        if (tls.isAbsent()) {
            return null;
        }
        tls.allowOnly("keystore", "keystorePassword", "keystoreType");
        Path keystore = tls.path("keystore", null);
        if (keystore == null) {
            throw tls.problem("keystore", "must be set when http.tls is present");
        }
        String password = tls.string("keystorePassword", null);
        if (password == null) {
            throw tls.problem("keystorePassword", "must be set when http.tls is present");
        }
        String type = tls.string("keystoreType", "PKCS12").toUpperCase(Locale.ROOT);
        if (!Files.isRegularFile(keystore) || !Files.isReadable(keystore)) {
            throw tls.problem("keystore", "no readable file at " + keystore);
        }
        try (InputStream in = Files.newInputStream(keystore)) {
            KeyStore ks = KeyStore.getInstance(type);
            ks.load(in, password.toCharArray());
            if (ks.size() == 0) {
                throw tls.problem("keystore", keystore + " holds no key");
            }
        } catch (GeneralSecurityException e) {
            throw tls.problem("keystoreType", "cannot use key store type " + type + ": " + e.getMessage());
        } catch (IOException e) {
            // Wrong passwords surface as IOException; its message holds no secret.
            throw tls.problem("keystorePassword", "cannot open " + keystore + " as " + type
                    + " (wrong password or not a key store): " + e.getMessage());
        }
        return new ServiceConfig.Tls(keystore, password, type);
    }

    private List<ServiceConfig.Token> readTokens(Node top) throws ConfigException {
        List<ServiceConfig.Token> tokens = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> values = new HashSet<>();
        List<Node> list = top.list("tokens");
        for (Node n : list) {
            n.allowOnly("name", "token", "scope");
            String name = n.string("name", null);
            if (name == null || !NAME.matcher(name).matches()) {
                throw n.problem("name", "must be 1 to 64 characters of [A-Za-z0-9._-]");
            }
            if (!names.add(name)) {
                throw n.problem("name", "another token is already named '" + name + "'");
            }
            String value = n.string("token", null);
            if (value == null || value.length() < MIN_TOKEN_LENGTH) {
                throw n.problem("token", "must be at least " + MIN_TOKEN_LENGTH + " characters");
            }
            if (value.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                throw n.problem("token", "must be printable ASCII without spaces");
            }
            if (!values.add(value)) {
                throw n.problem("token", "two tokens have the same value");
            }
            Scope scope;
            try {
                scope = Scope.parse(n.string("scope", null));
            } catch (IllegalArgumentException e) {
                throw n.problem("scope", e.getMessage());
            }
            tokens.add(new ServiceConfig.Token(name, value, scope));
        }
        return tokens;
    }

    private List<ServiceConfig.RocketMq> readRocketMq(Node resources, List<JdbcResourceConfig> databases)
            throws ConfigException {
        List<ServiceConfig.RocketMq> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (JdbcResourceConfig db : databases) {
            names.add(db.name());
        }
        for (Node m : resources.list("rocketmq")) {
            m.allowOnly("name", "namesrvAddress", "producerGroup", "sendTimeout", "checkHorizon", "accessKey",
                    "secretKey", "maxMessageBytes");
            String name = m.string("name", null);
            if (name == null) {
                throw m.problem("name", "must be set");
            }
            if (!names.add(name)) {
                throw m.problem("name", "another resource is already named '" + name + "'");
            }
            String namesrv = m.string("namesrvAddress", null);
            if (namesrv == null) {
                throw m.problem("namesrvAddress", "must be set (host:port[;host:port...])");
            }
            String group = m.string("producerGroup", null);
            if (group == null) {
                throw m.problem("producerGroup", "must be set");
            }
            RocketMqResourceConfig.Builder b = RocketMqResourceConfig.builder().name(name).namesrvAddress(namesrv)
                    .producerGroup(group)
                    .sendTimeout(m.duration("sendTimeout", Duration.ofSeconds(3)))
                    .checkHorizon(m.duration("checkHorizon", RocketMqResourceConfig.DEFAULT_CHECK_HORIZON))
                    .acl(m.string("accessKey", null), m.string("secretKey", null));
            long maxMessage = m.integer("maxMessageBytes", MAX_MESSAGE_BYTES, 1, MAX_MESSAGE_BYTES);
            try {
                out.add(new ServiceConfig.RocketMq(b.build(), maxMessage));
            } catch (IllegalArgumentException e) {
                // RocketMqResourceConfig's messages name the setting and never hold the secret key.
                throw new ConfigException(m.path + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private List<JdbcResourceConfig> readDatabases(Node resources) throws ConfigException {
        List<JdbcResourceConfig> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Node d : resources.list("databases")) {
            d.allowOnly("name", "type", "url", "user", "password", "dataSourceClass", "properties", "pool",
                    "connectTimeout", "acquireTimeout", "validateAfterIdle", "phase2IdleConnections",
                    "phase2IdleTimeout");
            JdbcResourceConfig.Builder b = JdbcResourceConfig.builder();
            String name = d.string("name", null);
            if (name == null) {
                throw d.problem("name", "must be set");
            }
            if (!names.add(name)) {
                throw d.problem("name", "another database is already named '" + name + "'");
            }
            b.name(name);
            String type = d.string("type", null);
            if (type == null) {
                throw d.problem("type", "must be set (mysql, postgresql or generic)");
            }
            try {
                b.type(type);
            } catch (IllegalArgumentException e) {
                throw d.problem("type", e.getMessage());
            }
            b.url(d.string("url", null)).user(d.string("user", null)).password(d.string("password", null));
            b.dataSourceClassName(d.string("dataSourceClass", null));
            Node props = d.child("properties");
            for (String key : props.keys()) {
                b.property(key, props.string(key, null));
            }
            Node pool = d.child("pool");
            pool.allowOnly("min", "max");
            b.minPoolSize((int) pool.integer("min", 0, 0, 1000));
            b.maxPoolSize((int) pool.integer("max", 10, 1, 1000));
            b.connectTimeout(d.duration("connectTimeout", Duration.ofSeconds(10)));
            b.acquireTimeout(d.duration("acquireTimeout", Duration.ofSeconds(30)));
            b.validateAfterIdle(d.duration("validateAfterIdle", Duration.ofSeconds(30)));
            b.phase2IdleConnections((int) d.integer("phase2IdleConnections",
                    JdbcResourceConfig.DEFAULT_PHASE2_IDLE_CONNECTIONS, 0,
                    JdbcResourceConfig.MAX_PHASE2_IDLE_CONNECTIONS));
            b.phase2IdleTimeout(d.duration("phase2IdleTimeout", JdbcResourceConfig.DEFAULT_PHASE2_IDLE_TIMEOUT));
            try {
                out.add(b.build());
            } catch (IllegalArgumentException e) {
                // JdbcResourceConfig's messages name the setting and never hold the password.
                throw new ConfigException(d.path + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private String substitute(String value, String path) throws ConfigException {
        Matcher m = ENV_REF.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = env.get(m.group(1));
            if (v == null) {
                v = m.group(2);
            }
            if (v == null) {
                throw new ConfigException(path + ": environment variable " + m.group(1) + " is not set");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    private String originOf(String keyPath) {
        for (Map.Entry<String, String> o : origins.entrySet()) {
            if (keyPath.equals(o.getKey()) || keyPath.startsWith(o.getKey() + ".")) {
                return o.getValue();
            }
        }
        return null;
    }

    private static String kind(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        return node.isNull() ? "nothing" : "a value";
    }

    /** Parses a duration as documented on the class. */
    static Duration parseDuration(String text) {
        String t = text.trim();
        if (t.startsWith("P") || t.startsWith("p")) {
            try {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not a duration: " + text);
            }
        }
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration (use e.g. 250ms, 30s, 5m, 2h, 1d): " + text);
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("duration out of range: " + text);
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        try {
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofSeconds(n);
            };
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("duration out of range: " + text);
        }
    }

    /** A node of the tree with its key path, reading typed values with messages that name the key. */
    private static final class Node {
        private final JsonNode node;
        private final String path;
        private final ConfigLoader loader;

        Node(JsonNode node, String path, ConfigLoader loader) {
            this.node = node;
            this.path = path;
            this.loader = loader;
        }

        boolean isAbsent() {
            return node == null || node.isNull() || node.isMissingNode();
        }

        String keyPath(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        ConfigException problem(String key, String message) {
            String k = keyPath(key);
            String origin = loader.originOf(k);
            return new ConfigException(k + (origin == null ? "" : " (from " + origin + ")") + ": " + message);
        }

        void allowOnly(String... keys) throws ConfigException {
            if (isAbsent()) {
                return;
            }
            Set<String> allowed = new TreeSet<>(List.of(keys));
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    throw new ConfigException(keyPath(k) + ": unknown key" + (path.isEmpty() ? "" : " in " + path)
                            + "; known keys: " + String.join(", ", allowed));
                }
            }
        }

        List<String> keys() {
            List<String> out = new ArrayList<>();
            if (!isAbsent()) {
                node.fieldNames().forEachRemaining(out::add);
            }
            return out;
        }

        Node child(String key) throws ConfigException {
            JsonNode c = isAbsent() ? null : node.get(key);
            if (c != null && !c.isNull() && !c.isObject()) {
                throw problem(key, "must be a mapping, got " + kind(c));
            }
            return new Node(c, keyPath(key), loader);
        }

        List<Node> list(String key) throws ConfigException {
            JsonNode c = isAbsent() ? null : node.get(key);
            List<Node> out = new ArrayList<>();
            if (c == null || c.isNull()) {
                return out;
            }
            if (!c.isArray()) {
                throw problem(key, "must be a list, got " + kind(c));
            }
            for (int i = 0; i < c.size(); i++) {
                JsonNode e = c.get(i);
                String p = keyPath(key) + "[" + i + "]";
                if (!e.isObject()) {
                    throw new ConfigException(p + ": must be a mapping, got " + kind(e));
                }
                out.add(new Node(e, p, loader));
            }
            return out;
        }

        private JsonNode scalar(String key) throws ConfigException {
            JsonNode c = isAbsent() ? null : node.get(key);
            if (c == null || c.isNull()) {
                return null;
            }
            if (!c.isValueNode()) {
                throw problem(key, "must be a single value, got " + kind(c));
            }
            return c;
        }

        String string(String key, String defaultValue) throws ConfigException {
            JsonNode c = scalar(key);
            if (c == null) {
                return defaultValue;
            }
            return loader.substitute(c.asText(), keyPath(key));
        }

        long integer(String key, long defaultValue, long min, long max) throws ConfigException {
            JsonNode c = scalar(key);
            if (c == null) {
                return defaultValue;
            }
            long v;
            if (c.isIntegralNumber() && c.canConvertToLong()) {
                v = c.asLong();
            } else if (c.isTextual()) {
                String text = loader.substitute(c.asText(), keyPath(key)).trim();
                try {
                    v = Long.parseLong(text);
                } catch (NumberFormatException e) {
                    throw problem(key, "must be a whole number, got '" + text + "'");
                }
            } else {
                throw problem(key, "must be a whole number");
            }
            if (v < min || v > max) {
                throw problem(key, "must be between " + min + " and " + max + ", got " + v);
            }
            return v;
        }

        Duration duration(String key, Duration defaultValue) throws ConfigException {
            JsonNode c = scalar(key);
            if (c == null) {
                return defaultValue;
            }
            String text = c.isTextual() ? loader.substitute(c.asText(), keyPath(key)) : c.asText();
            Duration d;
            try {
                d = parseDuration(text);
            } catch (IllegalArgumentException e) {
                throw problem(key, e.getMessage());
            }
            if (d.isZero() || d.isNegative()) {
                throw problem(key, "must be positive, got " + text);
            }
            return d;
        }

        Path path(String key, String defaultValue) throws ConfigException {
            String text = string(key, defaultValue);
            if (text == null) {
                return null;
            }
            if (text.isBlank()) {
                throw problem(key, "must not be empty");
            }
            try {
                return Path.of(text);
            } catch (InvalidPathException e) {
                throw problem(key, "not a valid path: " + e.getReason());
            }
        }
    }
}
