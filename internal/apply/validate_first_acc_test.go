// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply_test

// Nothing invalid ever sits at a live path: while the engine refuses an
// invalid configuration, a watcher inside the host (started before the
// apply, stopped after it) reads the live file's sha256 in a tight loop and
// runs the service's own validator on the live configuration over and over,
// as a reload by an operator, logrotate or the init system would load it.
// The file must never change and the validator must never fail.

import (
	"context"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// refusedWhileWatched applies c (which the host's validator must refuse)
// while path is watched, and checks that the live configuration never
// showed the refused file.
func refusedWhileWatched(t *testing.T, h acctest.Host, c *ssh.Client, ch apply.Change, path string, check ...string) {
	t.Helper()
	before := h.Sha256(t, path)
	w := h.WatchLive(t, path, check...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	_, err := apply.Apply(ctx, c, ch)
	took := time.Since(start)
	r := w.Stop(t)
	t.Logf("refused apply took %s; the watcher read %s %d times and ran %v %d times", took, path, r.Samples, check, r.Checks)
	ve := acctest.As[*apply.ValidationError](t, err)
	if !ve.Restored || ve.Swapped {
		t.Errorf("ValidationError: Restored %v, Swapped %v; want the candidates validated before any swap", ve.Restored, ve.Swapped)
	}
	if r.Start != before {
		t.Errorf("the watcher started on sha256 %s, the file had %s", r.Start, before)
	}
	if len(r.Changes) > 0 {
		t.Errorf("%s changed during a refused apply: sha256 %s became %v", path, before, r.Changes)
	}
	for _, f := range r.Failures {
		t.Errorf("a reload during the refused apply would have loaded an invalid configuration: %v said: %s", check, f)
	}
	if r.Samples == 0 || r.Checks == 0 {
		t.Errorf("the watcher did not run: %d samples, %d checks", r.Samples, r.Checks)
	}
	if got := h.Sha256(t, path); got != before {
		t.Errorf("%s has sha256 %s after the refused apply, want %s", path, got, before)
	}
}

func TestAccApply_HAProxyInvalidNeverLive(t *testing.T) {
	f := newLB(t, "lb1")
	f.mustApply(t, f.good(t))
	bad := f.x.Config(t, f.web.Address, 80, func(c *haproxy.Config) { c.NbThread = 100 })
	refusedWhileWatched(t, f.lb, f.c, f.x.Change(t, f.c, bad, f.web.Name), haproxy.ConfigPath, haproxy.ValidateArgv(haproxy.ConfigPath)...)
	f.serves(t)
	f.noLeftovers(t)
}

func TestAccApply_NginxInvalidNeverLive(t *testing.T) {
	inv := acctest.RemoteLab(t)
	h := inv.Host(t, "web1")
	c := acctest.Connect(t, inv.SSHConfig(h))
	const p = "/etc/nginx/conf.d/foobar-acc-watch.conf"
	t.Cleanup(func() {
		_, _ = h.TryExec("sh", "-c", `rm -f -- "$1" "$1".foobar-*; systemctl reload nginx`, "sh", p)
	})
	ch := func(content string) apply.Change {
		return apply.Change{
			Files:          []apply.File{{Path: p, Content: []byte(content), Owner: "root", Group: "root", Mode: 0o644}},
			Validate:       nginx.TestArgv(),
			ValidateFilter: nginx.FilterTestOutput,
			Reload:         apply.Systemd.Argv(apply.ActionReload, "nginx"),
			Lock:           nginx.SiteLock,
			Host:           h.Name,
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := apply.Apply(ctx, c, ch("server {\n  listen 8089;\n  return 200 \"watch\\n\";\n}\n")); err != nil {
		t.Fatalf("valid site: %v", err)
	}
	refusedWhileWatched(t, h, c, ch("server {\n  listen 8089;\n  no_such_directive on;\n}\n"), p, "nginx", "-t", "-q")
	if l := h.Leftovers(t, p); len(l) > 0 {
		t.Errorf("files left next to %s: %v", p, l)
	}
}

// TestAccApply_MariaDBInvalidNeverLive and TestAccApply_MySQLInvalidNeverLive:
// one body (serverInvalidNeverLive) on each flavor's lab host; the dialect
// is the one of the server the host runs (mariadbd --verbose --help on
// MariaDB, mysqld --validate-config on MySQL).
func TestAccApply_MariaDBInvalidNeverLive(t *testing.T) {
	serverInvalidNeverLive(t, "db2", mysql.MariaDB)
}

func TestAccApply_MySQLInvalidNeverLive(t *testing.T) {
	serverInvalidNeverLive(t, "mysql2", mysql.MySQL)
}

// serverInvalidNeverLive: a valid option fragment goes live, then one with
// an unknown option is refused by the server's own check while the live
// fragment is watched; the server still answers afterwards.
func serverInvalidNeverLive(t *testing.T, host string, flavor mysql.Flavor) {
	inv := acctest.RemoteLab(t)
	h := inv.Host(t, host)
	c := acctest.Connect(t, inv.SSHConfig(h))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := mysql.DetectServer(ctx, c)
	if err != nil {
		t.Fatalf("%s: %v", host, err)
	}
	if srv.Flavor != flavor {
		t.Fatalf("%s runs %s %s, want %s", host, srv.Flavor, srv.Version, flavor)
	}
	d, err := srv.Dialect()
	if err != nil {
		t.Fatal(err)
	}
	validate, err := d.ValidateConfigArgv("")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s %s, validator %q", host, srv.Flavor, srv.Version, validate)
	p := d.ConfDir + "/zz-foobar-acc-watch.cnf"
	t.Cleanup(func() { _, _ = h.TryExec("sh", "-c", `rm -f -- "$1" "$1".foobar-*`, "sh", p) })
	ch := func(content string) apply.Change {
		return apply.Change{
			Files:    []apply.File{{Path: p, Content: []byte(content), Owner: "root", Group: "root", Mode: 0o644}},
			Validate: validate,
			Lock:     "foobar-acc-mysql",
			Host:     h.Name,
		}
	}
	if _, err := apply.Apply(ctx, c, ch("[mysqld]\nmax_connections = 151\n")); err != nil {
		t.Fatalf("%s: valid fragment: %v", host, err)
	}
	refusedWhileWatched(t, h, c, ch("[mysqld]\nno_such_option = 1\n"), p, validate...)
	if l := h.Leftovers(t, p); len(l) > 0 {
		t.Errorf("files left next to %s: %v", p, l)
	}
	if _, err := h.TrySQL("SELECT 1"); err != nil {
		t.Errorf("the server on %s does not answer after the refused apply: %v", host, err)
	}
}
