// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/golden"
)

var topo = Topology{Primary: "db1", Replicas: []string{"db2", "db3", "db4"}}

func TestPlanSwitchover(t *testing.T) {
	t.Parallel()
	p, err := PlanSwitchover(topo, "db3")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.String())
	}
	want := []string{
		"check-source on db3 (source db1)",
		"write-settings on db1 (role replica)",
		"set-read-only on db1",
		"record-position on db1",
		"wait-for-position on db3 (source db1)",
		"stop-replica on db3",
		"reset-replica on db3",
		"set-writable on db3",
		"write-settings on db3 (role primary)",
		"stop-replica on db2",
		"change-source on db2 (source db3)",
		"start-replica on db2",
		"stop-replica on db4",
		"change-source on db4 (source db3)",
		"start-replica on db4",
		"stop-replica on db1",
		"adopt-binlog-position on db1",
		"change-source on db1 (source db3)",
		"start-replica on db1",
		"verify-replica on db2 (source db3)",
		"verify-replica on db4 (source db3)",
		"verify-replica on db1 (source db3)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if p.Steps[p.Commit-1].Kind != StepSetWritable || p.From != "db1" || p.To != "db3" {
		t.Errorf("commit point after %v, from %s to %s", p.Steps[p.Commit-1], p.From, p.To)
	}
}

func TestPlanSwitchoverErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		t    Topology
		to   string
		want string
	}{
		{topo, "db1", "already the primary"},
		{topo, "DB1", "already the primary"},
		{topo, "db9", "is not a replica of db1"},
		{Topology{Replicas: []string{"db2"}}, "db2", "no primary"},
		{Topology{Primary: "db1", Replicas: []string{"db2", "db2"}}, "db2", "appears twice"},
		{Topology{Primary: "db1", Replicas: []string{"db1"}}, "db2", "appears twice"},
	} {
		_, err := PlanSwitchover(tt.t, tt.to)
		check(t, "switchover to "+tt.to, err, tt.want)
	}
}

func TestSwitchoverRollback(t *testing.T) {
	t.Parallel()
	p, err := PlanSwitchover(Topology{Primary: "a", Replicas: []string{"b", "c"}}, "b")
	if err != nil {
		t.Fatal(err)
	}
	names := func(ss []Step) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.String())
		}
		return out
	}
	want := map[int][]string{
		0:                nil, // check-source: nothing happened yet
		1:                {"write-settings on a (role primary)"},
		2:                {"set-writable on a", "write-settings on a (role primary)"},
		4:                {"set-writable on a", "write-settings on a (role primary)"},
		5:                {"stop-replica on b", "change-source on b (source a)", "start-replica on b", "set-writable on a", "write-settings on a (role primary)"},
		7:                {"set-read-only on b", "stop-replica on b", "change-source on b (source a)", "start-replica on b", "set-writable on a", "write-settings on a (role primary)"},
		8:                nil, // committed: b may have taken writes
		len(p.Steps) - 1: nil,
	}
	for i, w := range want {
		if diff := cmp.Diff(w, names(p.Rollback(i))); diff != "" {
			t.Errorf("rollback after step %d (%s) (-want +got):\n%s", i, p.Steps[i], diff)
		}
	}
}

