package dev.concord.recovery.log;

import java.util.List;

/** The read port of the transaction log: what recovery and the outcome query need to know after a restart. */
public interface LogReader {
    /** Commit decisions with no END record, oldest first. Phase 2 must be (re)done for each. */
    List<CommitDecision> unfinishedDecisions();

    /** Heuristic records that no operator has forgotten yet, oldest first. */
    List<HeuristicRecord> heuristics();

    /**
     * The decisions that got their END inside the log's commit retention window, with the time of each END, and
     * the horizon at or before which ended decisions may have been forgotten (see {@link RecentCommits}). This is
     * what keeps "did T commit?" answerable across restarts once T's decision is finished: the END record is the
     * durable outcome. A decision without END is not listed; it is in {@link #unfinishedDecisions()}.
     *
     * <p>The default is for readers that keep no such history: {@link RecentCommits#notKept()}, which lists
     * nothing and says that anything may have been forgotten. Both logs of this module override it.
     */
    default RecentCommits recentCommits() {
        return RecentCommits.notKept();
    }
}
