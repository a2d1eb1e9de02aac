package dev.concord.service.core;

import dev.concord.coordinator.Branch;
import dev.concord.coordinator.Coordinator;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.TxState;
import dev.concord.recovery.log.LogException;
import dev.concord.recovery.outcome.OutcomeIndex;
import dev.concord.recovery.xid.ConcordXid;
import dev.concord.recovery.xid.Gtrid;
import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.HeuristicRollbackException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.SystemException;
import dev.concord.xa.rocketmq.RocketMqResource;
import dev.concord.xa.rocketmq.RocketMqXAResource;
import dev.concord.xa.rocketmq.TransactionalMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What clients can do with transactions, expressed over the engine: every state change is the engine's own
 * {@link GlobalTransaction} call, and every refusal is the engine's exception translated into a
 * {@link ServiceFailure}. Nothing here decides whether a transition is legal.
 *
 * <p>Ids are the text form of the gtrid, {@code node:beginMillis:sequence}. A transaction is found while it is in
 * flight and for a bounded time after (see {@link TransactionDirectory}).
 */
public final class TransactionService {
    /** Longest accepted transaction id text. */
    public static final int MAX_ID_LENGTH = 100;
    /** Largest page of a listing. */
    public static final int MAX_PAGE = 500;

    private final Coordinator coordinator;
    private final TransactionDirectory directory;
    private final ServiceMetrics metrics;
    private final Clock clock;
    private final Map<String, RocketMqResource> messageResources;
    private final Map<String, Long> messageLimits;
    private volatile boolean closing;

    public TransactionService(Coordinator coordinator, TransactionDirectory directory, ServiceMetrics metrics,
                              Clock clock) {
        this(coordinator, directory, metrics, clock, Map.of(), Map.of());
    }

    /**
     * A service that can also register messages.
     *
     * @param messageResources the RocketMQ resources by name
     * @param messageLimits    the largest message body of each, in bytes
     */
    public TransactionService(Coordinator coordinator, TransactionDirectory directory, ServiceMetrics metrics,
                              Clock clock, Map<String, RocketMqResource> messageResources,
                              Map<String, Long> messageLimits) {
        this.coordinator = coordinator;
        this.directory = directory;
        this.metrics = metrics;
        this.clock = clock;
        this.messageResources = Map.copyOf(messageResources);
        this.messageLimits = Map.copyOf(messageLimits);
    }

    /**
     * A message to register: exactly one of {@code body} (text, sent as UTF-8) and {@code bodyBase64}.
     */
    public record MessageSpec(String resource, String topic, String tags, List<String> keys, String body,
                              String bodyBase64, Map<String, String> properties) {
    }

    /**
     * Registers a message on the transaction's branch of a RocketMQ resource (enlisted at the first message): it
     * is sent as a half message at prepare and delivered if and only if the transaction commits.
     */
    public MessageReceipt registerMessage(String id, MessageSpec m) {
        GlobalTransaction tx = entry(id).tx();
        if (m.resource() == null || m.resource().isBlank()) {
            throw ServiceFailure.invalid("resource", "resource must name a configured RocketMQ resource");
        }
        RocketMqResource mq = messageResources.get(m.resource());
        if (mq == null) {
            throw ServiceFailure.invalid("resource", "no RocketMQ resource named '" + clip(m.resource())
                    + "' is configured" + (messageResources.isEmpty() ? " (none is)"
                    : "; configured: " + String.join(", ", new java.util.TreeSet<>(messageResources.keySet()))));
        }
        if (m.topic() == null || m.topic().isEmpty()) {
            throw ServiceFailure.invalid("topic", "topic must be set");
        }
        if ((m.body() == null) == (m.bodyBase64() == null)) {
            throw ServiceFailure.invalid("body", "give exactly one of body (text) and bodyBase64");
        }
        String bodyField = m.body() != null ? "body" : "bodyBase64";
        byte[] body;
        if (m.body() != null) {
            body = m.body().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } else {
            try {
                body = java.util.Base64.getDecoder().decode(m.bodyBase64());
            } catch (IllegalArgumentException e) {
                throw ServiceFailure.invalid("bodyBase64", "bodyBase64 is not valid base64: " + e.getMessage());
            }
        }
        long limit = messageLimits.getOrDefault(m.resource(), Long.MAX_VALUE);
        if (body.length > limit) {
            throw ServiceFailure.invalid(bodyField, "the message body has " + body.length + " bytes; resource '"
                    + m.resource() + "' takes at most " + limit);
        }
        TransactionalMessage message;
        try {
            TransactionalMessage.Builder b = TransactionalMessage.builder(m.topic()).tags(m.tags()).body(body);
            if (m.keys() != null) {
                for (String k : m.keys()) {
                    b.key(k);
                }
            }
            if (m.properties() != null) {
                for (Map.Entry<String, String> p : m.properties().entrySet()) {
                    if (p.getValue() == null) {
                        throw ServiceFailure.invalid("properties", "property " + clip(p.getKey())
                                + " has no value");
                    }
                    b.property(p.getKey(), p.getValue());
                }
            }
            message = b.build();
        } catch (IllegalArgumentException e) {
            throw ServiceFailure.invalid(messageField(e.getMessage(), bodyField), e.getMessage());
        }
        RocketMqXAResource xa;
        int index;
        try {
            xa = mq.branchOf(tx);
            synchronized (xa) {
                xa.addMessage(message);
                Branch branch = branchOf(tx, xa);
                index = xa.messages(branch.xid()).size() - 1;
            }
        } catch (RollbackException ex) {
            throw rolledBack(tx, ex);
        } catch (IllegalStateException ex) {
            throw illegalState(tx, ex);
        } catch (SystemException ex) {
            throw new IllegalStateException("the engine failed to enlist " + m.resource() + " in " + tx.gtrid()
                    + ": " + ex.getMessage(), ex);
        }
        Branch branch = branchOf(tx, xa);
        return new MessageReceipt(tx.gtrid().toString(), m.resource(), branch.xid().branch(), index,
                message.topic(), body.length);
    }

