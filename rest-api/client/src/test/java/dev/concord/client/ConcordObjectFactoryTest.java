package dev.concord.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.net.URI;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.naming.NamingException;
import javax.naming.Reference;
import javax.naming.StringRefAddr;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import org.junit.jupiter.api.Test;

/** What an application server binds by configuration: references in, configured objects out, bad ones named. */
class ConcordObjectFactoryTest {
    private final ConcordObjectFactory factory = new ConcordObjectFactory();

    @Test
    void aUserTransactionReferenceGivesARemoteUserTransactionThatReferencesItselfTheSameWay() throws Exception {
        Reference ref = new Reference("jakarta.transaction.UserTransaction", ConcordObjectFactory.class.getName(),
                null);
        ref.add(new StringRefAddr("url", "http://127.0.0.1:8080"));
        ref.add(new StringRefAddr("token", "client-token-for-unit-tests"));
        ref.add(new StringRefAddr("timeoutSeconds", "30"));
        RemoteUserTransaction ut = assertInstanceOf(RemoteUserTransaction.class,
                factory.getObjectInstance(ref, null, null, null));
        assertEquals("http://127.0.0.1:8080", ut.client().baseUri());
        RemoteUserTransaction again = assertInstanceOf(RemoteUserTransaction.class,
                factory.getObjectInstance(ut.getReference(), null, null, null));
        assertSame(ut.client(), again.client(), "one HTTP client per service and token");
        assertEquals("30", ut.getReference().get("timeoutSeconds").getContent());
    }

    @Test
    void aDataSourceReferenceConfiguresTheApplicationsXaDataSource() throws Exception {
        Reference ref = new Reference("javax.sql.DataSource", ConcordObjectFactory.class.getName(), null);
        ref.add(new StringRefAddr("resource", "orders"));
        ref.add(new StringRefAddr("xaDataSourceClass", BeanXaDataSource.class.getName()));
        ref.add(new StringRefAddr("xa.url", "jdbc:test://db/orders"));
        ref.add(new StringRefAddr("xa.portNumber", "3307"));
        ref.add(new StringRefAddr("xa.pinned", "true"));
        RemoteEnlistingDataSource ds = assertInstanceOf(RemoteEnlistingDataSource.class,
                factory.getObjectInstance(ref, null, null, null));
        assertEquals("orders", ds.resource());
        BeanXaDataSource xa = ds.unwrap(BeanXaDataSource.class);
        assertEquals("jdbc:test://db/orders", xa.url);
        assertEquals(3307, xa.portNumber);
        assertTrue(xa.pinned);
    }

    @Test
    void aMessageSenderReferenceNamesItsResource() throws Exception {
        Reference ref = new Reference(TransactionalMessageSender.class.getName(),
                ConcordObjectFactory.class.getName(), null);
        ref.add(new StringRefAddr("resource", "events"));
        assertEquals("events", assertInstanceOf(TransactionalMessageSender.class,
                factory.getObjectInstance(ref, null, null, null)).resource());
    }

    @Test
    void badReferencesAreNamingExceptionsNamingTheAddress() throws Exception {
        Reference noToken = new Reference("jakarta.transaction.UserTransaction");
        noToken.add(new StringRefAddr("url", "http://127.0.0.1:8080"));
        assertTrue(assertThrows(NamingException.class, () -> factory.getObjectInstance(noToken, null, null, null))
                .getMessage().contains("token"));

        Reference badTimeout = new Reference("jakarta.transaction.UserTransaction");
        badTimeout.add(new StringRefAddr("url", "http://127.0.0.1:8080"));
        badTimeout.add(new StringRefAddr("token", "t-0123456789abcdef"));
        badTimeout.add(new StringRefAddr("timeoutSeconds", "soon"));
        assertTrue(assertThrows(NamingException.class, () -> factory.getObjectInstance(badTimeout, null, null, null))
                .getMessage().contains("timeoutSeconds"));

        Reference unknownProperty = new Reference("javax.sql.DataSource");
        unknownProperty.add(new StringRefAddr("resource", "orders"));
        unknownProperty.add(new StringRefAddr("xaDataSourceClass", BeanXaDataSource.class.getName()));
        unknownProperty.add(new StringRefAddr("xa.colour", "blue"));
        assertTrue(assertThrows(NamingException.class, () -> factory.getObjectInstance(unknownProperty, null, null,
                null)).getMessage().contains("xa.colour"));

        Reference notXa = new Reference("javax.sql.DataSource");
        notXa.add(new StringRefAddr("resource", "orders"));
        notXa.add(new StringRefAddr("xaDataSourceClass", String.class.getName()));
        assertTrue(assertThrows(NamingException.class, () -> factory.getObjectInstance(notXa, null, null, null))
                .getMessage().contains("xaDataSourceClass"));

        assertNull(factory.getObjectInstance(new Reference("java.util.List"), null, null, null),
                "another factory's type is not ours to build");
        assertNull(factory.getObjectInstance(URI.create("http://x"), null, null, null));
    }

    /** An XADataSource with bean properties of each supported type; it never connects. */
    public static final class BeanXaDataSource implements XADataSource {
        String url;
        int portNumber;
        boolean pinned;

        public void setUrl(String v) {
            url = v;
        }

        public void setPortNumber(int v) {
            portNumber = v;
        }

        public void setPinned(boolean v) {
            pinned = v;
        }

        @Override
        public XAConnection getXAConnection() {
            throw new UnsupportedOperationException("a bean for property binding only; never connected");
        }

        @Override
        public XAConnection getXAConnection(String user, String password) {
            throw new UnsupportedOperationException("a bean for property binding only; never connected");
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }
    }
}
