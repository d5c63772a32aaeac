// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package testcert_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"

	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

func TestIssueVerifiesAgainstCA(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t)
	for _, bits := range []int{0, 1024} {
		certPEM, keyPEM := ca.Issue(t, []string{"www.foobar.test"}, []net.IP{net.ParseIP("10.0.0.1")}, bits)
		if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
			t.Fatalf("bits %d: pair does not match: %v", bits, err)
		}
		b, _ := pem.Decode([]byte(certPEM))
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"www.foobar.test", "10.0.0.1"} {
			if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: name}); err != nil {
				t.Errorf("bits %d: verify %s: %v", bits, name, err)
			}
		}
	}
	a, _ := testcert.Pair(t, "a.test")
	b, _ := testcert.Pair(t, "a.test")
	if a == b {
		t.Error("Pair returned the same certificate twice")
	}
}
