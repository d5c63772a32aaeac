// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// DefaultProtocols are the plugin protocol versions this provider is built
// for (terraform-plugin-framework serves protocol 6).
var DefaultProtocols = []string{"6.0"}

// Platform is one os/arch pair, written "linux_amd64" like GoReleaser targets.
type Platform struct {
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

func (p Platform) String() string { return p.OS + "_" + p.Arch }

var platformPartRe = regexp.MustCompile(`^[a-z0-9]+$`)

// ParsePlatforms reads a comma-separated list such as "linux_amd64,darwin_arm64".
func ParsePlatforms(s string) ([]Platform, error) {
	var out []Platform
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		osName, arch, ok := strings.Cut(item, "_")
		if !ok || !platformPartRe.MatchString(osName) || !platformPartRe.MatchString(arch) {
			return nil, fmt.Errorf("platform %q: want os_arch, for example linux_amd64", item)
		}
		out = append(out, Platform{OS: osName, Arch: arch})
	}
	return out, nil
}

// Package is one provider archive of a release.
type Package struct {
	Platform
	// Filename is the archive's name as recorded in SHA256SUMS.
	Filename string
	// Path is where the archive is on disk.
	Path string
	// SHA256 is the lower-case hex digest recorded in SHA256SUMS (and checked).
	SHA256 string
}

// Release is one provider version whose files passed Verify. Its fields are
// what the publishers need; the bytes of the small files are held in memory so
// that what was verified is exactly what gets published.
type Release struct {
	Dir         string
	ProjectName string // terraform-provider-foobar
	Version     string // SemVer, no "v"
	Protocols   []string
	// SignerKeyID is the ID of the primary key whose signature verified.
	SignerKeyID string

	SumsName     string
	Sums         []byte
	SigName      string
	Sig          []byte
	ManifestName string
	Manifest     []byte

	// Packages are sorted by os, then arch.
	Packages []Package
}

// Problem is one reason a release is refused.
type Problem struct {
	File   string
	Reason string
}

// ValidationError lists everything wrong with a release, each problem naming
// the file it is about.
type ValidationError struct {
	Dir      string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "release in %s refused", e.Dir)
	if len(e.Problems) == 1 {
		fmt.Fprintf(&b, ": %s: %s", e.Problems[0].File, e.Problems[0].Reason)
		return b.String()
	}
	fmt.Fprintf(&b, ", %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  - %s: %s", p.File, p.Reason)
	}
	return b.String()
}

// VerifyOptions says what a correct release looks like.
type VerifyOptions struct {
	// Dist is GoReleaser's output directory.
	Dist string
	// Key is the public key that must have signed SHA256SUMS.
	Key *PublicKey
	// Protocols the build serves; the manifest must say the same.
	// Empty means DefaultProtocols.
	Protocols []string
	// ManifestPath is where to read the registry manifest when dist/ does not
	// hold a copy under its released name (GoReleaser only checksums it):
	// normally the repository's terraform-registry-manifest.json. Its hash
	// must still match the SHA256SUMS entry.
	ManifestPath string
	// Platforms, when set, must each have an archive in the release.
	Platforms []Platform
}

// goreleaserMetadata is dist/metadata.json.
type goreleaserMetadata struct {
	ProjectName string `json:"project_name"`
	Version     string `json:"version"`
}

// goreleaserArtifact is one entry of dist/artifacts.json.
type goreleaserArtifact struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
}

// verifier accumulates problems so that one run reports all of them.
type verifier struct {
	opts     VerifyOptions
	problems []Problem
}

func (v *verifier) fail(file, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: file, Reason: fmt.Sprintf(format, args...)})
}

func (v *verifier) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Dir: v.opts.Dist, Problems: v.problems}
}

