// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// FAKE SERVERS: these tests check SeedReplica's own sequencing, streaming
// and error handling against pattern-matching fakes, not real servers.

type seedFake struct {
	mu         sync.Mutex
	log        []string
	replicaDBs string
	dumpFails  bool
	loaded     string
}

func (f *seedFake) runner(host string, d Dialect) Runner {
	return runnerFunc(func(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
		var in []byte
		if cmd.Stdin != nil {
			in, _ = io.ReadAll(cmd.Stdin)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case cmd.Argv[0] == d.DumpTool:
			f.log = append(f.log, host+": "+strings.Join(cmd.Argv, " "))
			fmt.Fprint(cmd.Stdout, "-- dump\nCREATE TABLE t (i INT);\n")
			if f.dumpFails {
				return remote.Result{ExitStatus: 2}, &remote.ExitError{Argv: cmd.Argv, ExitStatus: 2, Stderr: "mysqldump: Got error: 1045"}
			}
			return remote.Result{}, nil
		case strings.Contains(strings.Join(cmd.Argv, " "), "--init-command=SET NAMES utf8mb4, SESSION sql_log_bin = 0"):
			f.log = append(f.log, host+": load")
			f.loaded = string(in)
			return remote.Result{}, nil
		}
		var out strings.Builder
		for _, st := range strings.Split(strings.TrimSuffix(string(in), ";\n"), ";\n") {
			if strings.HasPrefix(st, "SET SESSION sql_mode") || st == pinCharset {
				continue
			}
			f.log = append(f.log, host+": "+st)
			switch {
			case strings.HasPrefix(st, "SELECT schema_name") && host == "primary":
				out.WriteString("name\napp\nshop\n")
			case strings.HasPrefix(st, "SELECT DISTINCT table_schema") && host == "replica":
				out.WriteString(f.replicaDBs)
			case st == d.ShowReplicaStatus().SQL():
				fs := d.Status
				out.WriteString(strings.Join([]string{fs.IORunning, fs.SQLRunning, fs.SecondsBehind, fs.SourceHost, fs.SourcePort, fs.SourceUser,
					fs.LastIOErrno, fs.LastIOError, fs.LastSQLErrno, fs.LastSQLError, fs.GTIDPosition, fs.ExecutedGTIDSet, fs.UsingGTID,
					fs.SSLAllowed, fs.SSLCAFile, fs.SSLVerifyServer, fs.Channel}, "\t") + "\n")
				out.WriteString("Yes\tYes\t0\tdb1\t3306\trepl\t0\t\t0\t\t\tuuid:1-5\t1\tNo\t\tNo\t\n")
			}
		}
		return remote.Result{Stdout: []byte(out.String())}, nil
	})
}

func TestSeedReplicaFake(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MySQL, V(9, 7, 4))
	repl := Account{User: "repl", Host: "%"}
	create, err := d.CreateUser(repl, "repl-pw", UserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	grant, err := d.GrantReplication(repl)
	if err != nil {
		t.Fatal(err)
	}
	src := SourceConfig{Host: "db1", User: "repl", Password: "repl-pw"}
	change := "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db1', SOURCE_PORT = 3306, SOURCE_USER = 'repl', SOURCE_PASSWORD = 'repl-pw', SOURCE_CONNECT_RETRY = 5, SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 0, SOURCE_SSL_CA = '', SOURCE_SSL_VERIFY_SERVER_CERT = 0, GET_SOURCE_PUBLIC_KEY = 1"

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		f := &seedFake{}
		p := Node{Host: "primary", Runner: f.runner("primary", d), Dialect: d}
		r := Node{Host: "replica", Runner: f.runner("replica", d), Dialect: d}
		if err := SeedReplica(context.Background(), p, r, SeedOptions{Source: src, Accounts: []Stmt{create, grant}}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"replica: SELECT DISTINCT table_schema AS name FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys') ORDER BY table_schema",
			"primary: SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys') ORDER BY schema_name",
			"replica: SET GLOBAL super_read_only = OFF", "replica: SET GLOBAL read_only = OFF",
			"replica: STOP REPLICA", "replica: RESET REPLICA ALL", "replica: RESET BINARY LOGS AND GTIDS",
			"primary: mysqldump --default-character-set=utf8mb4 --single-transaction --source-data=2 --set-gtid-purged=ON --routines --triggers --events --hex-blob --max-allowed-packet=1073741824 --databases app shop",
			"replica: load",
			"replica: SET SESSION sql_log_bin = 0",
			"replica: CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl-pw' REQUIRE NONE",
			"replica: GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'",
			"replica: " + change,
			"replica: SET GLOBAL read_only = ON", "replica: SET GLOBAL super_read_only = ON",
			"replica: START REPLICA",
			"replica: SHOW REPLICA STATUS",
		}
		// The dump and the load run concurrently, but the load finishes
		// reading only after the dump closed the pipe: the order is fixed.
		if diff := cmp.Diff(want, f.log); diff != "" {
			t.Errorf("executed (-want +got):\n%s", diff)
		}
		if f.loaded != "-- dump\nCREATE TABLE t (i INT);\n" {
			t.Errorf("load received %q", f.loaded)
		}
	})

	t.Run("replica has data", func(t *testing.T) {
		t.Parallel()
		f := &seedFake{replicaDBs: "name\nlegacy\n"}
		p := Node{Host: "primary", Runner: f.runner("primary", d), Dialect: d}
		r := Node{Host: "replica", Runner: f.runner("replica", d), Dialect: d}
		err := SeedReplica(context.Background(), p, r, SeedOptions{Source: src})
		check(t, "seed over data", err, `the replica already has databases with tables ["legacy"]`)
		if len(f.log) != 1 {
			t.Errorf("something ran after the refusal: %q", f.log)
		}
	})

	t.Run("dump fails", func(t *testing.T) {
		t.Parallel()
		f := &seedFake{dumpFails: true}
		p := Node{Host: "primary", Runner: f.runner("primary", d), Dialect: d}
		r := Node{Host: "replica", Runner: f.runner("replica", d), Dialect: d}
		err := SeedReplica(context.Background(), p, r, SeedOptions{Source: src})
		check(t, "dump fails", err, "seed replica from primary: copy: dump on primary")
		check(t, "dump fails", err, "may hold a partial copy")
		tail := f.log[len(f.log)-2:]
		if diff := cmp.Diff([]string{"replica: SET GLOBAL read_only = ON", "replica: SET GLOBAL super_read_only = ON"}, tail); diff != "" {
			t.Errorf("replica not made read-only again (-want +got):\n%s", diff)
		}
		for _, l := range f.log {
			if strings.Contains(l, "CHANGE") || strings.Contains(l, "START") {
				t.Errorf("replication configured after a failed copy: %s", l)
			}
		}
	})
}
