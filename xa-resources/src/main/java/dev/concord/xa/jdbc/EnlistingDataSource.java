package dev.concord.xa.jdbc;

import dev.concord.coordinator.jta.ConcordTransactionManager;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.AgroalDataSourceListener;
import io.agroal.api.configuration.AgroalConnectionPoolConfiguration.ConnectionValidator;
import io.agroal.api.configuration.supplier.AgroalConnectionFactoryConfigurationSupplier;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import java.io.PrintWriter;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.Locale;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A pooled {@link DataSource} of one {@link JdbcXaResource} for applications that embed Concord's JTA transaction
 * manager: inside a transaction of the given {@link ConcordTransactionManager}, {@link #getConnection()} returns a
 * connection whose XA branch is already started and enlisted.
 *
 * <ul>
 *   <li>One physical connection per transaction and data source: asking again in the same transaction (the same
 *       thread, or another one the transaction was resumed on) gives a new handle on the same connection, and
 *       closing a handle does not end the branch.</li>
 *   <li>At commit the engine ends the branch (TMSUCCESS) before prepare; the connection goes back to the pool in
 *       the transaction's {@code afterCompletion}, after phase 2 of its branch, with its handles closed. It is
 *       never handed to anybody while it is inside a branch. A connection whose XA calls failed, or whose
 *       transaction ended in an unknown state, is closed rather than pooled.</li>
 *   <li>Outside a transaction it is an ordinary pooled connection in auto-commit mode. Such a connection cannot
 *       be used inside a transaction begun later (no deferred enlistment).</li>
 *   <li>After the transaction of the calling thread timed out, {@code getConnection()} fails until the thread ends
 *       the transaction: an auto-commit connection would keep what the rollback took away.</li>
 *   <li>The pool holds {@link JdbcResourceConfig#minPoolSize()} to {@link JdbcResourceConfig#maxPoolSize()}
 *       connections; when all are in use a caller waits up to {@link JdbcResourceConfig#acquireTimeout()} and then
 *       gets an {@link SQLTransientConnectionException} saying the pool is exhausted. A connection idle longer than
 *       {@link JdbcResourceConfig#validateAfterIdle()} is checked with {@code isValid} before it is handed out.</li>
 * </ul>
 *
 * <p><b>Why Agroal.</b> The pool is Agroal ({@code io.agroal:agroal-pool}, Apache 2.0, two small jars without
 * further dependencies, the pool of Quarkus and WildFly). It pools {@link javax.sql.XAConnection}s itself and has a
 * transaction-manager neutral integration point ({@code TransactionIntegration}), so this class only supplies the
 * enlistment (about a hundred lines in {@link PoolTransactionIntegration}) and gets what a home-made pool would
 * have to rebuild and prove: connection handles that refuse {@code commit()} and {@code setAutoCommit(true)} inside
 * a branch and close their statements, validation, bounded waiting, and resetting auto-commit on return.
 *
 * <p>{@link #open} registers the resource in the engine's {@link dev.concord.coordinator.ResourceRegistry}, since
 * phase-2 retries and recovery reach the database by name through fresh connections of the resource, never through
 * the pool.
 */
public final class EnlistingDataSource implements DataSource, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EnlistingDataSource.class.getName());

    private final JdbcXaResource resource;
    private final AgroalDataSource pool;

    private EnlistingDataSource(JdbcXaResource resource, AgroalDataSource pool) {
        this.resource = resource;
        this.pool = pool;
    }

    /**
     * Registers the resource with the transaction manager's engine (if it is not registered yet) and starts a pool
     * of its connections.
     *
     * @throws IllegalArgumentException when another resource of the same name is registered
     * @throws SQLException             when the pool cannot be started
     */
    public static EnlistingDataSource open(JdbcXaResource resource, ConcordTransactionManager tm) throws SQLException {
        tm.coordinator().registry().register(resource);
        JdbcResourceConfig c = resource.config();
        PoolTransactionIntegration integration = new PoolTransactionIntegration(tm, c.name(), resource.supportsJoin());
        AgroalDataSourceConfigurationSupplier config = new AgroalDataSourceConfigurationSupplier()
                .metricsEnabled(false)
                .connectionPoolConfiguration(pool -> pool
                        .minSize(c.minPoolSize())
                        .initialSize(c.minPoolSize())
                        .maxSize(c.maxPoolSize())
                        .acquisitionTimeout(c.acquireTimeout())
                        .idleValidationTimeout(c.validateAfterIdle())
                        .connectionValidator(ConnectionValidator.defaultValidatorWithTimeout(
                                XaDataSources.seconds(c.connectTimeout())))
                        .transactionIntegration(integration)
                        .connectionFactoryConfiguration(factory -> connectionFactory(factory, c)));
        return new EnlistingDataSource(resource, AgroalDataSource.from(config, new LogListener(c.name())));
    }

    private static AgroalConnectionFactoryConfigurationSupplier connectionFactory(
            AgroalConnectionFactoryConfigurationSupplier factory, JdbcResourceConfig c) {
        // mysql-connector-j would send two SET autocommit statements per transaction (see BranchAutoCommit).
        factory.connectionProviderClass(c.type() == JdbcResourceConfig.Type.MYSQL ? MysqlPoolXADataSource.class
                        : XaDataSources.dataSourceClass(c))
                .autoCommit(true)
                .loginTimeout(c.connectTimeout());
        if (c.url() != null) {
            factory.jdbcUrl(c.url());
        }
        if (c.user() != null) {
            factory.principal(new NamePrincipal(c.user()));
        }
        if (c.password() != null) {
            factory.credential(new SimplePassword(c.password()));
        }
        XaDataSources.driverProperties(c).forEach(factory::jdbcProperty);
        return factory;
    }

    /** The resource whose connections this pool holds. */
    public JdbcXaResource resource() {
        return resource;
    }

    /**
     * A connection: enlisted in the calling thread's transaction if there is an active one, else an ordinary
     * auto-commit connection.
     *
     * @throws SQLTransientConnectionException when every pooled connection stayed in use for the acquire timeout
     * @throws SQLException                    when the transaction cannot take the connection (it timed out, is
     *                                         marked rollback-only or is completing) or the database cannot be
     *                                         reached
     */
    @Override
    public Connection getConnection() throws SQLException {
        try {
            return pool.getConnection();
        } catch (SQLException e) {
            String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
            if (message.contains("acquisition timeout")) {
                JdbcResourceConfig c = resource.config();
                throw new SQLTransientConnectionException("connection pool of resource '" + c.name()
                        + "' is exhausted: all " + c.maxPoolSize() + " connections (maxPoolSize) stayed in use for "
                        + c.acquireTimeout().toMillis() + " ms (acquireTimeout)", e);
            }
            throw e;
        }
    }

    /** Not supported: the pool's credentials are part of the resource's configuration. */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("resource '" + resource.name()
                + "' uses its configured credentials; call getConnection()");
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return pool.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        pool.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        throw new SQLFeatureNotSupportedException("the connect timeout of resource '" + resource.name()
                + "' is part of its configuration");
    }

    @Override
    public int getLoginTimeout() {
        return XaDataSources.seconds(resource.config().connectTimeout());
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("logs go through System.Logger");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("EnlistingDataSource of '" + resource.name() + "' is not a " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    /**
     * Closes every pooled connection. Connections still enlisted are closed too, which leaves their branches to
     * the engine's phase 2 and recovery (through fresh connections). The resource stays registered.
     */
    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return "EnlistingDataSource[" + resource.name() + "]";
    }

    /** Agroal's warnings in the project's log, without connection details. */
    private record LogListener(String resourceName) implements AgroalDataSourceListener {
        @Override
        public void onWarning(String message) {
            LOG.log(Level.WARNING, "CONCORD-3002 pool of {0}: {1}", resourceName, message);
        }

        @Override
        public void onWarning(Throwable throwable) {
            LOG.log(Level.WARNING, "CONCORD-3002 pool of {0}: {1}", resourceName, String.valueOf(throwable));
        }

        @Override
        public void onInfo(String message) {
            LOG.log(Level.DEBUG, "pool of {0}: {1}", resourceName, message);
        }
    }
}
