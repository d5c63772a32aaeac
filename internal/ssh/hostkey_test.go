// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

func TestUnknownHost(t *testing.T) {
	t.Parallel()
	hk := hostKeys(t, "ed25519")
	f := newFixture(t, sshtest.Options{HostKeys: hk})
	other := sshtest.NewSigner(t, "ed25519").PublicKey()
	cfg := f.cfg
	// The file knows another host only.
	cfg.KnownHostsFile = writeFile(t, "known_hosts", knownLine("10.9.9.9:22", other))

	_, err := dial(t, cfg)
	operatorSees(t, err)
	var unknown *UnknownHostError
	if !errors.As(err, &unknown) {
		t.Fatalf("want *UnknownHostError, got %T: %v", err, err)
	}
	var changed *HostKeyChangedError
	if errors.As(err, &changed) {
		t.Fatalf("unknown host must not be reported as a changed key: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		fmt.Sprintf("host %s is not in known_hosts file %s", f.srv.Addr, cfg.KnownHostsFile),
		"offered the ssh-ed25519 key " + ssh.FingerprintSHA256(hk[0].PublicKey()),
		fmt.Sprintf("ssh-keyscan -p %d 127.0.0.1 >> %s", f.srv.Port, cfg.KnownHostsFile),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q\nlacks %q", msg, want)
		}
	}
	if got, want := unknown.KnownHostsLine(), knownLine(f.srv.Addr, hk[0].PublicKey()); got != want {
		t.Errorf("KnownHostsLine = %q, want %q", got, want)
	}
}

func TestHostKeyChanged(t *testing.T) {
	t.Parallel()
	hk := hostKeys(t, "ed25519")
	f := newFixture(t, sshtest.Options{HostKeys: hk})
	old := sshtest.NewSigner(t, "ed25519").PublicKey()
	cfg := f.cfg
	cfg.KnownHostsFile = writeFile(t, "known_hosts",
		"# a comment",
		knownLine(f.srv.Addr, old))

	_, err := dial(t, cfg)
	operatorSees(t, err)
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("want *HostKeyChangedError, got %T: %v", err, err)
	}
	var unknown *UnknownHostError
	if errors.As(err, &unknown) {
		t.Fatalf("changed key must not be reported as unknown host: %v", err)
	}
	msg := err.Error()
	if prefix := "host key for " + f.srv.Addr + " has changed"; !strings.HasPrefix(msg, prefix) {
		t.Errorf("message %q\ndoes not start with %q", msg, prefix)
	}
	for _, want := range []string{
		"this may be a man-in-the-middle attack",
		"Expected ssh-ed25519 " + ssh.FingerprintSHA256(old) + " (" + cfg.KnownHostsFile + ":2)",
		"received ssh-ed25519 " + ssh.FingerprintSHA256(hk[0].PublicKey()),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q\nlacks %q", msg, want)
		}
	}
}

// TestHostKeyAlgorithmsFromKnownHosts: the server has several host keys; the
// client must negotiate a type that known_hosts lists for it, not its own
// default preference (x/crypto prefers ECDSA over Ed25519).
func TestHostKeyAlgorithmsFromKnownHosts(t *testing.T) {
	t.Parallel()
	hk := hostKeys(t, "ed25519", "ecdsa", "rsa")
	f := newFixture(t, sshtest.Options{HostKeys: hk})
	byType := map[string]ssh.PublicKey{}
	for _, k := range hk {
		byType[k.PublicKey().Type()] = k.PublicKey()
	}
	cases := []struct {
		name   string
		listed []string
		want   string
	}{
		{"ed25519 only", []string{ssh.KeyAlgoED25519}, ssh.KeyAlgoED25519},
		{"ecdsa only", []string{ssh.KeyAlgoECDSA256}, ssh.KeyAlgoECDSA256},
		{"rsa only", []string{ssh.KeyAlgoRSA}, ssh.KeyAlgoRSA},
		{"rsa and ecdsa", []string{ssh.KeyAlgoRSA, ssh.KeyAlgoECDSA256}, ssh.KeyAlgoECDSA256},
		{"all three", []string{ssh.KeyAlgoRSA, ssh.KeyAlgoECDSA256, ssh.KeyAlgoED25519}, ssh.KeyAlgoED25519},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			for _, typ := range tc.listed {
				lines = append(lines, knownLine(f.srv.Addr, byType[typ]))
			}
			cfg := f.cfg
			cfg.KnownHostsFile = writeFile(t, "known_hosts", lines...)
			c := mustDial(t, cfg)
			if got := c.HostKey().Type(); got != tc.want {
				t.Errorf("negotiated host key %s, want %s", got, tc.want)
			}
		})
	}
}

