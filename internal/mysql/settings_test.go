// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/testutil/golden"
)

func TestRenderSettingsGolden(t *testing.T) {
	t.Parallel()
	extra := map[string]string{
		"max-connections":         "500",
		"innodb_buffer_pool_size": "1G",
		"skip-name-resolve":       "",
		"sql_mode":                "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION",
	}
	tests := []struct {
		name string
		f    Flavor
		v    Version
		s    Settings
	}{
		{"mariadb-10.11-primary.cnf", MariaDB, V(10, 11, 18), Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db1.example.com", Extra: extra}},
		{"mariadb-10.11-replica.cnf", MariaDB, V(10, 11, 18), Settings{Role: RoleReplica, ServerID: DeriveServerID("db2.example.com"), ReportHost: "db2.example.com", BindAddress: "10.0.0.12", Port: 3307}},
		{"mariadb-11.8-replica.cnf", MariaDB, V(11, 8, 3), Settings{Role: RoleReplica, ServerID: 3, ReportHost: "10.0.0.13", BindAddress: "10.0.0.13,127.0.0.1"}},
		{"mysql-9.7-primary.cnf", MySQL, V(9, 7, 4), Settings{Role: RolePrimary, ServerID: 11, ReportHost: "db1.example.com", Extra: extra}},
		{"mysql-9.7-replica.cnf", MySQL, V(9, 7, 4), Settings{Role: RoleReplica, ServerID: 12, ReportHost: "db2.example.com", BindAddress: "::"}},
		{"mysql-8.0.21-replica.cnf", MySQL, V(8, 0, 21), Settings{Role: RoleReplica, ServerID: 12, ReportHost: "db2.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDialect(t, tt.f, tt.v)
			got, err := d.RenderSettings(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			again, err := d.RenderSettings(tt.s)
			if err != nil || !bytes.Equal(got, again) {
				t.Fatalf("rendering is not deterministic")
			}
			if !bytes.HasPrefix(got, []byte(FragmentHeader+"\n")) {
				t.Errorf("fragment does not start with the managed header")
			}
			golden.Assert(t, filepath.Join("testdata", "golden", tt.name), got)
		})
	}
}

// TestRolesDifferOnlyInDynamicSettings is what lets a switchover rewrite
// fragments without restarting anything.
func TestRolesDifferOnlyInDynamicSettings(t *testing.T) {
	t.Parallel()
	for _, d := range []Dialect{mustDialect(t, MariaDB, V(10, 11, 18)), mustDialect(t, MySQL, V(9, 7, 4)), mustDialect(t, MySQL, V(8, 0, 21))} {
		s := Settings{Role: RolePrimary, ServerID: 7, ReportHost: "db1"}
		p, err := d.ServerSettings(s)
		if err != nil {
			t.Fatal(err)
		}
		s.Role = RoleReplica
		r, err := d.ServerSettings(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.RestartNeeded(p, r); len(got) != 0 {
			t.Errorf("%s %s: role change needs a restart for %q", d.Flavor, d.Version, got)
		}
		if diff := cmp.Diff(p, r); diff == "" {
			t.Errorf("%s: primary and replica fragments are identical", d.Flavor)
		}
	}
}

func TestRestartNeeded(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MySQL, V(9, 7, 4))
	old := []Setting{{"server_id", "1"}, {"max_connections", "100"}, {"innodb_log_file_size", "1G"}, {"long_query_time", "2"}}
	cur := []Setting{{"server_id", "1"}, {"max_connections", "200"}, {"innodb_log_file_size", "2G"}, {"wait_timeout", "60"}, {"bind_address", "0.0.0.0"}}
	got := d.RestartNeeded(old, cur)
	want := []string{"bind_address", "innodb_log_file_size", "long_query_time"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RestartNeeded (-want +got):\n%s", diff)
	}
	if got := d.RestartNeeded(old, old); len(got) != 0 {
		t.Errorf("unchanged settings need a restart: %q", got)
	}
}

func TestServerSettingsErrors(t *testing.T) {
	t.Parallel()
	ma := mustDialect(t, MariaDB, V(10, 11, 18))
	my80 := mustDialect(t, MySQL, V(8, 0, 12))
	tests := []struct {
		name string
		d    Dialect
		s    Settings
		want string
	}{
		{"no role", ma, Settings{ServerID: 1, ReportHost: "db1"}, "unknown role"},
		{"server id 0", ma, Settings{Role: RolePrimary, ReportHost: "db1"}, `server_id = "0" is not valid`},
		{"bad report host", ma, Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db 1"}, `host = "db 1" is not valid`},
		{"bad bind", ma, Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db1", BindAddress: "0.0.0.0\nskip-grant-tables"}, "bind_address"},
		{"multi bind on old mysql", my80, Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db1", BindAddress: "10.0.0.1,127.0.0.1"}, "accepts a single address"},
		{"bad port", ma, Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db1", Port: 70000}, "port"},
		{"owned extra", ma, Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db1", Extra: map[string]string{"server-id": "5"}}, `settings["server-id"] = "server-id" is not valid: is managed by the resource: use the member's server_id attribute`},
		{"duplicate extra", ma, Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db1", Extra: map[string]string{"max-connections": "5", "max_connections": "6"}}, "is the same setting as"},
		{"injected value", ma, Settings{Role: RolePrimary, ServerID: 1, ReportHost: "db1", Extra: map[string]string{"max_connections": "5\n[client]"}}, "printable ASCII on one line"},
	}
	for _, tt := range tests {
		_, err := tt.d.RenderSettings(tt.s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestDeriveServerID(t *testing.T) {
	t.Parallel()
	a := DeriveServerID("db1.example.com")
	if a == 0 || a != DeriveServerID("DB1.example.com") {
		t.Errorf("DeriveServerID is not stable and case-insensitive: %d", a)
	}
	// Pinned: changing the derivation would change every derived server_id
	// of existing clusters (and force restarts).
	if a != 2314484677 {
		t.Errorf("DeriveServerID(db1.example.com) = %d, want 2314484677 (pinned)", a)
	}
	if DeriveServerID("db1.example.com") == DeriveServerID("db2.example.com") {
		t.Error("neighbouring names collide")
	}
}

// FuzzRenderSettings: whatever extras are accepted, the fragment has one
// option per line under one section, and each accepted extra reads back as
// itself.
func FuzzRenderSettings(f *testing.F) {
	f.Add("max_connections", "100", "sql-mode", "A,B")
	f.Add("x", "a#b", "y", "\"q\"")
	f.Add("log_error", "/var/log/mysql/error.log", "skip_name_resolve", "")
	d := mustDialect(f, MariaDB, V(10, 11, 18))
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		s := Settings{Role: RoleReplica, ServerID: 9, ReportHost: "db9", Extra: map[string]string{n1: v1, n2: v2}}
		out, err := d.RenderSettings(s)
		if err != nil {
			return
		}
		sections := 0
		opts := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "["):
				sections++
			default:
				name, value, _ := strings.Cut(line, " = ")
				if strings.ContainsAny(name, " #'\"\\") {
					t.Fatalf("bad option line %q", line)
				}
				opts[name] = value
			}
		}
		if sections != 1 {
			t.Fatalf("%d sections in\n%s", sections, out)
		}
		for n, v := range map[string]string{n1: v1, n2: v2} {
			if got, ok := opts[strings.ReplaceAll(n, "-", "_")]; !ok || got != v {
				t.Fatalf("extra %q=%q reads back as %q (%t) from\n%s", n, v, got, ok, out)
			}
		}
		if opts["server_id"] != "9" || opts["read_only"] != "ON" {
			t.Fatalf("owned settings overridden:\n%s", out)
		}
	})
}
