package dev.concord.recovery.log.file;

import dev.concord.recovery.xid.Gtrid;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ChannelOpener} over the real file system that can fail like a full or broken disk, be slow to force,
 * or hold a force until the test lets it go. It also decodes the records each completed force covered, so a test
 * can check that a caller was told "durable" only for a record a force had already covered.
 */
final class FaultyDisk implements ChannelOpener {
    /** When set, writes throw it. */
    volatile IOException failWrites;
    /**
     * With {@link #failWrites}: the next failing write first writes half of its buffer, like a disk filling up
     * in the middle of a write (once; later writes fail outright).
     */
    volatile boolean partialWriteFirst;
    /** When set, forces throw it (after the write succeeded). */
    volatile IOException failForces;
    /** When set, opening a new file throws it (segment creation on a full disk). */
    volatile IOException failCreates;
    /** Every force of a segment sleeps this long, like a disk that takes time to flush its cache. */
    volatile long forceDelayMillis;
    /** When set, a force of a segment (not of a segment being pre-allocated) blocks until it is counted down. */
    volatile CountDownLatch forceGate;
    /** Counted down when a force blocks on {@link #forceGate}. */
    final CountDownLatch forceBlocked = new CountDownLatch(1);

    private final List<Channel> channels = new ArrayList<>();
    private final Set<LogRecord> durableRecords = ConcurrentHashMap.newKeySet();
    private final Set<Gtrid> durableDecisions = ConcurrentHashMap.newKeySet();

    static IOException noSpace() {
        return new IOException("No space left on device");
    }

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        if (failCreates != null && Arrays.asList(options).contains(StandardOpenOption.CREATE)) {
            throw failCreates;
        }
        Channel channel = new Channel(FileChannel.open(path, options), path,
                Arrays.asList(options).contains(StandardOpenOption.DSYNC));
        synchronized (channels) {
            channels.add(channel);
        }
        return channel;
    }

    /** True when a completed force covered a commit decision of this transaction. */
    boolean durablyDecided(Gtrid gtrid) {
        return durableDecisions.contains(gtrid);
    }

    /** True when a completed force covered this record. */
    boolean durablyHolds(LogRecord record) {
        return durableRecords.contains(record);
    }

    private final class Channel extends FileChannel {
        private final FileChannel delegate;
        private final boolean preallocation;
        /** Opened O_DSYNC (the log's direct writes): a write that returns is durable, so it counts as a force. */
        private final boolean synchronous;
        private byte[] written = new byte[0];
        /** Where the bytes not yet covered by a force start; -1 until the first write. */
        private int forcedUpTo = -1;
        private int writtenUpTo;

        Channel(FileChannel delegate, Path path, boolean synchronous) {
            this.delegate = delegate;
            this.synchronous = synchronous;
            this.preallocation = path.getFileName().toString().endsWith(".tmp");
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            if (synchronous) {
                awaitForceFaults();
            }
            IOException failure = failWrites;
            if (failure != null) {
                if (partialWriteFirst && src.remaining() > 1) {
                    partialWriteFirst = false;
                    ByteBuffer half = src.duplicate();
                    half.limit(half.position() + half.remaining() / 2);
                    writeThrough(half, position);
                }
                throw failure;
            }
            return writeThrough(src, position);
        }

        private int writeThrough(ByteBuffer src, long position) throws IOException {
            ByteBuffer copy = src.duplicate();
            int n = delegate.write(src, position);
            synchronized (this) {
                if (synchronous && forcedUpTo < 0) {
                    // A direct write starts at a block boundary: its first bytes are the header or records
                    // already durable. Decoding starts after the header, then where the last write's records ended.
                    forcedUpTo = (int) Math.max(position, SegmentFiles.HEADER_BYTES);
                }
                if (written.length < position + n) {
                    written = Arrays.copyOf(written, (int) (position + n));
                }
                copy.limit(copy.position() + n);
                copy.get(written, (int) position, n);
                if (forcedUpTo < 0) {
                    forcedUpTo = (int) position;
                }
                writtenUpTo = Math.max(writtenUpTo, (int) position + n);
            }
            if (synchronous) {
                markCovered();
            }
            return n;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            awaitForceFaults();
            delegate.force(metaData);
            markCovered();
        }

        /** The gate, failure and delay of a force (also of a synchronous write, which is one). */
        private void awaitForceFaults() throws IOException {
            CountDownLatch gate = forceGate;
            if (gate != null && !preallocation) {
                forceBlocked.countDown();
                try {
                    if (!gate.await(30, TimeUnit.SECONDS)) {
                        throw new IOException("test gate never opened");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted at the test gate", e);
                }
            }
            IOException failure = failForces;
            if (failure != null) {
                throw failure;
            }
            long delay = forceDelayMillis;
            if (delay > 0 && !preallocation) {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Decodes the records written since the last force or synchronous write: they are durable now. */
        private void markCovered() {
            int from;
            byte[] covered;
            synchronized (this) {
                from = Math.max(forcedUpTo, 0);
                covered = Arrays.copyOfRange(written, from, Math.max(from, writtenUpTo));
            }
            int offset = 0;
            while (!preallocation && offset < covered.length) {
                LogRecordCodec.FrameRead read = LogRecordCodec.read(covered, offset, covered.length);
                if (read.record() == null) {
                    break;
                }
                durableRecords.add(read.record());
                if (read.record() instanceof LogRecord.Decision d) {
                    durableDecisions.add(d.decision().gtrid());
                }
                offset += read.frameLength();
            }
            synchronized (this) {
                if (forcedUpTo >= 0) {
                    forcedUpTo = from + offset;
                }
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = write(src, delegate.position());
            delegate.position(delegate.position() + n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                total += write(srcs[i]);
            }
            return total;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return delegate.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return delegate.read(dsts, offset, length);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return delegate.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return delegate.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            delegate.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            delegate.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return delegate.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new IOException("not used by the log, so not simulated");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new IOException("not used by the log, so not simulated");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return delegate.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return delegate.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            delegate.close();
        }
    }
}
