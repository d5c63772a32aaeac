// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Layout of the static registry tree (all paths relative to its root, which
// is served as the root of the registry host):
//
//	.well-known/terraform.json                              {"providers.v1":"/v1/providers/"}
//	v1/providers/<ns>/<type>/versions                       all versions, protocols, platforms
//	v1/providers/<ns>/<type>/<version>/download/<os>/<arch> one download document per platform
//	downloads/<ns>/<type>/<version>/<release files>         zips, SHA256SUMS, .sig, manifest
//
// The protocol paths have no file extension, so they are written as files
// with exactly those names. Terraform reads them without looking at the
// Content-Type (internal/getproviders/registry_client.go decodes the body
// whatever the header says); only the discovery document must be served as
// application/json, which terraform.json gets from any default mime.types.
// NginxSnippet still sets application/json for the protocol paths.
const (
	discoveryPath   = ".well-known/terraform.json"
	providersDir    = "v1/providers"
	downloadsDir    = "downloads"
	providersV1Path = "/v1/providers/"
)

// StaticOptions says where and how to publish into a static registry tree.
type StaticOptions struct {
	// Out is the root directory of the tree; it is created if missing and
	// may already hold other versions, which are kept.
	Out string
	// Namespace and Type form the provider address <host>/<Namespace>/<Type>.
	Namespace string
	Type      string
	// BaseURL is the public URL of the tree's root, for example
	// https://registry.example.com (a path prefix is allowed). Empty means
	// download documents use relative URLs, which Terraform resolves against
	// the download document's own URL, so the tree works on any host and
	// every request stays on the HTTPS origin of the discovery document.
	// It must be https: Terraform follows whatever the documents name, so
	// an http URL would carry the versions list, the signing key,
	// SHA256SUMS, its signature and the zips in clear text.
	BaseURL string
	// InsecureAllowHTTP accepts an http:// BaseURL (and http URLs kept in an
	// existing discovery document). FOR LOCAL TESTS ONLY: anyone on the path
	// can then replace the zip, SHA256SUMS, signature and key together.
	InsecureAllowHTTP bool
	// Force replaces an already published version whose files differ.
	// Without it such a re-publish is refused.
	Force bool
}

// StaticResult reports what PublishStatic did.
type StaticResult struct {
	Version string
	// Unchanged: the version was already published with the same SHA256SUMS;
	// nothing already published was rewritten.
	Unchanged bool
	// Replaced: Force replaced a different earlier publication of the version.
	Replaced bool
	// Versions lists every version in the tree after publishing, oldest first.
	Versions []string
}

type versionsIndex struct {
	Versions []versionEntry `json:"versions"`
}

type versionEntry struct {
	Version   string     `json:"version"`
	Protocols []string   `json:"protocols"`
	Platforms []Platform `json:"platforms"`
}

type downloadDocument struct {
	Protocols           []string    `json:"protocols"`
	OS                  string      `json:"os"`
	Arch                string      `json:"arch"`
	Filename            string      `json:"filename"`
	DownloadURL         string      `json:"download_url"`
	ShasumsURL          string      `json:"shasums_url"`
	ShasumsSignatureURL string      `json:"shasums_signature_url"`
	Shasum              string      `json:"shasum"`
	SigningKeys         signingKeys `json:"signing_keys"`
}

type signingKeys struct {
	GPGPublicKeys []gpgPublicKey `json:"gpg_public_keys"`
}

type gpgPublicKey struct {
	KeyID          string  `json:"key_id"`
	ASCIIArmor     string  `json:"ascii_armor"`
	TrustSignature string  `json:"trust_signature"`
	Source         string  `json:"source"`
	SourceURL      *string `json:"source_url"`
}

