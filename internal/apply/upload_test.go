// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// stallingReader yields n bytes of r, then blocks until release is closed
// and fails: a client that vanished without the host noticing.
type stallingReader struct {
	r       io.Reader
	n       int
	release chan struct{}
}

func (s *stallingReader) Read(p []byte) (int, error) {
	if s.n <= 0 {
		<-s.release
		return 0, errors.New("connection timed out")
	}
	if len(p) > s.n {
		p = p[:s.n]
	}
	k, err := s.r.Read(p)
	s.n -= k
	return k, err
}

// Found on a real host (TestAccApply_HalfOpenConnectionDuringUpload): an
// upload whose client vanished held the lock while it waited for data, so
// every later apply timed out on the lock for as long as sshd kept the dead
// session (two hours of TCP keepalive). The upload now takes the lock only
// once every file has arrived.
func TestStalledUploadDoesNotHoldTheLock(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	must(t, os.MkdirAll(h.dir, 0o755))
	big := strings.Repeat("0123456789abcdef", 1<<14)

	release := make(chan struct{})
	stalled := &hookRunner{r: remote.LocalRunner{}, hook: func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
		if cmd.Stdin != nil {
			cmd.Stdin = &stallingReader{r: cmd.Stdin, n: 1000, release: release}
		}
		return next(ctx, cmd)
	}}
	first := make(chan error, 1)
	go func() {
		_, err := Apply(ctx, stalled, h.change(h.file("a.cfg", big)))
		first <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(h.dir, ".a.cfg.foobar-tmp.*"))
		if len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the stalled upload never started writing")
		}
		time.Sleep(20 * time.Millisecond)
	}

	c := h.change(h.file("a.cfg", "v2\n"))
	c.LockWait = 2 * time.Second
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	close(release)
	if err != nil {
		t.Fatalf("apply while another upload stalls: %v", err)
	}
	if got := h.read("a.cfg"); got != "v2\n" {
		t.Errorf("a.cfg = %q, want v2", got)
	}
	if err := <-first; err == nil {
		t.Error("the stalled apply succeeded")
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers after the stalled upload failed: %v", l)
	}
}

// Temporaries of uploads that were killed outright go; those of an upload
// still writing stay.
func TestUploadRemovesOnlyDeadTemporaries(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	must(t, os.MkdirAll(h.dir, 0o755))
	// A pid above any kernel's pid_max cannot be alive.
	dead := h.path(".a.cfg.foobar-tmp.99999999")
	live := h.path(".a.cfg.foobar-tmp." + strconv.Itoa(os.Getpid()))
	other := h.path(".b.cfg.foobar-tmp.99999999")
	for _, p := range []string{dead, live, other} {
		must(t, os.WriteFile(p, []byte("partial"), 0o600))
	}
	if _, err := Apply(context.Background(), remote.LocalRunner{}, h.change(h.file("a.cfg", "v1\n"))); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{dead: false, live: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
