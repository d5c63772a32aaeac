// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Pool keeps one connection per (user, host, port, bastion chain), shared by
// every caller and safe for concurrent use. A connection found dead is
// replaced by a new dial (one attempt per Get or Run).
//
// Settings that belong to the connection (timeouts, keepalive, MaxSessions,
// credentials) are those of the Config that dialled it. Host key settings
// are checked for every Config: a Get whose host_key or known_hosts_file
// differs from the dialling one re-verifies the connection's key with them.
// Sudo settings belong to each Client.
type Pool struct {
	mu     sync.Mutex
	slots  map[string]*slot
	closed bool
	// commands counts the commands run through the pool by host address
	// (CommandCounts).
	commands map[string]int
}

// slot holds the current connection for one pool key.
type slot struct {
	// lock is held while dialling; a channel so that waiting respects ctx.
	lock chan struct{}
	mu   sync.Mutex
	cn   *conn
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{slots: map[string]*slot{}, commands: map[string]int{}}
}

// CommandCounts returns, by host address (host:port), how many commands
// Client.Run has run through the pool since it was made or last reset: one
// SSH session each. The sessions that set a connection up (sudo detection)
// are not counted. Tests use it to hold a Read to one round trip per host.
func (p *Pool) CommandCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.commands))
	for k, v := range p.commands {
		out[k] = v
	}
	return out
}

// ResetCommandCounts sets every count of CommandCounts back to zero.
func (p *Pool) ResetCommandCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.commands = map[string]int{}
}

func (p *Pool) countCommand(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.commands[addr]++
}

var errPoolClosed = errors.New("ssh: connection pool is closed")

// Get returns a client for cfg's host, dialling (or redialling a broken
// connection) when needed. Clients from the same pool and key share one
// connection; Close on them does nothing (close the pool instead).
func (p *Pool) Get(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := p.connect(ctx, cfg); err != nil {
		return nil, err
	}
	return &Client{pool: p, cfg: cfg}, nil
}

// Close closes every connection. Later calls to Get fail; running commands
// fail with a connection error.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	slots := p.slots
	p.slots = map[string]*slot{}
	p.mu.Unlock()
	for _, s := range slots {
		s.mu.Lock()
		cn := s.cn
		s.mu.Unlock()
		if cn != nil {
			cn.close()
		}
	}
	return nil
}

func (p *Pool) slot(key string) (*slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	s := p.slots[key]
	if s == nil {
		s = &slot{lock: make(chan struct{}, 1)}
		p.slots[key] = s
	}
	return s, nil
}

func (s *slot) current() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cn != nil && s.cn.alive() {
		return s.cn
	}
	return nil
}

// connect returns a live connection for cfg (normalized), dialling at most
// once. The bastion, if any, is obtained from the pool first.
func (p *Pool) connect(ctx context.Context, cfg Config) (*conn, error) {
	var via *conn
	if cfg.Bastion != nil {
		b, err := p.connect(ctx, *cfg.Bastion)
		if err != nil {
			return nil, fmt.Errorf("%w (while connecting to bastion %s for %s)", err, cfg.Bastion.Addr(), cfg.Addr())
		}
		via = b
	}
	s, err := p.slot(cfg.poolKey())
	if err != nil {
		return nil, err
	}
	if cn := s.current(); cn != nil {
		return cn, verifyShared(cn, cfg)
	}

	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("ssh: waiting to connect to %s: %w", cfg.name(), ctx.Err())
	}
	defer func() { <-s.lock }()
	// Another caller may have dialled while we waited.
	if cn := s.current(); cn != nil {
		return cn, verifyShared(cn, cfg)
	}
	if via != nil && !via.alive() {
		return nil, fmt.Errorf("ssh: connection to bastion %s was lost while connecting to %s: %w", via.cfg.Addr(), cfg.Addr(), via.reason())
	}
	cn, err := dialConn(ctx, cfg, via)
	if err != nil {
		return nil, err
	}

	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		cn.close()
		return nil, errPoolClosed
	}
	s.mu.Lock()
	s.cn = cn
	s.mu.Unlock()
	return cn, nil
}

// verifyShared checks a shared connection's host key against cfg's host key
// settings when they differ from the settings it was verified with, so that
// sharing a connection never bypasses a caller's own check.
func verifyShared(cn *conn, cfg Config) error {
	if cfg.HostKey == cn.cfg.HostKey && cfg.KnownHostsFile == cn.cfg.KnownHostsFile {
		return nil
	}
	checker, err := newHostKeyChecker(cfg)
	if err != nil {
		return err
	}
	return checker.check(cfg.Addr(), cn.remote, cn.hostKey)
}
