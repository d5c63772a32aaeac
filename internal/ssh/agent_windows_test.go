// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/windows"

	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

// The Windows build's own tests: an agent served on a named pipe, as the
// OpenSSH agent service and Pageant serve theirs. `make test` runs them under
// Wine (tools/wine-test.sh).

var pipeSeq atomic.Int64

// testPipeName is a pipe name no other test or process uses.
func testPipeName(prefix string) string {
	return fmt.Sprintf(`\\.\pipe\%s.%d.%d`, prefix, os.Getpid(), pipeSeq.Add(1))
}

func createPipe(name string, first bool) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return windows.InvalidHandle, err
	}
	mode := uint32(windows.PIPE_ACCESS_DUPLEX)
	if first {
		mode |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	return windows.CreateNamedPipe(p, mode, windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT,
		windows.PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, nil)
}

// servePipe serves each client of the named pipe name with serve, until the
// test ends. It reports false when the pipe already exists (another server
// holds the name).
func servePipe(t *testing.T, name string, serve func(*os.File)) bool {
	t.Helper()
	h, err := createPipe(name, true)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
		return false
	}
	if err != nil {
		t.Fatalf("CreateNamedPipe %s: %v", name, err)
	}
	var done atomic.Bool
	go func() {
		for {
			err := windows.ConnectNamedPipe(h, nil)
			if done.Load() || (err != nil && !errors.Is(err, windows.ERROR_PIPE_CONNECTED)) {
				_ = windows.CloseHandle(h)
				return
			}
			// The next instance exists before this one is served, so a
			// client never finds the pipe missing.
			next, nerr := createPipe(name, false)
			f := os.NewFile(uintptr(h), name)
			go func() {
				defer f.Close()
				serve(f)
			}()
			if nerr != nil {
				return
			}
			h = next
		}
	}()
	t.Cleanup(func() {
		done.Store(true)
		// Wake the pending ConnectNamedPipe.
		if f, err := os.OpenFile(name, os.O_RDWR, 0); err == nil {
			_ = f.Close()
		}
	})
	return true
}

// servePipeAgent serves an in-process agent holding keys on the named pipe.
func servePipeAgent(t *testing.T, name string, keys ...any) bool {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	return servePipe(t, name, func(f *os.File) { _ = agent.ServeAgent(kr, f) })
}

// agentOnlyServer is an in-process SSH server that accepts only the returned
// key, with a config that trusts its host key and has no private key.
func agentOnlyServer(t *testing.T) (*sshtest.Server, Config, any) {
	t.Helper()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	authorized := sshtest.NewKey(t, "ecdsa")
	signer, err := ssh.NewSignerFromKey(authorized)
	if err != nil {
		t.Fatal(err)
	}
	srv := sshtest.Start(t, sshtest.Options{HostKeys: f.hostKeys, AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}})
	cfg := f.cfg
	cfg.Port = srv.Port
	cfg.KnownHostsFile = writeFile(t, "known_hosts", knownLine(srv.Addr, f.hostKeys[0].PublicKey()))
	cfg.PrivateKeyFile = ""
	cfg.Agent = true
	return srv, cfg, authorized
}

func checkAgentKeyUsed(t *testing.T, srv *sshtest.Server, key any) {
	t.Helper()
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.AuthAttempts(); len(got) == 0 || got[len(got)-1] != ssh.FingerprintSHA256(signer.PublicKey()) {
		t.Errorf("auth attempts %v, want the agent's key %s last", got, ssh.FingerprintSHA256(signer.PublicKey()))
	}
}

func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restored at the end of the test
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

// TestAgentWindowsDefaultPipe: with SSH_AUTH_SOCK unset, the agent is the
// OpenSSH agent service's pipe, \\.\pipe\openssh-ssh-agent.
func TestAgentWindowsDefaultPipe(t *testing.T) {
	unsetenv(t, "SSH_AUTH_SOCK")
	srv, cfg, key := agentOnlyServer(t)
	if !servePipeAgent(t, WindowsAgentPipe, sshtest.NewKey(t, "ed25519"), key) {
		t.Skipf("%s is served already (the OpenSSH agent service runs here); this test needs the name for its own agent", WindowsAgentPipe)
	}
	mustDial(t, cfg)
	checkAgentKeyUsed(t, srv, key)
}

// TestAgentWindowsAuthSockPipe: SSH_AUTH_SOCK naming a pipe (as Pageant's
// does) is used instead of the default pipe, written with either separator.
func TestAgentWindowsAuthSockPipe(t *testing.T) {
	for _, slash := range []bool{false, true} {
		t.Run(fmt.Sprint("forward slashes ", slash), func(t *testing.T) {
			srv, cfg, key := agentOnlyServer(t)
			name := testPipeName("pageant.foobar-test")
			if !servePipeAgent(t, name, key) {
				t.Fatalf("pipe %s exists already", name)
			}
			sock := name
			if slash {
				sock = strings.ReplaceAll(name, `\`, "/")
			}
			t.Setenv("SSH_AUTH_SOCK", sock)
			mustDial(t, cfg)
			checkAgentKeyUsed(t, srv, key)
		})
	}
}

// TestAgentWindowsPipeDeadline: an agent that accepts the connection and
// never answers costs the connect timeout, not a hang, and the private key
// is used instead.
func TestAgentWindowsPipeDeadline(t *testing.T) {
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	name := testPipeName("foobar-test-hung-agent")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	if !servePipe(t, name, func(*os.File) { <-release }) {
		t.Fatalf("pipe %s exists already", name)
	}
	cfg := f.cfg
	cfg.Agent = true
	cfg.AgentSocket = name
	cfg.ConnectTimeout = time.Second
	start := time.Now()
	plan, err := buildAuth(cfg)
	if err != nil {
		t.Fatalf("buildAuth: %v", err)
	}
	defer plan.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a hung agent took %s (connect timeout 1s)", d)
	}
	if len(plan.tried) != 2 || !strings.HasPrefix(plan.tried[0], "ssh-agent (listing keys from "+name) {
		t.Errorf("tried %q, want the hung agent's listing failure first, then the key file", plan.tried)
	}
	mustDial(t, cfg)
}

// TestAgentWindowsMissingPipe: no agent at all names the pipe in the error.
func TestAgentWindowsMissingPipe(t *testing.T) {
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cfg := f.cfg
	cfg.PrivateKeyFile = ""
	cfg.Agent = true
	cfg.AgentSocket = testPipeName("foobar-test-no-agent")
	_, err := dial(t, cfg)
	want := "ssh-agent: cannot connect to " + cfg.AgentSocket
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}
