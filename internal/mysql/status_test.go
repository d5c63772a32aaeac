// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "status", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func i64(n int64) *int64 { return &n }

func TestParseBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Table
		wantErr string
	}{
		{name: "empty", in: "", want: Table{}},
		{name: "header only", in: "a\tb\n", want: Table{Columns: []string{"a", "b"}}},
		{
			name: "escapes",
			in:   "x\tn\ts\te\na\\tb\\nc\\\\d\\0\tNULL\tNULL\t\n",
			want: Table{Columns: []string{"x", "n", "s", "e"}, Rows: [][]string{{"a\tb\nc\\d\x00", "NULL", "NULL", ""}}},
		},
		{name: "raw tab breaks the row", in: "a\tb\n1\t2\t3\n", wantErr: "row 1 has 3 fields, header has 2"},
		{name: "raw newline breaks the row", in: "a\tb\n1\tx\ny\n", wantErr: "row 2 has 1 fields"},
		{name: "unterminated", in: "a\n1", wantErr: "does not end with a newline"},
		{name: "lone backslash", in: "a\nx\\\n", wantErr: "lone backslash"},
		{name: "unknown escape", in: "a\nx\\q\n", wantErr: "unknown escape"},
		{name: "two result sets", in: "a\n1\na\n2\n", wantErr: ""},
		{name: "duplicate column", in: "a\ta\n1\t2\n", wantErr: "column \"a\" twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseBatch([]byte(tt.in))
			if tt.name == "two result sets" {
				// A second result set's header reads as a row of the
				// first: callers send one query per invocation. Its shape
				// still parses; document it here.
				if err != nil || len(got.Rows) != 3 {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

// escapeBatch is how the mysql client prints a value with --batch (client
// source, safe_put_field): the inverse of unescapeBatch.
func escapeBatch(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\x00", `\0`).Replace(s)
}

func FuzzParseBatch(f *testing.F) {
	f.Add("Last_SQL_Error", "Duplicate entry 'tab\tnl\nbs\\q'' for key")
	f.Add("a", "")
	f.Add("b", "\x00\\\\")
	f.Fuzz(func(t *testing.T, col, val string) {
		if col == "" || col == "z" || strings.ContainsAny(col, "\t\n") {
			return // not a header the client could print next to column z
		}
		out := col + "\tz\n" + escapeBatch(val) + "\tconst\n"
		got, err := ParseBatch([]byte(out))
		if err != nil {
			t.Fatalf("ParseBatch(%q): %v", out, err)
		}
		if v, _ := got.Get(0, col); v != val {
			t.Fatalf("value %q read back as %q", val, v)
		}
		if v, _ := got.Get(0, "z"); v != "const" {
			t.Fatalf("next column read as %q", v)
		}
	})
}

func TestParseReplicaStatusMariaDBCaptured(t *testing.T) {
	t.Parallel()
	// Captured from MariaDB 10.11.19 (Debian 12 packages), two mariadbd
	// instances on 127.0.0.1 replicating with MASTER_USE_GTID = slave_pos;
	// see testdata/status/README.md.
	tests := []struct {
		file string
		want *ReplicaStatus
	}{
		{"mariadb-10.11-not-replica.tsv", nil},
		{"mariadb-10.11-running.tsv", &ReplicaStatus{
			IORunning: true, SQLRunning: true, IOState: "Yes", SecondsBehind: i64(0),
			SourceHost: "127.0.0.1", SourcePort: 33061, SourceUser: "repl",
			GTIDPosition: "0-1-5", UsingGTID: true,
		}},
		{"mariadb-10.11-stopped.tsv", &ReplicaStatus{
			IOState: "No", SourceHost: "127.0.0.1", SourcePort: 33061, SourceUser: "repl",
			GTIDPosition: "0-1-7", UsingGTID: true,
		}},
		{"mariadb-10.11-sql-error.tsv", &ReplicaStatus{
			IORunning: true, IOState: "Yes", SourceHost: "127.0.0.1", SourcePort: 33061, SourceUser: "repl",
			LastSQLErrno: 1062,
			LastSQLError: "Could not execute Write_rows_v1 event on table app.k; Duplicate entry 'tab\tnl\nbs\\q'' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log mysql-bin.000001, end_log_pos 1650",
			GTIDPosition: "0-1-7", UsingGTID: true,
		}},
		{"mariadb-10.11-io-error.tsv", &ReplicaStatus{
			IOState: "Connecting", SQLRunning: true, SourceHost: "127.0.0.1", SourcePort: 33061, SourceUser: "repl",
			LastIOErrno:  1045,
			LastIOError:  "error connecting to master 'repl@127.0.0.1:33061' - retry-time: 60  maximum-retries: 100000  message: Access denied for user 'repl'@'127.0.0.1' (using password: YES)",
			GTIDPosition: "0-1-7", UsingGTID: true,
		}},
	}
	d := mustDialect(t, MariaDB, V(10, 11, 19))
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			out := readFixture(t, tt.file)
			for name, parse := range map[string]func([]byte) (*ReplicaStatus, error){
				"neutral": ParseReplicaStatus, "dialect": d.ParseReplicaStatus,
			} {
				got, err := parse(out)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s: status (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestParseReplicaStatusWrongDialect(t *testing.T) {
	t.Parallel()
	m := mustDialect(t, MySQL, V(9, 7, 0))
	_, err := m.ParseReplicaStatus(readFixture(t, "mariadb-10.11-running.tsv"))
	if err == nil || !strings.Contains(err.Error(), "Replica_IO_Running") {
		t.Errorf("MySQL dialect on MariaDB output: error = %v, want missing Replica_IO_Running", err)
	}
	_, err = ParseReplicaStatus([]byte("Foo\tBar\n1\t2\n"))
	if err == nil || !strings.Contains(err.Error(), "unrecognized columns") {
		t.Errorf("unknown columns: error = %v", err)
	}
}

func TestParseVariablesAndSingles(t *testing.T) {
	t.Parallel()
	vars, err := ParseVariables(readFixture(t, "mariadb-10.11-variables.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gtid_binlog_pos": "0-1-12", "gtid_slave_pos": "0-1-12", "gtid_strict_mode": "ON",
		"log_bin": "ON", "read_only": "OFF", "server_id": "2",
	}
	if diff := cmp.Diff(want, vars); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	if _, err := ParseVariables([]byte("a\tb\n1\t2\n")); err == nil {
		t.Error("ParseVariables accepted a table without Variable_name/Value")
	}
	if m, err := ParseVariables(nil); err != nil || len(m) != 0 {
		t.Errorf("ParseVariables(empty) = %v, %v", m, err)
	}

	pos, err := ParseGTIDPosition(readFixture(t, "mariadb-10.11-gtid-position.tsv"))
	if err != nil || pos != "0-1-12" {
		t.Errorf("ParseGTIDPosition = %q, %v", pos, err)
	}
	d := mustDialect(t, MariaDB, V(10, 11, 19))
	for file, want := range map[string]bool{"mariadb-10.11-gtid-wait-ok.tsv": true, "mariadb-10.11-gtid-wait-timeout.tsv": false} {
		got, err := d.ParseGTIDWait(readFixture(t, file))
		if err != nil || got != want {
			t.Errorf("ParseGTIDWait(%s) = %t, %v; want %t", file, got, err, want)
		}
	}
	if _, err := d.ParseGTIDWait([]byte("result\nNULL\n")); err == nil {
		t.Error("ParseGTIDWait accepted NULL (the function's answer to a bad argument)")
	}
	srv, err := ParseServer(readFixture(t, "mariadb-10.11-version.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if srv.Flavor != MariaDB || srv.Version != V(10, 11, 19) {
		t.Errorf("ParseServer = %v", srv)
	}
}

func TestSameSource(t *testing.T) {
	t.Parallel()
	base := ReplicaStatus{SourceHost: "DB1.example.com", SourcePort: 3306, SourceUser: "repl", UsingGTID: true}
	withTLS := base
	withTLS.SSL, withTLS.SSLVerifyServerCert, withTLS.SSLCAFile = true, true, "/etc/ssl/ca.pem"
	src := SourceConfig{Host: "db1.example.com", User: "repl", Password: "x"}
	tlsSrc := src
	tlsSrc.TLS = &SourceTLS{CAFile: "/etc/ssl/ca.pem", VerifyServerCert: true}
	tests := []struct {
		name string
		st   *ReplicaStatus
		src  SourceConfig
		want bool
	}{
		{"same", &base, src, true},
		{"nil status", nil, src, false},
		{"other host", &base, SourceConfig{Host: "db2", User: "repl"}, false},
		{"other port", &base, SourceConfig{Host: "db1.example.com", Port: 3307, User: "repl"}, false},
		{"other user", &base, SourceConfig{Host: "db1.example.com", User: "r2"}, false},
		{"no gtid", &ReplicaStatus{SourceHost: "db1.example.com", SourcePort: 3306, SourceUser: "repl"}, src, false},
		{"tls wanted", &base, tlsSrc, false},
		{"tls same", &withTLS, tlsSrc, true},
		{"tls not wanted", &withTLS, src, false},
		{"verify differs", &withTLS, SourceConfig{Host: "db1.example.com", User: "repl", TLS: &SourceTLS{CAFile: "/etc/ssl/ca.pem"}}, false},
		{"other ca", &withTLS, SourceConfig{Host: "db1.example.com", User: "repl", TLS: &SourceTLS{CAFile: "/other", VerifyServerCert: true}}, false},
	}
	for _, tt := range tests {
		if got := tt.st.SameSource(tt.src); got != tt.want {
			t.Errorf("%s: SameSource = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestParseReplicaStatusMySQL(t *testing.T) {
	t.Parallel()
	const (
		srcUUID = "22766f8c-eb24-11f1-8e23-02fc00000001"
		ownUUID = "251b6c67-eb24-11f1-81b2-02fc00000001"
	)
	running := &ReplicaStatus{
		IORunning: true, SQLRunning: true, IOState: "Yes", SecondsBehind: i64(0),
		SourceHost: "127.0.0.1", SourcePort: 33071, SourceUser: "repl",
		ExecutedGTIDSet: srcUUID + ":1-5", UsingGTID: true,
	}
	lagging := *running
	lagging.SecondsBehind = i64(42)
	old := *running
	tests := []struct {
		file    string
		v       Version
		want    *ReplicaStatus
		wantErr string
	}{
		{"mysql-9.7-not-replica.tsv", V(9, 7, 4), nil, ""},
		{"mysql-9.7-running.tsv", V(9, 7, 4), running, ""},
		{"mysql-9.7-sql-error.tsv", V(9, 7, 4), &ReplicaStatus{
			IORunning: true, IOState: "Yes", SourceHost: "127.0.0.1", SourcePort: 33071, SourceUser: "repl",
			LastSQLErrno:    1062,
			LastSQLError:    "Coordinator stopped because there were error(s) in the worker(s). The most recent failure being: Worker 1 failed executing transaction '" + srcUUID + ":7' at source log binlog.000002, end_log_pos 1908. See error log and/or performance_schema.replication_applier_status_by_worker table for more details about this failure or others, if any.",
			GTIDPosition:    srcUUID + ":6-7",
			ExecutedGTIDSet: srcUUID + ":1-6,\n" + ownUUID + ":1",
			UsingGTID:       true,
		}, ""},
		{"mysql-9.7-stopped.tsv", V(9, 7, 4), &ReplicaStatus{
			IOState: "No", SourceHost: "127.0.0.1", SourcePort: 33071, SourceUser: "repl",
			GTIDPosition:    srcUUID + ":6-7",
			ExecutedGTIDSet: srcUUID + ":1-7,\n" + ownUUID + ":1-2",
			UsingGTID:       true,
		}, ""},
		{"mysql-9.7-io-error.tsv", V(9, 7, 4), &ReplicaStatus{
			IOState: "Connecting", SQLRunning: true, SourceHost: "127.0.0.1", SourcePort: 33071, SourceUser: "repl",
			LastIOErrno: 1045,
			LastIOError: "Error connecting to source 'repl@127.0.0.1:33071'. This was attempt 1/10, with a delay of 60 seconds between attempts. Message: Access denied for user 'repl'@'127.0.0.1' (using password: YES)",
			// CHANGE ... TO emptied Retrieved_Gtid_Set.
			ExecutedGTIDSet: srcUUID + ":1-7,\n" + ownUUID + ":1-2",
			UsingGTID:       true,
		}, ""},
		{"mysql-9.7-tls-verify-error.tsv", V(9, 7, 4), &ReplicaStatus{
			// MySQL reports 0 s behind while the receiver cannot connect:
			// lag alone never proves health.
			IOState: "Connecting", SQLRunning: true, SecondsBehind: i64(0), SourceHost: "127.0.0.1", SourcePort: 33071, SourceUser: "repl",
			LastIOErrno: 2026,
			LastIOError: "Error connecting to source 'repl@127.0.0.1:33071'. This was attempt 1/10, with a delay of 60 seconds between attempts. Message: SSL connection error: error:0A000086:SSL routines::certificate verify failed",
			// CHANGE ... TO emptied Retrieved_Gtid_Set.
			ExecutedGTIDSet: srcUUID + ":1-7,\n" + ownUUID + ":1-2",
			UsingGTID:       true,
			SSL:             true, SSLCAFile: "/lab/m1/data/ca.pem", SSLVerifyServerCert: true,
		}, ""},
		{"mysql-9.7-channels-derived.tsv", V(9, 7, 4), &lagging, ""},
		{"mysql-9.7-only-named-channel-derived.tsv", V(9, 7, 4), nil, `no default replication channel (channels ["reporting"])`},
		{"mysql-8.0.21-running-derived.tsv", V(8, 0, 21), &old, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, MySQL, tt.v)
			out := readFixture(t, tt.file)
			for name, parse := range map[string]func([]byte) (*ReplicaStatus, error){
				"neutral": ParseReplicaStatus, "dialect": d.ParseReplicaStatus,
			} {
				got, err := parse(out)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("%s: error = %v, want %q", name, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s: status (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestParseMySQLCapturedSingles(t *testing.T) {
	t.Parallel()
	vars, err := ParseVariables(readFixture(t, "mysql-9.7-variables.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"enforce_gtid_consistency": "ON",
		"gtid_executed":            "22766f8c-eb24-11f1-8e23-02fc00000001:1-7,\n251b6c67-eb24-11f1-81b2-02fc00000001:1-2",
		"gtid_mode":                "ON", "log_bin": "ON", "read_only": "OFF", "server_id": "12", "super_read_only": "OFF",
	}
	if diff := cmp.Diff(want, vars); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	srv, err := ParseServer(readFixture(t, "mysql-9.7-version.tsv"))
	if err != nil || srv.Flavor != MySQL || srv.Version != V(9, 7, 4) || srv.Comment != "(Debian)" {
		t.Errorf("ParseServer = %v, %v", srv, err)
	}
	pos, err := ParseGTIDPosition(readFixture(t, "mysql-9.7-gtid-position.tsv"))
	if err != nil || pos != "22766f8c-eb24-11f1-8e23-02fc00000001:1-5" {
		t.Errorf("ParseGTIDPosition = %q, %v", pos, err)
	}
	d := mustDialect(t, MySQL, V(9, 7, 4))
	if _, err := d.WaitForGTID(vars["gtid_executed"], time.Second); err != nil {
		t.Errorf("a real multi-UUID gtid_executed is refused by WaitForGTID: %v", err)
	}
	for file, want := range map[string]bool{"mysql-9.7-gtid-wait-ok.tsv": true, "mysql-9.7-gtid-wait-timeout.tsv": false} {
		got, err := d.ParseGTIDWait(readFixture(t, file))
		if err != nil || got != want {
			t.Errorf("ParseGTIDWait(%s) = %t, %v; want %t", file, got, err, want)
		}
	}
}
