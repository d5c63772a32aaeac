// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/release"
	"github.com/foobar/terraform-provider-foobar/internal/release/releasetest"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/golden"
)

// tree returns every file under root with its SHA-256.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = sha256Hex(readFile(t, path))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func publish(t *testing.T, d *releasetest.Dist, opts release.StaticOptions) (*release.StaticResult, error) {
	t.Helper()
	rel := verify(t, d)
	if opts.Namespace == "" {
		opts.Namespace = "foobar"
	}
	if opts.Type == "" {
		opts.Type = "foobar"
	}
	return release.PublishStatic(rel, publicKey(t), opts)
}

func mustPublish(t *testing.T, d *releasetest.Dist, opts release.StaticOptions) *release.StaticResult {
	t.Helper()
	res, err := publish(t, d, opts)
	if err != nil {
		t.Fatalf("PublishStatic: %v", err)
	}
	return res
}

// withoutKey replaces the per-run test key in a document with placeholders,
// so golden files stay stable.
func withoutKey(t *testing.T, data []byte) []byte {
	t.Helper()
	key := publicKey(t)
	armor, _ := json.Marshal(key.Armor)
	data = bytes.ReplaceAll(data, armor[1:len(armor)-1], []byte("<ASCII ARMOR OF THE TEST KEY>"))
	return bytes.ReplaceAll(data, []byte(key.KeyID), []byte("<KEY ID>"))
}

func TestPublishStatic_layout(t *testing.T) {
	t.Parallel()
	d := releasetest.Build(t, releasetest.Options{Version: "1.0.0", Platforms: []string{"linux_amd64", "darwin_arm64"}})
	out := t.TempDir()
	res := mustPublish(t, d, release.StaticOptions{Out: out, BaseURL: "https://registry.example.com/"})
	if diff := cmp.Diff(&release.StaticResult{Version: "1.0.0", Versions: []string{"1.0.0"}}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	var got []string
	for f := range tree(t, out) {
		got = append(got, f)
	}
	want := []string{
		".well-known/terraform.json",
		"downloads/foobar/foobar/1.0.0/terraform-provider-foobar_1.0.0_SHA256SUMS",
		"downloads/foobar/foobar/1.0.0/terraform-provider-foobar_1.0.0_SHA256SUMS.sig",
		"downloads/foobar/foobar/1.0.0/terraform-provider-foobar_1.0.0_darwin_arm64.zip",
		"downloads/foobar/foobar/1.0.0/terraform-provider-foobar_1.0.0_linux_amd64.zip",
		"downloads/foobar/foobar/1.0.0/terraform-provider-foobar_1.0.0_manifest.json",
		"v1/providers/foobar/foobar/1.0.0/download/darwin/arm64",
		"v1/providers/foobar/foobar/1.0.0/download/linux/amd64",
		"v1/providers/foobar/foobar/versions",
	}
	if diff := cmp.Diff(want, got, cmpSortStrings); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	// Release files are published byte for byte.
	for name, src := range map[string]string{
		d.SumsName:             d.Path(d.SumsName),
		d.SigName:              d.Path(d.SigName),
		d.Zips["linux_amd64"]:  d.Path(d.Zips["linux_amd64"]),
		d.Zips["darwin_arm64"]: d.Path(d.Zips["darwin_arm64"]),
		d.ManifestName:         d.ManifestPath,
	} {
		if !bytes.Equal(readFile(t, src), readFile(t, filepath.Join(out, "downloads/foobar/foobar/1.0.0", name))) {
			t.Errorf("%s differs from the release file", name)
		}
	}
	golden.Assert(t, filepath.Join("testdata", "static/discovery.json"), readFile(t, filepath.Join(out, ".well-known/terraform.json")))
	golden.Assert(t, filepath.Join("testdata", "static/versions.json"), readFile(t, filepath.Join(out, "v1/providers/foobar/foobar/versions")))
	golden.Assert(t, filepath.Join("testdata", "static/download-linux-amd64.json"), withoutKey(t, readFile(t, filepath.Join(out, "v1/providers/foobar/foobar/1.0.0/download/linux/amd64"))))
}

var cmpSortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestPublishStatic_installLikeTerraform serves the tree over HTTP and walks
// the registry protocol the way Terraform's provider installer does
// (internal/getproviders: discovery, versions, download document, then the
// zip, SHA256SUMS and signature, with URLs resolved against the document),
// for relative URLs, an absolute base URL, and a base URL with a path prefix.
func TestPublishStatic_installLikeTerraform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix string // where the tree is mounted under the host
		base   func(srv string) string
	}{
		{name: "relative URLs", base: func(string) string { return "" }},
		{name: "absolute base URL", base: func(srv string) string { return srv }},
		{name: "base URL with a path prefix", prefix: "/registry", base: func(srv string) string { return srv + "/registry" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			mux := http.NewServeMux()
			files := http.FileServer(http.Dir(out))
			// Like the nginx snippet: discovery at the host root, the rest under the prefix.
			mux.Handle("/.well-known/", files)
			mux.Handle(tt.prefix+"/", http.StripPrefix(tt.prefix, files))
			srv := httptest.NewTLSServer(mux) // base URLs must be https
			t.Cleanup(srv.Close)

			d1 := releasetest.Build(t, releasetest.Options{Version: "1.0.0"})
			d2 := releasetest.Build(t, releasetest.Options{Version: "1.1.0", Seed: "second"})
			for _, d := range []*releasetest.Dist{d1, d2} {
				mustPublish(t, d, release.StaticOptions{Out: out, BaseURL: tt.base(srv.URL)})
			}

			installed := installAll(t, srv.Client(), srv.URL, "foobar", "foobar")
			want := map[string]string{}
			for _, d := range []*releasetest.Dist{d1, d2} {
				for p, zip := range d.Zips {
					want[d.Version+" "+p] = sha256Hex(readFile(t, d.Path(zip)))
				}
			}
			if diff := cmp.Diff(want, installed); diff != "" {
				t.Errorf("installed packages (-want +got):\n%s", diff)
			}
		})
	}
}

