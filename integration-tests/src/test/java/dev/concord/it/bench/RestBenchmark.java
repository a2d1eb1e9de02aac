package dev.concord.it.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.concord.recovery.xid.Gtrid;
import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * The {@code rest} workload of {@link PeerBenchmark}: the whole REST round trip of a participant, at fixed request
 * rates (open loop), as latency percentiles.
 *
 * <p>The coordinator service ({@code dev.concord.service.Main}) runs in a JVM of its own with a MariaDB, a
 * PostgreSQL and a RocketMQ resource; the broker ({@link EmbeddedRocketMq}) and the load run in this JVM. One
 * transaction is what the README's participant does: {@code POST /v1/transactions}; reserve two branches; prepare
 * the MariaDB branch over a new plain JDBC session with the reserved {@code XA START/END/PREPARE} statements and
 * close that session (MariaDB keeps a prepared branch attached to the session that prepared it); prepare the
 * PostgreSQL branch with {@code BEGIN} / {@code PREPARE TRANSACTION} on the client thread's own session; register
 * both as prepared; register one 128-byte message; {@code POST .../commit}, which must answer COMMITTED.
 *
 * <p>Open loop: at rate R the i-th transaction is due at {@code start + i/R}, whatever happened to the earlier ones;
 * its latency runs from when it was due to when the commit answered, so a backlog (all client threads busy) shows
 * up in the latency instead of slowing the offered load. {@code achieved} is the committed transactions per second
 * over the window from the first due time to the last answer. At the end every committed transaction must have
 * left exactly one row in each database.
 */
