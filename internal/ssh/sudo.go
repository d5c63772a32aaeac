// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// sudoMode is how privileged commands are run on one connection.
type sudoMode int

const (
	sudoPasswordless sudoMode = iota + 1 // sudo -n
	sudoWithPassword                     // sudo -k -S with the password on stdin
)

// sudoResult is a cached detection outcome: a mode, or the error to repeat.
type sudoResult struct {
	mode sudoMode
	err  error
}

// probeArgv asks sudo, without any password, whether it would run a command.
// LC_ALL=C makes sudo's messages parseable.
var probeArgv = []string{"env", "LC_ALL=C", "sudo", "-n", "true"}

// validateArgv checks a password once, reading nothing but the password line:
// after a wrong password sudo prompts again and reads EOF, so its retries can
// never consume a command's stdin.
func validateArgv(prompt string) []string {
	return []string{"env", "LC_ALL=C", "sudo", "-k", "-S", "-v", "-p", prompt}
}

// sudoArgv wraps a command for the given mode. The password never appears in
// argv.
func sudoArgv(mode sudoMode, prompt string, argv []string) []string {
	var pre []string
	switch mode {
	case sudoPasswordless:
		pre = []string{"sudo", "-n", "--"}
	case sudoWithPassword:
		pre = []string{"sudo", "-k", "-S", "-p", prompt, "--"}
	}
	pre = append(pre, "env", "LC_ALL=C")
	return append(pre, argv...)
}

// newPrompt returns a prompt no command output can guess, so that it can be
// recognised and removed from stderr. It contains no '%' (sudo expands
// %-escapes in prompts).
func newPrompt() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "[sudo:" + hex.EncodeToString(b) + "] password: "
}

// sudoMode detects, once per connection (and per password), how to escalate.
func (c *Client) sudoMode(ctx context.Context, cn *conn) (sudoMode, error) {
	select {
	case cn.sudoLock <- struct{}{}:
	case <-ctx.Done():
		return 0, fmt.Errorf("ssh: waiting for sudo detection on %s: %w", c.cfg.name(), ctx.Err())
	}
	defer func() { <-cn.sudoLock }()

	if cn.sudoProbe == nil {
		r, err := c.probeSudo(ctx, cn)
		if err != nil {
			return 0, err // transport failure: not cached
		}
		cn.sudoProbe = r
	}
	if cn.sudoProbe.mode == sudoPasswordless || cn.sudoProbe.err != nil {
		return cn.sudoProbe.mode, cn.sudoProbe.err
	}

	// A password is required.
	pw := c.cfg.SudoPassword
	if pw == "" {
		return 0, c.sudoErr(SudoPasswordRequired, "")
	}
	if strings.ContainsAny(pw, "\r\n") {
		return 0, fmt.Errorf("ssh: sudo_password for %s contains a line break; sudo reads only one line", c.cfg.name())
	}
	sum := sha256.Sum256([]byte(pw))
	key := string(sum[:])
	if r := cn.sudoPass[key]; r != nil {
		return r.mode, r.err
	}
	r, err := c.validateSudo(ctx, cn, pw)
	if err != nil {
		return 0, err
	}
	// Failures are cached too: retrying a wrong password on every command
	// could lock the account (pam_faillock).
	cn.sudoPass[key] = r
	return r.mode, r.err
}

func (c *Client) probeSudo(ctx context.Context, cn *conn) (*sudoResult, error) {
	res, err := cn.exec(ctx, remote.Join(probeArgv), nil, nil)
	if err != nil {
		return nil, c.transportErr(probeArgv, err)
	}
	stderr := string(res.stderr)
	switch {
	case res.status == 0:
		return &sudoResult{mode: sudoPasswordless}, nil
	case strings.Contains(stderr, "a password is required"):
		return &sudoResult{mode: sudoWithPassword}, nil
	}
	return &sudoResult{err: c.classifySudoFailure(res.status, stderr)}, nil
}

func (c *Client) validateSudo(ctx context.Context, cn *conn, pw string) (*sudoResult, error) {
	prompt := newPrompt()
	argv := validateArgv(prompt)
	res, err := cn.exec(ctx, remote.Join(argv), strings.NewReader(pw+"\n"), nil)
	if err != nil {
		return nil, c.transportErr(argv, err)
	}
	prompts := strings.Count(string(res.stderr), prompt)
	stderr := strings.ReplaceAll(string(res.stderr), prompt, "")
	switch {
	case res.status == 0:
		return &sudoResult{mode: sudoWithPassword}, nil
	case prompts > 1 || isWrongPassword(stderr):
		return &sudoResult{err: c.sudoErr(SudoPasswordRejected, "")}, nil
	}
	return &sudoResult{err: c.classifySudoFailure(res.status, stderr)}, nil
}

func isWrongPassword(stderr string) bool {
	return strings.Contains(stderr, "incorrect password attempt") || strings.Contains(stderr, "Sorry, try again.")
}

func isNotAllowed(stderr string) bool {
	return strings.Contains(stderr, "is not in the sudoers file") ||
		strings.Contains(stderr, "may not run sudo on") ||
		(strings.Contains(stderr, "Sorry, user ") && strings.Contains(stderr, "is not allowed to execute"))
}

func (c *Client) classifySudoFailure(status int, stderr string) error {
	switch {
	case isNotAllowed(stderr):
		return c.sudoErr(SudoNotAllowed, stderr)
	case status == 127 || strings.Contains(stderr, "sudo: not found") || strings.Contains(stderr, "sudo: command not found"):
		return c.sudoErr(SudoNotInstalled, "")
	default:
		return c.sudoErr(SudoFailed, fmt.Sprintf("exit status %d: %s", status, stderr))
	}
}

func (c *Client) sudoErr(kind SudoErrorKind, detail string) *SudoError {
	return &SudoError{Host: c.cfg.Host, User: c.cfg.User, Kind: kind, Detail: detail}
}

// sudoRunFailure recognises, after a wrapped command failed, that sudo
// itself refused to run it (the sudoers policy or the password changed since
// detection, or the rule does not cover env). It returns nil when the
// failure is the command's own.
func (c *Client) sudoRunFailure(mode sudoMode, prompts int, status int, stderr string) error {
	if status != 1 {
		return nil
	}
	switch {
	case mode == sudoWithPassword && prompts > 1:
		return c.sudoErr(SudoPasswordRejected, "")
	case mode == sudoPasswordless && strings.HasPrefix(stderr, "sudo: a password is required"):
		return c.sudoErr(SudoPasswordRequired, "")
	case strings.HasPrefix(stderr, "Sorry, user ") && strings.Contains(stderr, "is not allowed to execute"):
		return c.sudoErr(SudoNotAllowed, stderr)
	}
	return nil
}

// passwordStdin prepends the password line to the command's stdin.
func passwordStdin(pw string, stdin io.Reader) io.Reader {
	if stdin == nil {
		return strings.NewReader(pw + "\n")
	}
	return io.MultiReader(strings.NewReader(pw+"\n"), stdin)
}
