package dev.concord.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.transaction.Status;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The full transition table: every pair of states is either listed here as legal or rejected. */
class TxStateTest {
    private static final Map<TxState, Set<TxState>> LEGAL = Map.ofEntries(
            Map.entry(TxState.ACTIVE, EnumSet.of(TxState.MARKED_ROLLBACK, TxState.PREPARING,
                    TxState.COMMITTING_ONE_PHASE, TxState.ROLLING_BACK)),
            Map.entry(TxState.MARKED_ROLLBACK, EnumSet.of(TxState.ROLLING_BACK)),
            Map.entry(TxState.PREPARING, EnumSet.of(TxState.COMMITTING, TxState.COMMITTED, TxState.ROLLING_BACK)),
            Map.entry(TxState.COMMITTING_ONE_PHASE, EnumSet.of(TxState.COMMITTED, TxState.ROLLED_BACK,
                    TxState.HEURISTIC_ROLLBACK, TxState.HEURISTIC_MIXED, TxState.HEURISTIC_HAZARD)),
            Map.entry(TxState.COMMITTING, EnumSet.of(TxState.COMMITTED, TxState.HEURISTIC_ROLLBACK,
                    TxState.HEURISTIC_MIXED, TxState.HEURISTIC_HAZARD)),
            Map.entry(TxState.ROLLING_BACK, EnumSet.of(TxState.ROLLED_BACK, TxState.HEURISTIC_COMMIT,
                    TxState.HEURISTIC_MIXED, TxState.HEURISTIC_HAZARD)),
            Map.entry(TxState.COMMITTED, EnumSet.noneOf(TxState.class)),
            Map.entry(TxState.ROLLED_BACK, EnumSet.noneOf(TxState.class)),
            Map.entry(TxState.HEURISTIC_COMMIT, EnumSet.noneOf(TxState.class)),
            Map.entry(TxState.HEURISTIC_ROLLBACK, EnumSet.noneOf(TxState.class)),
            Map.entry(TxState.HEURISTIC_MIXED, EnumSet.noneOf(TxState.class)),
            Map.entry(TxState.HEURISTIC_HAZARD, EnumSet.noneOf(TxState.class)));

    @Test
    void everyPairOfStatesMatchesTheTable() {
        assertEquals(EnumSet.allOf(TxState.class), LEGAL.keySet());
        for (TxState from : TxState.values()) {
            for (TxState to : TxState.values()) {
                boolean legal = LEGAL.get(from).contains(to);
                assertEquals(legal, from.canMoveTo(to), from + " -> " + to);
                if (legal) {
                    assertEquals(to, from.checkTransition(to));
                } else {
                    IllegalStateException e = assertThrows(IllegalStateException.class, () -> from.checkTransition(to));
                    assertTrue(e.getMessage().contains(from + " -> " + to), e.getMessage());
                }
            }
        }
    }

    @Test
    void terminalStatesAreExactlyThoseWithoutSuccessors() {
        for (TxState s : TxState.values()) {
            assertEquals(LEGAL.get(s).isEmpty(), s.isTerminal(), s.name());
        }
        assertTrue(TxState.HEURISTIC_MIXED.isHeuristic());
        assertFalse(TxState.COMMITTED.isHeuristic());
    }

    @Test
    void jtaStatusValues() {
        assertEquals(Status.STATUS_ACTIVE, TxState.ACTIVE.jtaStatus());
        assertEquals(Status.STATUS_MARKED_ROLLBACK, TxState.MARKED_ROLLBACK.jtaStatus());
        assertEquals(Status.STATUS_PREPARING, TxState.PREPARING.jtaStatus());
        assertEquals(Status.STATUS_COMMITTING, TxState.COMMITTING.jtaStatus());
        assertEquals(Status.STATUS_COMMITTED, TxState.COMMITTED.jtaStatus());
        assertEquals(Status.STATUS_ROLLING_BACK, TxState.ROLLING_BACK.jtaStatus());
        assertEquals(Status.STATUS_ROLLEDBACK, TxState.ROLLED_BACK.jtaStatus());
        assertEquals(Status.STATUS_UNKNOWN, TxState.HEURISTIC_HAZARD.jtaStatus());
    }
}
