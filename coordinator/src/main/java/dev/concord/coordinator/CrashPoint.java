package dev.concord.coordinator;

import java.util.Locale;

/**
 * Named points on the commit path where crash tests stop the JVM, as a power cut would.
 *
 * <p>A crash point is armed by the system property {@code concord.crashPoint} or the environment variable
 * {@code CONCORD_CRASH_POINT} holding the point's {@link #id()}; the value is read once, so a disarmed point costs
 * one comparison of a final field. By default an armed point halts the JVM at once (no shutdown hooks, nothing
 * flushed). With {@code concord.crashMode=wait} (or {@code CONCORD_CRASH_MODE=wait}) it prints
 * {@value #REACHED_MARKER} and the point's id on standard error and blocks the thread for good, so a test can kill
 * the process from outside with SIGKILL at exactly that point.
 */
public enum CrashPoint {
    AFTER_ALL_PREPARES("after-all-prepares"),
    BEFORE_DECISION_FORCE("before-decision-force"),
    AFTER_DECISION_FORCE("after-decision-force"),
    AFTER_FIRST_BRANCH_COMMIT("after-first-branch-commit"),
    BEFORE_END_RECORD("before-end-record");

    /** Exit status of a JVM halted at a crash point. */
    public static final int HALT_STATUS = 87;

    /** The line prefix printed on standard error when a point is reached in wait mode. */
    public static final String REACHED_MARKER = "concord-crash-point-reached: ";

    private static final CrashPoint ARMED = armed();
    private static final boolean WAIT = "wait".equalsIgnoreCase(setting("concord.crashMode", "CONCORD_CRASH_MODE"));

    private final String id;

    CrashPoint(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Stops the JVM (or, in wait mode, this thread for good) when this point is armed; returns otherwise. */
    public void hit() {
        if (ARMED == this) {
            System.err.println(REACHED_MARKER + id);
            System.err.flush();
            if (WAIT) {
                Object never = new Object();
                synchronized (never) {
                    while (true) {
                        try {
                            never.wait();
                        } catch (InterruptedException e) {
                            // Keep waiting: only SIGKILL ends this process.
                        }
                    }
                }
            }
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }

    /** Parses an id such as {@code after-decision-force}. */
    public static CrashPoint fromId(String id) {
        for (CrashPoint p : values()) {
            if (p.id.equals(id.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown crash point '" + id + "'");
    }

    private static CrashPoint armed() {
        String v = setting("concord.crashPoint", "CONCORD_CRASH_POINT");
        return v == null || v.isBlank() ? null : fromId(v);
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        return v == null || v.isBlank() ? System.getenv(env) : v;
    }
}
