package dev.concord.service.core;

import dev.concord.coordinator.RecoverableResource;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.recovery.log.LogException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Liveness and readiness. Live: the process answers. Ready: not shutting down, the transaction log has had no
 * failed write (the file log refuses every write after one until the service restarts) and its directory is
 * writable, and every configured resource answers within a bounded time
 * ({@link RecoverableResource#checkReachable()}: for a database, a connection passes {@code isValid}, whether it is
 * an idle one of the coordinator's own or a new one).
 */
public final class HealthService implements AutoCloseable {
    /** Status of the whole report or of one check. */
    public enum Status { UP, DOWN }

    /**
     * One check.
     *
     * @param name   {@code log}, {@code shutdown}, {@code resource:<name>} or {@code embedded:<server>}
     * @param status UP or DOWN
     * @param detail why it is down, or null
     */
    public record Check(String name, Status status, String detail) {
    }

    /**
     * A health report.
     *
     * @param status UP when every check is up
     * @param checks the checks made
     */
    public record Report(Status status, List<Check> checks) {
    }

    private final MonitoredLogWriter logWriter;
    private final Path logDirectory;
    private final ResourceRegistry registry;
    private final Duration resourceTimeout;
    private final Supplier<List<Check>> extraChecks;
    private final ExecutorService checks = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "concord-health-check");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean shuttingDown;

    public HealthService(MonitoredLogWriter logWriter, Path logDirectory, ResourceRegistry registry,
                         Duration resourceTimeout) {
        this(logWriter, logDirectory, registry, resourceTimeout, List::of);
    }

    /**
     * A health service with more readiness checks (the embedded servers').
     *
     * @param extraChecks made at every readiness query, after the log and resource checks
     */
    public HealthService(MonitoredLogWriter logWriter, Path logDirectory, ResourceRegistry registry,
                         Duration resourceTimeout, Supplier<List<Check>> extraChecks) {
        this.logWriter = logWriter;
        this.logDirectory = logDirectory;
        this.registry = registry;
        this.resourceTimeout = resourceTimeout;
        this.extraChecks = extraChecks;
    }

    /** Marks the service as shutting down: readiness answers DOWN from now on. */
    public void shuttingDown() {
        shuttingDown = true;
    }

    /** Liveness: the process answers. */
    public Report live() {
        return new Report(Status.UP, List.of());
    }

    /** Readiness, checking the log and every resource. */
    public Report ready() {
        List<Check> out = new ArrayList<>();
        if (shuttingDown) {
            out.add(new Check("shutdown", Status.DOWN, "the service is shutting down"));
        }
        LogException failure = logWriter.failure();
        if (failure != null) {
            out.add(new Check("log", Status.DOWN, "a write to the transaction log failed; the log refuses writes "
                    + "until the service restarts: " + failure.getMessage()));
        } else if (!Files.isDirectory(logDirectory) || !Files.isWritable(logDirectory)) {
            out.add(new Check("log", Status.DOWN, "the log directory " + logDirectory + " is not writable"));
        } else {
            out.add(new Check("log", Status.UP, null));
        }
        Map<String, Future<?>> pending = new LinkedHashMap<>();
        for (RecoverableResource r : registry.all()) {
            pending.put(r.name(), checks.submit(() -> {
                r.checkReachable();
                return null;
            }));
        }
        long deadline = System.nanoTime() + resourceTimeout.toNanos();
        for (Map.Entry<String, Future<?>> p : pending.entrySet()) {
            String name = "resource:" + p.getKey();
            try {
                p.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                out.add(new Check(name, Status.UP, null));
            } catch (TimeoutException e) {
                p.getValue().cancel(true);
                out.add(new Check(name, Status.DOWN, "no connection within " + resourceTimeout.toMillis() + " ms"));
            } catch (ExecutionException e) {
                out.add(new Check(name, Status.DOWN, String.valueOf(e.getCause().getMessage())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                out.add(new Check(name, Status.DOWN, "interrupted"));
            }
        }
        out.addAll(extraChecks.get());
        boolean up = out.stream().allMatch(c -> c.status() == Status.UP);
        return new Report(up ? Status.UP : Status.DOWN, out);
    }

    @Override
    public void close() {
        checks.shutdownNow();
    }
}
