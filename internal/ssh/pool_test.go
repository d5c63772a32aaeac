// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

func newPool(t *testing.T) *Pool {
	t.Helper()
	p := NewPool()
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func mustGet(t *testing.T, p *Pool, cfg Config) *Client {
	t.Helper()
	c, err := p.Get(testCtx(t, 10*time.Second), cfg)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return c
}

func TestPoolReusesConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	p := newPool(t)
	c1 := mustGet(t, p, f.cfg)
	c2 := mustGet(t, p, f.cfg)
	if c1.current() == nil || c1.current() != c2.current() {
		t.Fatal("two Gets for the same host returned different connections")
	}
	mustRun(t, c1, "true")
	mustRun(t, c2, "true")
	if n := f.srv.Handshakes(); n != 1 {
		t.Errorf("%d handshakes, want 1", n)
	}
	// Another user is another connection.
	other := f.cfg
	other.User = "backup"
	c3 := mustGet(t, p, other)
	if c3.current() == c1.current() {
		t.Error("different users share a connection")
	}
	// Close on a pooled client leaves the shared connection open.
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	mustRun(t, c2, "true")
}

func TestPoolConcurrentGetsDialOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	p := newPool(t)
	var wg sync.WaitGroup
	clients := make([]*Client, 8)
	for i := range clients {
		wg.Go(func() {
			c, err := p.Get(context.Background(), f.cfg)
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	for _, c := range clients {
		if c != nil {
			mustRun(t, c, "true")
		}
	}
	if n := f.srv.Handshakes(); n != 1 {
		t.Errorf("%d handshakes for 8 concurrent Gets, want 1", n)
	}
}

func TestMaxSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cfg := f.cfg
	cfg.MaxSessions = 3
	c := mustGet(t, newPool(t), cfg)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", "0.2"}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// At most 3 at a time; and the runs did overlap (else the cap is untested).
	if got := f.srv.MaxConcurrentSessions(); got > 3 || got < 2 {
		t.Errorf("server saw up to %d concurrent sessions, want 2..3", got)
	}
}

func TestMaxSessionsWaitRespectsContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	cfg := f.cfg
	cfg.MaxSessions = 1
	c := mustGet(t, newPool(t), cfg)
	go func() { _, _ = c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", "3"}}) }()
	eventually(t, "the first command to start", func() bool { return f.srv.Running() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, remote.Cmd{Argv: []string{"true"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded while waiting for a session slot, got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s", d)
	}
}

func TestRedialAfterBrokenConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	p := newPool(t)
	c := mustGet(t, p, f.cfg)
	mustRun(t, c, "true")
	first := c.current()

	f.srv.DropConnections()
	// The next Run redials, whether or not the death was noticed yet.
	if got := mustRun(t, c, "echo", "again"); got != "again\n" {
		t.Errorf("got %q", got)
	}
	if c.current() == first {
		t.Error("still on the old connection")
	}
	if n := f.srv.Handshakes(); n != 2 {
		t.Errorf("%d handshakes, want 2", n)
	}

	// The same through Get.
	f.srv.DropConnections()
	eventually(t, "the drop to be noticed", func() bool { return c.current() == nil })
	c2 := mustGet(t, p, f.cfg)
	mustRun(t, c2, "true")
	if n := f.srv.Handshakes(); n != 3 {
		t.Errorf("%d handshakes, want 3", n)
	}
}

// TestRedialFailsClearly: the host is gone for good; Run tries once and
// reports the dial error instead of hanging or looping.
func TestRedialFailsClearly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustGet(t, newPool(t), f.cfg)
	mustRun(t, c, "true")
	f.srv.Close()
	_, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: []string{"true"}})
	operatorSees(t, err)
	if err == nil || !strings.Contains(err.Error(), "ssh: connect to "+f.srv.Addr) {
		t.Fatalf("got %v", err)
	}
}

func TestPoolClose(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	p := NewPool()
	c := mustGet(t, p, f.cfg)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), remote.Cmd{Argv: []string{"sleep", "30"}})
		errc <- err
	}()
	eventually(t, "the command to start", func() bool { return f.srv.Running() == 1 })
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		var lost *ConnLostError
		if !errors.As(err, &lost) {
			t.Errorf("running command: want *ConnLostError, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run hung after Pool.Close")
	}
	if _, err := p.Get(testCtx(t, 5*time.Second), f.cfg); !errors.Is(err, errPoolClosed) {
		t.Errorf("Get after Close: %v", err)
	}
}

