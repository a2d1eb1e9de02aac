package dev.concord.it.dbcrash;

import dev.concord.xa.rocketmq.OutcomeSource;
import dev.concord.xa.rocketmq.RocketMqResource;
import dev.concord.xa.rocketmq.RocketMqResourceConfig;
import dev.concord.xa.rocketmq.TransactionalMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The RocketMQ side of a crash run, handed from a test to {@link DbCrashChild} as system properties: the name
 * server, the producer group, the topic and the brokers' check horizon. With them every transaction of the child
 * also sends one message through the resource {@value #RESOURCE}; without them the child uses the databases only.
 */
public record CrashMessaging(String namesrvAddress, String producerGroup, String topic, Duration checkHorizon) {
    /** The name of the RocketMQ resource in the child's registry and commit decisions. */
    public static final String RESOURCE = "mq";
    private static final String PREFIX = "concord.it.mq.";

    /** The system properties ({@code name=value}) that give a child these settings. */
    public List<String> properties() {
        return List.of(PREFIX + "namesrv=" + namesrvAddress, PREFIX + "group=" + producerGroup,
                PREFIX + "topic=" + topic, PREFIX + "checkHorizonMillis=" + checkHorizon.toMillis());
    }

    /** The settings given to this process, if any. */
    static Optional<CrashMessaging> fromSystemProperties() {
        String namesrv = System.getProperty(PREFIX + "namesrv");
        if (namesrv == null) {
            return Optional.empty();
        }
        return Optional.of(new CrashMessaging(namesrv, System.getProperty(PREFIX + "group"),
                System.getProperty(PREFIX + "topic"),
                Duration.ofMillis(Long.parseLong(System.getProperty(PREFIX + "checkHorizonMillis")))));
    }

    /** A started resource: a new producer instance of the group, answering check-backs from {@code outcomes}. */
    RocketMqResource open(OutcomeSource outcomes) {
        return new RocketMqResource(RocketMqResourceConfig.builder().name(RESOURCE).namesrvAddress(namesrvAddress)
                .producerGroup(producerGroup).sendTimeout(Duration.ofSeconds(5)).checkHorizon(checkHorizon).build(),
                outcomes).start();
    }

    /** The message of transaction {@code i}: key {@code tx<i>}, body the gtrid text. */
    TransactionalMessage message(int i, String gtrid) {
        return TransactionalMessage.builder(topic).key("tx" + i).body(gtrid.getBytes(StandardCharsets.UTF_8)).build();
    }
}
