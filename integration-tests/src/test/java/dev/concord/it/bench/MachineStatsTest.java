package dev.concord.it.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The machine-wide figures the peer benchmark's xa-db conclusions rest on: a force on the benchmark's disk shows
 * up as a flush of that disk, and CPU this process burns shows up as busy machine time. Other processes only add to
 * both, so the checks are lower bounds.
 */
class MachineStatsTest {
    @TempDir
    Path dir;

    @Test
    void everyForceOnTheBenchmarksDiskIsCountedAsAFlushOfThatDisk() throws Exception {
        String disk = MachineStats.diskOf(dir);
        assumeTrue(disk != null, "no /proc/diskstats entry for the disk under " + dir);
        Path cache = Path.of("/sys/block", disk, "queue", "write_cache");
        // A disk without a volatile write cache needs no flush: Linux then sends none and counts none.
        assumeTrue(Files.exists(cache) && Files.readString(cache).trim().equals("write back"),
                disk + " has no write-back cache");
        int forces = 20;
        try (FileChannel channel = FileChannel.open(dir.resolve("f.bin"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            MachineStats before = MachineStats.now(disk);
            for (int i = 0; i < forces; i++) {
                channel.write(ByteBuffer.wrap(new byte[] {(byte) i}), i * 512L);
                channel.force(false);
            }
            long flushes = MachineStats.now(disk).minus(before).diskFlushes();
            assertTrue(flushes >= forces, forces + " forces, but " + disk + " counted " + flushes + " flushes");
        }
    }

    @Test
    void cpuThisProcessBurnsIsCountedAsBusyMachineTime() {
        MachineStats before = MachineStats.now(null);
        assumeTrue(before.busyNanos() >= 0, "no /proc/stat");
        long cpu0 = ProcStats.now().userNanos();
        long deadline = System.nanoTime() + 10_000_000_000L;
        long burnt = 0;
        long x = 0;
        // Spin until this process has 200 ms of user CPU more (however busy the machine is), 10 s at most.
        while (burnt < 200_000_000L && System.nanoTime() < deadline) {
            for (int i = 0; i < 100_000; i++) {
                x += Long.numberOfTrailingZeros(x + i);
            }
            burnt = ProcStats.now().userNanos() - cpu0;
        }
        MachineStats delta = MachineStats.now(null).minus(before);
        assertTrue(x >= 0);
        assertTrue(burnt >= 200_000_000L, "the spin got only " + burnt / 1_000_000 + " ms of CPU in 10 s");
        assertEquals(-1, delta.diskFlushes(), "no disk named, no flush count");
        assertTrue(delta.cores() >= 1, "cores: " + delta.cores());
        // Both count in 10 ms ticks; allow two ticks of rounding.
        assertTrue(delta.busyNanos() >= burnt - 20_000_000L,
                "this process burnt " + burnt / 1_000_000 + " ms, the machine counted " + delta.busyNanos() / 1_000_000
                        + " ms busy");
    }
}
