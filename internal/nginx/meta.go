// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"encoding/json"
	"fmt"
	"path"
)

// DefaultStateDir is where the engine and this package keep their records
// on the host (apply.DefaultStateDir).
const DefaultStateDir = "/var/lib/foobar"

// Meta is what the host remembers about one deployment, in
// <state dir>/web/<name>/meta.json (root only). It holds what Remove needs
// to give back exactly what the deployment took (did the document root and
// the working directory exist before? was Debian's default site disabled by
// it?), and the provider's non-secret configuration so that import can
// adopt the host. It never holds a secret.
type Meta struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	// DocumentRoot is the synced root; DocumentRootCreated says the
	// deployment created it (Remove deletes only such a root).
	DocumentRoot        string `json:"document_root"`
	DocumentRootCreated bool   `json:"document_root_created"`
	// WorkingDir is the application's directory; WorkingDirCreated says
	// the deployment created it (Remove deletes only such a directory).
	WorkingDir        string `json:"working_dir"`
	WorkingDirCreated bool   `json:"working_dir_created"`
	ArtifactPath      string `json:"artifact_path"`
	// DefaultSiteDisabled says the deployment removed Debian's
	// sites-enabled/default link (Remove puts it back).
	DefaultSiteDisabled bool `json:"default_site_disabled"`
	// Init is the service manager the application was installed for.
	Init string `json:"init"`
	// Model is the provider's configuration without secrets (for import):
	// a Record, or from older providers their legacy encoding.
	Model json.RawMessage `json:"model,omitempty"`
}

const metaVersion = 1

// MetaDir is the deployment's directory under the state directory.
func MetaDir(stateDir, name string) string {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	return path.Join(stateDir, "web", name)
}

// MetaPath is the deployment's meta.json.
func MetaPath(stateDir, name string) string { return path.Join(MetaDir(stateDir, name), "meta.json") }

// StaticRecordPath is the sync record of a deployment's document root
// (apply.SyncRecord): the static files the deployment put there, the only
// ones a later sync or Remove deletes.
func StaticRecordPath(stateDir, name string) string {
	return path.Join(MetaDir(stateDir, name), "static.record")
}

// Encode renders m deterministically (same Meta, same bytes).
func (m Meta) Encode() ([]byte, error) {
	m.Version = metaVersion
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseMeta reads meta.json.
func ParseMeta(b []byte) (*Meta, error) {
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("malformed deployment record: %w", err)
	}
	if m.Version != metaVersion {
		return nil, fmt.Errorf("deployment record version %d is not supported (want %d)", m.Version, metaVersion)
	}
	return &m, nil
}
