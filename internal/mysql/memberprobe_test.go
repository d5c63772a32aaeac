// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// fakeClient answers the statements Observe sends the way a MariaDB primary
// does: the server's identity, variables, databases, the replication
// account and its grants; the section markers are echoed. With
// FAKE_DOWN set it fails as a client does when the server is down.
const fakeClient = `#!/bin/sh
if [ -n "$FAKE_DOWN" ]; then
  echo "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)" >&2
  exit 1
fi
awk -v version="$FAKE_VERSION" -v comment="$FAKE_COMMENT" '
BEGIN { RS = ";\n" }
/^SELECT VERSION\(\)/ { printf "version\tversion_comment\n%s\t%s\n", version, comment; next }
/ AS foobar_section$/ { n = $0; sub(/^SELECT \047/, "", n); sub(/\047 AS foobar_section$/, "", n); printf "foobar_section\n%s\n", n; next }
/^SHOW GLOBAL VARIABLES/ { printf "Variable_name\tValue\nread_only\tOFF\nserver_id\t7\n"; next }
/^SELECT schema_name/ { printf "name\nfoobar\nmysql\n"; next }
/^SELECT User AS user/ { printf "user\thost\nrepl\t%%\n"; next }
/^SHOW GRANTS FOR/ { printf "Grants for repl@%%\nGRANT REPLICATION SLAVE ON *.* TO \140repl\140@\140%%\140\n"; next }
'
`

// fakeHost runs commands on this machine with fakeClient first on PATH as
// mariadb and mysql, and counts them: one call is one round trip.
type fakeHost struct {
	env []string
	mu  sync.Mutex
	n   int
}

func newFakeHost(t *testing.T, env ...string) *fakeHost {
	t.Helper()
	bin := t.TempDir()
	for _, name := range []string{"mariadb", "mysql"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fakeClient), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &fakeHost{env: append([]string{"PATH=" + bin + ":" + os.Getenv("PATH")}, env...)}
}

func (h *fakeHost) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
	cmd.Argv = append(append([]string{"env"}, h.env...), cmd.Argv...)
	return remote.LocalRunner{}.Run(ctx, cmd)
}

func (h *fakeHost) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Observe reads a member in one round trip when the dialect it expects is
// the server's (known from before, or guessed from the flavor), and in two
// when it is not; what it finds is the same either way.
func TestObserveRoundTrips(t *testing.T) {
	t.Parallel()
	c := Cluster{Primary: Member{Host: "db1", ServerID: 7}, ReplicationUser: "repl", ReplicationPassword: "pw", Databases: []Database{{Name: "foobar"}}}
	mariadb := Server{Flavor: MariaDB, Version: V(10, 11, 6)}
	mysql84 := Server{Flavor: MySQL, Version: V(8, 4, 3)}
	var first Status
	for i, tc := range []struct {
		name      string
		known     map[string]Server
		flavor    Flavor
		wantTrips int
	}{
		{"known server", map[string]Server{"db1": mariadb}, FlavorUnknown, 1},
		{"guessed from nothing", nil, FlavorUnknown, 1},
		{"guessed from the flavor", nil, MariaDB, 1},
		{"known as another flavor", map[string]Server{"db1": mysql84}, FlavorUnknown, 2},
		{"configured as another flavor", nil, MySQL, 2},
	} {
		h := newFakeHost(t, "FAKE_VERSION=10.11.6-MariaDB-0+deb12u1", "FAKE_COMMENT=Debian 12")
		cc := c
		cc.Flavor = tc.flavor
		st := Observe(context.Background(), Env{Runners: map[string]Runner{"db1": h}, Servers: tc.known}, cc)
		if got := h.calls(); got != tc.wantTrips {
			t.Errorf("%s: %d round trips, want %d", tc.name, got, tc.wantTrips)
		}
		m := st.Members[0]
		if m.Err != nil || m.Server.Flavor != MariaDB || m.Server.Version != V(10, 11, 6) || m.ServerID != "7" || m.ReadOnly {
			t.Errorf("%s: member %+v", tc.name, m)
		}
		// The fake host has no settings file, and the replication account
		// exists with its grant: the settings file is the only drift.
		if len(st.Drift) != 1 || !strings.Contains(st.Drift[0], "60-foobar.cnf is missing") {
			t.Errorf("%s: drift %q", tc.name, st.Drift)
		}
		if i == 0 {
			first = st
		} else if d := cmp.Diff(fmt.Sprintf("%+v %q", first.Members, first.Drift), fmt.Sprintf("%+v %q", st.Members, st.Drift)); d != "" {
			t.Errorf("%s: another status than with the known server (-known +this):\n%s", tc.name, d)
		}
	}
}

