// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// RecordFormat is the version of the Record's layout. Format 1 (the
// provider's own Terraform model, before Deploy existed) is not read: a
// host with such a record is treated as one without a record until the
// next Deploy rewrites it.
const RecordFormat = 2

// Record is what Deploy keeps at RecordPath (root, RecordMode): the
// configuration it applied and the sha256 of haproxy.cfg exactly as
// written. With it Inspect tells a file this package wrote from a hand
// edit, even when the only change is a redacted secret, and an import can
// take the configuration back. Secrets of Config are kept (the host holds
// them in haproxy.cfg and the TLS bundles anyway), except those marked in
// WriteOnly.
type Record struct {
	Format       int    `json:"format"`
	ConfigSHA256 string `json:"config_sha256"`
	// Install is Deployment.Install.
	Install bool `json:"install"`
	// Config is Deployment.Config without the secrets WriteOnly names.
	Config    Config    `json:"config"`
	WriteOnly WriteOnly `json:"write_only,omitzero"`
}

// WriteOnly names the secrets of a Config that the caller does not keep
// (Terraform's write-only arguments): Deploy applies them but leaves them
// out of the Record, which keeps the caller's version of each instead.
type WriteOnly struct {
	// StatsPassword, when set, stands for Stats.Password.
	StatsPassword *SecretVersion `json:"stats_password,omitempty"`
	// TLSKeys stand for TLS.PrivateKeyPEM, by frontend name.
	TLSKeys map[string]SecretVersion `json:"tls_keys,omitempty"`
}

// SecretVersion is the caller's version of a write-only secret; nil when
// it gave none.
type SecretVersion struct {
	Version *int64 `json:"version,omitempty"`
}

// Record is what Deploy writes for d, with configSHA256 the sha256 of the
// rendered haproxy.cfg.
func (d Deployment) Record(configSHA256 string) Record {
	return Record{
		Format:       RecordFormat,
		ConfigSHA256: configSHA256,
		Install:      d.Install,
		Config:       d.Config.withoutSecrets(d.WriteOnly),
		WriteOnly:    d.WriteOnly,
	}
}

// withoutSecrets returns a copy of c without the secrets w names (c itself
// is not changed).
func (c Config) withoutSecrets(w WriteOnly) Config {
	if len(w.TLSKeys) > 0 {
		fes := make([]Frontend, len(c.Frontends))
		for i, f := range c.Frontends {
			if _, ok := w.TLSKeys[f.Name]; ok && f.TLS != nil {
				t := *f.TLS
				t.PrivateKeyPEM = ""
				f.TLS = &t
			}
			fes[i] = f
		}
		c.Frontends = fes
	}
	if w.StatsPassword != nil && c.Stats != nil {
		s := *c.Stats
		s.Password = ""
		c.Stats = &s
	}
	return c
}

// Encode is the record's bytes on the host (indented JSON, deterministic).
func (r Record) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeRecord parses a record. A record of another format, or one
// without the checksum, is an error.
func DecodeRecord(b []byte) (*Record, error) {
	if len(b) == 0 {
		return nil, errors.New("no record")
	}
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		var head struct {
			Format int `json:"format"`
		}
		if json.Unmarshal(b, &head) == nil && head.Format != RecordFormat {
			return nil, fmt.Errorf("unsupported record format %d", head.Format)
		}
		return nil, err
	}
	if rec.Format != RecordFormat || rec.ConfigSHA256 == "" {
		return nil, fmt.Errorf("unsupported record format %d", rec.Format)
	}
	return &rec, nil
}
