// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package releasetest builds synthetic GoReleaser dist/ directories for tests:
// small fake provider zips, a SHA256SUMS file, a detached signature made with
// an in-test OpenPGP key, and GoReleaser's metadata.json and artifacts.json,
// laid out exactly as GoReleaser v2 writes them for .goreleaser.yml.
package releasetest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var (
	keysOnce sync.Once
	keys     [2]*openpgp.Entity
	keysErr  error
)

// RSA like the real release key: registries do not all accept ECC keys.
func generate() {
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048}
	for i, name := range []string{"foobar release test", "someone else"} {
		keys[i], keysErr = openpgp.NewEntity(name, "", fmt.Sprintf("key%d@foobar.invalid", i), cfg)
		if keysErr != nil {
			return
		}
	}
}

// SigningKey is the test release key (generated once per test binary).
func SigningKey(t testing.TB) *openpgp.Entity {
	t.Helper()
	keysOnce.Do(generate)
	if keysErr != nil {
		t.Fatalf("generate test key: %v", keysErr)
	}
	return keys[0]
}

// OtherKey is a second key that did not sign the release.
func OtherKey(t testing.TB) *openpgp.Entity {
	t.Helper()
	SigningKey(t)
	return keys[1]
}

// ArmoredPublicKey returns the ASCII-armored public half of e.
func ArmoredPublicKey(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// ArmoredPrivateKey returns e's private key, for tests that must refuse it.
func ArmoredPrivateKey(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	// SerializePrivate would re-sign the identities, mutating a key that
	// parallel tests share.
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// DetachSign returns a binary detached signature of data, as
// `gpg --detach-sign` makes it.
func DetachSign(t testing.TB, e *openpgp.Entity, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := openpgp.DetachSign(&buf, e, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Options describe the release to fake. Zero values get the defaults.
type Options struct {
	Project   string   // terraform-provider-foobar
	Version   string   // 1.0.0
	Platforms []string // linux_amd64, darwin_arm64, windows_amd64
	Protocols []string // 6.0, written into the manifest
	Signer    *openpgp.Entity
	// Seed goes into the fake binaries, so that two builds of one version
	// can differ byte for byte.
	Seed string
}

// Dist is a synthetic dist/ directory.
type Dist struct {
	Dir          string
	Project      string
	Version      string
	ManifestPath string // the repository's terraform-registry-manifest.json (outside dist/)
	SumsName     string
	SigName      string
	ManifestName string
	// Zips maps "os_arch" to the archive's file name.
	Zips map[string]string
}

// Build writes a complete, valid dist/ under t.TempDir().
func Build(t testing.TB, o Options) *Dist {
	t.Helper()
	if o.Project == "" {
		o.Project = "terraform-provider-foobar"
	}
	if o.Version == "" {
		o.Version = "1.0.0"
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []string{"linux_amd64", "darwin_arm64", "windows_amd64"}
	}
	if len(o.Protocols) == 0 {
		o.Protocols = []string{"6.0"}
	}
	if o.Signer == nil {
		o.Signer = SigningKey(t)
	}
	root := t.TempDir()
	d := &Dist{
		Dir:          filepath.Join(root, "dist"),
		Project:      o.Project,
		Version:      o.Version,
		ManifestPath: filepath.Join(root, "terraform-registry-manifest.json"),
		Zips:         map[string]string{},
	}
	prefix := o.Project + "_" + o.Version + "_"
	d.SumsName = prefix + "SHA256SUMS"
	d.SigName = d.SumsName + ".sig"
	d.ManifestName = prefix + "manifest.json"
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		t.Fatal(err)
	}

	manifest, err := json.Marshal(map[string]any{
		"version":  1,
		"metadata": map[string]any{"protocol_versions": o.Protocols},
	})
	if err != nil {
		t.Fatal(err)
	}
	write(t, d.ManifestPath, manifest)

	type artifact struct {
		Name   string `json:"name"`
		Path   string `json:"path"`
		Goos   string `json:"goos,omitempty"`
		Goarch string `json:"goarch,omitempty"`
		Type   string `json:"type"`
	}
	arts := []artifact{{Name: "metadata.json", Path: "dist/metadata.json", Type: "Metadata"}}
	sums := map[string]string{d.ManifestName: hexSHA256(manifest)}
	for _, p := range o.Platforms {
		goos, goarch, _ := strings.Cut(p, "_")
		binary := o.Project + "_v" + o.Version
		if goos == "windows" {
			binary += ".exe"
		}
		name := prefix + p + ".zip"
		data := Zip(t, map[string]string{binary: fmt.Sprintf("fake provider %s %s %s\n", o.Version, p, o.Seed)})
		write(t, filepath.Join(d.Dir, name), data)
		sums[name] = hexSHA256(data)
		d.Zips[p] = name
		arts = append(arts, artifact{Name: name, Path: "dist/" + name, Goos: goos, Goarch: goarch, Type: "Archive"})
	}
	sumsData := FormatSHA256SUMS(sums)
	write(t, filepath.Join(d.Dir, d.SumsName), sumsData)
	write(t, filepath.Join(d.Dir, d.SigName), DetachSign(t, o.Signer, sumsData))
	arts = append(arts,
		artifact{Name: d.SumsName, Path: "dist/" + d.SumsName, Type: "Checksum"},
		artifact{Name: d.SigName, Path: "dist/" + d.SigName, Type: "Signature"})

	md, _ := json.Marshal(map[string]string{"project_name": o.Project, "tag": "v" + o.Version, "version": o.Version, "commit": "0123abc"})
	write(t, filepath.Join(d.Dir, "metadata.json"), md)
	artsData, _ := json.Marshal(arts)
	write(t, filepath.Join(d.Dir, "artifacts.json"), artsData)
	return d
}

// Path returns the path of a file in dist/.
func (d *Dist) Path(name string) string { return filepath.Join(d.Dir, name) }

// Resign replaces the signature with one by e over the current SHA256SUMS.
func (d *Dist) Resign(t testing.TB, e *openpgp.Entity) {
	t.Helper()
	data, err := os.ReadFile(d.Path(d.SumsName))
	if err != nil {
		t.Fatal(err)
	}
	write(t, d.Path(d.SigName), DetachSign(t, e, data))
}

// Zip builds a zip archive holding the given files.
func Zip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FormatSHA256SUMS renders name->hex digest in `sha256sum` format, sorted.
func FormatSHA256SUMS(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return []byte(b.String())
}

func hexSHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
