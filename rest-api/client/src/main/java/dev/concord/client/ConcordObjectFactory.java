package dev.concord.client;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.time.Duration;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.naming.Context;
import javax.naming.Name;
import javax.naming.NamingException;
import javax.naming.RefAddr;
import javax.naming.Reference;
import javax.naming.spi.ObjectFactory;
import javax.sql.DataSource;
import javax.sql.XADataSource;

/**
 * JNDI {@link ObjectFactory} for application servers: binds the remote UserTransaction, enlisting data sources and
 * message senders by configuration. The {@link Reference}'s class name says what to build, its string addresses
 * configure it:
 *
 * <ul>
 *   <li>{@code jakarta.transaction.UserTransaction} or {@link RemoteUserTransaction}: {@value #URL} (the service,
 *       required), {@value #TOKEN} (required), {@value #TIMEOUT_SECONDS} (default for transactions, 0 for the
 *       service's), {@value #REQUEST_TIMEOUT_SECONDS} (how long a call waits, 60 by default);</li>
 *   <li>{@code javax.sql.DataSource} or {@link RemoteEnlistingDataSource}: {@value #RESOURCE} (the service's name
 *       for the database, required), {@value #XA_DATA_SOURCE_CLASS} (the application's XADataSource class,
 *       required), and {@code xa.<property>} for each bean property of that class ({@code xa.url},
 *       {@code xa.user}, {@code xa.password}, ...);</li>
 *   <li>{@link TransactionalMessageSender}: {@value #RESOURCE} (the service's RocketMQ resource).</li>
 * </ul>
 *
 * <p>UserTransactions with the same service, token and request timeout share one HTTP client. There is no
 * TransactionSynchronizationRegistry in remote mode.
 */
public final class ConcordObjectFactory implements ObjectFactory {
    public static final String URL = "url";
    public static final String TOKEN = "token";
    public static final String TIMEOUT_SECONDS = "timeoutSeconds";
    public static final String REQUEST_TIMEOUT_SECONDS = "requestTimeoutSeconds";
    public static final String RESOURCE = "resource";
    public static final String XA_DATA_SOURCE_CLASS = "xaDataSourceClass";
    /** Prefix of the addresses that set bean properties of the XADataSource. */
    public static final String XA_PROPERTY_PREFIX = "xa.";

    private static final Map<String, ConcordServiceClient> CLIENTS = new ConcurrentHashMap<>();

    @Override
    public Object getObjectInstance(Object obj, Name name, Context nameCtx, Hashtable<?, ?> environment)
            throws NamingException {
        if (!(obj instanceof Reference ref)) {
            return null;
        }
        String type = ref.getClassName();
        if (type.equals("jakarta.transaction.UserTransaction") || type.equals(RemoteUserTransaction.class.getName())) {
            return userTransaction(ref);
        }
        if (type.equals(DataSource.class.getName()) || type.equals(RemoteEnlistingDataSource.class.getName())) {
            return dataSource(ref);
        }
        if (type.equals(TransactionalMessageSender.class.getName())) {
            return new TransactionalMessageSender(required(ref, RESOURCE));
        }
        return null;
    }

    private static RemoteUserTransaction userTransaction(Reference ref) throws NamingException {
        String url = required(ref, URL);
        String token = required(ref, TOKEN);
        int timeout = number(ref, TIMEOUT_SECONDS, 0);
        int requestTimeout = number(ref, REQUEST_TIMEOUT_SECONDS,
                (int) ConcordServiceClient.DEFAULT_REQUEST_TIMEOUT.toSeconds());
        if (requestTimeout < 1) {
            throw invalid(REQUEST_TIMEOUT_SECONDS, "must be at least 1");
        }
        ConcordServiceClient client;
        try {
            client = CLIENTS.computeIfAbsent(url + '\n' + token + '\n' + requestTimeout, k ->
                    new ConcordServiceClient(URI.create(url), token, Duration.ofSeconds(requestTimeout)));
            return new RemoteUserTransaction(client, timeout);
        } catch (IllegalArgumentException e) {
            throw invalid(URL + "/" + TIMEOUT_SECONDS, e.getMessage());
        }
    }

    private static RemoteEnlistingDataSource dataSource(Reference ref) throws NamingException {
        String resource = required(ref, RESOURCE);
        String className = required(ref, XA_DATA_SOURCE_CLASS);
        XADataSource xa;
        try {
            Class<?> c = Class.forName(className, true, classLoader());
            xa = (XADataSource) c.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw invalid(XA_DATA_SOURCE_CLASS, "cannot create an XADataSource of class " + className + ": " + e);
        }
        Enumeration<RefAddr> all = ref.getAll();
        while (all.hasMoreElements()) {
            RefAddr a = all.nextElement();
            if (a.getType().startsWith(XA_PROPERTY_PREFIX) && a.getContent() != null) {
                setProperty(xa, a.getType().substring(XA_PROPERTY_PREFIX.length()), a.getContent().toString());
            }
        }
        return new RemoteEnlistingDataSource(xa, resource);
    }

    private static void setProperty(Object bean, String property, String value) throws NamingException {
        if (property.isEmpty()) {
            throw invalid(XA_PROPERTY_PREFIX, "a property name must follow the prefix");
        }
        String setter = "set" + property.substring(0, 1).toUpperCase(Locale.ROOT) + property.substring(1);
        for (Method m : bean.getClass().getMethods()) {
            if (!m.getName().equals(setter) || m.getParameterCount() != 1) {
                continue;
            }
            Object arg = convert(m.getParameterTypes()[0], value);
            if (arg == null) {
                continue;
            }
            try {
                m.invoke(bean, arg);
                return;
            } catch (IllegalAccessException | InvocationTargetException e) {
                Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
                throw invalid(XA_PROPERTY_PREFIX + property, "setting it failed: " + cause);
            }
        }
        throw invalid(XA_PROPERTY_PREFIX + property, bean.getClass().getName() + " has no property '" + property
                + "' of a string, number or boolean type");
    }

    private static Object convert(Class<?> type, String value) throws NamingException {
        try {
            if (type == String.class) {
                return value;
            }
            if (type == int.class || type == Integer.class) {
                return Integer.valueOf(value.trim());
            }
            if (type == long.class || type == Long.class) {
                return Long.valueOf(value.trim());
            }
            if (type == boolean.class || type == Boolean.class) {
                return Boolean.valueOf(value.trim());
            }
        } catch (NumberFormatException e) {
            throw new NamingException("'" + value + "' is not a number");
        }
        return null;
    }

    private static ClassLoader classLoader() {
        ClassLoader l = Thread.currentThread().getContextClassLoader();
        return l != null ? l : ConcordObjectFactory.class.getClassLoader();
    }

    private static String required(Reference ref, String address) throws NamingException {
        RefAddr a = ref.get(address);
        if (a == null || a.getContent() == null || a.getContent().toString().isBlank()) {
            throw invalid(address, "is required for " + ref.getClassName());
        }
        return a.getContent().toString().trim();
    }

    private static int number(Reference ref, String address, int defaultValue) throws NamingException {
        RefAddr a = ref.get(address);
        if (a == null || a.getContent() == null || a.getContent().toString().isBlank()) {
            return defaultValue;
        }
        try {
            int v = Integer.parseInt(a.getContent().toString().trim());
            if (v < 0) {
                throw invalid(address, "must not be negative, got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw invalid(address, "is not a whole number of seconds: '" + a.getContent() + "'");
        }
    }

    private static NamingException invalid(String address, String problem) {
        return new NamingException("Concord JNDI reference: " + address + " " + problem);
    }
}
