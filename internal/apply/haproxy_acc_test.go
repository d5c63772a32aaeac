// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply_test

// Acceptance tests of the engine on the lab's real hosts (TF_ACC=1): real
// sshd, sudo, systemd and HAProxy. They drive apply.Apply through a
// test-only harness (acctest.HAProxy) the way the load balancer resource
// will, and check every outcome on the host out of band (docker exec).

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// accPort is the frontend port of the test configs: not one the lab's
// services or other tests use.
const accPort = 8088

// lbFixture is an HAProxy host taken over for one test. When the test ends
// the host gets its own haproxy.cfg back (apply.RestoreOriginal), checked
// out of band.
type lbFixture struct {
	inv  *acctest.Inventory
	lb   acctest.Host
	web  acctest.Host
	c    *ssh.Client
	x    acctest.HAProxy
	orig string // sha256 of the host's own haproxy.cfg
}

func newLB(t *testing.T, name string) *lbFixture {
	t.Helper()
	inv := acctest.RemoteLab(t)
	f := &lbFixture{inv: inv, lb: inv.Host(t, name), web: inv.Host(t, "web1")}
	f.c = acctest.Connect(t, inv.SSHConfig(f.lb))
	f.x = acctest.HAProxy{Host: f.lb, Port: accPort}
	f.orig = f.lb.Sha256(t, haproxy.ConfigPath)
	if f.orig == "" {
		t.Fatalf("%s has no %s", name, haproxy.ConfigPath)
	}
	t.Cleanup(func() { f.x.Restore(t, f.c, f.orig) })
	return f
}

// good is a config that serves web1's page.
func (f *lbFixture) good(t *testing.T) []byte {
	return f.x.Config(t, f.web.Address, 80)
}

// apply runs one Apply with a generous bound.
func (f *lbFixture) apply(t *testing.T, cfg []byte) (apply.Outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return apply.Apply(ctx, f.c, f.x.Change(t, f.c, cfg, f.web.Name))
}

// mustApply applies cfg and fails the test unless it changed and reloaded.
func (f *lbFixture) mustApply(t *testing.T, cfg []byte) {
	t.Helper()
	out, err := f.apply(t, cfg)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !out.Reloaded || !slices.Contains(out.Changed, haproxy.ConfigPath) {
		t.Fatalf("apply of a new config: Changed %v, Reloaded %v; want haproxy.cfg changed and reloaded", out.Changed, out.Reloaded)
	}
}

// serves checks from the test process that the frontend answers with web1's
// page.
func (f *lbFixture) serves(t *testing.T) {
	t.Helper()
	r, err := acctest.Fetch(context.Background(), acctest.HTTPClient(acctest.ClientOptions{Timeout: 3 * time.Second}), acctest.Request{URL: f.x.URL()})
	if err != nil || r.Status != 200 || !strings.Contains(r.Body, f.web.Name) {
		t.Errorf("%s: GET %s = %d %q, %v; want 200 with %q", f.lb.Name, f.x.URL(), r.Status, r.Body, err, f.web.Name)
	}
}

func (f *lbFixture) noLeftovers(t *testing.T) {
	t.Helper()
	if l := f.lb.Leftovers(t, haproxy.ConfigPath); len(l) > 0 {
		t.Errorf("%s: files left next to haproxy.cfg: %v", f.lb.Name, l)
	}
}

// probe checks that one Probe round trip reports what is on the host: the
// file's checksum and attributes, the service running with the master as
// its main pid, and the command's output.
func (f *lbFixture) probe(t *testing.T, cfg []byte, master int) {
	t.Helper()
	snap, err := apply.Probe(context.Background(), f.c, apply.ProbeRequest{
		Paths:    []string{haproxy.ConfigPath},
		Services: []string{"haproxy"},
		Commands: [][]string{haproxy.VersionArgv()},
	})
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	fi := snap.Files[haproxy.ConfigPath]
	if fi.SHA256 != apply.Checksum(cfg) || fi.Mode != haproxy.ConfigMode || fi.Owner != "root" || fi.Group != "haproxy" {
		t.Errorf("probe of haproxy.cfg: %+v", fi)
	}
	svc := snap.Services["haproxy"]
	if snap.Init != apply.Systemd || !svc.Active() || svc.MainPID != master {
		t.Errorf("probe: init %q, haproxy %+v; want systemd, active, main pid %d", snap.Init, svc, master)
	}
	if len(snap.Commands) != 1 || snap.Commands[0].ExitStatus != 0 || !strings.Contains(string(snap.Commands[0].Stdout), "HAProxy version 2.") {
		t.Errorf("probe: haproxy -v: %+v", snap.Commands)
	}
}

