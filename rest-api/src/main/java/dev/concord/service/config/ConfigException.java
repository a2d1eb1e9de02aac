package dev.concord.service.config;

/**
 * The configuration cannot be used. The message names the key (as a path such as {@code http.port} or
 * {@code resources.databases[1].url}), where its value came from when that was an environment variable, and the
 * problem; it never contains a token or password value.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    /** A problem with one key. */
    public ConfigException(String message) {
        super(message);
    }

    /** A problem with one key, caused by another exception (whose message must hold no secret either). */
    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
