// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply_test

// Acceptance tests that cut a real host off its network in the middle of an
// apply: the host must hold the old or the new file (never a partial one),
// the client must give up within the keepalive bound with a clear error,
// and a rerun must converge.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// cutSlack is what a client may take beyond the keepalive bound to notice
// a dead host and return (ticker phase, the engine's own bookkeeping).
const cutSlack = 3 * time.Second

// cutWhen returns a goroutine body that waits for ready (polling the host
// out of band), then disconnects h from the lab network and records when.
// It reports problems with t.Errorf (it does not run on the test's
// goroutine) and closes done at the end.
func cutWhen(t *testing.T, inv *acctest.Inventory, h acctest.Host, what string, ready func() bool, at *time.Time, done chan<- struct{}) func() {
	return func() {
		defer close(done)
		if !acctest.Poll(10*time.Second, ready) {
			t.Errorf("%s never happened: the connection was not cut", what)
			return
		}
		*at = time.Now()
		if err := h.TryDisconnect(inv.Network); err != nil {
			t.Errorf("cutting %s off: %v", h.Name, err)
		}
	}
}

// reconnectAtEnd puts h back on the lab network when the test ends,
// whatever happened.
func reconnectAtEnd(t *testing.T, inv *acctest.Inventory, h acctest.Host) {
	t.Helper()
	t.Cleanup(func() {
		h.Connect(t, inv.Network)
		h.WaitSSH(t, 30*time.Second)
	})
}

// fileSet is n files of size random bytes under dir.
func fileSet(t *testing.T, dir string, n, size int) []apply.File {
	t.Helper()
	var fs []apply.File
	for i := range n {
		b := make([]byte, size)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		fs = append(fs, apply.File{Path: path.Join(dir, fmt.Sprintf("blob%d.bin", i)), Content: b, Mode: 0o600})
	}
	return fs
}

func TestAccApply_ConnectionCutDuringUpload(t *testing.T) {
	inv := acctest.RemoteLab(t)
	lb := inv.Host(t, "lb1")
	c := acctest.Connect(t, inv.SSHConfig(lb))
	const dir = "/var/tmp/foobar-acc-upload"
	t.Cleanup(func() {
		if _, err := lb.TryExec("rm", "-rf", "--", dir); err != nil {
			t.Errorf("%s: removing %s: %v", lb.Name, dir, err)
		}
	})
	reconnectAtEnd(t, inv, lb)

	change := func(fs []apply.File) apply.Change {
		return apply.Change{Files: fs, Lock: "acc-upload", Host: lb.Name}
	}
	ctx := context.Background()
	oldSet := fileSet(t, dir, 3, 4<<20)
	if _, err := apply.Apply(ctx, c, change(oldSet)); err != nil {
		t.Fatalf("applying the first file set: %v", err)
	}
	newSet := fileSet(t, dir, 3, 4<<20)

	// Once 1.5 MiB of the upload have left, slow the stream down and cut
	// the host off the network while the first file is half written.
	var cutAt time.Time
	cut := make(chan struct{})
	r := &acctest.HookRunner{Runner: c, Hook: func(cmd remote.Cmd) remote.Cmd {
		if !acctest.IsUpload(cmd) {
			return cmd
		}
		sr := &acctest.SignalReader{R: cmd.Stdin, N: 3 << 19, Delay: 20 * time.Millisecond, Reached: make(chan struct{})}
		cmd.Stdin = sr
		go cutWhen(t, inv, lb, "the upload's temporary file on the host", func() bool {
			select {
			case <-sr.Reached:
			default:
				return false
			}
			_, err := lb.TryExec("sh", "-c", `ls -a -- "$1" | grep -q foobar-tmp`, "sh", dir)
			return err == nil
		}, &cutAt, cut)()
		return cmd
	}}
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := apply.Apply(actx, r, change(newSet))
	returned := time.Now()
	<-cut
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	if err == nil {
		t.Fatal("the apply succeeded although its host was cut off during the upload")
	}
	if d := returned.Sub(cutAt); d > acctest.KeepaliveBound+cutSlack {
		t.Errorf("the apply returned %s after the cut; want at most the keepalive bound %s + %s", d, acctest.KeepaliveBound, cutSlack)
	}
	for _, want := range []string{"uploading the new files to lb1 failed, the live files were not touched", "stopped answering"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q", want)
		}
	}

	lb.Connect(t, inv.Network)
	// Every live file is still the old one; a candidate, if one made it,
	// is complete.
	for i, f := range newSet {
		if got, want := lb.Sha256(t, f.Path), apply.Checksum(oldSet[i].Content); got != want {
			t.Errorf("%s is %s after the cut upload, want the old %s", f.Path, got, want)
		}
		if got := lb.Sha256(t, f.Path+apply.SuffixNew); got != "" && got != apply.Checksum(f.Content) {
			t.Errorf("%s%s is incomplete (sha256 %s)", f.Path, apply.SuffixNew, got)
		}
	}

	// A rerun converges at once: the cut upload may still wait for data
	// on the host, but it holds no lock.
	start := time.Now()
	out, err := apply.Apply(ctx, c, change(newSet))
	if err != nil {
		t.Fatalf("rerun after the cut: %v", err)
	}
	t.Logf("the rerun took %s", time.Since(start).Round(time.Millisecond))
	if len(out.Changed) != len(newSet) {
		t.Errorf("rerun changed %v, want all %d files", out.Changed, len(newSet))
	}
	for _, f := range newSet {
		if got, want := lb.Sha256(t, f.Path), apply.Checksum(f.Content); got != want {
			t.Errorf("%s is %s after the rerun, want %s", f.Path, got, want)
		}
	}
	// The only leftover allowed is the cut upload's own temporary file,
	// until sshd notices the dead session (the reconnected host answers
	// the old connection's retransmissions with a reset) and the upload's
	// trap removes it.
	leftovers := func() []string {
		var l []string
		for _, f := range newSet {
			l = append(l, lb.Leftovers(t, f.Path)...)
		}
		return l
	}
	waitStart := time.Now()
	if acctest.Poll(30*time.Second, func() bool { return len(leftovers()) == 0 }) {
		t.Logf("the cut upload's leftovers were gone %s after the rerun", time.Since(waitStart).Round(100*time.Millisecond))
	} else {
		l := leftovers()
		t.Errorf("leftovers 30s after the rerun: %v", l)
		for _, name := range l {
			if i := strings.LastIndex(name, ".foobar-tmp."); i >= 0 {
				_ = stopUpload(lb, name[i+len(".foobar-tmp."):])
			}
		}
	}
	out, err = apply.Apply(ctx, c, change(newSet))
	if err != nil || len(out.Changed) != 0 {
		t.Errorf("third run: Changed %v, err %v; want nothing to do", out.Changed, err)
	}
}

