// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"path"
	"slices"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Dialect is everything that differs between server flavors and versions:
// binaries, paths, statement keywords, status field names, variables and
// limits. It is built in exactly one place, NewDialect, from (flavor,
// version); every other function in this package asks the Dialect instead of
// testing the flavor itself.
//
// The fields are read-only by convention. The zero Dialect is invalid.
type Dialect struct {
	Flavor  Flavor
	Version Version

	// localTLS are the client tools' options for the local socket
	// (localTLSOff on MariaDB).
	localTLS []string
	// Client is the command-line client run on the host as its admin
	// (socket authentication, SQL on stdin).
	Client string
	// DumpTool is the logical backup tool used to seed replicas.
	DumpTool string
	// Daemon is the server binary, used to validate configuration.
	Daemon string
	// Service is the systemd unit name on Debian.
	Service string
	// ConfDir is the directory of server option fragments read last by the
	// Debian configuration (!includedir), and SettingsPath the fragment this
	// provider owns in it.
	ConfDir      string
	SettingsPath string
	// Section is the option group the fragment writes to.
	Section string

	// Status names the columns of ShowReplicaStatus's output.
	Status StatusFields

	// ReadOnlyVars are the variables that make a replica refuse writes, in
	// the order they are switched on (and reversed to switch off).
	ReadOnlyVars []string
	// GTIDPositionVar holds the position a new primary must have applied
	// before it takes over: everything the old primary wrote to its binary
	// log (MariaDB gtid_binlog_pos) or executed (MySQL gtid_executed).
	GTIDPositionVar string
	// ReplicationPrivileges is all the replication account is granted.
	ReplicationPrivileges []string

	// MaxUserNameLen is the longest account user name accepted.
	MaxUserNameLen int
	// MaxSourcePasswordLen is the longest password CHANGE ... TO accepts
	// for the replication account.
	MaxSourcePasswordLen int
	// SystemSchemas are never dumped, granted on or created.
	SystemSchemas []string

	// statement vocabulary
	sessionSQLMode  string // set by BuildScript's preamble
	replicaWord     string // SLAVE | REPLICA
	changeSource    string // CHANGE MASTER TO | CHANGE REPLICATION SOURCE TO
	optPrefix       string // MASTER_ | SOURCE_
	gtidOption      string // MASTER_USE_GTID = slave_pos | SOURCE_AUTO_POSITION = 1
	publicKeyOption string // GET_SOURCE_PUBLIC_KEY | GET_MASTER_PUBLIC_KEY | ""
	resetBinlogs    string // RESET MASTER | RESET BINARY LOGS AND GTIDS
	gtidWaitFunc    string // MASTER_GTID_WAIT | WAIT_FOR_EXECUTED_GTID_SET
	gtidWaitOK      string // value the wait function returns on success
	adoptBinlogPos  string // MariaDB: make slave_pos cover the server's own writes
	// gtidPositionSetVar is where an empty replica's starting position goes
	// (gtid_slave_pos | gtid_purged).
	gtidPositionSetVar string

	// configuration
	validateFlag     string // --validate-config, or "" for the --help fallback
	dumpPositionOpts []string
	logReplicaUpd    string // log_slave_updates | log_replica_updates
	binlogFormat     bool   // render binlog_format = ROW
	defaultBinlog    string
	gtidSettings     []Setting
	multiBind        bool // bind_address accepts a comma-separated list
	dbPrivileges     []string
	dynamic          map[string]bool
}

// Minimum versions the provider supports. Older servers are out of vendor
// support and lack pieces this package relies on (MariaDB 10.5: the mariadbd
// and mariadb-dump names, REPLICA synonyms; MySQL 8.0: roles, caching_sha2).
var (
	MinMariaDB = V(10, 5, 0)
	MinMySQL   = V(8, 0, 0)
)

