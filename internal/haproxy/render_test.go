// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/golden"
)

func intp(n int) *int { return &n }

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// seedConfig is the design in shared/seed: one load balancer, round robin,
// active-active over two web servers with health checks.
func seedConfig() Config {
	return Config{
		Frontends: []Frontend{{
			Name:           "www",
			Port:           80,
			ForwardFor:     true,
			ForwardedProto: true,
			DefaultBackend: "web",
		}},
		Backends: []Backend{{
			Name: "web",
			Servers: []Server{
				{Name: "web1", Address: "10.0.0.11", Port: 80},
				{Name: "web2", Address: "10.0.0.12", Port: 80},
			},
			HealthCheck: &HealthCheck{Path: "/", ExpectStatus: 200},
		}},
	}
}

// fullConfig uses every feature: TLS with redirect and HSTS, host and path
// routing to two backends, stickiness, stats with auth and Prometheus.
func fullConfig(t testing.TB) Config {
	cert, key := readTestdata(t, "test-cert.pem"), readTestdata(t, "test-key.pem")
	return Config{
		MaxConn:       20000,
		NbThread:      2,
		HardStopAfter: "5m",
		Timeouts: Timeouts{
			Connect: "3s", Client: "1m", Server: "1m",
			HTTPRequest: "5s", HTTPKeepAlive: "15s", Queue: "20s",
		},
		Frontends: []Frontend{{
			Name:            "www",
			BindAddress:     "::",
			Port:            80,
			MaxConn:         10000,
			TLS:             &TLS{Port: 443, CertificatePEM: cert, PrivateKeyPEM: key},
			RedirectToHTTPS: true,
			HSTSMaxAge:      31536000,
			ForwardFor:      true,
			ForwardedProto:  true,
			Timeouts:        FrontendTimeouts{Client: "2m", HTTPRequest: "8s", HTTPKeepAlive: "5s"},
			Rules: []Rule{
				{Host: "api.foobar.com", Backend: "api"},
				{Host: "www.foobar.com", PathPrefix: "/api/", Backend: "api"},
				{PathPrefix: "/static/", Backend: "web"},
			},
			DefaultBackend: "web",
		}, {
			Name:           "internal",
			BindAddress:    "10.0.0.10",
			Port:           8080,
			DefaultBackend: "api",
		}},
		Backends: []Backend{{
			Name:         "web",
			Balance:      "roundrobin",
			StickyCookie: "SRVID",
			Servers: []Server{
				{Name: "web1", Address: "10.0.0.11", Port: 80},
				{Name: "web2", Address: "10.0.0.12", Port: 80},
			},
			HealthCheck: &HealthCheck{Path: "/healthz?full=1", Host: "www.foobar.com", ExpectStatus: 200, Interval: "3s", Rise: 3, Fall: 2, ErrorLimit: 3},
			Timeouts:    BackendTimeouts{Connect: "2s", Server: "45s", Queue: "10s"},
		}, {
			Name:    "api",
			Balance: "leastconn",
			Servers: []Server{
				{Name: "api1", Address: "2001:db8::21", Port: 8080, MaxConn: 200},
				{Name: "api2", Address: "localhost", Port: 8080, MaxConn: 200},
			},
			HealthCheck: &HealthCheck{Path: "/health"},
		}},
		Stats: &Stats{
			BindAddress: "127.0.0.1",
			Port:        8404,
			URI:         "/haproxy?stats",
			User:        "admin",
			Password:    "s3cr3t:with$odd&chars",
			Refresh:     "5s",
			Prometheus:  true,
		},
	}
}