// addressPartRe is what Terraform sends for a namespace or type after its
// own normalisation (lower case), so the tree must use exactly that.
var addressPartRe = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// PublishStatic adds a verified release to a static registry tree. Other
// versions already in the tree stay listed and their files are not touched.
// Re-publishing a version with the same SHA256SUMS changes nothing that was
// published; with different contents it is refused unless opts.Force.
// Files are written atomically (temp file + rename) and the versions index
// last, so Terraform never sees a version whose files are not all there.
func PublishStatic(rel *Release, key *PublicKey, opts StaticOptions) (*StaticResult, error) {
	if err := checkStaticInputs(rel, key, opts); err != nil {
		return nil, err
	}
	urls, err := newURLScheme(opts.BaseURL, opts.InsecureAllowHTTP)
	if err != nil {
		return nil, err
	}
	root := opts.Out
	// Read (and check) the discovery document before anything is written.
	discovery, err := readDiscovery(root)
	if err != nil {
		return nil, err
	}
	discovery["providers.v1"] = urls.providersV1()
	if err := checkDiscoveryURLs(discovery, opts.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	ns, typ, ver := opts.Namespace, opts.Type, rel.Version
	filesDir := path.Join(downloadsDir, ns, typ, ver)
	docsDir := path.Join(providersDir, ns, typ, ver)
	indexPath := path.Join(providersDir, ns, typ, "versions")

	index, err := readIndex(filepath.Join(root, filepath.FromSlash(indexPath)))
	if err != nil {
		return nil, err
	}
	res := &StaticResult{Version: ver}

	// Is this version already there, and with what contents?
	sumsPath := filepath.Join(root, filepath.FromSlash(path.Join(filesDir, rel.SumsName)))
	existing, err := os.ReadFile(sumsPath)
	listed := slices.ContainsFunc(index.Versions, func(e versionEntry) bool { return e.Version == ver })
	switch {
	case err == nil && bytes.Equal(existing, rel.Sums):
		res.Unchanged = true
	case err == nil || listed:
		reason := "its SHA256SUMS differs from this release's"
		if err != nil {
			reason = "it is listed in " + indexPath + " but " + path.Join(filesDir, rel.SumsName) + " is missing"
		}
		if !opts.Force {
			return nil, fmt.Errorf("version %s of %s/%s is already published and %s: refusing to change a published version (publish a new version, or use -force to replace it)", ver, ns, typ, reason)
		}
		for _, dir := range []string{filesDir, docsDir} {
			if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(dir))); err != nil {
				return nil, fmt.Errorf("replace version %s: %w", ver, err)
			}
		}
		res.Replaced = true
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", sumsPath, err)
	}

	// 1. Release files. Already published bytes are never rewritten.
	for _, p := range rel.Packages {
		data, err := os.ReadFile(p.Path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p.Path, err)
		}
		if got := sha256Hex(data); got != p.SHA256 {
			return nil, fmt.Errorf("%s changed since it was verified: SHA-256 is now %s, want %s", p.Path, got, p.SHA256)
		}
		if err := putImmutable(root, path.Join(filesDir, p.Filename), data); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{rel.ManifestName, rel.Manifest}, {rel.SumsName, rel.Sums}} {
		if err := putImmutable(root, path.Join(filesDir, f.name), f.data); err != nil {
			return nil, err
		}
	}
	// A signature over the same SHA256SUMS may differ byte for byte (it has
	// a timestamp); both are valid, so keep the published one.
	if err := putIfAbsent(root, path.Join(filesDir, rel.SigName), rel.Sig); err != nil {
		return nil, err
	}

	// 2. One download document per platform.
	keys := signingKeys{GPGPublicKeys: []gpgPublicKey{{KeyID: key.KeyID, ASCIIArmor: key.Armor}}}
	for _, p := range rel.Packages {
		docPath := path.Join(docsDir, "download", p.OS, p.Arch)
		doc := downloadDocument{
			Protocols:           rel.Protocols,
			OS:                  p.OS,
			Arch:                p.Arch,
			Filename:            p.Filename,
			DownloadURL:         urls.file(docPath, path.Join(filesDir, p.Filename)),
			ShasumsURL:          urls.file(docPath, path.Join(filesDir, rel.SumsName)),
			ShasumsSignatureURL: urls.file(docPath, path.Join(filesDir, rel.SigName)),
			Shasum:              p.SHA256,
			SigningKeys:         keys,
		}
		for field, u := range map[string]string{"download_url": doc.DownloadURL, "shasums_url": doc.ShasumsURL, "shasums_signature_url": doc.ShasumsSignatureURL} {
			if err := requireSecureURL(docPath+" "+field, u, opts.InsecureAllowHTTP); err != nil {
				return nil, err
			}
		}
		if err := putJSON(root, docPath, doc); err != nil {
			return nil, err
		}
	}

	// 3. The versions index, last.
	entry := versionEntry{Version: ver, Protocols: rel.Protocols}
	for _, p := range rel.Packages {
		entry.Platforms = append(entry.Platforms, p.Platform)
	}
	index.Versions = slices.DeleteFunc(index.Versions, func(e versionEntry) bool { return e.Version == ver })
	index.Versions = append(index.Versions, entry)
	slices.SortFunc(index.Versions, func(a, b versionEntry) int { return compareSemver(a.Version, b.Version) })
	if err := putJSON(root, indexPath, index); err != nil {
		return nil, err
	}
	for _, e := range index.Versions {
		res.Versions = append(res.Versions, e.Version)
	}

	// 4. Discovery, keeping any other services (modules.v1, ...) it names.
	if err := putJSON(root, discoveryPath, discovery); err != nil {
		return nil, err
	}
	return res, nil
}