// TestSwitchoverSQLGolden renders every step of a switchover for each
// flavor: the exact SQL each host gets, in order.
func TestSwitchoverSQLGolden(t *testing.T) {
	t.Parallel()
	p, err := PlanSwitchover(Topology{Primary: "db1.example.com", Replicas: []string{"db2.example.com", "db3.example.com"}}, "db2.example.com")
	if err != nil {
		t.Fatal(err)
	}
	c := validCluster()
	for _, tt := range []struct {
		name string
		d    Dialect
		pos  string
	}{
		{"switchover-mariadb-10.11.txt", mustDialect(t, MariaDB, V(10, 11, 18)), "0-1-1042"},
		{"switchover-mysql-9.7.txt", mustDialect(t, MySQL, V(9, 7, 4)), "22766f8c-eb24-11f1-8e23-02fc00000001:1-1042"},
	} {
		var b strings.Builder
		for i, s := range p.Steps {
			if i == p.Commit {
				b.WriteString("-- commit point: no automatic rollback from here on\n")
			}
			fmt.Fprintf(&b, "-- %d. %s\n", i+1, s)
			var stmts []Stmt
			switch s.Kind {
			case StepCheckSource, StepVerifyReplica:
				stmts = []Stmt{tt.d.ShowReplicaStatus()}
			case StepRecordPosition:
				stmts = []Stmt{tt.d.GTIDPositionQuery()}
			case StepWaitForPosition:
				st, err := tt.d.WaitForGTID(tt.pos, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				stmts = []Stmt{st}
			case StepWriteSettings:
				b.WriteString("(apply engine writes " + tt.d.SettingsPath + ")\n")
			default:
				var src SourceConfig
				if s.Source != "" {
					src = c.SourceFor(Member{Host: s.Source})
				}
				stmts, err = tt.d.StepStatements(s, src)
				if err != nil {
					t.Fatal(err)
				}
			}
			if s.Kind == StepSetReadOnly {
				b.WriteString(strings.Split(string(tt.d.Script(ScriptOptions{LockWaitTimeout: 30 * time.Second})), "\n")[2] + "\n")
			}
			for _, st := range stmts {
				b.WriteString(st.SQL() + ";\n")
			}
		}
		golden.Assert(t, filepath.Join("testdata", "golden", tt.name), []byte(b.String()))
	}
}

// ---------------------------------------------------------------------
// FAKE SERVERS. The tests below check this package's own sequencing,
// parsing and error handling of ExecuteSwitchover against a fake that
// answers by pattern; they say nothing about how real servers behave.
// Real behaviour is tested against lab hosts.

type fakeCluster struct {
	mu    sync.Mutex
	d     Dialect
	hosts map[string]*fakeServer
	log   []string // "host: statement" in execution order
	// failOn makes a statement fail on a host: "host: statement prefix".
	failOn   string
	waitFail bool
}

type fakeServer struct {
	source   string
	running  bool
	readOnly bool
}

type fakeRunner struct {
	c    *fakeCluster
	host string
}

func (r fakeRunner) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	in, _ := io.ReadAll(cmd.Stdin)
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if cmd.Argv[0] != c.d.Client {
		return remote.Result{}, fmt.Errorf("unexpected argv %q", cmd.Argv)
	}
	srv := c.hosts[r.host]
	var out strings.Builder
	for _, st := range strings.Split(strings.TrimSuffix(string(in), ";\n"), ";\n") {
		if strings.HasPrefix(st, "SET SESSION ") || st == pinCharset {
			continue
		}
		c.log = append(c.log, r.host+": "+st)
		if c.failOn != "" && strings.HasPrefix(r.host+": "+st, c.failOn) {
			return remote.Result{ExitStatus: 1}, &remote.ExitError{Argv: cmd.Argv, ExitStatus: 1, Stderr: "ERROR 1234: injected"}
		}
		switch {
		case st == c.d.ShowReplicaStatus().SQL():
			if srv.source != "" {
				f := c.d.Status
				io := "No"
				if srv.running {
					io = "Yes"
				}
				cols := []string{f.IORunning, f.SQLRunning, f.SecondsBehind, f.SourceHost, f.SourcePort, f.SourceUser,
					f.LastIOErrno, f.LastIOError, f.LastSQLErrno, f.LastSQLError, f.GTIDPosition, f.UsingGTID, f.SSLAllowed, f.SSLCAFile, f.SSLVerifyServer}
				vals := []string{io, io, "0", srv.source, "3306", "repl", "0", "", "0", "", "0-1-5", "Slave_Pos", "No", "", "No"}
				out.WriteString(strings.Join(cols, "\t") + "\n" + strings.Join(vals, "\t") + "\n")
			}
		case st == c.d.GTIDPositionQuery().SQL():
			out.WriteString("gtid_position\n0-1-1042\n")
		case strings.HasPrefix(st, "SELECT MASTER_GTID_WAIT('0-1-1042', "):
			if c.waitFail {
				out.WriteString("result\n-1\n")
			} else {
				out.WriteString("result\n0\n")
			}
		case st == "SET GLOBAL read_only = ON":
			srv.readOnly = true
		case st == "SET GLOBAL read_only = OFF":
			srv.readOnly = false
		case st == "STOP SLAVE":
			srv.running = false
		case st == "START SLAVE":
			srv.running = srv.source != ""
		case st == "RESET SLAVE ALL":
			srv.source = ""
		case strings.HasPrefix(st, "CHANGE MASTER TO MASTER_HOST = '"):
			srv.source = strings.SplitN(st, "'", 3)[1]
		}
	}
	return remote.Result{Stdout: []byte(out.String())}, nil
}

