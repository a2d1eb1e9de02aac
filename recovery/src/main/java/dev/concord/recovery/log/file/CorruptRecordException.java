package dev.concord.recovery.log.file;

import dev.concord.recovery.log.LogException;

/** Bytes that were read as a log record are not a valid record: wrong checksum, wrong layout or unknown type. */
public class CorruptRecordException extends LogException {
    /** Creates the exception with a message that says what is wrong. */
    public CorruptRecordException(String message) {
        super(message);
    }
}
