package dev.concord.xa.rocketmq;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One half message as the broker stored it at prepare: everything END_TRANSACTION needs to commit or roll it back
 * later, from any process (the broker validates the producer group, the queue offset in the half topic and the
 * commit-log offset; the broker name and address say where to send it; the topic is carried in the request).
 *
 * @param brokerName       the broker (master) that stored it
 * @param brokerAddress    that broker's address when the half message was sent ({@code host:port})
 * @param commitLogOffset  the half message's commit-log offset (decoded from the offset message id)
 * @param queueOffset      its offset in the half topic's queue (RocketMQ's "transaction state table offset")
 * @param msgId            the client message id (the unique key consumers see on every copy)
 * @param transactionId    RocketMQ's transaction id for it (empty when the broker gave none)
 * @param topic            the real topic
 */
record HalfMessage(String brokerName, String brokerAddress, long commitLogOffset, long queueOffset, String msgId,
                   String transactionId, String topic) {
    /** First byte of every encoding; a reader refuses other versions. */
    static final int VERSION = 1;
    /** Most half messages one branch may hold (the decision record must stay small). */
    static final int MAX_MESSAGES = 10_000;

    HalfMessage {
        Objects.requireNonNull(brokerName, "brokerName");
        Objects.requireNonNull(brokerAddress, "brokerAddress");
        Objects.requireNonNull(msgId, "msgId");
        transactionId = transactionId == null ? "" : transactionId;
        Objects.requireNonNull(topic, "topic");
    }

    /** Identity of the half message on its broker, for remembering which ones were acknowledged. */
    String key() {
        return brokerName + "@" + commitLogOffset;
    }

    /**
     * The recovery data of a branch: version 1, producer group, count, then per half message broker name, broker
     * address, commit-log offset, queue offset, msgId, transactionId and topic. Strings are modified UTF-8 with a
     * 2-byte length ({@link DataOutputStream#writeUTF}); numbers are big-endian.
     */
    static byte[] encode(String producerGroup, List<HalfMessage> halves) {
        if (halves.size() > MAX_MESSAGES) {
            throw new IllegalArgumentException("a branch holds at most " + MAX_MESSAGES + " messages, got " + halves.size());
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + 96 * halves.size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(producerGroup);
            out.writeInt(halves.size());
            for (HalfMessage h : halves) {
                out.writeUTF(h.brokerName);
                out.writeUTF(h.brokerAddress);
                out.writeLong(h.commitLogOffset);
                out.writeLong(h.queueOffset);
                out.writeUTF(h.msgId);
                out.writeUTF(h.transactionId);
                out.writeUTF(h.topic);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** What {@link #encode} wrote: the producer group and the half messages. */
    record Decoded(String producerGroup, List<HalfMessage> halves) {
    }

    /**
     * Reads recovery data.
     *
     * @throws IllegalArgumentException when the data is not a version-1 encoding
     */
    static Decoded decode(byte[] data) {
        if (data == null || data.length == 0) {
            throw new IllegalArgumentException("no RocketMQ recovery data");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new IllegalArgumentException("unknown RocketMQ recovery data version " + version);
            }
            String group = in.readUTF();
            int n = in.readInt();
            if (n < 0 || n > MAX_MESSAGES) {
                throw new IllegalArgumentException("corrupt RocketMQ recovery data: " + n + " messages");
            }
            List<HalfMessage> halves = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                halves.add(new HalfMessage(in.readUTF(), in.readUTF(), in.readLong(), in.readLong(), in.readUTF(),
                        in.readUTF(), in.readUTF()));
            }
            if (in.available() > 0) {
                throw new IllegalArgumentException("corrupt RocketMQ recovery data: " + in.available() + " trailing bytes");
            }
            return new Decoded(group, List.copyOf(halves));
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt RocketMQ recovery data: " + e, e);
        }
    }
}
