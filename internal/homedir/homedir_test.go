// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package homedir

import "testing"

func TestExpand(t *testing.T) {
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
