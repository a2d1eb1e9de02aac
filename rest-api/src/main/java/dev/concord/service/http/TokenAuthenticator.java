package dev.concord.service.http;

import dev.concord.service.config.ServiceConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the configured token a bearer credential stands for. Tokens are kept only as SHA-256 digests, and a
 * presented credential is digested before the lookup, so the comparison time does not depend on how much of a
 * secret a caller guessed right.
 */
public final class TokenAuthenticator {
    private final Map<String, ServiceConfig.Token> byDigest = new HashMap<>();

    public TokenAuthenticator(List<ServiceConfig.Token> tokens) {
        for (ServiceConfig.Token t : tokens) {
            byDigest.put(digest(t.value()), t);
        }
    }

    /** The token whose value is {@code credential}. */
    public Optional<ServiceConfig.Token> authenticate(String credential) {
        if (credential == null || credential.isEmpty() || credential.length() > 4096) {
            return Optional.empty();
        }
        return Optional.ofNullable(byDigest.get(digest(credential)));
    }

    private static String digest(String value) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
