package dev.concord.service.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The audit log of operator actions: one JSON object per line in a file of the data directory, appended and forced
 * before the call returns, so an entry the API reported is on disk. Each action is written twice: once
 * {@code REQUESTED} before it is carried out (if that write fails, the action is refused) and once with its result
 * ({@code SUCCEEDED} or {@code FAILED}), under the same sequence number.
 *
 * <p>Who is the name of the token the operator used; tokens themselves are never written.
 */
public final class AuditLog implements AutoCloseable {
    /**
     * One line of the audit log.
     *
     * @param seq    the action's number; its REQUESTED and result lines share it
     * @param at     ISO-8601 time of the line
     * @param who    the name of the token used
     * @param action what was done, e.g. {@code forget-heuristic}
     * @param target what it was done to (transaction, resource, branch)
     * @param reason the operator's reason, as given
     * @param result REQUESTED, SUCCEEDED or FAILED
     * @param detail what the action reported, or why it failed; may be null
     */
    public record Entry(long seq, String at, String who, String action, String target, String reason,
                        String result, String detail) {
    }

    private final Path file;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final FileChannel channel;
    private long lastSeq;

    private AuditLog(Path file, Clock clock, FileChannel channel, long lastSeq) {
        this.file = file;
        this.clock = clock;
        this.channel = channel;
        this.lastSeq = lastSeq;
    }

    /**
     * Opens (or creates) the audit log file.
     *
     * @throws IOException when the file cannot be opened or read
     */
    public static AuditLog open(Path file, Clock clock) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        AuditLog log = new AuditLog(file, clock, ch, 0);
        try {
            long size = ch.size();
            if (size > 0) {
                ByteBuffer last = ByteBuffer.allocate(1);
                try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
                    reader.read(last, size - 1);
                }
                if (last.get(0) != '\n') {
                    // A line torn by a crash: end it, so the next entry starts on a line of its own.
                    ch.write(ByteBuffer.wrap(new byte[] {'\n'}));
                    ch.force(false);
                }
            }
            List<Entry> existing = log.readAll();
            log.lastSeq = existing.isEmpty() ? 0 : existing.get(existing.size() - 1).seq();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return log;
    }

    /** Starts an action: writes its REQUESTED line and returns the action's sequence number. */
    public synchronized long requested(String who, String action, String target, String reason) {
        long seq = ++lastSeq;
        append(new Entry(seq, Instant.now(clock).toString(), who, action, target, reason, "REQUESTED", null));
        return seq;
    }

    /** Ends an action with its result line. */
    public synchronized void result(long seq, String who, String action, String target, String reason,
                                    boolean succeeded, String detail) {
        append(new Entry(seq, Instant.now(clock).toString(), who, action, target, reason,
                succeeded ? "SUCCEEDED" : "FAILED", detail));
    }

    /**
     * Lines, newest first.
     *
     * @param limit     most lines returned
     * @param beforeSeq only lines of actions numbered below this, or null
     */
    public synchronized List<Entry> list(int limit, Long beforeSeq) {
        List<Entry> all;
        try {
            all = readAll();
        } catch (IOException e) {
            throw new ServiceFailure(ServiceFailure.Kind.AUDIT_UNAVAILABLE, "the audit log cannot be read: "
                    + e.getMessage());
        }
        List<Entry> out = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0 && out.size() < limit; i--) {
            Entry e = all.get(i);
            if (beforeSeq == null || e.seq() < beforeSeq) {
                out.add(e);
            }
        }
        return out;
    }

    /** The file the entries go to. */
    public Path file() {
        return file;
    }

    private void append(Entry e) {
        try {
            byte[] line = (json.writeValueAsString(e) + "\n").getBytes(StandardCharsets.UTF_8);
            ByteBuffer buf = ByteBuffer.wrap(line);
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
            channel.force(false);
        } catch (IOException ex) {
            throw new ServiceFailure(ServiceFailure.Kind.AUDIT_UNAVAILABLE, "the audit log cannot be written, so "
                    + "the action was not carried out: " + ex.getMessage());
        }
    }

    private List<Entry> readAll() throws IOException {
        List<Entry> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(json.readValue(line, Entry.class));
            } catch (JsonProcessingException e) {
                // A torn line left by a crash mid-write: that write was never reported, so it is skipped.
                continue;
            }
        }
        return out;
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Every line was forced when written; nothing is lost.
        }
    }
}
