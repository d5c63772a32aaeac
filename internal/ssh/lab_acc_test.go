// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// The lab (internal/acctest) is reached from Linux hosts only.

//go:build !windows

package ssh_test

// Acceptance tests of the transport against the lab's real OpenSSH servers
// (TF_ACC=1): what the in-process server of the unit tests cannot show.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// knownHostsLines returns the lab's known_hosts lines for addr whose key
// type is one of types (all of them when types is empty).
func knownHostsLines(t *testing.T, inv *acctest.Inventory, addr string, types ...string) []string {
	t.Helper()
	b, err := os.ReadFile(inv.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != addr {
			continue
		}
		if len(types) == 0 || contains(types, f[1]) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("the lab's known_hosts has no %v key for %s", types, addr)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeKnownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostKeyOnHost reads the host's own public key of the given type out of
// band.
func hostKeyOnHost(t *testing.T, h acctest.Host, stem string) gossh.PublicKey {
	t.Helper()
	k, _, _, _, err := gossh.ParseAuthorizedKey([]byte(h.Exec(t, "cat", "/etc/ssh/ssh_host_"+stem+"_key.pub")))
	if err != nil {
		t.Fatalf("%s: ssh_host_%s_key.pub: %v", h.Name, stem, err)
	}
	return k
}

func run(t *testing.T, c *ssh.Client, cmd remote.Cmd) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.Run(ctx, cmd)
	if err != nil {
		t.Fatalf("running %v: %v", cmd.Argv, err)
	}
	return strings.TrimSpace(string(res.Stdout))
}

func dial(cfg ssh.Config) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return ssh.Dial(ctx, cfg)
}

func TestAccSSH_KnownHostsKeyTypes(t *testing.T) {
	inv := acctest.RemoteLab(t)
	lb := inv.Host(t, "lb1")
	for _, tc := range []struct {
		name  string
		types []string // key types listed in known_hosts
		want  string   // key type negotiated
		stem  string   // ssh_host_<stem>_key.pub
	}{
		{"all types", nil, gossh.KeyAlgoED25519, "ed25519"},
		{"ed25519 only", []string{gossh.KeyAlgoED25519}, gossh.KeyAlgoED25519, "ed25519"},
		{"ecdsa only", []string{gossh.KeyAlgoECDSA256}, gossh.KeyAlgoECDSA256, "ecdsa"},
		{"rsa only", []string{gossh.KeyAlgoRSA}, gossh.KeyAlgoRSA, "rsa"},
		{"rsa and ecdsa", []string{gossh.KeyAlgoRSA, gossh.KeyAlgoECDSA256}, gossh.KeyAlgoECDSA256, "ecdsa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := inv.SSHConfig(lb)
			cfg.KnownHostsFile = writeKnownHosts(t, knownHostsLines(t, inv, lb.Address, tc.types...)...)
			c, err := dial(cfg)
			if err != nil {
				t.Fatalf("dial with %v in known_hosts: %v", tc.types, err)
			}
			defer c.Close()
			k := c.HostKey()
			if k == nil || k.Type() != tc.want {
				t.Fatalf("negotiated host key %v, want type %s", k, tc.want)
			}
			if want := hostKeyOnHost(t, lb, tc.stem); string(k.Marshal()) != string(want.Marshal()) {
				t.Errorf("negotiated key %s is not the host's own %s", gossh.FingerprintSHA256(k), gossh.FingerprintSHA256(want))
			}
			if got := run(t, c, remote.Cmd{Argv: []string{"hostname"}, Unprivileged: true}); got != lb.Name {
				t.Errorf("hostname = %q, want %q", got, lb.Name)
			}
		})
	}
}

