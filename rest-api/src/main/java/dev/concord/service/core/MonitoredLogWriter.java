package dev.concord.service.core;

import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.LogWriter;
import dev.concord.recovery.xid.Gtrid;

/**
 * The engine's view of the log's write port, measured: how long committers wait for their commit decision to be
 * forced goes to the metrics (the file log reports its forces themselves), and the
 * first failed write is remembered, so readiness can report the log as not writable (the file log refuses every
 * write after a failure until it is reopened, i.e. until the service restarts).
 */
public final class MonitoredLogWriter implements LogWriter {
    private final LogWriter log;
    private final ServiceMetrics metrics;
    private volatile LogException failure;

    public MonitoredLogWriter(LogWriter log, ServiceMetrics metrics) {
        this.log = log;
        this.metrics = metrics;
    }

    /** The first write failure seen, or null while every write succeeded. */
    public LogException failure() {
        return failure;
    }

    @Override
    public void forceCommitDecision(CommitDecision decision) throws LogException {
        long start = System.nanoTime();
        try {
            log.forceCommitDecision(decision);
            metrics.decisionForce(System.nanoTime() - start);
        } catch (LogException e) {
            failed(e);
            throw e;
        }
    }

    @Override
    public void writeEnd(Gtrid gtrid) throws LogException {
        try {
            log.writeEnd(gtrid);
        } catch (LogException e) {
            failed(e);
            throw e;
        }
    }

    @Override
    public void forceHeuristic(HeuristicRecord heuristic) throws LogException {
        try {
            log.forceHeuristic(heuristic);
        } catch (LogException e) {
            failed(e);
            throw e;
        }
    }

    @Override
    public void writeForget(Gtrid gtrid, String resourceName, int branch) throws LogException {
        try {
            log.writeForget(gtrid, resourceName, branch);
        } catch (LogException e) {
            failed(e);
            throw e;
        }
    }

    private void failed(LogException e) {
        metrics.logFailure();
        if (failure == null) {
            failure = e;
        }
    }
}