    private static Branch branchOf(GlobalTransaction tx, RocketMqXAResource xa) {
        for (Branch b : tx.branches()) {
            if (b.xaResource() == xa) {
                return b;
            }
        }
        throw new IllegalStateException("the message branch of " + tx.gtrid() + " is no longer in the transaction");
    }

    private static String messageField(String message, String bodyField) {
        String m = message == null ? "" : message;
        if (m.startsWith("topic")) {
            return "topic";
        }
        if (m.startsWith("body")) {
            return bodyField;
        }
        if (m.startsWith("tags")) {
            return "tags";
        }
        if (m.startsWith("a key")) {
            return "keys";
        }
        return "properties";
    }

    private static String clip(String s) {
        return s == null ? "null" : s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }

    /** From now on no transaction is begun (a shutdown is in progress); existing ones may still complete. */
    public void stopBeginning() {
        closing = true;
    }

    /**
     * Begins a transaction.
     *
     * @param timeoutSeconds null for the configured default
     */
    public TransactionView begin(Long timeoutSeconds) {
        if (closing) {
            throw new ServiceFailure(ServiceFailure.Kind.SHUTTING_DOWN, "the coordinator is shutting down and "
                    + "begins no new transaction");
        }
        Duration timeout = null;
        if (timeoutSeconds != null) {
            long max = coordinator.config().maxTimeout().toSeconds();
            if (timeoutSeconds < 1 || timeoutSeconds > max) {
                throw ServiceFailure.invalid("timeoutSeconds", "timeoutSeconds must be between 1 and " + max
                        + ", got " + timeoutSeconds);
            }
            timeout = Duration.ofSeconds(timeoutSeconds);
        }
        GlobalTransaction tx;
        try {
            tx = coordinator.begin(timeout);
        } catch (IllegalArgumentException e) {
            throw ServiceFailure.invalid("timeoutSeconds", e.getMessage());
        }
        return view(new TransactionDirectory.Entry(tx, null));
    }

    /** The transaction, in flight or recently finished. */
    public TransactionView get(String id) {
        return view(entry(id));
    }

