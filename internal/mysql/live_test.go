// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Live tests run this package against real servers on this machine. They
// run only when FOOBAR_MYSQL_LIVE names a JSON file describing them (see
// liveSpec): a developer's quick loop. The quoting and account checks also
// run on the lab's MariaDB and MySQL hosts over SSH in every `make testacc`
// (lab_acc_test.go), and seeding and switchover are proven there through
// the resource (internal/provider).
//
// Example, for two mariadbd started by hand on unix sockets and 127.0.0.1:
//
//	{"members": [
//	  {"name": "p", "client_args": ["--socket=/tmp/lab/p.sock"], "host": "127.0.0.1", "port": 33061},
//	  {"name": "r", "client_args": ["--socket=/tmp/lab/r.sock"], "host": "127.0.0.1", "port": 33062}],
//	 "primary": "p", "replicas": ["r"], "switch_to": "r",
//	 "replication_user": "repl", "replication_host": "127.0.0.1", "replication_password": "repl-pw"}
type liveSpec struct {
	Members []struct {
		Name string `json:"name"`
		// ArgvPrefix runs every command through another (e.g. chroot DIR).
		ArgvPrefix []string `json:"argv_prefix"`
		// ClientArgs are added to client and dump invocations (socket,
		// user).
		ClientArgs []string `json:"client_args"`
		Host       string   `json:"host"`
		Port       int      `json:"port"`
	} `json:"members"`
	Primary  string   `json:"primary"`
	Replicas []string `json:"replicas"`
	// Seed, when set, is a fresh server (no user databases) that is seeded
	// from the primary and becomes a replica.
	Seed string `json:"seed"`
	// SwitchTo is switched to and back.
	SwitchTo            string `json:"switch_to"`
	ReplicationUser     string `json:"replication_user"`
	ReplicationHost     string `json:"replication_host"`
	ReplicationPassword string `json:"replication_password"`
}

// liveRunner adds the member's prefix and client arguments to commands.
type liveRunner struct {
	prefix, clientArgs []string
}

func (r liveRunner) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	argv := slices.Clone(cmd.Argv)
	switch argv[0] {
	case "mysql", "mariadb", "mysqldump", "mariadb-dump", "/bin/sh":
		argv = append(argv, r.clientArgs...)
	}
	cmd.Argv = append(slices.Clone(r.prefix), argv...)
	return remote.LocalRunner{}.Run(ctx, cmd)
}

func liveNodes(t *testing.T) (liveSpec, map[string]Node) {
	t.Helper()
	path := os.Getenv("FOOBAR_MYSQL_LIVE")
	if path == "" {
		t.Skip("FOOBAR_MYSQL_LIVE is not set: no local servers to test against")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec liveSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]Node{}
	for _, m := range spec.Members {
		r := liveRunner{prefix: m.ArgvPrefix, clientArgs: m.ClientArgs}
		srv, err := DetectServer(context.Background(), r)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		d, err := srv.Dialect()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", m.Name, srv)
		nodes[m.Name] = Node{Host: m.Name, Runner: r, Dialect: d}
	}
	return spec, nodes
}

func liveStrings() []string {
	out := []string{"", "'", `\`, `\'`, `'\`, "''", `\\'`, "\x00", "\n;DROP TABLE x; -- ", "\x1a", "\r\n", "\t",
		"ü ✓ 😀", `%_\%\_`, "\"", "`", "/* */", "#", "-- ", "a\\", "\\0", `\Z`}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune{'a', '\'', '\\', '"', '`', ';', '\n', '\r', 0, 0x1a, '%', '_', 'ü', '😀', ' ', '#', '-', '*', '/'}
	for range 200 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		out = append(out, b.String())
	}
	return out
}

func TestLiveQuoting(t *testing.T) {
	_, nodes := liveNodes(t)
	checkQuoting(t, nodes)
}

