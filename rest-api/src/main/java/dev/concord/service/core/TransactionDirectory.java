package dev.concord.service.core;

import dev.concord.coordinator.CoordinatorListener;
import dev.concord.coordinator.GlobalTransaction;
import dev.concord.recovery.xid.Gtrid;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The transactions the service can answer about: every transaction in flight, and the most recently finished
 * ones. <b>Bound:</b> at most {@code maxFinished} finished transactions are kept, none for longer than
 * {@code maxAge} after it finished; older ones are forgotten (a query then answers 404). Fed by the engine's
 * {@link CoordinatorListener} hooks, so it sees a transaction from its begin; a finished transaction is added to
 * the finished list before it leaves the live map, so a lookup never misses it in between.
 */
public final class TransactionDirectory implements CoordinatorListener {
    /**
     * A known transaction.
     *
     * @param tx               the engine's transaction
     * @param finishedAtMillis when phase 2 finished, or null while in flight
     */
    public record Entry(GlobalTransaction tx, Long finishedAtMillis) {
    }

    private final Map<Gtrid, GlobalTransaction> live = new ConcurrentHashMap<>();
    /** Finished transactions in finishing order; guarded by itself. */
    private final LinkedHashMap<Gtrid, Entry> finished = new LinkedHashMap<>();
    private final int maxFinished;
    private final Duration maxAge;
    private final Clock clock;

    /**
     * A directory.
     *
     * @param maxFinished most finished transactions remembered
     * @param maxAge      longest time a finished transaction is remembered
     */
    public TransactionDirectory(int maxFinished, Duration maxAge, Clock clock) {
        this.maxFinished = maxFinished;
        this.maxAge = maxAge;
        this.clock = clock;
    }

    @Override
    public void begun(GlobalTransaction tx) {
        live.put(tx.gtrid(), tx);
    }

    @Override
    public void completed(GlobalTransaction tx) {
        long now = clock.millis();
        synchronized (finished) {
            finished.remove(tx.gtrid());
            finished.put(tx.gtrid(), new Entry(tx, now));
            evict(now);
        }
        live.remove(tx.gtrid());
    }

    /** The transaction with this id, in flight or recently finished. */
    public Optional<Entry> find(Gtrid gtrid) {
        GlobalTransaction tx = live.get(gtrid);
        if (tx != null) {
            return Optional.of(new Entry(tx, null));
        }
        synchronized (finished) {
            evict(clock.millis());
            Entry e = finished.get(gtrid);
            if (e != null) {
                return Optional.of(e);
            }
        }
        // Finished between the two lookups: it is in the finished list now, unless it aged out.
        tx = live.get(gtrid);
        return tx == null ? Optional.empty() : Optional.of(new Entry(tx, null));
    }

    /** Every known transaction, each once, in no particular order. */
    public List<Entry> all() {
        Map<Gtrid, Entry> out = new LinkedHashMap<>();
        synchronized (finished) {
            evict(clock.millis());
            out.putAll(finished);
        }
        for (GlobalTransaction tx : live.values()) {
            // A transaction finishing right now may be in both; the finished entry wins.
            out.putIfAbsent(tx.gtrid(), new Entry(tx, null));
        }
        return new ArrayList<>(out.values());
    }

    /** Number of finished transactions remembered now. */
    public int finishedCount() {
        synchronized (finished) {
            return finished.size();
        }
    }

    private void evict(long now) {
        long oldest = now - maxAge.toMillis();
        Iterator<Entry> it = finished.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (finished.size() > maxFinished || e.finishedAtMillis() < oldest) {
                it.remove();
            } else {
                break;
            }
        }
    }
}