// weightsConfig exercises weights, backup and disabled servers and the
// balance algorithms with arguments.
func weightsConfig() Config {
	return Config{
		Frontends: []Frontend{{
			Name:           "www",
			BindAddress:    "0.0.0.0",
			Port:           80,
			ForwardFor:     true,
			DefaultBackend: "weighted",
			Rules: []Rule{
				{PathPrefix: "/user/", Backend: "by-header"},
				{PathPrefix: "/search", Backend: "by-param"},
				{PathPrefix: "/rdp", Backend: "rdp"},
			},
		}},
		Backends: []Backend{{
			Name:    "weighted",
			Balance: "static-rr",
			Servers: []Server{
				{Name: "big", Address: "10.0.0.11", Port: 80, Weight: intp(256)},
				{Name: "small", Address: "10.0.0.12", Port: 80, Weight: intp(1)},
				{Name: "drain", Address: "10.0.0.13", Port: 80, Weight: intp(0)},
				{Name: "spare", Address: "10.0.0.14", Port: 80, Backup: true},
				{Name: "spare2", Address: "10.0.0.15", Port: 80, Backup: true, Weight: intp(10), MaxConn: 50},
				{Name: "broken", Address: "10.0.0.16", Port: 80, Disabled: true},
			},
			HealthCheck: &HealthCheck{},
		}, {
			Name:    "by-header",
			Balance: "hdr(X-User-Id)",
			Servers: []Server{{Name: "a", Address: "10.0.1.1", Port: 8080}, {Name: "b", Address: "10.0.1.2", Port: 8080}},
		}, {
			Name:    "by-param",
			Balance: "url_param q",
			Servers: []Server{{Name: "a", Address: "10.0.2.1", Port: 8080}},
		}, {
			Name:    "rdp",
			Balance: "rdp-cookie(mstshash)",
			Servers: []Server{{Name: "a", Address: "10.0.3.1", Port: 3389}},
		}},
	}
}

// backendTLSConfig sends the seed's traffic and health checks to the web
// servers over TLS, verified against a CA and a name.
func backendTLSConfig(t testing.TB) Config {
	c := seedConfig()
	c.Backends[0].Servers[0].Port, c.Backends[0].Servers[1].Port = 8443, 8443
	c.Backends[0].TLS = &BackendTLS{CAPEM: readTestdata(t, "test-cert.pem"), ServerName: "web.backend.foobar.internal"}
	return c
}

type goldenCase struct {
	name string
	cfg  func(testing.TB) Config
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{"seed_minimal", func(testing.TB) Config { return seedConfig() }},
		{"full", fullConfig},
		{"weights_backup", func(testing.TB) Config { return weightsConfig() }},
		{"backend_tls", backendTLSConfig},
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.cfg(t).Render()
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden.Assert(t, filepath.Join("testdata", tc.name+".golden"), got)
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first, err := tc.cfg(t).Render()
			if err != nil {
				t.Fatal(err)
			}
			want := sha256.Sum256(first)
			for i := 0; i < 20; i++ {
				// A fresh Config each time: nothing may depend on identity.
				got, err := tc.cfg(t).Render()
				if err != nil {
					t.Fatal(err)
				}
				if sha256.Sum256(got) != want {
					t.Fatalf("render %d differs:\n%s", i, cmp.Diff(string(first), string(got)))
				}
			}
			f1, f2 := tc.cfg(t).Files(), tc.cfg(t).Files()
			if diff := cmp.Diff(f1, f2); diff != "" {
				t.Errorf("Files differ between calls:\n%s", diff)
			}
		})
	}
}

func TestRenderHeaderAndStructure(t *testing.T) {
	t.Parallel()
	out, err := fullConfig(t).Render()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	if lines[0] != Header {
		t.Errorf("first line = %q, want %q", lines[0], Header)
	}
	var sections []string
	for _, l := range lines {
		if l != "" && l[0] != '\t' && l[0] != '#' {
			sections = append(sections, l)
		}
	}
	want := []string{"global", "defaults", "frontend www", "frontend internal", "frontend stats", "backend web", "backend api"}
	if diff := cmp.Diff(want, sections); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
	if !bytes.HasSuffix(out, []byte("\n")) || bytes.HasSuffix(out, []byte("\n\n")) {
		t.Errorf("config must end with exactly one newline")
	}
}

