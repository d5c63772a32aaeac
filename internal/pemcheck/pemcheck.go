// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package pemcheck checks the PEM certificates and private keys given in a
// configuration, at plan time, before anything is written to a host: HAProxy's
// frontend certificates and backend CA, Nginx's certificate and key, MySQL's
// server certificate and replication CA. Every service reports the same
// mistakes with the same words.
//
// Messages never contain a private key, nor any part of a value given as a
// key. A certificate is not secret: a value that is not PEM at all and fits on
// one line (a path given where file() was meant) is quoted.
package pemcheck

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Certificates checks a certificate chain or CA bundle: one or more PEM
// CERTIFICATE blocks that parse as X.509 certificates, and nothing after them
// but white space. Trailing NUL bytes are accepted too: MySQL writes its
// generated ca.pem with one.
func Certificates(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is empty: a PEM certificate is required")
	}
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		n++
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", n, b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("PEM block %d is not an X.509 certificate: %w", n, err)
		}
	}
	if n == 0 {
		if !strings.Contains(strings.TrimSpace(s), "\n") {
			return fmt.Errorf("%q holds no PEM certificate", truncate(strings.TrimSpace(s), 40))
		}
		return errors.New("holds no PEM certificate")
	}
	if tail := bytes.Trim(rest, " \t\r\n\x00"); len(tail) != 0 {
		return fmt.Errorf("unexpected data after PEM certificate %d: %q", n, truncate(string(tail), 40))
	}
	return nil
}

// keyTypes are the PEM block types of a private key: PKCS #8, PKCS #1 (RSA)
// and SEC 1 (EC).
var keyTypes = []string{"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}

// PrivateKey checks a private key: one PEM block of a private key type
// (an "EC PARAMETERS" block before it, as `openssl ecparam -genkey` writes,
// is allowed) and nothing else but white space. Messages never quote it.
func PrivateKey(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is empty: a PEM private key is required")
	}
	rest := []byte(s)
	keys, n := 0, 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		n++
		switch {
		case b.Type == "EC PARAMETERS":
		case slices.Contains(keyTypes, b.Type):
			keys++
		default:
			return fmt.Errorf("PEM block %d is a %q, not a private key (%s)", n, b.Type, strings.Join(keyTypes, ", "))
		}
	}
	switch {
	case keys == 0:
		return errors.New("holds no PEM private key")
	case keys > 1:
		return fmt.Errorf("holds %d private keys; give exactly one", keys)
	case len(bytes.TrimSpace(rest)) != 0:
		return errors.New("has data after the private key")
	}
	return nil
}

// KeyPair checks that keyPEM is the private key of the first certificate of
// certPEM and that the two can serve TLS. Check each alone first
// (Certificates, PrivateKey): this reports only that they do not belong
// together. crypto/tls's reason is kept; it describes the structure, never
// the key's bytes.
func KeyPair(certPEM, keyPEM string) error {
	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
		return fmt.Errorf("is not the private key of the certificate, or cannot be used with it: %s",
			strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return nil
}

// truncate shortens s to n bytes for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
