package dev.concord.recovery.log;

import dev.concord.recovery.xid.Gtrid;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transaction log kept in memory: nothing survives the process. For engine tests and for running without a
 * data directory; it passes the same contract tests as the file log.
 */
public final class InMemoryTransactionLog implements TransactionLog {
    private final Map<Gtrid, CommitDecision> unfinished = new LinkedHashMap<>();
    private final List<HeuristicRecord> heuristics = new ArrayList<>();
    private boolean closed;

    @Override
    public synchronized void forceCommitDecision(CommitDecision decision) throws LogException {
        checkOpen();
        unfinished.put(decision.gtrid(), decision);
    }

    @Override
    public synchronized void writeEnd(Gtrid gtrid) throws LogException {
        checkOpen();
        unfinished.remove(gtrid);
    }

    @Override
    public synchronized void forceHeuristic(HeuristicRecord heuristic) throws LogException {
        checkOpen();
        heuristics.add(heuristic);
    }

    @Override
    public synchronized void writeForget(Gtrid gtrid, String resourceName, int branch) throws LogException {
        checkOpen();
        heuristics.removeIf(h -> h.isFor(gtrid, resourceName, branch));
    }

    @Override
    public synchronized List<CommitDecision> unfinishedDecisions() {
        return List.copyOf(unfinished.values());
    }

    @Override
    public synchronized List<HeuristicRecord> heuristics() {
        return List.copyOf(heuristics);
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    private void checkOpen() throws LogException {
        if (closed) {
            throw new LogException("transaction log is closed");
        }
    }
}
