// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Secrets are the values of c (and of its bastion) that must never appear
// in a message: the sudo password, the private key's passphrase, and each
// line of the private key's body (its armor lines are no secret, and a
// message quotes a key line by line, if at all).
func (c Config) Secrets() []string {
	var out []string
	for _, s := range []string{c.SudoPassword, c.PrivateKeyPassphrase} {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, l := range strings.Split(c.PrivateKey, "\n") {
		if l = strings.TrimSpace(l); len(l) >= 16 && !strings.HasPrefix(l, "-----") && !strings.Contains(l, ":") {
			out = append(out, l)
		}
	}
	if c.Bastion != nil {
		out = append(out, c.Bastion.Secrets()...)
	}
	return out
}

// Secrets are the connection's secret values (sudo password, private key
// and passphrase, the bastion's too), for callers that redact their own
// messages and logs. The transport already removes them from every
// command's stderr and from its errors.
func (c *Client) Secrets() []string { return c.cfg.Secrets() }

// redact replaces each secret in s, and its start cut short, with ***
// (remote.Redact).
func redact(s string, secrets []string) string { return remote.Redact(s, secrets...) }
