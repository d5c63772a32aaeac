// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package firewall_test

// Acceptance tests of Deploy, Inspect and Remove on a real lab host
// (TF_ACC=1): real nftables, sshd, sudo and systemd. Every outcome is
// checked out of band (docker exec).

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/firewall"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// operatorTable is a foreign table, as an operator (or Docker) would have
// one; it must come out of every change byte-identical.
const operatorTable = `table ip operator {
	chain c {
		type filter hook input priority 10; policy accept;
		tcp dport 9999 counter accept
	}
}
`

type fixture struct {
	inv  *acctest.Inventory
	h    acctest.Host
	c    *ssh.Client
	cfg  ssh.Config
	fore string // the foreign tables before the test
}

func newFixture(t *testing.T, name string) *fixture {
	t.Helper()
	inv := acctest.RemoteLab(t)
	f := &fixture{inv: inv, h: inv.Host(t, name)}
	f.cfg = inv.SSHConfig(f.h)
	cleanHost(t, f.h)
	f.h.ExecInput(t, operatorTable, "nft", "-f", "-")
	f.fore = foreign(t, f.h)
	if !strings.Contains(f.fore, "table ip operator") || !strings.Contains(f.fore, "table ip nat") {
		t.Fatalf("expected the operator's and Docker's tables on %s:\n%s", name, f.fore)
	}
	f.c = acctest.Connect(t, f.cfg)
	t.Cleanup(func() {
		if got := foreign(t, f.h); got != f.fore {
			t.Errorf("foreign tables changed on %s:\nbefore:\n%s\nafter:\n%s", name, f.fore, got)
		}
		cleanHost(t, f.h)
	})
	return f
}

// cleanHost removes, out of band, everything a firewall test leaves.
func cleanHost(t *testing.T, h acctest.Host) {
	t.Helper()
	h.Exec(t, "sh", "-c", `systemctl stop foobar-firewall-rollback.timer foobar-firewall-rollback.service 2>/dev/null
nft delete table inet foobar 2>/dev/null; nft delete table ip operator 2>/dev/null
systemctl disable foobar-firewall.service 2>/dev/null; rm -rf /run/foobar/firewall /etc/foobar /etc/systemd/system/foobar-firewall.service
systemctl daemon-reload; true`)
}

// foreign is every table except inet foobar, listed (with counters reset
// out of the picture: nft -s lists without them).
func foreign(t *testing.T, h acctest.Host) string {
	t.Helper()
	return h.Exec(t, "sh", "-c", `nft -s list tables | grep -vx 'table inet foobar' | while read -r _ fam name; do nft -s list table "$fam" "$name"; done 2>/dev/null`)
}

func live(t *testing.T, h acctest.Host) string {
	t.Helper()
	out, err := h.TryExec("nft", "list", "table", "inet", "foobar")
	if err != nil {
		return ""
	}
	return out
}

func (f *fixture) dialer() firewall.Dialer {
	return func(ctx context.Context) (remote.Runner, func(), error) {
		c, err := ssh.Dial(ctx, f.cfg)
		if err != nil {
			return nil, nil, err
		}
		return c, func() { _ = c.Close() }, nil
	}
}

