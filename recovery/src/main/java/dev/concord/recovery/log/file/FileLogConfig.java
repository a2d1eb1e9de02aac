package dev.concord.recovery.log.file;

import dev.concord.recovery.log.RecentCommits;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * The settings of a {@link FileTransactionLog}: validated when built, immutable afterwards.
 *
 * <ul>
 *   <li>{@code directory}: where the segment files live; one log per directory (the log locks it).</li>
 *   <li>{@code segmentSize}: bytes per pre-allocated segment file, {@value #MIN_SEGMENT_SIZE} to
 *       {@value #MAX_SEGMENT_SIZE}; default {@value #DEFAULT_SEGMENT_SIZE}. A record must fit in one segment.</li>
 *   <li>{@code maxSegments}: how many segments with data the log keeps before it carries the live records of the
 *       oldest forward and drops it; at least {@value #MIN_MAX_SEGMENTS}, default {@value #DEFAULT_MAX_SEGMENTS}.</li>
 *   <li>{@code discardCorruptRecords}: the operator's override for corruption in the middle of the log. Off by
 *       default, and then such a log does not open, because skipping a damaged commit decision could roll back
 *       part of a committed transaction. On, the log opens, discards the damaged bytes, logs exactly what it
 *       discarded and re-writes the live records into a fresh segment so that the next open is clean.</li>
 *   <li>{@code commitRetention}: how long an ended decision stays listed among the log's recent commits (what
 *       keeps "did T commit?" answerable across restarts), 0 to {@link RecentCommits#MAX_COMMIT_RETENTION};
 *       default {@link RecentCommits#DEFAULT_COMMIT_RETENTION}. It must exceed the longest time a participant may
 *       ask, e.g. RocketMQ's check horizon.</li>
 *   <li>{@code maxRecentCommits}: the most ended decisions remembered, 0 to
 *       {@value RecentCommits#MAX_MAX_RECENT_COMMITS}; default {@value RecentCommits#DEFAULT_MAX_RECENT_COMMITS}.
 *       Beyond it the oldest is dropped and the horizon raised. It bounds the memory and the disk the recent
 *       commits take (see {@link FileTransactionLog}).</li>
 *   <li>{@code clock}: stamps segment headers and END records, and ages recent commits.</li>
 *   <li>{@code directWrites}: on by default. Where the file system allows it, each round is written straight to
 *       the device, synchronously and durably ({@code O_DIRECT | O_DSYNC}), in whole file-system blocks, instead
 *       of into the page cache and then forced: measured here, 3 % to 10 % more commits per second for a lone
 *       committer, about even at 16 threads (see docs/architecture.md). END and FORGET records then wait for the
 *       next round, at most {@code unforcedLinger}. Off, or where the file system refuses ({@code O_DIRECT}
 *       refused, or a block size that does not divide the segment size), rounds go through the page cache and
 *       {@code force(false)}.</li>
 *   <li>{@code unforcedLinger}: with direct writes, how long an END or FORGET record waits in memory for the next
 *       round before a timer writes it; 1 ms to 10 s, default 5 ms. A SIGKILL loses what waits; recovery then
 *       finishes those commits again.</li>
 *   <li>{@code channelOpener}: opens segment channels; replaced only by fault-injection tests.</li>
 *   <li>{@code forceObserver}: told the duration and the records of every force (metrics); none by default.</li>
 * </ul>
 */
public final class FileLogConfig {
    /** Default segment size: 16 MiB. */
    public static final int DEFAULT_SEGMENT_SIZE = 16 << 20;
    /** Smallest segment size accepted. */
    public static final int MIN_SEGMENT_SIZE = 4096;
    /** Largest segment size accepted: offsets inside a segment stay ints. */
    public static final int MAX_SEGMENT_SIZE = 1 << 30;
    /** Default number of segments with data kept before compaction. */
    public static final int DEFAULT_MAX_SEGMENTS = 4;
    /** Smallest {@code maxSegments}: the current segment plus the one being emptied. */
    public static final int MIN_MAX_SEGMENTS = 2;
    /** Default {@code unforcedLinger}: 5 ms. */
    public static final Duration DEFAULT_UNFORCED_LINGER = Duration.ofMillis(5);
    /** Smallest {@code unforcedLinger}. */
    public static final Duration MIN_UNFORCED_LINGER = Duration.ofMillis(1);
    /** Largest {@code unforcedLinger}. */
    public static final Duration MAX_UNFORCED_LINGER = Duration.ofSeconds(10);

    private final Path directory;
    private final int segmentSize;
    private final int maxSegments;
    private final boolean discardCorruptRecords;
    private final Duration commitRetention;
    private final int maxRecentCommits;
    private final Clock clock;
    private final ChannelOpener channelOpener;
    private final ForceObserver forceObserver;
    private final boolean directWrites;
    private final Duration unforcedLinger;

    private FileLogConfig(Builder b) {
        this.directory = b.directory;
        this.segmentSize = b.segmentSize;
        this.maxSegments = b.maxSegments;
        this.discardCorruptRecords = b.discardCorruptRecords;
        this.commitRetention = b.commitRetention;
        this.maxRecentCommits = b.maxRecentCommits;
        this.clock = b.clock;
        this.channelOpener = b.channelOpener;
        this.forceObserver = b.forceObserver;
        this.directWrites = b.directWrites;
        this.unforcedLinger = b.unforcedLinger;
    }

    /** A builder for a log in the given directory, with every other setting at its default. */
    public static Builder builder(Path directory) {
        return new Builder(directory);
    }

    /** A builder that starts from this configuration, e.g. to reopen the same log with the override on. */
    public Builder toBuilder() {
        return new Builder(directory).segmentSize(segmentSize).maxSegments(maxSegments)
                .discardCorruptRecords(discardCorruptRecords).commitRetention(commitRetention)
                .maxRecentCommits(maxRecentCommits).clock(clock).channelOpener(channelOpener)
                .forceObserver(forceObserver).directWrites(directWrites).unforcedLinger(unforcedLinger);
    }

    /** The log directory. */
    public Path directory() {
        return directory;
    }

    /** Bytes per segment file. */
    public int segmentSize() {
        return segmentSize;
    }

    /** Segments with data kept before the oldest is compacted away. */
    public int maxSegments() {
        return maxSegments;
    }

    /** Whether open discards corruption in the middle of the log instead of failing. */
    public boolean discardCorruptRecords() {
        return discardCorruptRecords;
    }

    /** How long an ended decision stays listed among the recent commits. */
    public Duration commitRetention() {
        return commitRetention;
    }

    /** The most ended decisions remembered. */
    public int maxRecentCommits() {
        return maxRecentCommits;
    }

    /** The clock that stamps segment headers and END records. */
    public Clock clock() {
        return clock;
    }

    /** Opens segment channels. */
    public ChannelOpener channelOpener() {
        return channelOpener;
    }

    /** Observes every force (metrics). */
    public ForceObserver forceObserver() {
        return forceObserver;
    }

    /** Whether rounds are written straight to the device where the file system allows it. */
    public boolean directWrites() {
        return directWrites;
    }

    /** With direct writes, how long an END or FORGET waits for the next round before a timer writes it. */
    public Duration unforcedLinger() {
        return unforcedLinger;
    }

    @Override
    public String toString() {
        return "FileLogConfig[directory=" + directory + ", segmentSize=" + segmentSize + ", maxSegments="
                + maxSegments + ", discardCorruptRecords=" + discardCorruptRecords + ", commitRetention="
                + commitRetention + ", maxRecentCommits=" + maxRecentCommits + ", directWrites=" + directWrites
                + ", unforcedLinger=" + unforcedLinger + "]";
    }

    /** Collects settings; {@link #build()} validates them all at once. */
    public static final class Builder {
        private final Path directory;
        private int segmentSize = DEFAULT_SEGMENT_SIZE;
        private int maxSegments = DEFAULT_MAX_SEGMENTS;
        private boolean discardCorruptRecords;
        private Duration commitRetention = RecentCommits.DEFAULT_COMMIT_RETENTION;
        private int maxRecentCommits = RecentCommits.DEFAULT_MAX_RECENT_COMMITS;
        private Clock clock = Clock.systemUTC();
        private ChannelOpener channelOpener = FileChannel::open;
        private ForceObserver forceObserver = ForceObserver.NONE;
        private boolean directWrites = true;
        private Duration unforcedLinger = DEFAULT_UNFORCED_LINGER;

        private Builder(Path directory) {
            this.directory = directory;
        }

        /** Sets the segment file size in bytes. */
        public Builder segmentSize(int bytes) {
            this.segmentSize = bytes;
            return this;
        }

        /** Sets how many segments with data are kept before the oldest is compacted away. */
        public Builder maxSegments(int count) {
            this.maxSegments = count;
            return this;
        }

        /** The operator's override: open a log with corruption in the middle, discarding the damaged bytes. */
        public Builder discardCorruptRecords(boolean discard) {
            this.discardCorruptRecords = discard;
            return this;
        }

        /** Sets how long an ended decision stays listed among the recent commits; zero keeps none. */
        public Builder commitRetention(Duration retention) {
            this.commitRetention = retention;
            return this;
        }

        /** Sets the most ended decisions remembered. */
        public Builder maxRecentCommits(int count) {
            this.maxRecentCommits = count;
            return this;
        }

        /** Sets the clock that stamps segment headers and END records. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Sets what opens segment channels (fault-injection tests only). */
        public Builder channelOpener(ChannelOpener opener) {
            this.channelOpener = opener;
            return this;
        }

        /** Sets what observes every force: its duration and the records it made durable (metrics). */
        public Builder forceObserver(ForceObserver observer) {
            this.forceObserver = observer;
            return this;
        }

        /** Sets whether rounds are written straight to the device where the file system allows it. */
        public Builder directWrites(boolean direct) {
            this.directWrites = direct;
            return this;
        }

        /** Sets how long, with direct writes, an END or FORGET waits for the next round. */
        public Builder unforcedLinger(Duration linger) {
            this.unforcedLinger = linger;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException naming the first setting that is out of range
         * @throws NullPointerException     if the directory, commit retention, clock or channel opener is null
         */
        public FileLogConfig build() {
            Objects.requireNonNull(directory, "directory");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(channelOpener, "channelOpener");
            Objects.requireNonNull(forceObserver, "forceObserver");
            Objects.requireNonNull(unforcedLinger, "unforcedLinger");
            if (unforcedLinger.compareTo(MIN_UNFORCED_LINGER) < 0
                    || unforcedLinger.compareTo(MAX_UNFORCED_LINGER) > 0) {
                throw new IllegalArgumentException("unforcedLinger must be between " + MIN_UNFORCED_LINGER + " and "
                        + MAX_UNFORCED_LINGER + ", got " + unforcedLinger);
            }
            if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
                throw new IllegalArgumentException("segmentSize must be between " + MIN_SEGMENT_SIZE + " and "
                        + MAX_SEGMENT_SIZE + " bytes, got " + segmentSize);
            }
            if (maxSegments < MIN_MAX_SEGMENTS) {
                throw new IllegalArgumentException("maxSegments must be at least " + MIN_MAX_SEGMENTS + ", got "
                        + maxSegments);
            }
            RecentCommits.checkRetention(commitRetention);
            RecentCommits.checkMaxRecentCommits(maxRecentCommits);
            return new FileLogConfig(this);
        }
    }
}