// installAll fetches and authenticates every package of every version, as
// Terraform would, and returns "version os_arch" -> SHA-256 of the zip.
func installAll(t *testing.T, client *http.Client, host, ns, typ string) map[string]string {
	t.Helper()
	get := func(u *url.URL) ([]byte, *url.URL, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", u, resp.Status)
		}
		return body, resp.Request.URL, resp.Header.Get("Content-Type")
	}
	hostURL, _ := url.Parse(host)

	disco, discoURL, contentType := get(hostURL.JoinPath(".well-known/terraform.json"))
	// terraform-svchost refuses a discovery document of any other type.
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		t.Fatalf("discovery document served as %q, Terraform requires application/json", contentType)
	}
	var services map[string]string
	if err := json.Unmarshal(disco, &services); err != nil {
		t.Fatal(err)
	}
	base := resolve(t, discoURL, services["providers.v1"])

	versionsBody, _, _ := get(resolve(t, base, ns+"/"+typ+"/versions"))
	var index struct {
		Versions []struct {
			Version   string             `json:"version"`
			Protocols []string           `json:"protocols"`
			Platforms []release.Platform `json:"platforms"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(versionsBody, &index); err != nil {
		t.Fatal(err)
	}
	installed := map[string]string{}
	for _, v := range index.Versions {
		for _, p := range v.Platforms {
			docBody, docURL, _ := get(resolve(t, base, ns+"/"+typ+"/"+v.Version+"/download/"+p.OS+"/"+p.Arch))
			var doc struct {
				Protocols           []string `json:"protocols"`
				OS, Arch, Filename  string
				DownloadURL         string `json:"download_url"`
				ShasumsURL          string `json:"shasums_url"`
				ShasumsSignatureURL string `json:"shasums_signature_url"`
				Shasum              string `json:"shasum"`
				SigningKeys         struct {
					GPGPublicKeys []struct {
						ASCIIArmor string `json:"ascii_armor"`
					} `json:"gpg_public_keys"`
				} `json:"signing_keys"`
			}
			if err := json.Unmarshal(docBody, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.OS != p.OS || doc.Arch != p.Arch || len(doc.Protocols) == 0 {
				t.Fatalf("%s: document for %s/%s says %s/%s, protocols %v", docURL, p.OS, p.Arch, doc.OS, doc.Arch, doc.Protocols)
			}
			zip, _, _ := get(resolve(t, docURL, doc.DownloadURL))
			sums, _, _ := get(resolve(t, docURL, doc.ShasumsURL))
			sig, _, _ := get(resolve(t, docURL, doc.ShasumsSignatureURL))
			sum := sha256.Sum256(zip)
			if got := hex.EncodeToString(sum[:]); got != doc.Shasum {
				t.Fatalf("%s: zip SHA-256 %s, document says %s", doc.Filename, got, doc.Shasum)
			}
			if !bytes.Contains(sums, []byte(doc.Shasum+"  "+doc.Filename+"\n")) {
				t.Fatalf("SHA256SUMS does not list %s with %s:\n%s", doc.Filename, doc.Shasum, sums)
			}
			if len(doc.SigningKeys.GPGPublicKeys) != 1 {
				t.Fatalf("want 1 signing key, got %d", len(doc.SigningKeys.GPGPublicKeys))
			}
			keyring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(doc.SigningKeys.GPGPublicKeys[0].ASCIIArmor))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := openpgp.CheckDetachedSignature(keyring, bytes.NewReader(sums), bytes.NewReader(sig), nil); err != nil {
				t.Fatalf("signature of SHA256SUMS does not verify: %v", err)
			}
			installed[v.Version+" "+p.String()] = doc.Shasum
		}
	}
	return installed
}

func resolve(t *testing.T, base *url.URL, ref string) *url.URL {
	t.Helper()
	u, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return base.ResolveReference(u)
}

func TestPublishStatic_mergeKeepsEarlierVersions(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	mustPublish(t, releasetest.Build(t, releasetest.Options{Version: "1.0.0"}), release.StaticOptions{Out: out})
	before := tree(t, out)

	res := mustPublish(t, releasetest.Build(t, releasetest.Options{Version: "1.1.0", Seed: "b", Platforms: []string{"linux_amd64"}}), release.StaticOptions{Out: out})
	if diff := cmp.Diff([]string{"1.0.0", "1.1.0"}, res.Versions); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	after := tree(t, out)
	for f, sum := range before {
		if strings.Contains(f, "/1.0.0/") && after[f] != sum {
			t.Errorf("%s of version 1.0.0 changed when 1.1.0 was published", f)
		}
	}
	golden.Assert(t, filepath.Join("testdata", "static/versions-merged.json"), readFile(t, filepath.Join(out, "v1/providers/foobar/foobar/versions")))
}

func TestPublishStatic_versionsSortedBySemver(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	var res *release.StaticResult
	for _, v := range []string{"1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.0", "1.2.0-beta"} {
		res = mustPublish(t, releasetest.Build(t, releasetest.Options{Version: v, Platforms: []string{"linux_amd64"}}), release.StaticOptions{Out: out})
	}
	if diff := cmp.Diff([]string{"0.9.0", "1.2.0-beta", "1.2.0-rc.1", "1.2.0", "1.10.0"}, res.Versions); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

func TestPublishStatic_republish(t *testing.T) {
	t.Parallel()
	t.Run("same files: nothing published changes", func(t *testing.T) {
		t.Parallel()
		out := t.TempDir()
		d := releasetest.Build(t, releasetest.Options{})
		mustPublish(t, d, release.StaticOptions{Out: out})
		before := tree(t, out)
		// A new signature over the same SHA256SUMS (gpg signatures carry a
		// timestamp) is still the same release.
		d.Resign(t, releasetest.SigningKey(t))
		res := mustPublish(t, d, release.StaticOptions{Out: out})
		if !res.Unchanged || res.Replaced {
			t.Errorf("result = %+v, want Unchanged", res)
		}
		if diff := cmp.Diff(before, tree(t, out)); diff != "" {
			t.Errorf("tree changed (-before +after):\n%s", diff)
		}
	})
	t.Run("different files: refused, tree untouched", func(t *testing.T) {
		t.Parallel()
		out := t.TempDir()
		mustPublish(t, releasetest.Build(t, releasetest.Options{}), release.StaticOptions{Out: out})
		before := tree(t, out)
		_, err := publish(t, releasetest.Build(t, releasetest.Options{Seed: "rebuilt"}), release.StaticOptions{Out: out})
		if err == nil || !strings.Contains(err.Error(), "version 1.0.0 of foobar/foobar is already published and its SHA256SUMS differs") {
			t.Fatalf("err = %v, want a refusal", err)
		}
		if diff := cmp.Diff(before, tree(t, out)); diff != "" {
			t.Errorf("tree changed (-before +after):\n%s", diff)
		}
	})
	t.Run("different files with force: replaced, stale platforms gone", func(t *testing.T) {
		t.Parallel()
		out := t.TempDir()
		mustPublish(t, releasetest.Build(t, releasetest.Options{}), release.StaticOptions{Out: out})
		mustPublish(t, releasetest.Build(t, releasetest.Options{Version: "0.9.0"}), release.StaticOptions{Out: out})
		keep := tree(t, out)
		d := releasetest.Build(t, releasetest.Options{Seed: "rebuilt", Platforms: []string{"linux_amd64"}})
		res := mustPublish(t, d, release.StaticOptions{Out: out, Force: true})
		if !res.Replaced {
			t.Errorf("result = %+v, want Replaced", res)
		}
		after := tree(t, out)
		if _, ok := after["v1/providers/foobar/foobar/1.0.0/download/darwin/arm64"]; ok {
			t.Error("download document of a platform the replacement lacks is still there")
		}
		if got, want := after["downloads/foobar/foobar/1.0.0/"+d.SumsName], sha256Hex(readFile(t, d.Path(d.SumsName))); got != want {
			t.Error("SHA256SUMS was not replaced")
		}
		for f, sum := range keep {
			if strings.Contains(f, "/0.9.0/") && after[f] != sum {
				t.Errorf("%s of version 0.9.0 changed", f)
			}
		}
	})
	t.Run("listed in the index but files missing: refused", func(t *testing.T) {
		t.Parallel()
		out := t.TempDir()
		d := releasetest.Build(t, releasetest.Options{})
		mustPublish(t, d, release.StaticOptions{Out: out})
		remove(t, filepath.Join(out, "downloads/foobar/foobar/1.0.0", d.SumsName))
		if _, err := publish(t, d, release.StaticOptions{Out: out}); err == nil || !strings.Contains(err.Error(), "is missing") {
			t.Fatalf("err = %v, want a refusal about the missing SHA256SUMS", err)
		}
	})
	t.Run("a published zip was changed on the server: refused", func(t *testing.T) {
		t.Parallel()
		out := t.TempDir()
		d := releasetest.Build(t, releasetest.Options{})
		mustPublish(t, d, release.StaticOptions{Out: out})
		writeFile(t, filepath.Join(out, "downloads/foobar/foobar/1.0.0", d.Zips["linux_amd64"]), []byte("corrupt"))
		if _, err := publish(t, d, release.StaticOptions{Out: out}); err == nil || !strings.Contains(err.Error(), "already published with different contents") {
			t.Fatalf("err = %v, want a refusal to overwrite the published zip", err)
		}
	})
}

func TestPublishStatic_keepsOtherDiscoveryServices(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, ".well-known"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(out, ".well-known/terraform.json"), []byte(`{"modules.v1":"/modules/v1/"}`))
	mustPublish(t, releasetest.Build(t, releasetest.Options{}), release.StaticOptions{Out: out})
	var got map[string]string
	if err := json.Unmarshal(readFile(t, filepath.Join(out, ".well-known/terraform.json")), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"modules.v1": "/modules/v1/", "providers.v1": "/v1/providers/"}, got); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}
}

func TestPublishStatic_refusesBadInput(t *testing.T) {
	t.Parallel()
	d := releasetest.Build(t, releasetest.Options{})
	rel := verify(t, d)
	other, err := release.ParsePublicKey(releasetest.ArmoredPublicKey(t, releasetest.OtherKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	brokenIndex := t.TempDir()
	if err := os.MkdirAll(filepath.Join(brokenIndex, "v1/providers/foobar/foobar"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(brokenIndex, "v1/providers/foobar/foobar/versions"), []byte("{not json"))
	httpDiscovery := t.TempDir()
	if err := os.MkdirAll(filepath.Join(httpDiscovery, ".well-known"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(httpDiscovery, ".well-known/terraform.json"), []byte(`{"modules.v1":"http://registry.example.com/modules/v1/"}`))

	tests := []struct {
		name    string
		key     *release.PublicKey
		opts    release.StaticOptions
		wantErr string
	}{
		{name: "upper-case namespace", opts: release.StaticOptions{Namespace: "FooBar"}, wantErr: `namespace "FooBar"`},
		{name: "type is not the project's", opts: release.StaticOptions{Type: "other"}, wantErr: "terraform-provider-other"},
		{name: "key other than the verified one", key: other, wantErr: "would be published"},
		{name: "base URL without scheme", opts: release.StaticOptions{BaseURL: "registry.example.com"}, wantErr: "want https://host"},
		{name: "base URL with query", opts: release.StaticOptions{BaseURL: "https://r.example.com/?x=1"}, wantErr: "without query"},
		{name: "unreadable existing index", opts: release.StaticOptions{Out: brokenIndex}, wantErr: "refusing to overwrite it"},
		{name: "http base URL", opts: release.StaticOptions{BaseURL: "http://registry.example.com"}, wantErr: `base URL "http://registry.example.com" is plain http: Terraform would fetch`},
		{name: "HTTP base URL in capitals", opts: release.StaticOptions{BaseURL: "HTTP://registry.example.com/tf"}, wantErr: "is plain http"},
		{name: "file base URL", opts: release.StaticOptions{BaseURL: "file:///srv/registry"}, wantErr: "want https://host"},
		{name: "file base URL even when http is allowed", opts: release.StaticOptions{BaseURL: "file:///srv/registry", InsecureAllowHTTP: true}, wantErr: "want https://host"},
		{
			name:    "http URL kept from an existing discovery document",
			opts:    release.StaticOptions{Out: httpDiscovery, BaseURL: "https://registry.example.com"},
			wantErr: `.well-known/terraform.json modules.v1: URL "http://registry.example.com/modules/v1/" is plain http`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if opts.Out == "" {
				opts.Out = t.TempDir()
			}
			if opts.Namespace == "" {
				opts.Namespace = "foobar"
			}
			if opts.Type == "" {
				opts.Type = "foobar"
			}
			key := tt.key
			if key == nil {
				key = publicKey(t)
			}
			_, err := release.PublishStatic(rel, key, opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// A refused publish writes nothing, and -insecure-allow-http (only) lets an
// http base URL through, into every URL of the tree.
func TestPublishStatic_plainHTTP(t *testing.T) {
	t.Parallel()
	d := releasetest.Build(t, releasetest.Options{})
	tests := []struct {
		name      string
		opts      release.StaticOptions
		wantErr   string
		wantDocs  string // prefix of every download document URL
		wantDisco string
	}{
		{name: "refused without the flag", opts: release.StaticOptions{BaseURL: "http://127.0.0.1:8080/tf"}, wantErr: "is plain http"},
		{
			name:      "accepted with the unsafe flag",
			opts:      release.StaticOptions{BaseURL: "http://127.0.0.1:8080/tf", InsecureAllowHTTP: true},
			wantDocs:  "http://127.0.0.1:8080/tf/downloads/foobar/foobar/",
			wantDisco: "http://127.0.0.1:8080/tf/v1/providers/",
		},
		{
			name:      "https needs no flag",
			opts:      release.StaticOptions{BaseURL: "https://registry.example.com/tf"},
			wantDocs:  "https://registry.example.com/tf/downloads/foobar/foobar/",
			wantDisco: "https://registry.example.com/tf/v1/providers/",
		},
		{name: "relative URLs", wantDocs: "../../../../../../../downloads/foobar/foobar/", wantDisco: "/v1/providers/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			opts := tt.opts
			opts.Out = out
			_, err := publish(t, d, opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if diff := cmp.Diff(map[string]string{}, tree(t, out)); diff != "" {
					t.Errorf("a refused publish wrote files (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var disco map[string]string
			if err := json.Unmarshal(readFile(t, filepath.Join(out, ".well-known/terraform.json")), &disco); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantDisco, disco["providers.v1"]); diff != "" {
				t.Errorf("providers.v1 (-want +got):\n%s", diff)
			}
			var doc map[string]any
			if err := json.Unmarshal(readFile(t, filepath.Join(out, "v1/providers/foobar/foobar", d.Version, "download/linux/amd64")), &doc); err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"download_url", "shasums_url", "shasums_signature_url"} {
				if u, _ := doc[field].(string); !strings.HasPrefix(u, tt.wantDocs) {
					t.Errorf("%s = %q, want prefix %q", field, u, tt.wantDocs)
				}
			}
		})
	}
}

func TestNginxSnippet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, root, base, golden, wantErr string
	}{
		{name: "host root", root: "/srv/terraform-registry/", base: "", golden: "nginx/root.conf"},
		{name: "path prefix", root: "/srv/terraform-registry", base: "https://registry.example.com/tf/", golden: "nginx/prefix.conf"},
		{name: "relative root", root: "srv/registry", wantErr: "absolute path"},
		{name: "root with a semicolon", root: "/srv/a;b", wantErr: "absolute path without"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := release.NginxSnippet(tt.root, tt.base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", tt.golden), []byte(got))
		})
	}
}
