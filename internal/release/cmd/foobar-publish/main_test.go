// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/foobar/terraform-provider-foobar/internal/release/releasetest"
)

// fixture is a synthetic dist/ plus the public key file, as CI has them.
func fixture(t *testing.T) (*releasetest.Dist, string) {
	t.Helper()
	d := releasetest.Build(t, releasetest.Options{Version: "2.0.0", Platforms: []string{"linux_amd64", "darwin_arm64"}})
	key := filepath.Join(t.TempDir(), "pubkey.asc")
	if err := os.WriteFile(key, releasetest.ArmoredPublicKey(t, releasetest.SigningKey(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	return d, key
}

func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestRun(t *testing.T) {
	t.Parallel()
	d, key := fixture(t)
	broken, brokenKey := fixture(t)
	if err := os.Remove(broken.Path(broken.Zips["darwin_arm64"])); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	nginx := filepath.Join(t.TempDir(), "registry.conf")
	common := []string{"-dist", d.Dir, "-key", key, "-manifest", d.ManifestPath}
	static := append([]string{"static"}, append(common, "-out", out, "-namespace", "foobar", "-type", "foobar", "-nginx-conf", nginx)...)

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{
			name:       "validate",
			args:       append([]string{"validate"}, common...),
			wantStdout: []string{"valid: terraform-provider-foobar 2.0.0 (protocols 6.0; signed by ", "2 platforms: darwin_arm64 linux_amd64)"},
		},
		{
			name:       "validate refuses a broken release and names the file",
			args:       []string{"validate", "-dist", broken.Dir, "-key", brokenKey, "-manifest", broken.ManifestPath},
			wantCode:   1,
			wantStderr: []string{"foobar-publish validate: release in " + broken.Dir + " refused: " + broken.Zips["darwin_arm64"] + ": listed in"},
		},
		{
			name:       "validate with a required platform that was not built",
			args:       append([]string{"validate", "-platforms", "linux_amd64,windows_amd64"}, common...),
			wantCode:   1,
			wantStderr: []string{"terraform-provider-foobar_2.0.0_windows_amd64.zip: required platform windows_amd64 is missing"},
		},
		{
			name:       "validate expects other protocols",
			args:       append([]string{"validate", "-protocols", "5.0"}, common...),
			wantCode:   1,
			wantStderr: []string{`protocol_versions ["6.0"] do not match the build's protocols ["5.0"]`},
		},
		{name: "no key", args: []string{"validate", "-dist", d.Dir}, wantCode: 2, wantStderr: []string{"-key is required"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantStderr: []string{`unknown command "frobnicate"`}},
		{name: "no command", wantCode: 2, wantStderr: []string{"usage:"}},
		{name: "stray argument", args: append([]string{"validate", "extra"}, common...), wantCode: 2, wantStderr: []string{`unexpected argument "extra"`}},
		{name: "static without -out", args: append([]string{"static", "-namespace", "foobar", "-type", "foobar"}, common...), wantCode: 2, wantStderr: []string{"-out, -namespace and -type are required"}},
		{
			name:       "tfe without a token",
			args:       append([]string{"tfe", "-org", "acme", "-name", "foobar"}, common...),
			wantCode:   2,
			wantStderr: []string{"TFE_TOKEN is not set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}

	t.Run("static publishes, then finds nothing to change", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := runCmd(t, nil, static...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, w := range []string{"published version 2.0.0", "foobar/foobar now has versions: 2.0.0", "nginx snippet written to " + nginx} {
			if !strings.Contains(stdout, w) {
				t.Errorf("stdout lacks %q:\n%s", w, stdout)
			}
		}
		for _, f := range []string{".well-known/terraform.json", "v1/providers/foobar/foobar/versions", "v1/providers/foobar/foobar/2.0.0/download/linux/amd64"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Error(err)
			}
		}
		conf, err := os.ReadFile(nginx)
		if err != nil || !strings.Contains(string(conf), "alias "+out+"/v1/providers/;") {
			t.Errorf("nginx snippet does not serve %s: %v\n%s", out, err, conf)
		}
		code, stdout, stderr = runCmd(t, nil, static...)
		if code != 0 || !strings.Contains(stdout, "already published with the same files: nothing changed") {
			t.Errorf("second run: exit %d\n%s%s", code, stdout, stderr)
		}
	})
}

// tfe reads its host from TFE_HOSTNAME and its token from TFE_TOKEN, and
// reports the API's refusal. The stub answers 403 to everything.
func TestRun_tfeUsesEnvironment(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"errors":[{"status":"403","title":"forbidden","detail":"no Manage Private Registry permission"}]}`))
	}))
	t.Cleanup(srv.Close)
	d, key := fixture(t)
	code, _, stderr := runCmd(t, map[string]string{"TFE_TOKEN": "s3cret", "TFE_HOSTNAME": srv.URL},
		"tfe", "-dist", d.Dir, "-key", key, "-manifest", d.ManifestPath, "-org", "acme", "-name", "foobar")
	if code != 1 || !strings.Contains(stderr, "403 Forbidden: forbidden: no Manage Private Registry permission") {
		t.Errorf("exit %d, stderr: %s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "POST /api/v2/organizations/acme/registry-providers Bearer s3cret"; len(auth) != 1 || auth[0] != want {
		t.Errorf("requests %q, want [%q]", auth, want)
	}
}

// static refuses an http base URL unless told, loudly, that it is unsafe;
// a refused run writes nothing.
func TestRun_staticPlainHTTP(t *testing.T) {
	t.Parallel()
	d, key := fixture(t)
	tests := []struct {
		name       string
		flags      []string
		wantCode   int
		wantStderr []string
		noStderr   string
		wantDoc    string // in the linux_amd64 download document
	}{
		{
			name:       "http base URL refused",
			flags:      []string{"-base-url", "http://registry.example.com"},
			wantCode:   1,
			wantStderr: []string{`foobar-publish static: base URL "http://registry.example.com" is plain http:`, "use https://", "-insecure-allow-http exists for local tests only"},
		},
		{
			name:       "http base URL with the unsafe flag",
			flags:      []string{"-base-url", "http://127.0.0.1:8080", "-insecure-allow-http"},
			wantStderr: []string{"WARNING: -insecure-allow-http: the tree names http://127.0.0.1:8080;", "Never serve this tree to real users."},
			wantDoc:    `"download_url": "http://127.0.0.1:8080/downloads/foobar/foobar/2.0.0/`,
		},
		{
			name:     "https base URL",
			flags:    []string{"-base-url", "https://registry.example.com"},
			noStderr: "WARNING",
			wantDoc:  `"download_url": "https://registry.example.com/downloads/foobar/foobar/2.0.0/`,
		},
		{
			name:     "the unsafe flag changes nothing for https",
			flags:    []string{"-base-url", "https://registry.example.com", "-insecure-allow-http"},
			noStderr: "WARNING",
			wantDoc:  `"download_url": "https://registry.example.com/downloads/foobar/foobar/2.0.0/`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "tree")
			args := append([]string{"static", "-dist", d.Dir, "-key", key, "-manifest", d.ManifestPath, "-out", out, "-namespace", "foobar", "-type", "foobar"}, tt.flags...)
			code, stdout, stderr := runCmd(t, nil, args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.noStderr != "" && strings.Contains(stderr, tt.noStderr) {
				t.Errorf("stderr has %q:\n%s", tt.noStderr, stderr)
			}
			doc, err := os.ReadFile(filepath.Join(out, "v1/providers/foobar/foobar/2.0.0/download/linux/amd64"))
			if tt.wantDoc == "" {
				if _, statErr := os.Stat(out); statErr == nil {
					t.Errorf("a refused run created %s", out)
				}
				return
			}
			if err != nil || !strings.Contains(string(doc), tt.wantDoc) {
				t.Errorf("download document lacks %s: %v\n%s", tt.wantDoc, err, doc)
			}
		})
	}
}
