// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

func bytesMap(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func sums(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = Checksum([]byte(v))
	}
	return out
}

// spec is a SyncSpec for a test host, its record in the host's state
// directory (outside the root).
func (h *host) spec(root string, files map[string]string, fileMode, dirMode os.FileMode) SyncSpec {
	return SyncSpec{Root: root, Files: bytesMap(files), Owner: h.owner, Group: h.group, FileMode: fileMode, DirMode: dirMode,
		Record: h.path("state/" + filepath.Base(root) + ".record")}
}

func TestManifestMissingRoot(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	m, err := Manifest(context.Background(), remote.LocalRunner{}, h.path("nope"))
	must(t, err)
	if len(m) != 0 {
		t.Errorf("manifest of a missing root: %v", m)
	}
	h.write("file", "x")
	if _, err := Manifest(context.Background(), remote.LocalRunner{}, h.path("file")); err == nil {
		t.Errorf("a file as root was accepted")
	}
}

func TestManifestListsOnlyFilesBelowRoot(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	outside := h.path("outside")
	h.write("outside/secret", "do not read")
	h.write("www/index.html", "<h1>hi</h1>")
	h.write("www/.hidden", "h")
	h.write("www/..dots", "d")
	h.write("www/a dir/b c.txt", "spaces")
	h.write("www/*", "star")
	must(t, os.Symlink(outside, h.path("www/escape")))
	r := counting()
	m, err := Manifest(context.Background(), r, h.path("www"))
	must(t, err)
	want := sums(map[string]string{"index.html": "<h1>hi</h1>", ".hidden": "h", "..dots": "d", "a dir/b c.txt": "spaces", "*": "star"})
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if r.count() != 1 {
		t.Errorf("%d round trips", r.count())
	}
}

