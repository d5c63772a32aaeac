// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package remote

// ShRunFirst is a snippet of POSIX sh that defines one function, for
// constant scripts that receive several commands as positional parameters
// (each as its word count followed by its words: see Script):
//
//	run_first K WORDS...
//
// runs the first K of WORDS as one command, each word as exactly one
// argument, and returns its exit status; the other words are ignored (the
// caller then drops them with `shift K`). There is no eval: the function
// rotates its own positional parameters until only those K remain. K = 0
// runs nothing and returns 0. Redirections and a timeout(1) prefix are the
// caller's: `run_first K "$@" > out`, or prepend words and add their count.
//
// sh has no local variables: the function uses only names that start with
// _rf_, so it never changes a variable of the script that includes it.
// Compose it by concatenation: remote.Script(remote.ShRunFirst+script, ...).
const ShRunFirst = `
run_first() {
  _rf_k=$1
  shift
  _rf_i=0
  _rf_n=$#
  while [ "$_rf_i" -lt "$_rf_n" ]; do
    _rf_w=$1
    shift
    if [ "$_rf_i" -lt "$_rf_k" ]; then set -- "$@" "$_rf_w"; fi
    _rf_i=$((_rf_i+1))
  done
  "$@"
}
`
