package dev.concord.service.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A secret generated once (32 random bytes, URL-safe base64) and kept in a file only its owner may read, so that
 * a restart finds the same one. The secret itself is never logged.
 */
public final class GeneratedSecret {
    /** Shortest secret accepted from an existing file; a shorter one is replaced. */
    private static final int MIN_LENGTH = 16;

    private GeneratedSecret() {
    }

    /**
     * The secret kept in {@code file}, generated and written (owner read/write only, atomically) when the file is
     * missing or holds less than 16 characters.
     */
    public static String readOrCreate(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            String existing = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (existing.length() >= MIN_LENGTH) {
                return existing;
            }
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp);
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the data directory's own permissions protect the file.
        }
        Files.writeString(tmp, secret + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return secret;
    }
}