func TestSyncDir(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	root := h.path("site")
	v1 := map[string]string{
		"index.html":         "<h1>v1</h1>\n",
		"css/site.css":       "body{}\n",
		"img/deep/logo.svg":  "<svg/>",
		"docs/old/page.html": "old",
		"with space.txt":     "s",
	}
	st, err := SyncDir(ctx, remote.LocalRunner{}, h.spec(root, v1, 0o644, 0o755))
	must(t, err)
	want := SyncStats{FilesSent: 5, BytesSent: int64(len("<h1>v1</h1>\n") + len("body{}\n") + len("<svg/>") + len("old") + len("s"))}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("first sync (-want +got):\n%s", d)
	}
	m, err := Manifest(ctx, remote.LocalRunner{}, root)
	must(t, err)
	if d := cmp.Diff(sums(v1), m); d != "" {
		t.Errorf("after first sync (-want +got):\n%s", d)
	}
	fi, err := os.Stat(filepath.Join(root, "img/deep"))
	must(t, err)
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("directory mode %v", fi.Mode())
	}

	// Nothing changed: one round trip, nothing sent.
	r := counting()
	st, err = SyncDir(ctx, r, h.spec(root, v1, 0o644, 0o755))
	must(t, err)
	if d := cmp.Diff(SyncStats{FilesUnchanged: 5}, st); d != "" || r.count() != 1 {
		t.Errorf("unchanged sync (-want +got):\n%s\nround trips %d", d, r.count())
	}

	// One file changed, one added, a tree removed, and a file and a
	// directory that the sync did not put there: they are kept.
	ino := inodeOf(t, filepath.Join(root, "css/site.css"))
	h.write("site/stray.tmp", "left by someone")
	h.write("site/docs/theirs/notes.txt", "someone else's")
	v2 := map[string]string{
		"index.html":        "<h1>v2</h1>\n",
		"css/site.css":      "body{}\n",
		"img/deep/logo.svg": "<svg/>",
		"js/app.js":         "app()",
		"with space.txt":    "s",
	}
	st, err = SyncDir(ctx, remote.LocalRunner{}, h.spec(root, v2, 0o644, 0o755))
	must(t, err)
	want = SyncStats{FilesSent: 2, BytesSent: int64(len("<h1>v2</h1>\n") + len("app()")), FilesUnchanged: 3, FilesRemoved: 1, DirsRemoved: 1}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("second sync (-want +got):\n%s", d)
	}
	m, err = Manifest(ctx, remote.LocalRunner{}, root)
	must(t, err)
	v2host := map[string]string{"stray.tmp": "left by someone", "docs/theirs/notes.txt": "someone else's"}
	for k, v := range v2 {
		v2host[k] = v
	}
	if d := cmp.Diff(sums(v2host), m); d != "" {
		t.Errorf("after second sync (-want +got):\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(root, "docs/old")); !os.IsNotExist(err) {
		t.Errorf("emptied directory kept: %v", err)
	}
	if inodeOf(t, filepath.Join(root, "css/site.css")) != ino {
		t.Errorf("an unchanged file was rewritten")
	}

	// The sync's own files are all removed when it is emptied; the
	// others stay, and so does the directory that holds one.
	st, err = SyncDir(ctx, remote.LocalRunner{}, h.spec(root, map[string]string{}, 0o644, 0o755))
	must(t, err)
	if d := cmp.Diff(SyncStats{FilesRemoved: 5, DirsRemoved: 4}, st); d != "" {
		t.Errorf("emptying sync (-want +got):\n%s", d)
	}
	m, err = Manifest(ctx, remote.LocalRunner{}, root)
	must(t, err)
	if d := cmp.Diff(sums(map[string]string{"stray.tmp": "left by someone", "docs/theirs/notes.txt": "someone else's"}), m); d != "" {
		t.Errorf("after emptying (-want +got):\n%s", d)
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func inodeOf(t *testing.T, p string) uint64 {
	t.Helper()
	h := &host{t: t}
	h.dir = filepath.Dir(p)
	return h.inode(filepath.Base(p))
}

// TestSyncDirReplacesKinds: what the sync put there it may turn into
// another kind (a file into a directory and back); what it did not put
// there, it refuses to remove to make room, and says so.
func TestSyncDirReplacesKinds(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	root := h.path("site")
	_, err := SyncDir(ctx, remote.LocalRunner{}, h.spec(root, map[string]string{"a/inner.txt": "x", "b": "file"}, 0o600, 0o700))
	must(t, err)
	want := map[string]string{"a": "now a file", "b/x": "under a dir"}
	_, err = SyncDir(ctx, remote.LocalRunner{}, h.spec(root, want, 0o600, 0o700))
	must(t, err)
	m, err := Manifest(ctx, remote.LocalRunner{}, root)
	must(t, err)
	if d := cmp.Diff(sums(want), m); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	// Foreign entries in the way: a directory where a file must be, a file
	// where a directory must be, a symlink out of the root where a
	// directory must be. Each is refused and left as it is.
	h.write("outside/keep", "precious")
	h.write("site/d/theirs.txt", "x")
	h.write("site/e", "their file")
	must(t, os.Symlink(h.path("outside"), h.path("site/f")))
	for _, tc := range []struct{ rel, msg string }{{"d", "is a directory"}, {"e/x", "is not a directory"}, {"f/keep", "symlink"}} {
		files := map[string]string{"a": "now a file", "b/x": "under a dir", tc.rel: "mine"}
		_, err := SyncDir(ctx, remote.LocalRunner{}, h.spec(root, files, 0o600, 0o700))
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err %v, want %q", tc.rel, err, tc.msg)
		}
	}
	if h.read("outside/keep") != "precious" || h.read("site/d/theirs.txt") != "x" || h.read("site/e") != "their file" {
		t.Errorf("a foreign entry was changed")
	}
	fi, err := os.Lstat(h.path("site/f"))
	must(t, err)
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("site/f is %v, want the foreign symlink", fi.Mode())
	}
}

