package dev.concord.recovery.log.file;

import dev.concord.recovery.log.TransactionLog;
import dev.concord.recovery.log.TransactionLogContractTest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/** The log contract, run against the file log, with a real close and open for every restart. */
class FileTransactionLogContractTest extends TransactionLogContractTest {
    @TempDir
    Path directory;

    /** The settings of the log under test; a restart reopens with the same ones. */
    private FileLogConfig config;

    @Override
    protected TransactionLog newLog() throws Exception {
        config = FileLogConfig.builder(directory).segmentSize(64 << 10).build();
        return FileTransactionLog.open(config);
    }

    @Override
    protected TransactionLog newLog(Duration commitRetention, int maxRecentCommits, Clock clock) throws Exception {
        config = FileLogConfig.builder(directory).segmentSize(64 << 10).commitRetention(commitRetention)
                .maxRecentCommits(maxRecentCommits).clock(clock).build();
        return FileTransactionLog.open(config);
    }

    @Override
    protected TransactionLog reopen(TransactionLog log) throws Exception {
        log.close();
        return FileTransactionLog.open(config);
    }
}
