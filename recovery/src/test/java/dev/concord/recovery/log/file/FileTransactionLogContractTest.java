package dev.concord.recovery.log.file;

import dev.concord.recovery.log.TransactionLog;
import dev.concord.recovery.log.TransactionLogContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The log contract, run against the file log, with a real close and open for every restart. */
class FileTransactionLogContractTest extends TransactionLogContractTest {
    @TempDir
    Path directory;

    private FileLogConfig config() {
        return FileLogConfig.builder(directory).segmentSize(64 << 10).build();
    }

    @Override
    protected TransactionLog newLog() throws Exception {
        return FileTransactionLog.open(config());
    }

    @Override
    protected TransactionLog reopen(TransactionLog log) throws Exception {
        log.close();
        return FileTransactionLog.open(config());
    }
}