func checkStaticInputs(rel *Release, key *PublicKey, opts StaticOptions) error {
	switch {
	case rel == nil:
		return errors.New("static: no verified release")
	case key == nil:
		return errors.New("static: no public key")
	case rel.SignerKeyID != key.KeyID:
		return fmt.Errorf("static: release was verified with key %q, but key %s would be published", rel.SignerKeyID, key.KeyID)
	case opts.Out == "":
		return errors.New("static: output directory is required")
	case !addressPartRe.MatchString(opts.Namespace):
		return fmt.Errorf("static: namespace %q must be lower-case letters, digits and inner hyphens", opts.Namespace)
	case !addressPartRe.MatchString(opts.Type):
		return fmt.Errorf("static: provider type %q must be lower-case letters, digits and inner hyphens", opts.Type)
	case rel.ProjectName != "terraform-provider-"+opts.Type:
		return fmt.Errorf("static: release is %s, which Terraform would not find for provider type %q (it looks for terraform-provider-%s)", rel.ProjectName, opts.Type, opts.Type)
	case len(rel.Packages) == 0:
		return errors.New("static: release has no archives")
	}
	return nil
}

// urlScheme renders the URLs that download documents and discovery contain.
type urlScheme struct {
	base *url.URL // nil: relative URLs
}

// errPlainHTTP explains why a URL in the tree must be https.
const errPlainHTTP = "is plain http: Terraform would fetch the versions list, the download documents with the signing key, " +
	"SHA256SUMS, its signature and the zips unencrypted, so anyone on the path could replace them all together " +
	"(a fresh init installs such a build as \"self-signed\" with their key); use https:// " +
	"(or no base URL: relative URLs stay on the HTTPS host of the discovery document). " +
	"-insecure-allow-http exists for local tests only"

