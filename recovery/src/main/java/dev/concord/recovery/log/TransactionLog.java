package dev.concord.recovery.log;

/** A transaction log: both ports, and a lifecycle. */
public interface TransactionLog extends LogWriter, LogReader, AutoCloseable {
    /** Releases files and threads. Records written before close are kept. */
    @Override
    void close();
}