// TestKnownKeyTypeNotOffered: known_hosts has only an ECDSA key, the host
// offers only Ed25519. That is reported as a changed key, not as an unknown
// host (and the connection is refused).
func TestKnownKeyTypeNotOffered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cfg := f.cfg
	known := sshtest.NewSigner(t, "ecdsa").PublicKey()
	cfg.KnownHostsFile = writeFile(t, "known_hosts", knownLine(f.srv.Addr, known))
	_, err := dial(t, cfg)
	operatorSees(t, err)
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("want *HostKeyChangedError, got %T: %v", err, err)
	}
	if changed.Key != nil {
		t.Errorf("no key was exchanged, but Key = %v", changed.Key)
	}
	if !strings.Contains(err.Error(), "offers none of the key types known for it") ||
		!strings.Contains(err.Error(), ssh.FingerprintSHA256(known)) {
		t.Errorf("unclear message: %v", err)
	}
}

func TestHashedKnownHosts(t *testing.T) {
	t.Parallel()
	hk := hostKeys(t, "ecdsa")
	f := newFixture(t, sshtest.Options{HostKeys: hk})
	cfg := f.cfg
	hashed := knownhosts.HashHostname(knownhosts.Normalize(f.srv.Addr))
	cfg.KnownHostsFile = writeFile(t, "known_hosts",
		knownLine("other.example:22", sshtest.NewSigner(t, "ed25519").PublicKey()),
		hashed+" "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk[0].PublicKey()))))
	c := mustDial(t, cfg)
	if got := mustRun(t, c, "echo", "ok"); got != "ok\n" {
		t.Errorf("got %q", got)
	}
}

