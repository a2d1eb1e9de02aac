package dev.concord.xa.jdbc;

import com.mysql.cj.jdbc.MysqlXADataSource;
import java.sql.SQLException;
import javax.sql.XAConnection;

/**
 * mysql-connector-j's XADataSource as {@link EnlistingDataSource}'s pool creates it: its connections keep
 * auto-commit switches on the client while they serve a branch ({@link BranchAutoCommit}). Public only because the
 * pool instantiates it by class.
 */
public final class MysqlPoolXADataSource extends MysqlXADataSource {
    private static final long serialVersionUID = 1L;

    @Override
    public XAConnection getXAConnection() throws SQLException {
        return BranchAutoCommit.wrap(super.getXAConnection());
    }

    @Override
    public XAConnection getXAConnection(String user, String password) throws SQLException {
        return BranchAutoCommit.wrap(super.getXAConnection(user, password));
    }
}
