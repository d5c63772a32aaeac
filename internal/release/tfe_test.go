// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/release"
	"github.com/foobar/terraform-provider-foobar/internal/release/releasetest"
)

const testToken = "test-token"

// fakeTFE is a FAKE of the few HCP Terraform / Terraform Enterprise
// private-registry endpoints TFEClient calls, for unit testing the client's
// own logic: request shapes, ordering, idempotency and refusals. It follows
// the documented API (status codes, JSON:API documents, pre-signed upload
// links) but proves nothing about a real server's behaviour.
type fakeTFE struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	requests  []request
	providers map[string]bool   // "ns/name"
	keys      map[string]string // "ns/KEYID" -> armor
	versions  map[string]*fakeVersion
	failPUT   string // uploads whose link contains this fail with 500
	failPOST  map[string]int
	// linkBase, when set, replaces the server's URL in upload and
	// download links (what a registry with a plain-http object store does).
	linkBase string
}

type request struct {
	Method, Path string
	// Auth is the Authorization header; uploads must not carry the token.
	Auth        string
	ContentType string
	Body        string
}

type fakeVersion struct {
	keyID      string
	protocols  []string
	sums, sig  []byte
	hasSums    bool
	hasSig     bool
	platforms  map[string]*fakePlatform
	platformsN []string
}

type fakePlatform struct {
	shasum, filename string
	binary           []byte
	uploaded         bool
}

func newFakeTFE(t *testing.T) *fakeTFE {
	f := &fakeTFE{
		t:         t,
		providers: map[string]bool{},
		keys:      map[string]string{},
		versions:  map[string]*fakeVersion{},
		failPOST:  map[string]int{},
	}
	mux := http.NewServeMux()
	const prov = "/api/v2/organizations/{org}/registry-providers"
	const provPath = prov + "/private/{ns}/{name}"
	mux.HandleFunc("POST "+prov, f.api(f.createProvider))
	mux.HandleFunc("GET "+provPath, f.api(f.getProvider))
	mux.HandleFunc("GET /api/registry/private/v2/gpg-keys/{ns}/{id}", f.api(f.getKey))
	mux.HandleFunc("POST /api/registry/private/v2/gpg-keys", f.api(f.createKey))
	mux.HandleFunc("POST "+provPath+"/versions", f.api(f.createVersion))
	mux.HandleFunc("GET "+provPath+"/versions/{version}", f.api(f.getVersion))
	mux.HandleFunc("POST "+provPath+"/versions/{version}/platforms", f.api(f.createPlatform))
	mux.HandleFunc("GET "+provPath+"/versions/{version}/platforms/{os}/{arch}", f.api(f.getPlatform))
	mux.HandleFunc("PUT /object/{kind}/{version}/{platform}", f.upload)
	mux.HandleFunc("GET /object/{kind}/{version}/{platform}", f.download)
	// HTTPS like the real API: plain-http links are then a downgrade.
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTFE) record(r *http.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	f.requests = append(f.requests, request{
		Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), Body: string(body),
	})
	return body
}

type apiHandler func(r *http.Request, body map[string]any) (int, any)

// api wraps an endpoint with the checks every API call gets: token, media
// type, and a forced failure status when a test asks for one.
func (f *fakeTFE) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		raw := f.record(r)
		w.Header().Set("Content-Type", "application/vnd.api+json")
		status, out := func() (int, any) {
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				return 401, apiErrors("401", "unauthorized", "")
			}
			if code := f.failPOST[r.URL.Path]; code != 0 && r.Method == http.MethodPost {
				return code, apiErrors(fmt.Sprint(code), "forced by test", "forced failure")
			}
			var body map[string]any
			if r.Method == http.MethodPost {
				if r.Header.Get("Content-Type") != "application/vnd.api+json" {
					return 415, apiErrors("415", "unsupported media type", r.Header.Get("Content-Type"))
				}
				if err := json.Unmarshal(raw, &body); err != nil {
					return 400, apiErrors("400", "bad json", err.Error())
				}
			}
			return h(r, body)
		}()
		w.WriteHeader(status)
		if out != nil {
			_ = json.NewEncoder(w).Encode(out)
		}
	}
}

