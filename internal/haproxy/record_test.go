// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	v := int64(4)
	same := func(c Config) Config { return c }
	for _, c := range []struct {
		name      string
		cfg       func(testing.TB) Config // a fresh copy on every call
		install   bool
		writeOnly WriteOnly
		omitted   []string // secrets that must not be in the record
		want      func(Config) Config
	}{
		{"full, secrets recorded", fullConfig, true, WriteOnly{}, nil, same},
		{"weights", func(testing.TB) Config { return weightsConfig() }, false, WriteOnly{}, nil, same},
		{
			"write-only secrets left out", fullConfig, false,
			WriteOnly{StatsPassword: &SecretVersion{Version: &v}, TLSKeys: map[string]SecretVersion{"www": {}}},
			[]string{"s3cr3t:with$odd&chars", "PRIVATE KEY"},
			func(c Config) Config {
				c.Stats.Password = ""
				c.Frontends[0].TLS.PrivateKeyPEM = ""
				return c
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := Deployment{Config: c.cfg(t), Install: c.install, WriteOnly: c.writeOnly}
			b, err := d.Record("0123abcd").Encode()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range c.omitted {
				if strings.Contains(string(b), s) {
					t.Errorf("the record holds %q:\n%s", s, b)
				}
			}
			// Leaving secrets out of the record does not touch the deployment.
			if diff := cmp.Diff(c.cfg(t), d.Config); diff != "" {
				t.Errorf("Record changed the deployment's configuration (-want +got):\n%s", diff)
			}
			if b2, _ := d.Record("0123abcd").Encode(); string(b2) != string(b) {
				t.Error("the record's encoding is not deterministic")
			}
			rec, err := DecodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			want := Record{Format: RecordFormat, ConfigSHA256: "0123abcd", Install: c.install, Config: c.want(c.cfg(t)), WriteOnly: c.writeOnly}
			if diff := cmp.Diff(want, *rec); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRecordRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, err string }{
		{"", "no record"},
		{"{", "unexpected EOF"},
		// The provider's first format: its Terraform model.
		{`{"format":1,"config_sha256":"a","model":{"maxconn":null}}`, "unsupported record format 1"},
		{`{"format":2}`, "unsupported record format 2"},
		{`{"format":2,"config_sha256":"a","config":{"maxconn":"many"}}`, "cannot unmarshal"},
	} {
		_, err := DecodeRecord([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("DecodeRecord(%q) = %v, want an error with %q", c.in, err, c.err)
		}
	}
}
