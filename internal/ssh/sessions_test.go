// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

// Found on the lab's real sshd (TestAccSSH_ManyConcurrentCommands): a burst
// of commands within the client's cap (then 8) still met "no more sessions",
// because sshd frees a session only after it has processed the client's
// close; and an sshd configured with a lower MaxSessions refuses outright.
// A refused session ran nothing, so the client waits and opens it again.
func TestRefusedSessionsAreRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519"), MaxSessions: 2})
	c := mustGet(t, newPool(t), f.cfg) // default cap: 10 sessions
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", "0.1"}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if f.srv.Refused() == 0 {
		t.Errorf("the server never refused a session: the retry is untested")
	}
	if got := f.srv.MaxConcurrentSessions(); got > 2 {
		t.Errorf("the server ran %d commands at once, more than its MaxSessions 2", got)
	}
}

func TestRefusedSessionRetryRespectsContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519"), MaxSessions: 1})
	c := mustGet(t, newPool(t), f.cfg)
	go func() { _, _ = c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", "3"}}) }()
	eventually(t, "the first command to start", func() bool { return f.srv.Running() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, remote.Cmd{Argv: []string{"true"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded while the server refuses sessions, got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s", d)
	}
	if f.srv.Refused() == 0 {
		t.Errorf("the server never refused a session")
	}
}

// CommandCounts counts one per command run, by host address, and leaves
// out the sessions that set the connection up (sudo detection), which the
// server sees too: a test that holds a Read to one round trip per host
// relies on both.
func TestPoolCountsCommands(t *testing.T) {
	t.Parallel()
	f := newSudoFixture(t, "password")
	f.cfg.User, f.cfg.SudoPassword = "deploy", sudoPassword
	p := newPool(t)
	c := mustGet(t, p, f.cfg)
	ctx := testCtx(t, 10*time.Second)
	for _, cmd := range []remote.Cmd{{Argv: []string{"true"}}, {Argv: []string{"true"}}, {Argv: []string{"true"}, Unprivileged: true}} {
		if _, err := c.Run(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.CommandCounts()[c.Addr()]; got != 3 {
		t.Errorf("CommandCounts()[%s] = %d after 3 commands, want 3 (all counts: %v)", c.Addr(), got, p.CommandCounts())
	}
	// The server saw the three commands and the two sessions of sudo
	// detection (probe, password check).
	if got := len(f.srv.Execs()); got != 5 {
		t.Errorf("the server saw %d sessions, want 5: %q", got, f.srv.Execs())
	}
	p.ResetCommandCounts()
	if _, err := c.Run(ctx, remote.Cmd{Argv: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if got := p.CommandCounts(); len(got) != 1 || got[c.Addr()] != 1 {
		t.Errorf("after a reset and one command: %v, want {%s: 1}", got, c.Addr())
	}
}
