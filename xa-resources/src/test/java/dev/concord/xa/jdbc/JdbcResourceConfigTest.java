package dev.concord.xa.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Validation and rendering of {@link JdbcResourceConfig}; builds data sources but opens no connection. */
class JdbcResourceConfigTest {

    private static JdbcResourceConfig.Builder mysql() {
        return JdbcResourceConfig.builder().name("orders").type("mysql").url("jdbc:mysql://127.0.0.1:3306/concord")
                .user("concord").password("s3cret");
    }

    private static String refusal(UnaryOperator<JdbcResourceConfig.Builder> change) {
        return assertThrows(IllegalArgumentException.class, () -> change.apply(mysql()).build()).getMessage();
    }

    @Test
    void buildsWithDocumentedDefaults() {
        JdbcResourceConfig c = mysql().build();

        assertEquals("orders", c.name());
        assertEquals(JdbcResourceConfig.Type.MYSQL, c.type());
        assertEquals("com.mysql.cj.jdbc.MysqlXADataSource", c.dataSourceClassName());
        assertEquals(0, c.minPoolSize());
        assertEquals(10, c.maxPoolSize());
        assertEquals(Duration.ofSeconds(10), c.connectTimeout());
        assertEquals(Duration.ofSeconds(30), c.acquireTimeout());
        assertEquals(Duration.ofSeconds(30), c.validateAfterIdle());
        assertEquals(4, c.phase2IdleConnections());
        assertEquals(Duration.ofSeconds(60), c.phase2IdleTimeout());
        assertTrue(c.properties().isEmpty());
    }

    @Test
    void phaseTwoConnectionCacheIsConfigurableFromNoneToAThousand() {
        JdbcResourceConfig none = mysql().phase2IdleConnections(0).phase2IdleTimeout(Duration.ofMillis(250)).build();
        JdbcResourceConfig most = mysql().phase2IdleConnections(1000).build();

        assertEquals(0, none.phase2IdleConnections());
        assertEquals(Duration.ofMillis(250), none.phase2IdleTimeout());
        assertEquals(1000, most.phase2IdleConnections());
        assertTrue(none.toString().contains("phase2IdleConnections=0"), none.toString());
        assertTrue(none.toString().contains("phase2IdleTimeout=PT0.25S"), none.toString());
    }

    @Test
    void refusesPhaseTwoConnectionCacheSettingsThatCannotWork() {
        String negative = refusal(b -> b.phase2IdleConnections(-1));
        assertTrue(negative.contains("phase2IdleConnections must be between 0 and 1000, got -1"), negative);
        String tooMany = refusal(b -> b.phase2IdleConnections(1001));
        assertTrue(tooMany.contains("phase2IdleConnections") && tooMany.contains("1001"), tooMany);
        String zero = refusal(b -> b.phase2IdleTimeout(Duration.ZERO));
        assertTrue(zero.contains("phase2IdleTimeout must be positive"), zero);
        assertTrue(refusal(b -> b.phase2IdleTimeout(Duration.ofSeconds(-5))).contains("phase2IdleTimeout"));
        assertTrue(refusal(b -> b.phase2IdleTimeout(null)).contains("phase2IdleTimeout"));
    }

    @Test
    void typeIsReadFromItsConfigurationNameIgnoringCase() {
        assertEquals(JdbcResourceConfig.Type.POSTGRESQL, JdbcResourceConfig.Type.parse(" PostgreSQL "));
        assertEquals(JdbcResourceConfig.Type.GENERIC, JdbcResourceConfig.Type.parse("generic"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JdbcResourceConfig.Type.parse("oracle"))
                .getMessage().contains("mysql, postgresql or generic"));
    }

    @Test
    void refusesNamesThatCannotBeLogged() {
        assertTrue(refusal(b -> b.name(null)).contains("resource name"));
        assertTrue(refusal(b -> b.name("has space")).contains("resource name"));
        assertTrue(refusal(b -> b.name("x".repeat(JdbcResourceConfig.MAX_NAME_LENGTH + 1))).contains("resource name"));
    }

