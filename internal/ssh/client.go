// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Client runs commands on one host over a (possibly shared) connection.
type Client struct {
	pool *Pool
	cfg  Config
	// owned is true for a client from Dial: it has a private pool that
	// Close closes.
	owned bool
}

var _ remote.Runner = (*Client)(nil)

// Dial connects to cfg's host (through its bastion, if any) on a connection
// of its own. Close closes it (and the bastion connection).
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	p := NewPool()
	c, err := p.Get(ctx, cfg)
	if err != nil {
		_ = p.Close()
		return nil, err
	}
	c.owned = true
	return c, nil
}

// Close closes the connection of a client from Dial. For a client from a
// Pool it does nothing: the connection is shared; close the pool.
func (c *Client) Close() error {
	if c.owned {
		return c.pool.Close()
	}
	return nil
}

// String names the host in messages (apply uses it when a change does not
// name its host): the configured host, with the port when it is not 22.
func (c *Client) String() string {
	if c.cfg.Port != DefaultPort && c.cfg.Port != 0 {
		return c.cfg.Addr()
	}
	return c.cfg.Host
}

// Host is the configured host name or address.
func (c *Client) Host() string { return c.cfg.Host }

// Addr is host:port.
func (c *Client) Addr() string { return c.cfg.Addr() }

// User is the login user.
func (c *Client) User() string { return c.cfg.User }

// HostKey is the verified key of the current connection, or nil when there is
// no live connection.
func (c *Client) HostKey() ssh.PublicKey {
	if cn := c.current(); cn != nil {
		return cn.hostKey
	}
	return nil
}

// current is the live connection, if any, without dialling.
func (c *Client) current() *conn {
	s, err := c.pool.slot(c.cfg.poolKey())
	if err != nil {
		return nil
	}
	return s.current()
}

// maxStderr bounds the stderr kept in memory; the rest is dropped with a note.
const maxStderr = 4 << 20

// Run runs cmd and waits for it. It returns a nil error only for exit status
// 0, a *remote.ExitError for another status, and other errors when the
// command could not be run or its outcome is unknown (connection lost,
// context done). The command line sent is remote.Join of the argv, prefixed
// with `env LC_ALL=C` and, for privileged commands on a sudo connection,
// with sudo.
func (c *Client) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	if len(cmd.Argv) == 0 {
		return remote.Result{}, errors.New("ssh: empty command")
	}
	for attempt := 0; ; attempt++ {
		cn, err := c.pool.connect(ctx, c.cfg)
		if err != nil {
			return remote.Result{}, err
		}
		res, err := c.runOn(ctx, cn, cmd)
		// A session that could not even be opened ran nothing: when the
		// connection turns out to be dead, redial once and try again.
		var nse *sessionOpenError
		if attempt == 0 && errors.As(err, &nse) && !cn.alive() {
			continue
		}
		return res, err
	}
}

func (c *Client) runOn(ctx context.Context, cn *conn, cmd remote.Cmd) (remote.Result, error) {
	argv := append([]string{"env", "LC_ALL=C"}, cmd.Argv...)
	stdin := cmd.Stdin
	var mode sudoMode
	var feed *passwordFeed
	if c.cfg.Sudo && !cmd.Unprivileged && c.cfg.User != "root" {
		var err error
		mode, err = c.sudoMode(ctx, cn)
		if err != nil {
			return remote.Result{}, err
		}
		prompt, marker := "", ""
		if mode == sudoWithPassword {
			prompt, marker = newPrompt(), newMarker()
			feed = newPasswordFeed(prompt, marker, c.cfg.SudoPassword, cmd.Stdin)
			defer feed.close()
			stdin = feed
		}
		argv = sudoArgv(mode, prompt, marker, cmd.Argv)
	}

	var watch io.Writer
	if feed != nil {
		watch = feed
	}
	c.pool.countCommand(c.cfg.Addr())
	er, err := cn.exec(ctx, remote.Join(argv), stdin, cmd.Stdout, watch)
	prompts := 0
	if feed != nil {
		prompts, _ = feed.state()
		er.stderr = bytes.ReplaceAll(er.stderr, []byte(feed.prompt), nil)
		er.stderr = bytes.Replace(er.stderr, []byte(feed.marker), nil, 1)
	}
	// Whatever the command printed, no secret of this connection leaves
	// the transport (a client echoes its input in errors).
	er.stderr = []byte(redact(string(er.stderr), c.cfg.Secrets()))
	res := remote.Result{Stdout: er.stdout, Stderr: er.stderr, ExitStatus: er.status}
	if err != nil {
		return res, c.transportErr(cmd.Argv, err)
	}
	if er.status != 0 {
		if serr := c.sudoRunFailure(mode, prompts, er.status, string(er.stderr)); serr != nil {
			return res, serr
		}
		return res, &remote.ExitError{Argv: cmd.Argv, ExitStatus: er.status, Stderr: string(er.stderr)}
	}
	return res, nil
}

