// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package remote holds the small contract between the code that decides what
// to run on a host (internal/apply and the service packages) and the code that
// carries it there (internal/ssh): a command as an argv, its result, and the
// one quoting helper that turns an argv into the string a POSIX shell parses.
//
// Nothing in this package dials, and nothing in it knows about Terraform.
package remote

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Cmd is one command to run on a host.
//
// Argv is never parsed by a shell as given: transports join it with Join, so
// every element reaches the remote program as exactly one argument. Code that
// needs shell features (pipes, redirections) runs a constant script through
// Script, with user values passed as positional parameters.
type Cmd struct {
	Argv []string
	// Stdin, when set, is copied to the command's standard input and then
	// closed. Secrets go here, never into Argv.
	Stdin io.Reader
	// Stdout, when set, receives the command's standard output as it is
	// produced (for large streams such as a database dump); Result.Stdout is
	// then empty.
	Stdout io.Writer
	// Unprivileged runs the command as the login user even when the
	// connection is configured to escalate with sudo. Most commands that
	// change a host need root, so the default is to escalate.
	Unprivileged bool
}

// Result is what a finished command left behind.
type Result struct {
	Stdout     []byte
	Stderr     []byte
	ExitStatus int
}

// Runner runs commands on one host. *ssh.Client satisfies it; so does
// LocalRunner, which runs them on this machine (for unit tests of code that
// composes commands, never as a stand-in for a real host in acceptance tests).
//
// Run returns a nil error only when the command ran and exited with status 0.
// A command that ran and failed returns its Result and an *ExitError; a
// transport failure (connection lost, context cancelled) returns another error.
type Runner interface {
	Run(ctx context.Context, cmd Cmd) (Result, error)
}

// ExitError is returned by Runner.Run when the command ran and exited non-zero.
type ExitError struct {
	Argv       []string
	ExitStatus int
	Stderr     string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		return fmt.Sprintf("%s: exit status %d", Join(e.Argv), e.ExitStatus)
	}
	return fmt.Sprintf("%s: exit status %d: %s", Join(e.Argv), e.ExitStatus, msg)
}

// Script returns an argv that runs a constant POSIX sh script with args as its
// positional parameters ($1, $2, ...). The script must be a constant in the
// calling code; user input goes only into args.
func Script(script string, args ...string) []string {
	argv := make([]string, 0, len(args)+4)
	argv = append(argv, "/bin/sh", "-c", script, "sh")
	return append(argv, args...)
}

// Quote returns s quoted for a POSIX shell so that the shell reads it back as
// exactly one word with the same bytes. It is the only quoting function in the
// project.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !isSafe(r) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each element of argv and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

func isSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_./:@%+,", r)
}
