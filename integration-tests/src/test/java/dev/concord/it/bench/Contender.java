package dev.concord.it.bench;

import java.nio.file.Path;
import java.util.Locale;

/**
 * One transaction manager under test (or the hand-written XA baseline, or the bare group-commit ceiling), set up with its durable log in its own
 * temporary directory. It lives in a child JVM of its own ({@link PeerBenchmarkChild}): Narayana and Atomikos keep
 * their configuration in static singletons, so one JVM can hold only one of them, and only one store type.
 */
interface Contender extends AutoCloseable {

    /** The contenders by their command-line names. */
    enum Kind {
        CONCORD("concord"),
        /**
         * Concord with its log forced through the page cache ({@code directWrites} off), to compare the log's two
         * write paths side by side; runs only when listed in {@code --contenders}.
         */
        CONCORD_PAGE_CACHE("concord-page-cache"),
        NARAYANA_JOURNAL("narayana-journal"),
        NARAYANA_SHADOW("narayana-shadow"),
        ATOMIKOS("atomikos"),
        /** Hand-written XA on both databases: no transaction manager, no log. xa-db only. */
        BASELINE("baseline"),
        /** The least a durable commit needs: one record per transaction in a bare group commit. nop only. */
        CEILING("ceiling");

        final String id;

        Kind(String id) {
            this.id = id;
        }

        static Kind parse(String s) {
            for (Kind k : values()) {
                if (k.id.equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown contender '" + s
                    + "' (concord, concord-page-cache, narayana-journal, narayana-shadow, atomikos, baseline, ceiling)");
        }
    }

    /** One thread's transaction loop body. */
    interface Worker extends AutoCloseable {
        /** Runs one complete transaction; throws if it did not commit. */
        void transaction() throws Exception;

        @Override
        default void close() throws Exception {
        }
    }

    /** A worker for one thread of the workload, made on that thread before the clock starts. */
    Worker worker(Workload workload, int threadIndex) throws Exception;

    /** Durable forces of the log so far, or -1 when the contender does not count them. */
    default long forceCount() {
        return -1;
    }

    /** Total time spent in the log's forces so far, in nanoseconds, or -1 when not measured. */
    default long forceNanos() {
        return -1;
    }

    /** Opens the contender of this kind with its log under {@code dir}. */
    static Contender open(Kind kind, Path dir, ChildOptions options) throws Exception {
        return switch (kind) {
            case CONCORD -> new ConcordContender(dir, options, kind.id, true);
            case CONCORD_PAGE_CACHE -> new ConcordContender(dir, options, kind.id, false);
            case NARAYANA_JOURNAL -> new NarayanaContender(dir, true, options);
            case NARAYANA_SHADOW -> new NarayanaContender(dir, false, options);
            case ATOMIKOS -> new AtomikosContender(dir, options);
            case BASELINE -> new BaselineContender(options);
            case CEILING -> new GroupCommitCeiling(dir);
        };
    }
}
