// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// FAKE SERVERS: these tests check ensureReplica's decisions (what it runs
// for each replica state) against a pattern-matching fake; the lab's
// acceptance tests check the same against real servers.

type replicaFake struct {
	mu       sync.Mutex
	d        Dialect
	status   string // SHOW ... STATUS data row, "" for none
	nonEmpty []string
	log      []string
	// noPosition: the primary's GTID position query answers no row.
	noPosition bool
}

var markerRE = regexp.MustCompile(`^SELECT '([0-9a-f]+)' AS ` + sectionColumn + `$`)

func (f *replicaFake) runner(host string) Runner {
	return runnerFunc(func(_ context.Context, cmd remote.Cmd) (remote.Result, error) {
		in, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return remote.Result{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		var out strings.Builder
		for _, st := range strings.Split(strings.TrimSuffix(string(in), ";\n"), ";\n") {
			if m := markerRE.FindStringSubmatch(st); m != nil {
				fmt.Fprintf(&out, "%s\n%s\n", sectionColumn, m[1])
				continue
			}
			if strings.HasPrefix(st, "SET SESSION") || st == pinCharset {
				continue
			}
			switch {
			case strings.HasPrefix(st, "SHOW GLOBAL VARIABLES"):
				out.WriteString("Variable_name\tValue\nread_only\tON\n")
			case st == f.d.ShowReplicaStatus().SQL():
				if host == "replica" && f.status != "" {
					fs := f.d.Status
					out.WriteString(strings.Join([]string{fs.IORunning, fs.SQLRunning, fs.SecondsBehind, fs.SourceHost, fs.SourcePort, fs.SourceUser,
						fs.LastIOErrno, fs.LastIOError, fs.LastSQLErrno, fs.LastSQLError, fs.GTIDPosition, fs.UsingGTID,
						fs.SSLAllowed, fs.SSLCAFile, fs.SSLVerifyServer}, "\t") + "\n")
					out.WriteString(f.status + "\n")
				}
			case strings.HasPrefix(st, "SELECT DISTINCT table_schema"):
				if host == "replica" && len(f.nonEmpty) > 0 {
					out.WriteString("name\n" + strings.Join(f.nonEmpty, "\n") + "\n")
				}
			case strings.HasPrefix(st, "SELECT @@GLOBAL.gtid_binlog_pos") && f.noPosition:
				out.WriteString("gtid_position\n")
			case strings.HasPrefix(st, "SELECT @@GLOBAL.gtid_binlog_pos"):
				out.WriteString("gtid_position\n0-1-10\n")
			case strings.HasPrefix(st, "SELECT MASTER_GTID_WAIT"):
				f.log = append(f.log, host+": wait")
				out.WriteString("result\n0\n")
			default:
				f.log = append(f.log, host+": "+st)
				if m := regexp.MustCompile(`MASTER_HOST = '([^']*)'`).FindStringSubmatch(st); m != nil {
					f.status = strings.Join([]string{"No", "No", "NULL", m[1], "3306", "repl", "0", "", "0", "", "", "Slave_Pos", "No", "", "No"}, "\t")
				}
				if strings.HasPrefix(st, "START SLAVE") {
					f.status = strings.Replace(f.status, "No\tNo", "Yes\tYes", 1)
					f.status = strings.Replace(f.status, "Yes\tNo", "Yes\tYes", 1)
				}
			}
		}
		return remote.Result{Stdout: []byte(out.String())}, nil
	})
}

func TestEnsureReplicaDecisions(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MariaDB, V(10, 11, 18))
	// IO, SQL, behind, host, port, user, io errno, io error, sql errno,
	// sql error, gtid io pos, using gtid, ssl, ssl ca, ssl verify.
	row := func(io, sql, host string) string {
		return strings.Join([]string{io, sql, "0", host, "3306", "repl", "0", "", "0", "", "0-1-10", "Slave_Pos", "No", "", "No"}, "\t")
	}
	change := "CHANGE MASTER TO MASTER_HOST = 'db1', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw', MASTER_CONNECT_RETRY = 5, MASTER_USE_GTID = slave_pos, MASTER_SSL = 0, MASTER_SSL_CA = '', MASTER_SSL_VERIFY_SERVER_CERT = 0"
	tests := []struct {
		name     string
		status   string
		nonEmpty []string
		prior    *Prior
		pwChange bool
		want     []string
		err      string
	}{
		{"healthy: nothing issued", row("Yes", "Yes", "db1"), []string{"app"}, nil, false,
			[]string{"replica: wait"}, ""},
		{"SQL thread stopped: started, no CHANGE", row("Yes", "No", "db1"), []string{"app"}, nil, false,
			[]string{"replica: START SLAVE", "replica: wait"}, ""},
		{"password changed: CHANGE", row("Yes", "Yes", "db1"), []string{"app"}, nil, true,
			[]string{"replica: STOP SLAVE", "replica: " + change, "replica: START SLAVE", "replica: wait"}, ""},
		{"replicates from another member: repointed", row("Yes", "Yes", "db3"), []string{"app"}, &Prior{Primary: "db3", Replicas: []string{"db1", "replica"}}, false,
			[]string{"replica: STOP SLAVE", "replica: " + change, "replica: START SLAVE", "replica: wait"}, ""},
		{"former member with data, not replicating: repointed by GTID", "", []string{"app"}, &Prior{Primary: "db1", Replicas: []string{"replica"}}, false,
			[]string{"replica: STOP SLAVE", "replica: " + change, "replica: START SLAVE", "replica: wait"}, ""},
		{"stranger with data: refused", row("Yes", "Yes", "elsewhere"), []string{"app", "shop"}, nil, false,
			nil, "replicates from elsewhere:3306, which is not a member of this cluster and holds databases with tables (app, shop)"},
		{"standalone with data: refused", "", []string{"app"}, nil, false,
			nil, "does not replicate and holds databases with tables (app)"},
	}
	for _, tt := range tests {
		f := &replicaFake{d: d, status: tt.status, nonEmpty: tt.nonEmpty}
		c := Cluster{Primary: Member{Host: "db1"}, Replicas: []Member{{Host: "replica"}}, ReplicationUser: "repl", ReplicationPassword: "pw"}
		x := &conv{c: c, o: ConvergeOptions{Prior: tt.prior, ReplicationPasswordChanged: tt.pwChange, WaitTimeout: 2 * time.Second},
			nodes:     map[string]*prepared{},
			caChanged: map[string]bool{},
		}
		for _, h := range []string{"db1", "replica", "db3"} {
			x.nodes[h] = &prepared{Node: Node{Host: h, Runner: f.runner(h), Dialect: d}}
		}
		err := x.ensureReplica(context.Background(), "replica")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			if len(f.log) != 0 {
				t.Errorf("%s: refused, but ran %q", tt.name, f.log)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, f.log); diff != "" {
			t.Errorf("%s: executed (-want +got):\n%s", tt.name, diff)
		}
	}
}