// Verify checks a GoReleaser dist/ directory before anything is published:
// SHA256SUMS lists every archive and each listed archive exists with that
// hash and holds the provider binary; the detached signature over SHA256SUMS
// verifies with opts.Key; the manifest's protocol_versions equal the build's;
// the version is SemVer. It returns a *ValidationError naming every bad file.
func Verify(opts VerifyOptions) (*Release, error) {
	if opts.Key == nil {
		return nil, errors.New("verify: a public key is required")
	}
	if len(opts.Protocols) == 0 {
		opts.Protocols = DefaultProtocols
	}
	v := &verifier{opts: opts}
	rel := &Release{Dir: opts.Dist}

	project, version, ok := v.identify()
	if !ok {
		return nil, v.err()
	}
	rel.ProjectName, rel.Version = project, version
	prefix := project + "_" + version + "_"
	rel.SumsName = prefix + "SHA256SUMS"
	rel.SigName = rel.SumsName + ".sig"
	rel.ManifestName = prefix + "manifest.json"

	sums, err := os.ReadFile(filepath.Join(opts.Dist, rel.SumsName))
	if err != nil {
		v.fail(rel.SumsName, "cannot read the checksums file: %v", describeIOError(err))
		return nil, v.err()
	}
	rel.Sums = sums
	entries, lineProblems := ParseSHA256SUMS(sums)
	for _, p := range lineProblems {
		v.fail(rel.SumsName, "%s", p)
	}

	if sig, err := os.ReadFile(filepath.Join(opts.Dist, rel.SigName)); err != nil {
		v.fail(rel.SigName, "cannot read the signature: %v", describeIOError(err))
	} else {
		rel.Sig = sig
		if err := opts.Key.checkSignature(sums, sig); err != nil {
			v.fail(rel.SigName, "%v", err)
		} else {
			rel.SignerKeyID = opts.Key.KeyID
		}
	}

	listed := map[string]string{}
	for _, e := range entries {
		listed[e.Name] = e.SHA256
	}
	if _, ok := listed[rel.SigName]; ok {
		v.fail(rel.SumsName, "lists its own signature %s, so the signature cannot verify "+
			"(GoReleaser rewrote SHA256SUMS after signing: use a GoReleaser version without goreleaser#6514)", rel.SigName)
	}

	for _, name := range v.expectedArchives(prefix) {
		if _, ok := listed[name]; !ok {
			v.fail(name, "archive is not listed in %s", rel.SumsName)
		}
	}

	for _, e := range entries {
		switch {
		case e.Name == rel.ManifestName:
			rel.Manifest = v.checkManifest(rel, e.SHA256)
		case strings.HasSuffix(e.Name, ".zip"):
			if pkg, ok := v.checkArchive(rel, prefix, e); ok {
				rel.Packages = append(rel.Packages, pkg)
			}
		}
	}
	if _, ok := listed[rel.ManifestName]; !ok {
		v.fail(rel.ManifestName, "registry manifest is not listed in %s (checksum.extra_files in .goreleaser.yml)", rel.SumsName)
	}
	rel.Protocols = slices.Clone(opts.Protocols)

	sort.Slice(rel.Packages, func(i, j int) bool {
		return rel.Packages[i].String() < rel.Packages[j].String()
	})
	if len(rel.Packages) == 0 && len(entries) > 0 {
		v.fail(rel.SumsName, "lists no provider archive %s<os>_<arch>.zip", prefix)
	}
	for _, want := range opts.Platforms {
		if !slices.ContainsFunc(rel.Packages, func(p Package) bool { return p.Platform == want }) {
			v.fail(prefix+want.String()+".zip", "required platform %s is missing from the release", want)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return rel, nil
}

// identify finds the project name and version, from metadata.json when
// GoReleaser wrote one, else from the single *_SHA256SUMS file.
func (v *verifier) identify() (project, version string, ok bool) {
	dist := v.opts.Dist
	if st, err := os.Stat(dist); err != nil || !st.IsDir() {
		v.fail(dist, "not a directory (run goreleaser first)")
		return "", "", false
	}
	file := "metadata.json"
	data, err := os.ReadFile(filepath.Join(dist, file))
	switch {
	case err == nil:
		var md goreleaserMetadata
		if err := json.Unmarshal(data, &md); err != nil {
			v.fail(file, "not valid JSON: %v", err)
			return "", "", false
		}
		project, version = md.ProjectName, md.Version
	case errors.Is(err, fs.ErrNotExist):
		matches, _ := filepath.Glob(filepath.Join(dist, "*_SHA256SUMS"))
		if len(matches) != 1 {
			v.fail(dist, "want exactly one *_SHA256SUMS file when metadata.json is absent, found %d", len(matches))
			return "", "", false
		}
		file = filepath.Base(matches[0])
		rest := strings.TrimSuffix(file, "_SHA256SUMS")
		i := strings.LastIndex(rest, "_")
		if i <= 0 {
			v.fail(file, "name is not <project>_<version>_SHA256SUMS")
			return "", "", false
		}
		project, version = rest[:i], rest[i+1:]
	default:
		v.fail(file, "cannot read: %v", err)
		return "", "", false
	}
	if !strings.HasPrefix(project, "terraform-provider-") || strings.ContainsAny(project, "_/\\") {
		v.fail(file, "project name %q is not terraform-provider-<type>", project)
		return "", "", false
	}
	if !IsSemver(version) {
		v.fail(file, "version %q is not SemVer 2.0.0 (without a leading v)", version)
		return "", "", false
	}
	return project, version, true
}

// expectedArchives are the zips the build produced: those GoReleaser recorded
// in artifacts.json, and any release zip lying in dist/.
func (v *verifier) expectedArchives(prefix string) []string {
	seen := map[string]bool{}
	if data, err := os.ReadFile(filepath.Join(v.opts.Dist, "artifacts.json")); err == nil {
		var arts []goreleaserArtifact
		if err := json.Unmarshal(data, &arts); err != nil {
			v.fail("artifacts.json", "not valid JSON: %v", err)
		}
		for _, a := range arts {
			if a.Type != "Archive" {
				continue
			}
			if want := prefix + a.Goos + "_" + a.Goarch + ".zip"; a.Name != want {
				v.fail(a.Name, "archive for %s_%s should be named %s", a.Goos, a.Goarch, want)
			}
			seen[a.Name] = true
		}
	}
	zips, _ := filepath.Glob(filepath.Join(v.opts.Dist, prefix+"*.zip"))
	for _, z := range zips {
		seen[filepath.Base(z)] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (v *verifier) checkArchive(rel *Release, prefix string, e SumsEntry) (Package, bool) {
	if !strings.HasPrefix(e.Name, prefix) {
		v.fail(e.Name, "listed in %s but does not belong to %s %s", rel.SumsName, rel.ProjectName, rel.Version)
		return Package{}, false
	}
	osName, arch, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(e.Name, prefix), ".zip"), "_")
	if !ok || !platformPartRe.MatchString(osName) || !platformPartRe.MatchString(arch) {
		v.fail(e.Name, "archive name is not %s<os>_<arch>.zip", prefix)
		return Package{}, false
	}
	path := filepath.Join(rel.Dir, e.Name)
	data, err := os.ReadFile(path)
	if err != nil {
		v.fail(e.Name, "listed in %s but cannot be read: %v", rel.SumsName, describeIOError(err))
		return Package{}, false
	}
	if got := sha256Hex(data); got != e.SHA256 {
		v.fail(e.Name, "SHA-256 mismatch: file has %s, %s says %s", got, rel.SumsName, e.SHA256)
		return Package{}, false
	}
	binary := rel.ProjectName + "_v" + rel.Version
	if osName == "windows" {
		binary += ".exe"
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		v.fail(e.Name, "not a valid zip archive: %v", err)
		return Package{}, false
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, binary) {
		v.fail(e.Name, "does not contain the provider binary %s (has: %s)", binary, strings.Join(names, ", "))
		return Package{}, false
	}
	return Package{
		Platform: Platform{OS: osName, Arch: arch},
		Filename: e.Name,
		Path:     path,
		SHA256:   e.SHA256,
	}, true
}

// registryManifest is terraform-registry-manifest.json.
type registryManifest struct {
	Version  int `json:"version"`
	Metadata struct {
		ProtocolVersions []string `json:"protocol_versions"`
	} `json:"metadata"`
}

func (v *verifier) checkManifest(rel *Release, want string) []byte {
	name := rel.ManifestName
	data, err := os.ReadFile(filepath.Join(rel.Dir, name))
	if errors.Is(err, fs.ErrNotExist) && v.opts.ManifestPath != "" {
		name = v.opts.ManifestPath
		data, err = os.ReadFile(name)
	}
	if err != nil {
		v.fail(name, "registry manifest listed in %s cannot be read: %v", rel.SumsName, describeIOError(err))
		return nil
	}
	if got := sha256Hex(data); got != want {
		v.fail(name, "SHA-256 mismatch: file has %s, %s says %s for %s", got, rel.SumsName, want, rel.ManifestName)
		return nil
	}
	var m registryManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		v.fail(name, "registry manifest is not valid: %v", err)
		return nil
	}
	if m.Version != 1 {
		v.fail(name, "registry manifest version is %d, want 1", m.Version)
		return nil
	}
	got := slices.Clone(m.Metadata.ProtocolVersions)
	wantProtocols := slices.Clone(v.opts.Protocols)
	slices.Sort(got)
	slices.Sort(wantProtocols)
	if !slices.Equal(got, wantProtocols) {
		v.fail(name, "protocol_versions %q do not match the build's protocols %q", m.Metadata.ProtocolVersions, v.opts.Protocols)
		return nil
	}
	return data
}

// SumsEntry is one line of a SHA256SUMS file.
type SumsEntry struct {
	SHA256 string
	Name   string
}

var sumsLineRe = regexp.MustCompile(`^([0-9a-f]{64}) [ *](.+)$`)

// ParseSHA256SUMS reads the `sha256sum` format ("<hex>  <name>", or " *<name>"
// for binary mode). It returns the valid entries and one message per bad
// line: a malformed line, a name with a path in it, or a duplicate name.
func ParseSHA256SUMS(data []byte) ([]SumsEntry, []string) {
	var entries []SumsEntry
	var problems []string
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		m := sumsLineRe.FindStringSubmatch(line)
		if m == nil {
			problems = append(problems, fmt.Sprintf("line %d is not \"<sha256 hex>  <file name>\": %q", i+1, line))
			continue
		}
		name := m[2]
		if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			problems = append(problems, fmt.Sprintf("line %d: file name %q must not contain a path", i+1, name))
			continue
		}
		if seen[name] {
			problems = append(problems, fmt.Sprintf("line %d: %s is listed twice", i+1, name))
			continue
		}
		seen[name] = true
		entries = append(entries, SumsEntry{SHA256: m[1], Name: name})
	}
	return entries, problems
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// describeIOError drops the path from *fs.PathError (the caller names the
// file already) and keeps the reason.
func describeIOError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, fs.ErrNotExist) {
			return errors.New("file does not exist")
		}
		return pe.Err
	}
	return err
}