// NewDialect returns the dialect of flavor f at version v. It is the one
// table of flavor differences in the provider.
func NewDialect(f Flavor, v Version) (Dialect, error) {
	d := Dialect{Flavor: f, Version: v}
	switch f {
	case MariaDB:
		if v.Compare(MinMariaDB) < 0 {
			return Dialect{}, fmt.Errorf("MariaDB %s is not supported (need %s or later)", v, MinMariaDB)
		}
		d.Client = "mariadb"
		d.DumpTool = "mariadb-dump"
		d.localTLS = []string{localTLSOff}
		d.Daemon = "/usr/sbin/mariadbd"
		d.Service = "mariadb"
		d.ConfDir = "/etc/mysql/mariadb.conf.d"
		// Debian's files there are 50-client.cnf, 50-mariadb-clients.cnf,
		// 50-mysqld_safe.cnf, 50-server.cnf (which binds 127.0.0.1) and
		// 60-galera.cnf; MariaDB reads an !includedir in name order, so
		// 60-foobar.cnf comes after all of them and its values win.
		d.SettingsPath = path.Join(d.ConfDir, "60-foobar.cnf")
		d.Section = "mysqld"
		// MariaDB keeps the SLAVE/MASTER column names even in SHOW REPLICA
		// STATUS, and SLAVE keywords work in every supported version.
		d.Status = StatusFields{
			IORunning:       "Slave_IO_Running",
			SQLRunning:      "Slave_SQL_Running",
			SecondsBehind:   "Seconds_Behind_Master",
			SourceHost:      "Master_Host",
			SourcePort:      "Master_Port",
			SourceUser:      "Master_User",
			LastIOErrno:     "Last_IO_Errno",
			LastIOError:     "Last_IO_Error",
			LastSQLErrno:    "Last_SQL_Errno",
			LastSQLError:    "Last_SQL_Error",
			GTIDPosition:    "Gtid_IO_Pos",
			UsingGTID:       "Using_Gtid",
			SSLAllowed:      "Master_SSL_Allowed",
			SSLCAFile:       "Master_SSL_CA_File",
			SSLVerifyServer: "Master_SSL_Verify_Server_Cert",
		}
		// MariaDB has no super_read_only: read_only stops ordinary accounts,
		// while accounts with READ_ONLY ADMIN (root) can still write.
		d.ReadOnlyVars = []string{"read_only"}
		d.GTIDPositionVar = "gtid_binlog_pos"
		d.ReplicationPrivileges = []string{"REPLICATION SLAVE"}
		// The KB documents 80 characters; 10.11 accepts 128. Stay with the
		// documented limit.
		d.MaxUserNameLen = 80
		d.MaxSourcePasswordLen = 96 // ER_WRONG_STRING_LENGTH past 96 (10.11)
		d.SystemSchemas = []string{"information_schema", "mysql", "performance_schema", "sys"}

		// NO_AUTO_CREATE_USER: a GRANT to an account that does not exist
		// fails instead of creating it without a password.
		d.sessionSQLMode = "STRICT_ALL_TABLES,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
		d.replicaWord = "SLAVE"
		d.changeSource = "CHANGE MASTER TO"
		d.optPrefix = "MASTER_"
		d.gtidOption = "MASTER_USE_GTID = slave_pos"
		d.resetBinlogs = "RESET MASTER"
		d.gtidWaitFunc = "MASTER_GTID_WAIT"
		d.gtidWaitOK = "0" // -1 on timeout
		d.adoptBinlogPos = "SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos"
		d.gtidPositionSetVar = "gtid_slave_pos"

		// --gtid with --master-data=1 writes "CHANGE MASTER TO
		// MASTER_USE_GTID=slave_pos" at the top and "SET GLOBAL
		// gtid_slave_pos='...'" at the end of the dump, taken under a short
		// global read lock consistent with the --single-transaction snapshot.
		d.dumpPositionOpts = []string{"--gtid", "--master-data=1"}
		d.logReplicaUpd = "log_slave_updates"
		d.binlogFormat = true
		d.defaultBinlog = "mysql-bin"
		d.gtidSettings = []Setting{{"gtid_strict_mode", "ON"}}
		d.multiBind = v.AtLeast(10, 11, 0)
		d.dbPrivileges = append(commonDBPrivileges[:len(commonDBPrivileges):len(commonDBPrivileges)], "DELETE HISTORY")
		d.dynamic = mergeDynamic(commonDynamic, "gtid_strict_mode", "expire_logs_days", "log_warnings",
			"slave_parallel_threads", "slave_parallel_mode", "binlog_expire_logs_seconds")

	case MySQL:
		if v.Compare(MinMySQL) < 0 {
			return Dialect{}, fmt.Errorf("MySQL %s is not supported (need %s or later)", v, MinMySQL)
		}
		d.Client = "mysql"
		d.DumpTool = "mysqldump"
		d.Daemon = "/usr/sbin/mysqld"
		d.Service = "mysql"
		d.ConfDir = "/etc/mysql/mysql.conf.d"
		// Debian's mysql-server (sid, 9.7) ships mysql.conf.d/mysql.cnf and
		// mysql.conf.d/mysqld.cnf, and mysqld.cnf sets bind-address =
		// 127.0.0.1. MySQL reads an !includedir in name order, and
		// "60-foobar.cnf" would sort before "mysqld.cnf" and lose; so the
		// fragment is named to sort after it.
		d.SettingsPath = path.Join(d.ConfDir, "zz-foobar.cnf")
		d.Section = "mysqld"
		if v.AtLeast(8, 0, 22) {
			d.Status = StatusFields{
				IORunning:       "Replica_IO_Running",
				SQLRunning:      "Replica_SQL_Running",
				SecondsBehind:   "Seconds_Behind_Source",
				SourceHost:      "Source_Host",
				SourcePort:      "Source_Port",
				SourceUser:      "Source_User",
				SSLAllowed:      "Source_SSL_Allowed",
				SSLCAFile:       "Source_SSL_CA_File",
				SSLVerifyServer: "Source_SSL_Verify_Server_Cert",
			}
			d.replicaWord = "REPLICA"
		} else {
			d.Status = StatusFields{
				IORunning:       "Slave_IO_Running",
				SQLRunning:      "Slave_SQL_Running",
				SecondsBehind:   "Seconds_Behind_Master",
				SourceHost:      "Master_Host",
				SourcePort:      "Master_Port",
				SourceUser:      "Master_User",
				SSLAllowed:      "Master_SSL_Allowed",
				SSLCAFile:       "Master_SSL_CA_File",
				SSLVerifyServer: "Master_SSL_Verify_Server_Cert",
			}
			d.replicaWord = "SLAVE"
		}
		d.Status.LastIOErrno = "Last_IO_Errno"
		d.Status.LastIOError = "Last_IO_Error"
		d.Status.LastSQLErrno = "Last_SQL_Errno"
		d.Status.LastSQLError = "Last_SQL_Error"
		d.Status.GTIDPosition = "Retrieved_Gtid_Set"
		d.Status.ExecutedGTIDSet = "Executed_Gtid_Set"
		d.Status.UsingGTID = "Auto_Position"
		d.Status.Channel = "Channel_Name"

		// MySQL 8 never creates accounts from GRANT, and has no
		// NO_AUTO_CREATE_USER mode any more (setting it is an error).
		d.sessionSQLMode = "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"
		d.ReadOnlyVars = []string{"read_only", "super_read_only"}
		d.GTIDPositionVar = "gtid_executed"
		d.ReplicationPrivileges = []string{"REPLICATION SLAVE"}
		d.MaxUserNameLen = 32
		d.MaxSourcePasswordLen = 32
		d.SystemSchemas = []string{"information_schema", "mysql", "performance_schema", "sys"}

		if v.AtLeast(8, 0, 23) {
			d.changeSource = "CHANGE REPLICATION SOURCE TO"
			d.optPrefix = "SOURCE_"
			d.gtidOption = "SOURCE_AUTO_POSITION = 1"
			d.publicKeyOption = "GET_SOURCE_PUBLIC_KEY"
		} else {
			d.changeSource = "CHANGE MASTER TO"
			d.optPrefix = "MASTER_"
			d.gtidOption = "MASTER_AUTO_POSITION = 1"
			d.publicKeyOption = "GET_MASTER_PUBLIC_KEY"
		}
		// RESET MASTER is gone in 8.4; its replacement exists since 8.2.
		if v.AtLeast(8, 2, 0) {
			d.resetBinlogs = "RESET BINARY LOGS AND GTIDS"
		} else {
			d.resetBinlogs = "RESET MASTER"
		}
		d.gtidWaitFunc = "WAIT_FOR_EXECUTED_GTID_SET"
		d.gtidPositionSetVar = "gtid_purged"
		d.gtidWaitOK = "0" // 1 on timeout
		if v.AtLeast(8, 0, 16) {
			d.validateFlag = "--validate-config"
		}
		// --source-data=2 (--master-data=2 before 8.0.26) takes the short
		// FLUSH TABLES WITH READ LOCK that makes --set-gtid-purged's
		// GTID_PURGED consistent with the --single-transaction snapshot; its
		// own CHANGE statement is written commented out, since replicas use
		// auto-positioning.
		if v.AtLeast(8, 0, 26) {
			d.dumpPositionOpts = []string{"--source-data=2", "--set-gtid-purged=ON"}
			d.logReplicaUpd = "log_replica_updates"
		} else {
			d.dumpPositionOpts = []string{"--master-data=2", "--set-gtid-purged=ON"}
			d.logReplicaUpd = "log_slave_updates"
		}
		// binlog_format is deprecated since 8.0.34 (ROW is the default and
		// the future): writing it would only add a startup warning.
		d.binlogFormat = !v.AtLeast(8, 0, 34)
		// MySQL 8 logs to binlog.NNNNNN in the datadir by default; keeping
		// the name keeps a server's existing binary logs.
		d.defaultBinlog = "binlog"
		d.gtidSettings = []Setting{{"gtid_mode", "ON"}, {"enforce_gtid_consistency", "ON"}}
		d.multiBind = v.AtLeast(8, 0, 13)
		d.dbPrivileges = commonDBPrivileges
		d.dynamic = mergeDynamic(commonDynamic, "super_read_only", "binlog_expire_logs_seconds",
			"log_error_verbosity", "replica_parallel_workers")

	default:
		return Dialect{}, fmt.Errorf("unknown server flavor %v", f)
	}
	return d, nil
}

