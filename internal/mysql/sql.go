// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Stmt is one SQL statement, without terminator, made by a builder of this
// package from validated and quoted parts. Callers cannot make one from a
// string: every statement that reaches a server went through a builder.
type Stmt struct {
	sql     string
	secret  bool
	secrets []string // the secret values, to scrub from error output
}

func newStmt(sql string) Stmt { return Stmt{sql: sql} }
func newSecretStmt(sql string, secrets ...string) Stmt {
	return Stmt{sql: sql, secret: true, secrets: secrets}
}

// SQL returns the statement text. It may contain a password (see Secret):
// it goes on the client's stdin, never into a log.
func (s Stmt) SQL() string { return s.sql }

// Secret reports whether the statement carries a password.
func (s Stmt) Secret() bool { return s.secret }

// String returns the statement for logs and errors, with statements that
// carry a password replaced by a placeholder.
func (s Stmt) String() string {
	if s.secret {
		verb, _, _ := strings.Cut(s.sql, " ")
		return verb + " ... (statement with a password, redacted)"
	}
	return s.sql
}

// ScriptOptions changes the session a script runs in.
type ScriptOptions struct {
	// NoBinlog keeps the script's changes out of the binary log (and so off
	// the replicas): for work done on a replica itself, such as recreating
	// accounts on a freshly seeded one.
	NoBinlog bool
	// LockWaitTimeout, when positive, bounds how long a statement waits for
	// a metadata or global read lock (SET GLOBAL read_only waits for
	// running transactions to commit).
	LockWaitTimeout time.Duration
	// ContinueOnError runs the client with --force: it goes on past a
	// failing statement (and still exits non-zero), so that a script's last
	// statements always run. Only for scripts whose every statement is
	// harmless after an earlier one failed (LiftSuperReadOnly's).
	ContinueOnError bool
}

// pinCharset is the first statement of every script: see SessionCharset.
const pinCharset = "SET NAMES " + SessionCharset

// sessionScript is the one function that renders what a client of this
// package reads on stdin: pinCharset first, then the given statements, each
// terminated. Nothing may run on a client before it (the fuzz tests lex
// every rendered script starting in each dangerous charset, and
// TestOnlySessionScriptsReachAClient checks that every stdin given to a
// command in this package comes from here).
func sessionScript(stmts ...string) []byte {
	var b bytes.Buffer
	b.WriteString(pinCharset + ";\n")
	for _, s := range stmts {
		b.WriteString(s)
		b.WriteString(";\n")
	}
	return b.Bytes()
}

