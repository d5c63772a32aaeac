// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package validators

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	gossh "golang.org/x/crypto/ssh"
)

var (
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$`)
	userRE     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`)
)

// Host accepts a DNS name, an IPv4 or an IPv6 address (without brackets).
func Host() validator.String {
	return StringFunc("a host name or an IP address", CheckHost)
}

// CheckHost is Host's check.
func CheckHost(s string) error {
	if net.ParseIP(s) != nil {
		return nil
	}
	if len(s) > 253 || !hostnameRE.MatchString(s) {
		return errors.New("not a host name or IP address")
	}
	return nil
}

// User accepts a POSIX login name.
func User() validator.String {
	return StringFunc("a login name", CheckUser)
}

// CheckUser is User's check.
func CheckUser(s string) error {
	if !userRE.MatchString(s) {
		return errors.New("not a login name (letters, digits, _ . -; at most 64)")
	}
	return nil
}

// PublicKey accepts an SSH public key in authorized_keys format
// ("ssh-ed25519 AAAA... comment").
func PublicKey() validator.String {
	return StringFunc("an SSH public key in authorized_keys format", CheckPublicKey)
}

// CheckPublicKey is PublicKey's check.
func CheckPublicKey(s string) error {
	if _, _, _, _, err := gossh.ParseAuthorizedKey([]byte(s)); err != nil {
		return fmt.Errorf("not an SSH public key in authorized_keys format (\"ssh-ed25519 AAAA...\"): %w", err)
	}
	return nil
}

// PrivateKey accepts a PEM or OpenSSH private key, encrypted or not. The
// value is never printed.
func PrivateKey() validator.String {
	return SecretStringFunc("a PEM or OpenSSH private key", CheckPrivateKey)
}

// CheckPrivateKey is PrivateKey's check.
func CheckPrivateKey(s string) error {
	_, err := gossh.ParseRawPrivateKey([]byte(s))
	var missing *gossh.PassphraseMissingError
	if err == nil || errors.As(err, &missing) {
		return nil
	}
	return errors.New("not a PEM or OpenSSH private key")
}

// SingleLine refuses values that contain a newline, a carriage return or a
// NUL (used for secrets that are sent to a host as one line of input). The
// value is never printed.
func SingleLine() validator.String {
	return SecretStringFunc("a single line of text", CheckSingleLine)
}

// CheckSingleLine is SingleLine's check.
func CheckSingleLine(s string) error {
	if strings.ContainsAny(s, "\n\r\x00") {
		return errors.New("must be a single line (no newline, carriage return or NUL)")
	}
	return nil
}
