// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// host is a fake host rooted in a temporary directory: managed files live
// under dir, the engine's state under dir/state, and reloads append to a
// counter file.
type host struct {
	t            *testing.T
	dir          string
	state        string
	counter      string
	owner, group string
}

func newHost(t *testing.T) *host {
	t.Helper()
	dir := t.TempDir()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return &host{t: t, dir: dir, state: filepath.Join(dir, "state"), counter: filepath.Join(dir, "reloads"), owner: u.Username, group: g.Name}
}

func (h *host) path(name string) string { return filepath.Join(h.dir, name) }

func (h *host) file(name, content string) File {
	return File{Path: h.path(name), Content: []byte(content), Owner: h.owner, Group: h.group, Mode: 0o640}
}

// reloadArgv counts reloads.
func (h *host) reloadArgv() []string {
	return remote.Script(`printf x >> "$1"`, h.counter)
}

// validateArgv refuses any managed file containing the word INVALID, the
// way a real validator prints a line number and a complaint, plus noise the
// filter is expected to drop.
func (h *host) validateArgv(paths ...string) []string {
	return remote.Script(`
echo "[NOTICE] checking configuration"
rc=0
for f in "$@"; do
  if [ -f "$f" ] && grep -q INVALID "$f"; then echo "[ALERT] parsing [$f:1]: unknown keyword 'INVALID'"; rc=1; fi
done
exit $rc`, paths...)
}

func alertsOnly(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "[ALERT]") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func (h *host) change(files ...File) Change {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	return Change{
		Files:          files,
		Validate:       h.validateArgv(paths...),
		ValidateFilter: alertsOnly,
		Reload:         h.reloadArgv(),
		Lock:           "test",
		Host:           "testhost",
		StateDir:       h.state,
	}
}

func (h *host) reloads() int {
	h.t.Helper()
	b, err := os.ReadFile(h.counter)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return len(b)
}

func (h *host) write(name, content string) {
	h.t.Helper()
	if err := os.MkdirAll(filepath.Dir(h.path(name)), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(h.path(name), []byte(content), 0o640); err != nil {
		h.t.Fatal(err)
	}
}

func (h *host) read(name string) string {
	h.t.Helper()
	b, err := os.ReadFile(h.path(name))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

func (h *host) exists(name string) bool {
	_, err := os.Lstat(h.path(name))
	return err == nil
}

func (h *host) inode(name string) uint64 {
	h.t.Helper()
	fi, err := os.Lstat(h.path(name))
	if err != nil {
		h.t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// leftovers lists the engine's working files under dir (outside the state
// directory).
func (h *host) leftovers() []string {
	h.t.Helper()
	var found []string
	err := filepath.WalkDir(h.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == h.state && d.IsDir() {
			return filepath.SkipDir
		}
		if strings.Contains(d.Name(), reserved) {
			found = append(found, strings.TrimPrefix(p, h.dir+"/"))
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return found
}

// waitReports waits until n run reports exist in the state directory: the
// host side of a commit whose client went away has finished.
func (h *host) waitReports(n int) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(h.state, "runs", "*", "report"))
		if len(m) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("the host-side run did not finish")
}

// hookRunner wraps a Runner; hook sees every call (1-based n) and decides
// what happens, calling next to really run it.
type hookRunner struct {
	r    remote.Runner
	hook func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error)

	mu    sync.Mutex
	calls int
}

func (h *hookRunner) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	h.mu.Lock()
	h.calls++
	n := h.calls
	h.mu.Unlock()
	if h.hook == nil {
		return h.r.Run(ctx, cmd)
	}
	return h.hook(ctx, n, cmd, h.r.Run)
}

func (h *hookRunner) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

func counting() *hookRunner { return &hookRunner{r: remote.LocalRunner{}} }

// failingReader yields n bytes of r and then an error, like a connection
// that drops in the middle of an upload.
type failingReader struct {
	r io.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset by peer")
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	k, err := f.r.Read(p)
	f.n -= k
	return k, err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func contains(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q\ndoes not contain %q", s, sub)
		}
	}
}