// transportErr decorates an exec error with the host and command.
func (c *Client) transportErr(argv []string, err error) error {
	var lost *connLost
	if errors.As(err, &lost) {
		return &ConnLostError{Name: c.cfg.name(), Cmd: describe(argv), Reason: lost.reason}
	}
	return fmt.Errorf("ssh: running %s on %s: %w", describe(argv), c.cfg.name(), err)
}

// describe shortens a command for messages: one line, at most
// maxDescribe bytes. A multi-line script (remote.Script) is named, not
// shown: its text means nothing to an operator, and the caller's own error
// says which step it was.
func describe(argv []string) string {
	if len(argv) >= 3 && (argv[0] == "/bin/sh" || argv[0] == "sh") && argv[1] == "-c" && strings.Contains(argv[2], "\n") {
		return "a shell script"
	}
	s := strings.Join(strings.Fields(remote.Join(argv)), " ")
	if len(s) > maxDescribe {
		cut := maxDescribe
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return "`" + s + "`"
}

const maxDescribe = 160

// sessionOpenError means no session could be opened: nothing ran.
type sessionOpenError struct{ err error }

func (e *sessionOpenError) Error() string { return "opening a session: " + e.err.Error() }
func (e *sessionOpenError) Unwrap() error { return e.err }

// connLost means the connection died while the session was open.
type connLost struct{ reason error }

func (e *connLost) Error() string { return "connection lost: " + e.reason.Error() }
func (e *connLost) Unwrap() error { return e.reason }

type execResult struct {
	stdout []byte
	stderr []byte
	status int
}

// refusedWait bounds how long openSession keeps asking a server that
// refuses new sessions.
const refusedWait = 30 * time.Second

// openSession takes a session slot and opens a session in it; release gives
// the slot back once the session is closed.
//
// sshd refuses a session ("open failed") when MaxSessions are open on the
// connection. It frees a session only after it has processed the client's
// close, so a client that closes and opens within its own cap can still
// find sshd at its limit for a moment (seen on the lab's hosts with a burst
// of commands), and an sshd configured with a MaxSessions below the
// client's cap refuses outright. Nothing ran in a refused session: the
// slot is given back and the open retried, with a growing pause, until the
// server accepts, ctx ends, or refusedWait passes.
func (cn *conn) openSession(ctx context.Context) (*ssh.Session, func(), error) {
	pause := 10 * time.Millisecond
	deadline := time.Now().Add(refusedWait)
	for {
		sess, release, err := cn.tryOpenSession(ctx)
		if err == nil || !isRefused(err) {
			return sess, release, err
		}
		if time.Now().Add(pause).After(deadline) {
			return nil, nil, &sessionOpenError{fmt.Errorf("the server kept refusing new sessions for %s (is sshd's MaxSessions below this client's %d sessions per connection?): %w",
				refusedWait, cap(cn.sem), errors.Unwrap(err))}
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-cn.dead:
			t.Stop()
			return nil, nil, &sessionOpenError{cn.reason()}
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// isRefused reports whether the server turned a session down because of a
// limit (sshd answers "connect failed: open failed" at MaxSessions).
func isRefused(err error) bool {
	var oce *ssh.OpenChannelError
	return errors.As(err, &oce) && (oce.Reason == ssh.ConnectionFailed || oce.Reason == ssh.ResourceShortage)
}

// tryOpenSession is one attempt of openSession.
func (cn *conn) tryOpenSession(ctx context.Context) (*ssh.Session, func(), error) {
	select {
	case cn.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-cn.dead:
		return nil, nil, &sessionOpenError{cn.reason()}
	}
	release := sync.OnceFunc(func() { <-cn.sem })

	// NewSession waits for the server's answer; do not let a silent server
	// hold a cancelled caller.
	type opened struct {
		s   *ssh.Session
		err error
	}
	och := make(chan opened, 1)
	go func() {
		s, err := cn.client.NewSession()
		och <- opened{s, err}
	}()
	select {
	case o := <-och:
		if o.err != nil {
			release()
			if !cn.alive() || cn.diedWithin(200*time.Millisecond) {
				return nil, nil, &sessionOpenError{cn.reason()}
			}
			return nil, nil, &sessionOpenError{o.err}
		}
		return o.s, release, nil
	case <-ctx.Done():
		go func() {
			if o := <-och; o.s != nil {
				_ = o.s.Close()
			}
			release()
		}()
		return nil, nil, ctx.Err()
	}
}

// exec runs one command line in a new session, within the session cap. A
// nil error means the command ran to the end and status is its exit status.
// watch, when set, also gets every byte of stderr as it arrives (it must
// not block).
func (cn *conn) exec(ctx context.Context, line string, stdin io.Reader, stdout, watch io.Writer) (execResult, error) {
	var er execResult
	sess, release, err := cn.openSession(ctx)
	if err != nil {
		return er, err
	}

	outBuf := &cappedBuffer{}
	errBuf := &cappedBuffer{max: maxStderr, what: "stderr"}
	sess.Stderr = errBuf
	if watch != nil {
		sess.Stderr = io.MultiWriter(errBuf, watch)
	}
	var gate *gatedWriter
	if stdout != nil {
		// If the caller's writer fails, stop the command instead of letting
		// it block on a full channel window. The gate keeps the session from
		// writing to it after exec returns.
		gate = &gatedWriter{w: stdout, onErr: func() { go func() { _ = sess.Close() }() }}
		sess.Stdout = gate
	} else {
		sess.Stdout = outBuf
	}
	// finish detaches the caller's writer (waiting a little for a write in
	// progress) and copies what was produced.
	finish := func() execResult {
		if gate != nil {
			gate.close(time.Second)
		}
		return snapshot(outBuf, errBuf, stdout)
	}
	// Copy stdin ourselves, so that Wait never depends on the caller's
	// reader; the copy ends at EOF or when the channel is closed.
	var stdinPipe io.WriteCloser
	if stdin != nil {
		var err error
		if stdinPipe, err = sess.StdinPipe(); err != nil {
			_ = sess.Close()
			release()
			return er, err
		}
	}
	if err := sess.Start(line); err != nil {
		_ = sess.Close()
		release()
		if !cn.alive() || cn.diedWithin(200*time.Millisecond) {
			// The exec request may have reached the host: the command may
			// have started, so this is not retried.
			return er, &connLost{cn.reason()}
		}
		return er, fmt.Errorf("starting the command: %w", err)
	}
	if stdinPipe != nil {
		go func() {
			_, _ = io.Copy(stdinPipe, stdin)
			_ = stdinPipe.Close()
		}()
	}

	done := make(chan error, 1)
	go func() {
		err := sess.Wait()
		_ = sess.Close()
		release()
		done <- err
	}()

	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		// Ask the command to stop (OpenSSH 7.9+ delivers the signal), then
		// tear the session down, which closes the command's pipes.
		_ = sess.Signal(ssh.SIGTERM)
		_ = sess.Close()
		return finish(), ctx.Err()
	case <-cn.dead:
		// The exit status may have arrived just before the end.
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case waitErr = <-done:
		case <-t.C:
			_ = sess.Close()
			return finish(), &connLost{cn.reason()}
		}
	}

	er = finish()
	if werr := gate.err(); werr != nil {
		return er, fmt.Errorf("writing the command's stdout: %w", werr)
	}
	var exitErr *ssh.ExitError
	switch {
	case waitErr == nil:
		return er, nil
	case errors.As(waitErr, &exitErr):
		er.status = exitErr.ExitStatus()
		return er, nil
	case ctx.Err() != nil:
		return er, ctx.Err()
	case !cn.alive() || cn.diedWithin(200*time.Millisecond):
		return er, &connLost{cn.reason()}
	default:
		var missing *ssh.ExitMissingError
		if errors.As(waitErr, &missing) {
			return er, errors.New("the command ended without an exit status (killed, or the session was closed by the server)")
		}
		return er, waitErr
	}
}

// snapshot copies what the command produced so far.
func snapshot(out, errBuf *cappedBuffer, stdout io.Writer) execResult {
	var er execResult
	if stdout == nil {
		er.stdout = bytes.Clone(out.Bytes())
	}
	er.stderr = errBuf.Bytes()
	return er
}

// gatedWriter passes writes to w until closed, then discards them. It
// records w's first error and calls onErr then.
type gatedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
	werr   error
	onErr  func()
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	if g.werr != nil {
		return 0, g.werr
	}
	n, err := g.w.Write(p)
	if err != nil {
		g.werr = err
		g.onErr()
	}
	return n, err
}

// close stops further writes. It waits up to d for a write in progress; a
// caller's writer that blocks longer is abandoned rather than holding up
// the return.
func (g *gatedWriter) close(d time.Duration) {
	done := make(chan struct{})
	go func() {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func (g *gatedWriter) err() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.werr
}

// cappedBuffer keeps the first max bytes written (all when max is 0) and
// counts the rest. It is safe for concurrent use: a snapshot may be taken
// while the session still writes.
type cappedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	what    string
	dropped int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.max <= 0 {
		return b.buf.Write(p)
	}
	room := b.max - b.buf.Len()
	if room >= len(p) {
		return b.buf.Write(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := bytes.Clone(b.buf.Bytes())
	if b.dropped > 0 {
		out = append(out, fmt.Sprintf("\n[%d more bytes of %s dropped]\n", b.dropped, b.what)...)
	}
	return out
}