func TestAccApply_HAProxyChangeThenNoChange(t *testing.T) {
	f := newLB(t, "lb1")
	cfg := f.good(t)

	master0, worker0 := f.lb.HAProxyPIDs(t)
	out, err := f.apply(t, cfg)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if diff := cmp.Diff([]string{haproxy.ConfigPath}, out.Changed); diff != "" || !out.Reloaded {
		t.Errorf("first apply: Reloaded %v, Changed (-want +got):\n%s", out.Reloaded, diff)
	}
	if got, want := out.Checksums[haproxy.ConfigPath], apply.Checksum(cfg); got != want {
		t.Errorf("first apply reports checksum %s, want %s", got, want)
	}
	if got := f.lb.Sha256(t, haproxy.ConfigPath); got != apply.Checksum(cfg) {
		t.Errorf("haproxy.cfg on the host has sha256 %s, want %s", got, apply.Checksum(cfg))
	}
	st := f.lb.Stat(t, haproxy.ConfigPath)
	if st.Mode != "640" || st.Owner != "root" || st.Group != "haproxy" {
		t.Errorf("haproxy.cfg is %s %s:%s, want 640 root:haproxy", st.Mode, st.Owner, st.Group)
	}
	master1, worker1 := f.lb.HAProxyPIDs(t)
	if master1 != master0 {
		t.Errorf("the HAProxy master changed from %d to %d: the service was restarted, not reloaded", master0, master1)
	}
	if worker1 == worker0 {
		t.Errorf("HAProxy worker %d still serves after the apply: no reload happened", worker1)
	}
	f.serves(t)
	f.noLeftovers(t)
	f.probe(t, cfg, master1)

	// The same config again: nothing is written, nothing reloads.
	out, err = f.apply(t, cfg)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if len(out.Changed) != 0 || out.Reloaded || len(out.Resumed) != 0 {
		t.Errorf("second apply of the same config: Changed %v, Reloaded %v, Resumed %v; want nothing", out.Changed, out.Reloaded, out.Resumed)
	}
	if got := out.Checksums[haproxy.ConfigPath]; got != apply.Checksum(cfg) {
		t.Errorf("second apply reports checksum %s, want %s", got, apply.Checksum(cfg))
	}
	if st2 := f.lb.Stat(t, haproxy.ConfigPath); st2 != st {
		t.Errorf("haproxy.cfg was touched by an apply that had nothing to do: %+v, then %+v", st, st2)
	}
	master2, worker2 := f.lb.HAProxyPIDs(t)
	if master2 != master1 || worker2 != worker1 {
		t.Errorf("HAProxy processes changed on an apply that had nothing to do: master %d worker %d, then master %d worker %d",
			master1, worker1, master2, worker2)
	}
	f.serves(t)
}

func TestAccApply_HAProxyInvalidConfigRefused(t *testing.T) {
	f := newLB(t, "lb1")
	f.mustApply(t, f.good(t))
	before := f.lb.Sha256(t, haproxy.ConfigPath)
	stBefore := f.lb.Stat(t, haproxy.ConfigPath)
	_, worker := f.lb.HAProxyPIDs(t)

	// Valid for internal/haproxy (which allows builds with up to 1024
	// threads) but not for Debian's HAProxy 2.6 (at most 64): only the
	// host's own validator can tell.
	bad := f.x.Config(t, f.web.Address, 80, func(c *haproxy.Config) { c.NbThread = 100 })
	out, err := f.apply(t, bad)
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	ve := acctest.As[*apply.ValidationError](t, err)
	if !ve.Restored {
		t.Errorf("ValidationError.Restored is false")
	}
	for _, want := range []string{"[ALERT] config : parsing [/etc/haproxy/haproxy.cfg:", "'nbthread' value must be between 1 and 64 (was 100)", apply.Serving} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q", want)
		}
	}
	if strings.Contains(err.Error(), "haproxy version is") {
		t.Errorf("the error still carries HAProxy's banner: the filter was not applied")
	}
	if len(out.Changed) != 0 || out.Reloaded {
		t.Errorf("refused apply: Changed %v, Reloaded %v", out.Changed, out.Reloaded)
	}
	if got := f.lb.Sha256(t, haproxy.ConfigPath); got != before {
		t.Errorf("haproxy.cfg changed (sha256 %s, was %s) although validation refused the new one", got, before)
	}
	if st := f.lb.Stat(t, haproxy.ConfigPath); st != stBefore {
		t.Errorf("haproxy.cfg was replaced: %+v, was %+v", st, stBefore)
	}
	if _, w := f.lb.HAProxyPIDs(t); w != worker {
		t.Errorf("HAProxy was reloaded (worker %d, was %d) although validation failed", w, worker)
	}
	f.serves(t)
	f.noLeftovers(t)
}

