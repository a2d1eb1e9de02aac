package dev.concord.recovery.log;

/** The log contract, run against the in-memory log. */
class InMemoryTransactionLogContractTest extends TransactionLogContractTest {
    @Override
    protected TransactionLog newLog() {
        return new InMemoryTransactionLog();
    }

    @Override
    protected TransactionLog reopen(TransactionLog log) {
        return log; // nothing survives a real restart; the same instance is what "the log" reads
    }
}
