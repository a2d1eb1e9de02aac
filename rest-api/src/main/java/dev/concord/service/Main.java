package dev.concord.service;

import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.CoordinatorConfig;
import dev.concord.coordinator.ResourceRegistry;
import dev.concord.coordinator.jta.ConcordTransactionManager;
import dev.concord.recovery.log.InMemoryTransactionLog;
import dev.concord.recovery.log.TransactionLog;
import java.util.concurrent.CountDownLatch;

/**
 * The coordinator process. Starts the engine with its transaction log, checks it with one empty transaction and
 * runs until it is stopped (SIGTERM or Ctrl-C), closing the log on the way out.
 *
 * <p>Options: {@code --node-id ID} (default {@code concord-1}), {@code --check} (start, check and exit).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String nodeId = "concord-1";
        boolean checkOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--node-id" -> {
                    if (i + 1 >= args.length) {
                        usage("--node-id needs a value");
                    }
                    nodeId = args[++i];
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
        TransactionLog log = new InMemoryTransactionLog();
        Coordinator coordinator = new Coordinator(config, log, new ResourceRegistry());
        ConcordTransactionManager tm = new ConcordTransactionManager(coordinator);
        tm.begin();
        tm.commit();
        System.out.println("concord: node " + nodeId + " started; engine check transaction committed");
        if (checkOnly) {
            coordinator.close();
            log.close();
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            coordinator.close();
            log.close();
            System.out.println("concord: stopped");
            stopped.countDown();
        }, "concord-shutdown"));
        System.out.println("concord: running; stop with Ctrl-C");
        stopped.await();
    }

    private static final String USAGE = "usage: concord [--node-id ID] [--check]";

    private static void usage(String problem) {
        System.err.println("concord: " + problem);
        System.err.println(USAGE);
        System.exit(2);
    }
}
