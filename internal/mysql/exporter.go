// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"time"
)

// ExporterPrivileges are the global privileges of the Prometheus mysqld
// exporter's account, least privilege for its default collectors: PROCESS
// (processlist, InnoDB status) and the right to read replication status
// (MariaDB 10.5+ splits REPLICATION CLIENT into BINLOG MONITOR and SLAVE
// MONITOR, and SHOW SLAVE STATUS needs the latter; MySQL 8.0.22+ and 9.x
// still want REPLICATION CLIENT for SHOW REPLICA STATUS: its
// REPLICATION_SLAVE_ADMIN is for CHANGE/START/STOP, which the exporter never
// runs); plus SELECT on performance_schema, nothing else.
func (d Dialect) ExporterPrivileges() string {
	if d.Flavor == MariaDB {
		return "PROCESS, BINLOG MONITOR, SLAVE MONITOR"
	}
	return "PROCESS, REPLICATION CLIENT"
}

// ExporterAccount creates or updates the exporter's account a with
// password, idempotently. Run it with ExporterScriptOptions: each server
// gets its own local account outside the binary log, and a replica gains no
// transaction of its own. On MySQL the statements are wrapped by
// LiftSuperReadOnly. The password is a secret statement's (scrubbed from
// errors).
func (d Dialect) ExporterAccount(a Account, password string) []Stmt {
	pw := quoteString(password)
	return d.LiftSuperReadOnly(
		newSecretStmt("CREATE USER IF NOT EXISTS "+a.SQL()+" IDENTIFIED BY "+pw+" WITH MAX_USER_CONNECTIONS 3", password),
		newSecretStmt("ALTER USER "+a.SQL()+" IDENTIFIED BY "+pw+" WITH MAX_USER_CONNECTIONS 3", password),
		newStmt("GRANT "+d.ExporterPrivileges()+" ON *.* TO "+a.SQL()),
		newStmt("GRANT SELECT ON performance_schema.* TO "+a.SQL()),
	)
}

// DropExporterAccount removes the account (ExporterScriptOptions, as it was
// made; on MySQL wrapped by LiftSuperReadOnly).
func (d Dialect) DropExporterAccount(a Account) []Stmt {
	return d.LiftSuperReadOnly(newStmt("DROP USER IF EXISTS " + a.SQL()))
}

// SuperReadOnlyVar is the session variable in which LiftSuperReadOnly keeps
// super_read_only as the script found it.
const SuperReadOnlyVar = "@foobar_super_read_only"

// exporterLockWait bounds how long SET GLOBAL super_read_only waits for the
// global read lock (a replica's applier commits in between).
const exporterLockWait = 30 * time.Second

// ExporterScriptOptions is the session of the exporter's account scripts:
// outside the binary log; on MySQL, where LiftSuperReadOnly wraps them, the
// client continues past a failing statement so that the last statement,
// which puts super_read_only back, always runs (the client's exit status
// still reports the failure), and lock waits are bounded.
func (d Dialect) ExporterScriptOptions() ScriptOptions {
	o := ScriptOptions{NoBinlog: true}
	if d.Flavor == MySQL {
		o.ContinueOnError = true
		o.LockWaitTimeout = exporterLockWait
	}
	return o
}

// LiftSuperReadOnly wraps statements that must run on a MySQL replica whose
// super_read_only is ON (foobar_mysql_cluster sets it on every replica, and
// it refuses CREATE USER even to root), as MySQL Shell's
// dba.configureInstance does, in the script's own session:
//
//	SET @foobar_super_read_only = @@GLOBAL.super_read_only
//	SET GLOBAL super_read_only = IF(@foobar_super_read_only = 1 AND @@SESSION.sql_log_bin = 0, 0, @@GLOBAL.super_read_only)
//	... stmts ...
//	SET GLOBAL super_read_only = IF(@foobar_super_read_only = 1, 1, @@GLOBAL.super_read_only)
//
// super_read_only is turned off only when it was ON and only when the
// session is outside the binary log (a replica gains no GTID of its own),
// and turned back on only when it was ON (a server whose super_read_only was
// OFF is left as it is, even if something else changed it meanwhile);
// read_only itself stays ON throughout, so only accounts with
// CONNECTION_ADMIN or SUPER can write in the window. The script must run
// with ScriptOptions.ContinueOnError: the last statement then runs even
// when one of stmts fails. MariaDB has no super_read_only (its read_only
// does not stop an admin with READ ONLY ADMIN): stmts are returned as they
// are.
func (d Dialect) LiftSuperReadOnly(stmts ...Stmt) []Stmt {
	if d.Flavor != MySQL {
		return stmts
	}
	out := []Stmt{
		newStmt("SET " + SuperReadOnlyVar + " = @@GLOBAL.super_read_only"),
		newStmt("SET GLOBAL super_read_only = IF(" + SuperReadOnlyVar + " = 1 AND @@SESSION.sql_log_bin = 0, 0, @@GLOBAL.super_read_only)"),
	}
	out = append(out, stmts...)
	return append(out, newStmt("SET GLOBAL super_read_only = IF("+SuperReadOnlyVar+" = 1, 1, @@GLOBAL.super_read_only)"))
}

// SuperReadOnlyLeftOff reports whether n has read_only ON and
// super_read_only OFF: on a foobar_mysql_cluster replica, the state a
// LiftSuperReadOnly script leaves only when its last statement failed too
// (for a message that says so). False on MariaDB and when the query fails.
func (n Node) SuperReadOnlyLeftOff(ctx context.Context) bool {
	if n.Dialect.Flavor != MySQL {
		return false
	}
	t, err := n.Query(ctx, newStmt("SELECT @@GLOBAL.read_only AS ro, @@GLOBAL.super_read_only AS sro"))
	if err != nil {
		return false
	}
	ro, _ := t.Get(0, "ro")
	sro, _ := t.Get(0, "sro")
	return ro == "1" && sro == "0"
}
