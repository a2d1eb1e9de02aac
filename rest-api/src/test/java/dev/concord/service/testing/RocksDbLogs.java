package dev.concord.service.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.rocketmq.common.config.ConfigHelper;

/**
 * The info logs RocksDB writes for a broker store into {@code ${user.home}/logs/rocketmqlogs} (hard-coded in
 * RocketMQ, named after the store path with every character outside {@code [A-Za-z0-9._-]} turned into {@code _}):
 * a test that ran a broker on a store of its own deletes them afterwards.
 */
public final class RocksDbLogs {
    private RocksDbLogs() {
    }

    /** Deletes the RocksDB info logs of the broker store {@code storeDir}. */
    public static void deleteFor(Path storeDir) throws IOException {
        Path logs = Path.of(ConfigHelper.getDBLogDir());
        if (!Files.isDirectory(logs)) {
            return;
        }
        String prefix = storeDir.toAbsolutePath().toString().replaceFirst("^[/\\\\]+", "")
                .replaceAll("[^A-Za-z0-9._-]", "_") + "_";
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (name.startsWith(prefix) && name.contains("_LOG")) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }
}
