package dev.concord.xa.jdbc;

import static dev.concord.xa.jdbc.JdbcFixture.count;
import static dev.concord.xa.jdbc.JdbcFixture.insert;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.concord.coordinator.GlobalTransaction;
import dev.concord.coordinator.TxState;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Wrong credentials, an unreachable database and an unknown resource name give clear errors at enlist or
 * registration, and leave no transaction half done: the other branch rolls back and nothing stays prepared.
 */
class BadResourceInputTest {
    private JdbcFixture fx;
    private String pgTable;

    @BeforeEach
    void setUp() throws Exception {
        fx = new JdbcFixture();
        pgTable = fx.table(fx.postgres);
    }

    @AfterEach
    void tearDown() throws Exception {
        assertTrue(fx.cleanUp().isEmpty(), "nothing of ours was left prepared");
    }

    @Test
    void wrongPasswordFailsAtEnlistWithAClearMessageWithoutThePasswordAndTheTransactionRollsBackCleanly()
            throws Exception {
        EnlistingDataSource good = fx.pool(fx.postgres);
        JdbcXaResource wrong = new JdbcXaResource(JdbcFixture.mariaDbConfig("maria-wrong-password")
                .password("not-the-password-x7").build());
        EnlistingDataSource bad = fx.closeLater(EnlistingDataSource.open(wrong, fx.tm));

        fx.tm.begin();
        GlobalTransaction tx = fx.tm.currentTransaction();
        try (Connection p = good.getConnection()) {
            insert(p, pgTable, 1, "before the bad enlist");
        }
        SQLException e = assertThrows(SQLException.class, bad::getConnection);
        String message = e.getMessage() + " " + (e.getCause() == null ? "" : e.getCause().getMessage());
        assertTrue(message.toLowerCase().contains("denied") || message.contains("maria-wrong-password"), message);
        assertFalse(message.contains("not-the-password-x7"), "the password never appears in errors: " + message);

        fx.tm.rollback();
        assertEquals(TxState.ROLLED_BACK, tx.state());
        assertEquals(0, count(fx.postgres, pgTable), "the good branch rolled back");
    }

    @Test
    void unreachableDatabaseFailsAtEnlistAndCommitOfTheRestStillWorks() throws Exception {
        EnlistingDataSource good = fx.pool(fx.postgres);
        JdbcXaResource unreachable = new JdbcXaResource(JdbcFixture.mariaDbConfig("maria-unreachable")
                .url("jdbc:mysql://127.0.0.1:9/concord").connectTimeout(Duration.ofSeconds(2))
                .acquireTimeout(Duration.ofSeconds(3)).build());
        EnlistingDataSource bad = fx.closeLater(EnlistingDataSource.open(unreachable, fx.tm));

        fx.tm.begin();
        try (Connection p = good.getConnection()) {
            insert(p, pgTable, 1, "kept");
        }
        assertThrows(SQLException.class, bad::getConnection);
        fx.tm.commit();
        assertEquals(1, count(fx.postgres, pgTable), "the application chose to commit what did enlist");
    }

    @Test
    void registeringAPreparedBranchOfAnUnknownResourceNameIsRefusedAndRollbackLeavesNothing() throws Exception {
        EnlistingDataSource good = fx.pool(fx.postgres);
        fx.tm.begin();
        GlobalTransaction tx = fx.tm.currentTransaction();
        try (Connection p = good.getConnection()) {
            insert(p, pgTable, 1, "x");
        }
        var xid = tx.reserveBranchXid();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tx.registerPreparedBranch("no-such-database", xid.branch()));
        assertTrue(e.getMessage().contains("no-such-database"), e.getMessage());
        fx.tm.rollback();
        assertEquals(0, count(fx.postgres, pgTable));
    }
}