    /**
     * Lists known transactions, newest first.
     *
     * @param statuses only these states; empty for all
     * @param minAge   only transactions begun at least this long ago, or null
     * @param maxAge   only transactions begun at most this long ago, or null
     * @param limit    page size, 1 to {@value #MAX_PAGE}
     * @param cursor   the {@code nextCursor} of the previous page, or null for the first
     */
    public TransactionPage list(Set<TxState> statuses, Duration minAge, Duration maxAge, int limit, String cursor) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw ServiceFailure.invalid("limit", "limit must be between 1 and " + MAX_PAGE + ", got " + limit);
        }
        Gtrid after = null;
        if (cursor != null) {
            after = parseId(cursor, "cursor");
        }
        long now = clock.millis();
        List<TransactionDirectory.Entry> all = new ArrayList<>(directory.all());
        all.sort(Comparator.comparing((TransactionDirectory.Entry e) -> e.tx().gtrid()).reversed());
        List<TransactionView> items = new ArrayList<>();
        String next = null;
        for (TransactionDirectory.Entry e : all) {
            Gtrid g = e.tx().gtrid();
            if (after != null && g.compareTo(after) >= 0) {
                continue;
            }
            long age = now - g.beginMillis();
            if ((minAge != null && age < minAge.toMillis()) || (maxAge != null && age > maxAge.toMillis())) {
                continue;
            }
            TransactionView v = view(e);
            if (!statuses.isEmpty() && !statuses.contains(v.status())) {
                continue;
            }
            if (items.size() == limit) {
                next = items.get(items.size() - 1).id();
                break;
            }
            items.add(v);
        }
        return new TransactionPage(items, next);
    }

    /**
     * Commits: the engine runs both phases and answers. Returns the transaction once the commit is decided (phase 2
     * may still be retrying a branch in the background: status COMMITTING).
     */
    public TransactionView commit(String id) {
        TransactionDirectory.Entry e = entry(id);
        GlobalTransaction tx = e.tx();
        long start = System.nanoTime();
        String result = "error";
        try {
            tx.commit();
            result = "committed";
            return view(current(tx));
        } catch (RollbackException ex) {
            if (causedByLog(ex)) {
                result = "log_unavailable";
                throw new ServiceFailure(ServiceFailure.Kind.LOG_UNAVAILABLE, "the commit decision could not be "
                        + "written to the transaction log, so the transaction was rolled back: " + ex.getMessage(),
                        Map.of("transaction", view(current(tx))), ex);
            }
            result = "rolled_back";
            throw new ServiceFailure(ServiceFailure.Kind.ROLLED_BACK, ex.getMessage(),
                    Map.of("transaction", view(current(tx))), ex);
        } catch (HeuristicMixedException | HeuristicRollbackException ex) {
            result = "heuristic";
            throw new ServiceFailure(ServiceFailure.Kind.HEURISTIC, ex.getMessage(),
                    Map.of("transaction", view(current(tx))), ex);
        } catch (IllegalStateException ex) {
            result = "illegal_state";
            throw illegalState(tx, ex);
        } catch (SystemException ex) {
            throw new IllegalStateException("the engine failed to commit " + tx.gtrid() + ": " + ex.getMessage(), ex);
        } finally {
            metrics.commitLatency(System.nanoTime() - start, result);
        }
    }

    /** Rolls back through the engine. */
    public TransactionView rollback(String id) {
        TransactionDirectory.Entry e = entry(id);
        GlobalTransaction tx = e.tx();
        try {
            tx.rollback();
        } catch (IllegalStateException ex) {
            throw illegalState(tx, ex);
        } catch (SystemException ex) {
            throw new IllegalStateException("the engine failed to roll back " + tx.gtrid() + ": " + ex.getMessage(),
                    ex);
        }
        return view(current(tx));
    }

    /** Reserves a branch XID for a participant that prepares its branch itself. */
    public BranchReservation reserveBranch(String id) {
        GlobalTransaction tx = entry(id).tx();
        ConcordXid xid;
        try {
            xid = tx.reserveBranchXid();
        } catch (RollbackException ex) {
            throw rolledBack(tx, ex);
        } catch (IllegalStateException ex) {
            throw illegalState(tx, ex);
        }
        return reservation(tx, xid);
    }

    /** The XID and SQL of one branch number of a transaction, and whether it is registered. */
    public BranchReservation branch(String id, int branch) {
        GlobalTransaction tx = entry(id).tx();
        return reservation(tx, branchXid(tx.gtrid(), branch));
    }

    /**
     * Registers a branch the participant prepared itself with the transaction's XID for {@code branch}; the engine
     * finishes it through the configured resource {@code resource}.
     */
    public TransactionView registerPrepared(String id, int branch, String resource) {
        GlobalTransaction tx = entry(id).tx();
        branchXid(tx.gtrid(), branch);
        if (resource == null || resource.isBlank()) {
            throw ServiceFailure.invalid("resource", "resource must name a configured resource");
        }
        if (coordinator.registry().find(resource).isEmpty()) {
            List<String> names = coordinator.registry().all().stream().map(r -> r.name()).toList();
            throw ServiceFailure.invalid("resource", "no resource named '" + resource + "' is configured"
                    + (names.isEmpty() ? " (none is)" : "; configured: " + String.join(", ", names)));
        }
        try {
            tx.registerPreparedBranch(resource, branch);
        } catch (RollbackException ex) {
            throw rolledBack(tx, ex);
        } catch (IllegalStateException ex) {
            throw illegalState(tx, ex);
        } catch (IllegalArgumentException ex) {
            // The resource was checked above: the engine refuses a branch number that is already registered.
            throw new ServiceFailure(ServiceFailure.Kind.ILLEGAL_STATE, ex.getMessage(),
                    Map.of("transaction", view(current(tx))), ex);
        }
        return view(current(tx));
    }

    /**
     * The outcome query: did this transaction commit? COMMIT once its commit is decided, UNKNOWN while it is in
     * flight undecided (or when no safe answer exists: another node's, older than the retention window, begun
     * before this process started), ROLLBACK for this node's recent transactions that ended without a commit. The
     * engine's {@link OutcomeIndex} answers; the id need not be known to this service.
     */
    public OutcomeView outcome(String id) {
        Gtrid g = parseId(id, "id");
        return new OutcomeView(g.toString(), coordinator.outcomeOf(g));
    }

    /** Finds a transaction by id text. */
    public TransactionDirectory.Entry entry(String id) {
        Gtrid g = parseId(id, "id");
        return directory.find(g).orElseThrow(() -> new ServiceFailure(ServiceFailure.Kind.NOT_FOUND,
                "no transaction " + id + " is in flight or among the recently finished ones"));
    }

    /** A snapshot of a known transaction. */
    public TransactionView view(TransactionDirectory.Entry e) {
        GlobalTransaction tx = e.tx();
        TxState state = tx.state();
        List<Branch> sorted = new ArrayList<>(tx.branches());
        sorted.sort(Comparator.comparingInt(b -> b.xid().branch()));
        List<BranchView> branches = new ArrayList<>();
        List<MessageView> messages = new ArrayList<>();
        for (Branch b : sorted) {
            branches.add(BranchView.of(b));
            if (b.xaResource() instanceof RocketMqXAResource xa) {
                List<RocketMqXAResource.MessageStatus> status = xa.messageStatus(b.xid());
                for (int i = 0; i < status.size(); i++) {
                    RocketMqXAResource.MessageStatus m = status.get(i);
                    messages.add(new MessageView(b.resourceName(), b.xid().branch(), i, m.topic(), m.messageId(),
                            m.state()));
                }
            }
        }
        return new TransactionView(tx.gtrid().toString(), state, tx.isTimedOut(), tx.timeout().toSeconds(),
                Instant.ofEpochMilli(tx.gtrid().beginMillis()).toString(),
                e.finishedAtMillis() == null ? null : Instant.ofEpochMilli(e.finishedAtMillis()).toString(),
                XidView.of(tx.gtrid()), branches, messages);
    }

    /** Parses a transaction id, or fails with 400 naming {@code field}. */
    public static Gtrid parseId(String id, String field) {
        if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            throw ServiceFailure.invalid(field, field + " is not a transaction id (expected node:beginMillis:sequence)");
        }
        try {
            return Gtrid.parseText(id);
        } catch (IllegalArgumentException e) {
            throw ServiceFailure.invalid(field, field + " is not a transaction id (expected node:beginMillis:sequence)");
        }
    }

    private TransactionDirectory.Entry current(GlobalTransaction tx) {
        return directory.find(tx.gtrid()).orElse(new TransactionDirectory.Entry(tx, null));
    }

    private static ConcordXid branchXid(Gtrid gtrid, int branch) {
        if (branch < 1) {
            throw ServiceFailure.invalid("branch", "branch must be a number from 1, got " + branch);
        }
        return new ConcordXid(gtrid, branch);
    }

    private BranchReservation reservation(GlobalTransaction tx, ConcordXid xid) {
        String resource = null;
        for (Branch b : tx.branches()) {
            if (b.xid().branch() == xid.branch()) {
                resource = b.resourceName();
            }
        }
        return new BranchReservation(tx.gtrid().toString(), xid.branch(), XidView.of(xid), XidSql.mysql(xid),
                XidSql.postgres(xid), resource != null, resource);
    }

    private ServiceFailure illegalState(GlobalTransaction tx, IllegalStateException ex) {
        return new ServiceFailure(ServiceFailure.Kind.ILLEGAL_STATE, ex.getMessage(),
                Map.of("transaction", view(current(tx))), ex);
    }

    private ServiceFailure rolledBack(GlobalTransaction tx, RollbackException ex) {
        Map<String, Object> ext = new LinkedHashMap<>();
        ext.put("transaction", view(current(tx)));
        return new ServiceFailure(ServiceFailure.Kind.ROLLED_BACK, ex.getMessage(), ext, ex);
    }

    private static boolean causedByLog(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof LogException) {
                return true;
            }
        }
        return false;
    }
}
