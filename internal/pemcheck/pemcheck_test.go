// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package pemcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

func TestCertificates(t *testing.T) {
	ca := testcert.NewCA(t)
	cert, key := ca.Issue(t, []string{"web.foobar.internal"}, nil, 0)
	garbled := strings.Replace(cert, "MI", "XX", 1)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"one certificate", cert, ""},
		{"a chain", cert + ca.PEM, ""},
		{"MySQL's ca.pem ends with a NUL", ca.PEM + "\x00", ""},
		{"empty", " \n", "is empty: a PEM certificate is required"},
		{"a path instead of file()", "/etc/ssl/ca.pem", `"/etc/ssl/ca.pem" holds no PEM certificate`},
		{"long one-line text is cut", strings.Repeat("x", 60), `"` + strings.Repeat("x", 40) + `..." holds no PEM certificate`},
		{"several lines without PEM are not quoted", "line one\nline two", "holds no PEM certificate"},
		{"a key where a certificate belongs", key, `PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`},
		{"the second block is a key", cert + key, `PEM block 2 is a "PRIVATE KEY", not a CERTIFICATE`},
		{"not X.509", garbled, "PEM block 1 is not an X.509 certificate"},
		{"text after", cert + "junk", `unexpected data after PEM certificate 1: "junk"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Certificates(tc.in)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Certificates() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Certificates() = nil, want %q", tc.want)
			case tc.want != "" && !strings.HasPrefix(err.Error(), tc.want):
				t.Fatalf("Certificates() = %q, want it to start with %q", err, tc.want)
			}
		})
	}
}

func TestPrivateKey(t *testing.T) {
	cert, key := testcert.Pair(t, "web")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	// What `openssl ecparam -genkey -name prime256v1` writes.
	ecparam := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	for _, tc := range []struct {
		name, in, want string
	}{
		{"PKCS #8", key, ""},
		{"PKCS #1", pkcs1, ""},
		{"openssl ecparam -genkey", ecparam, ""},
		{"empty", "", "is empty: a PEM private key is required"},
		{"not PEM", "secret-not-pem", "holds no PEM private key"},
		{"a certificate where the key belongs", cert, `PEM block 1 is a "CERTIFICATE", not a private key`},
		{"two keys", key + pkcs1, "holds 2 private keys; give exactly one"},
		{"text after", key + "secret-tail", "has data after the private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := PrivateKey(tc.in)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("PrivateKey() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Fatalf("PrivateKey() = nil, want %q", tc.want)
			case tc.want != "" && !strings.HasPrefix(err.Error(), tc.want):
				t.Fatalf("PrivateKey() = %q, want it to start with %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Fatalf("the message quotes the key: %q", err)
			}
		})
	}
}

func TestKeyPair(t *testing.T) {
	cert, key := testcert.Pair(t, "web")
	_, otherKey := testcert.Pair(t, "web")
	if err := KeyPair(cert, key); err != nil {
		t.Fatalf("KeyPair(matching) = %v", err)
	}
	err := KeyPair(cert, otherKey)
	if err == nil || !strings.HasPrefix(err.Error(), "is not the private key of the certificate") {
		t.Fatalf("KeyPair(other key) = %v, want a mismatch", err)
	}
	if strings.Contains(err.Error(), strings.Split(otherKey, "\n")[1]) {
		t.Fatalf("the message contains the key: %q", err)
	}
}
