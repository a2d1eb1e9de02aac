package dev.concord.recovery.log.file;

import dev.concord.recovery.log.LogException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads every segment of a log directory, in order, into a {@link LiveState}, and decides what to do with bytes
 * that are not valid records.
 *
 * <p>The rule: a damaged region that no valid record follows, in its segment or any later one, is a torn tail —
 * a write that a crash interrupted before its force, so no caller was told it was durable. It is zeroed and the
 * log continues after the last good record. A damaged region with valid records after it cannot be explained by a
 * crash (every segment is forced before the next one gets data, and a force covers everything written before it),
 * so it is corruption: open fails naming the file and byte offset, unless the operator override is on. A zero
 * length where non-zero bytes follow in the same segment counts as damage too, so a flipped bit that zeroes a
 * length cannot hide the records behind it. A damaged last record is indistinguishable from a torn write; it is
 * truncated like one, and logged.
 *
 * <p>Each segment is read in the format version its header states (1 or 2). Recent commits are pruned to the
 * retention window as of the open, and capped, once everything is read.
 */
final class LogReplay {

    /** The outcome of replay. */
    record Result(LiveState state, List<Long> segments, long lastDataEnd, long lastSize, int lastVersion,
                  ReplayReport report, boolean discardedCorruption) {
    }

    private record BadRegion(int offset, int end, String detail, boolean followedInSegment) {
    }

    private record Scanned(long number, Path path, int size, int writtenEnd, int dataEnd, int records,
                           int version, String headerProblem, List<BadRegion> bad) {
        boolean holdsData() {
            return records > 0 || (headerProblem != null && writtenEnd > 0);
        }
    }

    private final FileLogConfig config;
    private final SegmentFiles files;
    private final LiveState state;
    private final long openMillis;
    private final List<ReplayReport.Discard> torn = new ArrayList<>();
    private final List<ReplayReport.Discard> corrupt = new ArrayList<>();

    private LogReplay(FileLogConfig config, SegmentFiles files) {
        this.config = config;
        this.files = files;
        this.state = new LiveState(config.commitRetention().toMillis(), config.maxRecentCommits());
        this.openMillis = config.clock().millis();
    }

    static Result run(FileLogConfig config, SegmentFiles files) throws LogException, IOException {
        return new LogReplay(config, files).run();
    }

    private Result run() throws LogException, IOException {
        List<Long> numbers = files.list();
        for (int i = 1; i < numbers.size(); i++) {
            for (long missing = numbers.get(i - 1) + 1; missing < numbers.get(i); missing++) {
                corrupt.add(new ReplayReport.Discard(ReplayReport.Kind.MISSING_SEGMENT, files.pathOf(missing), 0, 0,
                        "segment file missing between " + numbers.get(i - 1) + " and " + numbers.get(i)));
            }
        }
        List<Scanned> scanned = new ArrayList<>();
        long records = 0;
        for (long number : numbers) {
            Path path = files.pathOf(number);
            Scanned s = scan(number, path, files.readAll(path));
            scanned.add(s);
            records += s.records();
        }
        classify(scanned);
        if (!corrupt.isEmpty() && !config.discardCorruptRecords()) {
            ReplayReport.Discard first = corrupt.get(0);
            String message = "transaction log is corrupt: " + first.file() + " at byte offset " + first.offset()
                    + ": " + first.detail() + (corrupt.size() > 1 ? " (and " + (corrupt.size() - 1)
                    + " more damaged regions)" : "") + ". Valid records follow the damage, so it is not an"
                    + " interrupted write. Refusing to open: restore the log, or reopen with"
                    + " discardCorruptRecords to discard the damaged bytes (each discard is logged).";
            LogMessage.CORRUPTION_REFUSED.log(message);
            throw new LogException(message);
        }
        for (ReplayReport.Discard d : corrupt) {
            LogMessage.CORRUPTION_DISCARDED.log("operator override: discarding " + d);
        }
        for (ReplayReport.Discard d : torn) {
            zero(d.file(), d.offset(), (int) d.length());
            LogMessage.TORN_TAIL_TRUNCATED.log("truncated an interrupted write at the end of the log, "
                    + d.length() + " bytes zeroed: " + d);
        }
        state.pruneCommits(openMillis, true);
        List<ReplayReport.Discard> all = new ArrayList<>(corrupt);
        all.addAll(torn);
        Scanned last = scanned.isEmpty() ? null : scanned.get(scanned.size() - 1);
        return new Result(state, numbers, last == null ? 0 : last.dataEnd(), last == null ? 0 : last.size(),
                last == null ? LogRecordCodec.FORMAT_VERSION : last.version(),
                new ReplayReport(numbers.size(), records, all), !corrupt.isEmpty());
    }

