package dev.concord.recovery.log.file;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One segment file. Only the segment being written has an open channel; its position and capacity are owned by
 * the thread that currently flushes.
 */
final class Segment {
    final long number;
    final Path path;
    /** File size: writes never go past it, so a force never has to sync a changed file length. */
    final long capacity;
    FileChannel channel;
    long position;
    /** Bytes were written since the last force. */
    boolean unforced;

    Segment(long number, Path path, long capacity, FileChannel channel, long position) {
        this.number = number;
        this.path = path;
        this.capacity = capacity;
        this.channel = channel;
        this.position = position;
    }

    boolean fits(long bytes) {
        return position + bytes <= capacity;
    }

    void closeChannel() throws IOException {
        if (channel != null) {
            FileChannel c = channel;
            channel = null;
            c.close();
        }
    }

    @Override
    public String toString() {
        return path.getFileName() + "@" + position;
    }
}