func newURLScheme(baseURL string, allowHTTP bool) (urlScheme, error) {
	if baseURL == "" {
		return urlScheme{}, nil
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return urlScheme{}, fmt.Errorf("base URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return urlScheme{}, fmt.Errorf("base URL %q: want https://host[/prefix] without query, fragment or credentials", baseURL)
	}
	if u.Scheme == "http" && !allowHTTP {
		return urlScheme{}, fmt.Errorf("base URL %q %s", baseURL, errPlainHTTP)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return urlScheme{base: u}, nil
}

// file returns the URL of a tree file as seen from the document at docPath.
func (s urlScheme) file(docPath, target string) string {
	if s.base != nil {
		return s.base.JoinPath(target).String()
	}
	up := strings.Count(path.Dir(docPath), "/") + 1
	return (&url.URL{Path: strings.Repeat("../", up) + target}).String()
}

func (s urlScheme) providersV1() string {
	if s.base == nil {
		return providersV1Path
	}
	return s.base.JoinPath("v1", "providers").String() + "/"
}

// NginxSnippet renders the nginx location blocks that serve the tree at root
// (an absolute directory) for the given base URL (may be empty). Include it
// in the server block of the registry host; Terraform only talks to
// registries over HTTPS with a certificate it trusts.
func NginxSnippet(root, baseURL string) (string, error) {
	if !filepath.IsAbs(root) || strings.ContainsAny(root, " ;{}'\"\n") {
		return "", fmt.Errorf("nginx: root %q must be an absolute path without spaces, quotes, ';' or braces", root)
	}
	// Only the path prefix is used here; whether the scheme may be http is
	// PublishStatic's decision (the snippet is the same either way).
	s, err := newURLScheme(baseURL, true)
	if err != nil {
		return "", err
	}
	prefix := ""
	if s.base != nil {
		prefix = s.base.EscapedPath()
		if strings.ContainsAny(prefix, " ;{}'\"\\") {
			return "", fmt.Errorf("nginx: base URL path %q cannot be used in a location", prefix)
		}
	}
	root = strings.TrimRight(root, "/")
	var b strings.Builder
	fmt.Fprintf(&b, `# Terraform provider registry: static tree written by foobar-publish static.
# Include inside the HTTPS server block of the registry host.
# Terraform requires application/json only for the discovery document; the
# extension-less protocol files get it too, so curl and browsers agree.
location = /.well-known/terraform.json {
    alias %[1]s/.well-known/terraform.json;
    types { }
    default_type application/json;
}
location ^~ %[2]s/v1/providers/ {
    alias %[1]s/v1/providers/;
    types { }
    default_type application/json;
    autoindex off;
}
location ^~ %[2]s/downloads/ {
    alias %[1]s/downloads/;
    types { }
    default_type application/octet-stream;
    autoindex off;
}
`, root, prefix)
	return b.String(), nil
}

func readIndex(file string) (*versionsIndex, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return &versionsIndex{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read versions index: %w", err)
	}
	var idx versionsIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("existing versions index %s is not valid JSON (%w): refusing to overwrite it", file, err)
	}
	return &idx, nil
}

// readDiscovery returns the tree's discovery document, empty if there is
// none yet.
func readDiscovery(root string) (map[string]any, error) {
	file := filepath.Join(root, filepath.FromSlash(discoveryPath))
	doc := map[string]any{}
	if data, err := os.ReadFile(file); err == nil {
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("existing %s is not valid JSON (%w): refusing to overwrite it", file, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return doc, nil
}

// checkDiscoveryURLs refuses a discovery document that would send a client
// anywhere over plain http, including services kept from an earlier one.
func checkDiscoveryURLs(doc map[string]any, allowHTTP bool) error {
	for _, service := range slices.Sorted(maps.Keys(doc)) {
		if u, ok := doc[service].(string); ok {
			if err := requireSecureURL(discoveryPath+" "+service, u, allowHTTP); err != nil {
				return err
			}
		}
	}
	return nil
}

// requireSecureURL accepts a relative reference (resolved against the HTTPS
// URL of the document that holds it) or an https URL; http only when
// allowHTTP; nothing else (file:, ftp:, ...).
func requireSecureURL(what, ref string, allowHTTP bool) error {
	u, err := url.Parse(ref)
	if err != nil {
		return fmt.Errorf("%s: URL %q: %w", what, ref, err)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "" && u.Host == "":
		return nil // relative: same scheme and host as the document
	case u.Scheme == "http" && allowHTTP:
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s: URL %q %s", what, ref, errPlainHTTP)
	default:
		return fmt.Errorf("%s: URL %q: want https:// or a relative URL", what, ref)
	}
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// putJSON writes generated metadata; it may change between publishes.
func putJSON(root, rel string, v any) error {
	data, err := marshalJSON(v)
	if err != nil {
		return err
	}
	file := filepath.Join(root, filepath.FromSlash(rel))
	if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return writeAtomic(file, data)
}

// putImmutable writes a release file, or checks that the published one has
// exactly these bytes.
func putImmutable(root, rel string, data []byte) error {
	file := filepath.Join(root, filepath.FromSlash(rel))
	old, err := os.ReadFile(file)
	switch {
	case err == nil && bytes.Equal(old, data):
		return nil
	case err == nil:
		return fmt.Errorf("%s is already published with different contents (SHA-256 %s, this release has %s): refusing to overwrite a published file", file, sha256Hex(old), sha256Hex(data))
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return writeAtomic(file, data)
}

func putIfAbsent(root, rel string, data []byte) error {
	file := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(file); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return writeAtomic(file, data)
}

// writeAtomic writes next to the target and renames, so a reader (nginx)
// sees the old file or the new one, never half of one.
func writeAtomic(file string, data []byte) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // public registry tree
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// World-readable on purpose: the web server serves these files.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // public registry files
		return err
	}
	return os.Rename(tmp.Name(), file)
}