func apiErrors(status, title, detail string) map[string]any {
	return map[string]any{"errors": []map[string]string{{"status": status, "title": title, "detail": detail}}}
}

func attrs(body map[string]any) map[string]any {
	data, _ := body["data"].(map[string]any)
	a, _ := data["attributes"].(map[string]any)
	return a
}

func str(a map[string]any, k string) string { s, _ := a[k].(string); return s }

func strs(a map[string]any, k string) []string {
	var out []string
	list, _ := a[k].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

func taken(what string) (int, any) {
	return 422, apiErrors("422", "invalid attribute", what+" has already been taken")
}

func (f *fakeTFE) createProvider(r *http.Request, body map[string]any) (int, any) {
	a := attrs(body)
	if str(a, "registry-name") != "private" || str(a, "namespace") != r.PathValue("org") {
		return 422, apiErrors("422", "invalid attribute", "bad provider attributes")
	}
	key := str(a, "namespace") + "/" + str(a, "name")
	if f.providers[key] {
		return taken("Name")
	}
	f.providers[key] = true
	return 201, map[string]any{"data": map[string]any{"id": "prov-1", "type": "registry-providers", "attributes": a}}
}

func (f *fakeTFE) getProvider(r *http.Request, _ map[string]any) (int, any) {
	if !f.providers[r.PathValue("ns")+"/"+r.PathValue("name")] {
		return 404, apiErrors("404", "not found", "")
	}
	return 200, map[string]any{"data": map[string]any{"id": "prov-1", "type": "registry-providers"}}
}

func (f *fakeTFE) keyDoc(ns, id string) map[string]any {
	return map[string]any{"data": map[string]any{"type": "gpg-keys", "id": "1", "attributes": map[string]any{
		"namespace": ns, "key-id": id, "ascii-armor": f.keys[ns+"/"+id], "source": "", "source-url": nil, "trust-signature": "",
	}}}
}

func (f *fakeTFE) getKey(r *http.Request, _ map[string]any) (int, any) {
	ns, id := r.PathValue("ns"), r.PathValue("id")
	if _, ok := f.keys[ns+"/"+id]; !ok {
		return 404, apiErrors("404", "not found", "")
	}
	return 200, f.keyDoc(ns, id)
}

func (f *fakeTFE) createKey(_ *http.Request, body map[string]any) (int, any) {
	a := attrs(body)
	key, err := release.ParsePublicKey([]byte(str(a, "ascii-armor")))
	if err != nil {
		return 422, apiErrors("422", "invalid attribute", err.Error())
	}
	f.keys[str(a, "namespace")+"/"+key.KeyID] = key.Armor
	return 201, f.keyDoc(str(a, "namespace"), key.KeyID)
}

func (f *fakeTFE) link(kind, version, platform string) *string {
	base := f.srv.URL
	if f.linkBase != "" {
		base = f.linkBase
	}
	s := base + "/object/" + kind + "/" + version + "/" + platform + "?X-Signature=s3cret-presigned"
	return &s
}

func (f *fakeTFE) versionDoc(version string) map[string]any {
	v := f.versions[version]
	links := map[string]*string{}
	if v.hasSums {
		links["shasums-download"] = f.link("sums", version, "-")
	} else {
		links["shasums-upload"] = f.link("sums", version, "-")
	}
	if v.hasSig {
		links["shasums-sig-download"] = f.link("sig", version, "-")
	} else {
		links["shasums-sig-upload"] = f.link("sig", version, "-")
	}
	return map[string]any{"data": map[string]any{"id": "provver-1", "type": "registry-provider-versions", "attributes": map[string]any{
		"version": version, "key-id": v.keyID, "protocols": v.protocols,
		"shasums-uploaded": v.hasSums, "shasums-sig-uploaded": v.hasSig,
	}, "links": links}}
}

func (f *fakeTFE) createVersion(r *http.Request, body map[string]any) (int, any) {
	if !f.providers[r.PathValue("ns")+"/"+r.PathValue("name")] {
		return 404, apiErrors("404", "not found", "")
	}
	a := attrs(body)
	version := str(a, "version")
	if _, ok := f.keys[r.PathValue("ns")+"/"+str(a, "key-id")]; !ok || version == "" || len(strs(a, "protocols")) == 0 {
		return 422, apiErrors("422", "invalid attribute", "version, key-id and protocols are required")
	}
	if _, ok := f.versions[version]; ok {
		return taken("Version")
	}
	f.versions[version] = &fakeVersion{keyID: str(a, "key-id"), protocols: strs(a, "protocols"), platforms: map[string]*fakePlatform{}}
	return 201, f.versionDoc(version)
}

func (f *fakeTFE) getVersion(r *http.Request, _ map[string]any) (int, any) {
	if _, ok := f.versions[r.PathValue("version")]; !ok {
		return 404, apiErrors("404", "not found", "")
	}
	return 200, f.versionDoc(r.PathValue("version"))
}

func (f *fakeTFE) platformDoc(version, platform string) map[string]any {
	p := f.versions[version].platforms[platform]
	links := map[string]*string{}
	if p.uploaded {
		links["provider-binary-download"] = f.link("binary", version, platform)
	} else {
		links["provider-binary-upload"] = f.link("binary", version, platform)
	}
	osName, arch, _ := strings.Cut(platform, "_")
	return map[string]any{"data": map[string]any{"id": "provpltfrm-1", "type": "registry-provider-platforms", "attributes": map[string]any{
		"os": osName, "arch": arch, "shasum": p.shasum, "filename": p.filename, "provider-binary-uploaded": p.uploaded,
	}, "links": links}}
}

func (f *fakeTFE) createPlatform(r *http.Request, body map[string]any) (int, any) {
	v, ok := f.versions[r.PathValue("version")]
	if !ok {
		return 404, apiErrors("404", "not found", "")
	}
	a := attrs(body)
	platform := str(a, "os") + "_" + str(a, "arch")
	if _, ok := v.platforms[platform]; ok {
		return taken("Platform")
	}
	if len(str(a, "shasum")) != 64 || str(a, "filename") == "" {
		return 422, apiErrors("422", "invalid attribute", "shasum and filename are required")
	}
	v.platforms[platform] = &fakePlatform{shasum: str(a, "shasum"), filename: str(a, "filename")}
	v.platformsN = append(v.platformsN, platform)
	return 201, f.platformDoc(r.PathValue("version"), platform)
}

func (f *fakeTFE) getPlatform(r *http.Request, _ map[string]any) (int, any) {
	v, ok := f.versions[r.PathValue("version")]
	platform := r.PathValue("os") + "_" + r.PathValue("arch")
	if !ok || v.platforms[platform] == nil {
		return 404, apiErrors("404", "not found", "")
	}
	return 200, f.platformDoc(r.PathValue("version"), platform)
}

// upload is the pre-signed object store (Archivist) of the fake.
func (f *fakeTFE) upload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := f.record(r)
	if f.failPUT != "" && strings.Contains(r.URL.Path, f.failPUT) {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	v := f.versions[r.PathValue("version")]
	if v == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	switch r.PathValue("kind") {
	case "sums":
		v.sums, v.hasSums = data, true
	case "sig":
		v.sig, v.hasSig = data, true
	case "binary":
		p := v.platforms[r.PathValue("platform")]
		if p == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		p.binary, p.uploaded = data, true
	}
	w.WriteHeader(http.StatusOK)
}

func (f *fakeTFE) download(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(r)
	v := f.versions[r.PathValue("version")]
	if v == nil || r.PathValue("kind") != "sums" || !v.hasSums {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	_, _ = w.Write(v.sums)
}

// calls returns "METHOD path" of every request since the last call.
func (f *fakeTFE) calls(from int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests[from:] {
		out = append(out, r.Method+" "+strings.TrimPrefix(r.Path, "/api"))
	}
	return out
}

func (f *fakeTFE) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeTFE) publish(t *testing.T, d *releasetest.Dist) (*release.TFEResult, error) {
	t.Helper()
	client, err := release.NewTFEClient(f.srv.URL, testToken, f.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return client.Publish(context.Background(), verify(t, d), publicKey(t), release.TFEOptions{Organization: "acme", Name: "foobar"})
}

const (
	provAPI = "/v2/organizations/acme/registry-providers"
	provGET = provAPI + "/private/acme/foobar"
	verAPI  = provGET + "/versions"
)

func TestTFEPublish_fresh(t *testing.T) {
	t.Parallel()
	f := newFakeTFE(t)
	d := releasetest.Build(t, releasetest.Options{Version: "1.2.0", Platforms: []string{"linux_amd64", "darwin_arm64"}})
	keyID := publicKey(t).KeyID

	res, err := f.publish(t, d)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	wantRes := &release.TFEResult{
		KeyID: keyID, ProviderCreated: true, KeyCreated: true, VersionCreated: true,
		PlatformsCreated: []string{"darwin_arm64", "linux_amd64"},
		Uploaded:         []string{d.SumsName, d.SigName, d.Zips["darwin_arm64"], d.Zips["linux_amd64"]},
	}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	obj := "PUT /object/"
	wantCalls := []string{
		"POST " + provAPI,
		"GET /registry/private/v2/gpg-keys/acme/" + keyID,
		"POST /registry/private/v2/gpg-keys",
		"POST " + verAPI,
		obj + "sums/1.2.0/-",
		obj + "sig/1.2.0/-",
		"POST " + verAPI + "/1.2.0/platforms",
		obj + "binary/1.2.0/darwin_arm64",
		"POST " + verAPI + "/1.2.0/platforms",
		obj + "binary/1.2.0/linux_amd64",
	}
	if diff := cmp.Diff(wantCalls, f.calls(0)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// What the registry now holds is the release, byte for byte.
	v := f.versions["1.2.0"]
	if diff := cmp.Diff([]string{"6.0"}, v.protocols); diff != "" || v.keyID != keyID {
		t.Errorf("version: key %s protocols %v", v.keyID, v.protocols)
	}
	if string(v.sums) != string(readFile(t, d.Path(d.SumsName))) || string(v.sig) != string(readFile(t, d.Path(d.SigName))) {
		t.Error("uploaded SHA256SUMS or signature differ from the release")
	}
	for p, zip := range d.Zips {
		fp := v.platforms[p]
		if fp == nil || fp.filename != zip || fp.shasum != sha256Hex(readFile(t, d.Path(zip))) || string(fp.binary) != string(readFile(t, d.Path(zip))) {
			t.Errorf("platform %s not stored as released: %+v", p, fp)
		}
	}

	// The token goes to the API only, never to the upload links.
	for _, r := range f.requests {
		isObject := strings.HasPrefix(r.Path, "/object/")
		if isObject && r.Auth != "" {
			t.Errorf("%s %s carried Authorization %q", r.Method, r.Path, r.Auth)
		}
		if !isObject && r.Auth != "Bearer "+testToken {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Auth)
		}
	}
	// The version is created with the key the registry knows, and protocols.
	for _, r := range f.requests {
		if r.Method == http.MethodPost && r.Path == "/api"+verAPI {
			var body map[string]any
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"data": map[string]any{"type": "registry-provider-versions", "attributes": map[string]any{
				"version": "1.2.0", "key-id": keyID, "protocols": []any{"6.0"},
			}}}
			if diff := cmp.Diff(want, body); diff != "" {
				t.Errorf("create version body (-want +got):\n%s", diff)
			}
		}
	}
}

// A second run of the same release: every create answers "already exists",
// the client confirms by reading, compares, and uploads nothing.
func TestTFEPublish_idempotent(t *testing.T) {
	t.Parallel()
	f := newFakeTFE(t)
	d := releasetest.Build(t, releasetest.Options{Platforms: []string{"linux_amd64"}})
	if _, err := f.publish(t, d); err != nil {
		t.Fatal(err)
	}
	from := f.count()
	// Re-signing gives a different .sig over the same SHA256SUMS: still the same release.
	d.Resign(t, releasetest.SigningKey(t))
	res, err := f.publish(t, d)
	if err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	if diff := cmp.Diff(&release.TFEResult{KeyID: publicKey(t).KeyID}, res); diff != "" {
		t.Errorf("second result (-want +got):\n%s", diff)
	}
	keyID := publicKey(t).KeyID
	wantCalls := []string{
		"POST " + provAPI, // 422 "Name has already been taken"
		"GET " + provGET,
		"GET /registry/private/v2/gpg-keys/acme/" + keyID, // found: no second key
		"POST " + verAPI, // 422
		"GET " + verAPI + "/1.0.0",
		"GET /object/sums/1.0.0/-",            // compare the published SHA256SUMS
		"POST " + verAPI + "/1.0.0/platforms", // 422
		"GET " + verAPI + "/1.0.0/platforms/linux/amd64",
	}
	if diff := cmp.Diff(wantCalls, f.calls(from)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// A run that died half-way is finished by running it again.
func TestTFEPublish_resumesAfterFailedUpload(t *testing.T) {
	t.Parallel()
	f := newFakeTFE(t)
	d := releasetest.Build(t, releasetest.Options{})
	f.failPUT = "windows_amd64"
	if _, err := f.publish(t, d); err == nil || !strings.Contains(err.Error(), "upload "+d.Zips["windows_amd64"]+": 500") {
		t.Fatalf("err = %v, want the failed upload named", err)
	}
	f.failPUT = ""
	res, err := f.publish(t, d)
	if err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	if diff := cmp.Diff([]string{d.Zips["windows_amd64"]}, res.Uploaded); diff != "" {
		t.Errorf("uploads of the second run (-want +got):\n%s", diff)
	}
	if p := f.versions["1.0.0"].platforms["windows_amd64"]; !p.uploaded {
		t.Error("windows zip still not uploaded")
	}
}

// Pre-signed links that are not https are refused before anything is sent
// or read through them, and the error shows no pre-signed query.
func TestTFEPublish_refusesPlainHTTPLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		linkBase  func(f *fakeTFE) string
		published bool // SHA256SUMS already uploaded: the download link is used
		wantErr   string
	}{
		{
			name:     "http upload link on the API's host",
			linkBase: func(f *fakeTFE) string { return "http://" + f.srv.Listener.Addr().String() },
			wantErr:  "upload terraform-provider-foobar_1.0.0_SHA256SUMS: the registry returned the link http://" + "%s/object/sums/1.0.0/-, which is not https",
		},
		{
			name:     "http upload link on another host",
			linkBase: func(*fakeTFE) string { return "http://archivist.example.com" },
			wantErr:  "the registry returned the link http://archivist.example.com/object/sums/1.0.0/-, which is not https",
		},
		{
			name:      "http download link of the published SHA256SUMS",
			linkBase:  func(*fakeTFE) string { return "http://archivist.example.com" },
			published: true,
			wantErr:   "download published terraform-provider-foobar_1.0.0_SHA256SUMS: the registry returned the link http://archivist.example.com/object/sums/1.0.0/-, which is not https",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTFE(t)
			d := releasetest.Build(t, releasetest.Options{})
			if tt.published {
				if _, err := f.publish(t, d); err != nil {
					t.Fatalf("first Publish over https links: %v", err)
				}
			}
			f.linkBase = tt.linkBase(f)
			before := f.count()
			_, err := f.publish(t, d)
			want := strings.ReplaceAll(tt.wantErr, "%s", f.srv.Listener.Addr().String())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to contain %q", err, want)
			}
			if strings.Contains(err.Error(), "s3cret-presigned") {
				t.Errorf("error shows the pre-signed query: %v", err)
			}
			for _, c := range f.calls(before) {
				if strings.Contains(c, "/object/") {
					t.Errorf("a file went through a refused link: %s (calls %v)", c, f.calls(before))
				}
			}
		})
	}
}

