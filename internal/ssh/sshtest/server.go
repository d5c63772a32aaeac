// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package sshtest is an in-process SSH server for tests of the transport and
// of code that runs commands through it. It listens on 127.0.0.1:0, accepts
// public keys, runs exec requests with `/bin/sh -c <command>` on this machine
// (so quoting is exercised by a real shell), forwards direct-tcpip channels
// (to act as a bastion), and lets a test break things on purpose: drop every
// connection, go silent, stall forwards, or never finish the handshake.
//
// It is for tests only: it runs whatever it is asked to.
package sshtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configure a Server. Zero values are usable: one Ed25519 host key,
// no authorized keys (every login fails).
type Options struct {
	// HostKeys are the server's host keys (plain or certificate signers).
	HostKeys []ssh.Signer
	// AuthorizedKeys may log in, as any user.
	AuthorizedKeys []ssh.PublicKey
	// Env is added to the environment of commands (KEY=value). PATH
	// defaults to /usr/bin:/bin.
	Env []string
	// StallForwards leaves direct-tcpip requests unanswered.
	StallForwards bool
	// OnExec, when set, runs before a command starts.
	OnExec func(command string)
	// MaxSessions, when positive, refuses a session while that many are
	// open on the connection, the way sshd does ("open failed"). A session
	// counts until its handler has closed it, so, as with sshd, the count
	// lags behind what the client sees.
	MaxSessions int
}

// Server is a running in-process SSH server. Close it with Close (Start
// registers it with t.Cleanup).
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// Host and Port split Addr.
	Host string
	Port int

	opts Options
	ln   net.Listener
	cfg  *ssh.ServerConfig

	mu           sync.Mutex
	conns        map[*frozenConn]bool
	closed       bool
	handshakes   int
	running      int
	maxRunning   int
	execs        []string
	forwards     []string
	authAttempts []string
	frozen       bool
	refused      int
	end          chan struct{} // closed by Close
	wg           sync.WaitGroup
}

// Start starts a server and registers Close with t.Cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if len(opts.HostKeys) == 0 {
		opts.HostKeys = []ssh.Signer{NewSigner(t, "ed25519")}
	}
	s := &Server{opts: opts, conns: map[*frozenConn]bool{}, end: make(chan struct{})}
	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			s.authAttempts = append(s.authAttempts, ssh.FingerprintSHA256(key))
			s.mu.Unlock()
			for _, k := range opts.AuthorizedKeys {
				if string(k.Marshal()) == string(key.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, fmt.Errorf("key %s not authorized", ssh.FingerprintSHA256(key))
		},
	}
	for _, k := range opts.HostKeys {
		s.cfg.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, closes every connection and kills running
// commands.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.end)
	conns := make([]*frozenConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	s.wg.Wait()
}

// Handshakes is the number of completed SSH handshakes (authenticated
// connections). A connection is counted just after its handshake, so a
// client can hold it a moment before it is counted: check after a command.
func (s *Server) Handshakes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handshakes
}

// MaxConcurrentSessions is the largest number of commands that were running
// at the same time. (Commands, not open channels: a command's end is reported
// to the client only after it is counted out, so a client that caps its
// sessions never shows up above its cap, whereas channel bookkeeping lags.)
func (s *Server) MaxConcurrentSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxRunning
}

// Running is the number of commands currently running.
func (s *Server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Refused is the number of sessions refused because of MaxSessions.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Execs returns the command lines received, in order.
func (s *Server) Execs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.execs...)
}

// Forwards returns the host:port destinations of direct-tcpip requests.
func (s *Server) Forwards() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.forwards...)
}

// AuthAttempts returns the SHA256 fingerprints of the public keys offered,
// in order.
func (s *Server) AuthAttempts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authAttempts...)
}

// DropConnections closes every TCP connection abruptly, as a crashed host
// or a cut cable with a reset would.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*frozenConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Freeze makes every current and future connection silent: nothing more is
// read or written, as with a host that hangs or a network that drops
// packets without a reset. Close ends it.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = true
	for c := range s.conns {
		c.freeze()
	}
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		fc := newFrozenConn(nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[fc] = true
		if s.frozen {
			fc.freeze()
		}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleConn(fc)
			s.mu.Lock()
			delete(s.conns, fc)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) handleConn(nc *frozenConn) {
	defer nc.Close()
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	s.mu.Lock()
	s.handshakes++
	s.mu.Unlock()
	go ssh.DiscardRequests(reqs) // answers keepalives with a failure, like sshd
	var wg sync.WaitGroup
	var sessions atomic.Int32
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			if m := s.opts.MaxSessions; m > 0 && int(sessions.Load()) >= m {
				s.mu.Lock()
				s.refused++
				s.mu.Unlock()
				_ = nch.Reject(ssh.ConnectionFailed, "open failed")
				continue
			}
			sessions.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer sessions.Add(-1)
				s.handleSession(nch, sc.User())
			}()
		case "direct-tcpip":
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.handleForward(nch)
			}()
		default:
			_ = nch.Reject(ssh.UnknownChannelType, "unsupported")
		}
	}
	wg.Wait()
}

