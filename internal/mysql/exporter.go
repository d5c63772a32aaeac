// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

// ExporterPrivileges are the global privileges of the Prometheus mysqld
// exporter's account, least privilege for its default collectors: PROCESS
// (processlist, InnoDB status) and the right to read replication status
// (MariaDB 10.5+ splits REPLICATION CLIENT into BINLOG MONITOR and SLAVE
// MONITOR, and SHOW SLAVE STATUS needs the latter); plus SELECT on
// performance_schema, nothing else.
func (d Dialect) ExporterPrivileges() string {
	if d.Flavor == MariaDB {
		return "PROCESS, BINLOG MONITOR, SLAVE MONITOR"
	}
	return "PROCESS, REPLICATION CLIENT"
}

// ExporterAccount creates or updates the exporter's account a with
// password, idempotently. Run it with ScriptOptions{NoBinlog: true}: each
// server gets its own local account, and a replica gains no transaction of
// its own. The password is a secret statement's (scrubbed from errors).
func (d Dialect) ExporterAccount(a Account, password string) []Stmt {
	pw := quoteString(password)
	return []Stmt{
		newSecretStmt("CREATE USER IF NOT EXISTS "+a.SQL()+" IDENTIFIED BY "+pw+" WITH MAX_USER_CONNECTIONS 3", password),
		newSecretStmt("ALTER USER "+a.SQL()+" IDENTIFIED BY "+pw+" WITH MAX_USER_CONNECTIONS 3", password),
		newStmt("GRANT " + d.ExporterPrivileges() + " ON *.* TO " + a.SQL()),
		newStmt("GRANT SELECT ON performance_schema.* TO " + a.SQL()),
	}
}

// DropExporterAccount removes the account (NoBinlog, as it was made).
func (d Dialect) DropExporterAccount(a Account) []Stmt {
	return []Stmt{newStmt("DROP USER IF EXISTS " + a.SQL())}
}
