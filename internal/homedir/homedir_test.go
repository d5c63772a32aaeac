// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package homedir

import (
	"runtime"
	"testing"
)

func TestExpand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("HOME is not the home directory on Windows; TestExpandWith covers the Windows rules and TestExpandWindowsProfile the real lookup")
	}
	tests := []struct {
		home, path, want string
	}{
		{"/home/op", "~", "/home/op"},
		{"/home/op", "~/", "/home/op/"},
		{"/home/op", "~/x", "/home/op/x"},
		{"/home/op", "~/.ssh/id_ed25519", "/home/op/.ssh/id_ed25519"},
		{"/home/op", "~/a/../b", "/home/op/a/../b"}, // not cleaned, like the shell
		{"/home/op/", "~/x", "/home/op/x"},
		{"/", "~/x", "/x"},
		{"/", "~", "/"},
		{"/home/op", "~user/x", "~user/x"}, // other users' homes are not looked up
		{"/home/op", "~user", "~user"},
		{"/home/op", "/abs", "/abs"},
		{"/home/op", "/abs/~/x", "/abs/~/x"},
		{"/home/op", "rel/x", "rel/x"},
		{"/home/op", "./~", "./~"},
		{"/home/op", "x~/y", "x~/y"},
		{"/home/op", `~\x`, `~\x`}, // a file name outside Windows
		{"/home/op", "", ""},
		{"", "~/x", "~/x"}, // no home directory: unchanged
		{"", "~", "~"},
	}
	for _, tt := range tests {
		t.Setenv("HOME", tt.home)
		if got := Expand(tt.path); got != tt.want {
			t.Errorf("HOME=%q: Expand(%q) = %q, want %q", tt.home, tt.path, got, tt.want)
		}
	}
}

// TestExpandWith checks the rules of every system on any machine: Windows
// takes "~\" as well as "~/", and its home directory (%USERPROFILE%) may end
// in either separator.
func TestExpandWith(t *testing.T) {
	t.Parallel()
	tests := []struct {
		goos, home, path, want string
	}{
		{"windows", `C:\Users\op`, "~", `C:\Users\op`},
		{"windows", `C:\Users\op`, `~\.ssh\known_hosts`, `C:\Users\op\.ssh\known_hosts`},
		{"windows", `C:\Users\op`, "~/.ssh/known_hosts", `C:\Users\op/.ssh/known_hosts`}, // Windows opens either
		{"windows", `C:\Users\op`, `~\.ssh/id_ed25519`, `C:\Users\op\.ssh/id_ed25519`},
		{"windows", `C:\Users\op\`, `~\x`, `C:\Users\op\x`},
		{"windows", `C:\`, `~\x`, `C:\x`},
		{"windows", `\\server\home\op`, `~\x`, `\\server\home\op\x`},
		{"windows", `C:\Users\op`, `~op\x`, `~op\x`},
		{"windows", `C:\Users\op`, `C:\keys\id`, `C:\keys\id`},
		{"windows", `C:\Users\op`, `\\.\pipe\openssh-ssh-agent`, `\\.\pipe\openssh-ssh-agent`},
		{"windows", `C:\Users\op`, `x\~\y`, `x\~\y`},
		{"windows", "", `~\x`, `~\x`},
		{"darwin", "/Users/op", "~/.ssh/known_hosts", "/Users/op/.ssh/known_hosts"},
		{"darwin", "/Users/op", `~\x`, `~\x`},
		{"linux", "/home/op", "~/x", "/home/op/x"},
		{"linux", "/home/op", `~\x`, `~\x`},
		{"freebsd", "/home/op", "~", "/home/op"},
	}
	for _, tt := range tests {
		if got := ExpandWith(tt.path, tt.home, tt.goos); got != tt.want {
			t.Errorf("%s, home %q: ExpandWith(%q) = %q, want %q", tt.goos, tt.home, tt.path, got, tt.want)
		}
	}
}
