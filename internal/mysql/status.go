// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"strconv"
	"strings"
)

// Table is one result set as printed by the client with --batch and column
// names (ClientArgv): a header line of column names, then one line per row,
// fields separated by tabs, with tab, newline, NUL and backslash inside
// values escaped as \t \n \0 \\. A SQL NULL prints as NULL, the same as the
// string 'NULL'; callers that care read NULL as "no value".
type Table struct {
	Columns []string
	Rows    [][]string
}

// ParseBatch parses the client's --batch output of one result set. Empty
// output (a statement that returned no rows, such as SHOW REPLICA STATUS on a
// server that is not a replica) is an empty Table. A row whose field count
// differs from the header's is an error: it means the output was not escaped
// (--raw) and cannot be trusted.
func ParseBatch(out []byte) (Table, error) {
	var t Table
	if len(out) == 0 {
		return t, nil
	}
	if out[len(out)-1] != '\n' {
		return t, fmt.Errorf("client output does not end with a newline (truncated?)")
	}
	lines := strings.Split(string(out[:len(out)-1]), "\n")
	t.Columns = strings.Split(lines[0], "\t")
	seen := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		if seen[c] {
			return Table{}, fmt.Errorf("client output has column %q twice (more than one result set?)", c)
		}
		seen[c] = true
	}
	for i, line := range lines[1:] {
		fields := strings.Split(line, "\t")
		if len(fields) != len(t.Columns) {
			return Table{}, fmt.Errorf("client output row %d has %d fields, header has %d", i+1, len(fields), len(t.Columns))
		}
		for j, f := range fields {
			v, err := unescapeBatch(f)
			if err != nil {
				return Table{}, fmt.Errorf("client output row %d column %q: %w", i+1, t.Columns[j], err)
			}
			fields[j] = v
		}
		t.Rows = append(t.Rows, fields)
	}
	return t, nil
}

func unescapeBatch(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("value ends in a lone backslash")
		}
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case '0':
			b.WriteByte(0)
		case '\\':
			b.WriteByte('\\')
		default:
			return "", fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return b.String(), nil
}

