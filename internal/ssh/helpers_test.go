// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"context"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

// fixture is an in-process server with one authorized client key and a
// known_hosts file that lists the server's plain host keys.
type fixture struct {
	srv        *sshtest.Server
	hostKeys   []ssh.Signer
	clientKey  ssh.Signer
	keyFile    string
	knownHosts string
	cfg        Config
}

func newFixture(t *testing.T, opts sshtest.Options) *fixture {
	t.Helper()
	key := sshtest.NewKey(t, "ed25519")
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	opts.AuthorizedKeys = append(opts.AuthorizedKeys, signer.PublicKey())
	srv := sshtest.Start(t, opts)
	f := &fixture{srv: srv, hostKeys: opts.HostKeys, clientKey: signer}
	f.keyFile = writePrivateKey(t, key, "")
	var lines []string
	for _, hk := range opts.HostKeys {
		if _, isCert := hk.PublicKey().(*ssh.Certificate); !isCert {
			lines = append(lines, knownLine(srv.Addr, hk.PublicKey()))
		}
	}
	if len(opts.HostKeys) == 0 {
		t.Fatal("fixture: give the server its host keys explicitly")
	}
	f.knownHosts = writeFile(t, "known_hosts", lines...)
	f.cfg = Config{
		Host:           srv.Host,
		Port:           srv.Port,
		User:           "deploy",
		PrivateKeyFile: f.keyFile,
		KnownHostsFile: f.knownHosts,
		ConnectTimeout: 5 * time.Second,
	}
	return f
}

// hostKeys returns n fresh host key signers of the given types.
func hostKeys(t *testing.T, types ...string) []ssh.Signer {
	t.Helper()
	var out []ssh.Signer
	for _, typ := range types {
		out = append(out, sshtest.NewSigner(t, typ))
	}
	return out
}

func knownLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key)
}

// tempDir is t.TempDir, except on Windows, where it is removed file by file
// with os.Remove (DeleteFile): Wine, which runs the Windows build of these
// tests, refuses the POSIX-semantics delete that os.RemoveAll, and so
// t.TempDir's cleanup, uses there ("Invalid function").
func tempDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "foobar-ssh-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		_ = filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err == nil {
				paths = append(paths, p)
			}
			return nil
		})
		for i := len(paths) - 1; i >= 0; i-- { // children before their directory
			if err := os.Remove(paths[i]); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return dir
}

func writeFile(t *testing.T, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(tempDir(t), name)
	data := strings.Join(lines, "\n")
	if len(lines) > 0 {
		data += "\n"
	}
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writePrivateKey writes key in OpenSSH format, encrypted when passphrase is
// set, and returns the path.
func writePrivateKey(t *testing.T, key any, passphrase string) string {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(key, "test key")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, "test key", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "id_test", strings.TrimSuffix(string(pem.EncodeToMemory(block)), "\n"))
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// dial connects with cfg on a private connection closed at the end of the
// test.
func dial(t *testing.T, cfg Config) (*Client, error) {
	t.Helper()
	c, err := Dial(testCtx(t, 20*time.Second), cfg)
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

func mustDial(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := dial(t, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return c
}

func mustRun(t *testing.T, c *Client, argv ...string) string {
	t.Helper()
	res, err := c.Run(testCtx(t, 20*time.Second), remote.Cmd{Argv: argv})
	if err != nil {
		t.Fatalf("Run %q: %v", argv, err)
	}
	return string(res.Stdout)
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	const d = 5 * time.Second
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// operatorSees logs an error as the operator reads it (go test -v shows
// them; the project's notes quote them).
func operatorSees(t *testing.T, err error) {
	t.Helper()
	t.Logf("operator sees: %v", err)
}
