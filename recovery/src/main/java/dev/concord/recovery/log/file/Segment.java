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
    /**
     * With direct writes: the channel that writes whole blocks straight to the device, durably; null otherwise.
     * Every write of the segment then goes through it, so nothing of the segment waits in the page cache.
     */
    FileChannel direct;
    /** With direct writes: the file system's block size, which every direct write is aligned to. */
    int blockSize;
    /** With direct writes: the bytes of the block {@link #position} is in, up to it (a direct write rewrites them). */
    byte[] tail;

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

    /** How many bytes of the block {@link #position} is in lie before it. */
    int tailLength() {
        return (int) (position % blockSize);
    }

    void closeChannel() throws IOException {
        if (direct != null) {
            FileChannel d = direct;
            direct = null;
            d.close();
        }
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
