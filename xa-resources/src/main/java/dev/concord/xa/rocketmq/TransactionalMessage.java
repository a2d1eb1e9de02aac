package dev.concord.xa.rocketmq;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageDecoder;

/**
 * A message an application registers on a RocketMQ branch: topic, optional tags and keys, body and user
 * properties. Immutable; built with {@link #builder(String)}.
 *
 * <p>Concord adds to every message it sends: the properties {@value #PROPERTY_GTRID} (the global transaction id in
 * hex), {@value #PROPERTY_BRANCH} (the branch number) and {@value #PROPERTY_INDEX} (the position of the message in
 * its branch, from 0), and the keys {@code <gtrid hex>} and {@code <gtrid hex>:<branch>}. The triple
 * (gtrid, branch, index) names one message of one transaction: RocketMQ does not de-duplicate, so a consumer that
 * must see a message once de-duplicates on it (or on the message id, which is the same for every copy).
 */
public final class TransactionalMessage {
    /** Property holding the gtrid of the global transaction, in lower-case hex. */
    public static final String PROPERTY_GTRID = "CONCORD_GTRID";
    /** Property holding the branch number (the bqual of Concord XIDs) in decimal, or the bqual in hex for others. */
    public static final String PROPERTY_BRANCH = "CONCORD_BRANCH";
    /** Property holding the position of the message in its branch, from 0. */
    public static final String PROPERTY_INDEX = "CONCORD_INDEX";
    /** Longest topic name RocketMQ accepts. */
    public static final int MAX_TOPIC_LENGTH = 127;

    private final String topic;
    private final String tags;
    private final List<String> keys;
    private final byte[] body;
    private final Map<String, String> properties;

    private TransactionalMessage(Builder b) {
        this.topic = b.topic;
        this.tags = b.tags;
        this.keys = List.copyOf(b.keys);
        this.body = b.body.clone();
        this.properties = Collections.unmodifiableMap(new LinkedHashMap<>(b.properties));
    }

    /** A builder for a message to {@code topic}. */
    public static Builder builder(String topic) {
        return new Builder(topic);
    }

    /** A message with only a topic and a (non-empty) body. */
    public static TransactionalMessage of(String topic, byte[] body) {
        return builder(topic).body(body).build();
    }

    public String topic() {
        return topic;
    }

    /** The tags (RocketMQ's filter expression input), or null. */
    public String tags() {
        return tags;
    }

    /** The application's keys (RocketMQ indexes them for queries); Concord's own keys are added when sent. */
    public List<String> keys() {
        return keys;
    }

    /** A copy of the body. */
    public byte[] body() {
        return body.clone();
    }

    int bodyLength() {
        return body.length;
    }

    byte[] bodyUnsafe() {
        return body;
    }

    /** The application's user properties, in the order they were set. */
    public Map<String, String> properties() {
        return properties;
    }

    @Override
    public String toString() {
        return "TransactionalMessage[topic=" + topic + (tags == null ? "" : ", tags=" + tags)
                + (keys.isEmpty() ? "" : ", keys=" + keys) + ", body=" + body.length + "B"
                + (properties.isEmpty() ? "" : ", properties=" + properties.keySet()) + "]";
    }

    /** Builds a {@link TransactionalMessage}; {@link #build()} validates. */
    public static final class Builder {
        private final String topic;
        private String tags;
        private final List<String> keys = new ArrayList<>();
        private byte[] body = new byte[0];
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder(String topic) {
            this.topic = topic;
        }

        public Builder tags(String v) {
            this.tags = v;
            return this;
        }

        /** Adds a key; keys must not contain spaces (RocketMQ separates keys by spaces). */
        public Builder key(String v) {
            this.keys.add(v);
            return this;
        }

        public Builder body(byte[] v) {
            this.body = Objects.requireNonNull(v, "body").clone();
            return this;
        }

        /** Adds a user property; RocketMQ's reserved names and names starting with {@code CONCORD_} are refused. */
        public Builder property(String name, String value) {
            this.properties.put(name, value);
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException naming the field and the problem
         */
        public TransactionalMessage build() {
            if (topic == null || !topic.matches("[%|a-zA-Z0-9_-]{1," + MAX_TOPIC_LENGTH + "}")) {
                throw new IllegalArgumentException("topic must be 1 to " + MAX_TOPIC_LENGTH
                        + " characters of [%|a-zA-Z0-9_-], got: " + topic);
            }
            if (body.length == 0) {
                throw new IllegalArgumentException("body must not be empty (RocketMQ refuses empty messages)");
            }
            if (tags != null && tags.isBlank()) {
                throw new IllegalArgumentException("tags must not be blank when set");
            }
            for (String k : keys) {
                if (k == null || k.isBlank() || k.contains(MessageConst.KEY_SEPARATOR)) {
                    throw new IllegalArgumentException("a key must be non-blank and contain no space, got: '" + k + "'");
                }
            }
            for (Map.Entry<String, String> p : properties.entrySet()) {
                String name = p.getKey();
                if (name == null || name.isBlank()) {
                    throw new IllegalArgumentException("property names must not be blank");
                }
                if (MessageConst.STRING_HASH_SET.contains(name)) {
                    throw new IllegalArgumentException("property " + name + " is reserved by RocketMQ");
                }
                if (name.startsWith("CONCORD_")) {
                    throw new IllegalArgumentException("property " + name + " is reserved by Concord (CONCORD_*)");
                }
                if (p.getValue() == null || p.getValue().isBlank()) {
                    throw new IllegalArgumentException("property " + name + " must have a non-blank value");
                }
                if (hasSeparator(name) || hasSeparator(p.getValue())) {
                    throw new IllegalArgumentException("property " + name
                            + " contains \\u0001 or \\u0002, which RocketMQ uses to separate properties");
                }
            }
            return new TransactionalMessage(this);
        }

        private static boolean hasSeparator(String s) {
            return s.indexOf(MessageDecoder.NAME_VALUE_SEPARATOR) >= 0 || s.indexOf(MessageDecoder.PROPERTY_SEPARATOR) >= 0;
        }
    }
}
