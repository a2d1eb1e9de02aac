package dev.concord.service;

import dev.concord.service.config.ConfigException;
import dev.concord.service.config.ConfigLoader;
import dev.concord.service.config.ServiceConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The coordinator process: {@code java -jar concord-service.jar [--config FILE] [--check]}.
 *
 * <p>Reads the configuration (the YAML file, then {@code CONCORD_*} environment overrides; see
 * {@link ConfigLoader}), starts the {@link ConcordService} and runs until it is stopped (SIGTERM or Ctrl-C), then
 * shuts down gracefully. Without {@code --config} it runs on defaults: data directory {@code data}, port 8080 on
 * 127.0.0.1, the embedded RocketMQ broker and Derby database (no resource is configured), and a generated admin
 * token in {@code data/admin.token}. {@code --check} starts, prints
 * where it listens and stops again. Exit status: 0 after a normal stop, 1 when the service cannot start, 2 for a
 * usage or configuration error.
 */
public final class Main {
    private static final String USAGE = "usage: java -jar concord-service.jar [--config FILE] [--check]";

    private Main() {
    }

    /** Entry point. */
    public static void main(String[] args) throws InterruptedException {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                    "%1$tF %1$tT.%1$tL %4$s %3$s %5$s%6$s%n");
        }
        Path configFile = null;
        boolean checkOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config", "-c" -> {
                    if (i + 1 >= args.length) {
                        usage("--config needs a file");
                    }
                    configFile = Path.of(args[++i]);
                }
                case "--check" -> checkOnly = true;
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> usage("unknown option " + args[i]);
            }
        }
        ServiceConfig config;
        try {
            config = ConfigLoader.load(configFile, System.getenv());
        } catch (ConfigException e) {
            System.err.println("concord: configuration error: " + e.getMessage());
            System.exit(2);
            return;
        }
        ConcordService service;
        try {
            service = ConcordService.start(config, ConcordService.Options.defaults());
        } catch (ConcordService.StartupException e) {
            System.err.println("concord: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println("concord: node " + service.config().nodeId() + " listening on " + service.baseUri()
                + " with " + service.config().databases().size() + " database resource(s); data in "
                + service.config().dataDir() + "; recovery at start: " + service.firstRecovery());
        if (service.embedded() != null) {
            System.out.println("concord: " + service.embedded().describe());
        }
        if (service.generatedTokenFile() != null) {
            System.out.println("concord: no token is configured; the admin token is in "
                    + service.generatedTokenFile());
        }
        if (checkOnly) {
            service.close();
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("concord: stopping (grace " + service.config().shutdownGrace().toSeconds() + " s)");
            ConcordService.ShutdownReport report = service.shutdown();
            if (report.phaseTwoUnfinished() > 0) {
                System.out.println("concord: CONCORD-3102 " + report.phaseTwoUnfinished() + " transaction(s) still "
                        + "in phase 2 when the grace period ended; recovery finishes them at the next start");
            }
            System.out.println("concord: stopped after " + report.millis() + " ms");
            stopped.countDown();
        }, "concord-shutdown"));
        stopped.await();
    }

    private static void usage(String problem) {
        System.err.println("concord: " + problem);
        System.err.println(USAGE);
        System.exit(2);
    }
}