    @Test
    void refusesIncompleteConnectionSettings() {
        assertTrue(refusal(b -> b.type((JdbcResourceConfig.Type) null)).contains("type must be set"));
        assertTrue(refusal(b -> b.url(null)).contains("url must be set"));
        assertTrue(refusal(b -> b.url("mysql://127.0.0.1")).contains("jdbc:"));
        assertTrue(refusal(b -> b.type("generic")).contains("XADataSource class name"));
        assertTrue(refusal(b -> b.dataSourceClassName("org.postgresql.xa.PGXADataSource")).contains("use type generic"));
    }

    @Test
    void refusesPoolBoundsAndTimeoutsThatCannotWork() {
        assertTrue(refusal(b -> b.minPoolSize(-1)).contains("minPoolSize"));
        assertTrue(refusal(b -> b.maxPoolSize(0)).contains("maxPoolSize"));
        assertTrue(refusal(b -> b.minPoolSize(5).maxPoolSize(4)).contains("maxPoolSize"));
        assertTrue(refusal(b -> b.connectTimeout(Duration.ZERO)).contains("connectTimeout"));
        assertTrue(refusal(b -> b.acquireTimeout(Duration.ofSeconds(-1))).contains("acquireTimeout"));
        assertTrue(refusal(b -> b.validateAfterIdle(null)).contains("validateAfterIdle"));
    }

    @Test
    void refusesBeanPropertiesTheDataSourceDoesNotHave() {
        String unknown = refusal(b -> b.property("noSuchSetting", "1"));
        assertTrue(unknown.contains("noSuchSetting") && unknown.contains("MysqlXADataSource"), unknown);

        String wrongType = refusal(b -> b.property("socketTimeout", "soon"));
        assertTrue(wrongType.contains("socketTimeout") && wrongType.contains("int"), wrongType);

        String notBoolean = refusal(b -> b.property("useSSL", "yes"));
        assertTrue(notBoolean.contains("useSSL") && notBoolean.contains("boolean"), notBoolean);

        assertTrue(refusal(b -> b.property("password", "other")).contains("own settings"));
        assertTrue(refusal(b -> b.property("not a name", "x")).contains("bean property"));
    }

    @Test
    void refusesClassesThatAreNotXaDataSources() {
        String missing = refusal(b -> b.type("generic").dataSourceClassName("com.example.NoSuchXADataSource"));
        assertTrue(missing.contains("not on the class path"), missing);

        String notXa = refusal(b -> b.type("generic").dataSourceClassName("java.lang.String"));
        assertTrue(notXa.contains("not a concrete javax.sql.XADataSource"), notXa);
    }

    @Test
    void acceptsBeanPropertiesOfTheDataSourceInNameOrder() {
        JdbcResourceConfig c = mysql().property("useSSL", "false").property("socketTimeout", "5000").build();

        assertEquals(Map.of("socketTimeout", "5000", "useSSL", "false"), c.properties());
        assertEquals("socketTimeout", c.properties().keySet().iterator().next());
        assertThrows(UnsupportedOperationException.class, () -> c.properties().put("x", "y"));
    }

    @Test
    void passwordsNeverAppearInToString() {
        JdbcResourceConfig c = JdbcResourceConfig.builder().name("pg").type("postgresql")
                .url("jdbc:postgresql://127.0.0.1:5432/concord?user=concord&password=urlsecret&ssl=false")
                .user("concord").password("s3cret").property("sslpassword", "keysecret").build();

        String shown = c.toString();

        assertFalse(shown.contains("s3cret"), shown);
        assertFalse(shown.contains("urlsecret"), shown);
        assertFalse(shown.contains("keysecret"), shown);
        assertTrue(shown.contains("ssl=false") && shown.contains("user=concord"), shown);
        assertFalse(new JdbcXaResource(c).toString().contains("s3cret"));
    }

    @Test
    void secretValuesAreNotEchoedWhenAPropertyIsRefused() {
        String refused = assertThrows(IllegalArgumentException.class, () -> JdbcResourceConfig.builder().name("pg")
                .type("postgresql").url("jdbc:postgresql://127.0.0.1/concord").property("vaultSecret", "k3ysecret").build())
                .getMessage();

        assertTrue(refused.contains("vaultSecret"), refused);
        assertFalse(refused.contains("k3ysecret"), refused);
    }
}
