package dev.concord.it.bench;

import java.util.Locale;

/** The workloads of {@link PeerBenchmark}, by the name used on the command line and in the BENCH lines. */
enum Workload {
    /** Two no-I/O XAResources per transaction, durable log: the coordinator's own cost. */
    NOP("nop"),
    /** One MariaDB branch and one PostgreSQL branch, a one-row insert each. */
    XA_DB("xa-db"),
    /** The REST round trip of a participant through the coordinator service ({@link RestBenchmark}). */
    REST("rest");

    final String id;

    Workload(String id) {
        this.id = id;
    }

    static Workload parse(String s) {
        for (Workload w : values()) {
            if (w.id.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + s + "' (nop, xa-db, rest)");
    }
}
