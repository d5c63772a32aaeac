// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"

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

// startedScript runs as root between sudo and the command: it writes its
// first argument (a marker, see newMarker) to stderr and execs the command,
// so that the client knows when sudo is done and the command has begun.
const startedScript = `printf '%s' "$0" >&2; exec "$@"`

// sudoArgv wraps a command for the given mode. The password never appears in
// argv. With a password, the command is started through startedScript with
// marker, so that its stdin is sent only once it runs (see passwordFeed).
func sudoArgv(mode sudoMode, prompt, marker string, argv []string) []string {
	var pre []string
	switch mode {
	case sudoPasswordless:
		pre = []string{"sudo", "-n", "--", "env", "LC_ALL=C"}
	case sudoWithPassword:
		pre = []string{"sudo", "-k", "-S", "-p", prompt, "--", "env", "LC_ALL=C", "/bin/sh", "-c", startedScript, marker}
	}
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

// newMarker returns the unguessable text startedScript writes to stderr
// when the command starts.
func newMarker() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "[sudo-done:" + hex.EncodeToString(b) + "]"
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
	res, err := cn.exec(ctx, remote.Join(probeArgv), nil, nil, nil)
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
	res, err := cn.exec(ctx, remote.Join(argv), strings.NewReader(pw+"\n"), nil, nil)
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
	return &SudoError{Host: c.cfg.Host, User: c.cfg.User, Kind: kind, Detail: redact(detail, c.cfg.Secrets())}
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

// passwordFeed is the stdin of a command run with `sudo -S`. sudo reads the
// password from stdin only when its policy asks for one: a rule can ask for
// the detection commands and not for the command (NOPASSWD for some
// commands), or change after detection. A password line written ahead of
// the command's input would then become the first line of the command's
// input (for the database client: a statement, echoed with the password in
// its error). So the feed writes nothing until stderr shows either sudo's
// prompt (then the password line, which sudo reads to its end, byte by
// byte) or startedScript's marker (then the command's own stdin, exactly).
// A second prompt means the password was rejected: the feed ends (EOF), so
// sudo gives up instead of reading the command's input as passwords.
//
// Write is the stderr side (it sees every byte of stderr, in order); Read
// is the stdin side. close unblocks a Read that waits for either.
type passwordFeed struct {
	prompt, marker string
	password       string
	stdin          io.Reader // the command's own; nil for none

	wake chan struct{} // a token whenever stderr brought news
	done chan struct{} // closed by close

	mu      sync.Mutex
	seen    []byte // stderr before the marker (its tail, once long)
	base    int    // prompts in what was cut from seen
	prompts int
	started bool

	// Read's own state (one reader: exec's copy goroutine).
	fed     bool   // the password line was handed out
	pending []byte // the rest of it
	eof     bool
}

func newPasswordFeed(prompt, marker, password string, stdin io.Reader) *passwordFeed {
	return &passwordFeed{prompt: prompt, marker: marker, password: password, stdin: stdin,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// maxSeen bounds what the feed keeps of stderr before the command starts
// (sudo's own messages: a few lines).
const maxSeen = 64 << 10

// Write watches stderr for the prompt and the marker. It never fails.
func (f *passwordFeed) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return len(p), nil
	}
	f.seen = append(f.seen, p...)
	if i := bytes.Index(f.seen, []byte(f.marker)); i >= 0 {
		f.prompts = f.base + bytes.Count(f.seen[:i], []byte(f.prompt))
		f.started = true
		f.seen = nil
	} else {
		f.prompts = f.base + bytes.Count(f.seen, []byte(f.prompt))
		if len(f.seen) > maxSeen {
			// Keep only what can still hold the start of a prompt or the
			// marker (too short to hold a whole prompt: none is counted
			// twice).
			f.base = f.prompts
			f.seen = bytes.Clone(f.seen[len(f.seen)-max(len(f.prompt), len(f.marker))+1:])
		}
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (f *passwordFeed) state() (prompts int, started bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.prompts, f.started
}

// Read hands out the password line after the first prompt, then the
// command's stdin once it started; EOF after a second prompt, or once
// closed.
func (f *passwordFeed) Read(p []byte) (int, error) {
	for {
		if len(f.pending) > 0 {
			n := copy(p, f.pending)
			f.pending = f.pending[n:]
			return n, nil
		}
		if f.eof {
			return 0, io.EOF
		}
		prompts, started := f.state()
		switch {
		case started:
			// sudo has read the whole password line (if it asked): the
			// rest is the command's.
			if f.stdin == nil {
				f.eof = true
				continue
			}
			return f.stdin.Read(p)
		case prompts == 1 && !f.fed:
			f.fed = true
			f.pending = []byte(f.password + "\n")
			continue
		case prompts > 1:
			f.eof = true
			continue
		}
		select {
		case <-f.wake:
		case <-f.done:
			f.eof = true
		}
	}
}

// close ends a Read that is still waiting (the session is over).
func (f *passwordFeed) close() {
	select {
	case <-f.done:
	default:
		close(f.done)
	}
}
