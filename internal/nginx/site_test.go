// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/golden"
)

// plainSite is the smallest realistic site: HTTP only, one static prefix.
func plainSite() Site {
	return Site{
		Name:              "shop",
		ServerNames:       []string{"www.foobar.com", "foobar.com"},
		ListenPort:        80,
		DocumentRoot:      "/srv/www/shop",
		StaticLocations:   []StaticLocation{{URLPrefix: "/static/", Expires: "7d"}},
		AppPort:           8080,
		UpstreamKeepalive: 16,
		Gzip:              Gzip{Enabled: false},
		SecurityHeaders:   SecurityHeaders{ContentTypeOptions: true, FrameOptions: "SAMEORIGIN", ReferrerPolicy: "strict-origin-when-cross-origin"},
	}
}

// tlsSite uses every feature: TLS with redirect, HTTP/2, IPv6, HSTS, CSP,
// gzip, timeouts, extra headers.
func tlsSite(t testing.TB) Site {
	cert, key := cachedPair(t)
	s := plainSite()
	s.ListenIPv6 = true
	s.DefaultServer = true
	s.TLS = &TLS{CertificatePEM: cert, PrivateKeyPEM: key, Port: 443, HTTP2: true, RedirectHTTP: true}
	s.AccessLog = "/var/log/nginx/shop-access.log"
	s.ErrorLog = "/var/log/nginx/shop-error.log"
	s.Gzip = Gzip{Enabled: true, Types: []string{"text/css", "application/javascript", "application/json", "text/html"}}
	s.ClientMaxBodySize = "10m"
	s.Timeouts = Timeouts{ClientBody: "30s", ClientHeader: "15s", Keepalive: "65s", ProxyConnect: "5s", ProxyRead: "60s", ProxySend: "60s"}
	s.SecurityHeaders.HSTS = &HSTS{MaxAgeSeconds: 31536000, IncludeSubDomains: true}
	s.SecurityHeaders.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:"
	s.ResponseHeaders = map[string]string{"X-Served-By": "web1", "Permissions-Policy": "geolocation=()"}
	return s
}

// multiStaticSite has several static prefixes with different caching.
func multiStaticSite() Site {
	s := plainSite()
	s.AccessLog = "off"
	s.StaticLocations = []StaticLocation{
		{URLPrefix: "/static/", Expires: "max"},
		{URLPrefix: "/media/uploads/", Expires: "1h"},
		{URLPrefix: "/assets/", CacheControl: "public, max-age=31536000, immutable"},
		{URLPrefix: "/.well-known/"},
	}
	return s
}

func TestSiteGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		site Site
		opts Options
	}{
		{"site_plain", plainSite(), Options{}},
		{"site_tls", tlsSite(t), Options{NginxVersion: "1.22.1"}},
		{"site_tls_http2_directive", tlsSite(t), Options{NginxVersion: "1.25.1"}},
		{"site_multi_static", multiStaticSite(), Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.site.Render(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", tc.name+".conf.golden"), got)
			checkStructure(t, tc.site, tc.opts, got)
		})
	}
}

func TestSiteRenderIsDeterministic(t *testing.T) {
	t.Parallel()
	s := tlsSite(t)
	// Many headers so that map iteration order would show.
	s.ResponseHeaders = map[string]string{}
	for _, n := range []string{"X-A", "X-B", "X-C", "X-D", "X-E", "X-F", "X-G", "X-H"} {
		s.ResponseHeaders[n] = strings.ToLower(n)
	}
	first, err := s.Render(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		again, err := s.Render(Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("render %d differs:\n%s", i, cmp.Diff(string(first), string(again)))
		}
	}
	fa, _ := s.Files(Options{})
	fb, _ := s.Files(Options{})
	for i := range fa {
		if fa[i].SHA256() != fb[i].SHA256() {
			t.Errorf("%s: checksum not stable", fa[i].Path)
		}
	}
	if !bytes.HasPrefix(first, []byte(Header)) {
		t.Errorf("config does not start with the managed header")
	}
}