func newFake(t *testing.T) (*fakeCluster, map[string]Node, SwitchoverOptions) {
	d := mustDialect(t, MariaDB, V(10, 11, 18))
	c := &fakeCluster{d: d, hosts: map[string]*fakeServer{
		"db1": {},
		"db2": {source: "db1", running: true, readOnly: true},
		"db3": {source: "db1", running: true, readOnly: true},
	}}
	nodes := map[string]Node{}
	for h := range c.hosts {
		nodes[h] = Node{Host: h, Runner: fakeRunner{c: c, host: h}, Dialect: d}
	}
	cl := validCluster()
	opts := SwitchoverOptions{
		Source: func(h string) SourceConfig { return cl.SourceFor(Member{Host: h}) },
		WriteSettings: func(ctx context.Context, host string, role Role) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.log = append(c.log, host+": (write settings: "+role.String()+")")
			return nil
		},
		VerifyTimeout: 50 * time.Millisecond,
		PollInterval:  5 * time.Millisecond,
	}
	return c, nodes, opts
}

func TestExecuteSwitchoverFake(t *testing.T) {
	t.Parallel()
	c, nodes, opts := newFake(t)
	p, err := PlanSwitchover(Topology{Primary: "db1", Replicas: []string{"db2", "db3"}}, "db2")
	if err != nil {
		t.Fatal(err)
	}
	if err := ExecuteSwitchover(context.Background(), p, nodes, opts); err != nil {
		t.Fatal(err)
	}
	change := "CHANGE MASTER TO MASTER_HOST = 'db2', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'repl-pw', MASTER_CONNECT_RETRY = 5, MASTER_USE_GTID = slave_pos, MASTER_SSL = 1, MASTER_SSL_CA = '/etc/mysql/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT = 1"
	want := []string{
		"db2: SHOW SLAVE STATUS",
		"db1: (write settings: replica)",
		"db1: SET GLOBAL read_only = ON",
		"db1: SELECT @@GLOBAL.gtid_binlog_pos AS gtid_position",
		"db2: SELECT MASTER_GTID_WAIT('0-1-1042', 60) AS result",
		"db2: STOP SLAVE",
		"db2: RESET SLAVE ALL",
		"db2: SET GLOBAL read_only = OFF",
		"db2: (write settings: primary)",
		"db3: STOP SLAVE",
		"db3: " + change,
		"db3: START SLAVE",
		"db1: STOP SLAVE",
		"db1: SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos",
		"db1: " + change,
		"db1: START SLAVE",
		"db3: SHOW SLAVE STATUS",
		"db1: SHOW SLAVE STATUS",
	}
	if diff := cmp.Diff(want, c.log); diff != "" {
		t.Errorf("executed (-want +got):\n%s", diff)
	}
	if !c.hosts["db1"].readOnly || c.hosts["db2"].readOnly || c.hosts["db1"].source != "db2" || c.hosts["db3"].source != "db2" || c.hosts["db2"].source != "" {
		t.Errorf("fake end state: db1 %+v db2 %+v db3 %+v", *c.hosts["db1"], *c.hosts["db2"], *c.hosts["db3"])
	}
}

