// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package golden compares test output with golden files. It registers the
// -update flag: `go test ./internal/nginx -run X -update` rewrites the
// golden files of the tests it runs instead of comparing them.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// Update reports whether the test run rewrites golden files (-update).
func Update() bool { return *update }

// Assert compares got with the file at path (relative to the package
// directory, as tests run there). With -update it writes got to path,
// creating its directory, and compares nothing.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