func TestTFEPublish_refusesToChangeAPublishedVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tamper  func(f *fakeTFE)
		second  releasetest.Options
		wantErr string
	}{
		{
			name:    "different SHA256SUMS",
			second:  releasetest.Options{Seed: "rebuilt"},
			wantErr: "version 1.0.0 already exists in the registry with a different terraform-provider-foobar_1.0.0_SHA256SUMS",
		},
		{
			name:    "different signing key",
			tamper:  func(f *fakeTFE) { f.versions["1.0.0"].keyID = "0123456789ABCDEF" },
			wantErr: "signed with key 0123456789ABCDEF",
		},
		{
			name:    "different protocols",
			tamper:  func(f *fakeTFE) { f.versions["1.0.0"].protocols = []string{"5.0"} },
			wantErr: `with protocols ["5.0"]`,
		},
		{
			name: "platform with a different shasum",
			tamper: func(f *fakeTFE) {
				f.versions["1.0.0"].platforms["linux_amd64"].shasum = strings.Repeat("a", 64)
			},
			wantErr: "platform linux_amd64 of version 1.0.0 already exists in the registry",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTFE(t)
			if _, err := f.publish(t, releasetest.Build(t, releasetest.Options{})); err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tt.tamper(f)
			}
			from := f.count()
			_, err := f.publish(t, releasetest.Build(t, tt.second))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			for _, c := range f.calls(from) {
				if strings.HasPrefix(c, "PUT ") {
					t.Errorf("uploaded after all: %s", c)
				}
			}
		})
	}
}