// Dialect returns the dialect of the identified server.
func (s Server) Dialect() (Dialect, error) { return NewDialect(s.Flavor, s.Version) }

// commonDBPrivileges are the database-level privileges both flavors grant
// with GRANT ... ON db.*. GRANT OPTION is deliberately absent: an
// application account that can hand out its privileges is not minimal.
var commonDBPrivileges = []string{
	"ALL PRIVILEGES", "ALTER", "ALTER ROUTINE", "CREATE", "CREATE ROUTINE",
	"CREATE TEMPORARY TABLES", "CREATE VIEW", "DELETE", "DROP", "EVENT",
	"EXECUTE", "INDEX", "INSERT", "LOCK TABLES", "REFERENCES", "SELECT",
	"SHOW VIEW", "TRIGGER", "UPDATE",
}

// commonDynamic are server variables both flavors change at run time with
// SET GLOBAL. Anything not listed (for either flavor) is treated as needing a
// restart: a conservative answer is a restart too many, never a setting that
// silently did not take.
var commonDynamic = []string{
	"read_only", "max_connections", "max_user_connections", "max_allowed_packet",
	"wait_timeout", "interactive_timeout", "net_read_timeout", "net_write_timeout",
	"lock_wait_timeout", "innodb_lock_wait_timeout", "long_query_time",
	"slow_query_log", "slow_query_log_file", "general_log", "general_log_file",
	"log_queries_not_using_indexes", "sql_mode", "innodb_buffer_pool_size",
	"innodb_flush_log_at_trx_commit", "innodb_io_capacity", "sync_binlog",
	"max_binlog_size", "table_open_cache", "table_definition_cache",
	"thread_cache_size", "tmp_table_size", "max_heap_table_size",
	"sort_buffer_size", "join_buffer_size", "event_scheduler", "max_connect_errors",
	"binlog_cache_size", "key_buffer_size",
}

