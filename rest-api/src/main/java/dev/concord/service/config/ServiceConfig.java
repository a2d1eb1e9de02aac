package dev.concord.service.config;

import dev.concord.xa.rocketmq.RocketMqResourceConfig;

import dev.concord.xa.jdbc.JdbcResourceConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The service's settings: typed, validated by {@link ConfigLoader} at start, immutable afterwards. Secrets (token
 * values, passwords) are never part of {@link #toString()}.
 */
public final class ServiceConfig {
    /** The name of the embedded database resource. */
    public static final String EMBEDDED_DATABASE = "derby";
    /** The name of the embedded RocketMQ resource. */
    public static final String EMBEDDED_ROCKETMQ = "rocketmq";

    /**
     * Whether the service runs an embedded database and RocketMQ broker of its own ({@code embedded}).
     */
    public enum Embedded {
        /** Only when no resource is configured (the default). */
        AUTO,
        /** Always, besides the configured resources. */
        ON,
        /** Never. */
        OFF
    }

    private final String nodeId;
    private final Path dataDir;
    private final Http http;
    private final Transactions transactions;
    private final Outcomes outcomes;
    private final Duration recoveryInterval;
    private final Duration shutdownGrace;
    private final List<Token> tokens;
    private final List<JdbcResourceConfig> databases;
    private final List<RocketMq> rocketmq;
    private final Embedded embedded;
    private final boolean embeddedResources;

    ServiceConfig(String nodeId, Path dataDir, Http http, Transactions transactions, Outcomes outcomes,
                  Duration recoveryInterval, Duration shutdownGrace, List<Token> tokens,
                  List<JdbcResourceConfig> databases, List<RocketMq> rocketmq, Embedded embedded,
                  boolean embeddedResources) {
        this.nodeId = nodeId;
        this.dataDir = dataDir;
        this.http = http;
        this.transactions = transactions;
        this.outcomes = outcomes;
        this.recoveryInterval = recoveryInterval;
        this.shutdownGrace = shutdownGrace;
        this.tokens = List.copyOf(tokens);
        this.databases = List.copyOf(databases);
        this.rocketmq = List.copyOf(rocketmq);
        this.embedded = embedded;
        this.embeddedResources = embeddedResources;
    }

    /** The node id written into every gtrid ({@code nodeId}); recovery touches only this node's XIDs. */
    public String nodeId() {
        return nodeId;
    }

    /** Where the transaction log ({@code log/}) and the audit log ({@code audit.log}) live ({@code dataDir}). */
    public Path dataDir() {
        return dataDir;
    }

    /** The HTTP listener ({@code http.*}). */
    public Http http() {
        return http;
    }

    /** Transaction timeouts and the retention of finished transactions ({@code transactions.*}). */
    public Transactions transactions() {
        return transactions;
    }

    /** How long commit outcomes stay answerable by the outcome query ({@code outcomes.*}). */
    public Outcomes outcomes() {
        return outcomes;
    }

    /** Time between two recovery passes ({@code recovery.interval}). */
    public Duration recoveryInterval() {
        return recoveryInterval;
    }

    /** Longest time a graceful shutdown waits for requests and phase 2 in progress ({@code shutdown.grace}). */
    public Duration shutdownGrace() {
        return shutdownGrace;
    }

    /** The bearer tokens ({@code tokens}); empty means the service generates an admin token at start. */
    public List<Token> tokens() {
        return tokens;
    }

    /** The configured databases ({@code resources.databases}), in file order. */
    public List<JdbcResourceConfig> databases() {
        return databases;
    }

    /** The configured RocketMQ clusters ({@code resources.rocketmq}), in file order. */
    public List<RocketMq> rocketmq() {
        return rocketmq;
    }

    /** The {@code embedded} setting as configured. */
    public Embedded embedded() {
        return embedded;
    }

    /**
     * Whether the service starts its embedded database and broker: {@code embedded: on}, or {@code auto} with no
     * resource configured.
     */
    public boolean embeddedResources() {
        return embeddedResources;
    }

    /** The same configuration with other tokens (used when the service generates its own admin token). */
    public ServiceConfig withTokens(List<Token> newTokens) {
        return new ServiceConfig(nodeId, dataDir, http, transactions, outcomes, recoveryInterval, shutdownGrace,
                newTokens, databases, rocketmq, embedded, embeddedResources);
    }

    /** The same configuration with one more database and RocketMQ resource (the embedded ones). */
    public ServiceConfig withResources(JdbcResourceConfig database, RocketMq broker) {
        List<JdbcResourceConfig> dbs = new ArrayList<>(databases);
        dbs.add(database);
        List<RocketMq> mqs = new ArrayList<>(rocketmq);
        mqs.add(broker);
        return new ServiceConfig(nodeId, dataDir, http, transactions, outcomes, recoveryInterval, shutdownGrace,
                tokens, dbs, mqs, embedded, embeddedResources);
    }

    @Override
    public String toString() {
        return "ServiceConfig[nodeId=" + nodeId + ", dataDir=" + dataDir + ", http=" + http + ", transactions="
                + transactions + ", outcomes=" + outcomes + ", recoveryInterval=" + recoveryInterval + ", shutdownGrace=" + shutdownGrace
                + ", tokens=" + tokens + ", databases=" + databases + ", rocketmq=" + rocketmq + ", embedded=" + embedded
                + "]";
    }

    /**
     * The HTTP listener.
     *
     * @param host         address to bind ({@code http.host}); {@code 0.0.0.0} for every interface
     * @param port         TCP port ({@code http.port}); 0 picks a free one
     * @param maxBodyBytes largest request body accepted ({@code http.maxBodyBytes}); larger ones get 413
     * @param tls          TLS settings ({@code http.tls}), or null for plain HTTP
     */
    public record Http(String host, int port, long maxBodyBytes, Tls tls) {
        /** The TLS settings when TLS is on. */
        public Optional<Tls> tlsSettings() {
            return Optional.ofNullable(tls);
        }
    }

    /**
     * TLS through Jetty's {@code SslContextFactory}.
     *
     * @param keystore         key store file holding the server's key and certificate ({@code http.tls.keystore})
     * @param keystorePassword its password ({@code http.tls.keystorePassword}); never printed
     * @param keystoreType     {@code PKCS12} (default) or {@code JKS} ({@code http.tls.keystoreType})
     */
    public record Tls(Path keystore, String keystorePassword, String keystoreType) {
        @Override
        public String toString() {
            return "Tls[keystore=" + keystore + ", keystoreType=" + keystoreType + ", keystorePassword=****]";
        }
    }

    /**
     * Transaction settings.
     *
     * @param defaultTimeout    timeout of a transaction created without one ({@code transactions.defaultTimeout})
     * @param maxTimeout        longest timeout a client may ask for ({@code transactions.maxTimeout})
     * @param retainFinished    how many finished transactions stay queryable ({@code transactions.retainFinished})
     * @param retainFinishedFor how long a finished transaction stays queryable
     *                          ({@code transactions.retainFinishedFor})
     */
    public record Transactions(Duration defaultTimeout, Duration maxTimeout, int retainFinished,
                               Duration retainFinishedFor) {
    }

    /**
     * The outcome query's memory: how long a commit stays answerable as COMMIT (in the log's recent commits and
     * the in-memory outcome index), and how many commits are remembered at most. Inside the window a transaction
     * of this node with no commit record is answered ROLLBACK; outside it, UNKNOWN.
     *
     * @param retention  {@code outcomes.retention}, at most 7 days
     * @param maxCommits {@code outcomes.maxCommits}
     */
    public record Outcomes(Duration retention, int maxCommits) {
    }

    /**
     * One RocketMQ resource ({@code resources.rocketmq[i]}).
     *
     * @param resource        the adapter's settings
     * @param maxMessageBytes largest message body a client may register ({@code maxMessageBytes})
     */
    public record RocketMq(RocketMqResourceConfig resource, long maxMessageBytes) {
    }

    /**
     * One bearer token.
     *
     * @param name  who the token stands for; written to the audit log as "who"
     * @param value the secret a client sends as {@code Authorization: Bearer <value>}; never printed
     * @param scope what the token may do
     */
    public record Token(String name, String value, Scope scope) {
        @Override
        public String toString() {
            return "Token[name=" + name + ", scope=" + scope.configName() + ", value=****]";
        }
    }
}
