// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

// startAgent serves an in-process agent holding keys on a unix socket and
// returns the socket path.
func startAgent(t *testing.T, keys ...any) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "agent") // t.TempDir() may exceed the 108-byte socket path limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(kr, c)
			}()
		}
	}()
	return sock
}

func TestAgentAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	authorized := sshtest.NewKey(t, "ecdsa")
	signer, err := ssh.NewSignerFromKey(authorized)
	if err != nil {
		t.Fatal(err)
	}
	// A second server that only accepts the agent's key.
	srv := sshtest.Start(t, sshtest.Options{HostKeys: f.hostKeys, AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}})
	cfg := f.cfg
	cfg.Port = srv.Port
	cfg.KnownHostsFile = writeFile(t, "known_hosts", knownLine(srv.Addr, f.hostKeys[0].PublicKey()))
	cfg.PrivateKeyFile = ""
	cfg.Agent = true
	cfg.AgentSocket = startAgent(t, sshtest.NewKey(t, "ed25519"), authorized)
	c := mustDial(t, cfg)
	if got := mustRun(t, c, "echo", "via agent"); got != "via agent\n" {
		t.Errorf("got %q", got)
	}
	// Agent keys are offered before the key file: here the agent's first
	// (unauthorized) key, then its second.
	if got := srv.AuthAttempts(); len(got) < 2 || got[len(got)-1] != ssh.FingerprintSHA256(signer.PublicKey()) {
		t.Errorf("auth attempts %v", got)
	}
}

func TestPrivateKeyFormats(t *testing.T) {
	t.Parallel()
	ed := sshtest.NewKey(t, "ed25519")
	ec := sshtest.NewKey(t, "ecdsa")
	rk := sshtest.NewKey(t, "rsa").(*rsa.PrivateKey)
	var pubs []ssh.PublicKey
	for _, k := range []any{ed, ec, rk} {
		s, err := ssh.NewSignerFromKey(k)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, s.PublicKey())
	}
	hk := hostKeys(t, "ed25519")
	srv := sshtest.Start(t, sshtest.Options{HostKeys: hk, AuthorizedKeys: pubs})
	knownHosts := writeFile(t, "known_hosts", knownLine(srv.Addr, hk[0].PublicKey()))

	pemFile := func(block *pem.Block) string {
		return writeFile(t, "key.pem", strings.TrimSpace(string(pem.EncodeToMemory(block))))
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck // legacy encrypted PEM is what old ssh-keygen wrote; it must still load.
	encPEM, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk), []byte("pem secret"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	encOpenSSH := writePrivateKey(t, ed, "right horse")
	encPEMFile := pemFile(encPEM)
	garbage := writeFile(t, "garbage", "not a key")
	pubFile := writeFile(t, "id.pub", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pubs[0]))))
	inlineKey, err := os.ReadFile(writePrivateKey(t, ec, ""))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name       string
		file       string
		inline     string
		passphrase string
		wantErr    string
	}{
		{name: "openssh ed25519", file: writePrivateKey(t, ed, "")},
		{name: "pem pkcs1 rsa", file: pemFile(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})},
		{name: "pem pkcs8 ecdsa", file: pemFile(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})},
		{name: "inline openssh ecdsa", inline: string(inlineKey)},
		{name: "encrypted openssh, right passphrase", file: encOpenSSH, passphrase: "right horse"},
		{name: "encrypted openssh, wrong passphrase", file: encOpenSSH, passphrase: "wrong", wantErr: "ssh: wrong passphrase for private key " + encOpenSSH},
		{name: "encrypted openssh, no passphrase", file: encOpenSSH, wantErr: "ssh: private key " + encOpenSSH + " is encrypted: set private_key_passphrase"},
		{name: "encrypted pem, right passphrase", file: encPEMFile, passphrase: "pem secret"},
		{name: "encrypted pem, wrong passphrase", file: encPEMFile, passphrase: "nope", wantErr: "ssh: wrong passphrase for private key " + encPEMFile},
		{name: "missing file", file: "/nonexistent/id_ed25519", wantErr: "ssh: private key file /nonexistent/id_ed25519 does not exist"},
		{name: "directory", file: t.TempDir(), wantErr: "cannot be read"},
		{name: "not a key", file: garbage, wantErr: "ssh: " + garbage + " is not a usable private key"},
		{name: "public key given", file: pubFile, wantErr: "ssh: " + pubFile + " is a public key"},
		{name: "inline garbage", inline: "-----BEGIN NONSENSE-----", wantErr: "ssh: private_key (inline) is not a usable private key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{
				Host: srv.Host, Port: srv.Port, User: "deploy", KnownHostsFile: knownHosts,
				PrivateKeyFile: tc.file, PrivateKey: tc.inline, PrivateKeyPassphrase: tc.passphrase,
			}
			c, err := dial(t, cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				mustRun(t, c, "true")
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestAllAuthFailed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	rejected := sshtest.NewKey(t, "ed25519")
	rs, err := ssh.NewSignerFromKey(rejected)
	if err != nil {
		t.Fatal(err)
	}
	agentKeys := []any{sshtest.NewKey(t, "ed25519"), sshtest.NewKey(t, "ecdsa")}
	var wantOrder []string
	for _, k := range append(agentKeys, rejected) {
		s, err := ssh.NewSignerFromKey(k)
		if err != nil {
			t.Fatal(err)
		}
		wantOrder = append(wantOrder, ssh.FingerprintSHA256(s.PublicKey()))
	}
	cfg := f.cfg
	cfg.Agent = true
	cfg.AgentSocket = startAgent(t, agentKeys...)
	cfg.PrivateKeyFile = writePrivateKey(t, rejected, "")

	_, err = dial(t, cfg)
	operatorSees(t, err)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("want *AuthError, got %T: %v", err, err)
	}
	want := fmt.Sprintf("ssh: authentication to deploy@%s failed; tried: ssh-agent (2 keys), private key %s (ssh-ed25519 %s)",
		f.srv.Addr, cfg.PrivateKeyFile, ssh.FingerprintSHA256(rs.PublicKey()))
	if err.Error() != want {
		t.Errorf("message\n got %q\nwant %q", err, want)
	}
	// Agent keys first, in the agent's order, then the key file.
	if diff := cmp.Diff(wantOrder, f.srv.AuthAttempts()); diff != "" {
		t.Errorf("keys offered (-want +got):\n%s", diff)
	}
}

func TestNoCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"nothing configured", func(c *Config) { c.PrivateKeyFile = "" }, "set private_key, private_key_file, or enable agent"},
		{"agent unreachable", func(c *Config) {
			c.PrivateKeyFile = ""
			c.Agent = true
			c.AgentSocket = "/nonexistent/agent.sock"
		}, "ssh-agent: cannot connect to /nonexistent/agent.sock"},
		{"agent empty", func(c *Config) {
			c.PrivateKeyFile = ""
			c.Agent = true
			c.AgentSocket = startAgent(t)
		}, "ssh-agent holds no keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := f.cfg
			tc.mutate(&cfg)
			_, err := dial(t, cfg)
			operatorSees(t, err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

// TestUnreachableAgentFallsBackToKey: an agent that is configured but down
// does not prevent a working key file from being used.
func TestUnreachableAgentFallsBackToKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cfg := f.cfg
	cfg.Agent = true
	cfg.AgentSocket = "/nonexistent/agent.sock"
	mustRun(t, mustDial(t, cfg), "true")
}