func mergeDynamic(common []string, extra ...string) map[string]bool {
	m := make(map[string]bool, len(common)+len(extra))
	for _, n := range common {
		m[n] = true
	}
	for _, n := range extra {
		m[n] = true
	}
	return m
}

// StatusFields names the columns of SHOW SLAVE/REPLICA STATUS that the
// provider reads. An empty name means the flavor has no such column.
type StatusFields struct {
	IORunning, SQLRunning, SecondsBehind     string
	SourceHost, SourcePort, SourceUser       string
	LastIOErrno, LastIOError                 string
	LastSQLErrno, LastSQLError               string
	GTIDPosition, ExecutedGTIDSet, UsingGTID string
	SSLAllowed, SSLCAFile, SSLVerifyServer   string
	Channel                                  string
}

// ---------------------------------------------------------------- commands

// clientFlags are given to every client invocation. --batch prints
// tab-separated rows with a header and escapes tab, newline, NUL and
// backslash in values (ParseBatch undoes it); the --skip-* flags override
// anything a ~/.my.cnf on the host might set that would change the output
// format, keep going after an error, or reconnect mid-script and lose the
// session settings of BuildScript's preamble.
var clientFlags = []string{
	"--batch", "--column-names", "--skip-raw", "--skip-force", "--skip-reconnect",
	"--connect-timeout=10", "--default-character-set=" + SessionCharset,
	// The client takes one init-command, the last given: this one replaces
	// any a host option file sets ([mysql] init-command = "SET NAMES gbk"
	// would switch the MariaDB client's own statement splitting to gbk for
	// the whole run, which no later SET NAMES undoes: issue 13).
	"--init-command=" + pinCharset,
}