// checkQuoting reads back, from each real server, every string of
// liveStrings written as a literal by quoteString: with the Script
// preamble each reads back as itself, and under NO_BACKSLASH_ESCAPES (no
// preamble) each is still exactly one token.
func checkQuoting(t *testing.T, nodes map[string]Node) {
	t.Helper()
	ctx := context.Background()
	strs := liveStrings()
	for name, n := range nodes {
		// Default mode (Script's preamble): every literal reads back as
		// itself.
		var sel []string
		for i, s := range strs {
			sel = append(sel, fmt.Sprintf("SELECT %d AS i, %s AS v", i, quoteString(s)))
		}
		tab, err := n.Query(ctx, newStmt("SELECT i, v FROM ("+strings.Join(sel, " UNION ALL ")+") AS q ORDER BY i"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(tab.Rows) != len(strs) {
			t.Fatalf("%s: %d rows for %d literals", name, len(tab.Rows), len(strs))
		}
		for i, s := range strs {
			if got, _ := tab.Get(i, "v"); got != s && utf8.ValidString(s) {
				t.Errorf("%s: %q read back as %q", name, s, got)
			}
		}
		// NO_BACKSLASH_ESCAPES without the preamble: values may read back
		// wrong, but each literal must still be one token. One client run
		// checks them all; only when it does not look right is each
		// literal run on its own, to name the one that broke.
		if oneTokenEach(ctx, n, strs) {
			continue
		}
		for _, s := range strs {
			script := "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';\nSELECT " + quoteString(s) + " AS v, 'end' AS e;\n"
			res, err := n.Runner.Run(ctx, remote.Cmd{Argv: n.Dialect.ClientArgv(), Stdin: strings.NewReader(script)})
			if err != nil {
				t.Fatalf("%s: literal %q broke the statement under NO_BACKSLASH_ESCAPES: %v", name, s, err)
			}
			tab, err := ParseBatch(res.Stdout)
			if err != nil || len(tab.Rows) != 1 {
				t.Fatalf("%s: literal %q: %v %v", name, s, tab, err)
			}
			if e, _ := tab.Get(0, "e"); e != "end" {
				t.Fatalf("%s: literal %q swallowed the next column: %v", name, s, tab)
			}
		}
		t.Fatalf("%s: the literals broke a batch under NO_BACKSLASH_ESCAPES, though none broke a statement on its own", name)
	}
}

// oneTokenEach runs, in one client invocation under NO_BACKSLASH_ESCAPES,
// `SELECT <literal> AS v, 'end' AS e` for every string, and reports
// whether the client succeeded and printed exactly one two-column result
// set per statement, each ending in "end". --batch escapes tabs and
// newlines inside values, so every result set is exactly two lines.
func oneTokenEach(ctx context.Context, n Node, strs []string) bool {
	var b strings.Builder
	b.WriteString("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';\n")
	for _, s := range strs {
		b.WriteString("SELECT " + quoteString(s) + " AS v, 'end' AS e;\n")
	}
	res, err := n.Runner.Run(ctx, remote.Cmd{Argv: n.Dialect.ClientArgv(), Stdin: strings.NewReader(b.String())})
	if err != nil {
		return false
	}
	lines := strings.Split(strings.TrimSuffix(string(res.Stdout), "\n"), "\n")
	if len(lines) != 2*len(strs) {
		return false
	}
	for i := 0; i < len(lines); i += 2 {
		if f := strings.Split(lines[i+1], "\t"); lines[i] != "v\te" || len(f) != 2 || f[1] != "end" {
			return false
		}
	}
	return true
}

func TestLiveAccounts(t *testing.T) {
	spec, nodes := liveNodes(t)
	checkAccounts(t, nodes[spec.Primary])
}

// checkAccounts creates a database and an account with a hostile password
// on a real server, idempotently, changes its password, grants and revokes,
// reads the grants back, and drops both.
func checkAccounts(t *testing.T, n Node) {
	t.Helper()
	ctx := context.Background()
	d := n.Dialect
	a := Account{User: "foobar_live_t", Host: "10.99.%"}
	pw := `p'w\"; DROP USER x; -- `
	var stmts []Stmt
	for _, f := range []func() (Stmt, error){
		func() (Stmt, error) { return d.CreateDatabase(Database{Name: "foobar_live_db"}) },
		func() (Stmt, error) { return d.CreateUser(a, pw, UserOptions{}) },
		func() (Stmt, error) { return d.CreateUser(a, pw, UserOptions{}) }, // idempotent
		func() (Stmt, error) { return d.AlterUserPassword(a, pw+"2", UserOptions{RequireSSL: true}) },
		func() (Stmt, error) { return d.GrantDatabase(a, "foobar_live_db", []string{"SELECT", "insert"}) },
		func() (Stmt, error) { return d.RevokeDatabase(a, "foobar_live_db", []string{"INSERT"}) },
	} {
		s, err := f()
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, s)
	}
	if err := n.Exec(ctx, ScriptOptions{NoBinlog: true}, stmts...); err != nil {
		t.Fatal(err)
	}
	tab, err := n.Query(ctx, newStmt("SHOW GRANTS FOR "+a.SQL()))
	if err != nil {
		t.Fatal(err)
	}
	var grants []string
	for _, r := range tab.Rows {
		grants = append(grants, r[0])
	}
	joined := strings.Join(grants, "\n")
	if !strings.Contains(joined, "GRANT SELECT ON `foobar\\_live\\_db`.*") || strings.Contains(joined, "INSERT") {
		t.Errorf("grants: %s", joined)
	}
	drop, err := d.DropUser(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Exec(ctx, ScriptOptions{NoBinlog: true}, drop, drop, newStmt("DROP DATABASE foobar_live_db")); err != nil {
		t.Fatal(err)
	}
}

func TestLiveSeedAndSwitchover(t *testing.T) {
	spec, nodes := liveNodes(t)
	ctx := context.Background()
	ports := map[string]SourceConfig{}
	for _, m := range spec.Members {
		ports[m.Name] = SourceConfig{Host: m.Host, Port: m.Port, User: spec.ReplicationUser, Password: spec.ReplicationPassword}
	}
	source := func(name string) SourceConfig { return ports[name] }
	primary := nodes[spec.Primary]
	run := time.Now().Format(time.RFC3339Nano)
	repl := Account{User: spec.ReplicationUser, Host: spec.ReplicationHost}

	// Some data and the replication account on the primary.
	var setup []Stmt
	for _, f := range []func() (Stmt, error){
		func() (Stmt, error) { return primary.Dialect.CreateUser(repl, spec.ReplicationPassword, UserOptions{}) },
		func() (Stmt, error) { return primary.Dialect.GrantReplication(repl) },
		func() (Stmt, error) { return primary.Dialect.CreateDatabase(Database{Name: "foobar_live"}) },
	} {
		s, err := f()
		if err != nil {
			t.Fatal(err)
		}
		setup = append(setup, s)
	}
	setup = append(setup, newStmt("CREATE TABLE IF NOT EXISTS foobar_live.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(40))"),
		newStmt("INSERT INTO foobar_live.t (v) VALUES ("+quoteString("seed "+run)+")"))
	if err := primary.Exec(ctx, ScriptOptions{}, setup...); err != nil {
		t.Fatal(err)
	}

	replicas := slices.Clone(spec.Replicas)
	if spec.Seed != "" {
		target := nodes[spec.Seed]
		create, _ := target.Dialect.CreateUser(repl, spec.ReplicationPassword, UserOptions{})
		grant, _ := target.Dialect.GrantReplication(repl)
		err := SeedReplica(ctx, primary, target, SeedOptions{
			Source: source(spec.Primary), Accounts: []Stmt{create, grant},
			VerifyTimeout: 20 * time.Second, PollInterval: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
		replicas = append(replicas, spec.Seed)
		liveHasRow(t, target, "seed "+run)
	}
	if spec.SwitchTo == "" {
		return
	}
	opts := SwitchoverOptions{
		Source: source,
		WriteSettings: func(ctx context.Context, host string, role Role) error {
			t.Logf("(would write %s as %s)", host, role)
			return nil
		},
		WaitTimeout: 20 * time.Second, VerifyTimeout: 20 * time.Second, PollInterval: 200 * time.Millisecond,
	}
	topo := Topology{Primary: spec.Primary, Replicas: replicas}
	plan, err := PlanSwitchover(topo, spec.SwitchTo)
	if err != nil {
		t.Fatal(err)
	}
	if err := ExecuteSwitchover(ctx, plan, nodes, opts); err != nil {
		t.Fatalf("switchover: %v", err)
	}
	// A write on the new primary reaches every other member.
	np := nodes[spec.SwitchTo]
	if err := np.Exec(ctx, ScriptOptions{}, newStmt("INSERT INTO foobar_live.t (v) VALUES ("+quoteString("switch "+run)+")")); err != nil {
		t.Fatal(err)
	}
	// The old primary refuses writes from ordinary accounts (read_only);
	// on MySQL even root is refused (super_read_only).
	if np.Dialect.Flavor == MySQL {
		err := primary.Exec(ctx, ScriptOptions{}, newStmt("INSERT INTO foobar_live.t (v) VALUES ('must fail')"))
		if err == nil || !strings.Contains(err.Error(), "super-read-only") {
			t.Errorf("old MySQL primary accepted a write as root: %v", err)
		}
	}
	back := append(slices.DeleteFunc(slices.Clone(replicas), func(s string) bool { return s == spec.SwitchTo }), spec.Primary)
	for _, name := range back {
		liveHasRow(t, nodes[name], "switch "+run)
	}
	// And back.
	plan, err = PlanSwitchover(Topology{Primary: spec.SwitchTo, Replicas: back}, spec.Primary)
	if err != nil {
		t.Fatal(err)
	}
	if err := ExecuteSwitchover(ctx, plan, nodes, opts); err != nil {
		t.Fatalf("switchover back: %v", err)
	}
	st, err := np.ReplicaStatus(ctx)
	if err != nil || !st.From(source(spec.Primary)) || !st.Healthy() {
		t.Errorf("after switching back, %s: %+v %v", spec.SwitchTo, st, err)
	}
}

func liveHasRow(t *testing.T, n Node, v string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tab, err := n.Query(context.Background(), newStmt("SELECT COUNT(*) AS n FROM foobar_live.t WHERE v = "+quoteString(v)))
		if err != nil {
			t.Fatalf("%s: %v", n.Host, err)
		}
		if got, _ := tab.Get(0, "n"); got == "1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: row %q did not arrive", n.Host, v)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
