package dev.concord.recovery.log.file;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.xid.Gtrid;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LiveStateTest {
    private static final long HOUR = 3_600_000;

    private static Gtrid tx(int n) {
        return Gtrid.of("live-state-test", 1_000, n);
    }

    private static List<Gtrid> listed(LiveState state, long now) {
        return new ArrayList<>(state.recentCommits(now).endedAtMillis().keySet());
    }

    @Test
    void endsArrivingOutOfTimeOrderAreListedOldestEndFirst() {
        LiveState state = new LiveState(HOUR, 100);
        state.end(tx(1), 5_000);
        state.end(tx(2), 3_000);
        state.end(tx(3), 7_000);
        state.end(tx(4), 5_000);
        state.end(tx(5), 1_000);
        assertEquals(List.of(tx(5), tx(2), tx(1), tx(4), tx(3)), listed(state, 8_000),
                "END time first, arrival order among equal times");
    }

    @Test
    void theCapDropsTheOldestEndNotTheFirstArrivedAndRaisesTheHorizonToIt() {
        LiveState state = new LiveState(HOUR, 2);
        state.end(tx(1), 5_000);
        state.end(tx(2), 2_000);
        state.end(tx(3), 9_000);
        RecentCommits recent = state.recentCommits(10_000);
        assertEquals(Map.of(tx(1), 5_000L, tx(3), 9_000L), recent.endedAtMillis());
        assertEquals(2_000, state.horizonTarget());
    }

    @Test
    void aSecondEndOfTheSameTransactionReplacesItsPlace() {
        LiveState state = new LiveState(HOUR, 100);
        state.end(tx(1), 1_000);
        state.end(tx(2), 2_000);
        state.end(tx(1), 3_000);
        assertEquals(List.of(tx(2), tx(1)), listed(state, 4_000));
        assertEquals(2, state.commitCount());
    }

    @Test
    void pruningDropsEndsOlderThanTheRetentionWhicheverOrderTheyCameIn() {
        LiveState state = new LiveState(10_000, 100);
        state.end(tx(1), 15_000);
        state.end(tx(2), 1_000);
        state.end(tx(3), 4_000);
        state.pruneCommits(20_000, true);
        assertEquals(List.of(tx(1)), listed(state, 20_000));
        assertEquals(4_000, state.horizonTarget());
    }
}
