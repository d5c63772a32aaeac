// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// healthyObserved is what Inspect finds on a host where the deployment of
// want is intact.
func healthyObserved(t *testing.T, want Expected, static map[string]string) Observed {
	t.Helper()
	unit, ok := ServiceFileChecksum(*want.App, apply.Systemd)
	if !ok {
		t.Fatal("no unit for the app")
	}
	o := Observed{
		Init: apply.Systemd, NginxVersion: "1.22.1", NginxActive: true,
		SiteConfig: []byte("server {}\n"), SiteConfigExists: true, SiteEnabled: true,
		ArtifactPath: want.App.ArtifactPath, ArtifactSHA256: want.ArtifactSHA256,
		ServiceFileSHA256: unit, EnvFileExists: true, RestartDropInSHA256: RestartDropInSHA256(Layout{}),
		App:          apply.ServiceStatus{ActiveState: "active", MainPID: 4242},
		DocumentRoot: want.Site.DocumentRoot, Static: static, StaticRootExists: static != nil,
	}
	if want.Site.TLS != nil {
		o.CertSHA256 = apply.Checksum([]byte(strings.TrimSpace(want.Site.TLS.CertificatePEM) + "\n"))
		o.KeyExists = true
	}
	return o
}

func TestObserve(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	for name, body := range map[string]string{"index.html": "<h1>hi</h1>", "static/app.css": "body{}"} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, _, err := WalkStatic(src)
	if err != nil {
		t.Fatal(err)
	}
	hostStatic := Hashes(files)
	siteSum := apply.Checksum([]byte("server {}\n"))

	base := func() Expected {
		app := sampleApp()
		site := tlsSite(t)
		site.TLS.PrivateKeyPEM = ""
		return Expected{Site: site, App: &app, DisableDefaultSite: true, SiteSHA256: siteSum, ArtifactSHA256: "a1", Init: apply.Systemd, SourceDir: src}
	}
	healthy := Status{
		NginxVersion: "1.22.1", Init: apply.Systemd, SiteConfig: []byte("server {}\n"), SiteSHA256: siteSum,
		ArtifactSHA256: "a1", StaticSHA256: ManifestDigest(hostStatic), AppState: "active", AppPID: 4242,
	}
	for _, c := range []struct {
		name  string
		want  func(*Expected)
		host  func(*Observed)
		drift []string
		got   func(*Status) // changes to healthy besides the drift
	}{
		{name: "intact"},
		{name: "nginx missing", host: func(o *Observed) { o.NginxVersion, o.NginxActive = "", false },
			drift: []string{"nginx is not installed"}, got: func(s *Status) { s.NginxVersion = "" }},
		{name: "nginx stopped", host: func(o *Observed) { o.NginxActive = false }, drift: []string{"nginx is not running"}},
		{name: "restart drop-in missing", host: func(o *Observed) { o.RestartDropInSHA256 = "" },
			drift: []string{"nginx's restart drop-in /etc/systemd/system/nginx.service.d/foobar-restart.conf is missing (systemd would not restart a crashed nginx)"}},
		{name: "restart drop-in edited", host: func(o *Observed) { o.RestartDropInSHA256 = "d4" },
			drift: []string{"nginx's restart drop-in /etc/systemd/system/nginx.service.d/foobar-restart.conf differs from the provider's"}},
		{name: "sysvinit: no restart drop-in", want: func(e *Expected) { e.Init, e.App = apply.SysVinit, nil },
			host: func(o *Observed) { o.Init, o.RestartDropInSHA256 = apply.SysVinit, "" }, got: func(s *Status) { s.Init = apply.SysVinit }},
		{name: "site edited", host: func(o *Observed) { o.SiteConfig = []byte("server { }\n") },
			drift: []string{"the site file differs from the one deployed"},
			got: func(s *Status) {
				s.SiteConfig, s.SiteSHA256 = []byte("server { }\n"), apply.Checksum([]byte("server { }\n"))
			}},
		{name: "site file unknown before (import)", want: func(e *Expected) { e.SiteSHA256, e.ArtifactSHA256 = "", "" },
			host: func(o *Observed) { o.SiteConfig, o.ArtifactSHA256 = []byte("x"), "b2" },
			got: func(s *Status) {
				s.SiteConfig, s.SiteSHA256, s.ArtifactSHA256 = []byte("x"), apply.Checksum([]byte("x")), "b2"
			}},
		{name: "site file missing", host: func(o *Observed) { o.SiteConfig, o.SiteConfigExists, o.SiteEnabled = nil, false, false },
			drift: []string{"the site file is missing"}, got: func(s *Status) { s.SiteConfig, s.SiteSHA256 = nil, "" }},
		{name: "site disabled", host: func(o *Observed) { o.SiteEnabled = false },
			drift: []string{"the site is not enabled (its sites-enabled link is missing)"}},
		{name: "default site back", host: func(o *Observed) { o.DefaultSiteEnabled = true },
			drift: []string{"Debian's default site is enabled"}},
		{name: "default site not managed", want: func(e *Expected) { e.DisableDefaultSite = false },
			host: func(o *Observed) { o.DefaultSiteEnabled = true }},
		{name: "certificate and key", host: func(o *Observed) { o.CertSHA256, o.KeyExists = "", false },
			drift: []string{"the TLS certificate file differs from the configuration", "the TLS key file is missing"}},
		{name: "no tls", want: func(e *Expected) { e.Site.TLS = nil }, host: func(o *Observed) { o.CertSHA256, o.KeyExists = "", false }},
		{name: "artifact missing", host: func(o *Observed) { o.ArtifactSHA256 = "" },
			drift: []string{"the artifact is missing"}, got: func(s *Status) { s.ArtifactSHA256 = "" }},
		{name: "artifact replaced", host: func(o *Observed) { o.ArtifactSHA256 = "b2" },
			drift: []string{"the artifact differs from the one deployed"}, got: func(s *Status) { s.ArtifactSHA256 = "b2" }},
		{name: "unit missing", host: func(o *Observed) { o.ServiceFileSHA256 = "" }, drift: []string{"the service file is missing"}},
		{name: "unit edited", host: func(o *Observed) { o.ServiceFileSHA256 = "c3" },
			drift: []string{"the service file differs from the configuration"}},
		{name: "app unknown: unit not compared", want: func(e *Expected) { e.App = nil }, host: func(o *Observed) { o.ServiceFileSHA256 = "c3" }},
		{name: "init unknown: unit not compared, init kept", host: func(o *Observed) { o.Init, o.ServiceFileSHA256 = "", "c3" }},
		{name: "env file missing", host: func(o *Observed) { o.EnvFileExists = false }, drift: []string{"the environment file is missing"}},
		{name: "app failed", host: func(o *Observed) { o.App = apply.ServiceStatus{ActiveState: "failed"} },
			drift: []string{"the application service is failed"}, got: func(s *Status) { s.AppState, s.AppPID = "failed", 0 }},
		{name: "app state unknown", host: func(o *Observed) { o.App = apply.ServiceStatus{} },
			drift: []string{"the application service is unknown"}, got: func(s *Status) { s.AppState, s.AppPID = "unknown", 0 }},
		{name: "document root missing", host: func(o *Observed) { o.Static, o.StaticRootExists = map[string]string{}, false },
			drift: []string{"the document root is missing", "static files differ from source_dir: 0 changed, 2 missing, 0 extra"},
			got:   func(s *Status) { s.StaticSHA256 = ManifestDigest(nil) }},
		{name: "static files changed", host: func(o *Observed) {
			o.Static = map[string]string{"index.html": "x", "static/app.css": hostStatic["static/app.css"], "old.js": "y"}
		},
			drift: []string{"static files differ from source_dir: 1 changed, 0 missing, 1 extra"},
			got: func(s *Status) {
				s.StaticSHA256 = ManifestDigest(map[string]string{"index.html": "x", "static/app.css": hostStatic["static/app.css"], "old.js": "y"})
			}},
		{name: "unreadable source_dir is not drift", want: func(e *Expected) { e.SourceDir = filepath.Join(src, "nonexistent") },
			host: func(o *Observed) { o.Static = map[string]string{} }, got: func(s *Status) { s.StaticSHA256 = ManifestDigest(nil) }},
		{name: "no manifest read", host: func(o *Observed) { o.Static = nil }, got: func(s *Status) { s.StaticSHA256 = "" }},
		{name: "manifest of another root (import)", host: func(o *Observed) { o.DocumentRoot, o.Static = "/srv/www/other", map[string]string{} },
			got: func(s *Status) { s.StaticSHA256 = "" }},
		{name: "document root not managed", want: func(e *Expected) { e.SourceDir = "" },
			host: func(o *Observed) { o.Static = map[string]string{} }, got: func(s *Status) { s.StaticSHA256 = "" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			want := base()
			if c.want != nil {
				c.want(&want)
			}
			o := healthyObserved(t, base(), hostStatic)
			if c.host != nil {
				c.host(&o)
			}
			exp := healthy
			exp.Drift = c.drift
			if c.got != nil {
				c.got(&exp)
			}
			if diff := cmp.Diff(exp, Observe(want, o)); diff != "" {
				t.Errorf("Observe (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceFileChecksum(t *testing.T) {
	t.Parallel()
	a := sampleApp()
	unit, err := a.SystemdUnit(Options{})
	if err != nil {
		t.Fatal(err)
	}
	script, err := a.SysvScript(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		init apply.Init
		app  App
		sum  string
		ok   bool
	}{
		{apply.Systemd, a, apply.Checksum(unit), true},
		{apply.SysVinit, a, apply.Checksum(script), true},
		{"", a, "", false},
		{apply.Systemd, App{Name: "shop"}, "", false}, // does not render
	} {
		sum, ok := ServiceFileChecksum(c.app, c.init)
		if sum != c.sum || ok != c.ok {
			t.Errorf("ServiceFileChecksum(%q) = %q, %v; want %q, %v", c.init, sum, ok, c.sum, c.ok)
		}
	}
}

func TestRenderConfigOnly(t *testing.T) {
	t.Parallel()
	s := tlsSite(t)
	want, err := s.Render(Options{NginxVersion: "1.22.1"})
	if err != nil {
		t.Fatal(err)
	}
	// Whatever the key (none, as at plan time with a write-only key, or
	// another pair), the site file is the same.
	other := s
	tls := *s.TLS
	tls.CertificatePEM, tls.PrivateKeyPEM = "", ""
	other.TLS = &tls
	for name, site := range map[string]Site{"with the pair": s, "without": other, "plain": plainSite()} {
		got, err := site.RenderConfigOnly(Options{NginxVersion: "1.22.1"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w := want
		if site.TLS == nil {
			if w, err = site.Render(Options{NginxVersion: "1.22.1"}); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(string(w), string(got)); diff != "" {
			t.Errorf("%s (-Render +RenderConfigOnly):\n%s", name, diff)
		}
	}
	if other.TLS.CertificatePEM != "" {
		t.Error("RenderConfigOnly changed the site's TLS")
	}
}

func TestReadLocalFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art := filepath.Join(dir, "app")
	if err := os.WriteFile(art, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "public")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := apply.Checksum([]byte("binary"))
	if got, err := ArtifactChecksum(art); err != nil || got != sum {
		t.Errorf("ArtifactChecksum = %q, %v; want %q", got, err, sum)
	}
	digest, skipped, err := StaticDigest(root)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("StaticDigest = %q, %v, %v", digest, skipped, err)
	}

	var ce *ChangedError
	for _, c := range []struct {
		name    string
		read    func() (any, error)
		want    any
		changed *ChangedError
		isErr   bool
	}{
		{"artifact as planned", func() (any, error) { return ReadArtifact(art, sum) }, []byte("binary"), nil, false},
		{"artifact, plan did not know", func() (any, error) { return ReadArtifact(art, "") }, []byte("binary"), nil, false},
		{"artifact changed", func() (any, error) { return ReadArtifact(art, "0ld") }, []byte(nil), &ChangedError{Got: sum, Planned: "0ld"}, true},
		{"artifact missing", func() (any, error) { return ReadArtifact(filepath.Join(dir, "none"), sum) }, []byte(nil), nil, true},
		{"static as planned", func() (any, error) { return ReadStatic(root, digest) }, map[string][]byte{"index.html": []byte("hi")}, nil, false},
		{"static changed", func() (any, error) { return ReadStatic(root, "0ld") }, map[string][]byte(nil), &ChangedError{Got: digest, Planned: "0ld"}, true},
		{"static missing", func() (any, error) { return ReadStatic(filepath.Join(dir, "none"), "") }, map[string][]byte(nil), nil, true},
	} {
		got, err := c.read()
		if (err != nil) != c.isErr {
			t.Errorf("%s: error %v", c.name, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
		ce = nil
		errors.As(err, &ce)
		if diff := cmp.Diff(c.changed, ce); diff != "" {
			t.Errorf("%s: ChangedError (-want +got):\n%s", c.name, diff)
		}
	}
	if err := (&ChangedError{Got: "a", Planned: "b"}).Error(); err != "checksum a, but the plan was made with b: run plan again" {
		t.Errorf("ChangedError = %q", err)
	}
}