// A server that does not answer is drift that says why, after one round
// trip; a member without a connection is drift without any.
func TestObserveServerDown(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "FAKE_DOWN=1")
	c := Cluster{Primary: Member{Host: "db1"}, Replicas: []Member{{Host: "db2"}}, ReplicationUser: "repl"}
	st := Observe(context.Background(), Env{Runners: map[string]Runner{"db1": h}}, c)
	if h.calls() != 1 {
		t.Errorf("%d round trips, want 1", h.calls())
	}
	want := []string{
		"db1 (primary): cannot be read: identify MySQL server: ",
		"db2 (replica): cannot be read: no connection to db2",
	}
	if len(st.Drift) != len(want) {
		t.Fatalf("drift %q", st.Drift)
	}
	for i, w := range want {
		if !strings.HasPrefix(st.Drift[i], w) {
			t.Errorf("drift[%d] = %q, want it to start with %q", i, st.Drift[i], w)
		}
	}
	if !strings.Contains(st.Drift[0], "ERROR 2002") {
		t.Errorf("the client's error is not in %q", st.Drift[0])
	}
}

func TestKnownServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flavor, version string
		want            Server
		ok              bool
	}{
		{"MariaDB", "10.11.6", Server{Flavor: MariaDB, Version: V(10, 11, 6), VersionString: "10.11.6"}, true},
		{"mysql", "9.7.0", Server{Flavor: MySQL, Version: V(9, 7, 0), VersionString: "9.7.0"}, true},
		{"unknown", "10.11.6", Server{}, false},
		{"MariaDB", "", Server{}, false},
		{"MariaDB", "10.11", Server{}, false},
		{"MariaDB", "10.11.6-extra", Server{}, false},
	} {
		got, ok := KnownServer(tc.flavor, tc.version)
		if ok != tc.ok || got != tc.want {
			t.Errorf("KnownServer(%q, %q) = %+v, %t; want %+v, %t", tc.flavor, tc.version, got, ok, tc.want, tc.ok)
		}
	}
}

// Plans for dialects that read the same things have the same key, and
// those that do not have different keys: the key decides whether a guessed
// probe's answers can be used.
func TestMemberPlanKey(t *testing.T) {
	t.Parallel()
	c := Cluster{Primary: Member{Host: "db1"}, Replicas: []Member{{Host: "db2"}}, ReplicationUser: "repl",
		Users: []User{{Name: "app", Database: "foobar", Privileges: []string{"SELECT"}}}}
	key := func(f Flavor, v Version, role Role) string {
		d, err := NewDialect(f, v)
		if err != nil {
			t.Fatal(err)
		}
		m := c.Primary
		if role == RoleReplica {
			m = c.Replicas[0]
		}
		return planMember(d, c, m, role).key()
	}
	if key(MariaDB, V(10, 11, 6), RolePrimary) != key(MariaDB, V(10, 11, 0), RolePrimary) {
		t.Errorf("two MariaDB 10.11 releases read different things")
	}
	for _, tc := range []struct {
		name string
		a, b string
	}{
		{"flavors", key(MariaDB, V(10, 11, 6), RolePrimary), key(MySQL, V(8, 4, 0), RolePrimary)},
		{"MySQL before and after 8.0.22", key(MySQL, V(8, 0, 21), RoleReplica), key(MySQL, V(8, 0, 22), RoleReplica)},
		{"roles", key(MariaDB, V(10, 11, 6), RolePrimary), key(MariaDB, V(10, 11, 6), RoleReplica)},
	} {
		if tc.a == tc.b {
			t.Errorf("%s: same key", tc.name)
		}
	}
}
