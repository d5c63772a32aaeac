// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// grantsTable builds a SHOW GRANTS answer as the client prints it in batch
// mode (captured from MariaDB 10.11.18 and MySQL 9.7.4, see the test
// cases), then parsed.
func grantsTable(t *testing.T, header string, lines ...string) Table {
	t.Helper()
	out := header + "\n"
	for _, l := range lines {
		out += l + "\n"
	}
	tb, err := ParseBatch([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestParseGrants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		table Table
		want  AccountGrants
	}{
		{"mariadb 10.11", grantsTable(t, "Grants for g1@%",
			"GRANT PROCESS ON *.* TO `g1`@`%` IDENTIFIED BY PASSWORD '*B69027D44F6E5EDC07F1AEAD1477967B16F28227'",
			"GRANT SELECT, INSERT ON `a\\\\_b`.* TO `g1`@`%` WITH GRANT OPTION",
			"GRANT ALL PRIVILEGES ON `shop`.* TO `g1`@`%`"),
			AccountGrants{
				Global: []string{"PROCESS"},
				DB:     map[string][]string{"a_b": {"GRANT OPTION", "INSERT", "SELECT"}, "shop": {"ALL PRIVILEGES"}},
			}},
		{"mysql 9.7", grantsTable(t, "Grants for g1@%",
			"GRANT PROCESS ON *.* TO `g1`@`%`",
			"GRANT BINLOG_ADMIN ON *.* TO `g1`@`%`",
			"GRANT ALL PRIVILEGES ON `shop`.* TO `g1`@`%`",
			"GRANT SELECT, INSERT ON `a\\\\_b`.* TO `g1`@`%` WITH GRANT OPTION"),
			AccountGrants{
				Global: []string{"BINLOG_ADMIN", "PROCESS"},
				DB:     map[string][]string{"a_b": {"GRANT OPTION", "INSERT", "SELECT"}, "shop": {"ALL PRIVILEGES"}},
			}},
		{"usage only", grantsTable(t, "Grants for app@%", "GRANT USAGE ON *.* TO `app`@`%`"),
			AccountGrants{Global: []string{}, DB: map[string][]string{}}},
		{"other shapes", grantsTable(t, "Grants for app@%",
			"GRANT USAGE ON *.* TO `app`@`%`",
			"GRANT SELECT (`a`, `b`) ON `shop`.`t` TO `app`@`%`",
			"GRANT UPDATE ON `shop`.`t` TO `app`@`%`",
			"GRANT `reader`@`%` TO `app`@`%`"),
			AccountGrants{Global: []string{}, DB: map[string][]string{}, Other: []string{
				"GRANT SELECT (`a`, `b`) ON `shop`.`t` TO `app`@`%`",
				"GRANT UPDATE ON `shop`.`t` TO `app`@`%`",
				"GRANT `reader`@`%` TO `app`@`%`",
			}}},
		{"backtick in name", grantsTable(t, "Grants for a@%", "GRANT SELECT ON `x``y`.* TO `a`@`%`"),
			AccountGrants{DB: map[string][]string{"x`y": {"SELECT"}}}},
	}
	for _, tt := range tests {
		got, err := ParseGrants(tt.table)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpEmpty); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if _, err := ParseGrants(Table{Columns: []string{"a", "b"}, Rows: [][]string{{"x", "y"}}}); err == nil {
		t.Error("two columns accepted")
	}
}

// cmpEmpty treats nil and empty slices and maps alike.
var cmpEmpty = cmp.FilterValues(func(a, b any) bool {
	return isEmpty(a) && isEmpty(b)
}, cmp.Comparer(func(a, b any) bool { return true }))

func isEmpty(v any) bool {
	switch x := v.(type) {
	case []string:
		return len(x) == 0
	case map[string][]string:
		return len(x) == 0
	}
	return false
}

func TestPlanGrants(t *testing.T) {
	t.Parallel()
	ma := mustDialect(t, MariaDB, V(10, 11, 18))
	my := mustDialect(t, MySQL, V(9, 7, 4))
	app := Account{User: "app", Host: "%"}
	tests := []struct {
		name       string
		d          Dialect
		cur        AccountGrants
		wantGlobal []string
		db         string
		wantDB     []string
		stmts      []string
	}{
		{"nothing yet", ma, AccountGrants{}, nil, "app", []string{"select", "insert"},
			[]string{"GRANT INSERT, SELECT ON `app`.* TO 'app'@'%'"}},
		{"as wanted", ma, AccountGrants{DB: map[string][]string{"app": {"INSERT", "SELECT"}}}, nil, "app", []string{"SELECT", "INSERT"},
			nil},
		{"one too many, one missing", my, AccountGrants{DB: map[string][]string{"app": {"DELETE", "SELECT"}}}, nil, "app", []string{"SELECT", "INSERT"},
			[]string{"GRANT INSERT ON `app`.* TO 'app'@'%'", "REVOKE DELETE ON `app`.* FROM 'app'@'%'"}},
		{"all wanted", my, AccountGrants{DB: map[string][]string{"app": {"SELECT"}}}, nil, "app", []string{"ALL"},
			[]string{"GRANT ALL PRIVILEGES ON `app`.* TO 'app'@'%'"}},
		{"all held, all wanted", ma, AccountGrants{DB: map[string][]string{"app": {"ALL PRIVILEGES"}}}, nil, "app", []string{"ALL PRIVILEGES"},
			nil},
		{"all held, less wanted", my, AccountGrants{DB: map[string][]string{"app": {"ALL PRIVILEGES"}}}, nil, "app",
			[]string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX", "REFERENCES", "CREATE TEMPORARY TABLES",
				"LOCK TABLES", "EXECUTE", "CREATE VIEW", "SHOW VIEW", "CREATE ROUTINE", "ALTER ROUTINE", "EVENT"},
			[]string{"REVOKE TRIGGER ON `app`.* FROM 'app'@'%'"}},
		{"grant option and another db", ma, AccountGrants{
			Global: []string{"PROCESS"},
			DB:     map[string][]string{"app": {"GRANT OPTION", "SELECT"}, "old_db": {"SELECT"}}}, nil, "app", []string{"SELECT"},
			[]string{"REVOKE PROCESS ON *.* FROM 'app'@'%'", "REVOKE SELECT ON `old\\_db`.* FROM 'app'@'%'", "REVOKE GRANT OPTION ON `app`.* FROM 'app'@'%'"}},
		{"replication account", my, AccountGrants{Global: []string{"REPLICATION CLIENT"}}, []string{"REPLICATION SLAVE"}, "", nil,
			[]string{"GRANT REPLICATION SLAVE ON *.* TO 'app'@'%'", "REVOKE REPLICATION CLIENT ON *.* FROM 'app'@'%'"}},
	}
	for _, tt := range tests {
		p, err := tt.d.PlanGrants(app, tt.cur, tt.wantGlobal, tt.db, tt.wantDB)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []string
		for _, s := range p.Stmts {
			got = append(got, s.SQL())
		}
		if diff := cmp.Diff(tt.stmts, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		if (len(p.Stmts) == 0) != (len(p.Changes) == 0) {
			t.Errorf("%s: %d statements but changes %q", tt.name, len(p.Stmts), p.Changes)
		}
	}
	// A privilege name from the server that is not one stays out of SQL.
	if _, err := ma.PlanGrants(app, AccountGrants{Global: []string{"SELECT; DROP"}}, nil, "", nil); err == nil {
		t.Error("a reported privilege with ';' was accepted")
	}
}

func TestCopyAccount(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MySQL, V(9, 7, 4))
	a := Account{User: "repl", Host: "%"}
	create := grantsTable(t, "CREATE USER for repl@%", "CREATE USER `repl`@`%` IDENTIFIED WITH 'caching_sha2_password' AS 0x2441 REQUIRE NONE")
	grants := grantsTable(t, "Grants for repl@%", "GRANT REPLICATION SLAVE ON *.* TO `repl`@`%`")
	stmts, err := d.CopyAccount(a, create, grants)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stmts {
		got = append(got, s.SQL())
	}
	want := []string{
		"DROP USER IF EXISTS 'repl'@'%'",
		"CREATE USER `repl`@`%` IDENTIFIED WITH 'caching_sha2_password' AS 0x2441 REQUIRE NONE",
		"GRANT REPLICATION SLAVE ON *.* TO `repl`@`%`",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !stmts[1].Secret() || strings.Contains(stmts[1].String(), "0x2441") {
		t.Errorf("the copied CREATE USER (a password hash) is not treated as a secret: %s", stmts[1])
	}
	if _, err := d.CopyAccount(a, grantsTable(t, "x", "DROP DATABASE app"), grants); err == nil {
		t.Error("an answer that is not CREATE USER was accepted")
	}
	if len(d.AccountCopyPrelude()) != 1 || len(mustDialect(t, MariaDB, V(10, 11, 0)).AccountCopyPrelude()) != 0 {
		t.Error("hex hashes are a MySQL session setting only")
	}
}

func TestSplitSections(t *testing.T) {
	t.Parallel()
	const nonce = "n0nce"
	m := sectionColumn + "\n" + nonce + "\n"
	tests := []struct {
		name string
		out  string
		n    int
		want []string
		err  string
	}{
		{"two", "a\n1\n" + m + "b\tc\nx\ty\n" + m, 2, []string{"a\n1\n", "b\tc\nx\ty\n"}, ""},
		{"empty section", m + "b\n2\n" + m, 2, []string{"", "b\n2\n"}, ""},
		{"marker text inside a value", "v\nfoobar_section\n" + "x" + m, 1, nil, "0 of 1"},
		{"value ending like a marker", "v\nzz" + m + "w\n1\n" + m, 2, nil, "1 of 2"},
		{"truncated", "a\n1\n" + m + "b\n", 2, nil, "1 of 2"},
		{"trailing", "a\n1\n" + m + "junk\n", 1, nil, "unexpected bytes"},
	}
	for _, tt := range tests {
		parts, err := splitSections([]byte(tt.out), nonce, tt.n)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []string
		for _, p := range parts {
			got = append(got, string(p))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestQueryMultiScript(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MariaDB, V(10, 11, 18))
	var script string
	n := Node{Host: "db1", Dialect: d, Runner: runnerFunc(func(_ context.Context, cmd remote.Cmd) (remote.Result, error) {
		in, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return remote.Result{}, err
		}
		script = string(in)
		// Answer like the client: the statement's rows, then the marker.
		nonce := script[strings.Index(script, "SELECT '")+8:]
		nonce = nonce[:strings.Index(nonce, "'")]
		out := "Variable_name\tValue\nread_only\tON\n" + sectionColumn + "\n" + nonce + "\n" + sectionColumn + "\n" + nonce + "\n"
		return remote.Result{Stdout: []byte(out)}, nil
	})}
	vars, err := d.ShowVariables("read_only")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := n.QueryMulti(context.Background(), ScriptOptions{}, vars, d.ShowReplicaStatus())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || len(ts[1].Rows) != 0 {
		t.Fatalf("tables %+v", ts)
	}
	if v, _ := ts[0].Get(0, "Value"); v != "ON" {
		t.Errorf("read_only = %q", v)
	}
	if strings.Count(script, "AS "+sectionColumn) != 2 {
		t.Errorf("script has no marker after every statement:\n%s", script)
	}
}

func TestParseFragment(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MySQL, V(9, 7, 4))
	s := Settings{Role: RoleReplica, ServerID: 7, ReportHost: "db2", Extra: map[string]string{"max-connections": "100", "skip-name-resolve": ""}}
	content, err := d.RenderSettings(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseFragment(content)
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.ServerSettings(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-rendered +parsed):\n%s", diff)
	}
	if _, err := ParseFragment([]byte("[mysqld]\n!include /etc/x\n")); err == nil {
		t.Error("a line the renderer never writes was accepted")
	}
}