// Col returns the index of a column, or -1.
func (t Table) Col(name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// Get returns a row's value by column name.
func (t Table) Get(row int, name string) (string, bool) {
	i := t.Col(name)
	if i < 0 || row < 0 || row >= len(t.Rows) {
		return "", false
	}
	return t.Rows[row][i], true
}

// ParseVariables parses SHOW GLOBAL VARIABLES output (ShowVariables) into a
// map from variable name to value.
func ParseVariables(out []byte) (map[string]string, error) {
	t, err := ParseBatch(out)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if len(t.Columns) == 0 {
		return m, nil
	}
	ni, vi := t.Col("Variable_name"), t.Col("Value")
	if ni < 0 || vi < 0 {
		return nil, fmt.Errorf("variables: expected columns Variable_name and Value, got %q", t.Columns)
	}
	for _, r := range t.Rows {
		m[r[ni]] = r[vi]
	}
	return m, nil
}

// ReplicaStatus is SHOW SLAVE/REPLICA STATUS in flavor-neutral terms.
type ReplicaStatus struct {
	// IORunning and SQLRunning are true only for "Yes"; IOState keeps the
	// raw value of the receiver thread ("Yes", "No", "Connecting").
	IORunning  bool
	SQLRunning bool
	IOState    string
	// SecondsBehind is nil when the server does not know (NULL: a thread
	// is not running or has not connected yet).
	SecondsBehind *int64
	SourceHost    string
	SourcePort    int
	SourceUser    string
	LastIOErrno   int
	LastIOError   string
	LastSQLErrno  int
	LastSQLError  string
	// GTIDPosition is what the replica has received from its source:
	// MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set. ExecutedGTIDSet is
	// what it has applied: MySQL Executed_Gtid_Set; MariaDB does not report
	// it here (read @@gtid_slave_pos).
	GTIDPosition    string
	ExecutedGTIDSet string
	// UsingGTID: MariaDB Using_Gtid is Slave_Pos or Current_Pos; MySQL
	// Auto_Position is 1.
	UsingGTID bool
	// SSL is on when the connection is configured for TLS
	// (Master_SSL_Allowed / Source_SSL_Allowed "Yes"), SSLCAFile and
	// SSLVerifyServerCert as configured.
	SSL                 bool
	SSLCAFile           string
	SSLVerifyServerCert bool
}

// errSSLConnection is the client error of a failed TLS handshake
// (CR_SSL_CONNECTION_ERROR): an unknown CA, a name mismatch, no TLS.
const errSSLConnection = 2026

// TLSRefused reports whether the receiver thread cannot connect because
// the TLS handshake with the source failed.
func (s *ReplicaStatus) TLSRefused() bool {
	return !s.IORunning && s.LastIOErrno == errSSLConnection
}

// errTLSRefused says that replica cannot replicate from source because the
// TLS handshake fails. Waiting cannot help (the certificate does not change
// by itself), so callers return it at once.
func errTLSRefused(replica, source string, st *ReplicaStatus) error {
	return fmt.Errorf("%s refuses %s's TLS certificate: Last_IO_Error: %q. "+
		"Check that replication_tls.ca_pem is the CA that signed the primary's certificate (server_tls.cert_pem) and, with verify_server_cert, "+
		"that the certificate names %s; replication on %s is configured but not connected", replica, source, st.LastIOError, source, replica)
}

// Healthy reports whether both threads run and no error is recorded.
func (s *ReplicaStatus) Healthy() bool {
	return s.IORunning && s.SQLRunning && s.LastIOErrno == 0 && s.LastSQLErrno == 0
}

// knownStatusFields are the column sets of every supported version, so
// status can be read before (or without) a Dialect: the header says which.
var knownStatusFields = func() []StatusFields {
	var out []StatusFields
	for _, fv := range []struct {
		f Flavor
		v Version
	}{{MySQL, V(8, 0, 22)}, {MySQL, V(8, 0, 0)}, {MariaDB, V(10, 5, 0)}} {
		d, err := NewDialect(fv.f, fv.v)
		if err != nil {
			panic(err)
		}
		out = append(out, d.Status)
	}
	return out
}()

// ParseReplicaStatus parses the client's batch output of ShowReplicaStatus
// by column name. It returns nil, nil when the output is empty: the server
// is not configured as a replica. On MySQL with several channels, the
// default channel ("") is the one read.
func ParseReplicaStatus(out []byte) (*ReplicaStatus, error) {
	t, err := ParseBatch(out)
	if err != nil {
		return nil, fmt.Errorf("replica status: %w", err)
	}
	if len(t.Rows) == 0 {
		return nil, nil
	}
	for _, f := range knownStatusFields {
		if t.Col(f.IORunning) >= 0 && t.Col(f.SourceHost) >= 0 && (f.Channel == "") == (t.Col("Channel_Name") < 0) {
			return parseReplicaStatus(t, f)
		}
	}
	return nil, fmt.Errorf("replica status: unrecognized columns %q", t.Columns)
}

// ParseReplicaStatus is ParseReplicaStatus that insists on this dialect's
// column names.
func (d Dialect) ParseReplicaStatus(out []byte) (*ReplicaStatus, error) {
	t, err := ParseBatch(out)
	if err != nil {
		return nil, fmt.Errorf("replica status: %w", err)
	}
	if len(t.Rows) == 0 {
		return nil, nil
	}
	return parseReplicaStatus(t, d.Status)
}

func parseReplicaStatus(t Table, f StatusFields) (*ReplicaStatus, error) {
	var missing []string
	for _, name := range []string{
		f.IORunning, f.SQLRunning, f.SecondsBehind, f.SourceHost, f.SourcePort, f.SourceUser,
		f.LastIOErrno, f.LastIOError, f.LastSQLErrno, f.LastSQLError,
		f.GTIDPosition, f.ExecutedGTIDSet, f.UsingGTID, f.SSLAllowed, f.SSLCAFile, f.SSLVerifyServer, f.Channel,
	} {
		if name != "" && t.Col(name) < 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("replica status: missing columns %q", missing)
	}
	row := 0
	if f.Channel != "" {
		row = -1
		var names []string
		for i := range t.Rows {
			ch, _ := t.Get(i, f.Channel)
			if ch == "" {
				row = i
			}
			names = append(names, ch)
		}
		if row < 0 {
			return nil, fmt.Errorf("replica status: no default replication channel (channels %q)", names)
		}
	} else if len(t.Rows) != 1 {
		return nil, fmt.Errorf("replica status: expected 1 row, got %d", len(t.Rows))
	}

	get := func(name string) string {
		v, _ := t.Get(row, name) // "" for a column the flavor does not have
		return v
	}
	var bad []string
	num := func(name string) int {
		v := get(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s=%q", name, v))
		}
		return n
	}

	s := &ReplicaStatus{}
	s.IOState = get(f.IORunning)
	s.IORunning = s.IOState == "Yes"
	s.SQLRunning = get(f.SQLRunning) == "Yes"
	if v := get(f.SecondsBehind); v != "" && v != "NULL" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s=%q", f.SecondsBehind, v))
		} else {
			s.SecondsBehind = &n
		}
	}
	s.SourceHost = get(f.SourceHost)
	s.SourcePort = num(f.SourcePort)
	s.SourceUser = get(f.SourceUser)
	s.LastIOErrno = num(f.LastIOErrno)
	s.LastIOError = get(f.LastIOError)
	s.LastSQLErrno = num(f.LastSQLErrno)
	s.LastSQLError = get(f.LastSQLError)
	s.GTIDPosition = get(f.GTIDPosition)
	s.ExecutedGTIDSet = get(f.ExecutedGTIDSet)
	switch v := get(f.UsingGTID); v {
	case "1", "Slave_Pos", "Current_Pos":
		s.UsingGTID = true
	case "0", "No", "":
	default:
		bad = append(bad, fmt.Sprintf("%s=%q", f.UsingGTID, v))
	}
	s.SSL = get(f.SSLAllowed) == "Yes"
	s.SSLCAFile = get(f.SSLCAFile)
	s.SSLVerifyServerCert = get(f.SSLVerifyServer) == "Yes"

	if len(bad) > 0 {
		return nil, fmt.Errorf("replica status: unexpected values %s", strings.Join(bad, ", "))
	}
	return s, nil
}

// From reports whether the replica is configured to replicate from c's
// host and port.
func (s *ReplicaStatus) From(c SourceConfig) bool {
	return s != nil && strings.EqualFold(s.SourceHost, c.Host) && s.SourcePort == c.port()
}

// SameSource reports whether the replica already replicates from c the way
// ChangeSource would configure it (host, port, user, GTID positioning, TLS),
// so that a second apply issues no CHANGE ... TO. The password cannot be
// read back: a password change must be tracked by the caller.
func (s *ReplicaStatus) SameSource(c SourceConfig) bool {
	if !s.From(c) || s.SourceUser != c.User || !s.UsingGTID {
		return false
	}
	if c.TLS == nil {
		return !s.SSL
	}
	return s.SSL && s.SSLVerifyServerCert == c.TLS.VerifyServerCert && s.SSLCAFile == c.TLS.CAFile
}