func TestRenderRefusesInvalid(t *testing.T) {
	t.Parallel()
	c := seedConfig()
	c.Backends[0].Servers[1].Address = "10.0.0.12\n\tbind :1"
	out, err := c.Render()
	if err == nil {
		t.Fatalf("Render accepted an invalid config:\n%s", out)
	}
	var fes fault.FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("error %T is not fault.FieldErrors: %v", err, err)
	}
	if out != nil {
		t.Errorf("Render returned output with an error")
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	c := fullConfig(t)
	files := c.Files()
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	f := files[0]
	cert, key := readTestdata(t, "test-cert.pem"), readTestdata(t, "test-key.pem")
	wantContent := strings.TrimSpace(cert) + "\n" + strings.TrimSpace(key) + "\n"
	if diff := cmp.Diff(wantContent, string(f.Content)); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if f.Mode != 0o600 || !f.Sensitive {
		t.Errorf("mode %o sensitive %t, want 600 true", f.Mode, f.Sensitive)
	}
	if !strings.HasPrefix(f.Path, FilesDir+"/www.") || !strings.HasSuffix(f.Path, ".pem") {
		t.Errorf("path %q is not %s/www.<hash>.pem", f.Path, FilesDir)
	}
	out, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), " crt "+f.Path+" ") {
		t.Errorf("config does not reference %s", f.Path)
	}
	// A new certificate gets a new file name, so writing it never touches
	// the file the running configuration uses.
	c.Frontends[0].TLS.CertificatePEM = cert + "\n"
	if c.Files()[0].Path != f.Path {
		t.Errorf("trailing whitespace changed the bundle path")
	}
	other := otherKeyPair(t)
	c.Frontends[0].TLS.CertificatePEM, c.Frontends[0].TLS.PrivateKeyPEM = other.cert, other.key
	if c.Files()[0].Path == f.Path {
		t.Errorf("a different certificate kept the same path %s", f.Path)
	}
	if seed := seedConfig().Files(); len(seed) != 0 {
		t.Errorf("config without TLS lists files: %v", seed)
	}
}

// TestBackendTLSFiles: a backend with TLS gets its CA in a file of its own
// (not secret, named by its content) that every server line references,
// with verification, SNI for traffic and checks, and no check port that
// would take the checks off TLS.
func TestBackendTLSFiles(t *testing.T) {
	t.Parallel()
	c := backendTLSConfig(t)
	files := c.Files()
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	f := files[0]
	if diff := cmp.Diff(strings.TrimSpace(readTestdata(t, "test-cert.pem"))+"\n", string(f.Content)); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if f.Mode != 0o644 || f.Sensitive {
		t.Errorf("mode %o sensitive %t, want 644 false", f.Mode, f.Sensitive)
	}
	if !strings.HasPrefix(f.Path, FilesDir+"/ca-web.") || !isBundleName(strings.TrimPrefix(f.Path, FilesDir+"/")) {
		t.Errorf("path %q is not %s/ca-web.<hash>.pem (a name StaleFiles recognises)", f.Path, FilesDir)
	}
	out, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range []string{"web1 10.0.0.11", "web2 10.0.0.12"} {
		want := "\tserver " + srv + ":8443 check ssl verify required ca-file " + f.Path +
			" sni str(web.backend.foobar.internal) check-sni web.backend.foobar.internal verifyhost web.backend.foobar.internal\n"
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "check-port") || strings.Contains(string(out), " addr ") || strings.Contains(string(out), "no-check-ssl") {
		t.Errorf("rendered config takes the checks off TLS:\n%s", out)
	}
	// A new CA gets a new file name.
	c.Backends[0].TLS.CAPEM = otherKeyPair(t).cert
	if c.Files()[0].Path == f.Path {
		t.Errorf("a different CA kept the same path %s", f.Path)
	}
}