final class RestBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("listening on (https?://\\S+) ");
    private static final String TABLE = "concord_rest_bench";
    private static final String TOPIC = "concord-rest-bench";
    private static final String BODY = "m".repeat(128);

    /** The percentiles of one rate, and the mean time of each step of a transaction in milliseconds. */
    record Result(int rate, double p50Millis, double p90Millis, double p99Millis, double achieved, long committed,
                  long failed, double[] stepMillis) {
    }

    /** The steps of one transaction, timed separately to show where its time goes. */
    static final String[] STEPS = {"begin", "reserve2", "mariadb_prepare", "pg_prepare", "register2", "message",
            "commit"};

    private final BenchDatabases db = new BenchDatabases();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String token = UUID.randomUUID().toString().replace("-", "");
    private final ThreadLocal<Connection> pgSession = new ThreadLocal<>();
    private final List<Connection> pgSessions = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong rowIds = new AtomicLong();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder[] stepNanos = new java.util.concurrent.atomic.LongAdder[STEPS.length];
    private String base;

    /**
     * Runs the rates in order after a warm-up at the first one and returns one result per rate.
     *
     * @param dir           a fresh directory for the service's data and the broker's store
     * @param childOpts     JVM options of the service
     * @param rates         transactions per second offered, one measured window each
     * @param measureMillis length of each window
     * @param warmupMillis  warm-up at the first rate, not counted
     * @param clients       client threads (each with its PostgreSQL session): the most transactions in progress
     */
    List<Result> run(Path dir, List<String> childOpts, int[] rates, long measureMillis, long warmupMillis, int clients)
            throws Exception {
        createTables();
        String nodeId = "bench-rest-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        List<Result> results = new ArrayList<>();
        Process service = null;
        try (EmbeddedRocketMq broker = startBroker(dir)) {
            Path config = dir.resolve("concord.yaml");
            Files.writeString(config, config(nodeId, dir.resolve("data"), broker));
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(childOpts);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.concord.service.Main",
                    "--config", config.toString()));
            service = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("service.out").toFile()).start();
            base = awaitListening(service, dir.resolve("service.out"), 120);
            log("service of node %s at %s; warm-up %.0f s at %d/s", nodeId, base, warmupMillis / 1000.0, rates[0]);
            window(rates[0], warmupMillis, clients);
            for (int rate : rates) {
                Result r = window(rate, measureMillis, clients);
                log("  rest %4d/s offered: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, %.1f/s achieved, %d failed", rate,
                        r.p50Millis(), r.p90Millis(), r.p99Millis(), r.achieved(), r.failed());
                results.add(r);
            }
            long[] rows = rowCounts();
            if (rows[0] != committed.get() || rows[1] != committed.get()) {
                // A failed request may still have committed (e.g. an answer lost after the commit): only then may
                // the counts exceed the committed ones, and never differ between the databases.
                System.out.printf(Locale.ROOT, "%s rest: %d transactions committed (%d failed) but MariaDB holds %d rows"
                        + " and PostgreSQL %d%n", rows[0] != rows[1] || failures.get() == 0 ? "WARN" : "NOTE",
                        committed.get(), failures.get(), rows[0], rows[1]);
            } else {
                log("rest: %d transactions committed, one row each in both databases", committed.get());
            }
        } finally {
            if (service != null) {
                service.toHandle().destroy();
                if (!service.waitFor(60, TimeUnit.SECONDS)) {
                    service.destroyForcibly();
                }
            }
            for (Connection c : pgSessions) {
                try {
                    c.close();
                } catch (SQLException e) {
                    // closing anyway
                }
            }
            rollBackLeftovers(nodeId, "MariaDB", db.mariaXa());
            rollBackLeftovers(nodeId, "PostgreSQL", db.pgXa());
            dropTables();
        }
        return results;
    }

    /**
     * Rolls back what this run's node left prepared: a participant that failed after preparing one branch and before
     * registering it leaves an orphan that only its coordinator's recovery would roll back, and the node id is new
     * each run, so nobody would, and its locks would stop the next run's table set-up.
     */
    private static void rollBackLeftovers(String nodeId, String database, XADataSource dataSource) {
        int rolledBack = 0;
        try {
            XAConnection connection = dataSource.getXAConnection();
            try {
                XAResource xa = connection.getXAResource();
                for (Xid xid : xa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)) {
                    Gtrid gtrid = Gtrid.tryParse(xid.getGlobalTransactionId());
                    if (gtrid != null && gtrid.nodeId().equals(nodeId)) {
                        try {
                            xa.rollback(xid);
                            rolledBack++;
                        } catch (XAException e) {
                            log("could not roll back %s in %s: error %d", gtrid, database, e.errorCode);
                        }
                    }
                }
            } finally {
                connection.close();
            }
        } catch (SQLException | XAException e) {
            log("could not look for prepared branches of %s in %s: %s", nodeId, database, e);
        }
        if (rolledBack > 0) {
            log("rest: rolled back %d branches that failed transactions left prepared in %s", rolledBack, database);
        }
    }

    /**
     * The embedded broker, on free ports it picks; on a shared machine another process may take one of them before
     * the broker binds it, so a failed start is tried again on new ports.
     */
    private static EmbeddedRocketMq startBroker(Path dir) {
        for (int attempt = 1; ; attempt++) {
            try {
                return EmbeddedRocketMq.builder().storeDir(dir.resolve("rocketmq-" + attempt)).topic(TOPIC).start();
            } catch (RuntimeException e) {
                if (attempt == 3) {
                    throw e;
                }
                log("embedded RocketMQ did not start (%s); again on other ports", e.getMessage());
            }
        }
    }

    private String config(String nodeId, Path data, EmbeddedRocketMq broker) {
        return "nodeId: " + nodeId + "\n"
                + "dataDir: \"" + data + "\"\n"
                + "http: {host: 127.0.0.1, port: 0}\n"
                + "transactions: {defaultTimeout: 60s, maxTimeout: 120s}\n"
                + "tokens:\n"
                + "  - {name: bench, scope: client, token: \"" + token + "\"}\n"
                + "resources:\n"
                + "  databases:\n"
                + "    - {name: maria, type: mysql, url: \"" + db.mariaUrl + "\", user: \"" + db.mariaUser
                + "\", password: \"" + db.mariaPassword + "\"}\n"
                + "    - {name: pg, type: postgresql, url: \"" + db.pgUrl + "\", user: \"" + db.pgUser
                + "\", password: \"" + db.pgPassword + "\"}\n"
                + "  rocketmq:\n"
                + "    - name: events\n"
                + "      namesrvAddress: \"" + broker.namesrvAddress() + "\"\n"
                + "      producerGroup: concord-rest-bench\n"
                + "      checkHorizon: " + broker.checkHorizon().toSeconds() + "s\n";
    }

    private static String awaitListening(Process service, Path output, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(output)) {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(output),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            return m.group(1);
                        }
                    }
                }
            }
            if (!service.isAlive()) {
                throw new IllegalStateException("the service exited: " + Files.readString(output));
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the service did not start within " + seconds + " s");
    }

    /** Offers {@code rate} transactions per second for {@code millis} and waits for the last answer. */
    private Result window(int rate, long millis, int clients) throws InterruptedException {
        for (int i = 0; i < STEPS.length; i++) {
            stepNanos[i] = new java.util.concurrent.atomic.LongAdder();
        }
        int total = (int) Math.max(1, rate * millis / 1000);
        long[] latencies = new long[total];
        Arrays.fill(latencies, -1);
        AtomicLong next = new AtomicLong();
        AtomicLong lastEnd = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long period = 1_000_000_000L / rate;
        CountDownLatch done = new CountDownLatch(clients);
        for (int t = 0; t < clients; t++) {
            Thread th = new Thread(() -> {
                try {
                    for (long i; (i = next.getAndIncrement()) < total; ) {
                        long due = start + i * period;
                        for (long wait; (wait = due - System.nanoTime()) > 0; ) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        try {
                            transaction();
                            committed.incrementAndGet();
                            long end = System.nanoTime();
                            latencies[(int) i] = end - due;
                            lastEnd.accumulateAndGet(end, Math::max);
                        } catch (Exception e) {
                            failed.incrementAndGet();
                            failures.incrementAndGet();
                            firstFailure.compareAndSet(null, e);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }, "bench-rest-" + t);
            th.setDaemon(true);
            th.start();
        }
        done.await();
        if (firstFailure.get() != null) {
            System.out.println("WARN rest at " + rate + "/s: " + failed.get() + " transactions failed, the first: "
                    + firstFailure.get());
        }
        long[] ok = Arrays.stream(latencies).filter(l -> l >= 0).sorted().toArray();
        double seconds = (lastEnd.get() - start) / 1e9;
        double[] steps = new double[STEPS.length];
        for (int i = 0; i < STEPS.length; i++) {
            steps[i] = ok.length == 0 ? Double.NaN : stepNanos[i].sum() / 1e6 / (ok.length + failed.get());
        }
        return new Result(rate, percentile(ok, 0.50), percentile(ok, 0.90), percentile(ok, 0.99),
                ok.length == 0 ? 0 : ok.length / seconds, ok.length, failed.get(), steps);
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }

    /** One participant's transaction over REST; throws unless it committed. */
    private void transaction() throws Exception {
        long t = System.nanoTime();
        JsonNode tx = post("/v1/transactions", "{\"timeoutSeconds\": 60}", 201);
        String id = tx.path("id").asText();
        t = step(0, t);
        JsonNode maria = post("/v1/transactions/" + id + "/branches", null, 201);
        JsonNode pg = post("/v1/transactions/" + id + "/branches", null, 201);
        String row = Long.toString(rowIds.incrementAndGet());
        t = step(1, t);
        prepareOnMariaDb(maria.path("mysql"), row);
        t = step(2, t);
        prepareOnPostgres(pg.path("postgresql"), row);
        t = step(3, t);
        post("/v1/transactions/" + id + "/branches/" + maria.path("branch").asInt() + "/prepared",
                "{\"resource\": \"maria\"}", 200);
        post("/v1/transactions/" + id + "/branches/" + pg.path("branch").asInt() + "/prepared",
                "{\"resource\": \"pg\"}", 200);
        t = step(4, t);
        post("/v1/transactions/" + id + "/messages", "{\"resource\": \"events\", \"topic\": \"" + TOPIC
                + "\", \"body\": \"" + BODY + "\"}", 201);
        t = step(5, t);
        JsonNode committed = post("/v1/transactions/" + id + "/commit", null, 200);
        step(6, t);
        if (!"COMMITTED".equals(committed.path("status").asText())) {
            throw new IllegalStateException("transaction " + id + " ended " + committed.path("status").asText());
        }
    }

    private long step(int index, long since) {
        long now = System.nanoTime();
        stepNanos[index].add(now - since);
        return now;
    }

    private JsonNode post(String path, String body, int expected) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60));
        if (body == null) {
            b.POST(HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != expected) {
            throw new IllegalStateException("POST " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** XA START, the insert, XA END, XA PREPARE on a new session, which then closes. */
    private void prepareOnMariaDb(JsonNode sql, String row) throws SQLException {
        try (Connection c = db.maria(); Statement s = c.createStatement()) {
            s.execute(sql.path("start").asText());
            insert(c, row, "mariadb");
            s.execute(sql.path("end").asText());
            s.execute(sql.path("prepare").asText());
        }
    }

    /** BEGIN, the insert, PREPARE TRANSACTION on this client thread's session, which stays open. */
    private void prepareOnPostgres(JsonNode sql, String row) throws SQLException {
        Connection c = pgSession.get();
        if (c == null) {
            c = db.pg();
            pgSession.set(c);
            pgSessions.add(c);
        }
        try (Statement s = c.createStatement()) {
            s.execute(sql.path("begin").asText());
            insert(c, row, "postgresql");
            s.execute(sql.path("prepare").asText());
        }
    }

    private static void insert(Connection c, String row, String note) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO " + TABLE + " (id, note) VALUES (?, ?)")) {
            p.setString(1, row);
            p.setString(2, note);
            p.executeUpdate();
        }
    }

    private void createTables() throws SQLException {
        for (Connection connection : new Connection[] {db.maria(), db.pg()}) {
            try (Connection c = connection; Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + TABLE);
                s.execute("CREATE TABLE " + TABLE + " (id VARCHAR(40) PRIMARY KEY, note VARCHAR(20))");
            }
        }
    }

    private long[] rowCounts() throws SQLException {
        long[] out = new long[2];
        Connection[] connections = {db.maria(), db.pg()};
        for (int i = 0; i < 2; i++) {
            try (Connection c = connections[i]; Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT COUNT(*) FROM " + TABLE)) {
                r.next();
                out[i] = r.getLong(1);
            }
        }
        return out;
    }

    private void dropTables() {
        try {
            for (Connection connection : new Connection[] {db.maria(), db.pg()}) {
                try (Connection c = connection; Statement s = c.createStatement()) {
                    s.execute("DROP TABLE IF EXISTS " + TABLE);
                }
            }
        } catch (SQLException e) {
            log("could not drop %s: %s", TABLE, e);
        }
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "# " + format + "%n", args);
    }
}