func TestAccSSH_HostKeyErrors(t *testing.T) {
	inv := acctest.RemoteLab(t)
	lb1, lb2 := inv.Host(t, "lb1"), inv.Host(t, "lb2")
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherType, err := gossh.NewPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	lb2Ed := hostKeyOnHost(t, lb2, "ed25519")
	lb1Ed := hostKeyOnHost(t, lb1, "ed25519")
	for _, tc := range []struct {
		name  string
		lines []string
		check func(t *testing.T, err error)
	}{
		{
			name:  "unknown host",
			lines: knownHostsLines(t, inv, lb2.Address),
			check: func(t *testing.T, err error) {
				e := acctest.As[*ssh.UnknownHostError](t, err)
				if string(e.Key.Marshal()) != string(lb1Ed.Marshal()) {
					t.Errorf("the error shows key %s, want the host's ed25519 key %s", gossh.FingerprintSHA256(e.Key), gossh.FingerprintSHA256(lb1Ed))
				}
			},
		},
		{
			name:  "changed key",
			lines: []string{knownhosts.Line([]string{lb1.Address}, lb2Ed)},
			check: func(t *testing.T, err error) {
				e := acctest.As[*ssh.HostKeyChangedError](t, err)
				if e.Key == nil || string(e.Key.Marshal()) != string(lb1Ed.Marshal()) {
					t.Errorf("the error shows received key %v, want lb1's ed25519 key", e.Key)
				}
				if !strings.Contains(err.Error(), "man-in-the-middle") || !strings.Contains(err.Error(), gossh.FingerprintSHA256(lb2Ed)) {
					t.Errorf("the error does not warn of an attack with both fingerprints")
				}
			},
		},
		{
			name:  "key type the host does not have",
			lines: []string{knownhosts.Line([]string{lb1.Address}, otherType)},
			check: func(t *testing.T, err error) {
				e := acctest.As[*ssh.HostKeyChangedError](t, err)
				if e.Key != nil {
					t.Errorf("HostKeyChangedError.Key = %v, want nil (no key of the known type was offered)", e.Key)
				}
				if !strings.Contains(err.Error(), "offers none of the key types known for it") {
					t.Errorf("the error does not say the host offers none of the known key types")
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := inv.SSHConfig(lb1)
			cfg.KnownHostsFile = writeKnownHosts(t, tc.lines...)
			c, err := dial(cfg)
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			t.Logf("operator sees:\n%s", err)
			tc.check(t, err)
		})
	}
}

func TestAccSSH_Bastion(t *testing.T) {
	inv := acctest.RemoteLab(t)
	lb, web := inv.Host(t, "lb1"), inv.Host(t, "web1")
	bastion := inv.SSHConfig(lb)
	cfg := inv.SSHConfig(web)
	cfg.Bastion = &bastion
	c, err := dial(cfg)
	if err != nil {
		t.Fatalf("dial web1 through lb1: %v", err)
	}
	defer c.Close()
	// The target sees the bastion as its client.
	if got := run(t, c, remote.Cmd{Argv: remote.Script(`echo "$SSH_CLIENT"`), Unprivileged: true}); !strings.HasPrefix(got, lb.Address+" ") {
		t.Errorf("web1 sees SSH_CLIENT %q, want a connection from the bastion %s", got, lb.Address)
	}
	if got := run(t, c, remote.Cmd{Argv: []string{"sh", "-c", "echo $(hostname) $(id -u)"}}); got != "web1 0" {
		t.Errorf("through the bastion with sudo: %q, want %q", got, "web1 0")
	}
	if k := c.HostKey(); k == nil || string(k.Marshal()) != string(hostKeyOnHost(t, web, "ed25519").Marshal()) {
		t.Errorf("the verified host key is not web1's own")
	}

	// Each hop has its own host key check: the bastion is known, the
	// target is not.
	cfg.KnownHostsFile = writeKnownHosts(t, knownHostsLines(t, inv, lb.Address)...)
	bastion.KnownHostsFile = inv.KnownHostsFile
	c2, err := dial(cfg)
	if err == nil {
		c2.Close()
		t.Fatal("dial through the bastion to a host missing from known_hosts succeeded")
	}
	t.Logf("operator sees:\n%s", err)
	if e := acctest.As[*ssh.UnknownHostError](t, err); e.Addr != web.Address+":22" {
		t.Errorf("UnknownHostError names %s, want web1 %s", e.Addr, web.Address)
	}
	// ... and the other way round.
	cfg.KnownHostsFile = inv.KnownHostsFile
	bastion.KnownHostsFile = writeKnownHosts(t, knownHostsLines(t, inv, web.Address)...)
	c3, err := dial(cfg)
	if err == nil {
		c3.Close()
		t.Fatal("dial through a bastion missing from known_hosts succeeded")
	}
	t.Logf("operator sees:\n%s", err)
	if e := acctest.As[*ssh.UnknownHostError](t, err); e.Addr != lb.Address+":22" {
		t.Errorf("UnknownHostError names %s, want the bastion %s", e.Addr, lb.Address)
	}
}

func TestAccSSH_KeepaliveOnFrozenHost(t *testing.T) {
	inv := acctest.RemoteLab(t)
	web := inv.Host(t, "web1")
	c := acctest.Connect(t, inv.SSHConfig(web))
	t.Cleanup(func() {
		if _, err := acctest.TryDocker("unpause", web.Container); err != nil && !strings.Contains(err.Error(), "is not paused") {
			t.Errorf("unpausing %s: %v", web.Name, err)
		}
	})

	// A command that is quiet for longer than the keepalive bound is not
	// mistaken for a dead host: sshd answers the keepalives meanwhile.
	quiet := acctest.KeepaliveBound + 2*time.Second
	if _, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", strconv.Itoa(int(quiet / time.Second))}}); err != nil {
		t.Fatalf("a command quiet for %s on a live host: %v", quiet, err)
	}

	var pausedAt time.Time
	paused := make(chan struct{})
	go func() {
		defer close(paused)
		if !acctest.Poll(10*time.Second, func() bool {
			_, err := web.TryExec("pgrep", "-f", "sleep 41")
			return err == nil
		}) {
			t.Errorf("the remote sleep never started")
			return
		}
		pausedAt = time.Now()
		if _, err := acctest.TryDocker("pause", web.Container); err != nil {
			t.Errorf("pausing %s: %v", web.Name, err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.Run(ctx, remote.Cmd{Argv: []string{"sleep", "41"}})
	returned := time.Now()
	<-paused
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	var lost *ssh.ConnLostError
	if !errors.As(err, &lost) {
		t.Fatalf("Run on a frozen host: %v; want a ConnLostError", err)
	}
	if d, bound := returned.Sub(pausedAt), acctest.KeepaliveBound+2*time.Second; d > bound {
		t.Errorf("Run returned %s after the host froze; want at most %s", d, bound)
	}
	if !strings.Contains(err.Error(), "stopped answering: no reply to keepalive") {
		t.Errorf("the error does not say that the host stopped answering")
	}

	// A new connection to the frozen host: the kernel accepts TCP, sshd
	// never speaks; the handshake deadline ends it.
	start := time.Now()
	_, err = dial(inv.SSHConfig(web))
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	if err == nil || !strings.Contains(err.Error(), "timed out after") {
		t.Errorf("dialling a frozen host: %v; want a handshake timeout", err)
	}
	if d := time.Since(start); d > acctest.ConnectTimeout+2*time.Second {
		t.Errorf("dialling a frozen host took %s; want about the connect timeout %s", d, acctest.ConnectTimeout)
	}

	// Once the host thaws, the same client redials.
	if _, err := acctest.TryDocker("unpause", web.Container); err != nil {
		t.Fatal(err)
	}
	if got := run(t, c, remote.Cmd{Argv: []string{"hostname"}}); got != web.Name {
		t.Errorf("after the host thawed: hostname %q", got)
	}
}

func TestAccSSH_ContextCancelStopsRemoteCommand(t *testing.T) {
	inv := acctest.RemoteLab(t)
	web := inv.Host(t, "web1")
	c := acctest.Connect(t, inv.SSHConfig(web))
	for _, tc := range []struct {
		name         string
		unprivileged bool
		secs         string
	}{
		{"through sudo", false, "4242"},
		{"as the login user", true, "4243"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pattern := "sleep " + tc.secs
			var cancelledAt time.Time
			go func() {
				if acctest.Poll(10*time.Second, func() bool {
					_, err := web.TryExec("pgrep", "-f", pattern)
					return err == nil
				}) {
					cancelledAt = time.Now()
				}
				cancel()
			}()
			_, err := c.Run(ctx, remote.Cmd{Argv: []string{"sleep", tc.secs}, Unprivileged: tc.unprivileged})
			returned := time.Now()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run after cancel: %v; want context.Canceled", err)
			}
			if cancelledAt.IsZero() {
				t.Fatal("the remote sleep never started")
			}
			if d := returned.Sub(cancelledAt); d > time.Second {
				t.Errorf("Run returned %s after the cancel", d)
			}
			if !acctest.Poll(5*time.Second, func() bool {
				_, err := web.TryExec("pgrep", "-f", pattern)
				return err != nil
			}) {
				t.Errorf("the remote command still runs 5s after the cancel: %s", web.Exec(t, "ps", "-eo", "pid,ppid,user,args"))
			}
			if got := run(t, c, remote.Cmd{Argv: []string{"true"}}); got != "" {
				t.Errorf("the connection is not usable after the cancel")
			}
		})
	}
}

func TestAccSSH_SudoPassword(t *testing.T) {
	inv := acctest.RemoteLab(t)
	lb2 := inv.Host(t, "lb2")
	if lb2.SudoPassword == "" {
		t.Fatal("lb2 has no sudo password in the inventory")
	}
	t.Run("right password", func(t *testing.T) {
		c := acctest.Connect(t, inv.SSHConfig(lb2))
		// The password never shows in any process's argv.
		done := make(chan string, 1)
		go func() {
			var ps string
			acctest.Poll(10*time.Second, func() bool {
				ps, _ = lb2.TryExec("ps", "-eo", "args")
				return strings.Contains(ps, "sleep 2.4244")
			})
			done <- ps
		}()
		if got := run(t, c, remote.Cmd{Argv: remote.Script(`sleep 2.4244; id -u`)}); got != "0" {
			t.Errorf("id -u through sudo = %q, want 0", got)
		}
		ps := <-done
		if !strings.Contains(ps, "sleep 2.4244") {
			t.Errorf("never saw the command in ps")
		}
		if strings.Contains(ps, lb2.SudoPassword) {
			t.Errorf("the sudo password appears in ps output")
		}
		// Stdin still reaches the command after the password line.
		res, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"cat"}, Stdin: strings.NewReader("payload\n")})
		if err != nil || string(res.Stdout) != "payload\n" {
			t.Errorf("cat through sudo -S: %q, %v", res.Stdout, err)
		}
	})
	for _, tc := range []struct {
		name, password string
		kind           ssh.SudoErrorKind
		want           string
	}{
		{"wrong password", "not-" + lb2.SudoPassword, ssh.SudoPasswordRejected, "sudo on " + lb2.Address + " rejected the password for user deploy"},
		{"no password", "", ssh.SudoPasswordRequired, "sudo on " + lb2.Address + " requires a password for user deploy: set sudo_password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := inv.SSHConfig(lb2)
			cfg.SudoPassword = tc.password
			c := acctest.Connect(t, cfg)
			_, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"true"}})
			t.Logf("operator sees:\n%s", acctest.ErrText(err))
			se := acctest.As[*ssh.SudoError](t, err)
			if se.Kind != tc.kind || err.Error() != tc.want {
				t.Errorf("SudoError kind %d, %q; want kind %d, %q", se.Kind, err, tc.kind, tc.want)
			}
			if tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Errorf("the error shows the password")
			}
			// Unprivileged commands still work.
			if got := run(t, c, remote.Cmd{Argv: []string{"id", "-un"}, Unprivileged: true}); got != "deploy" {
				t.Errorf("unprivileged id -un = %q", got)
			}
		})
	}
}

