package dev.concord.coordinator;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/** The resources phase 2 and recovery can reach by name, in name order. Thread-safe. */
public final class ResourceRegistry {
    private final Map<String, RecoverableResource> byName = new ConcurrentSkipListMap<>();

    /**
     * Adds a resource.
     *
     * @throws IllegalArgumentException when another resource already has the name
     */
    public void register(RecoverableResource resource) {
        RecoverableResource old = byName.putIfAbsent(resource.name(), resource);
        if (old != null && old != resource) {
            throw new IllegalArgumentException("a resource named '" + resource.name() + "' is already registered");
        }
    }

    public void unregister(String name) {
        byName.remove(name);
    }

    public Optional<RecoverableResource> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Collection<RecoverableResource> all() {
        return List.copyOf(byName.values());
    }
}
