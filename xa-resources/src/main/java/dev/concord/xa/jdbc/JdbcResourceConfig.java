package dev.concord.xa.jdbc;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The settings of one JDBC XA resource: typed, validated when built, immutable afterwards.
 *
 * <p>A resource is a database reached through an {@link javax.sql.XADataSource}: {@link Type#MYSQL} (MySQL or MariaDB
 * through mysql-connector-j), {@link Type#POSTGRESQL} (pgjdbc), or {@link Type#GENERIC}, any XADataSource named by
 * its class and configured through its JavaBean setters. {@link Builder#build()} instantiates the XADataSource class
 * and applies every property to a throwaway instance, so a misspelt property or a value of the wrong type is refused
 * at start, not at the first connection.
 *
 * <p>The password is never part of {@link #toString()}, nor is any property or URL parameter whose name mentions a
 * password or secret.
 */
public final class JdbcResourceConfig {
    /** The longest resource name; the name is written into every commit decision. */
    public static final int MAX_NAME_LENGTH = 64;
    /** Default of {@link #phase2IdleConnections()}. */
    public static final int DEFAULT_PHASE2_IDLE_CONNECTIONS = 4;
    /** Largest accepted {@link #phase2IdleConnections()}. */
    public static final int MAX_PHASE2_IDLE_CONNECTIONS = 1000;
    /** Default of {@link #phase2IdleTimeout()}. */
    public static final Duration DEFAULT_PHASE2_IDLE_TIMEOUT = Duration.ofSeconds(60);

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_NAME_LENGTH + "}");
    private static final Pattern PROPERTY_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern SECRET_IN_URL =
            Pattern.compile("(?i)((?:password|passwd|pwd|secret)[A-Za-z0-9_.-]*=)[^&;]*");

    /** What kind of XADataSource the resource uses. */
    public enum Type {
        /** MySQL or MariaDB through mysql-connector-j ({@code com.mysql.cj.jdbc.MysqlXADataSource}). */
        MYSQL("mysql", "com.mysql.cj.jdbc.MysqlXADataSource"),
        /** PostgreSQL through pgjdbc ({@code org.postgresql.xa.PGXADataSource}). */
        POSTGRESQL("postgresql", "org.postgresql.xa.PGXADataSource"),
        /** Any XADataSource, named by its class and configured through its bean properties. */
        GENERIC("generic", null);

        private final String configName;
        private final String dataSourceClass;

        Type(String configName, String dataSourceClass) {
            this.configName = configName;
            this.dataSourceClass = dataSourceClass;
        }

        /** The name used in configuration files: {@code mysql}, {@code postgresql} or {@code generic}. */
        public String configName() {
            return configName;
        }

        /**
         * Reads a configuration name, ignoring case.
         *
         * @throws IllegalArgumentException naming the accepted values
         */
        public static Type parse(String name) {
            for (Type t : values()) {
                if (t.configName.equalsIgnoreCase(name == null ? "" : name.trim())) {
                    return t;
                }
            }
            throw new IllegalArgumentException("resource type must be mysql, postgresql or generic, got: " + name);
        }
    }

    private final String name;
    private final Type type;
    private final String dataSourceClassName;
    private final String url;
    private final String user;
    private final String password;
    private final Map<String, String> properties;
    private final int minPoolSize;
    private final int maxPoolSize;
    private final Duration connectTimeout;
    private final Duration acquireTimeout;
    private final Duration validateAfterIdle;
    private final int phase2IdleConnections;
    private final Duration phase2IdleTimeout;

    private JdbcResourceConfig(Builder b) {
        this.name = b.name;
        this.type = b.type;
        this.dataSourceClassName = b.type == Type.GENERIC ? b.dataSourceClassName : b.type.dataSourceClass;
        this.url = b.url;
        this.user = b.user;
        this.password = b.password;
        this.properties = Collections.unmodifiableMap(new TreeMap<>(b.properties));
        this.minPoolSize = b.minPoolSize;
        this.maxPoolSize = b.maxPoolSize;
        this.connectTimeout = b.connectTimeout;
        this.acquireTimeout = b.acquireTimeout;
        this.validateAfterIdle = b.validateAfterIdle;
        this.phase2IdleConnections = b.phase2IdleConnections;
        this.phase2IdleTimeout = b.phase2IdleTimeout;
    }

    /** A builder with the defaults listed on {@link Builder}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The configured name; recovery and phase-2 retries find the resource by it. */
    public String name() {
        return name;
    }

    public Type type() {
        return type;
    }

    /** The XADataSource class: fixed for mysql and postgresql, configured for generic. */
    public String dataSourceClassName() {
        return dataSourceClassName;
    }

    /** The JDBC URL, or null when a generic data source is configured through properties only. */
    public String url() {
        return url;
    }

    /** The user, or null when the URL or the properties carry it. */
    public String user() {
        return user;
    }

    /** The password, or null. Never logged. */
    public String password() {
        return password;
    }

    /** Extra bean properties of the XADataSource, by property name, in name order. */
    public Map<String, String> properties() {
        return properties;
    }

    /** Connections the pool opens at start and keeps. */
    public int minPoolSize() {
        return minPoolSize;
    }

    /** Most connections the pool holds at once; a caller waits {@link #acquireTimeout()} for one beyond that. */
    public int maxPoolSize() {
        return maxPoolSize;
    }

    /** Longest time to open one physical connection (TCP connect and login). */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** Longest time {@code getConnection()} waits for a pooled connection before it fails. */
    public Duration acquireTimeout() {
        return acquireTimeout;
    }

    /**
     * A connection of the application pool ({@link EnlistingDataSource}) idle for longer than this is checked with
     * {@code isValid} before it is handed out.
     */
    public Duration validateAfterIdle() {
        return validateAfterIdle;
    }

    /**
     * Most idle physical connections {@link JdbcXaResource#open()} keeps for the coordinator's own use (registration
     * checks, phase 2, recovery scans); 0 opens a new connection for every lease. Not the application's pool.
     */
    public int phase2IdleConnections() {
        return phase2IdleConnections;
    }

    /** A connection of {@link JdbcXaResource#open()} idle for longer than this is closed instead of reused. */
    public Duration phase2IdleTimeout() {
        return phase2IdleTimeout;
    }

    /** Whether {@code start(xid, TMJOIN)} works on this database; see {@link JdbcXaResource#supportsJoin()}. */
    boolean supportsJoin() {
        return type == Type.POSTGRESQL;
    }

    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>();
        properties.forEach((k, v) -> shown.put(k, isSecret(k) ? "****" : v));
        return "JdbcResourceConfig[name=" + name + ", type=" + type.configName
                + (type == Type.GENERIC ? ", class=" + dataSourceClassName : "")
                + ", url=" + (url == null ? null : SECRET_IN_URL.matcher(url).replaceAll("$1****"))
                + ", user=" + user + ", password=" + (password == null ? "none" : "****")
                + ", properties=" + shown + ", pool=" + minPoolSize + ".." + maxPoolSize
                + ", connectTimeout=" + connectTimeout + ", acquireTimeout=" + acquireTimeout
                + ", validateAfterIdle=" + validateAfterIdle + ", phase2IdleConnections=" + phase2IdleConnections
                + ", phase2IdleTimeout=" + phase2IdleTimeout + "]";
    }

    static boolean isSecret(String propertyName) {
        String n = propertyName.toLowerCase(Locale.ROOT);
        return n.contains("password") || n.contains("passwd") || n.contains("pwd") || n.contains("secret");
    }

    /**
     * Builds a {@link JdbcResourceConfig}. Defaults: pool 0..10, connect timeout 10 s, acquire timeout 30 s,
     * validation of connections idle for more than 30 s; up to 4 idle phase-2 connections, closed after 60 s idle.
     */
    public static final class Builder {
        private String name;
        private Type type;
        private String dataSourceClassName;
        private String url;
        private String user;
        private String password;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private int minPoolSize = 0;
        private int maxPoolSize = 10;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration acquireTimeout = Duration.ofSeconds(30);
        private Duration validateAfterIdle = Duration.ofSeconds(30);
        private int phase2IdleConnections = DEFAULT_PHASE2_IDLE_CONNECTIONS;
        private Duration phase2IdleTimeout = DEFAULT_PHASE2_IDLE_TIMEOUT;

        private Builder() {
        }

        public Builder name(String v) {
            this.name = v;
            return this;
        }

        public Builder type(Type v) {
            this.type = v;
            return this;
        }

        /** The type by its configuration name ({@code mysql}, {@code postgresql}, {@code generic}). */
        public Builder type(String v) {
            this.type = Type.parse(v);
            return this;
        }

        /** The XADataSource class of a generic resource. */
        public Builder dataSourceClassName(String v) {
            this.dataSourceClassName = v;
            return this;
        }

        public Builder url(String v) {
            this.url = v;
            return this;
        }

        public Builder user(String v) {
            this.user = v;
            return this;
        }

        public Builder password(String v) {
            this.password = v;
            return this;
        }

        /** One more bean property of the XADataSource, set through its setter ({@code set<Name>}). */
        public Builder property(String propertyName, String value) {
            this.properties.put(propertyName, value);
            return this;
        }

        public Builder minPoolSize(int v) {
            this.minPoolSize = v;
            return this;
        }

        public Builder maxPoolSize(int v) {
            this.maxPoolSize = v;
            return this;
        }

        public Builder connectTimeout(Duration v) {
            this.connectTimeout = v;
            return this;
        }

        public Builder acquireTimeout(Duration v) {
            this.acquireTimeout = v;
            return this;
        }

        public Builder validateAfterIdle(Duration v) {
            this.validateAfterIdle = v;
            return this;
        }

        /**
         * Most idle connections {@link JdbcXaResource#open()} keeps, 0 (a new connection for every lease) to
         * {@value JdbcResourceConfig#MAX_PHASE2_IDLE_CONNECTIONS}.
         */
        public Builder phase2IdleConnections(int v) {
            this.phase2IdleConnections = v;
            return this;
        }

        /** How long an idle connection of {@link JdbcXaResource#open()} may be reused; positive. */
        public Builder phase2IdleTimeout(Duration v) {
            this.phase2IdleTimeout = v;
            return this;
        }

        /**
         * Validates and builds; the XADataSource class is loaded and every property applied to a throwaway
         * instance (no connection is opened).
         *
         * @throws IllegalArgumentException naming the setting and the problem
         */
        public JdbcResourceConfig build() {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("resource name must be 1 to " + MAX_NAME_LENGTH
                        + " characters of [A-Za-z0-9._-], got: " + name);
            }
            String where = "resource '" + name + "': ";
            if (type == null) {
                throw new IllegalArgumentException(where + "type must be set (mysql, postgresql or generic)");
            }
            if (type == Type.GENERIC) {
                if (dataSourceClassName == null || dataSourceClassName.isBlank()) {
                    throw new IllegalArgumentException(where + "a generic resource needs the XADataSource class name");
                }
            } else {
                if (dataSourceClassName != null && !dataSourceClassName.equals(type.dataSourceClass)) {
                    throw new IllegalArgumentException(where + "type " + type.configName + " always uses "
                            + type.dataSourceClass + "; use type generic for " + dataSourceClassName);
                }
                if (url == null || url.isBlank()) {
                    throw new IllegalArgumentException(where + "url must be set for type " + type.configName);
                }
            }
            if (url != null && !url.startsWith("jdbc:")) {
                throw new IllegalArgumentException(where + "url must start with 'jdbc:'");
            }
            for (Map.Entry<String, String> p : properties.entrySet()) {
                if (p.getKey() == null || !PROPERTY_NAME.matcher(p.getKey()).matches()) {
                    throw new IllegalArgumentException(where + "not a bean property name: " + p.getKey());
                }
                Objects.requireNonNull(p.getValue(), () -> where + "property " + p.getKey() + " has no value");
                if (XaDataSources.isManaged(p.getKey())) {
                    throw new IllegalArgumentException(where + "property " + p.getKey()
                            + " is set from the resource's own settings; set url, user, password or connectTimeout instead");
                }
            }
            if (minPoolSize < 0) {
                throw new IllegalArgumentException(where + "minPoolSize must be >= 0, got " + minPoolSize);
            }
            if (maxPoolSize < 1 || maxPoolSize < minPoolSize) {
                throw new IllegalArgumentException(where + "maxPoolSize must be >= 1 and >= minPoolSize ("
                        + minPoolSize + "), got " + maxPoolSize);
            }
            requirePositive(where, "connectTimeout", connectTimeout);
            requirePositive(where, "acquireTimeout", acquireTimeout);
            requirePositive(where, "validateAfterIdle", validateAfterIdle);
            if (phase2IdleConnections < 0 || phase2IdleConnections > MAX_PHASE2_IDLE_CONNECTIONS) {
                throw new IllegalArgumentException(where + "phase2IdleConnections must be between 0 and "
                        + MAX_PHASE2_IDLE_CONNECTIONS + ", got " + phase2IdleConnections);
            }
            requirePositive(where, "phase2IdleTimeout", phase2IdleTimeout);
            JdbcResourceConfig config = new JdbcResourceConfig(this);
            XaDataSources.create(config);
            return config;
        }

        private static void requirePositive(String where, String setting, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(where + setting + " must be positive, got " + d);
            }
        }
    }
}
