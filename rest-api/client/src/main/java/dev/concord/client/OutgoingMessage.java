package dev.concord.client;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A RocketMQ message to send inside a remote transaction: delivered if and only if the transaction commits. The
 * service checks the fields (topic, keys without spaces, no {@code CONCORD_} properties, body size) and refuses a
 * bad message with a 400 naming the field.
 */
public final class OutgoingMessage {
    private final String topic;
    private final byte[] body;
    private final String tags;
    private final List<String> keys;
    private final Map<String, String> properties;

    private OutgoingMessage(Builder b) {
        this.topic = b.topic;
        this.body = b.body;
        this.tags = b.tags;
        this.keys = List.copyOf(b.keys);
        this.properties = Map.copyOf(b.properties);
    }

    /** A message to {@code topic} with a binary body. */
    public static Builder builder(String topic, byte[] body) {
        return new Builder(topic, body);
    }

    /** A message to {@code topic} with a text body, sent as UTF-8. */
    public static Builder builder(String topic, String body) {
        return new Builder(topic, Objects.requireNonNull(body, "body").getBytes(StandardCharsets.UTF_8));
    }

    public String topic() {
        return topic;
    }

    public byte[] body() {
        return body.clone();
    }

    public String tags() {
        return tags;
    }

    public List<String> keys() {
        return keys;
    }

    public Map<String, String> properties() {
        return properties;
    }

    /** Builds an {@link OutgoingMessage}. */
    public static final class Builder {
        private final String topic;
        private final byte[] body;
        private String tags;
        private final List<String> keys = new ArrayList<>();
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder(String topic, byte[] body) {
            this.topic = Objects.requireNonNull(topic, "topic");
            this.body = Objects.requireNonNull(body, "body").clone();
        }

        public Builder tags(String v) {
            this.tags = v;
            return this;
        }

        public Builder key(String v) {
            keys.add(Objects.requireNonNull(v, "key"));
            return this;
        }

        public Builder property(String name, String value) {
            properties.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        public OutgoingMessage build() {
            return new OutgoingMessage(this);
        }
    }
}
