package dev.concord.recovery.log;

import java.util.List;

/** The read port of the transaction log: what recovery needs to know after a restart. */
public interface LogReader {
    /** Commit decisions with no END record, oldest first. Phase 2 must be (re)done for each. */
    List<CommitDecision> unfinishedDecisions();

    /** Heuristic records that no operator has forgotten yet, oldest first. */
    List<HeuristicRecord> heuristics();
}
