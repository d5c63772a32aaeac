// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// RecordVersion is the version of the Record's layout this package writes
// and reads. Version 0 is the caller's own legacy encoding (an object
// {"format": ..., "value": ...} without a version field), which
// RecordVersionOf reports but DecodeRecord does not read: the caller keeps
// its decoder.
const RecordVersion = 1

// Record is the caller's configuration of a deployment without secrets,
// kept in Meta.Model so that an import can take it back. Optional values
// are pointers, maps and slices, nil when unset, so that unset and empty
// (or zero) stay apart: an import must give back exactly what was
// configured. Secrets (the TLS key, secret environment values) are never
// in it; of a write-only secret only the caller's version is.
type Record struct {
	Version int `json:"version"`

	Install            bool     `json:"install"`
	ServerNames        []string `json:"server_names"`
	ListenPort         int64    `json:"listen_port"`
	ListenIPv6         bool     `json:"listen_ipv6"`
	DefaultServer      bool     `json:"default_server"`
	DisableDefaultSite bool     `json:"disable_default_site"`

	TLS               *RecordTLS             `json:"tls"`
	AccessLog         *string                `json:"access_log"`
	ErrorLog          *string                `json:"error_log"`
	Gzip              *RecordGzip            `json:"gzip"`
	ClientMaxBodySize *string                `json:"client_max_body_size"`
	Timeouts          *RecordTimeouts        `json:"timeouts"`
	SecurityHeaders   *RecordSecurityHeaders `json:"security_headers"`
	ResponseHeaders   map[string]string      `json:"response_headers"`
	UpstreamKeepalive int64                  `json:"upstream_keepalive"`
	DocumentRoot      string                 `json:"document_root"`
	SourceDir         *string                `json:"source_dir"`
	StaticLocations   []RecordStaticLocation `json:"static_locations"`
	App               *RecordApp             `json:"app"`
	Drain             *RecordDrain           `json:"drain,omitempty"`
}

// RecordDrain is the drain of the application's restarts.
type RecordDrain struct {
	HealthCheckInterval string `json:"health_check_interval"`
	Fall                int64  `json:"fall"`
	Rise                int64  `json:"rise"`
	InFlightTimeout     string `json:"in_flight_timeout"`
}

// RecordTLS is the HTTPS listener without its key.
type RecordTLS struct {
	CertificatePEM string `json:"certificate_pem"`
	// PrivateKeyPEMWOVersion is the caller's version of a write-only key.
	PrivateKeyPEMWOVersion *int64 `json:"private_key_pem_wo_version"`
	Port                   int64  `json:"port"`
	HTTP2                  bool   `json:"http2"`
	RedirectHTTP           bool   `json:"redirect_http"`
}

// RecordGzip is the compression block.
type RecordGzip struct {
	Enabled bool     `json:"enabled"`
	Types   []string `json:"types"`
}

// RecordTimeouts are the nginx times, nil when unset.
type RecordTimeouts struct {
	ClientBody   *string `json:"client_body"`
	ClientHeader *string `json:"client_header"`
	Keepalive    *string `json:"keepalive"`
	ProxyConnect *string `json:"proxy_connect"`
	ProxyRead    *string `json:"proxy_read"`
	ProxySend    *string `json:"proxy_send"`
}

// RecordSecurityHeaders are the protective headers.
type RecordSecurityHeaders struct {
	ContentTypeOptions    bool        `json:"content_type_options"`
	FrameOptions          *string     `json:"frame_options"`
	ReferrerPolicy        *string     `json:"referrer_policy"`
	ContentSecurityPolicy *string     `json:"content_security_policy"`
	HSTS                  *RecordHSTS `json:"hsts"`
}

// RecordHSTS is Strict-Transport-Security.
type RecordHSTS struct {
	MaxAge            int64 `json:"max_age"`
	IncludeSubdomains bool  `json:"include_subdomains"`
	Preload           bool  `json:"preload"`
}

// RecordStaticLocation is one prefix served from the document root.
type RecordStaticLocation struct {
	URLPrefix    string  `json:"url_prefix"`
	Expires      *string `json:"expires"`
	CacheControl *string `json:"cache_control"`
}

// RecordApp is the application without its secret environment.
type RecordApp struct {
	ArtifactSource string            `json:"artifact_source"`
	ArtifactPath   string            `json:"artifact_path"`
	Command        []string          `json:"command"`
	Port           int64             `json:"port"`
	Environment    map[string]string `json:"environment"`
	// SecretEnvironmentWOVersion is the caller's version of the
	// write-only secret environment.
	SecretEnvironmentWOVersion *int64         `json:"secret_environment_wo_version"`
	User                       string         `json:"user"`
	Group                      string         `json:"group"`
	WorkingDir                 string         `json:"working_dir"`
	HealthCheckPath            string         `json:"health_check_path"`
	HealthCheckTimeout         string         `json:"health_check_timeout"`
	Restart                    *RecordRestart `json:"restart"`
	ReloadSignal               *string        `json:"reload_signal"`
}

// RecordRestart is the application's restart policy.
type RecordRestart struct {
	Mode         string `json:"mode"`
	DelaySeconds int64  `json:"delay_seconds"`
}

// Encode is the record's bytes (JSON, deterministic), with Version set to
// RecordVersion.
func (r Record) Encode() ([]byte, error) {
	r.Version = RecordVersion
	return json.Marshal(r)
}

// RecordVersionOf tells which layout b has: RecordVersion and earlier
// versions by their version field, 0 for the legacy object without one
// (which names its encoding in a "format" field, returned).
func RecordVersionOf(b []byte) (version int, legacyFormat string, err error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return 0, "", errors.New("no record")
	}
	var head struct {
		Version *int   `json:"version"`
		Format  string `json:"format"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return 0, "", fmt.Errorf("malformed record: %w", err)
	}
	if head.Version == nil {
		if head.Format == "" {
			return 0, "", errors.New("malformed record: neither a version nor a format")
		}
		return 0, head.Format, nil
	}
	return *head.Version, "", nil
}

// DecodeRecord reads a record of version RecordVersion. A record of a
// later version (written by a newer provider) is refused with an error
// that says so; so is a legacy one (version 0: the caller decodes it).
func DecodeRecord(b []byte) (*Record, error) {
	v, legacy, err := RecordVersionOf(b)
	switch {
	case err != nil:
		return nil, err
	case v > RecordVersion:
		return nil, fmt.Errorf("the record has version %d, newer than this provider reads (%d): it was written by a newer "+
			"version of the provider; import with that version or a later one", v, RecordVersion)
	case v != RecordVersion:
		if legacy != "" {
			return nil, fmt.Errorf("the record is in the legacy format %q, not version %d", legacy, RecordVersion)
		}
		return nil, fmt.Errorf("unsupported record version %d", v)
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("malformed record: %w", err)
	}
	return &r, nil
}
