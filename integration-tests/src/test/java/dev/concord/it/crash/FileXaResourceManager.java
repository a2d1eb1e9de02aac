package dev.concord.it.crash;

import dev.concord.coordinator.BranchKind;
import dev.concord.coordinator.NamedXAResource;
import dev.concord.coordinator.RecoverableResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * A small durable XA resource manager for crash tests: one directory per resource manager, branch state in files
 * that are forced to disk, so that a prepared branch survives a SIGKILL of the process that prepared it.
 *
 * <p>The data are "rows" ({@code key=value}). Work done in a branch is held in memory until prepare, like the
 * undo/redo state of a database session, and is lost with the process before that (the branch then never existed,
 * which is exactly what presumed abort expects). The files:
 * <ul>
 *   <li>{@code <formatId>-<gtrid>-<bqual>.prepared} (each part in hex): one prepared branch, one row per line.
 *       Written as {@code .tmp}, forced, atomically renamed, and the directory forced.</li>
 *   <li>{@code committed.log}: one line per committed branch, {@code <xid-name> key=value key=value...}, appended
 *       with a single write and forced. Two-phase commit appends the line and then deletes the prepared file; a
 *       crash between the two is repaired by the next commit of the same XID, which finds the line already there
 *       and only deletes the file, so a branch is never committed twice.</li>
 * </ul>
 * Opening a resource manager ({@link #FileXaResourceManager(String, Path)}) deletes unfinished {@code .tmp} files
 * and cuts a torn last line off {@code committed.log}; only one process may use a directory at a time.
 *
 * <p>XA behaviour: start/end/prepare/commit/rollback/recover/forget on {@link Connection}s; an XID this resource
 * manager does not hold gives {@link XAException#XAER_NOTA} on commit, rollback and forget; a branch without rows
 * votes {@link XAResource#XA_RDONLY}; a branch ended with {@code TMFAIL} rolls back at prepare or one-phase commit
 * ({@link XAException#XA_RBROLLBACK}); {@code recover} lists every prepared branch on {@code TMSTARTRSCAN}. This
 * resource manager never decides heuristically. All methods are thread-safe (one lock per resource manager).
 */
public final class FileXaResourceManager implements RecoverableResource {
    /** Name of the file of committed branches. */
    public static final String COMMITTED_LOG = "committed.log";
    /** Suffix of a prepared branch's file. */
    public static final String PREPARED_SUFFIX = ".prepared";
    private static final String TMP_SUFFIX = ".tmp";
    private static final HexFormat HEX = HexFormat.of();

    private final String name;
    private final Path directory;
    /** Branches started and not yet prepared or finished, by XID name. Guarded by this. */
    private final Map<String, ActiveBranch> active = new HashMap<>();
    private volatile boolean holdCommits;
    private volatile Consumer<String> stepListener = step -> { };

    /** One branch that is not prepared yet: its rows (in memory only) and whether it must roll back. */
    private static final class ActiveBranch {
        final List<String> rows = new ArrayList<>();
        Connection associated;
        boolean rollbackOnly;
    }

    /** A committed branch as {@code committed.log} holds it. */
    public record CommittedBranch(String xidName, List<String> rows) {
    }

    /**
     * Opens the resource manager in a directory, creating the directory when needed, and repairs what a crash may
     * have left half done (a {@code .tmp} file of a prepare that did not finish, a torn last line).
     *
     * @throws UncheckedIOException when the directory cannot be used
     */
    public FileXaResourceManager(String name, Path directory) {
        this.name = Objects.requireNonNull(name, "name");
        this.directory = Objects.requireNonNull(directory, "directory");
        try {
            Files.createDirectories(directory);
            try (DirectoryStream<Path> tmp = Files.newDirectoryStream(directory, "*" + TMP_SUFFIX)) {
                for (Path p : tmp) {
                    Files.deleteIfExists(p);
                }
            }
            repairCommittedLog();
            forceDirectory();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open resource manager " + name + " in " + directory, e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BranchKind kind() {
        return BranchKind.DATABASE;
    }

    public Path directory() {
        return directory;
    }

    /** A new connection: an XAResource plus {@link Connection#write}, like an XA-capable JDBC connection. */
    public Connection connect() {
        return new Connection();
    }

    @Override
    public Lease open() {
        Connection c = connect();
        return new Lease() {
            @Override
            public XAResource xaResource() {
                return c;
            }

            @Override
            public void close() {
                // Nothing to release: a connection holds no file.
            }
        };
    }

    /**
     * Fault injection: from now on every two-phase commit blocks for good before it touches a file, like a resource
     * manager that stopped answering; only the end of the process ends the wait. Crash tests use it to keep branches
     * prepared while another branch commits and the process is killed.
     */
    public void holdCommits() {
        holdCommits = true;
    }

    /**
     * Tells the listener about every durable step once it is on disk, as {@code <rm> <step> <xid-name>} with step
     * {@code prepared}, {@code committed} or {@code rolled-back}. Crash tests print these lines to kill the process
     * at varied points of the protocol.
     */
    public void onDurableStep(Consumer<String> listener) {
        stepListener = Objects.requireNonNull(listener, "listener");
    }

    @Override
    public String toString() {
        return "FileXaResourceManager[" + name + " at " + directory + "]";
    }

    // ------------------------------------------------------------------------------------ reading the files

    /** The committed branches of the resource manager in a directory, in commit order; a torn last line is ignored. */
    public static List<CommittedBranch> readCommitted(Path directory) throws IOException {
        Path file = directory.resolve(COMMITTED_LOG);
        if (!Files.exists(file)) {
            return List.of();
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        List<CommittedBranch> out = new ArrayList<>();
        if (end < 0) {
            return out;
        }
        for (String line : text.substring(0, end).split("\n")) {
            String[] parts = line.split(" ");
            out.add(new CommittedBranch(parts[0], List.of(Arrays.copyOfRange(parts, 1, parts.length))));
        }
        return out;
    }

    /** The XIDs of the prepared branches held in a directory. */
    public static List<Xid> readPrepared(Path directory) throws IOException {
        List<Xid> out = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + PREPARED_SUFFIX)) {
            for (Path p : files) {
                String f = p.getFileName().toString();
                out.add(parseXidName(f.substring(0, f.length() - PREPARED_SUFFIX.length())));
            }
        }
        return out;
    }

    /** The rows of one prepared branch. */
    public static List<String> readPreparedRows(Path directory, Xid xid) throws IOException {
        return Files.readAllLines(directory.resolve(xidName(xid) + PREPARED_SUFFIX), StandardCharsets.UTF_8);
    }

    /** The file-name form of an XID: {@code <formatId>-<gtrid>-<bqual>}, each in lower-case hex. */
    public static String xidName(Xid xid) {
        return Integer.toHexString(xid.getFormatId()) + "-" + HEX.formatHex(xid.getGlobalTransactionId()) + "-"
                + HEX.formatHex(xid.getBranchQualifier());
    }

    /** Reads an XID back from its {@link #xidName} form. */
    public static Xid parseXidName(String text) {
        String[] parts = text.split("-", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not an XID name: " + text);
        }
        return new SimpleXid(Integer.parseUnsignedInt(parts[0], 16), HEX.parseHex(parts[1]), HEX.parseHex(parts[2]));
    }

    /** A plain XID value, as {@link Connection#recover} returns them. */
    public record SimpleXid(int formatId, byte[] gtrid, byte[] bqual) implements Xid {
        @Override
        public int getFormatId() {
            return formatId;
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return gtrid.clone();
        }

        @Override
        public byte[] getBranchQualifier() {
            return bqual.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SimpleXid x && x.formatId == formatId && Arrays.equals(x.gtrid, gtrid)
                    && Arrays.equals(x.bqual, bqual);
        }

        @Override
        public int hashCode() {
            return (formatId * 31 + Arrays.hashCode(gtrid)) * 31 + Arrays.hashCode(bqual);
        }

        @Override
        public String toString() {
            return xidName(this);
        }
    }

    // ------------------------------------------------------------------------------------------- the XA side

    /**
     * One connection to the resource manager: an XAResource that can be associated with one branch at a time,
     * and {@link #write} to add a row to the associated branch.
     */
    public final class Connection implements NamedXAResource {
        private Connection() {
        }

        /**
         * Adds the row {@code key=value} to the branch this connection is associated with.
         *
         * @throws IllegalStateException    when the connection is not associated with a branch
         * @throws IllegalArgumentException when key or value is empty or holds whitespace or '='
         */
        public void write(String key, String value) {
            checkToken(key, "key");
            checkToken(value, "value");
            synchronized (FileXaResourceManager.this) {
                for (ActiveBranch b : active.values()) {
                    if (b.associated == this) {
                        b.rows.add(key + "=" + value);
                        return;
                    }
                }
            }
            throw new IllegalStateException("connection of " + name + " is not associated with a branch");
        }

        @Override
        public String resourceName() {
            return name;
        }

        @Override
        public void start(Xid xid, int flags) throws XAException {
            synchronized (FileXaResourceManager.this) {
                String id = xidName(xid);
                if (isAssociated()) {
                    throw xa(XAException.XAER_PROTO, "connection is already associated with a branch");
                }
                ActiveBranch b = active.get(id);
                if (flags == TMNOFLAGS) {
                    if (b != null || Files.exists(preparedFile(id))) {
                        throw xa(XAException.XAER_DUPID, "branch " + id + " exists already");
                    }
                    b = new ActiveBranch();
                    active.put(id, b);
                } else if (flags == TMJOIN || flags == TMRESUME) {
                    if (b == null) {
                        throw xa(XAException.XAER_NOTA, "no active branch " + id);
                    }
                    if (b.associated != null) {
                        throw xa(XAException.XAER_PROTO, "branch " + id + " is associated with another connection");
                    }
                } else {
                    throw xa(XAException.XAER_INVAL, "start flags " + flags);
                }
                b.associated = this;
            }
        }

        @Override
        public void end(Xid xid, int flags) throws XAException {
            synchronized (FileXaResourceManager.this) {
                ActiveBranch b = active.get(xidName(xid));
                if (b == null) {
                    throw xa(XAException.XAER_NOTA, "no active branch " + xidName(xid));
                }
                if (b.associated != this) {
                    throw xa(XAException.XAER_PROTO, "branch " + xidName(xid) + " is not associated with this connection");
                }
                if (flags != TMSUCCESS && flags != TMFAIL && flags != TMSUSPEND) {
                    throw xa(XAException.XAER_INVAL, "end flags " + flags);
                }
                b.associated = null;
                if (flags == TMFAIL) {
                    b.rollbackOnly = true;
                }
            }
        }

        @Override
        public int prepare(Xid xid) throws XAException {
            synchronized (FileXaResourceManager.this) {
                String id = xidName(xid);
                ActiveBranch b = endedBranch(id);
                if (b.rollbackOnly) {
                    active.remove(id);
                    throw xa(XAException.XA_RBROLLBACK, "branch " + id + " was ended with TMFAIL");
                }
                if (b.rows.isEmpty()) {
                    active.remove(id);
                    return XA_RDONLY;
                }
                try {
                    Path tmp = directory.resolve(id + TMP_SUFFIX);
                    writeAndForce(tmp, String.join("\n", b.rows) + "\n");
                    try {
                        Files.move(tmp, preparedFile(id), StandardCopyOption.ATOMIC_MOVE);
                    } catch (AtomicMoveNotSupportedException e) {
                        throw new IOException("the file system cannot rename atomically", e);
                    }
                    forceDirectory();
                } catch (IOException e) {
                    throw xa(XAException.XAER_RMERR, "prepare of " + id + " failed: " + e);
                }
                active.remove(id);
                stepListener.accept(name + " prepared " + id);
                return XA_OK;
            }
        }

        @Override
        public void commit(Xid xid, boolean onePhase) throws XAException {
            if (holdCommits && !onePhase) {
                blockForever();
            }
            synchronized (FileXaResourceManager.this) {
                String id = xidName(xid);
                try {
                    if (onePhase) {
                        ActiveBranch b = endedBranch(id);
                        active.remove(id);
                        if (b.rollbackOnly) {
                            throw xa(XAException.XA_RBROLLBACK, "branch " + id + " was ended with TMFAIL");
                        }
                        appendCommitted(id, b.rows);
                        stepListener.accept(name + " committed " + id);
                        return;
                    }
                    if (active.containsKey(id)) {
                        throw xa(XAException.XAER_PROTO, "branch " + id + " is not prepared");
                    }
                    Path prepared = preparedFile(id);
                    List<String> rows;
                    try {
                        rows = Files.readAllLines(prepared, StandardCharsets.UTF_8);
                    } catch (NoSuchFileException e) {
                        throw xa(XAException.XAER_NOTA, "no prepared branch " + id);
                    }
                    if (!isCommitted(id)) {
                        appendCommitted(id, rows);
                    }
                    Files.delete(prepared);
                    forceDirectory();
                    stepListener.accept(name + " committed " + id);
                } catch (IOException e) {
                    throw xa(XAException.XAER_RMFAIL, "commit of " + id + " failed: " + e);
                }
            }
        }

        @Override
        public void rollback(Xid xid) throws XAException {
            synchronized (FileXaResourceManager.this) {
                String id = xidName(xid);
                if (active.remove(id) != null) {
                    return;
                }
                try {
                    Path prepared = preparedFile(id);
                    if (!Files.exists(prepared)) {
                        throw xa(XAException.XAER_NOTA, "no branch " + id);
                    }
                    boolean committed = isCommitted(id);
                    Files.delete(prepared);
                    forceDirectory();
                    stepListener.accept(name + " rolled-back " + id);
                    if (committed) {
                        // A commit was cut short after its line was written: the branch is committed, say so.
                        throw xa(XAException.XA_HEURCOM, "branch " + id + " was already committed");
                    }
                } catch (IOException e) {
                    throw xa(XAException.XAER_RMFAIL, "rollback of " + id + " failed: " + e);
                }
            }
        }

        @Override
        public Xid[] recover(int flag) throws XAException {
            if ((flag & ~(TMSTARTRSCAN | TMENDRSCAN)) != 0) {
                throw xa(XAException.XAER_INVAL, "recover flags " + flag);
            }
            if ((flag & TMSTARTRSCAN) == 0) {
                return new Xid[0];
            }
            synchronized (FileXaResourceManager.this) {
                try {
                    return readPrepared(directory).toArray(new Xid[0]);
                } catch (IOException e) {
                    throw xa(XAException.XAER_RMFAIL, "recovery scan failed: " + e);
                }
            }
        }

        @Override
        public void forget(Xid xid) throws XAException {
            synchronized (FileXaResourceManager.this) {
                String id = xidName(xid);
                if (Files.exists(preparedFile(id)) || active.containsKey(id)) {
                    throw xa(XAException.XAER_PROTO, "branch " + id + " has no heuristic outcome to forget");
                }
                throw xa(XAException.XAER_NOTA, "no heuristically completed branch " + id);
            }
        }

        @Override
        public boolean isSameRM(XAResource other) {
            return other instanceof Connection c && c.owner() == FileXaResourceManager.this;
        }

        @Override
        public int getTransactionTimeout() {
            return 0;
        }

        @Override
        public boolean setTransactionTimeout(int seconds) {
            return false;
        }

        private FileXaResourceManager owner() {
            return FileXaResourceManager.this;
        }

        private boolean isAssociated() {
            return active.values().stream().anyMatch(b -> b.associated == this);
        }

        /** An active branch that no connection is associated with any more, as prepare and one-phase commit need. */
        private ActiveBranch endedBranch(String id) throws XAException {
            ActiveBranch b = active.get(id);
            if (b == null) {
                throw xa(Files.exists(preparedFile(id)) ? XAException.XAER_PROTO : XAException.XAER_NOTA,
                        "no active branch " + id);
            }
            if (b.associated != null) {
                throw xa(XAException.XAER_PROTO, "branch " + id + " has not been ended");
            }
            return b;
        }

        @Override
        public String toString() {
            return "Connection[" + name + "]";
        }
    }

    // ----------------------------------------------------------------------------------------------- files

    private Path preparedFile(String id) {
        return directory.resolve(id + PREPARED_SUFFIX);
    }

    private boolean isCommitted(String id) throws IOException {
        for (CommittedBranch c : readCommitted(directory)) {
            if (c.xidName().equals(id)) {
                return true;
            }
        }
        return false;
    }

    /** Appends one line for the branch with a single write, and forces it. */
    private void appendCommitted(String id, List<String> rows) throws IOException {
        StringBuilder line = new StringBuilder(id);
        for (String r : rows) {
            line.append(' ').append(r);
        }
        line.append('\n');
        ByteBuffer bytes = ByteBuffer.wrap(line.toString().getBytes(StandardCharsets.UTF_8));
        try (FileChannel ch = FileChannel.open(directory.resolve(COMMITTED_LOG), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            ch.force(false);
        }
        // The first append creates the file: make its directory entry durable too.
        forceDirectory();
    }

    /** Cuts a last line that has no newline (a write a crash cut short; its branch was never reported committed). */
    private void repairCommittedLog() throws IOException {
        Path file = directory.resolve(COMMITTED_LOG);
        if (!Files.exists(file)) {
            return;
        }
        byte[] all = Files.readAllBytes(file);
        int keep = all.length;
        while (keep > 0 && all[keep - 1] != '\n') {
            keep--;
        }
        if (keep != all.length) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(keep);
                ch.force(true);
            }
        }
    }

    private static void writeAndForce(Path file, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            ch.force(true);
        }
    }

    private void forceDirectory() throws IOException {
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static void blockForever() {
        Object never = new Object();
        synchronized (never) {
            while (true) {
                try {
                    never.wait();
                } catch (InterruptedException e) {
                    // Keep waiting: only the end of the process ends a held commit.
                }
            }
        }
    }

    private static void checkToken(String s, String what) {
        if (s == null || s.isEmpty() || s.chars().anyMatch(c -> Character.isWhitespace(c) || c == '=')) {
            throw new IllegalArgumentException(what + " must be non-empty without whitespace or '=': " + s);
        }
    }

    private static XAException xa(int code, String message) {
        XAException e = new XAException(message);
        e.errorCode = code;
        return e;
    }
}
