// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// CopyDir copies the contents of the local directory src into dir on the
// host (created if missing), as root, keeping the local files' modes:
// `docker cp src/. container:dir`. Files already there with the same names
// are replaced; others are left alone.
func (h Host) CopyDir(t testing.TB, src, dir string) {
	t.Helper()
	if !strings.HasPrefix(dir, "/") {
		t.Fatalf("%s: CopyDir: %q is not an absolute path", h.Name, dir)
	}
	if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
		t.Fatalf("%s: CopyDir: %s is not a local directory (%v)", h.Name, src, err)
	}
	h.Exec(t, "mkdir", "-p", dir)
	if _, err := docker("cp", strings.TrimRight(src, "/")+"/.", h.Container+":"+dir); err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
}

// WriteFile writes data to path on the host as root with the given mode,
// creating the parent directory (mode 0755) when missing. The file is
// written through a temporary name and renamed, so a service reading it
// never sees half of it.
func (h Host) WriteFile(t testing.TB, path string, mode os.FileMode, data []byte) {
	t.Helper()
	if !strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		t.Fatalf("%s: WriteFile: %q is not an absolute file path", h.Name, path)
	}
	// A constant script: the path and mode arrive as positional arguments
	// through docker exec's argv, never through a shell's parsing.
	const script = `set -e
umask 077
mkdir -p -m 0755 "$(dirname "$1")"
tmp="$1.tmp-acctest"
cat > "$tmp"
chmod "$2" "$tmp"
mv -f "$tmp" "$1"`
	h.ExecInput(t, string(data), "sh", "-c", script, "sh", path, fmt.Sprintf("%04o", mode.Perm()))
}
