package dev.concord.it.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a JFR recording of {@link PeerBenchmark}'s Concord child ({@code --jfr=DIR}) spent its time, as plain
 * text: Java execution samples by top frame (self) and by Concord method (inclusive), native samples by top
 * frame (threads blocked in a system call count as native samples; the child's command reader is left out),
 * and thread parks by the Concord frame that parked, with their count and total duration. Parks show up
 * only if the recording's {@code jdk.ThreadPark} threshold is low (the {@code profile} settings record parks of
 * 10 ms and more; use a copy of it with threshold 0 to see every hand-off).
 *
 * <p>Usage: {@code java -cp <test class path> dev.concord.it.bench.JfrSummary FILE.jfr [TOP]}.
 */
public final class JfrSummary {
    private JfrSummary() {
    }

    public static void main(String[] args) throws Exception {
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        Map<String, long[]> self = new HashMap<>();
        Map<String, long[]> inclusive = new HashMap<>();
        Map<String, long[]> nativeSelf = new HashMap<>();
        Map<String, long[]> parks = new HashMap<>();
        long[] samples = new long[2];
        try (RecordingFile f = new RecordingFile(Path.of(args[0]))) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                String type = e.getEventType().getName();
                if (e.getStackTrace() == null) {
                    continue;
                }
                List<RecordedFrame> frames = e.getStackTrace().getFrames();
                if (frames.isEmpty()) {
                    continue;
                }
                switch (type) {
                    case "jdk.ExecutionSample" -> {
                        samples[0]++;
                        add(self, name(frames.get(0)), 1, 0);
                        Set<String> seen = new HashSet<>();
                        for (RecordedFrame fr : frames) {
                            String n = method(fr);
                            if (n.startsWith("dev.concord.") && !n.startsWith("dev.concord.it.") && seen.add(n)) {
                                add(inclusive, n, 1, 0);
                            }
                        }
                    }
                    case "jdk.NativeMethodSample" -> {
                        if (frames.stream().anyMatch(fr -> method(fr).startsWith(PeerBenchmarkChild.class.getName()))) {
                            continue; // the child's command reader, blocked on its standard input
                        }
                        samples[1]++;
                        add(nativeSelf, name(frames.get(0)), 1, 0);
                    }
                    case "jdk.ThreadPark" -> {
                        String site = "?";
                        for (RecordedFrame fr : frames) {
                            String n = method(fr);
                            if (n.startsWith("dev.concord.")) {
                                site = name(fr);
                                break;
                            }
                        }
                        if (site.equals("?")) {
                            site = "(no Concord frame) " + firstOutsideConcurrency(frames);
                        }
                        RecordedThread t = e.getThread("eventThread");
                        String thread = t == null || t.getJavaName() == null ? "?" : t.getJavaName().replaceAll("\\d+$", "N");
                        Duration d = e.getDuration();
                        add(parks, thread + "  " + site, 1, d.toNanos());
                    }
                    default -> {
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "Java execution samples: %d; native samples: %d%n", samples[0], samples[1]);
        print("Java samples by top frame (self)", self, samples[0], top, false);
        print("Java samples by Concord method (inclusive)", inclusive, samples[0], top, false);
        print("Native samples by top frame", nativeSelf, samples[1], top, false);
        print("Thread parks by thread and Concord frame (count, total parked time)", parks, 0, top, true);
    }

    private static String firstOutsideConcurrency(List<RecordedFrame> frames) {
        for (RecordedFrame fr : frames) {
            String n = method(fr);
            if (!n.startsWith("java.util.concurrent.") && !n.startsWith("jdk.internal.")) {
                return name(fr);
            }
        }
        return name(frames.get(frames.size() - 1));
    }

    private static String method(RecordedFrame fr) {
        return fr.getMethod().getType().getName() + "." + fr.getMethod().getName();
    }

    private static String name(RecordedFrame fr) {
        return method(fr) + ":" + fr.getLineNumber();
    }

    private static void add(Map<String, long[]> m, String key, long count, long nanos) {
        long[] v = m.computeIfAbsent(key, k -> new long[2]);
        v[0] += count;
        v[1] += nanos;
    }

    private static void print(String title, Map<String, long[]> m, long total, int top, boolean durations) {
        System.out.println();
        System.out.println(title + ":");
        m.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).limit(top)
                .forEach(en -> System.out.printf(Locale.ROOT, durations ? "  %8d  %8.2f s  %s%n" : "  %8d  %5.1f%%  %s%n",
                        en.getValue()[0], durations ? en.getValue()[1] / 1e9 : 100.0 * en.getValue()[0] / Math.max(1, total),
                        en.getKey()));
    }
}
