// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FuzzRenderSite feeds arbitrary strings into every user-controlled string
// of a Site. Whatever Validate accepts must render (Render agrees with
// Validate), must tokenize into exactly the directives the model implies
// (an injected ';', '{', '}' or comment would change the count or the
// arguments), and must pass the real `nginx -t` when nginx is installed.
//
// Log paths are fuzzed for validation and structure only; for nginx -t
// they are replaced by paths in the test's directory, because nginx -t
// opens (and creates) log files and this runs as root.
//
// Run it with a short minimization budget: every accepted input runs
// nginx -t, and Go's default 60 s minimization of each new input otherwise
// stalls the fuzzer:
//
//	go test -run '^$' -fuzz FuzzRenderSite -fuzztime=20s -fuzzminimizetime=2s -parallel=1 ./internal/nginx
func FuzzRenderSite(f *testing.F) {
	haveNginx := false
	if _, err := exec.LookPath("nginx"); err == nil {
		haveNginx = true
	} else if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		haveNginx = true
	} else if os.Getenv("FOOBAR_REQUIRE_BINARIES") == "1" {
		f.Fatal("nginx not found and FOOBAR_REQUIRE_BINARIES=1")
	}
	type seed struct {
		name, server1, server2, root, prefix1, prefix2, hdrName, hdrValue, size, timeout, csp, expires, cacheControl, accessLog string
		tls, ipv6                                                                                                               bool
	}
	ok := seed{"shop", "www.foobar.com", "foobar.com", "/srv/www/shop", "/static/", "/media/", "X-Served-By", "web1", "10m", "30s", "default-src 'self'", "7d", "public, max-age=60", "/var/log/nginx/a.log", true, true}
	seeds := []seed{ok}
	inject := func(mut func(*seed)) {
		s := ok
		mut(&s)
		seeds = append(seeds, s)
	}
	for _, evil := range []string{
		"x; return 200 pwned", "x\nreturn 200 pwned;", "x\r\n}", "x} server { listen 81", "x # comment", `x" always; add_header Y "y`,
		"x' always", "$host", "${host}", `x\`, "x\x00y", "x{", "`id`", "x;", "x\"", " x", "x\t;",
	} {
		inject(func(s *seed) { s.name = evil })
		inject(func(s *seed) { s.server1 = evil })
		inject(func(s *seed) { s.server2 = "a.com " + evil })
		inject(func(s *seed) { s.root = "/srv/" + evil })
		inject(func(s *seed) { s.prefix1 = "/" + evil + "/" })
		inject(func(s *seed) { s.hdrName = evil })
		inject(func(s *seed) { s.hdrValue = evil })
		inject(func(s *seed) { s.size = "1" + evil })
		inject(func(s *seed) { s.timeout = "1" + evil })
		inject(func(s *seed) { s.csp = "default-src 'self'; " + evil })
		inject(func(s *seed) { s.expires = evil })
		inject(func(s *seed) { s.cacheControl = evil })
		inject(func(s *seed) { s.accessLog = "/var/log/" + evil })
	}
	inject(func(s *seed) { s.csp = "default-src 'self'; script-src 'self' 'sha256-abc+/='" })
	inject(func(s *seed) { s.expires = ""; s.tls = false; s.ipv6 = false })
	inject(func(s *seed) { s.accessLog = "off" })
	for _, s := range seeds {
		f.Add(s.name, s.server1, s.server2, s.root, s.prefix1, s.prefix2, s.hdrName, s.hdrValue, s.size, s.timeout, s.csp, s.expires, s.cacheControl, s.accessLog, s.tls, s.ipv6)
	}
	f.Fuzz(func(t *testing.T, name, server1, server2, root, prefix1, prefix2, hdrName, hdrValue, size, timeout, csp, expires, cacheControl, accessLog string, useTLS, ipv6 bool) {
		s := Site{
			Name:              name,
			ServerNames:       []string{server1, server2},
			ListenPort:        80,
			ListenIPv6:        ipv6,
			AccessLog:         accessLog,
			Gzip:              Gzip{Enabled: true, Types: []string{"text/css"}},
			ClientMaxBodySize: size,
			Timeouts:          Timeouts{ClientBody: timeout, ProxyRead: timeout},
			SecurityHeaders:   SecurityHeaders{ContentTypeOptions: true, ContentSecurityPolicy: csp},
			DocumentRoot:      root,
			StaticLocations: []StaticLocation{
				{URLPrefix: prefix1, Expires: expires},
				{URLPrefix: prefix2, CacheControl: cacheControl},
			},
			AppPort:           8080,
			UpstreamKeepalive: 8,
			ResponseHeaders:   map[string]string{hdrName: hdrValue},
		}
		if useTLS {
			cert, key := cachedPair(t)
			s.TLS = &TLS{CertificatePEM: cert, PrivateKeyPEM: key, Port: 443, HTTP2: true, RedirectHTTP: true}
			s.SecurityHeaders.HSTS = &HSTS{MaxAgeSeconds: 600}
		}
		o := Options{NginxVersion: "1.22.1"}
		verr := s.Validate()
		conf, rerr := s.Render(o)
		if verr != nil {
			if rerr == nil {
				t.Fatalf("Validate refused (%v) but Render accepted", verr)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("Validate accepted but Render failed: %v", rerr)
		}
		checkStructure(t, s, o, conf)
		if !haveNginx {
			return
		}
		dir := plainTempDir(t)
		s.AccessLog = filepath.Join(dir, "access.log")
		s.ErrorLog = filepath.Join(dir, "error.log")
		o.NginxVersion = hostNginxVersion(t)
		o.Layout = Layout{NginxDir: filepath.Join(dir, "etc")}
		if err := nginxTest(t, s, o, dir); err != nil {
			conf, _ := s.Render(o)
			t.Fatalf("nginx -t refused a validated site: %v\n%s", err, conf)
		}
	})
}
