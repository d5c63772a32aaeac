// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"strings"
	"testing"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// The acceptance tests showed operators the first 200 bytes of the apply
// engine's scripts in "connection lost while running ..." errors. describe
// names scripts instead, and keeps other commands on one short line.
func TestDescribe(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200)
	for _, tc := range []struct {
		name string
		argv []string
		want string
	}{
		{"plain", []string{"sleep", "30"}, "`sleep 30`"},
		{"quoted", []string{"echo", "a b"}, "`echo 'a b'`"},
		{"script", remote.Script("set -e\necho \"$1\"\n", "x"), "a shell script"},
		{"one-line script", remote.Script(`exec haproxy -c -f "$1"`, "/etc/haproxy/haproxy.cfg"), "`/bin/sh -c 'exec haproxy -c -f \"$1\"' sh /etc/haproxy/haproxy.cfg`"},
		{"newline in an argument", []string{"printf", "a\nb"}, "`printf 'a b'`"},
		{"long", []string{"echo", long}, "`echo '" + strings.Repeat("é", 77) + "...`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := describe(tc.argv); got != tc.want {
				t.Errorf("describe(%q) = %q, want %q", tc.argv, got, tc.want)
			}
		})
	}
}