func TestTFEPublish_apiErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failPOST  map[string]int
		wantErr   string
		wantCalls int
	}{
		{
			name:      "forbidden provider creation stops at once",
			failPOST:  map[string]int{"/api" + provAPI: 403},
			wantErr:   "create provider acme/foobar: POST /api/v2/organizations/acme/registry-providers: 403 Forbidden: forced by test: forced failure",
			wantCalls: 1,
		},
		{
			// 422 is also "malformed": when the version cannot be read back,
			// the create error is reported, not swallowed.
			name:      "422 that is not about existence",
			failPOST:  map[string]int{"/api" + verAPI: 422},
			wantErr:   "create version 1.0.0: POST /api" + verAPI + ": 422 Unprocessable Entity: forced by test: forced failure (and reading it back failed: GET /api" + verAPI + "/1.0.0: 404 Not Found",
			wantCalls: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTFE(t)
			f.failPOST = tt.failPOST
			_, err := f.publish(t, releasetest.Build(t, releasetest.Options{}))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.wantErr)
			}
			if got := f.count(); got != tt.wantCalls {
				t.Errorf("%d requests, want %d: %v", got, tt.wantCalls, f.calls(0))
			}
		})
	}
}

func TestNewTFEClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		address, token, wantErr string
	}{
		{address: "", token: "t"},
		{address: "tfe.example.com", token: "t"},
		{address: "https://tfe.example.com/", token: "t"},
		{address: "http://127.0.0.1:8080", token: "t"},
		{address: "http://localhost:8080", token: "t"},
		{address: "http://tfe.example.com", token: "t", wantErr: "refusing plain http"},
		{address: "https://tfe.example.com/api", token: "t", wantErr: "want a hostname"},
		{address: "ftp://tfe.example.com", token: "t", wantErr: "scheme must be https"},
		{address: "tfe.example.com", token: "", wantErr: "TFE_TOKEN"},
	}
	for _, tt := range tests {
		_, err := release.NewTFEClient(tt.address, tt.token, nil)
		if tt.wantErr == "" && err != nil {
			t.Errorf("NewTFEClient(%q): %v", tt.address, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("NewTFEClient(%q) err = %v, want %q", tt.address, err, tt.wantErr)
		}
	}
}