func TestSecretsNotInDebugOutput(t *testing.T) {
	t.Parallel()
	c := fullConfig(t)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, c.Stats, *c.Stats, c.Frontends[0], c.Frontends[0].TLS} {
			s := fmt.Sprintf(format, v)
			if strings.Contains(s, c.Stats.Password) || strings.Contains(s, "PRIVATE KEY") {
				t.Errorf("%s of %T leaks a secret: %s", format, v, s)
			}
		}
	}
}

// haproxyBinaries returns the HAProxy executables to check rendered
// configurations with: $FOOBAR_HAPROXY_BINARIES (a PATH-style list, for
// example to add a 3.0 build next to Debian's 2.6) or haproxy from PATH.
// Without any it skips, unless FOOBAR_REQUIRE_BINARIES=1.
func haproxyBinaries(t testing.TB) []string {
	t.Helper()
	if list := os.Getenv("FOOBAR_HAPROXY_BINARIES"); list != "" {
		return filepath.SplitList(list)
	}
	path, err := exec.LookPath(Binary)
	if err != nil {
		if os.Getenv("FOOBAR_REQUIRE_BINARIES") == "1" {
			t.Fatalf("haproxy not found and FOOBAR_REQUIRE_BINARIES=1: %v", err)
		}
		t.Skipf("haproxy not installed (%v); set FOOBAR_REQUIRE_BINARIES=1 to make this fatal", err)
	}
	return []string{path}
}

// haproxyCheck writes cfg and files into a temporary directory (support
// files move from FilesDir to the directory, the only change made to the
// text) and runs haproxy -c on it with each binary. It returns a
// description of the first failure, or "".
func haproxyCheck(t testing.TB, bins []string, cfg []byte, files []File) string {
	t.Helper()
	// Not t.TempDir: subtest names such as "seed#0" put a '#' in its path,
	// which haproxy.cfg would read as a comment.
	dir, err := os.MkdirTemp("", "haproxy-check-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	text := string(cfg)
	for _, f := range files {
		local := filepath.Join(dir, filepath.Base(f.Path))
		if err := os.WriteFile(local, f.Content, f.Mode); err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, f.Path, local)
	}
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bin := range bins {
		argv := ValidateArgv(cfgPath)
		cmd := exec.Command(bin, argv[1:]...)
		out, err := cmd.CombinedOutput()
		filtered := FilterCheckOutput(string(out))
		if err != nil || filtered != "" {
			return bin + " -c: " + errString(err) + "\n" + filtered + "\n--- config ---\n" + text
		}
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "exit status 0 with messages"
	}
	return err.Error()
}

// TestGoldenFilesPassHAProxyCheck runs haproxy -c on every golden file as
// written on disk, and requires no warnings either.
func TestGoldenFilesPassHAProxyCheck(t *testing.T) {
	t.Parallel()
	bins := haproxyBinaries(t)
	cases := map[string]goldenCase{}
	for _, tc := range goldenCases() {
		cases[tc.name+".golden"] = tc
	}
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(goldens)
	if len(goldens) != len(cases) {
		t.Errorf("testdata has %d golden files, the table %d: %v", len(goldens), len(cases), goldens)
	}
	for _, path := range goldens {
		tc, ok := cases[filepath.Base(path)]
		if !ok {
			t.Errorf("%s has no case in goldenCases (stale golden file?)", path)
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if msg := haproxyCheck(t, bins, cfg, tc.cfg(t).Files()); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// TestHAProxyCheckCatchesBrokenConfig proves the check above can fail.
func TestHAProxyCheckCatchesBrokenConfig(t *testing.T) {
	t.Parallel()
	bins := haproxyBinaries(t)
	out, err := seedConfig().Render()
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(out, []byte("\tbalance roundrobin\n"), []byte("\tbalance nonsense\n"), 1)
	if bytes.Equal(broken, out) {
		t.Fatal("test setup: balance line not found")
	}
	msg := haproxyCheck(t, bins, broken, nil)
	if !strings.Contains(msg, "[ALERT]") || !strings.Contains(msg, "nonsense") {
		t.Errorf("haproxy -c did not report the broken balance line:\n%s", msg)
	}
}