// sshd refuses more than MaxSessions (10 by default) sessions on one
// connection; the client caps its own at that, and retries an open that
// sshd refuses while it still counts a closed session, so a burst of
// commands on one pooled connection all run (some wait for a free session).
func TestAccSSH_ManyConcurrentCommands(t *testing.T) {
	inv := acctest.RemoteLab(t)
	web := inv.Host(t, "web1")
	c := acctest.Connect(t, inv.SSHConfig(web))
	refusals := func() string {
		out, _ := web.TryExec("sh", "-c", `journalctl -u ssh --no-pager -q | grep -c "no more sessions"`)
		return strings.TrimSpace(out)
	}
	before := refusals()
	defer func() { t.Logf("sshd refusals logged (\"no more sessions\"): %s before, %s after", before, refusals()) }()
	const n = 24
	errs := make(chan error, n)
	for i := range n {
		go func() {
			res, err := c.Run(context.Background(), remote.Cmd{Argv: remote.Script(`sleep 0.3; echo "$1"`, strconv.Itoa(i))})
			if err == nil && strings.TrimSpace(string(res.Stdout)) != strconv.Itoa(i) {
				err = fmt.Errorf("command %d printed %q", i, res.Stdout)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestAccSSH_SudoPasswordOnlyWhenAsked: with sudo_password set, a
// privileged command's stdin is exactly what was sent, whatever the
// host's sudoers rules: a password for every command, for none, or for
// the detection commands but not for the commands themselves (where the
// password was once written ahead of the command's input).
func TestAccSSH_SudoPasswordOnlyWhenAsked(t *testing.T) {
	inv := acctest.RemoteLab(t)
	db := inv.Host(t, "db1")
	password := "sudo-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	payload := "SELECT 1;\n" + strings.Repeat("x", 200<<10) + "\n"
	for _, tc := range []struct{ name, rules string }{
		{"password for all", acctest.SudoPassword},
		{"password for all but env", acctest.SudoPasswordButEnv},
		{"no password", acctest.SudoNoPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db.SetSudo(t, tc.rules, password)
			cfg := inv.SSHConfig(db)
			cfg.SudoPassword = password
			c := acctest.Connect(t, cfg)
			res, err := c.Run(context.Background(), remote.Cmd{Argv: remote.Script(`id -u; cat`), Stdin: strings.NewReader(payload)})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Stdout); got != "0\n"+payload {
				if strings.Contains(got, password) {
					t.Errorf("the sudo password reached the command's stdin")
				}
				t.Fatalf("stdout (%d bytes) starts %q, want %d bytes", len(got), strings.ReplaceAll(got[:min(60, len(got))], password, "***"), len(payload)+2)
			}
			if len(res.Stderr) != 0 {
				t.Errorf("stderr %q", res.Stderr)
			}
			// No stdin: the command reads EOF, not the password.
			if got := run(t, c, remote.Cmd{Argv: []string{"wc", "-c"}}); got != "0" {
				t.Errorf("wc -c of an empty stdin through sudo = %q, want 0", got)
			}
		})
	}
}
