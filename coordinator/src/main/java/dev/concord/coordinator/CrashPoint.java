package dev.concord.coordinator;

import java.util.Locale;

/**
 * Named points on the commit path where crash tests halt the JVM, as a power cut would.
 *
 * <p>A crash point is armed by the system property {@code concord.crashPoint} or the environment variable
 * {@code CONCORD_CRASH_POINT} holding the point's {@link #id()}; the value is read once, so a disarmed point costs
 * one comparison of a final field.
 */
public enum CrashPoint {
    AFTER_ALL_PREPARES("after-all-prepares"),
    BEFORE_DECISION_FORCE("before-decision-force"),
    AFTER_DECISION_FORCE("after-decision-force"),
    AFTER_FIRST_BRANCH_COMMIT("after-first-branch-commit"),
    BEFORE_END_RECORD("before-end-record");

    /** Exit status of a JVM halted at a crash point. */
    public static final int HALT_STATUS = 87;

    private static final CrashPoint ARMED = armed();

    private final String id;

    CrashPoint(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Halts the JVM at once when this point is armed; returns otherwise. */
    public void hit() {
        if (ARMED == this) {
            System.err.println("concord: halting at crash point " + id);
            System.err.flush();
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
        String v = System.getProperty("concord.crashPoint");
        if (v == null || v.isBlank()) {
            v = System.getenv("CONCORD_CRASH_POINT");
        }
        return v == null || v.isBlank() ? null : fromId(v);
    }
}
