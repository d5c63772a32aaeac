// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import "github.com/foobar/terraform-provider-foobar/internal/pemcheck"

// ValidateServerTLS checks server_tls: the certificate parses and the key
// is the certificate's. It returns the attribute at fault (cert_pem or
// key_pem) with the error; errors never quote the key.
func ValidateServerTLS(certPEM, keyPEM string) (string, error) {
	if err := pemcheck.Certificates(certPEM); err != nil {
		return "cert_pem", err
	}
	if err := pemcheck.PrivateKey(keyPEM); err != nil {
		return "key_pem", err
	}
	if err := pemcheck.KeyPair(certPEM, keyPEM); err != nil {
		return "key_pem", err
	}
	return "", nil
}
