package dev.concord.xa.rocketmq;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The settings of one RocketMQ resource (one cluster reached through its name servers): typed, validated when
 * built, immutable afterwards.
 *
 * <p>The producer group is the identity the broker checks back on: every Concord process that may finish or
 * answer for this resource's half messages must use the same group, and no other application may use it. The
 * secret key is never part of {@link #toString()}.
 */
public final class RocketMqResourceConfig {
    /** The longest resource name; the name is written into every commit decision. */
    public static final int MAX_NAME_LENGTH = 64;
    /** The longest producer group RocketMQ accepts. */
    public static final int MAX_GROUP_LENGTH = 120;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_NAME_LENGTH + "}");
    private static final Pattern GROUP = Pattern.compile("[%|a-zA-Z0-9_-]{1," + MAX_GROUP_LENGTH + "}");
    private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}");

    private final String name;
    private final String namesrvAddress;
    private final String producerGroup;
    private final String accessKey;
    private final String secretKey;
    private final Duration sendTimeout;
    private final Duration checkHorizon;

    /**
     * The check horizon of a broker with RocketMQ's default transaction settings: transactionTimeOut 6 s plus
     * (transactionCheckMax 15 + 1) × transactionCheckInterval 30 s — one interval of margin, because the broker's
     * check scan runs once per interval and a check can come up to one interval after it is due.
     */
    public static final Duration DEFAULT_CHECK_HORIZON = Duration.ofSeconds(6 + (15 + 1) * 30);

    private RocketMqResourceConfig(Builder b) {
        this.name = b.name;
        this.namesrvAddress = b.namesrvAddress.trim();
        this.producerGroup = b.producerGroup;
        this.accessKey = b.accessKey;
        this.secretKey = b.secretKey;
        this.sendTimeout = b.sendTimeout;
        this.checkHorizon = b.checkHorizon;
    }

    /**
     * How long the broker keeps checking back on a half message: transactionTimeOut + transactionCheckMax ×
     * transactionCheckInterval of the cluster's brokers. Until then the check-back delivers a decided outcome
     * without duplicates, so an END that may have arrived is not re-sent; the outcome index's retention must exceed
     * it.
     */
    public Duration checkHorizon() {
        return checkHorizon;
    }

    /** A builder with the defaults listed on {@link Builder}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The configured name; recovery and phase-2 retries find the resource by it. */
    public String name() {
        return name;
    }

    /** Name-server addresses, {@code host:port}, several separated by {@code ;}. */
    public String namesrvAddress() {
        return namesrvAddress;
    }

    /** The producer group half messages are sent in and check-backs are addressed to. */
    public String producerGroup() {
        return producerGroup;
    }

    /** The ACL access key, or null when the cluster has no ACL. */
    public String accessKey() {
        return accessKey;
    }

    /** The ACL secret key, or null. Never logged. */
    public String secretKey() {
        return secretKey;
    }

    /** True when ACL credentials are configured. */
    public boolean hasAcl() {
        return accessKey != null;
    }

    /** Longest wait for one half-message send or one acknowledged END_TRANSACTION. */
    public Duration sendTimeout() {
        return sendTimeout;
    }

    @Override
    public String toString() {
        return "RocketMqResourceConfig[name=" + name + ", namesrv=" + namesrvAddress + ", producerGroup=" + producerGroup
                + ", acl=" + (accessKey == null ? "none" : accessKey + "/****") + ", sendTimeout=" + sendTimeout + ", checkHorizon=" + checkHorizon + "]";
    }

    /** Builds a {@link RocketMqResourceConfig}. Defaults: no ACL, send timeout 3 s. */
    public static final class Builder {
        private String name;
        private String namesrvAddress;
        private String producerGroup;
        private String accessKey;
        private String secretKey;
        private Duration sendTimeout = Duration.ofSeconds(3);
        private Duration checkHorizon = DEFAULT_CHECK_HORIZON;

        private Builder() {
        }

        public Builder name(String v) {
            this.name = v;
            return this;
        }

        /** {@code host:port}, or several separated by {@code ;}. */
        public Builder namesrvAddress(String v) {
            this.namesrvAddress = v;
            return this;
        }

        public Builder producerGroup(String v) {
            this.producerGroup = v;
            return this;
        }

        /** ACL credentials; both or neither. */
        public Builder acl(String accessKey, String secretKey) {
            this.accessKey = accessKey;
            this.secretKey = secretKey;
            return this;
        }

        public Builder sendTimeout(Duration v) {
            this.sendTimeout = v;
            return this;
        }

        /** The brokers' check horizon; default {@link #DEFAULT_CHECK_HORIZON}. */
        public Builder checkHorizon(Duration v) {
            this.checkHorizon = v;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException naming the setting and the problem
         */
        public RocketMqResourceConfig build() {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("resource name must be 1 to " + MAX_NAME_LENGTH
                        + " characters of [A-Za-z0-9._-], got: " + name);
            }
            String where = "resource '" + name + "': ";
            if (namesrvAddress == null || namesrvAddress.isBlank()) {
                throw new IllegalArgumentException(where + "namesrvAddress must be set (host:port[;host:port...])");
            }
            for (String a : namesrvAddress.trim().split(";")) {
                if (!ADDRESS.matcher(a.trim()).matches()) {
                    throw new IllegalArgumentException(where + "not a name-server address (host:port): '" + a + "'");
                }
                int port = Integer.parseInt(a.trim().substring(a.trim().lastIndexOf(':') + 1));
                if (port < 1 || port > 65535) {
                    throw new IllegalArgumentException(where + "name-server port out of range in '" + a + "'");
                }
            }
            if (producerGroup == null || !GROUP.matcher(producerGroup).matches()) {
                throw new IllegalArgumentException(where + "producerGroup must be 1 to " + MAX_GROUP_LENGTH
                        + " characters of [%|a-zA-Z0-9_-], got: " + producerGroup);
            }
            boolean hasAccess = accessKey != null && !accessKey.isBlank();
            boolean hasSecret = secretKey != null && !secretKey.isEmpty();
            if (hasAccess != hasSecret) {
                throw new IllegalArgumentException(where + "ACL needs both the access key and the secret key");
            }
            if (!hasAccess) {
                accessKey = null;
                secretKey = null;
            }
            if (sendTimeout == null || sendTimeout.isNegative() || sendTimeout.isZero()
                    || sendTimeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + "sendTimeout must be positive, got " + sendTimeout);
            }
            if (checkHorizon == null || checkHorizon.isNegative() || checkHorizon.isZero()) {
                throw new IllegalArgumentException(where + "checkHorizon must be positive, got " + checkHorizon);
            }
            return new RocketMqResourceConfig(this);
        }
    }
}
