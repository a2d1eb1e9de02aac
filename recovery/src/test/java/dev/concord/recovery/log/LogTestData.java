package dev.concord.recovery.log;

import dev.concord.recovery.xid.Gtrid;
import java.util.List;

/** Decisions, heuristics and gtrids for log tests; the same number always gives the same value. */
public final class LogTestData {
    private LogTestData() {
    }

    /** A gtrid of node {@code node-a}. */
    public static Gtrid gtrid(long n) {
        return Gtrid.of("node-a", 1_700_000_000_000L + n, n);
    }

    /** 64 bytes of recovery data that use every bit pattern position, different per seed, ending non-zero. */
    public static byte[] binaryData(int seed) {
        byte[] data = new byte[64];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 37 + seed * 11);
        }
        data[0] = 0;
        data[1] = (byte) 0xff;
        data[63] = (byte) (0x80 | seed);
        return data;
    }

    /** A two-branch decision: a database branch without recovery data and a message branch with 64 bytes. */
    public static CommitDecision decision(long n) {
        return new CommitDecision(gtrid(n), 1_700_000_100_000L + n, List.of(
                new BranchRecord("orders-db", 1, new byte[0]),
                new BranchRecord("events-mq", 2, binaryData((int) n))));
    }

    /** A heuristic on branch 1 of transaction {@code n}. */
    public static HeuristicRecord heuristic(long n, HeuristicOutcome outcome) {
        return new HeuristicRecord(gtrid(n), new BranchRecord("orders-db", 1, new byte[0]), outcome,
                "XA_HEURRB from orders-db (" + n + ")", 1_700_000_200_000L + n);
    }
}
