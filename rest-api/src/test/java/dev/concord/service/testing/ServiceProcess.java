package dev.concord.service.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The coordinator as a separate process, as an operator runs it: its output is collected line by line. */
public final class ServiceProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (https?://\\S+) ");

    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private ServiceProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("<output closed: " + e + ">");
            }
        }, "service-process-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Runs {@code java -cp <this test's classpath> dev.concord.service.Main args}. */
    public static ServiceProcess main(Path workDir, Map<String, String> env, String... args) throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java(), "-cp", cp, "dev.concord.service.Main"));
        cmd.addAll(List.of(args));
        return start(workDir, env, cmd);
    }

    /** Runs {@code java -jar <jar> args}. */
    public static ServiceProcess jar(Path jar, Path workDir, Map<String, String> env, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return start(workDir, env, cmd);
    }

    private static ServiceProcess start(Path workDir, Map<String, String> env, List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("CONCORD_"));
        pb.environment().putAll(env);
        return new ServiceProcess(pb.start());
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Waits until the service says where it listens, and returns that base URI. */
    public String awaitListening(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    return m.group(1);
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("the service exited with " + process.exitValue() + ": " + output());
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the service did not start within " + seconds + " s: " + output());
    }

    /** Waits until a line of the output contains {@code text}. */
    public void awaitOutput(String text, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (lines.stream().anyMatch(l -> l.contains(text))) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("the service exited with " + process.exitValue() + " before printing '"
                        + text + "': " + output());
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the service did not print '" + text + "' within " + seconds + " s: " + output());
    }

    /** Sends SIGKILL, as a power cut would stop it (through the process handle, like {@link #terminate()}). */
    public void kill() {
        process.toHandle().destroyForcibly();
    }

    /** Sends SIGTERM (through the process handle: {@link Process#destroy()} would also close our end of its output). */
    public void terminate() {
        process.toHandle().destroy();
    }

    /** Waits for the exit and returns its status. */
    public int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the service did not exit within " + seconds + " s: " + output());
        }
        // Let the reader thread take the last lines.
        Thread.sleep(100);
        return process.exitValue();
    }

    public String output() {
        return String.join("\n", lines);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
