// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release

// Every HCP Terraform / Terraform Enterprise API call of the project is in
// this file. API reference (HCP Terraform docs, "API Docs > Private
// Registry"): registry-providers, gpg-keys, provider versions and platforms.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

const (
	jsonAPIMediaType = "application/vnd.api+json"
	// DefaultTFEHostname is HCP Terraform.
	DefaultTFEHostname = "app.terraform.io"
	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 64 << 10
)

// TFEClient talks to the private registry API of one HCP Terraform or
// Terraform Enterprise host.
type TFEClient struct {
	base  *url.URL
	token string
	http  *http.Client
	// Logf, when set, receives one line per step taken.
	Logf func(format string, args ...any)
}

// NewTFEClient returns a client for address: a hostname such as
// app.terraform.io or tfe.example.com (HTTPS), or a full URL. Plain http is
// accepted only for loopback hosts (tests), so the token never crosses a
// network in clear text. The upload and download links the API returns must
// be https too (see checkLink). hc may be nil.
func NewTFEClient(address, token string, hc *http.Client) (*TFEClient, error) {
	if token == "" {
		return nil, errors.New("tfe: API token is empty (set TFE_TOKEN)")
	}
	if address == "" {
		address = DefaultTFEHostname
	}
	if !strings.Contains(address, "://") {
		address = "https://" + address
	}
	u, err := url.Parse(address)
	if err != nil {
		return nil, fmt.Errorf("tfe: address %q: %w", address, err)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("tfe: address %q: want a hostname or https://host", address)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
			return nil, fmt.Errorf("tfe: refusing plain http to %s: the API token would travel unencrypted", u.Host)
		}
	default:
		return nil, fmt.Errorf("tfe: address %q: scheme must be https", address)
	}
	u.Path = "/"
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Minute}
	}
	return &TFEClient{base: u, token: token, http: hc}, nil
}

// TFEOptions names the provider in the private registry.
type TFEOptions struct {
	Organization string
	// Namespace of a private provider is the organisation name; empty means
	// Organization.
	Namespace string
	// Name is the provider type, for example "foobar".
	Name string
}

// TFEResult reports what Publish changed; a second run of the same release
// creates and uploads nothing.
type TFEResult struct {
	KeyID            string
	ProviderCreated  bool
	KeyCreated       bool
	VersionCreated   bool
	PlatformsCreated []string
	Uploaded         []string
}

// APIError is a non-2xx answer of the API, with its JSON:API error objects.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Status     string
	Errors     []APIErrorObject
}

// APIErrorObject is one JSON:API error object.
type APIErrorObject struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func (e *APIError) Error() string {
	var details []string
	for _, o := range e.Errors {
		switch {
		case o.Title != "" && o.Detail != "":
			details = append(details, o.Title+": "+o.Detail)
		case o.Detail != "":
			details = append(details, o.Detail)
		case o.Title != "":
			details = append(details, o.Title)
		}
	}
	msg := fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.Status)
	if len(details) > 0 {
		msg += ": " + strings.Join(details, "; ")
	}
	return msg
}

// mayAlreadyExist is how the API answers a create for something that is
// already there (422 "has already been taken", or 409). Callers confirm by
// reading the resource; a 4xx that is not about existence then still fails.
func mayAlreadyExist(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusConflict || ae.StatusCode == http.StatusUnprocessableEntity)
}

func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

type jsonAPIDocument[T any] struct {
	Data jsonAPIResource[T] `json:"data"`
}

type jsonAPIResource[T any] struct {
	ID         string             `json:"id,omitempty"`
	Type       string             `json:"type"`
	Attributes T                  `json:"attributes"`
	Links      map[string]*string `json:"links,omitempty"`
}

func (r jsonAPIResource[T]) link(name string) string {
	if p := r.Links[name]; p != nil {
		return *p
	}
	return ""
}

type providerAttributes struct {
	Name         string `json:"name"`
	Namespace    string `json:"namespace"`
	RegistryName string `json:"registry-name"`
}

type gpgKeyAttributes struct {
	Namespace  string `json:"namespace"`
	ASCIIArmor string `json:"ascii-armor"`
	KeyID      string `json:"key-id,omitempty"`
}

