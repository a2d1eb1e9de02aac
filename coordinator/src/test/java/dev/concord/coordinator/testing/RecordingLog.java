package dev.concord.coordinator.testing;

import dev.concord.recovery.log.BranchRecord;
import dev.concord.recovery.log.CommitDecision;
import dev.concord.recovery.log.HeuristicRecord;
import dev.concord.recovery.log.InMemoryTransactionLog;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.log.RecentCommits;
import dev.concord.recovery.log.TransactionLog;
import dev.concord.recovery.xid.Gtrid;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An in-memory log that records every write in an {@link EventRecorder} and can be told to fail, like a full disk.
 */
public final class RecordingLog implements TransactionLog {
    private final InMemoryTransactionLog delegate = new InMemoryTransactionLog();
    private final EventRecorder recorder;
    private volatile boolean failWrites;

    public RecordingLog(EventRecorder recorder) {
        this.recorder = recorder;
    }

    /** Makes every following write throw {@link LogException}. */
    public void failWrites(boolean fail) {
        this.failWrites = fail;
    }

    @Override
    public void forceCommitDecision(CommitDecision d) throws LogException {
        check();
        recorder.record("log.decision[" + d.branches().stream().map(BranchRecord::toString)
                .collect(Collectors.joining(",")) + "]");
        delegate.forceCommitDecision(d);
    }

    @Override
    public void writeEnd(Gtrid gtrid) throws LogException {
        check();
        recorder.record("log.end");
        delegate.writeEnd(gtrid);
    }

    @Override
    public void forceHeuristic(HeuristicRecord h) throws LogException {
        check();
        recorder.record("log.heuristic[" + h.branch() + " " + h.outcome() + "]");
        delegate.forceHeuristic(h);
    }

    @Override
    public void writeForget(Gtrid gtrid, String resourceName, int branch) throws LogException {
        check();
        recorder.record("log.forget[" + resourceName + "#" + branch + "]");
        delegate.writeForget(gtrid, resourceName, branch);
    }

    @Override
    public List<CommitDecision> unfinishedDecisions() {
        return delegate.unfinishedDecisions();
    }

    @Override
    public List<HeuristicRecord> heuristics() {
        return delegate.heuristics();
    }

    @Override
    public RecentCommits recentCommits() {
        return delegate.recentCommits();
    }

    @Override
    public void close() {
        delegate.close();
    }

    private void check() throws LogException {
        if (failWrites) {
            recorder.record("log.failed");
            throw new LogException("No space left on device (simulated)");
        }
    }
}
