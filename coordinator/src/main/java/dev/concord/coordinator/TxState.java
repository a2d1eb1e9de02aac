package dev.concord.coordinator;

import jakarta.transaction.Status;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The states of a global transaction and the only legal transitions between them.
 *
 * <p>Every state change of a transaction goes through {@link #checkTransition(TxState)}; no other code decides
 * whether a move is allowed.
 * <pre>
 * ACTIVE ──► MARKED_ROLLBACK ──► ROLLING_BACK ──► ROLLED_BACK | HEURISTIC_COMMIT | HEURISTIC_MIXED | HEURISTIC_HAZARD
 *   │  └─────────────────────────────▲
 *   ├──► COMMITTING_ONE_PHASE ──► COMMITTED | ROLLED_BACK | HEURISTIC_ROLLBACK | HEURISTIC_MIXED | HEURISTIC_HAZARD
 *   └──► PREPARING ──► COMMITTED (all read-only) | ROLLING_BACK (a no vote)
 *            └──► COMMITTING ──► COMMITTED | HEURISTIC_ROLLBACK | HEURISTIC_MIXED | HEURISTIC_HAZARD
 * </pre>
 */
public enum TxState {
    ACTIVE(Status.STATUS_ACTIVE),
    MARKED_ROLLBACK(Status.STATUS_MARKED_ROLLBACK),
    PREPARING(Status.STATUS_PREPARING),
    COMMITTING_ONE_PHASE(Status.STATUS_COMMITTING),
    COMMITTING(Status.STATUS_COMMITTING),
    COMMITTED(Status.STATUS_COMMITTED),
    ROLLING_BACK(Status.STATUS_ROLLING_BACK),
    ROLLED_BACK(Status.STATUS_ROLLEDBACK),
    /** Decided to roll back, but a branch committed on its own. */
    HEURISTIC_COMMIT(Status.STATUS_COMMITTED),
    /** Decided to commit, but every voting branch rolled back on its own. */
    HEURISTIC_ROLLBACK(Status.STATUS_ROLLEDBACK),
    /** Some branches committed and some rolled back. */
    HEURISTIC_MIXED(Status.STATUS_UNKNOWN),
    /** The outcome of at least one branch is unknown. */
    HEURISTIC_HAZARD(Status.STATUS_UNKNOWN);

    private static final Set<TxState> HEURISTIC_END = EnumSet.of(HEURISTIC_ROLLBACK, HEURISTIC_MIXED, HEURISTIC_HAZARD);

    private final int jtaStatus;
    private Set<TxState> next = Collections.emptySet();

    static {
        ACTIVE.next = EnumSet.of(MARKED_ROLLBACK, PREPARING, COMMITTING_ONE_PHASE, ROLLING_BACK);
        MARKED_ROLLBACK.next = EnumSet.of(ROLLING_BACK);
        PREPARING.next = EnumSet.of(COMMITTING, COMMITTED, ROLLING_BACK);
        COMMITTING_ONE_PHASE.next = EnumSet.of(COMMITTED, ROLLED_BACK);
        COMMITTING_ONE_PHASE.next.addAll(HEURISTIC_END);
        COMMITTING.next = EnumSet.of(COMMITTED);
        COMMITTING.next.addAll(HEURISTIC_END);
        ROLLING_BACK.next = EnumSet.of(ROLLED_BACK, HEURISTIC_COMMIT, HEURISTIC_MIXED, HEURISTIC_HAZARD);
    }

    TxState(int jtaStatus) {
        this.jtaStatus = jtaStatus;
    }

    /** The {@link Status} value JTA callers see for this state. */
    public int jtaStatus() {
        return jtaStatus;
    }

    /** True when no transition leaves this state. */
    public boolean isTerminal() {
        return next.isEmpty();
    }

    /** True for the heuristic outcomes. */
    public boolean isHeuristic() {
        return name().startsWith("HEURISTIC_");
    }

    /** True while work may still be done and resources enlisted. */
    public boolean isActive() {
        return this == ACTIVE || this == MARKED_ROLLBACK;
    }

    /** True when this state may be followed directly by {@code target}. */
    public boolean canMoveTo(TxState target) {
        return next.contains(target);
    }

    /** The states that may follow this one. */
    public Set<TxState> nextStates() {
        return Collections.unmodifiableSet(next);
    }

    /**
     * Checks a transition.
     *
     * @throws IllegalStateException naming both states when the move is not legal
     */
    public TxState checkTransition(TxState target) {
        if (!canMoveTo(target)) {
            throw new IllegalStateException("illegal transaction state change " + this + " -> " + target);
        }
        return target;
    }
}