func TestSyncDirRefusesEscapes(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	root := h.path("site")
	for name, files := range map[string]map[string]string{
		"dotdot":         {"../evil": "x"},
		"dotdot inside":  {"a/../../evil": "x"},
		"absolute":       {"/etc/passwd": "x"},
		"newline":        {"a\nb": "x"},
		"dot":            {"./a": "x"},
		"empty":          {"": "x"},
		"double slash":   {"a//b": "x"},
		"trailing slash": {"a/": "x"},
		"file and dir":   {"a": "x", "a/b": "y"},
		"reserved":       {"a.foobar-new": "x"},
	} {
		r := counting()
		if _, err := SyncDir(context.Background(), r, h.spec(root, files, 0, 0)); err == nil || r.count() != 0 {
			t.Errorf("%s: err %v after %d calls", name, err, r.count())
		}
	}
	for _, bad := range []string{"/", "/etc", "/var/www", "relative", "/a/../b"} {
		if _, err := SyncDir(context.Background(), counting(), SyncSpec{Root: bad, Record: h.path("state/record")}); err == nil {
			t.Errorf("root %q accepted", bad)
		}
	}
	if _, err := os.Stat(h.path("evil")); !os.IsNotExist(err) {
		t.Errorf("something was written outside the root")
	}
}

// TestSyncScriptRefusesEscapes feeds the host-side script directly, as a
// compromised or buggy client would: it must still refuse.
func TestSyncScriptRefusesEscapes(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	root := h.path("site")
	h.write("outside/victim", "precious")
	must(t, os.MkdirAll(root, 0o755))
	must(t, os.Symlink(h.path("outside"), filepath.Join(root, "link")))
	for name, stream := range map[string]string{
		"write dotdot":        "W 1 " + Checksum([]byte("x")) + "\n../outside/victim\nxE - -\n",
		"remove dotdot":       "R - -\n../outside/victim\nE - -\n",
		"absolute":            "R - -\n/outside/victim\nE - -\n",
		"write through link":  "W 1 " + Checksum([]byte("x")) + "\nlink/victim\nxE - -\n",
		"remove through link": "R - -\nlink/victim\nE - -\n",
		"truncated":           "W 10 " + Checksum([]byte("0123456789")) + "\nshort\n0123",
	} {
		argv := remote.Script(syncScript, root, h.owner, h.group, "644", "755", h.path("state/record"))
		_, err := remote.LocalRunner{}.Run(context.Background(), remote.Cmd{Argv: argv, Stdin: strings.NewReader(stream)})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if h.read("outside/victim") != "precious" {
		t.Errorf("the victim outside the root was changed")
	}
	if h.exists("site/short") {
		t.Errorf("a truncated file was renamed into place")
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func TestSyncDirAwkwardNames(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	root := h.path("site")
	files := map[string]string{
		"dollar $HOME.html":          "a",
		"tick `id`/x":                "b",
		`back\slash`:                 "c",
		`quotes 'single' "double"`:   "d",
		"-dash":                      "e",
		"  spaces  /  inside  ":      "f",
		"glob *?[a]":                 "g",
		"tab\there":                  "h",
		".hidden/..dotdot-like/file": "i",
	}
	st, err := SyncDir(ctx, remote.LocalRunner{}, h.spec(root, files, 0, 0))
	must(t, err)
	if st.FilesSent != len(files) {
		t.Errorf("stats %+v", st)
	}
	m, err := Manifest(ctx, remote.LocalRunner{}, root)
	must(t, err)
	if d := cmp.Diff(sums(files), m); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	delete(files, "glob *?[a]")
	st, err = SyncDir(ctx, remote.LocalRunner{}, h.spec(root, files, 0, 0))
	must(t, err)
	if d := cmp.Diff(SyncStats{FilesUnchanged: len(files), FilesRemoved: 1}, st); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
