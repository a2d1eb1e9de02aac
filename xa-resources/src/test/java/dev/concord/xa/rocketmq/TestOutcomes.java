package dev.concord.xa.rocketmq;

import dev.concord.recovery.outcome.Outcome;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link OutcomeSource} the test sets per gtrid (UNKNOWN for any other), counting the check-backs it answers,
 * standing in for the coordinator's outcome index.
 */
final class TestOutcomes implements OutcomeSource {
    private final Map<String, Outcome> byGtrid = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();

    void set(String gtridHex, Outcome outcome) {
        byGtrid.put(gtridHex, outcome);
    }

    int asked(String gtridHex) {
        AtomicInteger n = asked.get(gtridHex);
        return n == null ? 0 : n.get();
    }

    @Override
    public Outcome outcomeOf(byte[] gtrid) {
        String hex = HexFormat.of().formatHex(gtrid);
        asked.computeIfAbsent(hex, h -> new AtomicInteger()).incrementAndGet();
        return byGtrid.getOrDefault(hex, Outcome.UNKNOWN);
    }
}