// ClientArgv runs the client as the host's admin through socket
// authentication (the transport escalates with sudo). SQL goes on stdin,
// built by BuildScript: never a password or any user value in argv.
func (d Dialect) ClientArgv() []string {
	return append(append([]string{d.Client}, clientFlags...), d.localTLS...)
}

// forceClientScript runs the client ("$@") with --force and turns what it
// hides into a failure: MySQL's client in batch mode with --force goes on
// past a failing statement and then exits 0. Its stdout passes through;
// its stderr is passed on, and an ERROR line in it makes the exit status 1.
const forceClientScript = `exec 3>&1; err=$("$@" 2>&1 1>&3); rc=$?; exec 3>&-; ` +
	`[ -z "$err" ] || printf '%s\n' "$err" >&2; [ "$rc" -eq 0 ] || exit "$rc"; ! printf '%s\n' "$err" | grep -q '^ERROR [0-9]'`

// clientArgvFor is ClientArgv for a script run with opts. With
// opts.ContinueOnError: --force instead of --skip-force, through
// forceClientScript, so that the exit status still says whether a statement
// failed.
func (d Dialect) clientArgvFor(opts ScriptOptions) []string {
	argv := d.ClientArgv()
	if !opts.ContinueOnError {
		return argv
	}
	for i, a := range argv {
		if a == "--skip-force" {
			argv[i] = "--force"
		}
	}
	return remote.Script(forceClientScript, argv...)
}

// localTLSOff keeps MariaDB's client tools off TLS on the local socket: from
// 11.4 they use TLS and verify the server's certificate by default, which a
// server with server_tls presents (a certificate for its addresses, not
// for the socket) and so the admin's socket login would fail. TLS adds
// nothing on a Unix socket. MySQL's tools never use TLS on the socket.
const localTLSOff = "--skip-ssl"

// probeClientScript picks mariadb where it exists (Debian trixie's MariaDB
// ships the mysql name only in mariadb-client-compat) and mysql otherwise.
const probeClientScript = `if command -v mariadb >/dev/null 2>&1; then exec mariadb "$@" ` + localTLSOff + `; fi; exec mysql "$@"`

// ProbeClientArgv is ClientArgv for a host whose flavor is not known yet:
// run ServerQuery with it, then use the Dialect of ParseServer's answer.
func ProbeClientArgv() []string {
	return remote.Script(probeClientScript, clientFlags...)
}