// An apply interrupted while its commit runs on the host, by a network cut
// or by the operator (Ctrl-C cancels the context): the client returns
// promptly, the commit runs to its end on the host, the host holds the old
// or the new file, and a rerun converges.
func TestAccApply_InterruptedCommit(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  bool // cut the network; otherwise cancel the context
		// bound is how long the client may take to return after the
		// interruption.
		bound time.Duration
	}{
		// Losing the session, the engine tries once to collect the
		// report, which costs a connect timeout while the host is
		// unreachable.
		{"network cut", true, acctest.KeepaliveBound + acctest.ConnectTimeout + cutSlack},
		{"context cancelled", false, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			interruptCommit(t, tc.cut, tc.bound)
		})
	}
}

func interruptCommit(t *testing.T, cutNetwork bool, bound time.Duration) {
	f := newLB(t, "lb1")
	reconnectAtEnd(t, f.inv, f.lb)
	oldCfg := f.good(t)
	f.mustApply(t, oldCfg)
	newCfg := f.x.Config(t, f.web.Address, 80, func(c *haproxy.Config) { c.Timeouts.Client = "31s" })

	// A validator that takes a few seconds, so that the interruption
	// lands while the commit runs on the host.
	slow := f.x
	slow.Validate = remote.Script(`sleep 3; exec haproxy -c -f "$1"`, haproxy.ConfigPath)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The worker's command line is "/bin/sh -c SCRIPT foobar-worker
	// /var/lib/foobar/runs/<id> ...". The launcher's (and sudo's) command
	// line holds the words "foobar-worker" too, inside the launcher script,
	// but never followed by the run directory: matching only the name would
	// find the launcher before it started the worker, and an interruption
	// then lands before the commit began.
	workerRuns := func() bool {
		_, err := f.lb.TryExec("pgrep", "-f", "foobar-worker /var/lib/foobar/runs/")
		return err == nil
	}
	var cutAt time.Time
	cut := make(chan struct{})
	r := &acctest.HookRunner{Runner: f.c, Hook: func(cmd remote.Cmd) remote.Cmd {
		if !acctest.IsCommit(cmd) {
			return cmd
		}
		if cutNetwork {
			go cutWhen(t, f.inv, f.lb, "the commit's worker on the host", workerRuns, &cutAt, cut)()
			return cmd
		}
		go func() {
			defer close(cut)
			if !acctest.Poll(10*time.Second, workerRuns) {
				t.Errorf("the commit's worker never ran on the host")
			}
			cutAt = time.Now()
			cancel()
		}()
		return cmd
	}}
	_, err := apply.Apply(ctx, r, slow.Change(t, f.c, newCfg, f.web.Name))
	returned := time.Now()
	<-cut
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	ie := acctest.As[*apply.InterruptedError](t, err)
	if d := returned.Sub(cutAt); d > bound {
		t.Errorf("the apply returned %s after the interruption; want at most %s", d, bound)
	}
	if !strings.HasPrefix(ie.Report, "/var/lib/foobar/runs/") {
		t.Errorf("InterruptedError.Report = %q", ie.Report)
	}
	if !cutNetwork && !errors.Is(err, context.Canceled) {
		t.Errorf("the error does not wrap context.Canceled")
	}

	// The commit ran to its end on the host.
	if cutNetwork {
		f.lb.Connect(t, f.inv.Network)
	}
	acctest.WaitFor(t, 30*time.Second, "the report of the cut commit", func() bool {
		_, err := f.lb.TryExec("test", "-f", ie.Report)
		return err == nil
	})
	got := f.lb.Sha256(t, haproxy.ConfigPath)
	if got != apply.Checksum(oldCfg) && got != apply.Checksum(newCfg) {
		t.Fatalf("haproxy.cfg after the cut commit is neither the old nor the new file (sha256 %s)", got)
	}
	t.Logf("after the cut commit the host holds the %s config; report:\n%s", map[bool]string{true: "new", false: "old"}[got == apply.Checksum(newCfg)],
		f.lb.Exec(t, "cat", ie.Report))

	// The rerun finishes what the cut apply left (validate, reload,
	// verify, drop the backup) and the one after it has nothing to do.
	out, err := f.apply(t, newCfg)
	if err != nil {
		t.Fatalf("rerun after the cut: %v", err)
	}
	if !out.Reloaded || !(slices.Contains(out.Changed, haproxy.ConfigPath) || slices.Contains(out.Resumed, haproxy.ConfigPath)) {
		t.Errorf("rerun after the cut: Changed %v, Resumed %v, Reloaded %v; want haproxy.cfg changed or resumed, and reloaded", out.Changed, out.Resumed, out.Reloaded)
	}
	if got := f.lb.Sha256(t, haproxy.ConfigPath); got != apply.Checksum(newCfg) {
		t.Errorf("haproxy.cfg after the rerun is %s, want the new %s", got, apply.Checksum(newCfg))
	}
	f.serves(t)
	f.noLeftovers(t)
	out, err = f.apply(t, newCfg)
	if err != nil || len(out.Changed) != 0 || len(out.Resumed) != 0 || out.Reloaded {
		t.Errorf("third run: Changed %v, Resumed %v, Reloaded %v, err %v; want nothing to do", out.Changed, out.Resumed, out.Reloaded, err)
	}
}