func TestSiteFiles(t *testing.T) {
	t.Parallel()
	s := tlsSite(t)
	files, err := s.Files(Options{})
	if err != nil {
		t.Fatal(err)
	}
	type meta struct {
		Path         string
		Candidate    string
		Mode         os.FileMode
		Owner, Group string
		Secret       bool
	}
	var got []meta
	for _, f := range files {
		got = append(got, meta{f.Path, f.CandidatePath(), f.Mode, f.Owner, f.Group, f.Secret})
	}
	want := []meta{
		{"/etc/nginx/sites-available/foobar-shop.conf", "/etc/nginx/sites-available/foobar-shop.conf.foobar-new", 0o644, "root", "root", false},
		{"/etc/nginx/foobar/shop/cert.pem", "/etc/nginx/foobar/shop/cert.pem.foobar-new", 0o644, "root", "root", false},
		{"/etc/nginx/foobar/shop/key.pem", "/etc/nginx/foobar/shop/key.pem.foobar-new", 0o600, "root", "root", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if link := s.EnabledLink(Options{}); link != (Link{Path: "/etc/nginx/sites-enabled/foobar-shop.conf", Target: "/etc/nginx/sites-available/foobar-shop.conf"}) {
		t.Errorf("enabled link %+v", link)
	}
	if !strings.Contains(string(files[2].Content), "PRIVATE KEY") {
		t.Errorf("key file does not hold the key")
	}
}

func TestSiteValidateNamesAttributes(t *testing.T) {
	t.Parallel()
	cert, key := cachedPair(t)
	cases := []struct {
		name   string
		mutate func(*Site)
		want   []string // substrings, one per expected error, in order
	}{
		{"valid", func(*Site) {}, nil},
		{"bad name", func(s *Site) { s.Name = "Shop;" }, []string{`name: name "Shop;"`}},
		{"no server names", func(s *Site) { s.ServerNames = nil }, []string{"server_names: at least one"}},
		{"injected server name", func(s *Site) { s.ServerNames = []string{"ok.com", "a.com; return 200"} }, []string{`server_names[1]: server name "a.com; return 200"`}},
		{"duplicate server name", func(s *Site) { s.ServerNames = []string{"a.com", "A.com"} }, []string{`server_names[1]: server name "A.com" repeats server_names[0]`}},
		{"static prefix", func(s *Site) { s.StaticLocations[0].URLPrefix = "/static/ {" }, []string{`static_locations[0].url_prefix: URL prefix "/static/ {"`}},
		{"duplicate prefix", func(s *Site) {
			s.StaticLocations = append(s.StaticLocations, StaticLocation{URLPrefix: "/static/"})
		}, []string{`static_locations[1].url_prefix: URL prefix "/static/" repeats static_locations[0]`}},
		{"expires and cache control", func(s *Site) { s.StaticLocations[0].CacheControl = "no-cache" }, []string{"static_locations[0].cache_control: set either expires or cache_control"}},
		{"header value with dollar", func(s *Site) { s.ResponseHeaders = map[string]string{"X-A": "$host"} }, []string{`response_headers["X-A"]: header value "$host" contains '$'`}},
		{"managed header", func(s *Site) { s.ResponseHeaders = map[string]string{"x-frame-options": "DENY"} }, []string{`response_headers["x-frame-options"]: header "x-frame-options" is managed by security_headers`}},
		{"hsts without tls", func(s *Site) { s.SecurityHeaders.HSTS = &HSTS{MaxAgeSeconds: 60} }, []string{"security_headers.hsts: HSTS needs tls"}},
		{"size and timeouts", func(s *Site) {
			s.ClientMaxBodySize = "10 m"
			s.Timeouts.ProxyRead = "1x"
			s.Timeouts.ProxyConnect = "2m"
		}, []string{`client_max_body_size: size "10 m"`, `timeouts.proxy_connect: duration "2m" is longer than 75s`, `timeouts.proxy_read: duration "1x"`}},
		{"paths", func(s *Site) {
			s.DocumentRoot = "/srv/../etc"
			s.AccessLog = "relative.log"
			s.ErrorLog = "/var/log/x y.log"
		}, []string{`access_log: path "relative.log" must be absolute`, `error_log: path "/var/log/x y.log"`, `document_root: path "/srv/../etc" must not contain ".."`}},
		{"ports", func(s *Site) { s.ListenPort = 0; s.AppPort = 70000; s.UpstreamKeepalive = 0 }, []string{"listen_port: port 0", "app.port: port 70000", "upstream_keepalive: keepalive connections 0"}},
		{"app port clash", func(s *Site) { s.AppPort = 80 }, []string{"app.port: port 80 is also a port nginx listens on"}},
		{"gzip types", func(s *Site) { s.Gzip = Gzip{Enabled: true, Types: []string{"text/css;", "text/css"}} }, []string{`gzip.types[0]: MIME type "text/css;"`}},
		{"tls bad pem", func(s *Site) {
			s.TLS = &TLS{CertificatePEM: "junk", PrivateKeyPEM: "SECRET-KEY-MATERIAL", Port: 443}
		}, []string{`tls.certificate_pem: "junk" holds no PEM certificate`, "tls.private_key_pem: holds no PEM private key"}},
		{"tls key mismatch", func(s *Site) {
			s.TLS = &TLS{CertificatePEM: cert, PrivateKeyPEM: otherPEMKey(t), Port: 443}
		}, []string{"tls.private_key_pem: is not the private key of the certificate"}},
		{"tls same port", func(s *Site) { s.TLS = &TLS{CertificatePEM: cert, PrivateKeyPEM: key, Port: 80} }, []string{"tls.port: port 80 is also listen_port"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := plainSite()
			tc.mutate(&s)
			err := s.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var es fault.FieldErrors
			if !errors.As(err, &es) {
				t.Fatalf("want fault.FieldErrors, got %v", err)
			}
			if len(es) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(es), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.Contains(es[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, es[i].Error(), w)
				}
			}
			if strings.Contains(err.Error(), "SECRET-KEY-MATERIAL") || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error leaks PEM data: %v", err)
			}
			if _, rerr := s.Render(Options{}); rerr == nil {
				t.Errorf("Render accepted a site that Validate refused")
			}
		})
	}
}