func TestCertAuthority(t *testing.T) {
	t.Parallel()
	ca := sshtest.NewSigner(t, "ed25519")
	otherCA := sshtest.NewSigner(t, "ed25519")
	caLine := func(addr string, key ssh.PublicKey) string {
		return "@cert-authority " + knownhosts.Normalize(addr) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	}
	cases := []struct {
		name      string
		signer    ssh.Signer
		principal string
		wantErr   string // empty: success
	}{
		{"trusted CA", ca, "127.0.0.1", ""},
		{"untrusted CA", otherCA, "127.0.0.1", "host certificate of 127.0.0.1:"},
		{"wrong principal", ca, "db.example", "host certificate of 127.0.0.1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hostKey := sshtest.NewSigner(t, "ecdsa")
			cert := sshtest.HostCertSigner(t, hostKey, tc.signer, tc.principal)
			// The server also has a plain Ed25519 key: the client must ask
			// for the certificate, since known_hosts only trusts the CA.
			f := newFixture(t, sshtest.Options{HostKeys: []ssh.Signer{cert, sshtest.NewSigner(t, "ed25519")}})
			cfg := f.cfg
			cfg.KnownHostsFile = writeFile(t, "known_hosts", caLine(f.srv.Addr, ca.PublicKey()))
			c, err := dial(t, cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if _, ok := c.HostKey().(*ssh.Certificate); !ok {
					t.Errorf("host key is %T, want a certificate", c.HostKey())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestCertAuthorityHostWithoutCert: known_hosts trusts only a CA for the
// host, which has no certificate. Refused, with a message that says so.
func TestCertAuthorityHostWithoutCert(t *testing.T) {
	t.Parallel()
	ca := sshtest.NewSigner(t, "ed25519")
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cfg := f.cfg
	cfg.KnownHostsFile = writeFile(t, "known_hosts",
		"@cert-authority "+knownhosts.Normalize(f.srv.Addr)+" "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca.PublicKey()))))
	_, err := dial(t, cfg)
	operatorSees(t, err)
	if err == nil || !strings.Contains(err.Error(), "offers no host certificate") {
		t.Fatalf("got %v", err)
	}
}

func TestRevokedHostKey(t *testing.T) {
	t.Parallel()
	hk := hostKeys(t, "ed25519")
	f := newFixture(t, sshtest.Options{HostKeys: hk})
	cfg := f.cfg
	cfg.KnownHostsFile = writeFile(t, "known_hosts",
		knownLine(f.srv.Addr, hk[0].PublicKey()),
		"@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk[0].PublicKey()))))
	_, err := dial(t, cfg)
	operatorSees(t, err)
	if err == nil || !strings.Contains(err.Error(), "is revoked at "+cfg.KnownHostsFile+":2") {
		t.Fatalf("got %v", err)
	}
}

func TestPinnedHostKey(t *testing.T) {
	t.Parallel()
	hk := hostKeys(t, "ecdsa", "ed25519")
	f := newFixture(t, sshtest.Options{HostKeys: hk})
	stranger := sshtest.NewSigner(t, "ed25519").PublicKey()
	cases := []struct {
		name    string
		pin     ssh.PublicKey
		changed bool
	}{
		{"ecdsa", hk[0].PublicKey(), false},
		{"ed25519 (not the server's preferred)", hk[1].PublicKey(), false},
		{"mismatch", stranger, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := f.cfg
			cfg.KnownHostsFile = "/nonexistent/known_hosts" // the pin takes precedence
			cfg.HostKey = string(ssh.MarshalAuthorizedKey(tc.pin))
			c, err := dial(t, cfg)
			if !tc.changed {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if diff := cmp.Diff(tc.pin.Marshal(), c.HostKey().Marshal()); diff != "" {
					t.Errorf("host key (-want +got):\n%s", diff)
				}
				return
			}
			var changed *HostKeyChangedError
			if !errors.As(err, &changed) {
				t.Fatalf("want *HostKeyChangedError, got %T: %v", err, err)
			}
			for _, want := range []string{"host key for " + f.srv.Addr + " has changed", "pinned host_key", ssh.FingerprintSHA256(stranger), "update host_key"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q\nlacks %q", err, want)
				}
			}
		})
	}
}

func TestHostKeyConfigErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	// An unreadable file: mode 0 stops everyone but root; root (as in CI)
	// cannot read a directory either, so that stands in for it there.
	unreadable := writeFile(t, "known_hosts", knownLine(f.srv.Addr, f.clientKey.PublicKey()))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		unreadable = t.TempDir()
	}
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"missing known_hosts", func(c *Config) { c.KnownHostsFile = "/nonexistent/kh" }, "known_hosts file /nonexistent/kh does not exist"},
		{"unreadable known_hosts", func(c *Config) { c.KnownHostsFile = unreadable }, "known_hosts file " + unreadable + " cannot be read"},
		{"garbage known_hosts", func(c *Config) { c.KnownHostsFile = writeFile(t, "kh", "this is not a known_hosts line") }, "is invalid"},
		{"garbage pinned key", func(c *Config) { c.HostKey = "ssh-ed25519 notbase64" }, "host_key for " + f.srv.Addr + " is not a public key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := f.cfg
			tc.mutate(&cfg)
			_, err := dial(t, cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error containing %q", err, tc.want)
			}
			operatorSees(t, err)
		})
	}
}

// TestSharedConnectionRechecksHostKey: a second caller whose known_hosts
// disagrees must not get the pooled connection.
func TestSharedConnectionRechecksHostKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	p := NewPool()
	t.Cleanup(func() { _ = p.Close() })
	if _, err := p.Get(testCtx(t, 10e9), f.cfg); err != nil {
		t.Fatal(err)
	}
	other := f.cfg
	other.KnownHostsFile = writeFile(t, "known_hosts", knownLine(f.srv.Addr, sshtest.NewSigner(t, "ed25519").PublicKey()))
	_, err := p.Get(testCtx(t, 10e9), other)
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("want *HostKeyChangedError, got %v", err)
	}
	pinned := f.cfg
	pinned.HostKey = string(ssh.MarshalAuthorizedKey(f.hostKeys[0].PublicKey()))
	c, err := p.Get(testCtx(t, 10e9), pinned)
	if err != nil {
		t.Fatalf("a matching pin must share the connection: %v", err)
	}
	mustRun(t, c, "true") // the server counts a handshake just after it completes
	if n := f.srv.Handshakes(); n != 1 {
		t.Errorf("%d handshakes, want 1", n)
	}
}
