// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package mysql is the service layer of foobar_mysql_cluster: one primary
// and N GTID replicas on MariaDB (10.5+; the lab tests Debian 12's 10.11)
// or MySQL (8.0+; the lab tests Debian sid's 9.7).
//
// It imports nothing of Terraform and never dials: the models, SQL and
// status parsing are plain functions, and all work on hosts (Converge,
// Observe, Teardown, SeedReplica, ExecuteSwitchover) goes through the small
// Runner interface, which the SSH client satisfies.
//
// # One table of differences
//
// NewDialect(flavor, version) is the only place that looks at the flavor:
// binaries, paths, keywords (SLAVE/REPLICA, CHANGE MASTER/CHANGE REPLICATION
// SOURCE), SHOW ... STATUS column names, read-only variables, GTID variables
// and wait functions, dump options, limits, dynamic variables.
//
// # Talking to a server
//
// The provider runs the local client as the host's admin (socket
// authentication under sudo): ClientArgv, with every statement on stdin,
// built by Dialect.Script. Nothing a user wrote ever reaches argv. The
// script starts with a fixed session sql_mode without NO_BACKSLASH_ESCAPES,
// for which quoteString's literals are written; the literals stay one token
// even under NO_BACKSLASH_ESCAPES (quotes doubled, backslashes doubled), so a
// missing preamble could garble a value but never add a statement. Output is
// read in --batch format with column names (ParseBatch undoes the client's
// \t \n \0 \\ escaping) and always by column name.
//
// # Decisions
//
//   - Seeding dumps user databases only, never the system schemas (a MySQL 8
//     data dictionary or another server's root accounts must not land on a
//     replica): MariaDB mariadb-dump --single-transaction --gtid
//     --master-data=1 (the dump sets gtid_slave_pos itself), MySQL mysqldump
//     --single-transaction --source-data=2 --set-gtid-purged=ON (the short
//     global read lock makes GTID_PURGED match the snapshot). The load runs
//     with sql_log_bin = 0; accounts are recreated on the replica the same
//     way.
//   - The replication account gets REPLICATION SLAVE only. The provider
//     monitors as the host's admin, so no monitor grant is needed.
//   - Replicas are read-only: read_only on MariaDB (no super_read_only
//     there: the admin and READ_ONLY ADMIN holders can still write),
//     read_only and super_read_only on MySQL.
//   - Every member logs replicated changes, has relay log recovery and GTIDs
//     on, whatever its role, so a role change is dynamic (SET GLOBAL) and
//     needs no restart. skip_replica_start is not set: a restarted replica
//     resumes by itself.
//   - SET PERSIST is never used: mysqld-auto.cnf would override the managed
//     fragment silently.
//   - The fragment is /etc/mysql/mariadb.conf.d/60-foobar.cnf (after
//     Debian's 50-server.cnf) or /etc/mysql/mysql.conf.d/zz-foobar.cnf
//     (after mysqld.cnf, which binds 127.0.0.1; both servers read an
//     !includedir in name order, checked with my_print_defaults of 10.11
//     and 9.7).
//   - server_id is derived from the host (FNV-1a) unless given; a collision
//     is a plan-time error, never silently shifted.
//
// # Orchestration (Converge, Observe, Teardown)
//
// The provider hands the package one Runner per member (the pooled SSH
// clients) and the service model; these three functions do the work of
// Create/Update, Read and Delete:
//
//   - Converge prepares every member (installs mariadb-server or
//     mysql-server with apt where the server or its service unit is
//     missing, starts a stopped server, reads flavor and version), runs a
//     planned switchover when the primary changed (ExecuteSwitchover), writes
//     each fragment through internal/apply (the server's own check as the
//     validator; a restart only when a setting that is not dynamic changed,
//     replicas that already replicate first and one at a time, each caught up
//     again before the next, then the primary), creates databases and
//     accounts on the primary and reconciles privileges from SHOW GRANTS
//     (ParseGrants, PlanGrants: grant what is missing, then revoke what is
//     not configured), and makes each replica replicate: left alone when
//     SameSource (no CHANGE ... TO), START when a thread stopped, CHANGE when
//     the source, password or CA changed or the source is another member,
//     SeedReplica when it holds no user tables. Every join ends with a
//     bounded wait until the replica has applied the primary's GTID position
//     (the timeout error carries Last_IO_Error and Last_SQL_Error).
//   - Observe reads every member in parallel (two round trips each, one
//     result set per statement through QueryMulti, plus the fragment's
//     checksum through apply.Probe) and lists the differences from the
//     configuration as drift, worded for the plan.
//   - Teardown stops replication everywhere first, then on every member
//     drops the managed accounts outside the binary log, switches read-only
//     off and gives the fragment back (apply.RestoreOriginal, then a
//     restart). Databases are never dropped.
//
// Accounts on a seeded replica are copied from the primary (SHOW CREATE
// USER with its hash, SHOW GRANTS; MySQL prints hashes as hex), never
// created from the configured passwords: the replica gets exactly what the
// primary has, whether the passwords are write-only or not, and a
// write-only password the provider was not given again cannot diverge.
//
// A MySQL replica that holds no user data and has the server_uuid of
// another member (a cloned host or image) gets a new one (auto.cnf removed,
// restart) before it is seeded; with data, that is an error.
//
// # Known limits
//
//   - MariaDB has no --validate-config: ValidateConfigArgv runs
//     mariadbd --verbose --help, which catches unknown options and values
//     that do not parse, not paths, plugins or whether the server starts.
//   - MariaDB accepts unambiguous prefixes of option names (server-i is
//     server_id); ValidateSetting refuses prefixes of owned settings, but a
//     prefix of another option passes to the server as is.
//   - ReplicaStatus cannot tell whether the replication password changed;
//     callers track that.
//   - MySQL reports Seconds_Behind_Source 0 while the receiver cannot
//     connect: health is both threads running and no error, never lag alone.
//   - A replica that holds user tables and does not replicate from a member
//     of the cluster is refused, never seeded over: the provider never drops
//     data. That includes a replica that was removed (its replication reset)
//     and is added back later: drop its databases first. A member that was
//     in the previous state (a former primary, replication reset by hand) is
//     repointed by GTID instead.
//   - TLS with verify_server_cert = false: MySQL still verifies the chain
//     to the CA; MariaDB then verifies nothing (it only encrypts).
//   - Only database-level privileges (and global ones, revoked) are
//     managed; table, column and routine grants of a managed account are
//     left alone.
//   - The status counters an operator may watch (Com_change_master,
//     Com_change_replication_source) move during seeding: the MariaDB dump
//     carries its own CHANGE MASTER, and the provider issues one.
package mysql
