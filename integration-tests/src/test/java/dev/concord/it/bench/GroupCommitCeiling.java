package dev.concord.it.bench;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * The ceiling of the nop workload: the least a durable two-phase commit of two no-I/O branches has to do, with
 * nothing of a transaction manager around it. Per transaction the worker prepares both {@link NoopXAResource}s,
 * queues one 128-byte record and waits, parked, until a round has made it durable, then commits both. A round takes
 * everything queued, writes it with one {@code O_DIRECT | O_DSYNC} write of whole blocks (a write and
 * {@code force(false)} where direct I/O is refused), marks it durable and unparks the waiters. A committer that finds
 * no round in progress writes one itself; when others queued behind it, it hands the next round to a writer thread,
 * which runs rounds back to back until nothing is queued. No transaction objects, no XIDs beyond the record's bytes,
 * no END record, no recovery state, no checksums.
 *
 * <p>It shows what the machine allows a blocking group commit at each thread count (waiters that spin instead of
 * parking can go higher by keeping every core busy; see the recovery section of {@code docs/architecture.md}): Concord's log does more per
 * transaction (an END record, live state for recovery, framing with checksums), so it cannot go above this line, and
 * the distance to it is what Concord's own code costs. The writer thread runs the concurrent rounds because in a
 * standalone model it was as fast as handing each round to one of the waiting committers (Concord's scheme): at
 * 16 threads 49k–80k against 54k–76k commits/s over eight alternated pairs, medians 59.8k and 59.9k; a lone committer writes
 * its own round because handing it to the writer costs a wake-up each way (7.0k against Concord's 8.1k commits/s
 * at one thread when the writer took every round).
 */
final class GroupCommitCeiling implements Contender {
    private static final int RECORD = 128;
    private static final long FILE_SIZE = 64L << 20;
    private static final int BLOCK = 4096;

    /** One queued record; its thread parks until {@code durable}. */
    private static final class Waiter {
        final Thread thread = Thread.currentThread();
        volatile boolean durable;
    }

    private final Path file;
    private final FileChannel channel;
    private final boolean direct;
    private final ByteBuffer buffer;
    private final ReentrantLock lock = new ReentrantLock();
    private List<Waiter> queue = new ArrayList<>();
    /** A round is being written, by a committer or by the writer thread. */
    private boolean writing;
    /** A committer that wrote a round found more queued and handed the next round to the writer thread. */
    private boolean handedOver;
    private volatile boolean closed;
    private volatile IOException failure;
    private long position;
    private final AtomicLong forces = new AtomicLong();
    private final AtomicLong forceNanos = new AtomicLong();
    private final Thread writer;

    GroupCommitCeiling(Path dir) throws IOException {
        Files.createDirectories(dir);
        file = dir.resolve("ceiling.log");
        try (FileChannel fill = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < FILE_SIZE; at += zeros.capacity()) {
                zeros.clear();
                while (zeros.hasRemaining()) {
                    fill.write(zeros, at + zeros.position());
                }
            }
            fill.force(true);
        }
        FileChannel opened;
        boolean isDirect;
        try {
            opened = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.DSYNC,
                    ExtendedOpenOption.DIRECT);
            isDirect = true;
        } catch (IOException | UnsupportedOperationException e) {
            opened = FileChannel.open(file, StandardOpenOption.WRITE);
            isDirect = false;
        }
        channel = opened;
        direct = isDirect;
        buffer = ByteBuffer.allocateDirect((4 << 20) + BLOCK).alignedSlice(BLOCK);
        writer = new Thread(this::writeRounds, "ceiling-writer");
        writer.setDaemon(true);
        writer.start();
    }

    @Override
    public Worker worker(Workload workload, int threadIndex) {
        if (workload != Workload.NOP) {
            throw new UnsupportedOperationException("the group-commit ceiling exists for nop only");
        }
        XAResource first = new NoopXAResource("ceiling-a");
        XAResource second = new NoopXAResource("ceiling-b");
        return new Worker() {
            long seq;

            @Override
            public void transaction() throws Exception {
                Xid x1 = new CeilingXid(threadIndex, seq, (byte) 1);
                Xid x2 = new CeilingXid(threadIndex, seq, (byte) 2);
                first.start(x1, XAResource.TMNOFLAGS);
                first.end(x1, XAResource.TMSUCCESS);
                second.start(x2, XAResource.TMNOFLAGS);
                second.end(x2, XAResource.TMSUCCESS);
                if (first.prepare(x1) != XAResource.XA_OK || second.prepare(x2) != XAResource.XA_OK) {
                    throw new IllegalStateException("a no-op branch voted read-only");
                }
                awaitDurable();
                first.commit(x1, false);
                second.commit(x2, false);
                seq++;
            }
        };
    }

    /**
     * Queues this thread's record and waits until a round made it durable. With no round in progress the thread
     * writes its round itself, at once (a lone committer pays no hand-off); if others queued meanwhile it hands the
     * next round to the writer thread, which then runs rounds back to back for as long as records keep coming.
     */
    private void awaitDurable() throws IOException {
        Waiter w = new Waiter();
        boolean self;
        lock.lock();
        try {
            queue.add(w);
            self = !writing;
            writing = true;
        } finally {
            lock.unlock();
        }
        if (self) {
            round();
            lock.lock();
            try {
                if (queue.isEmpty()) {
                    writing = false;
                } else {
                    handedOver = true;
                    LockSupport.unpark(writer);
                }
            } finally {
                lock.unlock();
            }
        }
        while (!w.durable && failure == null) {
            LockSupport.park(this);
        }
        if (!w.durable) {
            throw failure;
        }
    }

    /** The writer thread: woken with a round handed over, it writes rounds until nothing is queued. */
    private void writeRounds() {
        while (!closed) {
            boolean work;
            lock.lock();
            try {
                work = handedOver;
                handedOver = false;
            } finally {
                lock.unlock();
            }
            if (!work) {
                LockSupport.park(this);
                continue;
            }
            while (true) {
                round();
                lock.lock();
                try {
                    if (queue.isEmpty() || failure != null) {
                        writing = false;
                        break;
                    }
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Takes everything queued, writes it durably, marks it and unparks its waiters; a failure fails them all. */
    private void round() {
        List<Waiter> round;
        lock.lock();
        try {
            round = queue;
            queue = new ArrayList<>();
        } finally {
            lock.unlock();
        }
        try {
            write(round.size());
            for (Waiter w : round) {
                w.durable = true;
            }
        } catch (IOException e) {
            failure = e;
        }
        Thread self = Thread.currentThread();
        for (Waiter w : round) {
            if (w.thread != self) {
                LockSupport.unpark(w.thread);
            }
        }
    }

    /** One round: {@code records} records in whole blocks at the next free block, durable on return. */
    private void write(int records) throws IOException {
        int bytes = (records * RECORD + BLOCK - 1) / BLOCK * BLOCK;
        if (position + bytes > FILE_SIZE) {
            position = 0;
        }
        buffer.clear().limit(bytes);
        for (int i = 0; i < records; i++) {
            buffer.putLong(i * RECORD, position + i);
        }
        long start = System.nanoTime();
        while (buffer.hasRemaining()) {
            channel.write(buffer, position + buffer.position());
        }
        if (!direct) {
            channel.force(false);
        }
        forceNanos.addAndGet(System.nanoTime() - start);
        forces.incrementAndGet();
        position += bytes;
    }

    @Override
    public long forceCount() {
        return forces.get();
    }

    @Override
    public long forceNanos() {
        return forceNanos.get();
    }

    @Override
    public void close() throws Exception {
        closed = true;
        LockSupport.unpark(writer);
        writer.join(10_000);
        channel.close();
        Files.deleteIfExists(file);
    }

    private record CeilingXid(int thread, long seq, byte branch) implements Xid {
        @Override
        public int getFormatId() {
            return 0x4345494C; // "CEIL"
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return ByteBuffer.allocate(12).putInt(thread).putLong(seq).array();
        }

        @Override
        public byte[] getBranchQualifier() {
            return new byte[] {branch};
        }
    }
}
