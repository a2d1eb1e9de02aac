package dev.concord.recovery.log.file;

import java.lang.System.Logger.Level;

/**
 * The file log's operator-facing messages. The ids are stable: operators and alerts search for them, so an id is
 * never reused for a different event.
 */
enum LogMessage {
    TORN_TAIL_TRUNCATED("CLOG-101", Level.WARNING),
    CORRUPTION_DISCARDED("CLOG-102", Level.ERROR),
    CORRUPTION_REFUSED("CLOG-103", Level.ERROR),
    REWRITTEN_AFTER_DISCARD("CLOG-104", Level.WARNING),
    WRITE_FAILED("CLOG-105", Level.ERROR),
    UNACKNOWLEDGED_ERASED("CLOG-106", Level.WARNING),
    ERASE_FAILED("CLOG-107", Level.ERROR),
    SEGMENT_DELETE_FAILED("CLOG-108", Level.WARNING),
    PREALLOCATION_FAILED("CLOG-109", Level.WARNING),
    SEGMENT_BOUND_EXCEEDED("CLOG-110", Level.WARNING),
    CLOSE_FAILED("CLOG-111", Level.ERROR),
    SEGMENT_HEADER_REWRITTEN("CLOG-112", Level.WARNING),
    DIRECT_WRITES_UNAVAILABLE("CLOG-113", Level.INFO);

    private static final System.Logger LOGGER = System.getLogger(FileTransactionLog.class.getName());

    final String id;
    final Level level;

    LogMessage(String id, Level level) {
        this.id = id;
        this.level = level;
    }

    void log(String text) {
        LOGGER.log(level, "[" + id + "] " + text);
    }

    void log(String text, Throwable cause) {
        LOGGER.log(level, "[" + id + "] " + text, cause);
    }
}
