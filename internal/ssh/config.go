// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package ssh is the transport: it dials hosts (directly or through a
// bastion), verifies their host keys, authenticates, escalates with sudo
// without a TTY, and runs argv commands (see internal/remote) over a pooled
// connection per host.
package ssh

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/homedir"
)

// Defaults used when a Config leaves a field at its zero value.
const (
	DefaultPort              = 22
	DefaultConnectTimeout    = 15 * time.Second
	DefaultKeepaliveInterval = 2 * time.Second
	// DefaultKeepaliveMaxMissed keepalive replies may be missed before the
	// connection is declared dead and closed.
	DefaultKeepaliveMaxMissed = 5
	// DefaultMaxSessions caps concurrent sessions per connection. It is
	// Terraform's default parallelism, so that operations Terraform runs at
	// once on one host do not wait for each other here, and sshd's default
	// MaxSessions: the moments sshd still counts a session the client has
	// closed are covered by retrying the refused open (openSession).
	DefaultMaxSessions = 10
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

// withDefaults returns a copy of c with zero fields set to their defaults and
// paths expanded, or an error naming what is missing or invalid. The bastion,
// if any, is normalized the same way.
func (c Config) withDefaults() (Config, error) {
	if c.Host == "" {
		return c, fmt.Errorf("ssh: host is empty")
	}
	if c.User == "" {
		return c, fmt.Errorf("ssh: user for %s is empty", c.Host)
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("ssh: port %d for %s is out of range 1-65535", c.Port, c.Host)
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.KeepaliveInterval <= 0 {
		c.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if c.KeepaliveMaxMissed <= 0 {
		c.KeepaliveMaxMissed = DefaultKeepaliveMaxMissed
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	c.PrivateKeyFile = homedir.Expand(c.PrivateKeyFile)
	c.KnownHostsFile = homedir.Expand(c.KnownHostsFile)
	c.AgentSocket = homedir.Expand(c.AgentSocket)
	if c.HostKey == "" && c.KnownHostsFile == "" {
		// Like OpenSSH: without a pinned key, verify against the user's own
		// known_hosts. There is no way to skip verification.
		home, err := os.UserHomeDir()
		if err != nil {
			return c, fmt.Errorf("ssh: neither host_key nor known_hosts_file is set for %s, and the default ~/.ssh/known_hosts cannot be located: %w", c.Host, err)
		}
		c.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
	}
	if c.Bastion != nil {
		b, err := c.Bastion.withDefaults()
		if err != nil {
			return c, fmt.Errorf("bastion of %s: %w", c.Host, err)
		}
		c.Bastion = &b
	}
	return c, nil
}

// name is user@host:port, used in messages.
func (c Config) name() string {
	return c.User + "@" + c.Addr()
}

// poolKey identifies the connection this config shares: the target's
// user@host:port and, recursively, its bastion's.
func (c Config) poolKey() string {
	k := c.name()
	if c.Bastion != nil {
		k += " via " + c.Bastion.poolKey()
	}
	return k
}