// A primary whose answer has no GTID position must not let the wait pass:
// waiting for the empty set succeeds at once, whatever the replica has
// applied (a switchover could promote a replica that has not caught up).
func TestWaitCaughtUpWithoutPosition(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MariaDB, V(10, 11, 18))
	row := strings.Join([]string{"Yes", "Yes", "0", "db1", "3306", "repl", "0", "", "0", "", "0-1-10", "Slave_Pos", "No", "", "No"}, "\t")
	f := &replicaFake{d: d, status: row, noPosition: true}
	c := Cluster{Primary: Member{Host: "db1"}, Replicas: []Member{{Host: "replica"}}, ReplicationUser: "repl", ReplicationPassword: "pw"}
	x := &conv{c: c, o: ConvergeOptions{WaitTimeout: 2 * time.Second}, nodes: map[string]*prepared{}, caChanged: map[string]bool{}}
	for _, h := range []string{"db1", "replica"} {
		x.nodes[h] = &prepared{Node: Node{Host: h, Runner: f.runner(h), Dialect: d}}
	}
	err := x.waitCaughtUp(context.Background(), "replica")
	if err == nil {
		t.Fatalf("the wait passed without the primary's GTID position (ran %q)", f.log)
	}
	for _, want := range []string{"db1", "replica", "gtid_position", "gtid_binlog_pos"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if len(f.log) != 0 {
		t.Errorf("waited anyway: %q", f.log)
	}
}
