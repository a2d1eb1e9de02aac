package dev.concord.coordinator.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Records branch calls and log writes in the order they happened, as short strings such as {@code A.prepare#1}
 * or {@code log.decision[A#1,B#2]}, so tests can assert the exact protocol sequence.
 */
public final class EventRecorder {
    private final List<String> events = new ArrayList<>();

    public synchronized void record(String event) {
        events.add(event);
    }

    public synchronized List<String> events() {
        return List.copyOf(events);
    }

    public synchronized void clear() {
        events.clear();
    }

    /** Events that start with a prefix, in order. */
    public synchronized List<String> matching(String prefix) {
        return events.stream().filter(e -> e.startsWith(prefix)).toList();
    }

    /**
     * Asserts the whole sequence: each argument is a group of events separated by {@code |}; the events of a group
     * may come in any order among themselves (they run in parallel), groups come strictly in the given order.
     * Example: {@code assertSequence("A.start#1", "A.end#1:TMSUCCESS", "A.prepare#1|B.prepare#2")}.
     */
    public synchronized void assertSequence(String... groups) {
        List<String> actual = new ArrayList<>(events);
        int pos = 0;
        for (String group : groups) {
            List<String> expected = Arrays.asList(group.split("\\|"));
            if (pos + expected.size() > actual.size()) {
                fail("expected " + Arrays.toString(groups) + " but was " + actual);
            }
            Set<String> want = new HashSet<>(expected);
            Set<String> got = new HashSet<>(actual.subList(pos, pos + expected.size()));
            if (!want.equals(got)) {
                fail("at position " + pos + " expected any order of " + want + " but was "
                        + actual.subList(pos, pos + expected.size()) + "\nwhole sequence: " + actual);
            }
            pos += expected.size();
        }
        int matched = pos;
        assertEquals(matched, actual.size(), () -> "unexpected extra events " + actual.subList(matched, actual.size())
                + " in " + actual);
    }
}