func render(t *testing.T, c firewall.Config) []byte {
	t.Helper()
	b, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// admin is the test machine as the lab hosts see it: the network's gateway.
func admin(inv *acctest.Inventory) string {
	return strings.TrimSuffix(inv.Subnet, ".0/24") + ".1"
}

// TestAccDeploy_confirmedThenLockoutRolledBack loads a ruleset that keeps
// SSH open (confirmed over a new connection, persisted for boot), then one
// that shuts the test machine out: the host restores the first one by
// itself, Deploy says so, and SSH works again.
func TestAccDeploy_confirmedThenLockoutRolledBack(t *testing.T) {
	f := newFixture(t, "db1")
	ctx := context.Background()
	good := firewall.Config{AdminSources: []string{admin(f.inv)}, SSHPort: 22, AllowPing: true,
		Rules: []firewall.Rule{{Protocol: "tcp", Port: 3306, From: []string{f.inv.Host(t, "web1").Address}}}}
	res, err := firewall.Deploy(ctx, f.c, firewall.Deployment{Host: f.h.Name, Ruleset: render(t, good), ConfirmTimeout: 15 * time.Second, Dial: f.dialer()})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	before := live(t, f.h)
	if before == "" || string(res.Listing) != before {
		t.Fatalf("listing %q, live %q", res.Listing, before)
	}
	if out := f.h.Exec(t, "sh", "-c", "cat /etc/foobar/firewall.nft; systemctl is-enabled foobar-firewall.service; ls /run/foobar/firewall; systemctl is-active foobar-firewall-rollback.timer || true"); !strings.Contains(out, "tcp dport 3306") ||
		!strings.Contains(out, "\nenabled\n") || strings.Contains(out, "pending") || !strings.HasSuffix(out, "inactive\n") {
		t.Fatalf("after a confirmed load: %s", out)
	}
	ins, err := firewall.Inspect(ctx, f.c, f.h.Name)
	if err != nil || !ins.Present || string(ins.Listing) != before {
		t.Fatalf("inspect: %v %+v", err, ins)
	}

	// A reboot: foobar-firewall.service loads the confirmed rules again.
	f.h.Stop(t)
	f.h.Start(t)
	f.h.WaitSSH(t, time.Minute)
	acctest.WaitFor(t, 30*time.Second, "the table after the reboot", func() bool { return live(t, f.h) == before })
	// The operator's table was not persisted: it is put back, and Docker
	// has made its own again.
	f.h.ExecInput(t, operatorTable, "nft", "-f", "-")
	f.fore = foreign(t, f.h)

	bad := good
	bad.AdminSources = []string{"192.0.2.1"}
	start := time.Now()
	_, err = firewall.Deploy(ctx, f.c, firewall.Deployment{Host: f.h.Name, Ruleset: render(t, bad), ConfirmTimeout: 15 * time.Second, Dial: f.dialer()})
	var rb *firewall.RolledBackError
	if !errors.As(err, &rb) || !rb.Verified {
		t.Fatalf("want a verified rollback, got %v", err)
	}
	t.Logf("rolled back after %s: %v", time.Since(start).Round(time.Second), err)
	if !strings.Contains(err.Error(), "restored its previous rules") {
		t.Errorf("message: %v", err)
	}
	if got := live(t, f.h); got != before {
		t.Fatalf("after the rollback the table is\n%s\nwant\n%s", got, before)
	}
	if out := f.h.Exec(t, "cat", "/etc/foobar/firewall.nft"); strings.Contains(out, "192.0.2.1") {
		t.Fatalf("the refused ruleset was persisted: %s", out)
	}
	// SSH works: a new connection with sudo.
	c2, err := ssh.Dial(ctx, f.cfg)
	if err != nil {
		t.Fatalf("ssh after rollback: %v", err)
	}
	defer c2.Close()
	if _, err := c2.Run(ctx, remote.Cmd{Argv: []string{"true"}}); err != nil {
		t.Fatalf("sudo after rollback: %v", err)
	}

	if err := firewall.Remove(ctx, f.c, f.h.Name); err != nil {
		t.Fatal(err)
	}
	if got := live(t, f.h); got != "" {
		t.Fatalf("table left after Remove: %s", got)
	}
	if out, _ := f.h.TryExec("sh", "-c", "ls /etc/foobar/firewall.nft /etc/systemd/system/foobar-firewall.service 2>&1"); !strings.Contains(out, "No such file") || strings.Count(out, "No such file") != 2 {
		t.Fatalf("files left after Remove: %s", out)
	}
}

// TestAccDeploy_rollbackSurvivesCutConnection cuts every SSH connection of
// the deploy user right after the load (the provider's connection dies
// with it) and makes every confirmation attempt fail: the host's rollback,
// scheduled before the load, still fires, and the table is gone again as
// it was before.
func TestAccDeploy_rollbackSurvivesCutConnection(t *testing.T) {
	f := newFixture(t, "db1")
	ctx := context.Background()
	var confirming atomic.Bool
	confirming.Store(true)
	dial := func(ctx context.Context) (remote.Runner, func(), error) {
		if confirming.Load() {
			// Cut: kill every sshd session process of the deploy user (the
			// provider's pooled connection included).
			_, _ = f.h.TryExec("pkill", "-KILL", "-u", f.inv.User)
			return nil, nil, errors.New("simulated: the new connection fails")
		}
		return f.dialer()(ctx)
	}
	cfg := firewall.Config{AdminSources: []string{admin(f.inv)}, SSHPort: 22}
	deadline := 12 * time.Second
	done := make(chan error, 1)
	go func() {
		_, err := firewall.Deploy(ctx, f.c, firewall.Deployment{Host: f.h.Name, Ruleset: render(t, cfg), ConfirmTimeout: deadline, Dial: dial})
		done <- err
	}()
	time.Sleep(deadline - 4*time.Second)
	if live(t, f.h) == "" {
		t.Fatal("the rules were not loaded")
	}
	if out := f.h.Exec(t, "sh", "-c", "pgrep -u deploy sshd || echo none"); !strings.Contains(out, "none") {
		t.Logf("deploy's sessions: %s", out)
	}
	// Confirmations fail until the deadline has passed; only the
	// verification of the rollback may connect.
	time.Sleep(5 * time.Second)
	confirming.Store(false)
	err := <-done
	var rb *firewall.RolledBackError
	if !errors.As(err, &rb) || !rb.Verified {
		t.Fatalf("want a verified rollback, got %v", err)
	}
	if got := live(t, f.h); got != "" {
		t.Fatalf("the table should be gone again (there was none before), got\n%s", got)
	}
}

// TestAccDeploy_invalidRefusedByNft: a ruleset nft -c refuses is never
// loaded; the live table stays as it was.
func TestAccDeploy_invalidRefusedByNft(t *testing.T) {
	f := newFixture(t, "db1")
	ctx := context.Background()
	good := firewall.Config{AdminSources: []string{admin(f.inv)}, SSHPort: 22}
	if _, err := firewall.Deploy(ctx, f.c, firewall.Deployment{Host: f.h.Name, Ruleset: render(t, good), ConfirmTimeout: 15 * time.Second, Dial: f.dialer()}); err != nil {
		t.Fatal(err)
	}
	before := live(t, f.h)
	broken := strings.Replace(string(render(t, good)), "tcp dport 22", "tcp dport 22 jump nowhere", 1)
	_, err := firewall.Deploy(ctx, f.c, firewall.Deployment{Host: f.h.Name, Ruleset: []byte(broken), ConfirmTimeout: 15 * time.Second, Dial: f.dialer()})
	var se *fault.StepError
	if !errors.As(err, &se) || se.Summary != "Invalid Firewall Rules" || !strings.Contains(err.Error(), "nowhere") || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("want nft -c's refusal, got %v", err)
	}
	if got := live(t, f.h); got != before {
		t.Fatalf("live table changed:\n%s", got)
	}
	if out, _ := f.h.TryExec("ls", "/run/foobar/firewall"); strings.Contains(out, "pending") {
		t.Fatalf("a rollback is pending after a refused ruleset: %s", out)
	}
}
