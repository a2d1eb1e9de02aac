package dev.concord.it.client;

import dev.concord.xa.rocketmq.EmbeddedRocketMq;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One broker and one service process for every test class of this package that asks for them (as a
 * {@link RemoteService} or {@link EmbeddedRocketMq} parameter): started at the first request, stopped when the
 * test run ends.
 */
final class SharedService implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedService.class);

    /** Holds both, closes the service before the broker. */
    private record Both(EmbeddedRocketMq broker, RemoteService service) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            try {
                service.close();
            } finally {
                broker.close();
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
        Class<?> t = p.getParameter().getType();
        return t == RemoteService.class || t == EmbeddedRocketMq.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
        Both both = c.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(Both.class, k -> {
            EmbeddedRocketMq broker = RemoteService.startBroker();
            try {
                return new Both(broker, RemoteService.start("client", broker, Map.of()));
            } catch (Exception e) {
                broker.close();
                throw new IllegalStateException("the service did not start", e);
            }
        }, Both.class);
        return p.getParameter().getType() == RemoteService.class ? both.service() : both.broker();
    }
}
