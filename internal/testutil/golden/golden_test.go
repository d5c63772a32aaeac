// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder keeps what Assert reports instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, format)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, format)
}

func TestAssert(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "out.golden")
	saved := *update
	t.Cleanup(func() { *update = saved })

	*update = true
	Assert(t, path, []byte("one\n"))
	if b, err := os.ReadFile(path); err != nil || string(b) != "one\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}

	*update = false
	Assert(t, path, []byte("one\n"))
	r := &recorder{TB: t}
	Assert(r, path, []byte("two\n"))
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "differs") {
		t.Errorf("a difference reported %q", r.errors)
	}
	r = &recorder{TB: t}
	Assert(r, filepath.Join(dir, "missing.golden"), nil)
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "-update") {
		t.Errorf("a missing file reported %q", r.errors)
	}
}