func TestExecuteSwitchoverFakeFailures(t *testing.T) {
	t.Parallel()
	p, err := PlanSwitchover(Topology{Primary: "db1", Replicas: []string{"db2", "db3"}}, "db2")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		setup      func(c *fakeCluster)
		wantErr    []string
		rolledBack bool
		wantTail   []string // the last statements executed
		db1Writes  bool     // db1 writable at the end
	}{
		{
			name:      "new primary replicates from elsewhere",
			setup:     func(c *fakeCluster) { c.hosts["db2"].source = "db9" },
			wantErr:   []string{"step 1 (check-source on db2 (source db1)) failed: db2 replicates from db9:3306, not from db1 (db1:3306)", "nothing was changed: db1 is still the primary"},
			wantTail:  []string{"db2: SHOW SLAVE STATUS"},
			db1Writes: true,
		},
		{
			name:       "new primary does not catch up",
			setup:      func(c *fakeCluster) { c.waitFail = true },
			wantErr:    []string{"step 5 (wait-for-position on db2 (source db1)) failed: db2 did not apply db1's position \"0-1-1042\" within 1m0s", "rolled back: db1 is still the primary and writable"},
			rolledBack: true,
			wantTail:   []string{"db2: SELECT MASTER_GTID_WAIT('0-1-1042', 60) AS result", "db1: SET GLOBAL read_only = OFF", "db1: (write settings: primary)"},
			db1Writes:  true,
		},
		{
			name:       "promotion fails",
			setup:      func(c *fakeCluster) { c.failOn = "db2: SET GLOBAL read_only = OFF" },
			wantErr:    []string{"step 8 (set-writable on db2) failed", "injected", "rolled back"},
			rolledBack: true,
			wantTail: []string{
				"db2: SET GLOBAL read_only = ON", "db2: STOP SLAVE",
				"db2: CHANGE MASTER TO MASTER_HOST = 'db1', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'repl-pw', MASTER_CONNECT_RETRY = 5, MASTER_USE_GTID = slave_pos, MASTER_SSL = 1, MASTER_SSL_CA = '/etc/mysql/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT = 1",
				"db2: START SLAVE", "db1: SET GLOBAL read_only = OFF", "db1: (write settings: primary)",
			},
			db1Writes: true,
		},
		{
			name:     "repointing a replica fails after the commit point",
			setup:    func(c *fakeCluster) { c.failOn = "db3: CHANGE MASTER" },
			wantErr:  []string{"step 11 (change-source on db3 (source db2)) failed", "(statement with a password, redacted)", "db2 is the new primary and may have taken writes", "apply again"},
			wantTail: []string{"db3: STOP SLAVE", "db3: CHANGE MASTER TO MASTER_HOST = 'db2', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'repl-pw', MASTER_CONNECT_RETRY = 5, MASTER_USE_GTID = slave_pos, MASTER_SSL = 1, MASTER_SSL_CA = '/etc/mysql/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT = 1"},
		},
		{
			name:     "a replica does not come up",
			setup:    func(c *fakeCluster) { c.failOn = "db3: START SLAVE" },
			wantErr:  []string{"step 12 (start-replica on db3) failed"},
			wantTail: []string{"db3: START SLAVE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, nodes, opts := newFake(t)
			tt.setup(c)
			err := ExecuteSwitchover(context.Background(), p, nodes, opts)
			var se *SwitchoverError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want *SwitchoverError", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
			if strings.Contains(err.Error(), "repl-pw") {
				t.Errorf("error shows the replication password: %v", err)
			}
			if se.RolledBack != tt.rolledBack || se.RollbackErr != nil {
				t.Errorf("rolled back = %t (%v), want %t", se.RolledBack, se.RollbackErr, tt.rolledBack)
			}
			tail := c.log[max(0, len(c.log)-len(tt.wantTail)):]
			if diff := cmp.Diff(tt.wantTail, tail); diff != "" {
				t.Errorf("last statements (-want +got):\n%s", diff)
			}
			if got := !c.hosts["db1"].readOnly; got != tt.db1Writes {
				t.Errorf("db1 writable = %t, want %t", got, tt.db1Writes)
			}
		})
	}
}