func (s *Server) handleSession(nch ssh.NewChannel, user string) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	defer ch.Close()

	var cmd *exec.Cmd
	exited := make(chan struct{})
	for req := range reqs {
		switch req.Type {
		case "exec":
			if cmd != nil {
				_ = req.Reply(false, nil)
				continue
			}
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			cmd = s.command(p.Command, user, ch)
			// Copy stdin ourselves: exec.Cmd.Wait would wait for a client
			// that never closes its stdin, even after the command exited.
			stdin, err := cmd.StdinPipe()
			if err != nil {
				_ = req.Reply(false, nil)
				return
			}
			go func() {
				_, _ = io.Copy(stdin, ch)
				_ = stdin.Close()
			}()
			s.mu.Lock()
			s.running++
			s.maxRunning = max(s.maxRunning, s.running)
			s.mu.Unlock()
			if err := cmd.Start(); err != nil {
				s.mu.Lock()
				s.running--
				s.mu.Unlock()
				_ = req.Reply(false, nil)
				return
			}
			_ = req.Reply(true, nil)
			go s.wait(cmd, ch, exited)
		case "signal":
			var p struct{ Signal string }
			if cmd != nil && ssh.Unmarshal(req.Payload, &p) == nil {
				signalGroup(cmd, p.Signal)
			}
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
	// The channel is closed: by us after the command exited, or by the
	// client (cancellation, connection lost). Do not leave a command behind.
	if cmd != nil {
		select {
		case <-exited:
		default:
			signalGroup(cmd, "KILL")
			<-exited
		}
	}
}

func (s *Server) command(line, user string, ch ssh.Channel) *exec.Cmd {
	s.mu.Lock()
	s.execs = append(s.execs, line)
	s.mu.Unlock()
	if s.opts.OnExec != nil {
		s.opts.OnExec(line)
	}
	cmd := shellCommand(line)
	env := []string{"PATH=/usr/bin:/bin", "USER=" + user, "LOGNAME=" + user, "HOME=" + os.TempDir()}
	cmd.Env = append(env, s.opts.Env...)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	// Stop copying output when the process is gone even if a grandchild
	// still holds the pipes.
	cmd.WaitDelay = time.Second
	return cmd
}

func (s *Server) wait(cmd *exec.Cmd, ch ssh.Channel, exited chan struct{}) {
	err := cmd.Wait()
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	close(exited)

	var ee *exec.ExitError
	switch {
	case err == nil:
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
	case errors.As(err, &ee):
		if name, ok := signalName(ee); ok {
			_, _ = ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
				Signal     string
				CoreDumped bool
				Error      string
				Lang       string
			}{Signal: name}))
		} else {
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(ee.ExitCode())}))
		}
	default:
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{255}))
	}
	_ = ch.Close()
}

func (s *Server) handleForward(nch ssh.NewChannel) {
	var p struct {
		DestAddr string
		DestPort uint32
		OrigAddr string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &p); err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, "bad payload")
		return
	}
	dest := net.JoinHostPort(p.DestAddr, strconv.Itoa(int(p.DestPort)))
	s.mu.Lock()
	s.forwards = append(s.forwards, dest)
	s.mu.Unlock()
	if s.opts.StallForwards {
		<-s.end
		_ = nch.Reject(ssh.ConnectionFailed, "server closing")
		return
	}
	tc, err := net.DialTimeout("tcp", dest, 5*time.Second)
	if err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		_ = tc.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	// When either side ends, end both: a forward must not outlive its
	// client (nor keep Close waiting on a target that never closes).
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(ch, tc); done <- struct{}{} }()
	go func() { _, _ = io.Copy(tc, ch); done <- struct{}{} }()
	select {
	case <-done:
	case <-s.end:
	}
	_ = tc.Close()
	_ = ch.Close()
	<-done
}

// frozenConn is a net.Conn that can be made silent: once frozen, reads
// never return data and writes never complete, until Close.
type frozenConn struct {
	net.Conn
	once   sync.Once
	mu     sync.Mutex
	frozen bool
	closed chan struct{}
}

func newFrozenConn(c net.Conn) *frozenConn {
	return &frozenConn{Conn: c, closed: make(chan struct{})}
}

func (c *frozenConn) freeze() {
	c.mu.Lock()
	c.frozen = true
	c.mu.Unlock()
}

func (c *frozenConn) isFrozen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frozen
}

func (c *frozenConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.isFrozen() {
		<-c.closed
		return 0, net.ErrClosed
	}
	return n, err
}

func (c *frozenConn) Write(p []byte) (int, error) {
	if c.isFrozen() {
		<-c.closed
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

func (c *frozenConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// StartStalling listens on 127.0.0.1:0 and accepts TCP connections but
// never says anything, like a host whose sshd is wedged. It returns the
// address.
func StartStalling(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaErr  error
)

// NewKey returns a new private key of the given type: "ed25519", "ecdsa"
// (P-256) or "rsa" (2048 bits, generated once per process because it is
// slow).
func NewKey(t testing.TB, typ string) any {
	t.Helper()
	switch typ {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	case "ecdsa":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	case "rsa":
		rsaOnce.Do(func() { rsaKey, rsaErr = rsa.GenerateKey(rand.Reader, 2048) })
		if rsaErr != nil {
			t.Fatal(rsaErr)
		}
		return rsaKey
	}
	t.Fatalf("sshtest: unknown key type %q", typ)
	return nil
}

// NewSigner returns a signer for a new key of the given type (see NewKey).
func NewSigner(t testing.TB, typ string) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(NewKey(t, typ))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// HostCertSigner signs hostKey's public key as a host certificate for the
// given principals with ca, and returns a signer that presents it.
func HostCertSigner(t testing.TB, hostKey, ca ssh.Signer, principals ...string) ssh.Signer {
	t.Helper()
	cert := &ssh.Certificate{
		Key:             hostKey.PublicKey(),
		Serial:          1,
		CertType:        ssh.HostCert,
		KeyId:           "sshtest host",
		ValidPrincipals: principals,
		ValidAfter:      uint64(time.Now().Add(-time.Hour).Unix()),
		ValidBefore:     uint64(time.Now().Add(time.Hour).Unix()),
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(cert, hostKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
