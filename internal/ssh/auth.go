// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authPlan is the credentials offered to one host, in order, with a
// description of each for the error that lists what was tried.
type authPlan struct {
	signers []ssh.Signer
	tried   []string
	closers []io.Closer
	// agentConn, when set, gets the handshake's deadline: the agent signs
	// during the handshake, and a hung agent must not stall it.
	agentConn agentConn
}

func (a *authPlan) setDeadline(t time.Time) {
	if a.agentConn != nil {
		_ = a.agentConn.SetDeadline(t)
	}
}

func (a *authPlan) methods() []ssh.AuthMethod {
	return []ssh.AuthMethod{ssh.PublicKeys(a.signers...)}
}

func (a *authPlan) Close() {
	for _, c := range a.closers {
		_ = c.Close()
	}
}

// buildAuth collects the credentials in order: the agent's keys (when
// cfg.Agent), then the private key. Problems with the private key are errors
// (the operator configured it and it cannot be used); an unreachable agent is
// an error only when there is nothing else to offer.
func buildAuth(cfg Config) (*authPlan, error) {
	plan := &authPlan{}
	seen := map[string]bool{}
	add := func(s ssh.Signer) bool {
		k := string(s.PublicKey().Marshal())
		if seen[k] {
			return false
		}
		seen[k] = true
		plan.signers = append(plan.signers, s)
		return true
	}

	var agentProblem string
	if cfg.Agent {
		signers, conn, err := agentSigners(cfg)
		if err != nil {
			agentProblem = err.Error()
			plan.tried = append(plan.tried, "ssh-agent ("+agentProblem+")")
		} else {
			plan.closers = append(plan.closers, conn)
			plan.agentConn = conn
			n := 0
			for _, s := range signers {
				if add(s) {
					n++
				}
			}
			plan.tried = append(plan.tried, fmt.Sprintf("ssh-agent (%d %s)", n, plural(n, "key", "keys")))
		}
	}

	if cfg.PrivateKey != "" || cfg.PrivateKeyFile != "" {
		s, name, err := loadPrivateKey(cfg)
		if err != nil {
			plan.Close()
			return nil, err
		}
		add(s)
		plan.tried = append(plan.tried, fmt.Sprintf("private key %s (%s %s)", name, s.PublicKey().Type(), ssh.FingerprintSHA256(s.PublicKey())))
	}

	if len(plan.signers) == 0 {
		plan.Close()
		switch {
		case agentProblem != "":
			return nil, fmt.Errorf("ssh: no credentials for %s: ssh-agent: %s, and no private key is configured", cfg.name(), agentProblem)
		case cfg.Agent:
			return nil, fmt.Errorf("ssh: no credentials for %s: ssh-agent holds no keys, and no private key is configured", cfg.name())
		default:
			return nil, fmt.Errorf("ssh: no credentials for %s: set private_key, private_key_file, or enable agent", cfg.name())
		}
	}
	return plan, nil
}

func agentSigners(cfg Config) ([]ssh.Signer, agentConn, error) {
	addr, err := agentAddress(runtime.GOOS, cfg.AgentSocket, os.Getenv("SSH_AUTH_SOCK"))
	if err != nil {
		return nil, nil, err
	}
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	conn, err := dialAgent(addr, timeout)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot connect to %s: %w", addr, err)
	}
	// Bound the List request; the handshake re-arms this for signing.
	_ = conn.SetDeadline(time.Now().Add(timeout))
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("listing keys from %s: %w", addr, err)
	}
	return signers, conn, nil
}

// loadPrivateKey parses cfg.PrivateKey, or else the file cfg.PrivateKeyFile,
// in PEM (PKCS#1, PKCS#8, SEC1) or OpenSSH format, decrypting it with
// cfg.PrivateKeyPassphrase when it is encrypted. Each failure names the key.
func loadPrivateKey(cfg Config) (ssh.Signer, string, error) {
	name := "private_key (inline)"
	data := []byte(cfg.PrivateKey)
	if cfg.PrivateKey == "" {
		name = cfg.PrivateKeyFile
		var err error
		data, err = os.ReadFile(cfg.PrivateKeyFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, "", fmt.Errorf("ssh: private key file %s does not exist", name)
		case err != nil:
			return nil, "", fmt.Errorf("ssh: private key file %s cannot be read: %w", name, err)
		}
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("ssh-")) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("ecdsa-")) {
		return nil, "", fmt.Errorf("ssh: %s is a public key; the private key is needed (usually the same file name without .pub)", name)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return signer, name, nil
	case errors.As(err, &missing):
		if cfg.PrivateKeyPassphrase == "" {
			return nil, "", fmt.Errorf("ssh: private key %s is encrypted: set private_key_passphrase", name)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(cfg.PrivateKeyPassphrase))
		switch {
		case err == nil:
			return signer, name, nil
		case errors.Is(err, x509.IncorrectPasswordError):
			return nil, "", fmt.Errorf("ssh: wrong passphrase for private key %s", name)
		default:
			return nil, "", fmt.Errorf("ssh: cannot decrypt private key %s: %w", name, err)
		}
	default:
		return nil, "", fmt.Errorf("ssh: %s is not a usable private key (PEM or OpenSSH format expected): %w", name, err)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// isAuthFailure reports whether a handshake error that happened after the
// host key was accepted means the server refused our credentials.
func isAuthFailure(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unable to authenticate") ||
		strings.Contains(msg, "authentication failures") ||
		strings.Contains(msg, "too many authentication")
}
