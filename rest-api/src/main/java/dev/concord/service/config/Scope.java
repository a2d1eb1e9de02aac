package dev.concord.service.config;

import java.util.Locale;

/** What a bearer token may do. An admin token may do everything a client token may. */
public enum Scope {
    /** Create, inspect, commit and roll back transactions; reserve and register branches. */
    CLIENT,
    /** Everything a client may, plus the recovery admin endpoints under {@code /v1/admin}. */
    ADMIN;

    /** True when a token of this scope may call an endpoint that needs {@code required}. */
    public boolean covers(Scope required) {
        return this == ADMIN || required == CLIENT;
    }

    /** The name used in configuration files: {@code client} or {@code admin}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Reads a configuration name, ignoring case.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Scope parse(String text) {
        for (Scope s : values()) {
            if (s.configName().equalsIgnoreCase(text == null ? "" : text.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("must be client or admin, got: " + text);
    }
}
