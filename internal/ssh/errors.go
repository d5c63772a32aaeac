// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// UnknownHostError is returned when the known_hosts file has no entry for
// the host. The connection is refused: the operator must add the key after
// checking its fingerprint out of band.
type UnknownHostError struct {
	// Addr is host:port as dialled.
	Addr string
	// KnownHostsFile is the file that was searched.
	KnownHostsFile string
	// Key is the host key the server offered.
	Key ssh.PublicKey
	// OnlyCertAuthority is true when the file names a @cert-authority for
	// the host but the host presented a plain key instead of a certificate.
	OnlyCertAuthority bool
}

func (e *UnknownHostError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host %s is not in known_hosts file %s", e.Addr, e.KnownHostsFile)
	if e.OnlyCertAuthority {
		b.WriteString(" (the file lists a @cert-authority for it, but the host presented a plain key, not a certificate)")
	}
	fmt.Fprintf(&b, "; it offered the %s key %s. ", e.Key.Type(), ssh.FingerprintSHA256(e.Key))
	host, port := splitAddr(e.Addr)
	fmt.Fprintf(&b, "Check that fingerprint with the host's administrator (on the host: ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub), then add the host with: ssh-keyscan -p %s %s "+
		">> %s (or pin the key with host_key)",
		keyFileStem(e.Key.Type()), port, host, e.KnownHostsFile)
	return b.String()
}

// KnownHostsLine is the known_hosts line that would accept the offered key.
func (e *UnknownHostError) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(e.Addr)}, e.Key)
}

// HostKeyChangedError is returned when the host presents a key that differs
// from the pinned key or from the known_hosts entries for it. It is the
// signature of a man-in-the-middle attack (or of a reinstalled host) and is
// never ignored.
type HostKeyChangedError struct {
	// Addr is host:port as dialled.
	Addr string
	// Want are the keys that would have been accepted. For a pinned key
	// Filename is empty and Line is 0.
	Want []knownhosts.KnownKey
	// Key is the key the host presented; nil when the host offered none of
	// the key types known for it (so no key was exchanged).
	Key ssh.PublicKey
}

func (e *HostKeyChangedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host key for %s has changed", e.Addr)
	if e.Key == nil {
		b.WriteString(" or was replaced by a key of another type: the host offers none of the key types known for it")
	}
	b.WriteString("; this may be a man-in-the-middle attack (or the host was reinstalled). Expected ")
	for i, k := range e.Want {
		if i > 0 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "%s %s (%s)", k.Key.Type(), ssh.FingerprintSHA256(k.Key), wantSource(k))
	}
	if e.Key != nil {
		fmt.Fprintf(&b, ", received %s %s", e.Key.Type(), ssh.FingerprintSHA256(e.Key))
	}
	b.WriteString(". If the change is legitimate, verify the new fingerprint out of band, then ")
	if len(e.Want) > 0 && e.Want[0].Filename != "" {
		fmt.Fprintf(&b, "replace the entry at %s:%d", e.Want[0].Filename, e.Want[0].Line)
	} else {
		b.WriteString("update host_key")
	}
	return b.String()
}

func wantSource(k knownhosts.KnownKey) string {
	if k.Filename == "" {
		return "pinned host_key"
	}
	return k.Filename + ":" + strconv.Itoa(k.Line)
}

// AuthError is returned when the server rejected every credential offered.
type AuthError struct {
	User string
	// Addr is host:port as dialled.
	Addr string
	// Tried describes each credential offered, in order.
	Tried []string
	// Err is the underlying error from the SSH library.
	Err error
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("ssh: authentication to %s@%s failed; tried: %s", e.User, e.Addr, strings.Join(e.Tried, ", "))
	if e.Err != nil && !strings.Contains(e.Err.Error(), "unable to authenticate") {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *AuthError) Unwrap() error { return e.Err }

// SudoErrorKind says why sudo could not be used.
type SudoErrorKind int

// Kinds of SudoError.
const (
	// SudoPasswordRequired: sudo wants a password and none is configured.
	SudoPasswordRequired SudoErrorKind = iota + 1
	// SudoPasswordRejected: the configured password is wrong.
	SudoPasswordRejected
	// SudoNotAllowed: the user may not run the command as root (not in
	// sudoers, or the rule does not cover it).
	SudoNotAllowed
	// SudoNotInstalled: there is no sudo on the host.
	SudoNotInstalled
	// SudoFailed: any other failure of sudo itself.
	SudoFailed
)

// SudoError is returned when a privileged command cannot be run because of
// sudo, before the command itself ran.
type SudoError struct {
	Host string
	User string
	Kind SudoErrorKind
	// Detail is sudo's own message, with the password prompt removed.
	Detail string
}

func (e *SudoError) Error() string {
	var msg string
	switch e.Kind {
	case SudoPasswordRequired:
		msg = fmt.Sprintf("sudo on %s requires a password for user %s: set sudo_password", e.Host, e.User)
	case SudoPasswordRejected:
		msg = fmt.Sprintf("sudo on %s rejected the password for user %s", e.Host, e.User)
	case SudoNotAllowed:
		msg = fmt.Sprintf("user %s is not allowed to run commands as root with sudo on %s (check /etc/sudoers)", e.User, e.Host)
	case SudoNotInstalled:
		msg = fmt.Sprintf("sudo is not installed on %s (sudo is enabled for user %s)", e.Host, e.User)
	default:
		msg = fmt.Sprintf("sudo on %s failed for user %s", e.Host, e.User)
	}
	if d := strings.TrimSpace(e.Detail); d != "" && e.Kind != SudoPasswordRequired {
		msg += ": " + oneLine(d)
	}
	return msg
}

// ConnLostError is returned by Run when the connection died while a command
// was running. The command may or may not have completed on the host.
type ConnLostError struct {
	// Name is user@host:port.
	Name string
	// Cmd is the command (as given, before any sudo wrapping).
	Cmd string
	// Reason is why the connection is considered dead.
	Reason error
}

func (e *ConnLostError) Error() string {
	return fmt.Sprintf("ssh: connection to %s lost while running %s (it may or may not have completed on the host): %v", e.Name, e.Cmd, e.Reason)
}

func (e *ConnLostError) Unwrap() error { return e.Reason }

func splitAddr(addr string) (host, port string) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr, strconv.Itoa(DefaultPort)
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr[:i], "["), "]"), addr[i+1:]
}

// keyFileStem maps a key type to the name sshd uses for its host key file.
func keyFileStem(typ string) string {
	switch {
	case strings.Contains(typ, "ed25519"):
		return "ed25519"
	case strings.Contains(typ, "ecdsa"):
		return "ecdsa"
	case strings.Contains(typ, "rsa"):
		return "rsa"
	default:
		return "*"
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
