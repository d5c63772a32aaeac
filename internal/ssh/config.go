// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package ssh is the transport: it dials hosts (directly or through a
// bastion), verifies their host keys, authenticates, escalates with sudo
// without a TTY, and runs argv commands (see internal/remote) over a pooled
// connection per host.
package ssh

import (
	"fmt"
	"time"
)

// Defaults used when a Config leaves a field at its zero value.
const (
	DefaultPort              = 22
	DefaultConnectTimeout    = 15 * time.Second
	DefaultKeepaliveInterval = 2 * time.Second
	// DefaultKeepaliveMaxMissed keepalive replies may be missed before the
	// connection is declared dead and closed.
	DefaultKeepaliveMaxMissed = 5
	// DefaultMaxSessions caps concurrent sessions per connection, below
	// sshd's MaxSessions default of 10.
	DefaultMaxSessions = 8
)

// Config describes how to reach and authenticate to one host. The provider
// builds it by merging its own defaults with a resource's overrides.
type Config struct {
	Host string
	Port int
	User string

	// PrivateKey is a PEM/OpenSSH private key (contents, not a path).
	PrivateKey string
	// PrivateKeyFile is read when PrivateKey is empty.
	PrivateKeyFile       string
	PrivateKeyPassphrase string
	// Agent enables ssh-agent authentication through AgentSocket, or through
	// $SSH_AUTH_SOCK when AgentSocket is empty.
	Agent       bool
	AgentSocket string

	// KnownHostsFile is a file in OpenSSH known_hosts format (hashed names,
	// several key types per host, @cert-authority and @revoked lines).
	KnownHostsFile string
	// HostKey pins the host's public key in authorized_keys format
	// ("ssh-ed25519 AAAA..."). When set, it is checked instead of
	// KnownHostsFile.
	HostKey string

	// Sudo runs privileged commands through sudo (-n when passwordless, -S
	// with SudoPassword on stdin otherwise).
	Sudo         bool
	SudoPassword string

	// ConnectTimeout bounds the TCP connect and the SSH handshake, each.
	ConnectTimeout time.Duration
	// KeepaliveInterval and KeepaliveMaxMissed bound how long a silent
	// connection is kept before it is closed.
	KeepaliveInterval  time.Duration
	KeepaliveMaxMissed int
	// MaxSessions caps concurrent sessions on this host's connection.
	MaxSessions int

	// Bastion, when set, is dialled first and the connection to Host is made
	// through it. The bastion has its own credentials and host key check.
	Bastion *Config
}

// Addr returns host:port.
func (c Config) Addr() string {
	port := c.Port
	if port == 0 {
		port = DefaultPort
	}
	return joinHostPort(c.Host, port)
}

func joinHostPort(host string, port int) string {
	if len(host) > 0 && host[0] != '[' {
		for i := 0; i < len(host); i++ {
			if host[i] == ':' {
				return fmt.Sprintf("[%s]:%d", host, port)
			}
		}
	}
	return fmt.Sprintf("%s:%d", host, port)
}
