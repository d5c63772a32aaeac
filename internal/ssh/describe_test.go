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

// apply names the host in its errors with the Runner's String method when
// a change does not name it; without one its messages said "the host".
func TestClientString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Host: "lb1.example.com", Port: 22}, "lb1.example.com"},
		{Config{Host: "10.0.0.1", Port: 2222}, "10.0.0.1:2222"},
		{Config{Host: "fd00::1", Port: 2222}, "[fd00::1]:2222"},
	} {
		if got := (&Client{cfg: tc.cfg}).String(); got != tc.want {
			t.Errorf("String() of %+v = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}
