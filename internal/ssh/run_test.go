// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

func TestRunQuotingAndEnv(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	words := []string{"plain", "", "two words", "it's", `"dq"`, "$HOME", "`id`", "a;b", "x\ny", "*", "-n", "\\", "a=b", "ünï"}
	out := mustRun(t, c, append([]string{"printf", `%s\0`}, words...)...)
	got := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	if diff := cmp.Diff(words, got); diff != "" {
		t.Errorf("words through the remote shell (-want +got):\n%s", diff)
	}
	// Every command runs under LC_ALL=C so that output is parseable.
	if got := mustRun(t, c, remote.Script(`printf %s "$LC_ALL"`)...); got != "C" {
		t.Errorf("LC_ALL = %q, want C", got)
	}
	execs := f.srv.Execs()
	if want := "env LC_ALL=C printf"; len(execs) == 0 || !strings.HasPrefix(execs[0], "env 'LC_ALL=C' printf ") {
		t.Errorf("command line %q does not start with %q", execs, want)
	}
}

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	cases := []struct {
		name       string
		script     string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{"success", "echo out; echo err >&2", 0, "out\n", ""},
		{"failure", "echo partial; echo 'it broke' >&2; exit 3", 3, "partial\n", "exit status 3: it broke"},
		{"not found", "exec /nonexistent/binary", 127, "", "exit status 127"},
		{"killed by signal", "kill -TERM $$", 128 + 15, "", "exit status 143"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: remote.Script(tc.script)})
			if res.ExitStatus != tc.wantStatus || string(res.Stdout) != tc.wantOut {
				t.Errorf("result %+v, want status %d stdout %q", res, tc.wantStatus, tc.wantOut)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if string(res.Stderr) != "err\n" {
					t.Errorf("stderr %q", res.Stderr)
				}
				return
			}
			var ee *remote.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("want *remote.ExitError, got %T: %v", err, err)
			}
			if ee.ExitStatus != tc.wantStatus || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v (status %d), want status %d and %q", err, ee.ExitStatus, tc.wantStatus, tc.wantErr)
			}
		})
	}
}

func TestRunStdinAndLargeStdout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	data := make([]byte, 4<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	// 4 MiB in through stdin and back out through a streaming writer.
	var out bytes.Buffer
	res, err := c.Run(testCtx(t, 30*time.Second), remote.Cmd{Argv: []string{"cat"}, Stdin: bytes.NewReader(data), Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 0 {
		t.Errorf("Result.Stdout has %d bytes; it must be empty when streaming", len(res.Stdout))
	}
	if sha256.Sum256(out.Bytes()) != sha256.Sum256(data) {
		t.Errorf("streamed %d bytes, want the %d sent", out.Len(), len(data))
	}
	// Buffered output of the same size.
	res, err = c.Run(testCtx(t, 30*time.Second), remote.Cmd{Argv: []string{"head", "-c", "3000000", "/dev/zero"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 3000000 {
		t.Errorf("buffered %d bytes, want 3000000", len(res.Stdout))
	}
}

// A command that does not read its stdin must still finish.
func TestRunUnreadStdin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	pr, pw := io.Pipe() // never written, never closed: a reader that blocks forever
	t.Cleanup(func() { _ = pw.Close() })
	start := time.Now()
	if _, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: []string{"true"}, Stdin: pr}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunStdoutWriterFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	_, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: []string{"cat", "/dev/zero"}, Stdout: failingWriter{}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v", err)
	}
	eventually(t, "the command to be stopped", func() bool { return f.srv.Running() == 0 })
}

func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	addr := sshtest.StartStalling(t)
	host, port := splitAddr(addr)
	cfg := Config{Host: host, User: "deploy", PrivateKeyFile: writePrivateKey(t, sshtest.NewKey(t, "ed25519"), ""),
		KnownHostsFile: writeFile(t, "known_hosts"), ConnectTimeout: 500 * time.Millisecond}
	cfg.Port = atoi(t, port)
	start := time.Now()
	_, err := dial(t, cfg)
	operatorSees(t, err)
	elapsed := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "handshake with "+addr+" timed out after 500ms") {
		t.Fatalf("got %v", err)
	}
	if elapsed < 500*time.Millisecond || elapsed > 500*time.Millisecond+time.Second {
		t.Errorf("failed after %s, want about 500ms", elapsed)
	}
}

func TestConnectRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	f.srv.Close() // nothing listens on its port any more
	_, err := dial(t, f.cfg)
	operatorSees(t, err)
	if err == nil || !strings.Contains(err.Error(), "ssh: connect to "+f.srv.Addr) {
		t.Fatalf("got %v", err)
	}
}

func TestConnectionDroppedMidCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", "30"}})
		operatorSees(t, err)
		errc <- err
	}()
	eventually(t, "the command to start", func() bool { return f.srv.Running() == 1 })
	f.srv.DropConnections()
	start := time.Now()
	select {
	case err := <-errc:
		var lost *ConnLostError
		if !errors.As(err, &lost) {
			t.Fatalf("want *ConnLostError, got %T: %v", err, err)
		}
		if !strings.Contains(err.Error(), "connection to deploy@"+f.srv.Addr+" lost while running `sleep 30`") {
			t.Errorf("unclear message: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s to notice", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run hung after the connection was dropped")
	}
}

func TestKeepaliveDetectsSilentPeer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cfg := f.cfg
	cfg.KeepaliveInterval = 100 * time.Millisecond
	cfg.KeepaliveMaxMissed = 3
	c := mustDial(t, cfg)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", "30"}})
		operatorSees(t, err)
		errc <- err
	}()
	eventually(t, "the command to start", func() bool { return f.srv.Running() == 1 })
	f.srv.Freeze()
	start := time.Now()
	// Bound: (missed+1) intervals, plus slack for a loaded machine.
	select {
	case err := <-errc:
		var lost *ConnLostError
		if !errors.As(err, &lost) || !strings.Contains(err.Error(), "no reply to keepalive for 300ms") {
			t.Fatalf("want *ConnLostError about keepalives, got %T: %v", err, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s to notice", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run hung on a silent peer")
	}
}

func TestRunContextCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, remote.Cmd{Argv: []string{"sleep", "30"}})
	operatorSees(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want context.DeadlineExceeded, got %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("returned after %s", d)
	}
	eventually(t, "the remote command to be stopped", func() bool { return f.srv.Running() == 0 })
	// The connection is still good.
	if got := mustRun(t, c, "echo", "still here"); got != "still here\n" {
		t.Errorf("got %q", got)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// TestRunContextCancelStopsStreaming: once Run returns, nothing more is
// written to the caller's writer.
func TestRunContextCancelStopsStreaming(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	go func() {
		for out.Len() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Run(ctx, remote.Cmd{Argv: []string{"yes"}, Stdout: out})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	n := out.Len()
	time.Sleep(200 * time.Millisecond)
	if m := out.Len(); m != n {
		t.Errorf("%d bytes written to stdout after Run returned", m-n)
	}
}

func TestRunEmptyArgv(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustDial(t, f.cfg)
	if _, err := c.Run(testCtx(t, 5*time.Second), remote.Cmd{}); err == nil {
		t.Fatal("empty argv accepted")
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}