    private void classify(List<Scanned> scanned) throws IOException {
        for (int i = 0; i < scanned.size(); i++) {
            Scanned s = scanned.get(i);
            boolean dataFollows = false;
            for (int j = i + 1; j < scanned.size() && !dataFollows; j++) {
                dataFollows = scanned.get(j).holdsData();
            }
            if (s.headerProblem() != null) {
                if (s.writtenEnd() == 0 && !dataFollows) {
                    // An all-zero file holds nothing; give it back its header rather than refuse the log.
                    writeHeader(s);
                    LogMessage.SEGMENT_HEADER_REWRITTEN.log(s.path() + " was all zeros; its header was rewritten");
                } else {
                    corrupt.add(new ReplayReport.Discard(ReplayReport.Kind.CORRUPTION, s.path(), 0, s.writtenEnd(),
                            "whole segment: " + s.headerProblem()));
                }
                continue;
            }
            for (BadRegion b : s.bad()) {
                ReplayReport.Kind kind = b.followedInSegment() || dataFollows
                        ? ReplayReport.Kind.CORRUPTION : ReplayReport.Kind.TORN_TAIL;
                ReplayReport.Discard d = new ReplayReport.Discard(kind, s.path(), b.offset(), b.end() - b.offset(),
                        b.detail());
                (kind == ReplayReport.Kind.TORN_TAIL ? torn : corrupt).add(d);
            }
        }
    }

    private Scanned scan(long number, Path path, byte[] bytes) throws LogException {
        int size = bytes.length;
        int writtenEnd = size;
        while (writtenEnd > 0 && bytes[writtenEnd - 1] == 0) {
            writtenEnd--;
        }
        String headerProblem = SegmentFiles.headerProblem(path, bytes, number);
        if (headerProblem != null) {
            // Such a segment is either given a current header (an all-zero file) or refused / discarded as corrupt.
            return new Scanned(number, path, size, writtenEnd, SegmentFiles.HEADER_BYTES, 0,
                    LogRecordCodec.FORMAT_VERSION, headerProblem, List.of());
        }
        int version = SegmentFiles.versionOf(bytes);
        List<BadRegion> bad = new ArrayList<>();
        int records = 0;
        int position = SegmentFiles.HEADER_BYTES;
        int dataEnd = position;
        while (position < writtenEnd) {
            LogRecordCodec.FrameRead frame = LogRecordCodec.read(bytes, position, size, version);
            if (frame.record() != null) {
                state.replay(frame.record(), frame.frameLength(), number, openMillis);
                records++;
                position += frame.frameLength();
                dataEnd = position;
                continue;
            }
            int next = nextValidFrame(bytes, position + 1, writtenEnd, size, version);
            int end = next < 0 ? writtenEnd : next;
            bad.add(new BadRegion(position, end, frame.problem() + "; the region holds "
                    + LogRecordCodec.describeDamaged(bytes, position, end), next >= 0));
            if (next < 0) {
                break;
            }
            position = next;
        }
        return new Scanned(number, path, size, writtenEnd, dataEnd, records, version, null, bad);
    }

    /** The first offset in {@code [from, to)} where a valid frame starts, or -1. Only runs over damaged bytes. */
    private static int nextValidFrame(byte[] bytes, int from, int to, int size, int version) {
        for (int offset = from; offset < to; offset++) {
            if (LogRecordCodec.plausibleFrameStart(bytes, offset, size)
                    && LogRecordCodec.read(bytes, offset, size, version).record() != null) {
                return offset;
            }
        }
        return -1;
    }

    private void zero(Path path, long offset, int length) throws IOException {
        try (FileChannel channel = files.openForWriting(path)) {
            SegmentFiles.writeFully(channel, ByteBuffer.allocate(length), offset);
            channel.force(false);
        }
    }

    private void writeHeader(Scanned s) throws IOException {
        try (FileChannel channel = files.openForWriting(s.path())) {
            SegmentFiles.writeFully(channel, ByteBuffer.wrap(SegmentFiles.header(s.number(),
                    config.clock().millis())), 0);
            channel.force(false);
        }
    }
}
