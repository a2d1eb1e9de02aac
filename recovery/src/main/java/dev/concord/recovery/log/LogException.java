package dev.concord.recovery.log;

/** The log could not write or read a record; a commit whose decision was not written must not be acknowledged. */
public class LogException extends Exception {
    public LogException(String message) {
        super(message);
    }

    public LogException(String message, Throwable cause) {
        super(message, cause);
    }
}