// LoadDumpArgv runs the client that loads a dump on a replica being seeded.
// sql_log_bin = 0 keeps the load out of the replica's own binary log, so the
// replica gains no GTIDs of its own (MariaDB's gtid_strict_mode would
// refuse the primary's later events otherwise); the larger packet limit lets
// long extended INSERTs through.
func (d Dialect) LoadDumpArgv() []string {
	// One init-command (the last one given wins): the charset pin and
	// sql_log_bin together.
	return append(d.ClientArgv(), "--max-allowed-packet=1073741824",
		"--init-command="+pinCharset+", SESSION sql_log_bin = 0")
}

// DumpArgv dumps databases from a primary, consistent and positioned for a
// GTID replica, with routines, triggers and events. Only the named user
// databases are dumped, never the system schemas (a MySQL 8 data dictionary
// or another server's root accounts must not be loaded onto a replica): the
// replication account and managed users are created on a seeded replica by
// the seeding steps with sql_log_bin = 0.
func (d Dialect) DumpArgv(databases []string) ([]string, error) {
	if len(databases) == 0 {
		return nil, fmt.Errorf("nothing to dump: no databases given")
	}
	for i, db := range databases {
		if err := d.ValidateDatabaseName(fmt.Sprintf("databases[%d]", i), db); err != nil {
			return nil, err
		}
	}
	// The dump is written in SessionCharset whatever a host option file
	// says ([mysqldump] default-character-set = gbk would lose every
	// character gbk cannot hold), and starts with its own SET NAMES.
	argv := append([]string{d.DumpTool, "--default-character-set=" + SessionCharset, "--single-transaction"}, d.localTLS...)
	argv = append(argv, d.dumpPositionOpts...)
	argv = append(argv, "--routines", "--triggers", "--events", "--hex-blob",
		"--max-allowed-packet=1073741824", "--databases")
	return append(argv, databases...), nil
}

// UserDatabasesQuery lists the databases DumpArgv should seed a replica with.
func (d Dialect) UserDatabasesQuery() Stmt {
	return newStmt("SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name NOT IN (" +
		quoteList(d.SystemSchemas) + ") ORDER BY schema_name")
}

// NonEmptyDatabasesQuery lists the user databases that hold at least one
// table or view: what seeding a replica would overwrite. (An empty
// database, such as the "test" database mariadb-install-db creates, is not
// user data.)
func (d Dialect) NonEmptyDatabasesQuery() Stmt {
	return newStmt("SELECT DISTINCT table_schema AS name FROM information_schema.tables WHERE table_schema NOT IN (" +
		quoteList(d.SystemSchemas) + ") ORDER BY table_schema")
}

// ValidateConfigArgv checks the server configuration with candidate
// fragments in place, exiting non-zero when it is invalid. defaultsFile, when
// set, replaces the default option files (it must be absolute).
//
// MySQL 8.0.16 and later: mysqld --validate-config. MariaDB (and older MySQL)
// have no such flag: the daemon's --verbose --help reads all option files and
// exits non-zero on an unknown option or a value that does not parse
// (measured on 10.11: exit 7 and 9). It does not check that paths exist,
// that plugins load or that the server would start; stdout (the help text) is
// discarded, stderr says what is wrong.
func (d Dialect) ValidateConfigArgv(defaultsFile string) ([]string, error) {
	args := []string{d.Daemon}
	if defaultsFile != "" {
		if !path.IsAbs(defaultsFile) || hasControl(defaultsFile) {
			return nil, fmt.Errorf("defaults file %q must be an absolute path", defaultsFile)
		}
		args = append(args, "--defaults-file="+defaultsFile)
	}
	if d.validateFlag != "" {
		return append(args, d.validateFlag), nil
	}
	args = append(args, "--verbose", "--help")
	return remote.Script(`exec "$@" >/dev/null`, args...), nil
}

// IsDynamic reports whether a server variable (canonical name) takes effect
// with SET GLOBAL, without a restart. The provider never uses SET PERSIST:
// MySQL's mysqld-auto.cnf is read after every option file and would quietly
// override the managed fragment.
func (d Dialect) IsDynamic(name string) bool { return d.dynamic[name] }

// IsSystemSchema reports whether name is one of the flavor's system schemas.
func (d Dialect) IsSystemSchema(name string) bool {
	return slices.Contains(d.SystemSchemas, name)
}
