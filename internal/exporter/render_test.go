// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package exporter

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		c    Config
		path string // "" = valid
	}{
		{"node", Config{Kind: KindNode, Listen: "10.0.0.1:9100"}, ""},
		{"node v6", Config{Kind: KindNode, Listen: "[2001:db8::1]:9100"}, ""},
		{"nginx all", Config{Kind: KindNginx, Listen: "0.0.0.0:9113", StubStatusPort: 8080}, ""},
		{"kind", Config{Kind: "redis", Listen: "10.0.0.1:9100"}, "kind"},
		{"no port", Config{Kind: KindNode, Listen: "10.0.0.1"}, "listen"},
		{"name", Config{Kind: KindNode, Listen: "web1:9100"}, "listen"},
		{"port 0", Config{Kind: KindNode, Listen: "10.0.0.1:0"}, "listen"},
		{"newline", Config{Kind: KindNode, Listen: "10.0.0.1:9100\nARGS=x"}, "listen"},
		{"quote", Config{Kind: KindNode, Listen: `10.0.0.1:9100"`}, "listen"},
		{"zone", Config{Kind: KindNode, Listen: "[fe80::1%eth0]:9100"}, "listen"},
		{"stub on node", Config{Kind: KindNode, Listen: "10.0.0.1:9100", StubStatusPort: 8080}, "stub_status_port"},
		{"stub range", Config{Kind: KindNginx, Listen: "10.0.0.1:9113", StubStatusPort: 70000}, "stub_status_port"},
		{"listen on stub port", Config{Kind: KindNginx, Listen: "127.0.0.1:8405"}, "listen"},
		{"mysqld", Config{Kind: KindMySQL, Listen: "10.0.0.1:9104", MySQLPassword: "Exp-0rter-pw-42"}, ""},
		{"mysqld no password", Config{Kind: KindMySQL, Listen: "10.0.0.1:9104"}, "mysql_password"},
		{"mysqld short password", Config{Kind: KindMySQL, Listen: "10.0.0.1:9104", MySQLPassword: "short"}, "mysql_password"},
		{"mysqld quote in password", Config{Kind: KindMySQL, Listen: "10.0.0.1:9104", MySQLPassword: `Exp-0rter"pw-42`}, "mysql_password"},
		{"mysqld newline in password", Config{Kind: KindMySQL, Listen: "10.0.0.1:9104", MySQLPassword: "Exp-0rter-pw-42\n[x]"}, "mysql_password"},
		{"mysqld bad user", Config{Kind: KindMySQL, Listen: "10.0.0.1:9104", MySQLPassword: "Exp-0rter-pw-42", MySQLUser: "a'b"}, "mysql_user"},
		{"password on node", Config{Kind: KindNode, Listen: "10.0.0.1:9100", MySQLPassword: "Exp-0rter-pw-42"}, "kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.c.Validate()
			if c.path == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *fault.FieldError
			if !errors.As(err, &fe) || fe.Path != c.path {
				t.Fatalf("got %v, want an error on %s", err, c.path)
			}
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	node := Config{Kind: KindNode, Listen: "10.0.0.21:9100"}
	if diff := cmp.Diff("# Managed by Terraform (foobar_exporter); changes here are overwritten.\n"+
		"# Read by prometheus-node-exporter.service: the exporter's arguments.\n"+
		"ARGS=\"--web.listen-address=10.0.0.21:9100\"\n", string(node.RenderDefaults())); diff != "" {
		t.Errorf("node defaults (-want +got):\n%s", diff)
	}
	ng := Config{Kind: KindNginx, Listen: "0.0.0.0:9113", StubStatusPort: 8081}
	if got := string(ng.RenderDefaults()); !strings.Contains(got, `ARGS="--web.listen-address=0.0.0.0:9113 --nginx.scrape-uri=http://127.0.0.1:8081/foobar-stub-status"`) {
		t.Errorf("nginx defaults:\n%s", got)
	}
	if got := string(ng.RenderStubStatus()); !strings.Contains(got, "listen 127.0.0.1:8081;") || !strings.Contains(got, "location = /foobar-stub-status {\n        stub_status;") {
		t.Errorf("stub status server:\n%s", got)
	}
	my := Config{Kind: KindMySQL, Listen: "10.0.0.31:9104", MySQLPassword: "Exp-0rter-pw-42"}
	if got := string(my.RenderDefaults()); !strings.Contains(got, `ARGS="--web.listen-address=10.0.0.31:9104 --config.my-cnf=`+MySQLCnfPath+`"`) {
		t.Errorf("mysqld defaults:\n%s", got)
	}
	if diff := cmp.Diff("# Managed by Terraform (foobar_exporter kind \"mysqld\").\n[client]\nuser=foobar_exporter\npassword=\"Exp-0rter-pw-42\"\nsocket=/run/mysqld/mysqld.sock\n",
		string(my.RenderMySQLCnf())); diff != "" {
		t.Errorf("mysqld credentials (-want +got):\n%s", diff)
	}
	if fs := my.Files(); len(fs) != 2 || fs[1].Mode != 0o600 || fs[1].Owner != "prometheus" {
		t.Errorf("mysqld files: %+v", fs)
	}
	if strings.Contains(strings.Join(my.Args(), " "), my.MySQLPassword) {
		t.Error("the password is in the exporter's arguments")
	}
	if got, want := ng.MetricsURL(), "http://127.0.0.1:9113/metrics"; got != want {
		t.Errorf("MetricsURL = %s, want %s", got, want)
	}
	if got, want := (Config{Kind: KindNode, Listen: "[::]:9100"}).MetricsURL(), "http://[::1]:9100/metrics"; got != want {
		t.Errorf("MetricsURL = %s, want %s", got, want)
	}
	again := Config{Kind: KindNode, Listen: "10.0.0.21:9100"}
	if string(node.RenderDefaults()) != string(again.RenderDefaults()) {
		t.Error("render is not deterministic")
	}
}

// TestRenderNginxT runs the real `nginx -t` on the status server.
func TestRenderNginxT(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if os.Getenv("FOOBAR_REQUIRE_BINARIES") == "1" {
			t.Fatalf("nginx not found and FOOBAR_REQUIRE_BINARIES=1: %v", err)
		}
		t.Skipf("nginx not installed (%v)", err)
	}
	dir := t.TempDir()
	conf := "pid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include " + filepath.Join(dir, "status.conf") + ";\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "status.conf"), (Config{Kind: KindNginx, Listen: "10.0.0.1:9113"}).RenderStubStatus(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

// TestStackAlertRules runs promtool on the stack example's alerting rules:
// `check rules`, then `test rules`, which proves that each alert fires on a
// recorded failure.
func TestStackAlertRules(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("FOOBAR_REQUIRE_BINARIES") == "1" {
			t.Fatalf("promtool not found and FOOBAR_REQUIRE_BINARIES=1 (tools/deps.sh installs Debian's prometheus): %v", err)
		}
		t.Skipf("promtool not installed (%v)", err)
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = filepath.Join("..", "..", "examples", "foobar-stack", "monitoring")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
