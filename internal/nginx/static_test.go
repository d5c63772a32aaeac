// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		local, remote map[string]string
		send, remove  []string
	}{
		{"both empty", nil, nil, nil, nil},
		{"all new", map[string]string{"b": "1", "a": "2"}, nil, []string{"a", "b"}, nil},
		{"all gone", nil, map[string]string{"x/y": "1", "a": "2"}, nil, []string{"a", "x/y"}},
		{"same", map[string]string{"a": "1"}, map[string]string{"a": "1"}, nil, nil},
		{"mixed", map[string]string{"same": "1", "changed": "2", "new": "3"}, map[string]string{"same": "1", "changed": "x", "old": "4"}, []string{"changed", "new"}, []string{"old"}},
	}
	for _, c := range cases {
		send, remove := Diff(c.local, c.remote)
		if diff := cmp.Diff(c.send, send); diff != "" {
			t.Errorf("%s send (-want +got):\n%s", c.name, diff)
		}
		if diff := cmp.Diff(c.remove, remove); diff != "" {
			t.Errorf("%s remove (-want +got):\n%s", c.name, diff)
		}
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestWalkStatic(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "site")
	outside := filepath.Join(base, "secret.txt")
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "index.html"), "<h1>hi</h1>")
	write(filepath.Join(root, "css", "app.css"), "body{}")
	write(filepath.Join(root, "with space.txt"), "x")
	write(outside, "root:x:0:0")
	link("index.html", filepath.Join(root, "home.html"))        // inside: followed
	link("../secret.txt", filepath.Join(root, "leak.txt"))      // outside: skipped
	link(outside, filepath.Join(root, "css", "abs-leak.txt"))   // absolute outside: skipped
	link("missing", filepath.Join(root, "dangling"))            // dangling: skipped
	link("css", filepath.Join(root, "css-link"))                // directory: skipped
	link(filepath.Join(base), filepath.Join(root, "css", "up")) // directory outside: skipped

	files, skipped, err := WalkStatic(root)
	if err != nil {
		t.Fatal(err)
	}
	wantHashes := map[string]string{
		"index.html":     sum("<h1>hi</h1>"),
		"home.html":      sum("<h1>hi</h1>"),
		"css/app.css":    sum("body{}"),
		"with space.txt": sum("x"),
	}
	if diff := cmp.Diff(wantHashes, Hashes(files)); diff != "" {
		t.Errorf("hashes (-want +got):\n%s", diff)
	}
	if f := files["home.html"]; f.Size != int64(len("<h1>hi</h1>")) || !strings.HasSuffix(f.AbsPath, "index.html") {
		t.Errorf("home.html: %+v", f)
	}
	var gotSkipped []string
	for _, s := range skipped {
		gotSkipped = append(gotSkipped, s.RelPath)
		if s.Reason == "" {
			t.Errorf("%s skipped without a reason", s.RelPath)
		}
	}
	wantSkipped := []string{"css-link", "css/abs-leak.txt", "css/up", "dangling", "leak.txt"}
	if diff := cmp.Diff(wantSkipped, gotSkipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	for _, s := range skipped {
		if s.RelPath == "leak.txt" && !strings.Contains(s.Reason, "outside") {
			t.Errorf("leak.txt reason %q", s.Reason)
		}
	}
}

func TestWalkStaticRefusesUndeployableNames(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "bad\nname"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := WalkStatic(root); err == nil || !strings.Contains(err.Error(), `"bad\nname"`) {
		t.Errorf("want a relative path error, got %v", err)
	}
	if _, _, err := WalkStatic(filepath.Join(root, "missing")); err == nil {
		t.Errorf("missing root accepted")
	}
}
