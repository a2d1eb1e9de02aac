package dev.concord.it.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux says about this process: user and system CPU time ({@code /proc/self/stat}, in clock ticks of 10 ms),
 * context switches summed over its threads ({@code /proc/self/task/N/status}) and the CPU time of its JIT compiler
 * threads ({@code /proc/self/task/N/stat}); threads that end in between take theirs with them. Where /proc is
 * missing, every value is -1.
 *
 * @param userNanos       user-mode CPU time of the process
 * @param systemNanos     kernel-mode CPU time of the process (system calls: forces, writes, futex park/unpark)
 * @param contextSwitches voluntary plus involuntary context switches of the threads alive now
 * @param compilerNanos   user plus kernel CPU time of the C1 and C2 compiler threads alive now: code still being
 *                        compiled, part of the process's CPU time but not a cost of the transactions themselves
 */
record ProcStats(long userNanos, long systemNanos, long contextSwitches, long compilerNanos) {
    /** Linux's clock tick for /proc CPU times (USER_HZ = 100). */
    static final long NANOS_PER_TICK = 10_000_000L;

    static ProcStats now() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // After the command: state is field 3 of the man page, utime 14, stime 15.
            long user = Long.parseLong(f[14 - 3]) * NANOS_PER_TICK;
            long system = Long.parseLong(f[15 - 3]) * NANOS_PER_TICK;
            long switches = 0;
            long compiler = 0;
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
                for (Path task : tasks) {
                    try {
                        for (String line : Files.readAllLines(task.resolve("status"))) {
                            if (line.startsWith("voluntary_ctxt_switches:")
                                    || line.startsWith("nonvoluntary_ctxt_switches:")) {
                                switches += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                            }
                        }
                        String taskStat = Files.readString(task.resolve("stat"));
                        String comm = taskStat.substring(taskStat.indexOf('(') + 1, taskStat.lastIndexOf(')'));
                        if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
                            String[] t = taskStat.substring(taskStat.lastIndexOf(')') + 2).split(" ");
                            compiler += (Long.parseLong(t[14 - 3]) + Long.parseLong(t[15 - 3])) * NANOS_PER_TICK;
                        }
                    } catch (IOException e) {
                        // The thread ended while we looked.
                    }
                }
            }
            return new ProcStats(user, system, switches, compiler);
        } catch (IOException | RuntimeException e) {
            return new ProcStats(-1, -1, -1, -1);
        }
    }

    /** this minus an earlier snapshot; -1 where either is unknown. */
    ProcStats minus(ProcStats earlier) {
        return new ProcStats(diff(userNanos, earlier.userNanos), diff(systemNanos, earlier.systemNanos),
                diff(contextSwitches, earlier.contextSwitches), diff(compilerNanos, earlier.compilerNanos));
    }

    private static long diff(long a, long b) {
        return a < 0 || b < 0 ? -1 : a - b;
    }
}
