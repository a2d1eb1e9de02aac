package dev.concord.recovery.log;

import dev.concord.recovery.xid.Gtrid;

/**
 * The write port of the transaction log, shaped like the protocol: presumed abort writes nothing for rollbacks
 * and one-phase commits, forces the commit decision before phase 2, and writes END without forcing.
 */
public interface LogWriter {
    /**
     * Writes the commit decision and returns only once it is durable. Concurrent callers may share one force.
     *
     * @throws LogException if the decision may not be durable; the transaction must then roll back
     */
    void forceCommitDecision(CommitDecision decision) throws LogException;

    /**
     * Records that every branch of a decided transaction acknowledged phase 2. Not forced. The log stamps the END
     * with its clock's time and, for its commit retention window, keeps the transaction listed among
     * {@link LogReader#recentCommits()}: the END is the durable record that the transaction committed.
     */
    void writeEnd(Gtrid gtrid) throws LogException;

    /** Records a heuristic outcome of one branch and returns once it is durable. */
    void forceHeuristic(HeuristicRecord heuristic) throws LogException;

    /** Records an operator's decision to forget the heuristic outcome of one branch. Not forced. */
    void writeForget(Gtrid gtrid, String resourceName, int branch) throws LogException;
}
