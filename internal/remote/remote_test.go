// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package remote

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":            "''",
		"abc":         "abc",
		"/etc/a.cfg":  "/etc/a.cfg",
		"a b":         "'a b'",
		"it's":        `'it'\''s'`,
		"$(reboot)":   "'$(reboot)'",
		"a=b":         "'a=b'",
		"~root":       "'~root'",
		"line\nbreak": "'line\nbreak'",
	}
	for in, want := range cases {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJoinRoundTrip runs quoted words through a real /bin/sh and checks that
// each arrives as exactly one argument with the same bytes.
func TestJoinRoundTrip(t *testing.T) {
	t.Parallel()
	words := []string{"plain", "", "two words", "it's", `"dq"`, "$HOME", "`id`", "a;b", "x\ny", "*", "-n", "\\", "a=b", "ünï"}
	argv := append([]string{"printf", `%s\0`}, words...)
	res, err := LocalRunner{}.Run(context.Background(), Cmd{Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(res.Stdout), "\x00"), "\x00")
	if len(got) != len(words) {
		t.Fatalf("got %d words %q, want %d", len(got), got, len(words))
	}
	for i := range words {
		if got[i] != words[i] {
			t.Errorf("word %d: got %q, want %q", i, got[i], words[i])
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a b", "it's", "$(x)", "\n", "'\"'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			t.Skip("argv elements cannot contain NUL")
		}
		res, err := LocalRunner{}.Run(context.Background(), Cmd{Argv: []string{"printf", "%s", s}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.Stdout, []byte(s)) {
			t.Fatalf("round trip of %q gave %q", s, res.Stdout)
		}
	})
}

func TestScriptPassesArgsPositionally(t *testing.T) {
	t.Parallel()
	res, err := LocalRunner{}.Run(context.Background(), Cmd{Argv: Script(`printf '%s|%s' "$1" "$2"`, "a b", "$(id)")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Stdout), "a b|$(id)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestExitError(t *testing.T) {
	t.Parallel()
	res, err := LocalRunner{}.Run(context.Background(), Cmd{Argv: Script("echo oops >&2; exit 3")})
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("want *ExitError, got %v", err)
	}
	if ee.ExitStatus != 3 || res.ExitStatus != 3 || !strings.Contains(ee.Error(), "oops") {
		t.Fatalf("unexpected error %v / result %+v", ee, res)
	}
}

func TestStdinAndStreamingStdout(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := LocalRunner{}.Run(context.Background(), Cmd{Argv: []string{"cat"}, Stdin: strings.NewReader("secret\n"), Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "secret\n" || len(res.Stdout) != 0 {
		t.Fatalf("stream %q, buffered %q", out.String(), res.Stdout)
	}
}