func otherPEMKey(t testing.TB) string {
	t.Helper()
	// A second, unrelated key in the same format as the test key.
	_, key := freshKeyPair(t)
	return key
}

func TestVersionAtLeast(t *testing.T) {
	t.Parallel()
	cases := []struct {
		v, want string
		ok      bool
	}{
		{"1.25.1", "1.25.1", true}, {"1.25.0", "1.25.1", false}, {"1.26", "1.25.1", true},
		{"1.22.1", "1.25.1", false}, {"2.0.0", "1.25.1", true}, {"", "1.25.1", false}, {"x.y", "1.25.1", false},
	}
	for _, c := range cases {
		if got := versionAtLeast(c.v, c.want); got != c.ok {
			t.Errorf("versionAtLeast(%q, %q) = %v", c.v, c.want, got)
		}
	}
}

// TestSiteNginxAccepts runs the real nginx -t on every golden site, rendered
// into a temporary prefix.
func TestSiteNginxAccepts(t *testing.T) {
	t.Parallel()
	lookBinary(t, "nginx")
	drained := plainSite()
	drained.DrainHealthPath = "/healthz"
	drainedTLS := tlsSite(t)
	drainedTLS.DrainHealthPath = "/healthz"
	cases := map[string]Site{"plain": plainSite(), "tls": tlsSite(t), "multi_static": multiStaticSite(), "drained": drained, "drained_tls": drainedTLS}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := plainTempDir(t)
			s.AccessLog = filepath.Join(dir, "access.log")
			s.ErrorLog = filepath.Join(dir, "error.log")
			o := Options{NginxVersion: hostNginxVersion(t), Layout: Layout{NginxDir: filepath.Join(dir, "etc"), NginxLogDir: dir}}
			if err := nginxTest(t, s, o, dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestNginxRejectsBrokenConfig proves that nginxTest can fail: a site file
// with a broken directive must be refused, with the [emerg] line kept.
func TestNginxRejectsBrokenConfig(t *testing.T) {
	t.Parallel()
	bin := lookBinary(t, "nginx")
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte("pid "+dir+"/p;\nevents {}\nhttp { server { listen 80; bogus_directive on; } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := execOutput(bin, "-t", "-p", dir, "-e", filepath.Join(dir, "e.log"), "-c", conf)
	if err == nil {
		t.Fatalf("nginx -t accepted a broken config: %s", out)
	}
	got := FilterTestOutput(out)
	if !strings.Contains(got, "[emerg]") || !strings.Contains(got, "bogus_directive") || strings.Contains(got, "test failed") {
		t.Errorf("filtered output %q", got)
	}
}