// Script renders statements as the client's stdin (through sessionScript:
// SET NAMES utf8mb4 comes first). Then a fixed preamble: sql_mode without
// NO_BACKSLASH_ESCAPES (what quoteString's literals are written for,
// whatever the server's global sql_mode), plus the options. The client
// stops at the first failing statement (ClientArgv passes --skip-force), and
// every builder is idempotent, so a failed script can be run again.
func (d Dialect) Script(opts ScriptOptions, stmts ...Stmt) []byte {
	lines := []string{"SET SESSION sql_mode = " + quoteString(d.sessionSQLMode)}
	if opts.NoBinlog {
		lines = append(lines, "SET SESSION sql_log_bin = 0")
	}
	if opts.LockWaitTimeout > 0 {
		lines = append(lines, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", ceilSeconds(opts.LockWaitTimeout)))
	}
	for _, s := range stmts {
		lines = append(lines, s.sql)
	}
	return sessionScript(lines...)
}

func ceilSeconds(t time.Duration) int64 {
	s := int64((t + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// ------------------------------------------------------------ replication

// StartReplica, StopReplica, ResetReplicaAll and ShowReplicaStatus are
// START/STOP/RESET ... ALL/SHOW ... STATUS with SLAVE or REPLICA as the
// version understands. STOP on a server that is not replicating is a warning,
// not an error, in both flavors.
func (d Dialect) StartReplica() Stmt      { return newStmt("START " + d.replicaWord) }
func (d Dialect) StopReplica() Stmt       { return newStmt("STOP " + d.replicaWord) }
func (d Dialect) ResetReplicaAll() Stmt   { return newStmt("RESET " + d.replicaWord + " ALL") }
func (d Dialect) ShowReplicaStatus() Stmt { return newStmt("SHOW " + d.replicaWord + " STATUS") }

// ResetBinaryLogs empties a replica's own binary logs and GTID state before
// a dump is loaded into it (RESET MASTER; RESET BINARY LOGS AND GTIDS on
// MySQL 8.2+). Never run it on a primary.
func (d Dialect) ResetBinaryLogs() Stmt { return newStmt(d.resetBinlogs) }

// AdoptBinlogPosition is what a MariaDB server that was written to directly
// (an old primary) needs before it replicates with MASTER_USE_GTID =
// slave_pos: its own transactions are in gtid_binlog_pos but not in
// gtid_slave_pos, and it would ask its new source for them again. MySQL's
// auto-positioning sends gtid_executed, which has them; ok is false there.
func (d Dialect) AdoptBinlogPosition() (s Stmt, ok bool) {
	if d.adoptBinlogPos == "" {
		return Stmt{}, false
	}
	return newStmt(d.adoptBinlogPos), true
}

// SourceConfig is where a replica replicates from.
type SourceConfig struct {
	Host     string
	Port     int // 0 means 3306
	User     string
	Password string
	// TLS, when set, makes the replica connect with TLS and verify the
	// source's certificate (chain to CAFile, name matching Host).
	TLS *SourceTLS
}

func (c SourceConfig) port() int {
	if c.Port == 0 {
		return 3306
	}
	return c.Port
}

// SourceTLS is the replication connection's TLS.
type SourceTLS struct {
	// CAFile is the CA bundle on the replica host (absolute path): the
	// source's certificate must chain to it.
	CAFile string
	// CAPEM, when set, is the CA bundle itself: the provider writes it to
	// CAFile on every replica (through the apply engine). Nil when the file
	// is managed some other way.
	CAPEM []byte
	// VerifyServerCert also checks that the certificate names the source
	// host (MySQL: SOURCE_SSL_VERIFY_SERVER_CERT). MariaDB verifies the
	// chain only when this is set: without it, MariaDB encrypts but does
	// not authenticate the source.
	VerifyServerCert bool
}

// connectRetrySeconds is how long a replica waits before reconnecting to a
// source it lost (a restarted primary): the servers' default of 60 s would
// hold an apply's catch-up wait for a minute after every restart.
const connectRetrySeconds = 5

// ChangeSource points a replica at a source with GTID positioning:
//
//	MariaDB:          CHANGE MASTER TO MASTER_HOST = ..., MASTER_USE_GTID = slave_pos, MASTER_SSL = ...
//	MySQL >= 8.0.23:  CHANGE REPLICATION SOURCE TO SOURCE_HOST = ..., SOURCE_AUTO_POSITION = 1, SOURCE_SSL = ...
//	MySQL <  8.0.23:  CHANGE MASTER TO MASTER_HOST = ..., MASTER_AUTO_POSITION = 1, MASTER_SSL = ...
//
// The reconnect interval is 5 s (connectRetrySeconds). Every TLS option is
// written, on or off, so the result does not depend on
// what an earlier CHANGE left behind (MariaDB 11 changed the MASTER_SSL
// default). Without TLS, MySQL gets GET_SOURCE_PUBLIC_KEY = 1 so that a
// caching_sha2_password account can authenticate (RSA key exchange; the
// password never crosses the wire in clear, but the key is not verified:
// configure TLS where the network is not trusted). Replication must be
// stopped. The statement carries the password: run it through Script on
// stdin only.
func (d Dialect) ChangeSource(c SourceConfig) (Stmt, error) {
	if err := ValidateHostAddress("source.host", c.Host); err != nil {
		return Stmt{}, err
	}
	port := c.port()
	if err := ValidatePort("source.port", port); err != nil {
		return Stmt{}, err
	}
	if err := d.ValidateUserName("source.user", c.User); err != nil {
		return Stmt{}, err
	}
	if err := d.ValidateSourcePassword("source.password", c.Password); err != nil {
		return Stmt{}, err
	}
	p := d.optPrefix
	opts := []string{
		p + "HOST = " + quoteString(c.Host),
		p + "PORT = " + strconv.Itoa(port),
		p + "USER = " + quoteString(c.User),
		p + "PASSWORD = " + quoteString(c.Password),
		p + "CONNECT_RETRY = " + strconv.Itoa(connectRetrySeconds),
		d.gtidOption,
	}
	if c.TLS != nil {
		if !path.IsAbs(c.TLS.CAFile) || hasControl(c.TLS.CAFile) || path.Clean(c.TLS.CAFile) != c.TLS.CAFile {
			return Stmt{}, fieldErr("tls.ca_file", c.TLS.CAFile, "must be a clean absolute path on the replica host")
		}
		verify := "0"
		if c.TLS.VerifyServerCert {
			verify = "1"
		}
		opts = append(opts,
			p+"SSL = 1",
			p+"SSL_CA = "+quoteString(c.TLS.CAFile),
			p+"SSL_VERIFY_SERVER_CERT = "+verify)
	} else {
		opts = append(opts, p+"SSL = 0", p+"SSL_CA = ''", p+"SSL_VERIFY_SERVER_CERT = 0")
		if d.publicKeyOption != "" {
			opts = append(opts, d.publicKeyOption+" = 1")
		}
	}
	return newSecretStmt(d.changeSource+" "+strings.Join(opts, ", "), c.Password), nil
}

// SetReadOnly switches a server's read-only variables on (replica, demoted
// primary) or off (promoted primary). On MySQL, super_read_only also stops
// accounts with SUPER/CONNECTION_ADMIN; it is switched on after read_only and
// off before it, as the server requires.
func (d Dialect) SetReadOnly(on bool) []Stmt {
	vars := d.ReadOnlyVars
	val := "OFF"
	if on {
		val = "ON"
	} else {
		vars = reversed(vars)
	}
	out := make([]Stmt, len(vars))
	for i, v := range vars {
		out[i] = newStmt("SET GLOBAL " + v + " = " + val)
	}
	return out
}

func reversed(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[len(ss)-1-i] = s
	}
	return out
}

// GTIDPositionQuery reads the position a new primary must reach before a
// switchover, as one column named gtid_position (see ParseGTIDPosition).
func (d Dialect) GTIDPositionQuery() Stmt {
	return newStmt("SELECT @@GLOBAL." + d.GTIDPositionVar + " AS gtid_position")
}

var gtidSetRE = regexp.MustCompile(`^[0-9A-Za-z_:,\-\s]*$`)

// WaitForGTID blocks on a replica until it has applied pos, at most timeout
// (whole seconds, at least 1): MASTER_GTID_WAIT on MariaDB,
// WAIT_FOR_EXECUTED_GTID_SET on MySQL. The answer is one column named
// result; ParseGTIDWait tells success from timeout.
func (d Dialect) WaitForGTID(pos string, timeout time.Duration) (Stmt, error) {
	if !gtidSetRE.MatchString(pos) {
		return Stmt{}, fmt.Errorf("GTID position %q has characters a GTID set never has", pos)
	}
	return newStmt(fmt.Sprintf("SELECT %s(%s, %d) AS result", d.gtidWaitFunc, quoteString(pos), ceilSeconds(timeout))), nil
}

// SetGTIDPosition makes an empty replica (after ResetBinaryLogs) start
// replicating after pos: MariaDB gtid_slave_pos, MySQL gtid_purged. It is
// what a dump would have set, for a primary that has no user database to
// dump.
func (d Dialect) SetGTIDPosition(pos string) (Stmt, error) {
	if !gtidSetRE.MatchString(pos) {
		return Stmt{}, fmt.Errorf("GTID position %q has characters a GTID set never has", pos)
	}
	return newStmt("SET GLOBAL " + d.gtidPositionSetVar + " = " + quoteString(pos)), nil
}

// ParseGTIDPosition reads GTIDPositionQuery's answer.
func ParseGTIDPosition(out []byte) (string, error) {
	return parseSingle(out, "gtid_position")
}

// ParseGTIDWait reads WaitForGTID's answer: true when the position was
// reached, false on timeout.
func (d Dialect) ParseGTIDWait(out []byte) (bool, error) {
	v, err := parseSingle(out, "result")
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(v) {
	case d.gtidWaitOK:
		return true, nil
	case "-1", "1":
		return false, nil
	}
	return false, fmt.Errorf("unexpected %s result %q", d.gtidWaitFunc, v)
}

func parseSingle(out []byte, col string) (string, error) {
	t, err := ParseBatch(out)
	if err != nil {
		return "", err
	}
	if len(t.Rows) != 1 {
		return "", fmt.Errorf("expected 1 row with column %q, got %d rows", col, len(t.Rows))
	}
	v, ok := t.Get(0, col)
	if !ok {
		return "", fmt.Errorf("no column %q in %q", col, t.Columns)
	}
	return v, nil
}

// --------------------------------------------------------------- accounts

// UserOptions are the account attributes the provider manages.
type UserOptions struct {
	// RequireSSL refuses connections of the account without TLS.
	RequireSSL bool
}

func (o UserOptions) clause() string {
	if o.RequireSSL {
		return " REQUIRE SSL"
	}
	return " REQUIRE NONE"
}

func (d Dialect) validAccount(path string, a Account) error {
	if err := d.ValidateUserName(path+".name", a.User); err != nil {
		return err
	}
	return ValidateHostPattern(path+".host", a.Host)
}

// CreateUser creates an account unless it exists. An existing account keeps
// its password: follow with AlterUserPassword when the password changed.
func (d Dialect) CreateUser(a Account, password string, o UserOptions) (Stmt, error) {
	if err := d.validAccount("user", a); err != nil {
		return Stmt{}, err
	}
	if err := ValidatePassword("user.password", password); err != nil {
		return Stmt{}, err
	}
	return newSecretStmt("CREATE USER IF NOT EXISTS "+a.SQL()+" IDENTIFIED BY "+quoteString(password)+o.clause(), password), nil
}

// AlterUserTLS sets an account's TLS requirement only.
func (d Dialect) AlterUserTLS(a Account, o UserOptions) (Stmt, error) {
	if err := d.validAccount("user", a); err != nil {
		return Stmt{}, err
	}
	return newStmt("ALTER USER " + a.SQL() + o.clause()), nil
}

// AlterUserPassword sets an account's password and TLS requirement.
func (d Dialect) AlterUserPassword(a Account, password string, o UserOptions) (Stmt, error) {
	if err := d.validAccount("user", a); err != nil {
		return Stmt{}, err
	}
	if err := ValidatePassword("user.password", password); err != nil {
		return Stmt{}, err
	}
	return newSecretStmt("ALTER USER "+a.SQL()+" IDENTIFIED BY "+quoteString(password)+o.clause(), password), nil
}

// DropUser removes an account if it exists (cleanup on delete).
func (d Dialect) DropUser(a Account) (Stmt, error) {
	if err := d.validAccount("user", a); err != nil {
		return Stmt{}, err
	}
	return newStmt("DROP USER IF EXISTS " + a.SQL()), nil
}

// GrantReplication gives the replication account the one privilege a
// replica's connection needs (REPLICATION SLAVE: register as a replica and
// read the binary log). Nothing else: the provider monitors and
// reconfigures replication as the host's admin over the local socket, so the
// account needs neither REPLICATION CLIENT / BINLOG MONITOR nor REPLICATION
// SLAVE ADMIN / REPLICA MONITOR.
func (d Dialect) GrantReplication(a Account) (Stmt, error) {
	if err := d.validAccount("replication_user", a); err != nil {
		return Stmt{}, err
	}
	return newStmt("GRANT " + strings.Join(d.ReplicationPrivileges, ", ") + " ON *.* TO " + a.SQL()), nil
}

// Database is a database the provider creates.
type Database struct {
	Name      string
	Charset   string // "" means utf8mb4
	Collation string // "" means the server's default for Charset
}

// CreateDatabase creates a database unless it exists. An existing database
// keeps its character set: the provider never alters or drops user data.
func (d Dialect) CreateDatabase(db Database) (Stmt, error) {
	if err := d.ValidateDatabaseName("database.name", db.Name); err != nil {
		return Stmt{}, err
	}
	cs := db.Charset
	if cs == "" {
		cs = "utf8mb4"
	}
	if err := ValidateCharset("database.charset", "database.collation", cs, db.Collation); err != nil {
		return Stmt{}, err
	}
	s := "CREATE DATABASE IF NOT EXISTS " + QuoteIdent(db.Name) + " CHARACTER SET " + cs
	if db.Collation != "" {
		s += " COLLATE " + db.Collation
	}
	return newStmt(s), nil
}

// GrantDatabase grants privileges on every object of one database. The
// privileges must have been normalized by NormalizePrivileges (which also
// validates them against the flavor's list).
func (d Dialect) GrantDatabase(a Account, database string, privileges []string) (Stmt, error) {
	privs, err := d.dbGrantParts(a, database, privileges)
	if err != nil {
		return Stmt{}, err
	}
	return newStmt("GRANT " + privs + " ON " + grantDBName(database) + ".* TO " + a.SQL()), nil
}

// RevokeDatabase revokes privileges granted by GrantDatabase. Both flavors
// fail (error 1141) when the account holds no grant on the database at all:
// compute what to revoke from SHOW GRANTS first.
func (d Dialect) RevokeDatabase(a Account, database string, privileges []string) (Stmt, error) {
	privs, err := d.dbGrantParts(a, database, privileges)
	if err != nil {
		return Stmt{}, err
	}
	return newStmt("REVOKE " + privs + " ON " + grantDBName(database) + ".* FROM " + a.SQL()), nil
}

func (d Dialect) dbGrantParts(a Account, database string, privileges []string) (string, error) {
	if err := d.validAccount("user", a); err != nil {
		return "", err
	}
	if err := d.ValidateDatabaseName("grant.database", database); err != nil {
		return "", err
	}
	privs, err := d.NormalizePrivileges("grant.privileges", privileges)
	if err != nil {
		return "", err
	}
	return strings.Join(privs, ", "), nil
}

// -------------------------------------------------------------- variables

// ShowVariables reads global variables by exact name, as a Variable_name /
// Value table (ParseVariables). Names that do not exist on the server are
// simply absent from the answer.
func (d Dialect) ShowVariables(names ...string) (Stmt, error) {
	if len(names) == 0 {
		return Stmt{}, fmt.Errorf("no variable names")
	}
	for _, n := range names {
		if !varNameRE.MatchString(n) {
			return Stmt{}, fmt.Errorf("invalid variable name %q", n)
		}
	}
	return newStmt("SHOW GLOBAL VARIABLES WHERE Variable_name IN (" + quoteList(names) + ")"), nil
}

var (
	varNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	intRE     = regexp.MustCompile(`^-?[0-9]{1,19}$`)
	sizeRE    = regexp.MustCompile(`^([0-9]{1,15})([KMGT])$`)
)

// SetGlobal changes a dynamic variable at run time, for settings whose
// fragment value changed and IsDynamic says need no restart. Option-file
// values do not all read the same as SQL values, so: integers and ON/OFF go
// bare, a size with a K/M/G/T suffix becomes bytes (SET GLOBAL refuses
// suffixes), anything else is a string literal.
func (d Dialect) SetGlobal(name, value string) (Stmt, error) {
	canon, err := ValidateSetting("settings", name, value)
	if err != nil {
		return Stmt{}, err
	}
	if !d.IsDynamic(canon) {
		return Stmt{}, fmt.Errorf("%s cannot be changed at run time on %s %s: it needs a restart", canon, d.Flavor, d.Version)
	}
	var v string
	switch up := strings.ToUpper(value); {
	case intRE.MatchString(value):
		v = value
	case up == "ON" || up == "OFF":
		v = up
	case sizeRE.MatchString(strings.ToUpper(value)):
		m := sizeRE.FindStringSubmatch(strings.ToUpper(value))
		n, _ := strconv.ParseUint(m[1], 10, 64)
		shift := map[string]uint{"K": 10, "M": 20, "G": 30, "T": 40}[m[2]]
		if n > (1<<63-1)>>shift {
			return Stmt{}, fmt.Errorf("%s: value %q is too large", canon, value)
		}
		v = strconv.FormatUint(n<<shift, 10)
	default:
		v = quoteString(value)
	}
	return newStmt("SET GLOBAL " + canon + " = " + v), nil
}
