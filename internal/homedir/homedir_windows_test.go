// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package homedir

import "testing"

// TestExpandWindowsProfile: on Windows the home directory is %USERPROFILE%,
// and "~\" and "~/" both expand into it.
func TestExpandWindowsProfile(t *testing.T) {
	t.Setenv("USERPROFILE", `C:\Users\op`)
	for path, want := range map[string]string{
		"~":                  `C:\Users\op`,
		`~\.ssh\known_hosts`: `C:\Users\op\.ssh\known_hosts`,
		"~/.ssh/known_hosts": `C:\Users\op/.ssh/known_hosts`,
		`C:\k`:               `C:\k`,
	} {
		if got := Expand(path); got != want {
			t.Errorf("USERPROFILE=C:\\Users\\op: Expand(%q) = %q, want %q", path, got, want)
		}
	}
}
