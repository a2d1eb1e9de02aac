package dev.concord.it.crash;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A child JVM started by a crash test: same Java, same class path, the test JVM's {@code concord.test.*} database
 * settings passed on, its standard output and error collected line by line by two reader threads, with bounded
 * waits for a line and for the exit, and a hard kill.
 */
public final class ChildProcess implements AutoCloseable {
    /** System properties with this prefix (database settings of the tests) are passed on to every child. */
    public static final String TEST_SETTINGS_PREFIX = "concord.test.";
    /** The line a child prints when its run ends normally. */
    public static final String DONE = "done";

    private static final boolean LINUX = System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux");

    private final List<String> command;
    private final String mainClass;
    private final Process process;
    private final List<String> out = new ArrayList<>();
    private final List<String> err = new ArrayList<>();
    private final Thread outReader;
    private final Thread errReader;

    private ChildProcess(List<String> command, String mainClass, Process process) {
        this.command = command;
        this.mainClass = mainClass;
        this.process = process;
        this.outReader = reader(process.getInputStream(), out, "stdout");
        this.errReader = reader(process.getErrorStream(), err, "stderr");
    }

    /** Starts {@code CrashChild} with the given system properties (each {@code name=value}) and arguments. */
    static ChildProcess start(List<String> systemProperties, Path dataDir, String... args) throws IOException {
        return start(CrashChild.class, systemProperties, dataDir, args);
    }

    /** Starts {@code main} with the given system properties (each {@code name=value}), data directory and arguments. */
    public static ChildProcess start(Class<?> main, List<String> systemProperties, Path dataDir, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Quick start-up: the children are short-lived.
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xshare:auto");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(TEST_SETTINGS_PREFIX)) {
                cmd.add("-D" + name + "=" + System.getProperty(name));
            }
        }
        for (String p : systemProperties) {
            cmd.add("-D" + p);
        }
        cmd.add(main.getName());
        cmd.add(dataDir.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        return new ChildProcess(cmd, main.getName(), p);
    }

    private Thread reader(InputStream in, List<String> sink, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (this) {
                        sink.add(line);
                        notifyAll();
                    }
                }
            } catch (IOException e) {
                synchronized (this) {
                    sink.add("(reading " + name + " failed: " + e + ")");
                }
            } finally {
                synchronized (this) {
                    notifyAll();
                }
            }
        }, "crash-child-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits until a line of standard error matches, failing with the child's output when it does not appear in time
     * or the child ends first.
     */
    public String awaitStderr(Predicate<String> match, Duration timeout, String what) throws InterruptedException {
        return awaitLine(err, match, timeout, what);
    }

    /** Like {@link #awaitStderr} for standard output. */
    public String awaitStdout(Predicate<String> match, Duration timeout, String what) throws InterruptedException {
        return awaitLine(out, match, timeout, what);
    }

    private synchronized String awaitLine(List<String> lines, Predicate<String> match, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int checked = 0;
        while (true) {
            for (; checked < lines.size(); checked++) {
                if (match.test(lines.get(checked))) {
                    return lines.get(checked);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("child did not print " + what + " within " + timeout.toSeconds() + " s"
                        + describe());
            }
            if (!process.isAlive() && !outReader.isAlive() && !errReader.isAlive()) {
                throw new AssertionError("child exited with status " + process.exitValue() + " before printing "
                        + what + describe());
            }
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
        }
    }

    /**
     * Kills the child with SIGKILL (on Linux) and returns its exit status once it is gone and both pipes are read to
     * the end. The kill goes through {@link ProcessHandle#destroyForcibly()}, the same signal as
     * {@link Process#destroyForcibly()}, because the latter also closes the process's streams on Linux, which can
     * drop lines the child wrote before it died but the reader threads had not read yet.
     */
    public int kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("child survived SIGKILL for 30 s" + describe());
        }
        // Whatever the child wrote before it died is still in the pipes: let the readers drain them to the end.
        outReader.join(10_000);
        errReader.join(10_000);
        if (outReader.isAlive() || errReader.isAlive()) {
            throw new AssertionError("the child's output did not end within 10 s of its death" + describe());
        }
        return process.exitValue();
    }

    /**
     * Kills the child with SIGKILL and asserts that it died of it — exit status 137 (128 + 9) on Linux, anything
     * but 0 elsewhere — before it printed {@value #DONE}.
     */
    public void killMidRun() throws InterruptedException {
        int status = kill();
        if (LINUX) {
            if (status != 128 + 9) {
                throw new AssertionError("the child must die of SIGKILL (137), exited " + status + describe());
            }
        } else if (status == 0) {
            throw new AssertionError("the child must not exit normally" + describe());
        }
        if (stdout().contains(DONE)) {
            throw new AssertionError("the child must not have finished its run" + describe());
        }
    }

    /** Waits for the child to exit on its own; kills it and fails when it does not in time. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("child did not exit within " + timeout.toSeconds() + " s" + describe());
        }
        outReader.join(10_000);
        errReader.join(10_000);
        if (outReader.isAlive() || errReader.isAlive()) {
            throw new AssertionError("the child's output did not end within 10 s of its exit" + describe());
        }
        return process.exitValue();
    }

    public synchronized List<String> stdout() {
        return List.copyOf(out);
    }

    public synchronized List<String> stderr() {
        return List.copyOf(err);
    }

    /** The command and everything the child printed so far, for failure messages. */
    public synchronized String describe() {
        return "\ncommand: " + String.join(" ", command.subList(0, 1)) + " ... " + String.join(" ",
                command.subList(command.indexOf(mainClass), command.size()))
                + "\n--- stdout ---\n" + tail(out) + "\n--- stderr ---\n" + tail(err);
    }

    private static String tail(List<String> lines) {
        int from = Math.max(0, lines.size() - 200);
        return (from > 0 ? "(" + from + " earlier lines left out)\n" : "") + String.join("\n", lines.subList(from, lines.size()));
    }

    /**
     * Kills the child if it still runs and waits (bounded) until it is gone, so that databases see its sessions end
     * before the test cleans up after it.
     */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.toHandle().destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
