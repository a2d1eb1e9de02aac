package dev.concord.recovery.log.file;

import dev.concord.recovery.log.LogException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a log directory. Two writers appending to the same segments would interleave records and
 * break every assumption replay makes, so a second open, in this process or another, is refused.
 */
final class DirectoryLock {
    static final String FILE_NAME = "concord-log.lock";

    private final Path directory;
    private final FileChannel channel;

    private DirectoryLock(Path directory, FileChannel channel) {
        this.directory = directory;
        this.channel = channel;
    }

    static DirectoryLock acquire(Path directory) throws LogException {
        FileChannel channel = null;
        try {
            Files.createDirectories(directory);
            channel = FileChannel.open(directory.resolve(FILE_NAME), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw new LogException("transaction log " + directory + " is in use by another process");
            }
            DirectoryLock acquired = new DirectoryLock(directory, channel);
            channel = null;
            return acquired;
        } catch (OverlappingFileLockException e) {
            throw new LogException("transaction log " + directory + " is already open in this process");
        } catch (IOException e) {
            throw new LogException("cannot lock transaction log " + directory + ": " + e.getMessage(), e);
        } finally {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // the open already failed; that failure is the one to report
                }
            }
        }
    }

    /** Releases the lock (closing the channel releases it). */
    void release() {
        try {
            channel.close();
        } catch (IOException e) {
            LogMessage.CLOSE_FAILED.log("could not release the lock on " + directory, e);
        }
    }
}