func TestExecuteSwitchoverMissingNode(t *testing.T) {
	t.Parallel()
	_, nodes, opts := newFake(t)
	delete(nodes, "db3")
	p, _ := PlanSwitchover(Topology{Primary: "db1", Replicas: []string{"db2", "db3"}}, "db2")
	if err := ExecuteSwitchover(context.Background(), p, nodes, opts); err == nil || !strings.Contains(err.Error(), "no connection to db3") {
		t.Errorf("error = %v", err)
	}
}

func TestDetectServerFake(t *testing.T) {
	t.Parallel()
	// FAKE: checks the probe's composition and parsing, not a server.
	r := runnerFunc(func(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
		in, _ := io.ReadAll(cmd.Stdin)
		if cmd.Argv[0] != "/bin/sh" || string(in) != "SET NAMES utf8mb4;\n"+ServerQuery+";\n" {
			return remote.Result{}, fmt.Errorf("unexpected %q %q", cmd.Argv, in)
		}
		return remote.Result{Stdout: []byte("version\tversion_comment\n9.7.4-2\t(Debian)\n")}, nil
	})
	s, err := DetectServer(context.Background(), r)
	if err != nil || s.Flavor != MySQL || s.Version != V(9, 7, 4) {
		t.Errorf("DetectServer = %v, %v", s, err)
	}
}

type runnerFunc func(ctx context.Context, cmd remote.Cmd) (remote.Result, error)

func (f runnerFunc) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	return f(ctx, cmd)
}

func TestExecScrubsSecrets(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MariaDB, V(10, 11, 19))
	pw := "sekrit-pw-0123456789"
	st, err := d.CreateUser(Account{User: "x", Host: "%"}, pw, UserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What the MariaDB 10.11 client really prints on stderr when a
	// statement fails in batch mode (captured), plus a server message that
	// quotes a truncated value.
	stderr := "--------------\nCREATE USER IF NOT EXISTS 'x'@'%' IDENTIFIED BY '" + pw + "' REQUIRE NONE\n--------------\n\n" +
		"ERROR 1064 (42000) at line 2: You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '" + pw[:12] + "...' at line 1\n"
	n := Node{Host: "db1", Dialect: d, Runner: runnerFunc(func(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
		return remote.Result{ExitStatus: 1, Stderr: []byte(stderr)}, &remote.ExitError{Argv: cmd.Argv, ExitStatus: 1, Stderr: stderr}
	})}
	err = n.Exec(context.Background(), ScriptOptions{}, st)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "sekrit") {
		t.Errorf("error shows the password: %s", msg)
	}
	if !strings.Contains(msg, "ERROR 1064 (42000) at line 2: You have an error in your SQL syntax") || !strings.Contains(msg, "near '***...'") {
		t.Errorf("error lost the server's message: %s", msg)
	}
	var ee *remote.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus != 1 {
		t.Errorf("error does not wrap the exit error: %#v", err)
	}

	// Without a secret, stderr is kept whole.
	err = n.Exec(context.Background(), ScriptOptions{}, d.StartReplica())
	if err == nil || !strings.Contains(err.Error(), "--------------") {
		t.Errorf("stderr of a script without secrets was changed: %v", err)
	}
}
