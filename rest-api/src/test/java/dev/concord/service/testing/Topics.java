package dev.concord.service.testing;

import dev.concord.xa.rocketmq.Deliveries;
import org.apache.rocketmq.client.exception.MQClientException;

/** Consumers of topics that the embedded broker creates on first use. */
public final class Topics {
    private Topics() {
    }

    /**
     * A consumer of every queue of {@code topic} from offset 0. The first send created the topic; its route
     * reaches the name server shortly after, so the first attempts may not find it yet.
     */
    public static Deliveries consume(String namesrv, String topic) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return new Deliveries(namesrv, topic);
            } catch (MQClientException e) {
                if (attempt == 20) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }
}
