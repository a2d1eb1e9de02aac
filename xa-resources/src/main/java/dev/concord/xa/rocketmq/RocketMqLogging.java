package dev.concord.xa.rocketmq;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Points RocketMQ's own logging (a shaded logback inside the RocketMQ jars, separate from any slf4j binding of the
 * application) at a file of Concord's choosing instead of {@code ${user.home}/logs/rocketmqlogs} and the console.
 *
 * <p>RocketMQ reads its logging configuration once per JVM, when its first logger is created. The redirection
 * therefore only takes effect when it runs before any RocketMQ class logs, and it steps aside when the application
 * configured RocketMQ logging itself: the system property {@value #CONFIG_PROPERTY} is set, or a
 * {@code rmq.logback-test.xml} or {@code rmq.logback.xml} is on the class path. {@link RocketMqResource} (before it
 * creates its producer) and {@link EmbeddedRocketMq} (before it starts) call it, so the first of them decides.
 *
 * <p>One file RocketMQ does not let this redirect: the broker's RocksDB writes its {@code LOG} files to
 * {@code ${user.home}/logs/rocketmqlogs} (hard-coded in RocketMQ); {@link EmbeddedRocketMq#close()} deletes the
 * ones of a temporary store.
 */
public final class RocketMqLogging {
    /** The system property RocketMQ's shaded logback reads its configuration file from. */
    public static final String CONFIG_PROPERTY = "rmq.logback.configurationFile";

    private RocketMqLogging() {
    }

    /** {@code java.io.tmpdir/concord-rocketmq-logs}: where Concord sends RocketMQ's log unless told otherwise. */
    public static Path defaultDirectory() {
        return Path.of(System.getProperty("java.io.tmpdir"), "concord-rocketmq-logs");
    }

    /**
     * Sends RocketMQ's log records at {@code level} and above to {@code rocketmq-<pid>.log} in {@code dir}, unless
     * RocketMQ logging is configured already.
     *
     * @param level a logback level name such as {@code WARN} or {@code INFO}
     * @return true when this call installed the configuration
     * @throws UncheckedIOException when the directory or the configuration file cannot be written
     */
    public static synchronized boolean redirectUnlessConfigured(Path dir, String level) {
        if (System.getProperty(CONFIG_PROPERTY) != null) {
            return false;
        }
        ClassLoader loader = RocketMqLogging.class.getClassLoader();
        if (loader.getResource("rmq.logback-test.xml") != null || loader.getResource("rmq.logback.xml") != null) {
            return false;
        }
        String lvl = level == null ? "WARN" : level.trim().toUpperCase(Locale.ROOT);
        if (!lvl.matches("TRACE|DEBUG|INFO|WARN|ERROR|OFF")) {
            throw new IllegalArgumentException("not a log level: " + level);
        }
        try {
            Path abs = dir.toAbsolutePath();
            Files.createDirectories(abs);
            Path logFile = abs.resolve("rocketmq-" + ProcessHandle.current().pid() + ".log");
            String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    + "<configuration>\n"
                    + "  <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">\n"
                    + "    <file>" + xmlEscape(logFile.toString()) + "</file>\n"
                    + "    <append>true</append>\n"
                    + "    <encoder class=\"ch.qos.logback.classic.encoder.PatternLayoutEncoder\">\n"
                    + "      <pattern>%d{yyyy-MM-dd HH:mm:ss.SSS} %-5p [%t] %logger{24} - %m%n</pattern>\n"
                    + "    </encoder>\n"
                    + "  </appender>\n"
                    + "  <root level=\"" + lvl + "\">\n"
                    + "    <appender-ref ref=\"FILE\"/>\n"
                    + "  </root>\n"
                    + "</configuration>\n";
            Path config = abs.resolve("rocketmq-logback-" + ProcessHandle.current().pid() + ".xml");
            Files.writeString(config, xml, StandardCharsets.UTF_8);
            System.setProperty(CONFIG_PROPERTY, config.toString());
            if (System.getProperty("rocketmq.log.root") == null) {
                System.setProperty("rocketmq.log.root", abs.toString());
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the RocketMQ logging configuration in " + dir, e);
        }
    }

    private static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
