// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// conn is one authenticated SSH connection and what it knows about its host.
// It is shared by every Client of the same pool key; once dead it stays dead
// and the pool replaces it.
type conn struct {
	cfg     Config // the config it was dialled with (normalized)
	client  *ssh.Client
	hostKey ssh.PublicKey
	remote  net.Addr
	// sem caps concurrent sessions.
	sem chan struct{}
	// dead is closed when the connection is gone; deadErr says why.
	dead    chan struct{}
	mu      sync.Mutex
	deadErr error

	// sudo detection results, guarded by sudoLock (a 1-slot semaphore so
	// that waiting for it respects contexts).
	sudoLock  chan struct{}
	sudoProbe *sudoResult
	sudoPass  map[string]*sudoResult
}

var errClosed = errors.New("connection closed by the client")

// dialConn connects to cfg's host (through via, when set), verifies its host
// key, authenticates, and starts the keepalive. cfg must be normalized.
func dialConn(ctx context.Context, cfg Config, via *conn) (*conn, error) {
	addr := cfg.Addr()
	checker, err := newHostKeyChecker(cfg)
	if err != nil {
		return nil, err
	}
	plan, err := buildAuth(cfg)
	if err != nil {
		return nil, err
	}
	defer plan.Close()

	nc, err := dialTCP(ctx, cfg, via)
	if err != nil {
		return nil, err
	}

	var (
		hostKey  ssh.PublicKey
		remote   net.Addr
		hostErr  error
		verified bool
	)
	ccfg := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              plan.methods(),
		HostKeyAlgorithms: checker.algos,
		HostKeyCallback: func(hostname string, r net.Addr, key ssh.PublicKey) error {
			if err := checker.check(hostname, r, key); err != nil {
				hostErr = err
				return err
			}
			hostKey, remote, verified = key, r, true
			return nil
		},
	}

	// The handshake gets its own deadline. The connection is closed when it
	// expires (SetDeadline does not work on a connection tunnelled through a
	// bastion), which makes NewClientConn return.
	type result struct {
		c     ssh.Conn
		chans <-chan ssh.NewChannel
		reqs  <-chan *ssh.Request
		err   error
	}
	done := make(chan result, 1)
	plan.setDeadline(time.Now().Add(cfg.ConnectTimeout))
	go func() {
		c, chans, reqs, err := ssh.NewClientConn(nc, addr, ccfg)
		done <- result{c, chans, reqs, err}
	}()
	timer := time.NewTimer(cfg.ConnectTimeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-timer.C:
		_ = nc.Close()
		<-done
		return nil, fmt.Errorf("ssh: handshake with %s timed out after %s%s (the server accepted the TCP connection but did not complete the SSH handshake)", addr, cfg.ConnectTimeout, viaText(via))
	case <-ctx.Done():
		_ = nc.Close()
		<-done
		return nil, fmt.Errorf("ssh: handshake with %s%s: %w", addr, viaText(via), ctx.Err())
	}
	if r.err != nil {
		var neg *ssh.AlgorithmNegotiationError
		switch {
		case hostErr != nil:
			return nil, hostErr
		case errors.As(r.err, &neg) && neg.What == "host key":
			return nil, checker.noCommonAlgo(neg.RequestedAlgorithms)
		case verified && isAuthFailure(r.err):
			return nil, &AuthError{User: cfg.User, Addr: addr, Tried: plan.tried, Err: r.err}
		default:
			return nil, fmt.Errorf("ssh: handshake with %s%s: %w", addr, viaText(via), r.err)
		}
	}

	cn := &conn{
		cfg:      cfg,
		client:   ssh.NewClient(r.c, r.chans, r.reqs),
		hostKey:  hostKey,
		remote:   remote,
		sem:      make(chan struct{}, cfg.MaxSessions),
		dead:     make(chan struct{}),
		sudoLock: make(chan struct{}, 1),
		sudoPass: map[string]*sudoResult{},
	}
	go cn.watch()
	go cn.keepalive(cfg.KeepaliveInterval, cfg.KeepaliveMaxMissed)
	return cn, nil
}

func viaText(via *conn) string {
	if via == nil {
		return ""
	}
	return " through bastion " + via.cfg.Addr()
}

// dialTCP opens the transport: a TCP connection, or a direct-tcpip channel
// through the bastion. Both are bounded by cfg.ConnectTimeout.
func dialTCP(ctx context.Context, cfg Config, via *conn) (net.Conn, error) {
	addr := cfg.Addr()
	tctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	var nc net.Conn
	var err error
	if via != nil {
		nc, err = via.client.DialContext(tctx, "tcp", addr)
	} else {
		d := net.Dialer{KeepAlive: 15 * time.Second}
		nc, err = d.DialContext(tctx, "tcp", addr)
	}
	if err == nil {
		return nc, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("ssh: connect to %s%s: %w", addr, viaText(via), ctx.Err())
	}
	// The dialer can report its own "i/o timeout" an instant before the
	// context's timer marks tctx as done: both mean the deadline passed.
	var ne net.Error
	if tctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return nil, fmt.Errorf("ssh: connect to %s%s timed out after %s", addr, viaText(via), cfg.ConnectTimeout)
	}
	return nil, fmt.Errorf("ssh: connect to %s%s: %w", addr, viaText(via), err)
}

// watch marks the connection dead when the transport ends, for whatever
// reason (closed by us, by the peer, by the keepalive, or by the bastion).
func (cn *conn) watch() {
	err := cn.client.Wait()
	cn.mu.Lock()
	if cn.deadErr == nil {
		if err == nil {
			err = errors.New("closed by the server")
		}
		cn.deadErr = fmt.Errorf("connection closed: %w", err)
	}
	cn.mu.Unlock()
	close(cn.dead)
}

// fail records why the connection is being given up and closes it. The
// first reason wins.
func (cn *conn) fail(reason error) {
	cn.mu.Lock()
	if cn.deadErr == nil {
		cn.deadErr = reason
	}
	cn.mu.Unlock()
	_ = cn.client.Close()
}

func (cn *conn) close() { cn.fail(errClosed) }

func (cn *conn) alive() bool {
	select {
	case <-cn.dead:
		return false
	default:
		return true
	}
}

// reason says why the connection died (nil while it is alive).
func (cn *conn) reason() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.deadErr
}

// diedWithin waits up to d for the connection to be declared dead: the end of
// a session and the end of the transport are noticed by different goroutines.
func (cn *conn) diedWithin(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-cn.dead:
		return true
	case <-t.C:
		return false
	}
}

// keepalive sends keepalive@openssh.com every interval; when maxMissed ticks
// pass with a request still unanswered, the peer is considered gone and the
// connection is closed, which fails every pending session.
func (cn *conn) keepalive(interval time.Duration, maxMissed int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	replies := make(chan error, 1)
	pending, missed := false, 0
	for {
		select {
		case <-cn.dead:
			return
		case err := <-replies:
			pending = false
			if err != nil {
				return // the transport is closing; watch records why
			}
			missed = 0
		case <-t.C:
			if pending {
				missed++
				if missed >= maxMissed {
					cn.fail(fmt.Errorf("%s stopped answering: no reply to keepalive for %s", cn.cfg.Addr(), time.Duration(missed)*interval))
					return
				}
				continue
			}
			pending = true
			go func() {
				// Servers answer unknown global requests with a failure
				// message; any answer proves the peer is alive.
				_, _, err := cn.client.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		}
	}
}