type versionAttributes struct {
	Version            string   `json:"version"`
	KeyID              string   `json:"key-id"`
	Protocols          []string `json:"protocols"`
	ShasumsUploaded    bool     `json:"shasums-uploaded,omitempty"`
	ShasumsSigUploaded bool     `json:"shasums-sig-uploaded,omitempty"`
}

type platformAttributes struct {
	OS                     string `json:"os"`
	Arch                   string `json:"arch"`
	Shasum                 string `json:"shasum"`
	Filename               string `json:"filename"`
	ProviderBinaryUploaded bool   `json:"provider-binary-uploaded,omitempty"`
}

// Publish makes the verified release available in the organisation's
// private registry: provider, signing key, version with SHA256SUMS and its
// signature, then each platform with its zip. It is idempotent: what exists
// is reused and only missing uploads are made, so a run that failed half-way
// can simply be repeated. A version or platform that exists with different
// contents (SHA256SUMS, shasum, key, protocols) is refused, never changed.
func (c *TFEClient) Publish(ctx context.Context, rel *Release, key *PublicKey, opts TFEOptions) (*TFEResult, error) {
	if rel == nil || key == nil {
		return nil, errors.New("tfe: a verified release and its public key are required")
	}
	if rel.SignerKeyID != key.KeyID {
		return nil, fmt.Errorf("tfe: release was verified with key %q, not %s", rel.SignerKeyID, key.KeyID)
	}
	if opts.Namespace == "" {
		opts.Namespace = opts.Organization
	}
	if opts.Organization == "" || opts.Name == "" {
		return nil, errors.New("tfe: organization and provider name are required")
	}
	if rel.ProjectName != "terraform-provider-"+opts.Name {
		return nil, fmt.Errorf("tfe: release is %s, not terraform-provider-%s", rel.ProjectName, opts.Name)
	}
	res := &TFEResult{}
	var err error
	if res.ProviderCreated, err = c.ensureProvider(ctx, opts); err != nil {
		return res, err
	}
	if res.KeyID, res.KeyCreated, err = c.ensureGPGKey(ctx, opts.Namespace, key); err != nil {
		return res, err
	}
	if err := c.ensureVersion(ctx, opts, rel, res); err != nil {
		return res, err
	}
	for _, p := range rel.Packages {
		if err := c.ensurePlatform(ctx, opts, rel, p, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (c *TFEClient) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

func (c *TFEClient) providerPath(o TFEOptions) []string {
	return []string{"api", "v2", "organizations", o.Organization, "registry-providers", "private", o.Namespace, o.Name}
}

func (c *TFEClient) versionPath(o TFEOptions, version string) []string {
	return append(c.providerPath(o), "versions", version)
}

// ensureProvider: POST /api/v2/organizations/:org/registry-providers.
func (c *TFEClient) ensureProvider(ctx context.Context, o TFEOptions) (bool, error) {
	body := jsonAPIDocument[providerAttributes]{Data: jsonAPIResource[providerAttributes]{
		Type:       "registry-providers",
		Attributes: providerAttributes{Name: o.Name, Namespace: o.Namespace, RegistryName: "private"},
	}}
	err := c.api(ctx, http.MethodPost, c.apiURL("api", "v2", "organizations", o.Organization, "registry-providers"), body, nil)
	if err == nil {
		c.logf("created private provider %s/%s", o.Namespace, o.Name)
		return true, nil
	}
	if !mayAlreadyExist(err) {
		return false, fmt.Errorf("create provider %s/%s: %w", o.Namespace, o.Name, err)
	}
	// GET .../registry-providers/private/:namespace/:name
	if getErr := c.api(ctx, http.MethodGet, c.apiURL(c.providerPath(o)...), nil, nil); getErr != nil {
		return false, fmt.Errorf("create provider %s/%s: %w (and reading it back failed: %w)", o.Namespace, o.Name, err, getErr)
	}
	c.logf("private provider %s/%s already exists", o.Namespace, o.Name)
	return false, nil
}

// ensureGPGKey: GET, else POST /api/registry/private/v2/gpg-keys. Looked up
// first because adding the same key twice may not be refused by the API.
func (c *TFEClient) ensureGPGKey(ctx context.Context, namespace string, key *PublicKey) (string, bool, error) {
	var got jsonAPIDocument[gpgKeyAttributes]
	err := c.api(ctx, http.MethodGet, c.apiURL("api", "registry", "private", "v2", "gpg-keys", namespace, key.KeyID), nil, &got)
	switch {
	case err == nil:
		c.logf("GPG key %s already in namespace %s", key.KeyID, namespace)
		return nonEmpty(got.Data.Attributes.KeyID, key.KeyID), false, nil
	case !isNotFound(err):
		return "", false, fmt.Errorf("look up GPG key %s: %w", key.KeyID, err)
	}
	body := jsonAPIDocument[gpgKeyAttributes]{Data: jsonAPIResource[gpgKeyAttributes]{
		Type:       "gpg-keys",
		Attributes: gpgKeyAttributes{Namespace: namespace, ASCIIArmor: key.Armor},
	}}
	var created jsonAPIDocument[gpgKeyAttributes]
	if err := c.api(ctx, http.MethodPost, c.apiURL("api", "registry", "private", "v2", "gpg-keys"), body, &created); err != nil {
		return "", false, fmt.Errorf("add GPG key %s: %w", key.KeyID, err)
	}
	id := nonEmpty(created.Data.Attributes.KeyID, key.KeyID)
	if id != key.KeyID {
		c.logf("registry reports key ID %s for key %s; using the registry's", id, key.KeyID)
	}
	c.logf("added GPG key %s to namespace %s", id, namespace)
	return id, true, nil
}

// ensureVersion: POST .../versions, then upload SHA256SUMS and its signature
// to the returned links.
func (c *TFEClient) ensureVersion(ctx context.Context, o TFEOptions, rel *Release, res *TFEResult) error {
	body := jsonAPIDocument[versionAttributes]{Data: jsonAPIResource[versionAttributes]{
		Type:       "registry-provider-versions",
		Attributes: versionAttributes{Version: rel.Version, KeyID: res.KeyID, Protocols: rel.Protocols},
	}}
	var ver jsonAPIDocument[versionAttributes]
	err := c.api(ctx, http.MethodPost, c.apiURL(append(c.providerPath(o), "versions")...), body, &ver)
	switch {
	case err == nil:
		res.VersionCreated = true
		c.logf("created version %s", rel.Version)
	case mayAlreadyExist(err):
		if getErr := c.api(ctx, http.MethodGet, c.apiURL(c.versionPath(o, rel.Version)...), nil, &ver); getErr != nil {
			return fmt.Errorf("create version %s: %w (and reading it back failed: %w)", rel.Version, err, getErr)
		}
		a := ver.Data.Attributes
		if !strings.EqualFold(a.KeyID, res.KeyID) {
			return fmt.Errorf("version %s already exists in the registry signed with key %s, this release is signed with %s: refusing to change a published version", rel.Version, a.KeyID, res.KeyID)
		}
		if !sameSet(a.Protocols, rel.Protocols) {
			return fmt.Errorf("version %s already exists in the registry with protocols %q, this release has %q: refusing to change a published version", rel.Version, a.Protocols, rel.Protocols)
		}
		c.logf("version %s already exists", rel.Version)
	default:
		return fmt.Errorf("create version %s: %w", rel.Version, err)
	}

	a := ver.Data.Attributes
	if a.ShasumsUploaded {
		if link := ver.Data.link("shasums-download"); link != "" {
			published, err := c.download(ctx, link)
			if err != nil {
				return fmt.Errorf("download published %s: %w", rel.SumsName, err)
			}
			if !bytes.Equal(published, rel.Sums) {
				return fmt.Errorf("version %s already exists in the registry with a different %s: refusing to change a published version (publish a new version)", rel.Version, rel.SumsName)
			}
		} else {
			c.logf("warning: registry gave no shasums-download link; cannot compare the published %s", rel.SumsName)
		}
	} else if err := c.upload(ctx, ver.Data.link("shasums-upload"), rel.SumsName, rel.Sums, res); err != nil {
		return err
	}
	if !a.ShasumsSigUploaded {
		if err := c.upload(ctx, ver.Data.link("shasums-sig-upload"), rel.SigName, rel.Sig, res); err != nil {
			return err
		}
	}
	return nil
}

// ensurePlatform: POST .../versions/:version/platforms, then upload the zip
// to its provider-binary-upload link.
func (c *TFEClient) ensurePlatform(ctx context.Context, o TFEOptions, rel *Release, p Package, res *TFEResult) error {
	body := jsonAPIDocument[platformAttributes]{Data: jsonAPIResource[platformAttributes]{
		Type:       "registry-provider-platforms",
		Attributes: platformAttributes{OS: p.OS, Arch: p.Arch, Shasum: p.SHA256, Filename: p.Filename},
	}}
	var plat jsonAPIDocument[platformAttributes]
	platforms := append(c.versionPath(o, rel.Version), "platforms")
	err := c.api(ctx, http.MethodPost, c.apiURL(platforms...), body, &plat)
	switch {
	case err == nil:
		res.PlatformsCreated = append(res.PlatformsCreated, p.String())
		c.logf("created platform %s", p.Platform)
	case mayAlreadyExist(err):
		if getErr := c.api(ctx, http.MethodGet, c.apiURL(append(platforms, p.OS, p.Arch)...), nil, &plat); getErr != nil {
			return fmt.Errorf("create platform %s: %w (and reading it back failed: %w)", p.Platform, err, getErr)
		}
		if a := plat.Data.Attributes; a.Shasum != p.SHA256 || a.Filename != p.Filename {
			return fmt.Errorf("platform %s of version %s already exists in the registry as %s (shasum %s), this release has %s (shasum %s): refusing to change a published version",
				p.Platform, rel.Version, a.Filename, a.Shasum, p.Filename, p.SHA256)
		}
		c.logf("platform %s already exists", p.Platform)
	default:
		return fmt.Errorf("create platform %s: %w", p.Platform, err)
	}
	if plat.Data.Attributes.ProviderBinaryUploaded {
		return nil
	}
	data, err := os.ReadFile(p.Path)
	if err != nil {
		return fmt.Errorf("read %s: %w", p.Path, err)
	}
	if got := sha256Hex(data); got != p.SHA256 {
		return fmt.Errorf("%s changed since it was verified: SHA-256 is now %s, want %s", p.Path, got, p.SHA256)
	}
	return c.upload(ctx, plat.Data.link("provider-binary-upload"), p.Filename, data, res)
}

func (c *TFEClient) apiURL(segments ...string) *url.URL {
	return c.base.JoinPath(segments...)
}

// api sends one JSON:API request with the token and decodes the answer.
func (c *TFEClient) api(ctx context.Context, method string, u *url.URL, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", jsonAPIMediaType)
	if in != nil {
		req.Header.Set("Content-Type", jsonAPIMediaType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &APIError{Method: method, Path: u.Path, StatusCode: resp.StatusCode, Status: resp.Status}
		var doc struct {
			Errors []APIErrorObject `json:"errors"`
		}
		if data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody)); err == nil && json.Unmarshal(data, &doc) == nil {
			ae.Errors = doc.Errors
		}
		return ae
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, u.Path, err)
	}
	return nil
}

// upload PUTs a file to a pre-signed upload link. The API token is never
// sent there: the link itself authorises the upload.
func (c *TFEClient) upload(ctx context.Context, link, name string, data []byte, res *TFEResult) error {
	if link == "" {
		return fmt.Errorf("upload %s: the registry returned no upload link", name)
	}
	u, err := c.base.Parse(link)
	if err != nil {
		return fmt.Errorf("upload %s: bad link: %w", name, err)
	}
	if err := c.checkLink(u); err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("upload %s: %s", name, resp.Status)
	}
	res.Uploaded = append(res.Uploaded, name)
	c.logf("uploaded %s (%d bytes)", name, len(data))
	return nil
}

// download GETs a pre-signed download link (no token, as for uploads).
func (c *TFEClient) download(ctx context.Context, link string) ([]byte, error) {
	u, err := c.base.Parse(link)
	if err != nil {
		return nil, err
	}
	if err := c.checkLink(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// checkLink refuses a pre-signed link that is not https: SHA256SUMS, its
// signature and the zips would cross the network in clear text, and the
// published SHA256SUMS read back for comparison could be swapped on the way.
// The one exception is a link to the API's own origin when that is plain
// http, which NewTFEClient only allows on loopback (tests).
func (c *TFEClient) checkLink(u *url.URL) error {
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == c.base.Scheme && u.Host == c.base.Host:
		return nil // plain http only if the API itself is on loopback http
	default:
		// Without the query: it holds the pre-signed authorisation.
		shown := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
		return fmt.Errorf("the registry returned the link %s, which is not https: refusing to transfer release files in clear text", shown.String())
	}
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
