package dev.concord.it.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What Linux says about the whole machine, every process included (the database servers too): busy CPU time of all
 * cores ({@code /proc/stat}: user, nice, system, irq, softirq; not idle, iowait or steal) and the flushes the disk
 * under the benchmark's directory completed ({@code /proc/diskstats}, field 16: every fsync of every process that
 * reached the device as a cache flush). With them a window tells whether the machine ran out of cores or of disk
 * flushes, and how many flushes each committed transaction cost all processes together. Where a value is not
 * available (no /proc, a disk Linux does not list, a kernel older than 5.5 without flush counts) it is -1.
 *
 * @param busyNanos   busy CPU time summed over all cores
 * @param cores       cores listed in /proc/stat
 * @param diskFlushes flushes completed by the disk
 */
record MachineStats(long busyNanos, int cores, long diskFlushes) {
    /** A snapshot; {@code disk} is a device name as /proc/diskstats lists it (e.g. {@code vda}), or null. */
    static MachineStats now(String disk) {
        long busy = -1;
        int cores = -1;
        try {
            List<String> stat = Files.readAllLines(Path.of("/proc/stat"));
            String[] f = stat.get(0).trim().split("\\s+");
            // cpu user nice system idle iowait irq softirq steal ...
            busy = (Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7])) * ProcStats.NANOS_PER_TICK;
            cores = (int) stat.stream().filter(l -> l.matches("cpu\\d+ .*")).count();
        } catch (IOException | RuntimeException e) {
            // Not Linux, or a format this does not know.
        }
        return new MachineStats(busy, cores, disk == null ? -1 : flushes(disk));
    }

    private static long flushes(String disk) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/diskstats"))) {
                String[] f = line.trim().split("\\s+");
                // major minor name, then the counters; flushes completed is the 16th counter.
                if (f.length >= 3 + 16 && f[2].equals(disk)) {
                    return Long.parseLong(f[2 + 16]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // No diskstats here.
        }
        return -1;
    }

    /**
     * The whole disk that holds {@code dir}, as /proc/diskstats names it, or null: the file store's device with a
     * partition suffix taken off ({@code /dev/vda1} → {@code vda}, {@code /dev/nvme0n1p2} → {@code nvme0n1}), since
     * Linux counts flushes on the whole disk.
     */
    static String diskOf(Path dir) {
        try {
            String device = Files.getFileStore(dir).name();
            if (!device.startsWith("/dev/")) {
                return null;
            }
            String name = device.substring("/dev/".length());
            String whole = name.matches(".*\\d+p\\d+") ? name.replaceAll("p\\d+$", "")
                    : name.matches("[a-z]+\\d+") ? name.replaceAll("\\d+$", "") : name;
            return flushes(whole) >= 0 ? whole : flushes(name) >= 0 ? name : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** this minus an earlier snapshot; -1 where either is unknown. */
    MachineStats minus(MachineStats earlier) {
        return new MachineStats(diff(busyNanos, earlier.busyNanos), cores, diff(diskFlushes, earlier.diskFlushes));
    }

    private static long diff(long a, long b) {
        return a < 0 || b < 0 ? -1 : a - b;
    }
}
