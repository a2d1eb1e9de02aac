package dev.concord.service;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.RecoveryManager;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.TransactionLog;
import dev.concord.recovery.log.file.FileLogConfig;
import dev.concord.recovery.log.file.FileTransactionLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The coordinator process. Opens the durable transaction log in the data directory, starts the engine and the
 * recovery manager (a pass at start, then every 30 s), checks the engine with one empty transaction and runs until
 * it is stopped (SIGTERM or Ctrl-C), closing the log on the way out.
 *
 * <p>Options: {@code --node-id ID} (default {@code concord-1}), {@code --data-dir DIR} (default {@code data}),
 * {@code --check} (start, check and exit).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String nodeId = "concord-1";
        Path dataDir = Path.of("data");
        boolean checkOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--node-id" -> {
                    if (i + 1 >= args.length) {
                        usage("--node-id needs a value");
                    }
                    nodeId = args[++i];
                }
                case "--data-dir" -> {
                    if (i + 1 >= args.length) {
                        usage("--data-dir needs a value");
                    }
                    dataDir = Path.of(args[++i]);
                }
                case "--check" -> checkOnly = true;
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> usage("unknown option " + args[i]);
            }
        }
        CoordinatorConfig config;
        try {
            config = CoordinatorConfig.builder().nodeId(nodeId).build();
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        }
        TransactionLog log;
        try {
            log = FileTransactionLog.open(FileLogConfig.builder(dataDir.resolve("log")).build());
        } catch (LogException e) {
            System.err.println("concord: cannot open the transaction log in " + dataDir.resolve("log") + ": "
                    + e.getMessage());
            System.exit(1);
            return;
        }
        Coordinator coordinator = new Coordinator(config, log, new ResourceRegistry());
        RecoveryManager recovery = new RecoveryManager(coordinator, log);
        RecoveryManager.Report first = recovery.recover();
        ConcordTransactionManager tm = new ConcordTransactionManager(coordinator);
        tm.begin();
        tm.commit();
        System.out.println("concord: node " + nodeId + " started with log " + dataDir.resolve("log") + "; recovery: "
                + first + "; engine check transaction committed");
        if (checkOnly) {
            coordinator.close();
            log.close();
            return;
        }
        recovery.start(Duration.ofSeconds(30));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            recovery.close();
            coordinator.close();
            log.close();
            System.out.println("concord: stopped");
            stopped.countDown();
        }, "concord-shutdown"));
        System.out.println("concord: running; stop with Ctrl-C");
        stopped.await();
    }

    private static final String USAGE = "usage: concord [--node-id ID] [--data-dir DIR] [--check]";

    private static void usage(String problem) {
        System.err.println("concord: " + problem);
        System.err.println(USAGE);
        System.exit(2);
    }
}