func TestAccApply_HAProxyVerifyFailureRollsBack(t *testing.T) {
	f := newLB(t, "lb1")
	good := f.good(t)
	f.mustApply(t, good)

	// Valid and loadable, but its only server is a port where nothing
	// listens: HAProxy answers 503, so Verify fails after the reload.
	f.x.VerifyWithin = 5 * time.Second
	broken := f.x.Config(t, f.web.Address, 81)
	out, err := f.apply(t, broken)
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	ve := acctest.As[*apply.VerifyError](t, err)
	if !ve.Restored || !ve.RolledBack || ve.AfterRollback != nil {
		t.Errorf("VerifyError: Restored %v, RolledBack %v, AfterRollback %v; want a verified rollback", ve.Restored, ve.RolledBack, ve.AfterRollback)
	}
	for _, want := range []string{"status 503", "rolled back and verified", apply.Serving} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q", want)
		}
	}
	if len(out.Changed) != 0 || out.Checksums[haproxy.ConfigPath] != apply.Checksum(good) {
		t.Errorf("Outcome after the rollback: Changed %v, checksum %s; want nothing changed and the good config's checksum",
			out.Changed, out.Checksums[haproxy.ConfigPath])
	}
	if got := f.lb.Sha256(t, haproxy.ConfigPath); got != apply.Checksum(good) {
		t.Errorf("haproxy.cfg after the rollback has sha256 %s, want the previous %s", got, apply.Checksum(good))
	}
	f.serves(t)
	f.noLeftovers(t)

	// The rolled-back host is clean: the good config applies as a no-op.
	f.x.VerifyWithin = 0
	out, err = f.apply(t, good)
	if err != nil || len(out.Changed) != 0 || out.Reloaded {
		t.Errorf("apply of the previous config after the rollback: Changed %v, Reloaded %v, err %v; want nothing to do", out.Changed, out.Reloaded, err)
	}
}

// lb2's sudo asks for the deploy user's password: the whole apply (upload
// on stdin after the password line, detached commit, verify) runs through
// sudo -S. With a wrong password it stops before touching anything.
func TestAccApply_HAProxySudoPassword(t *testing.T) {
	f := newLB(t, "lb2")
	if f.lb.SudoPassword == "" {
		t.Fatal("lb2 has no sudo password in the inventory")
	}
	cfg := f.good(t)
	f.mustApply(t, cfg)
	f.serves(t)
	out, err := f.apply(t, cfg)
	if err != nil || len(out.Changed) != 0 || out.Reloaded {
		t.Errorf("second apply: Changed %v, Reloaded %v, err %v; want nothing to do", out.Changed, out.Reloaded, err)
	}

	wrong := f.inv.SSHConfig(f.lb)
	wrong.SudoPassword = "not-the-password"
	c := acctest.Connect(t, wrong)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = apply.Apply(ctx, c, apply.Change{
		Files: []apply.File{{Path: haproxy.ConfigPath, Content: []byte("# not applied\n"), Group: "haproxy", Mode: haproxy.ConfigMode}},
		Lock:  "haproxy",
		Host:  f.lb.Name,
	})
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	se := acctest.As[*ssh.SudoError](t, err)
	if se.Kind != ssh.SudoPasswordRejected {
		t.Errorf("SudoError kind %d, want SudoPasswordRejected", se.Kind)
	}
	if strings.Contains(err.Error(), wrong.SudoPassword) || strings.Contains(err.Error(), f.lb.SudoPassword) {
		t.Errorf("the error shows a password")
	}
	if got := f.lb.Sha256(t, haproxy.ConfigPath); got != apply.Checksum(cfg) {
		t.Errorf("haproxy.cfg changed although sudo refused the password")
	}
	f.serves(t)
}
