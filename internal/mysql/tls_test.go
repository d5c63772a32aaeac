// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// TestServerTLSFiles: with server TLS, every member's fragment names the
// certificate and key, and the key is written for the server's group only;
// without it, neither the settings nor the files exist.
func TestServerTLSFiles(t *testing.T) {
	t.Parallel()
	srv := &ServerTLS{CertPEM: []byte("CERT"), KeyPEM: []byte("KEY")}
	for _, d := range []Dialect{mustDialect(t, MariaDB, V(10, 11, 18)), mustDialect(t, MySQL, V(9, 7, 4))} {
		for _, role := range []Role{RolePrimary, RoleReplica} {
			s := Settings{Role: role, ServerID: 7, ReportHost: "10.0.0.1", ServerTLS: true}
			files, err := settingsFiles(d, s, nil, srv)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]apply.File{}
			for _, f := range files {
				got[f.Path] = f
			}
			frag := string(got[d.SettingsPath].Content)
			if !strings.Contains(frag, "ssl_cert = "+ServerCertFile+"\n") || !strings.Contains(frag, "ssl_key = "+ServerKeyFile+"\n") {
				t.Errorf("%s %s: fragment without ssl_cert/ssl_key:\n%s", d.Flavor, role, frag)
			}
			if diff := cmp.Diff(apply.File{Path: ServerKeyFile, Content: []byte("KEY"), Group: "mysql", Mode: 0o640}, got[ServerKeyFile]); diff != "" {
				t.Errorf("%s %s: key file (-want +got):\n%s", d.Flavor, role, diff)
			}
			if diff := cmp.Diff(apply.File{Path: ServerCertFile, Content: []byte("CERT"), Mode: 0o644}, got[ServerCertFile]); diff != "" {
				t.Errorf("%s %s: certificate file (-want +got):\n%s", d.Flavor, role, diff)
			}

			s.ServerTLS = false
			files, err = settingsFiles(d, s, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 || strings.Contains(string(files[0].Content), "ssl_") {
				t.Errorf("%s %s: without server TLS: %d files, fragment:\n%s", d.Flavor, role, len(files), files[0].Content)
			}
		}
		// ssl_cert and ssl_key are restarts (never SET GLOBAL behind the
		// provider's back).
		if d.IsDynamic("ssl_cert") || d.IsDynamic("ssl_key") {
			t.Errorf("%s: ssl_cert/ssl_key taken for dynamic", d.Flavor)
		}
	}
}

// TestServerTLSSettingsConflict: ssl_cert in settings while server_tls
// manages it is a plan-time error naming the setting.
func TestServerTLSSettingsConflict(t *testing.T) {
	t.Parallel()
	c := Cluster{
		Primary: Member{Host: "10.0.0.1"}, ReplicationUser: "repl",
		Settings: map[string]string{"ssl-cert": "/etc/x.pem"}, ServerTLS: &ServerTLS{},
	}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), `settings["ssl-cert"]`) || !strings.Contains(err.Error(), "managed by server_tls") {
		t.Fatalf("got %v", err)
	}
	c.ServerTLS = nil
	if err := c.Validate(); err != nil {
		t.Fatalf("without server_tls, ssl_cert in settings is the operator's: %v", err)
	}
}

func TestTLSRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		st   ReplicaStatus
		want bool
	}{
		{"certificate refused", ReplicaStatus{IOState: "Connecting", LastIOErrno: 2026}, true},
		{"running", ReplicaStatus{IORunning: true, SQLRunning: true}, false},
		{"source down", ReplicaStatus{IOState: "Connecting", LastIOErrno: 2003}, false},
	} {
		if got := tt.st.TLSRefused(); got != tt.want {
			t.Errorf("%s: TLSRefused = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestAccountsRequireSSL(t *testing.T) {
	t.Parallel()
	tb := Table{Columns: []string{"user", "host", "ssl_type"}, Rows: [][]string{{"app", "%", "ANY"}, {"repl", "%", ""}, {"x", "h", "X509"}}}
	want := map[Account]bool{{User: "app", Host: "%"}: true, {User: "repl", Host: "%"}: false, {User: "x", Host: "h"}: true}
	if diff := cmp.Diff(want, ParseAccountsRequireSSL(tb)); diff != "" {
		t.Error(diff)
	}
	d := mustDialect(t, MariaDB, V(10, 11, 18))
	for _, tt := range []struct {
		on   bool
		want string
	}{{true, "ALTER USER 'app'@'%' REQUIRE SSL"}, {false, "ALTER USER 'app'@'%' REQUIRE NONE"}} {
		s, err := d.AlterUserTLS(Account{User: "app", Host: "%"}, UserOptions{RequireSSL: tt.on})
		if err != nil || s.SQL() != tt.want {
			t.Errorf("AlterUserTLS(%t) = %q, %v; want %q", tt.on, s.SQL(), err, tt.want)
		}
	}
}
