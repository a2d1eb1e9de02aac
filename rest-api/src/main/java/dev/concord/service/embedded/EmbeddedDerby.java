package dev.concord.service.embedded;

import dev.concord.xa.jdbc.JdbcResourceConfig;
import java.io.IOException;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.apache.derby.drda.NetworkServerControl;
import org.apache.derby.jdbc.ClientDataSource;

/**
 * An Apache Derby database served by Derby's network server on 127.0.0.1, inside this JVM: the service's
 * embedded XA database. Derby keeps a prepared XA branch when the session that prepared it closes, lists it in
 * {@code recover()} from any new connection, also after the database restarts, and commits or rolls it back from
 * there — what a coordinator needs (H2 does not: it drops a prepared branch when its session closes).
 *
 * <p>The database {@value #DATABASE} lives in {@code <dir>/concord}; Derby's own log is {@code <dir>/derby.log}.
 * Authentication is on: one user, {@value #USER}, whose password the caller passes (written only to
 * {@code <dir>/derby.properties}, owner-readable). Derby reads its settings from JVM-wide state (the system
 * property {@code derby.system.home}), so run at most one per JVM.
 */
final class EmbeddedDerby implements AutoCloseable {
    static final String DATABASE = "concord";
    static final String USER = "concord";
    /** Derby's XADataSource for clients of the network server. */
    static final String XA_DATA_SOURCE = "org.apache.derby.jdbc.ClientXADataSource";
    private static final System.Logger LOG = System.getLogger(EmbeddedDerby.class.getName());

    private final Path dir;
    private final int port;
    private final String password;
    private NetworkServerControl server;

    private EmbeddedDerby(Path dir, int port, String password) {
        this.dir = dir;
        this.port = port;
        this.password = password;
    }

    /** Starts the network server on 127.0.0.1:{@code port} and creates the database when it is new. */
    static EmbeddedDerby start(Path dir, int port, String password) throws Exception {
        Files.createDirectories(dir);
        writeProperties(dir.resolve("derby.properties"), password);
        System.setProperty("derby.system.home", dir.toAbsolutePath().toString());
        EmbeddedDerby derby = new EmbeddedDerby(dir, port, password);
        NetworkServerControl control = new NetworkServerControl(InetAddress.getByName("127.0.0.1"), port, USER,
                password);
        control.start(null);
        derby.server = control;
        try {
            awaitPing(control);
            ClientDataSource create = derby.dataSource();
            create.setCreateDatabase("create");
            try (Connection c = create.getConnection()) {
                c.isValid(1);
            }
        } catch (Exception e) {
            derby.close();
            throw e;
        }
        return derby;
    }

    private static void writeProperties(Path file, String password) throws IOException {
        Properties p = new Properties();
        p.setProperty("derby.connection.requireAuthentication", "true");
        p.setProperty("derby.authentication.provider", "BUILTIN");
        p.setProperty("derby.user." + USER, password);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp);
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the data directory's own permissions protect the file.
        }
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.ISO_8859_1)) {
            p.store(out, "Written by the Concord service at every start of its embedded database");
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void awaitPing(NetworkServerControl control) throws Exception {
        Exception last = null;
        for (int i = 0; i < 100; i++) {
            try {
                control.ping();
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the embedded Derby server did not answer within 10 s", last);
    }

    private ClientDataSource dataSource() {
        ClientDataSource ds = new ClientDataSource();
        ds.setServerName("127.0.0.1");
        ds.setPortNumber(port);
        ds.setDatabaseName(DATABASE);
        ds.setUser(USER);
        ds.setPassword(password);
        return ds;
    }

    /** The JDBC URL a participant uses (with user {@value #USER} and the password). */
    String url() {
        return "jdbc:derby://127.0.0.1:" + port + "/" + DATABASE;
    }

    int port() {
        return port;
    }

    /** The database as a {@code generic} XA resource of the coordinator. */
    JdbcResourceConfig resource(String name) {
        return JdbcResourceConfig.builder().name(name).type(JdbcResourceConfig.Type.GENERIC)
                .dataSourceClassName(XA_DATA_SOURCE).user(USER).password(password)
                .property("serverName", "127.0.0.1").property("portNumber", Integer.toString(port))
                .property("databaseName", DATABASE).build();
    }

    /** True when the network server answers a ping. */
    boolean isRunning() {
        NetworkServerControl s = server;
        if (s == null) {
            return false;
        }
        try {
            s.ping();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Stops the network server and shuts the Derby engine down (the database is closed cleanly). */
    @Override
    public synchronized void close() {
        NetworkServerControl s = server;
        server = null;
        if (s == null) {
            return;
        }
        try {
            s.shutdown();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "embedded Derby: network server shutdown: {0}", e.toString());
        }
        try {
            DriverManager.getConnection("jdbc:derby:;shutdown=true", USER, password).close();
        } catch (SQLException e) {
            // XJ015 is Derby's answer to a successful engine shutdown; anything else is worth a note.
            if (!"XJ015".equals(e.getSQLState())) {
                LOG.log(System.Logger.Level.WARNING, "embedded Derby: engine shutdown: {0}", e.toString());
            }
        }
        LOG.log(System.Logger.Level.INFO, "embedded Derby stopped ({0})", dir);
    }
}