// stopUpload ends an upload this test left hanging on the host, by the pid
// read from its temporary file's name: first its head(1), blocked on
// input (the shell runs its traps only once that child is gone), then the
// shell itself.
func stopUpload(h acctest.Host, pid string) error {
	_, err := h.TryExec("sh", "-c", `pkill -P "$1"; kill "$1" 2>/dev/null; true`, "sh", pid)
	return err
}

// The client vanishes in the middle of an upload without the host ever
// learning it (its packets are dropped, nothing answers, no FIN or RST
// arrives: a laptop that left the Wi-Fi, an expired NAT entry). sshd keeps
// the session, and the upload on the host waits for data that never comes,
// for as long as TCP keepalive takes to notice (two hours by default). The
// next apply must not have to wait for it.
func TestAccApply_HalfOpenConnectionDuringUpload(t *testing.T) {
	inv := acctest.RemoteLab(t)
	lb := inv.Host(t, "lb1")
	c := acctest.Connect(t, inv.SSHConfig(lb))
	const dir = "/var/tmp/foobar-acc-halfopen"
	var stalePID string
	t.Cleanup(func() {
		lb.Heal(t)
		if stalePID != "" {
			if err := stopUpload(lb, stalePID); err != nil {
				t.Errorf("stopping the hanging upload %s: %v", stalePID, err)
			}
		}
		if _, err := lb.TryExec("rm", "-rf", "--", dir); err != nil {
			t.Errorf("%s: removing %s: %v", lb.Name, dir, err)
		}
	})
	change := func(fs []apply.File) apply.Change {
		return apply.Change{Files: fs, Lock: "acc-halfopen", Host: lb.Name, LockWait: 10 * time.Second}
	}
	ctx := context.Background()
	oldSet := fileSet(t, dir, 2, 2<<20)
	if _, err := apply.Apply(ctx, c, change(oldSet)); err != nil {
		t.Fatalf("applying the first file set: %v", err)
	}
	newSet := fileSet(t, dir, 2, 2<<20)

	tmpRE := `^\.blob0\.bin\.foobar-tmp\.[0-9]+$`
	var cutAt time.Time
	cut := make(chan struct{})
	r := &acctest.HookRunner{Runner: c, Hook: func(cmd remote.Cmd) remote.Cmd {
		if !acctest.IsUpload(cmd) {
			return cmd
		}
		sr := &acctest.SignalReader{R: cmd.Stdin, N: 1 << 20, Delay: 20 * time.Millisecond, Reached: make(chan struct{})}
		cmd.Stdin = sr
		go func() {
			defer close(cut)
			var tmp string
			if !acctest.Poll(10*time.Second, func() bool {
				out, err := lb.TryExec("sh", "-c", `ls -a -- "$1" | grep -E "$2"`, "sh", dir, tmpRE)
				tmp = strings.TrimSpace(out)
				return err == nil && tmp != ""
			}) {
				t.Errorf("the upload's temporary file never appeared")
				return
			}
			stalePID = tmp[strings.LastIndexByte(tmp, '.')+1:]
			ports, err := acctest.LocalPorts(lb.Address, lb.Port)
			if err != nil || len(ports) != 1 {
				t.Errorf("finding this test's connection to %s: ports %v, %v", lb.Name, ports, err)
				return
			}
			cutAt = time.Now()
			if err := lb.BlackholeTCP(ports[0]); err != nil {
				t.Errorf("blackholing the connection: %v", err)
			}
		}()
		return cmd
	}}
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := apply.Apply(actx, r, change(newSet))
	returned := time.Now()
	<-cut
	t.Logf("operator sees:\n%s", acctest.ErrText(err))
	if err == nil {
		t.Fatal("the apply succeeded although its connection went silent during the upload")
	}
	if d := returned.Sub(cutAt); d > acctest.KeepaliveBound+cutSlack {
		t.Errorf("the apply returned %s after the connection went silent; want at most %s", d, acctest.KeepaliveBound+cutSlack)
	}
	if _, err := lb.TryExec("kill", "-0", stalePID); err != nil {
		t.Fatalf("the cut upload (pid %s) is not hanging on the host as this test expects: %v", stalePID, err)
	}

	// The rerun (on a new connection) converges while the cut upload still
	// hangs on the host.
	start := time.Now()
	out, err := apply.Apply(ctx, c, change(newSet))
	t.Logf("the rerun took %s", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("rerun while the cut upload hangs on the host: %v", err)
	}
	if len(out.Changed) != len(newSet) {
		t.Errorf("rerun changed %v, want all %d files", out.Changed, len(newSet))
	}
	for _, f := range newSet {
		if got, want := lb.Sha256(t, f.Path), apply.Checksum(f.Content); got != want {
			t.Errorf("%s is %s after the rerun, want %s", f.Path, got, want)
		}
	}
	// The hanging upload's own temporary file is all that is left, and it
	// goes with it.
	lb.Heal(t)
	if err := stopUpload(lb, stalePID); err != nil {
		t.Errorf("stopping the hanging upload: %v", err)
	}
	ok := acctest.Poll(5*time.Second, func() bool {
		return len(lb.Leftovers(t, newSet[0].Path)) == 0 && len(lb.Leftovers(t, newSet[1].Path)) == 0
	})
	if !ok {
		t.Errorf("leftovers after the hanging upload ended: %v %v", lb.Leftovers(t, newSet[0].Path), lb.Leftovers(t, newSet[1].Path))
	}
	stalePID = ""
}