// bastionFixture is a target reachable only through a bastion: both are
// in-process servers with their own host keys, and one known_hosts file.
type bastionFixture struct {
	bastion, target *sshtest.Server
	cfg             Config // target, with Bastion set
}

func newBastionFixture(t *testing.T, bastionOpts sshtest.Options, targetAddr string) *bastionFixture {
	t.Helper()
	bastionOpts.HostKeys = hostKeys(t, "ecdsa")
	b := newFixture(t, bastionOpts)
	tf := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	knownHosts := writeFile(t, "known_hosts",
		knownLine(b.srv.Addr, b.hostKeys[0].PublicKey()),
		knownLine(tf.srv.Addr, tf.hostKeys[0].PublicKey()))
	bcfg := b.cfg
	bcfg.User = "jump"
	bcfg.KnownHostsFile = knownHosts
	cfg := tf.cfg
	cfg.KnownHostsFile = knownHosts
	cfg.Bastion = &bcfg
	if targetAddr != "" {
		host, port := splitAddr(targetAddr)
		cfg.Host, cfg.Port = host, atoi(t, port)
	}
	return &bastionFixture{bastion: b.srv, target: tf.srv, cfg: cfg}
}

func TestBastion(t *testing.T) {
	t.Parallel()
	bf := newBastionFixture(t, sshtest.Options{}, "")
	p := newPool(t)
	c := mustGet(t, p, bf.cfg)
	if got := mustRun(t, c, "echo", "behind the bastion"); got != "behind the bastion\n" {
		t.Errorf("got %q", got)
	}
	if got := bf.bastion.Forwards(); len(got) != 1 || got[0] != bf.target.Addr {
		t.Errorf("bastion forwarded to %v, want [%s]", got, bf.target.Addr)
	}
	if len(bf.bastion.Execs()) != 0 {
		t.Errorf("commands ran on the bastion: %v", bf.bastion.Execs())
	}
	// The bastion connection is pooled like any other: a direct Get of the
	// bastion reuses it.
	bc := mustGet(t, p, *bf.cfg.Bastion)
	mustRun(t, bc, "true")
	if n := bf.bastion.Handshakes(); n != 1 {
		t.Errorf("bastion: %d handshakes, want 1", n)
	}

	// Unpooled: Dial through the bastion, Close closes both hops.
	dc := mustDial(t, bf.cfg)
	mustRun(t, dc, "true")
	if n := bf.bastion.Handshakes(); n != 2 {
		t.Errorf("bastion: %d handshakes, want 2", n)
	}
	if err := dc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := dc.Run(testCtx(t, 5*time.Second), remote.Cmd{Argv: []string{"true"}}); err == nil {
		t.Error("Run after Close succeeded")
	}
}

func TestBastionHostKeyChecked(t *testing.T) {
	t.Parallel()
	bf := newBastionFixture(t, sshtest.Options{}, "")
	cfg := bf.cfg
	b := *cfg.Bastion
	b.KnownHostsFile = writeFile(t, "known_hosts") // the bastion is unknown
	cfg.Bastion = &b
	_, err := dial(t, cfg)
	operatorSees(t, err)
	var unknown *UnknownHostError
	if !errors.As(err, &unknown) || unknown.Addr != bf.bastion.Addr {
		t.Fatalf("want *UnknownHostError for the bastion, got %v", err)
	}
	if !strings.Contains(err.Error(), "while connecting to bastion "+bf.bastion.Addr) {
		t.Errorf("error does not say it was the bastion: %v", err)
	}
}

func TestBastionDeadlines(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   sshtest.Options
		target func(t *testing.T) string
		want   string
	}{
		{"forward never answered", sshtest.Options{StallForwards: true}, func(*testing.T) string { return "" }, "timed out after 500ms"},
		{"target never speaks", sshtest.Options{}, func(t *testing.T) string { return sshtest.StartStalling(t) }, "timed out after 500ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bf := newBastionFixture(t, tc.opts, tc.target(t))
			cfg := bf.cfg
			cfg.ConnectTimeout = 500 * time.Millisecond
			start := time.Now()
			_, err := dial(t, cfg)
			elapsed := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "through bastion "+bf.bastion.Addr) {
				t.Fatalf("got %v", err)
			}
			if elapsed > 500*time.Millisecond+time.Second {
				t.Errorf("failed after %s", elapsed)
			}
		})
	}
}
