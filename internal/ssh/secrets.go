// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import "strings"

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

// minRedactPrefix is the shortest start of a secret that is redacted on
// its own: a client may cut a value it echoes ("near 's3cr...").
const minRedactPrefix = 6

// redact replaces each secret in s, and each run of 6 bytes or more that
// starts like one (the secret cut short), with ***.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		if len(sec) < minRedactPrefix {
			s = strings.ReplaceAll(s, sec, "***")
			continue
		}
		var b strings.Builder
		for {
			i := strings.Index(s, sec[:minRedactPrefix])
			if i < 0 {
				break
			}
			n := minRedactPrefix
			for n < len(sec) && i+n < len(s) && s[i+n] == sec[n] {
				n++
			}
			b.WriteString(s[:i])
			b.WriteString("***")
			s = s[i+n:]
		}
		b.WriteString(s)
		s = b.String()
	}
	return s
}
