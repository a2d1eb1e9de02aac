package dev.concord.service.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A block of README.md marked {@code <!-- readme-session: NAME -->} (the marker on the line before the opening
 * fence), run with bash as written except for the substitutions a test names, each of which must occur exactly once.
 */
public final class ReadmeSession {
    private final String name;
    private String text;

    private ReadmeSession(String name, String text) {
        this.name = name;
        this.text = text;
    }

    /** The block named {@code name} in the project's README.md. */
    public static ReadmeSession block(String name) throws IOException {
        Path readme = readme();
        List<String> lines = Files.readAllLines(readme, StandardCharsets.UTF_8);
        String marker = "<!-- readme-session: " + name + " -->";
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).trim().equals(marker)) {
                continue;
            }
            if (i + 1 >= lines.size() || !lines.get(i + 1).startsWith("```")) {
                throw new AssertionError(readme + ": no fenced block right after " + marker);
            }
            StringBuilder block = new StringBuilder();
            for (int j = i + 2; j < lines.size(); j++) {
                if (lines.get(j).startsWith("```")) {
                    return new ReadmeSession(name, block.toString());
                }
                block.append(lines.get(j)).append('\n');
            }
            throw new AssertionError(readme + ": the block after " + marker + " is not closed");
        }
        throw new AssertionError(readme + " has no " + marker);
    }

    private static Path readme() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("README.md");
            if (Files.isRegularFile(candidate) && Files.isDirectory(dir.resolve("rest-api"))) {
                return candidate;
            }
        }
        throw new AssertionError("README.md of the project not found above " + Path.of("").toAbsolutePath());
    }

    /** Replaces {@code literal}, which must occur exactly once in the block. */
    public ReadmeSession substitute(String literal, String replacement) {
        int at = text.indexOf(literal);
        if (at < 0 || text.indexOf(literal, at + 1) >= 0) {
            throw new AssertionError("README block " + name + " must contain '" + literal + "' exactly once:\n" + text);
        }
        text = text.substring(0, at) + replacement + text.substring(at + literal.length());
        return this;
    }

    public String text() {
        return text;
    }

    /** What running the block printed, and its exit status. */
    public record Result(int exitStatus, String stdout, String stderr) {
        public List<String> lines() {
            return stdout.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exitStatus + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    /** Runs the block with {@code bash -eu -o pipefail} in {@code workDir} (its stderr goes to a file there). */
    public Result run(Path workDir, long timeoutSeconds) throws IOException, InterruptedException {
        Path stderr = workDir.resolve("readme-session-" + name + ".stderr");
        Process p = new ProcessBuilder("bash", "-eu", "-o", "pipefail", "-c", text).directory(workDir.toFile())
                .redirectError(stderr.toFile()).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                out.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.complete("<unreadable: " + e + ">");
            }
        }, "readme-session-" + name);
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("README block " + name + " did not finish within " + timeoutSeconds + " s");
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
        return new Result(p.exitValue(), out.getNow("<output not read>"), Files.readString(stderr));
    }
}
