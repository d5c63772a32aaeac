// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// ValidateServerTLS checks server_tls: the certificate parses and the key
// is the certificate's. It returns the attribute at fault (cert_pem or
// key_pem) with the error; errors never quote the key.
func ValidateServerTLS(certPEM, keyPEM string) (string, error) {
	if err := ValidateCAPEM(certPEM); err != nil {
		return "cert_pem", err
	}
	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
		if b, _ := pem.Decode([]byte(keyPEM)); b == nil || !strings.Contains(b.Type, "PRIVATE KEY") {
			return "key_pem", fmt.Errorf("holds no PEM private key")
		}
		return "key_pem", fmt.Errorf("is not the private key of server_tls.cert_pem, or does not parse")
	}
	return "", nil
}

// ValidateCAPEM accepts one or more PEM certificates and nothing else
// (replication_tls.ca_pem, server_tls.cert_pem).
func ValidateCAPEM(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a %q block; only CERTIFICATE blocks belong in a CA bundle", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d does not parse: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("holds no PEM certificate")
	}
	// MySQL writes its auto-generated ca.pem with a trailing NUL: accept
	// that, and blank space, after the last certificate.
	if strings.Trim(string(rest), " \t\r\n\x00") != "" {
		return fmt.Errorf("has text after the last certificate")
	}
	return nil
}
