package dev.concord.recovery.log;

import java.time.Clock;
import java.time.Duration;

/** The log contract, run against the in-memory log. */
class InMemoryTransactionLogContractTest extends TransactionLogContractTest {
    @Override
    protected TransactionLog newLog() {
        return new InMemoryTransactionLog();
    }

    @Override
    protected TransactionLog newLog(Duration commitRetention, int maxRecentCommits, Clock clock) {
        return new InMemoryTransactionLog(commitRetention, maxRecentCommits, clock);
    }

    @Override
    protected TransactionLog reopen(TransactionLog log) {
        return log; // nothing survives a real restart; the same instance is what "the log" reads
    }
}
