// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// countingRunner runs commands on this machine and counts them: one call
// stands for one round trip to a host.
type countingRunner struct{ n atomic.Int32 }

func (c *countingRunner) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	c.n.Add(1)
	return remote.LocalRunner{}.Run(ctx, cmd)
}

// inspectFixture is a deployment laid out under a temporary directory: a
// site file, a deployment record, an artifact and a document root with two
// files.
func inspectFixture(t *testing.T) (Layout, string, Meta) {
	t.Helper()
	dir := t.TempDir()
	l := Layout{NginxDir: filepath.Join(dir, "nginx"), SystemdDir: filepath.Join(dir, "systemd"), InitDir: filepath.Join(dir, "init.d"), EnvDir: filepath.Join(dir, "env")}
	stateDir := filepath.Join(dir, "state")
	root := filepath.Join(dir, "www")
	m := Meta{Name: "shop", DocumentRoot: root, ArtifactPath: filepath.Join(dir, "shop-app")}
	meta, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		l.withDefaults().SiteConfPath("shop"): "server {}\n",
		MetaPath(stateDir, "shop"):            string(meta),
		m.ArtifactPath:                        "binary",
		filepath.Join(root, "index.html"):     "hello\n",
		filepath.Join(root, "css", "a.css"):   "body{}\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return l, stateDir, m
}

// A Read costs one round trip, the document root's manifest included; an
// import, which learns the artifact and the document root from the
// deployment record, one more.
func TestInspectRoundTrips(t *testing.T) {
	t.Parallel()
	l, stateDir, m := inspectFixture(t)
	wantStatic := map[string]string{
		"index.html": apply.Checksum([]byte("hello\n")),
		"css/a.css":  apply.Checksum([]byte("body{}\n")),
	}
	for _, tc := range []struct {
		name       string
		req        InspectRequest
		wantTrips  int32
		wantStatic map[string]string
	}{
		{"read", InspectRequest{ArtifactPath: m.ArtifactPath, DocumentRoot: m.DocumentRoot}, 1, nil},
		{"read with manifest", InspectRequest{ArtifactPath: m.ArtifactPath, DocumentRoot: m.DocumentRoot, Manifest: true}, 1, wantStatic},
		{"import", InspectRequest{Manifest: true}, 2, wantStatic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := tc.req
			req.Name, req.Layout, req.StateDir = "shop", l, stateDir
			r := &countingRunner{}
			o, err := Inspect(context.Background(), r, req)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.n.Load(); got != tc.wantTrips {
				t.Errorf("Inspect made %d round trips, want %d", got, tc.wantTrips)
			}
			if !o.SiteConfigExists || string(o.SiteConfig) != "server {}\n" {
				t.Errorf("site file: exists %t, %q", o.SiteConfigExists, o.SiteConfig)
			}
			if o.ArtifactSHA256 != apply.Checksum([]byte("binary")) {
				t.Errorf("artifact checksum %q", o.ArtifactSHA256)
			}
			if o.Meta == nil || o.DocumentRoot != m.DocumentRoot {
				t.Errorf("record %+v, document root %q", o.Meta, o.DocumentRoot)
			}
			if tc.wantStatic != nil && !o.StaticRootExists {
				t.Errorf("the document root reads as missing")
			}
			if d := cmp.Diff(tc.wantStatic, o.Static); d != "" {
				t.Errorf("static manifest (-want +got):\n%s", d)
			}
		})
	}
}

// A document root that is gone reads as missing, with an empty manifest,
// still in one round trip; one that is a file is not listed either.
func TestInspectMissingDocumentRoot(t *testing.T) {
	t.Parallel()
	l, stateDir, m := inspectFixture(t)
	if err := os.RemoveAll(m.DocumentRoot); err != nil {
		t.Fatal(err)
	}
	r := &countingRunner{}
	o, err := Inspect(context.Background(), r, InspectRequest{Name: "shop", Layout: l, StateDir: stateDir, ArtifactPath: m.ArtifactPath, DocumentRoot: m.DocumentRoot, Manifest: true})
	if err != nil {
		t.Fatal(err)
	}
	if o.StaticRootExists || len(o.Static) != 0 || o.Static == nil {
		t.Errorf("missing root: exists %t, manifest %v", o.StaticRootExists, o.Static)
	}
	if r.n.Load() != 1 {
		t.Errorf("%d round trips, want 1", r.n.Load())
	}
	if err := os.WriteFile(m.DocumentRoot, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err = Inspect(context.Background(), r, InspectRequest{Name: "shop", Layout: l, StateDir: stateDir, ArtifactPath: m.ArtifactPath, DocumentRoot: m.DocumentRoot, Manifest: true})
	if err != nil {
		t.Fatal(err)
	}
	if o.StaticRootExists || len(o.Static) != 0 {
		t.Errorf("root that is a file: exists %t, manifest %v", o.StaticRootExists, o.Static)
	}
}
