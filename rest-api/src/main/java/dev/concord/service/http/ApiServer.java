package dev.concord.service.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.concord.service.config.ServiceConfig;
import dev.concord.service.core.HealthService;
import dev.concord.service.core.RecoveryAdmin;
import dev.concord.service.core.ServiceMetrics;
import dev.concord.service.core.TransactionService;
import jakarta.ws.rs.ext.ContextResolver;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.glassfish.jersey.internal.inject.AbstractBinder;
import org.glassfish.jersey.jackson.JacksonFeature;
import org.glassfish.jersey.jetty.JettyHttpContainer;
import org.glassfish.jersey.server.ContainerFactory;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;

/**
 * The HTTP side: Jetty 12 with Jersey and Jackson, the API's resources, filters and error mappers. Plain HTTP, or
 * TLS when a key store is configured. Stopping is graceful: the connector stops accepting, requests in progress
 * get up to the grace period to finish, new ones are refused.
 */
public final class ApiServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final boolean tls;

    private ApiServer(Server server, ServerConnector connector, boolean tls) {
        this.server = server;
        this.connector = connector;
        this.tls = tls;
    }

    /** The services the endpoints call. */
    public record Services(TransactionService transactions, RecoveryAdmin admin, HealthService health,
                           ServiceMetrics metrics) {
    }

    /** The resource classes of the API, for checks that every routed path is documented. */
    public static List<Class<?>> resourceClasses() {
        return List.of(TransactionsResource.class, AdminResource.class, HealthResource.class, MetricsResource.class,
                OpenApiResource.class);
    }

    /** The Jersey application: resources, authentication, body limit, JSON, error mappers. */
    public static ResourceConfig application(ServiceConfig config, Services services) {
        JsonBodies json = new JsonBodies(config.http().maxBodyBytes());
        ResourceConfig rc = new ResourceConfig();
        rc.register(new AbstractBinder() {
            @Override
            protected void configure() {
                bind(services.transactions()).to(TransactionService.class);
                bind(services.admin()).to(RecoveryAdmin.class);
                bind(services.health()).to(HealthService.class);
                bind(services.metrics()).to(ServiceMetrics.class);
                bind(json).to(JsonBodies.class);
            }
        });
        for (Class<?> resource : resourceClasses()) {
            rc.register(resource);
        }
        rc.register(new BodyLimitFilter(config.http().maxBodyBytes()));
        rc.register(HeaderCheckFilter.class);
        rc.register(ProblemBodyFilter.class);
        rc.register(new RequestBodyDrainFilter(config.http().maxBodyBytes()));
        rc.register(new AuthorizationFeature(new TokenAuthenticator(config.tokens())));
        rc.register(JacksonFeature.withoutExceptionMappers());
        rc.register(new ObjectMapperResolver(json.writer()));
        rc.register(ServiceFailureMapper.class);
        rc.register(WebApplicationExceptionMapper.class);
        rc.register(UnexpectedErrorMapper.class);
        rc.property(ServerProperties.WADL_FEATURE_DISABLE, true);
        // Every feature is registered above. Looking up META-INF/services would also load fastjson's Jersey
        // feature (fastjson comes with rocketmq-client), which is built for javax.ws.rs and fails on Jakarta REST.
        rc.property(ServerProperties.FEATURE_AUTO_DISCOVERY_DISABLE, true);
        rc.property(ServerProperties.METAINF_SERVICES_LOOKUP_DISABLE, true);
        return rc;
    }

    /**
     * Builds and starts the server.
     *
     * @param grace how long a stop waits for requests in progress
     */
    public static ApiServer start(ServiceConfig config, Services services, Duration grace) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(200, 4);
        threads.setName("concord-http");
        Server server = new Server(threads);
        server.setStopTimeout(grace.toMillis());
        server.setStopAtShutdown(false);
        server.setErrorHandler(new ProblemErrorHandler());

        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        // Odd characters in a path (bad UTF-8, encoded separators or dots, control characters) reach Jersey, which
        // answers 404 or 400 with a problem document. Refused inside Jetty, they would end the connection before
        // the body was read, and a client still sending its body sees the connection reset, not the answer. No
        // file is served from a path here, so ambiguous segments cannot reach anything they should not.
        http.setUriCompliance(UriCompliance.DEFAULT.with("concord",
                UriCompliance.Violation.BAD_UTF8_ENCODING, UriCompliance.Violation.TRUNCATED_UTF8_ENCODING,
                UriCompliance.Violation.SUSPICIOUS_PATH_CHARACTERS, UriCompliance.Violation.ILLEGAL_PATH_CHARACTERS,
                UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR, UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING,
                UriCompliance.Violation.AMBIGUOUS_PATH_SEGMENT, UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT,
                UriCompliance.Violation.AMBIGUOUS_PATH_PARAMETER));
        ServiceConfig.Http settings = config.http();
        ServerConnector connector;
        if (settings.tls() != null) {
            ServiceConfig.Tls t = settings.tls();
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(t.keystore().toAbsolutePath().toString());
            ssl.setKeyStorePassword(t.keystorePassword());
            ssl.setKeyStoreType(t.keystoreType());
            http.addCustomizer(new SecureRequestCustomizer());
            connector = new ServerConnector(server, ssl, new HttpConnectionFactory(http));
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(http));
        }
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        connector.setIdleTimeout(60_000);
        server.addConnector(connector);

        JettyHttpContainer container = ContainerFactory.createContainer(JettyHttpContainer.class,
                application(config, services));
        GracefulHandler graceful = new GracefulHandler();
        graceful.setHandler(container);
        server.setHandler(graceful);
        server.start();
        return new ApiServer(server, connector, settings.tls() != null);
    }

    /** The port the server listens on (the chosen one when the configuration said 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** True when the server speaks TLS. */
    public boolean isTls() {
        return tls;
    }

    /** Stops accepting, lets requests in progress finish within the grace period, and stops. */
    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** Hands the response mapper to Jersey's Jackson provider. */
    private static final class ObjectMapperResolver implements ContextResolver<ObjectMapper> {
        private final ObjectMapper mapper;

        ObjectMapperResolver(ObjectMapper mapper) {
            this.mapper = mapper;
        }

        @Override
        public ObjectMapper getContext(Class<?> type) {
            return mapper;
        }
    }
}
