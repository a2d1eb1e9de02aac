package dev.concord.service.embedded;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * The loopback ports of the embedded servers: free ones are chosen at the first start and kept in a properties
 * file, so that after a restart participants and consumers find the database and the name server where they were,
 * and the broker keeps the address its half messages were stored under.
 */
final class EmbeddedPorts {
    static final String DERBY = "derby.port";
    static final String NAMESRV = "rocketmq.namesrvPort";
    static final String BROKER = "rocketmq.brokerPort";
    static final String HA = "rocketmq.haPort";

    private final Properties ports;

    private EmbeddedPorts(Properties ports) {
        this.ports = ports;
    }

    /** The ports kept in {@code file}; missing ones are chosen now and the file is written. */
    static EmbeddedPorts load(Path file) throws IOException {
        Properties p = new Properties();
        if (Files.isRegularFile(file)) {
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
                p.load(in);
            }
        }
        boolean changed = false;
        for (String key : new String[] {DERBY, NAMESRV, BROKER, HA}) {
            String v = p.getProperty(key);
            if (v != null && !v.isBlank()) {
                try {
                    int port = Integer.parseInt(v.trim());
                    if (port > 0 && port <= 65535) {
                        continue;
                    }
                } catch (NumberFormatException e) {
                    // not a number: refused below
                }
                throw new IOException(file + ": " + key + " must be a port number, got '" + v + "'");
            }
            p.setProperty(key, Integer.toString(key.equals(BROKER) ? freeBrokerPort() : freePort()));
            changed = true;
        }
        if (changed) {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.ISO_8859_1)) {
                p.store(out, "Loopback ports of the embedded servers, kept across restarts");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return new EmbeddedPorts(p);
    }

    int get(String key) {
        return Integer.parseInt(ports.getProperty(key).trim());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    /** A free port p whose p - 2 is free too: the broker also listens on p - 2. */
    private static int freeBrokerPort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int p = freePort();
            if (p - 2 >= 1024) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), p - 2));
                    return p;
                } catch (IOException e) {
                    // taken: try another
                }
            }
        }
        throw new IOException("no free port pair (p, p - 2) on the loopback interface");
    }
}
