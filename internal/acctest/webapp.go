// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BuildTestApp compiles internal/acctest/testapp for linux/amd64 (static,
// CGO_ENABLED=0) into dir and returns the binary's path. version is
// reported by the app; healthy=false builds a binary whose /healthz
// always answers 503. Builds of the same inputs are byte-identical
// (-trimpath, no build id), so a test can rebuild and expect no change.
func BuildTestApp(t testing.TB, dir, name, version string, healthy bool) string {
	t.Helper()
	out := filepath.Join(dir, name)
	ldflags := fmt.Sprintf("-s -w -buildid= -X main.version=%s -X main.healthy=%t", version, healthy)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, "./internal/acctest/testapp")
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("building the test application: %v\n%s", err, stderr.String())
	}
	return out
}

// WriteTree writes files (relative path -> content) under dir, creating
// directories, and removes the files mapped to "\x00" (a marker for
// deletion).
func WriteTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if content == "\x00" {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// HostHasNoSecret fails the test when secret appears on the host in the
// process list or in a regular file readable by other users under dirs.
func (h Host) HostHasNoSecret(t testing.TB, secret string, dirs ...string) {
	t.Helper()
	if ps := h.Exec(t, "ps", "-eo", "args"); strings.Contains(ps, secret) {
		t.Errorf("%s: a secret is visible in the process list:\n%s", h.Name, ps)
	}
	// The secret reaches grep through a root-only temporary file, never an
	// argv (which would put it in the process list this test inspects).
	const script = `umask 077
f=$(mktemp) || exit 1
cat > "$f"
find "$@" -xdev -type f -perm -o+r -size -4M -exec grep -lF -f "$f" -- {} + 2>/dev/null
rm -f -- "$f"
exit 0`
	out := h.ExecInput(t, secret+"\n", append([]string{"sh", "-c", script, "sh"}, dirs...)...)
	if strings.TrimSpace(out) != "" {
		t.Errorf("%s: a secret is in files readable by other users:\n%s", h.Name, out)
	}
}
