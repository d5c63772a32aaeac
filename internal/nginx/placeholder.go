// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"time"
)

// RenderConfigOnly renders the site file alone, for its checksum. The file
// names the certificate and key files but does not contain them, so it is
// rendered with a placeholder pair: the same bytes as Render whatever the
// certificate and key (a write-only key is not at hand at plan time, and
// no key is when reading a host back).
func (s Site) RenderConfigOnly(o Options) ([]byte, error) {
	if s.TLS != nil {
		t := *s.TLS
		var err error
		if t.CertificatePEM, t.PrivateKeyPEM, err = placeholderPair(); err != nil {
			return nil, err
		}
		s.TLS = &t
	}
	return s.Render(o)
}

var (
	placeholderOnce                 sync.Once
	placeholderCert, placeholderKey string
	placeholderErr                  error
)

// placeholderPair is a throwaway self-signed certificate and key, made once
// per process, used only to render a site file.
func placeholderPair() (string, string, error) {
	placeholderOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			placeholderErr = err
			return
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "placeholder"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			placeholderErr = err
			return
		}
		kb, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			placeholderErr = err
			return
		}
		placeholderCert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		placeholderKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
	})
	return placeholderCert, placeholderKey, placeholderErr
}
