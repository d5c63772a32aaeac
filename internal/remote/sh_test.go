// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package remote

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestShRunFirst runs the snippet through /bin/sh with words a shell would
// mangle if they were ever parsed again: each must reach the command as
// one argument with the same bytes, and only the first K words may run.
func TestShRunFirst(t *testing.T) {
	t.Parallel()
	tricky := []string{"", "two words", "it's", `"dq"`, "$HOME", "$(echo pwned)", "`id`", "a;b", "x\ny", "*", "-n", "\\", "a=b", "ünï", "$1"}
	cases := []struct {
		name   string
		k      int
		words  []string
		script string // after the snippet; "$@" is K WORDS...
		want   string
	}{
		{
			name: "tricky words, the rest dropped", k: 2 + len(tricky),
			words:  append(append([]string{"printf", "[%s]"}, tricky...), "never", "$(echo never)"),
			script: `run_first "$@"`,
			want:   "[][two words][it's][\"dq\"][$HOME][$(echo pwned)][`id`][a;b][x\ny][*][-n][\\][a=b][ünï][$1]",
		},
		{
			name: "a prefix of one command", k: 2, words: []string{"echo", "first", "second", "third"},
			script: `run_first "$@"`, want: "first\n",
		},
		{
			name: "K beyond the words runs them all", k: 9, words: []string{"echo", "a", "b"},
			script: `run_first "$@"`, want: "a b\n",
		},
		{
			name: "K = 0 runs nothing", k: 0, words: []string{"echo", "no"},
			script: `run_first "$@" && echo ok`, want: "ok\n",
		},
		{
			name: "exit status is the command's", k: 3, words: []string{"sh", "-c", "exit 7", "ignored"},
			script: `run_first "$@"; echo "rc=$?"`, want: "rc=7\n",
		},
		{
			// The caller's variables survive (sh has no local variables).
			name: "caller variables untouched", k: 1, words: []string{"true", "x"},
			script: `k=K i=I n=N w=W total=T j=J; run_first "$@"; echo "$k $i $n $w $total $j"`, want: "K I N W T J\n",
		},
		{
			// Several counted commands in a row, as the scripts use it.
			name: "counted sequence", k: -1, words: []string{"2", "echo", "one", "3", "printf", "%s|", "tw o", "0"},
			script: `while [ "$#" -gt 0 ]; do n=$1; shift; run_first "$n" "$@" || exit; shift "$n"; done`,
			want:   "one\ntw o|",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := c.words
			if c.k >= 0 {
				args = append([]string{strconv.Itoa(c.k)}, c.words...)
			}
			res, err := LocalRunner{}.Run(context.Background(), Cmd{Argv: Script(ShRunFirst+c.script, args...)})
			if err != nil {
				t.Fatalf("%v (stderr %q)", err, res.Stderr)
			}
			if diff := cmp.Diff(c.want, string(res.Stdout)); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShRunFirstFailure(t *testing.T) {
	t.Parallel()
	_, err := LocalRunner{}.Run(context.Background(), Cmd{Argv: Script(ShRunFirst+`run_first "$@"`, "2", "ls", "/no/such/dir", "/")})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.ExitStatus == 0 || !strings.Contains(ee.Stderr, "/no/such/dir") {
		t.Fatalf("want ls's failure, got %v", err)
	}
}
