// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
)

// ---- unit tests ---------------------------------------------------------------

func TestWebServerSchema(t *testing.T) {
	t.Parallel()
	r := NewWebServerResource()
	resp := &fwresource.SchemaResponse{}
	r.Schema(context.Background(), fwresource.SchemaRequest{}, resp)
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("schema does not validate: %v", diags)
	}
	var walk func(prefix string, attrs map[string]schema.Attribute)
	walk = func(prefix string, attrs map[string]schema.Attribute) {
		for name, a := range attrs {
			if a.GetMarkdownDescription() == "" {
				t.Errorf("attribute %s%s has no description", prefix, name)
			}
			switch n := a.(type) {
			case schema.SingleNestedAttribute:
				walk(prefix+name+".", n.Attributes)
			case schema.ListNestedAttribute:
				walk(prefix+name+"[*].", n.NestedObject.Attributes)
			}
		}
	}
	walk("", resp.Schema.Attributes)

	app := resp.Schema.Attributes["app"].(schema.SingleNestedAttribute).Attributes
	tls := resp.Schema.Attributes["tls"].(schema.SingleNestedAttribute).Attributes
	for name, a := range map[string]schema.Attribute{
		"app.secret_environment": app["secret_environment"], "app.secret_environment_wo": app["secret_environment_wo"],
		"tls.private_key_pem": tls["private_key_pem"], "tls.private_key_pem_wo": tls["private_key_pem_wo"],
	} {
		if !a.IsSensitive() {
			t.Errorf("%s must be sensitive", name)
		}
		if strings.HasSuffix(name, "_wo") != a.IsWriteOnly() {
			t.Errorf("%s: write-only is %v", name, a.IsWriteOnly())
		}
	}
}

// minimalHCL is a valid configuration that needs no host at plan time
// except for ModifyPlan's reading of the local files; tests replace parts
// of it to make it invalid.
func minimalHCL(t *testing.T, replace map[string]string, extra string) string {
	t.Helper()
	dir := t.TempDir()
	artifact := filepath.Join(dir, "app")
	if err := os.WriteFile(artifact, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{
		"host":          `"192.0.2.10"`,
		"name":          `"shop"`,
		"server_names":  `["www.example.com"]`,
		"document_root": `"/srv/www/shop"`,
		"command":       `["/opt/foobar/shop/bin/app", "-listen", "127.0.0.1:8081"]`,
		"port":          `8081`,
		"user":          `"shop"`,
		"artifact":      fmt.Sprintf("%q", artifact),
	}
	for k, v := range replace {
		vals[k] = v
	}
	return fmt.Sprintf(`
provider "foobar" {
  user = "deploy"
}
resource "foobar_web_server" "x" {
  ssh           = { host = %s }
  name          = %s
  server_names  = %s
  document_root = %s
%s
  app = {
    artifact_source = %s
    command         = %s
    port            = %s
    user            = %s
%s
  }
}
`, vals["host"], vals["name"], vals["server_names"], vals["document_root"], extra, vals["artifact"], vals["command"], vals["port"], vals["user"], vals["app_extra"])
}

// Plan-time validation: every bad value is refused before any host is
// contacted, with an error naming the attribute; secret values are never
// echoed.
func TestWebServer_invalidInputs(t *testing.T) {
	requireTerraform(t)
	cert, key := testCertPair(t, 2048)
	_, otherKey := testCertPair(t, 2048)
	cases := []struct {
		name    string
		replace map[string]string
		extra   string
		want    *regexp.Regexp
	}{
		{"site name", map[string]string{"name": `"Shop_1"`}, "", errPattern(`name = "Shop_1" is not valid`)},
		{"server name injection", map[string]string{"server_names": `["www.example.com; return 200"]`}, "", errPattern(`server_names[0] = "www.example.com; return 200" is not valid`, `contains ';'`)},
		{"document root", map[string]string{"document_root": `"/srv/www/a b"`}, "", errPattern(`document_root = "/srv/www/a b" is not valid`)},
		{"document root /etc", map[string]string{"document_root": `"/etc"`}, `source_dir = "."`, errPattern(`document_root = "/etc" is not valid`, "belongs to the system")},
		{"document root /var/lib/mysql", map[string]string{"document_root": `"/var/lib/mysql"`}, "", errPattern(`document_root = "/var/lib/mysql" is not valid`, "databases")},
		{"document root in .ssh", map[string]string{"document_root": `"/home/deploy/.ssh"`}, "", errPattern(`document_root = "/home/deploy/.ssh" is not valid`, "hidden element")},
		{"working dir /etc", map[string]string{"app_extra": `working_dir = "/etc"`}, "", errPattern(`app.working_dir = "/etc" is not valid`, "belongs to the system")},
		{"artifact over /usr/bin/ls", map[string]string{"app_extra": `artifact_path = "/usr/bin/ls"`}, "", errPattern(`app.artifact_path = "/usr/bin/ls" is not valid`, "installed software")},
		{"url prefix", nil, `static_locations = [{ url_prefix = "/static" }]`, errPattern(`static_locations[0].url_prefix = "/static" is not valid`)},
		{"duplicate url prefix", nil, `static_locations = [{ url_prefix = "/s/" }, { url_prefix = "/s/" }]`, errPattern("static_locations[1].url_prefix", `repeats static_locations[0]`)},
		{"header value", nil, `response_headers = { "X-A" = "a\"; add_header X-B b" }`, errPattern(`response_headers["X-A"]`, "is not valid")},
		{"managed header", nil, `response_headers = { "Cache-Control" = "no-store" }`, errPattern(`response_headers["Cache-Control"]`, "managed by")},
		{"port clash", map[string]string{"port": "80"}, "", errPattern("app.port", "also a port nginx listens on")},
		{"tls port clash", nil, fmt.Sprintf(`tls = { certificate_pem = %q, private_key_pem = %q, port = 80 }`, cert, key), errPattern("tls.port", "HTTPS needs a port of its own")},
		{"mismatched key", nil, fmt.Sprintf(`tls = { certificate_pem = %q, private_key_pem = %q }`, cert, otherKey), errPattern("tls.private_key_pem", "does not match")},
		{"missing key", nil, fmt.Sprintf(`tls = { certificate_pem = %q }`, cert), errPattern("tls needs the certificate's key")},
		{"bad key is not echoed", nil, fmt.Sprintf(`tls = { certificate_pem = %q, private_key_pem = "hunter2-key" }`, cert), errPattern("tls.private_key_pem is not valid", "the value is sensitive and not shown")},
		{"hsts without tls", nil, `security_headers = { hsts = {} }`, errPattern("security_headers.hsts", "HSTS needs tls")},
		{"frame options", nil, `security_headers = { frame_options = "ALLOW" }`, errPattern("security_headers.frame_options", `must be "DENY" or "SAMEORIGIN"`)},
		{"gzip types without gzip", nil, `gzip = { enabled = false, types = ["text/css"] }`, errPattern("gzip.types", "gzip.enabled is false")},
		{"timeout", nil, `timeouts = { proxy_read = "30 s" }`, errPattern(`timeouts.proxy_read = "30 s" is not valid`)},
		{"root user", map[string]string{"user": `"root"`}, "", errPattern(`app.user = "root" is not valid`, "must not run as root")},
		{"relative command", map[string]string{"command": `["app"]`}, "", errPattern("app.command[0]", "must be absolute")},
		{"command control char", map[string]string{"command": `["/bin/app", "a\nb"]`}, "", errPattern("app.command[1]", "control character")},
		{"env name", map[string]string{"app_extra": `environment = { "BAD-NAME" = "1" }`}, "", errPattern(`app.environment`, `"BAD-NAME"`, "is not valid")},
		{"secret env value is not echoed", map[string]string{"app_extra": `secret_environment = { TOKEN = "s3cr3t\u0001x" }`}, "", errPattern(`app.secret_environment["TOKEN"] is not valid`, "the value is sensitive and not shown")},
		{"duplicate env", map[string]string{"app_extra": `environment = { A = "1" }` + "\n" + `secret_environment = { A = "2" }`}, "", errPattern(`app.secret_environment["A"]`, "also set in app.environment")},
		{"health path", map[string]string{"app_extra": `health_check_path = "healthz"`}, "", errPattern(`app.health_check_path = "healthz" is not valid`)},
		{"restart mode", map[string]string{"app_extra": `restart = { mode = "sometimes" }`}, "", errPattern("app.restart.mode", `"no", "on-failure" or "always"`)},
		{"artifact missing", map[string]string{"artifact": `"/nonexistent/app"`}, "", errPattern(`app.artifact_source = "/nonexistent/app" is not valid: no such file`)},
		{"source dir missing", nil, `source_dir = "/nonexistent/public"`, errPattern(`source_dir = "/nonexistent/public" is not valid`)},
		{"ssh host", map[string]string{"host": `"web 1"`}, "", errPattern(`ssh.host = "web 1" is not valid`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      minimalHCL(t, c.replace, c.extra),
					PlanOnly:    true,
					ExpectError: c.want,
				}},
			})
		})
	}
}

// testCertPair returns a certificate for acc.test and www.acc.test and its
// RSA key of the given size, PEM, issued by a throwaway CA.
func testCertPair(t testing.TB, bits int) (string, string) {
	t.Helper()
	return acctest.NewTestCA(t).Issue(t, []string{"acc.test", "www.acc.test"}, nil, bits)
}

// ---- acceptance tests -----------------------------------------------------------

// webApp is the JSON the test application answers on /api/env.
type webApp struct {
	Hostname string            `json:"hostname"`
	Version  string            `json:"version"`
	EnvKeys  []string          `json:"env_keys"`
	Env      map[string]string `json:"env"`
	SHA256   map[string]string `json:"sha256"`
	Path     string            `json:"path"`
	FwdProto string            `json:"forwarded_proto"`
}

func getApp(t testing.TB, url, host string) webApp {
	t.Helper()
	r := acctest.MustFetch(t, vhost(host), acctest.Request{URL: url})
	if r.Status != 200 {
		t.Fatalf("GET %s (Host %s): HTTP %d: %s", url, host, r.Status, r.Body)
	}
	var a webApp
	if err := json.Unmarshal([]byte(r.Body), &a); err != nil {
		t.Fatalf("GET %s: not the test application's JSON: %v: %s", url, err, r.Body)
	}
	return a
}

// vhost is a client for the lab's web servers: any certificate, host as
// the Host header and TLS server name (none when empty), no connection
// reuse, 10 s per request.
func vhost(host string) *http.Client {
	return acctest.HTTPClient(acctest.ClientOptions{Insecure: true, Host: host, Timeout: 10 * time.Second})
}

// webConfig renders a foobar_web_server for the acceptance tests.
type webConfig struct {
	host       acctest.Host
	name       string
	serverName string
	port       int
	appPort    int
	docRoot    string
	sourceDir  string
	artifact   string
	extra      string // top-level attributes
	appExtra   string // attributes of app
	cmdExtra   string // extra command words, HCL list items
}

func (c webConfig) addr() string { return "foobar_web_server." + c.name }

func (c webConfig) hcl(inv *acctest.Inventory) string {
	return inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_web_server" %[1]q {
  %[2]s
  name          = %[1]q
  server_names  = [%[3]q]
  listen_port   = %[4]d
  document_root = %[5]q
  source_dir    = %[6]q
  static_locations = [{ url_prefix = "/static/", expires = "1h" }]
  security_headers = { frame_options = "DENY" }
  gzip             = { types = ["text/css"] }
%[7]s
  app = {
    artifact_source      = %[8]q
    command              = ["/opt/foobar/%[1]s/bin/testapp", "-listen", "127.0.0.1:%[9]d"%[10]s]
    port                 = %[9]d
    user                 = "acc-%[1]s"
    health_check_timeout = "10s"
%[11]s
  }
}
`, c.name, c.host.ConnectionHCL(), c.serverName, c.port, c.docRoot, c.sourceDir, c.extra, c.artifact, c.appPort, c.cmdExtra, c.appExtra)
}

// hostChecks runs checks on the host (out of band) as a TestCheckFunc.
func hostCheck(f func() error) resource.TestCheckFunc {
	return func(*terraform.State) error { return f() }
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// forget removes, out of band, whatever an earlier interrupted run of a
// test left of the deployment name on the host, so that the test starts
// from a host that never saw it.
func forget(t *testing.T, h acctest.Host, name string) {
	t.Helper()
	h.Exec(t, "sh", "-c", `n=$1
systemctl disable --now "foobar-$n" >/dev/null 2>&1
rm -rf "/etc/systemd/system/foobar-$n.service" "/etc/foobar/$n.env" "/opt/foobar/$n" "/srv/www/$n" "/var/lib/foobar/web/$n" \
  "/etc/nginx/sites-enabled/foobar-$n.conf" "/etc/nginx/sites-available/foobar-$n.conf" "/etc/nginx/foobar/$n"
systemctl daemon-reload
if [ -e /etc/nginx/sites-available/default ] && [ ! -e /etc/nginx/sites-enabled/default ]; then ln -s /etc/nginx/sites-available/default /etc/nginx/sites-enabled/default; fi
if systemctl is-active --quiet nginx; then systemctl reload nginx; fi`, "sh", name)
}

func cleanupUser(t *testing.T, h acctest.Host, user string) {
	t.Cleanup(func() {
		_, _ = h.TryExec("sh", "-c", "userdel "+user+" 2>/dev/null; groupdel "+user+" 2>/dev/null; true")
	})
}

// A fresh host (nginx purged out of band) becomes a web node: nginx is
// installed, the static files are served, /api/ reaches the application
// built by the test, which sees its environment; a second plan is empty; one
// changed and one removed static file send exactly that; a new artifact
// restarts the application; import adopts the host; drift (application
// stopped, site file edited, static file changed on the host) is planned
// and repaired; destroy gives Debian's default site back. It runs on every
// Debian release of the lab (web1 on bookworm, webt1 on trixie).
func TestAccWebServer_freshHost(t *testing.T) {
	requireTerraform(t)
	acctest.EachRelease(t, acctest.InParallel, func(t *testing.T, inv *acctest.Inventory, hosts acctest.Hosts) {
		testAccWebServerFreshHost(t, inv, hosts.Web1)
	})
}

func testAccWebServerFreshHost(t *testing.T, inv *acctest.Inventory, h acctest.Host) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{
		"index.html":      "<h1>acc</h1>\n",
		"static/app.css":  "body { color: black; }\n",
		"static/logo.txt": "logo\n",
	})
	v1 := acctest.BuildTestApp(t, filepath.Join(tmp, "v1"), "testapp", "v1", true)
	v2 := acctest.BuildTestApp(t, filepath.Join(tmp, "v2"), "testapp", "v2", true)
	cfg := webConfig{
		host: h, name: "fresh", serverName: "www.fresh.test", port: 80, appPort: 8081,
		docRoot: "/srv/www/fresh", sourceDir: src, artifact: v1,
		extra:    "  default_server = true\n  disable_default_site = true",
		cmdExtra: `, "-show", "GREETING"`, appExtra: `    environment = { GREETING = "hello" }`,
	}
	cleanupUser(t, h, "acc-fresh")
	base := "http://" + h.Address
	samePID := statecheck.CompareValue(compare.ValuesSame())
	newPID := statecheck.CompareValue(compare.ValuesDiffer())
	addr := cfg.addr()
	newCSS := "body { color: navy; background: white; }\n"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			out := h.Exec(t, "sh", "-c", `for p in /etc/nginx/sites-available/foobar-fresh.conf /etc/nginx/sites-enabled/foobar-fresh.conf `+
				`/etc/systemd/system/foobar-fresh.service /etc/foobar/fresh.env /opt/foobar/fresh /srv/www/fresh /var/lib/foobar/web/fresh; `+
				`do if [ -e "$p" ] || [ -L "$p" ]; then echo "left: $p"; fi; done; `+
				`[ -L /etc/nginx/sites-enabled/default ] || echo "default site not restored"; `+
				`systemctl is-active --quiet nginx || echo "nginx not running"; `+
				`getent passwd acc-fresh >/dev/null || echo "user removed"; `+
				`systemctl is-active --quiet foobar-fresh && echo "app still running"; true`)
			if strings.TrimSpace(out) != "" {
				return fmt.Errorf("after destroy on %s:\n%s", h.Name, out)
			}
			// Debian's default site serves the host's page again.
			if r := acctest.MustFetch(t, vhost(""), acctest.Request{URL: base + "/"}); r.Status != 200 || !strings.Contains(r.Body, h.Name) {
				return fmt.Errorf("default site: HTTP %d %q", r.Status, r.Body)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					forget(t, h, "fresh")
					h.Exec(t, "sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nginx nginx-common >/dev/null 2>&1; [ ! -e /etc/nginx/nginx.conf ]")
				},
				Config: cfg.hcl(inv),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("site_config"), knownvalue.StringRegexp(regexp.MustCompile(`server_name www\.fresh\.test;`))),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(h.Address+"/fresh")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("nginx_version"), knownvalue.StringRegexp(h.Version(t, "nginx", true))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("init_system"), knownvalue.StringExact("systemd")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("app_state"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("artifact_checksum"), knownvalue.StringExact(fileSHA(t, v1))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("static_checksum"), knownvalue.StringExact(localDigest(t, src))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_sync"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"files_sent": knownvalue.Int64Exact(3), "bytes_sent": knownvalue.Int64Exact(int64(13 + 23 + 5)),
						"files_unchanged": knownvalue.Int64Exact(0), "files_removed": knownvalue.Int64Exact(0), "dirs_removed": knownvalue.Int64Exact(0),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("drift"), knownvalue.ListSizeExact(0)),
					samePID.AddStateValue(addr, tfjsonpath.New("app_pid")),
				},
				Check: hostCheck(func() error {
					if out := h.Exec(t, "sh", "-c", "dpkg-query -W -f '${Status}' nginx; echo; stat -c '%U %a' /etc/foobar/fresh.env; [ -L /etc/nginx/sites-enabled/default ] && echo default-enabled; true"); !strings.Contains(out, "install ok installed") || !strings.Contains(out, "root 600") || strings.Contains(out, "default-enabled") {
						return fmt.Errorf("host state after create: %s", out)
					}
					if r := acctest.MustFetch(t, vhost("www.fresh.test"), acctest.Request{URL: base + "/static/app.css"}); r.Status != 200 || r.Body != "body { color: black; }\n" {
						return fmt.Errorf("static file: HTTP %d %q", r.Status, r.Body)
					}
					a := getApp(t, base+"/api/env", "www.fresh.test")
					if a.Hostname != h.Name || a.Version != "v1" || a.Env["GREETING"] != "hello" {
						return fmt.Errorf("application: %+v", a)
					}
					if p := getApp(t, base+"/api/orders/7", "www.fresh.test"); p.Path != "/api/orders/7" || p.FwdProto != "http" {
						return fmt.Errorf("proxied path: %+v", p)
					}
					return nil
				}),
			},
			{
				// Nothing changed: nothing to do.
				Config:           cfg.hcl(inv),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// One changed, one removed static file: exactly that is sent.
				PreConfig: func() {
					acctest.WriteTree(t, src, map[string]string{"static/app.css": newCSS, "static/logo.txt": "\x00"})
				},
				Config: cfg.hcl(inv),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("static_checksum"), knownvalue.StringFunc(func(v string) error {
						if want := localDigest(t, src); v != want { // computed after PreConfig changed the files
							return fmt.Errorf("static_checksum %s, want %s", v, want)
						}
						return nil
					})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_sync"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"files_sent": knownvalue.Int64Exact(1), "bytes_sent": knownvalue.Int64Exact(int64(len(newCSS))),
						"files_unchanged": knownvalue.Int64Exact(1), "files_removed": knownvalue.Int64Exact(1), "dirs_removed": knownvalue.Int64Exact(0),
					})),
					samePID.AddStateValue(addr, tfjsonpath.New("app_pid")), // the application was not restarted
					newPID.AddStateValue(addr, tfjsonpath.New("app_pid")),
				},
				Check: hostCheck(func() error {
					if out, err := h.TryExec("test", "-e", "/srv/www/fresh/static/logo.txt"); err == nil {
						return fmt.Errorf("logo.txt is still on the host %s", out)
					}
					if r := acctest.MustFetch(t, vhost("www.fresh.test"), acctest.Request{URL: base + "/static/app.css"}); r.Status != 200 || r.Body != newCSS {
						return fmt.Errorf("changed static file: HTTP %d %q", r.Status, r.Body)
					}
					if r := acctest.MustFetch(t, vhost("www.fresh.test"), acctest.Request{URL: base + "/static/logo.txt"}); r.Status != 404 {
						return fmt.Errorf("removed static file: HTTP %d", r.Status)
					}
					return nil
				}),
			},
			{
				// A new artifact: deployed, the application restarted.
				Config: func() string { c := cfg; c.artifact = v2; return c.hcl(inv) }(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("artifact_checksum"), knownvalue.StringExact(fileSHA(t, v2))),
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("app_pid")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{newPID.AddStateValue(addr, tfjsonpath.New("app_pid"))},
				Check: hostCheck(func() error {
					if a := getApp(t, base+"/api/env", "www.fresh.test"); a.Version != "v2" {
						return fmt.Errorf("after the new artifact the application reports %q", a.Version)
					}
					return nil
				}),
			},
			{
				// Import adopts the host from the record the provider keeps there.
				Config:                               func() string { c := cfg; c.artifact = v2; return c.hcl(inv) }(),
				ResourceName:                         addr,
				ImportState:                          true,
				ImportStateId:                        h.Address + "/fresh",
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "id",
				ImportStateVerifyIgnore:              []string{"last_sync"},
			},
			{
				// The ID form of earlier versions (NAME@HOST) still imports.
				Config:                               func() string { c := cfg; c.artifact = v2; return c.hcl(inv) }(),
				ResourceName:                         addr,
				ImportState:                          true,
				ImportStateId:                        "fresh@" + h.Address,
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "id",
				ImportStateVerifyIgnore:              []string{"last_sync"},
			},
			{
				// Drift on the host: the application stopped, the site file
				// edited, a static file changed. The plan repairs all of it.
				PreConfig: func() {
					h.Exec(t, "sh", "-c", "systemctl stop foobar-fresh; echo '# edited by hand' >> /etc/nginx/sites-available/foobar-fresh.conf; "+
						"echo tampered > /srv/www/fresh/index.html; printf x >> /opt/foobar/fresh/bin/testapp")
				},
				Config: func() string { c := cfg; c.artifact = v2; return c.hcl(inv) }(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					acctest.ExpectDrift(addr, "the application service is inactive", "static files differ from source_dir: 1 changed",
						"the site file differs from the one deployed", "the artifact differs from the one deployed"),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("app_state"), knownvalue.StringExact("active")),
				}},
				Check: hostCheck(func() error {
					out := h.Exec(t, "sh", "-c", "systemctl is-active foobar-fresh; grep -c 'edited by hand' /etc/nginx/sites-available/foobar-fresh.conf; cat /srv/www/fresh/index.html; sha256sum < /opt/foobar/fresh/bin/testapp")
					if out != "active\n0\n<h1>acc</h1>\n"+fileSHA(t, v2)+"  -\n" {
						return fmt.Errorf("drift not repaired: %q", out)
					}
					return nil
				}),
			},
		},
	})
}

// A document root that holds files the provider did not put there keeps
// them through create, an update that removes one of the provider's files
// and destroy: the sync removes only what its own record names (issue 13.4).
func TestAccWebServer_foreignFilesKept(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h := inv.Host(t, "web2")
	tmp := t.TempDir()
	v1 := filepath.Join(tmp, "v1")
	acctest.WriteTree(t, v1, map[string]string{"index.html": "ours\n", "static/a.css": "a{}\n", "static/b.css": "b{}\n"})
	v2 := filepath.Join(tmp, "v2")
	acctest.WriteTree(t, v2, map[string]string{"index.html": "ours\n", "static/a.css": "a{}\n"})
	app := acctest.BuildTestApp(t, filepath.Join(tmp, "app"), "testapp", "v1", true)
	forget(t, h, "foreign")
	// Files and a directory that someone else put there before the resource.
	h.Exec(t, "sh", "-c", "mkdir -p /srv/www/foreign/static /srv/www/foreign/theirs && echo mine > /srv/www/foreign/theirs.txt && "+
		"echo mine > /srv/www/foreign/static/theirs.css && echo mine > /srv/www/foreign/theirs/deep.txt")
	t.Cleanup(func() { _, _ = h.TryExec("rm", "-rf", "/srv/www/foreign") })
	cleanupUser(t, h, "acc-foreign")
	cfg := webConfig{host: h, name: "foreign", serverName: "foreign.acc.test", port: 8090, appPort: 8091,
		docRoot: "/srv/www/foreign", sourceDir: v1, artifact: app}
	// tree lists what is under the document root, with contents.
	tree := func() string {
		return h.Exec(t, "sh", "-c", `cd /srv/www/foreign && find . -type f | sort | while read -r f; do printf '%s=%s\n' "$f" "$(cat "$f")"; done`)
	}
	theirs := "./static/theirs.css=mine\n./theirs.txt=mine\n./theirs/deep.txt=mine\n"
	expectTree := func(want string) resource.TestCheckFunc {
		return hostCheck(func() error {
			if got := tree(); got != want {
				return fmt.Errorf("document root holds:\n%s\nwant:\n%s", got, want)
			}
			return nil
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if got := tree(); got != theirs {
				return fmt.Errorf("after destroy the document root holds:\n%s\nwant only the foreign files:\n%s", got, theirs)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg.hcl(inv),
				Check:  expectTree("./index.html=ours\n./static/a.css=a{}\n./static/b.css=b{}\n" + theirs),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(cfg.addr(), tfjsonpath.New("drift"), knownvalue.ListSizeExact(0)),
				},
			},
			{
				Config: func() string { c := cfg; c.sourceDir = v2; return c.hcl(inv) }(),
				Check: resource.ComposeTestCheckFunc(
					expectTree("./index.html=ours\n./static/a.css=a{}\n"+theirs),
					resource.TestCheckResourceAttr(cfg.addr(), "last_sync.files_removed", "1"),
				),
			},
		},
	})
}

func fileSHA(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha(string(b))
}

func localDigest(t testing.TB, dir string) string {
	t.Helper()
	files, _, err := nginx.WalkStatic(dir)
	if err != nil {
		t.Fatal(err)
	}
	return nginx.ManifestDigest(nginx.Hashes(files))
}

// Failures leave the host serving: an artifact that never passes its
// health check fails the apply with the application's log lines and the
// previous artifact runs again; a certificate that passes plan validation
// but that the host's OpenSSL refuses (RSA 1024 at security level 2) fails
// nginx -t, and the old site keeps serving; afterwards the configuration of
// the first step plans nothing. A document root that existed before is
// left in place by destroy.
func TestAccWebServer_failuresKeepServing(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h := inv.Host(t, "web2")
	src, good, bad := goodAndBadApp(t)
	forget(t, h, "keep")
	// A document root that is there before the resource.
	h.Exec(t, "sh", "-c", "mkdir -p /srv/www/keep && echo before > /srv/www/keep/before.txt")
	t.Cleanup(func() { _, _ = h.TryExec("rm", "-rf", "/srv/www/keep") })
	cleanupUser(t, h, "acc-keep")
	cfg := webConfig{host: h, name: "keep", serverName: "keep.acc.test", port: 8080, appPort: 8082,
		docRoot: "/srv/www/keep", sourceDir: src, artifact: good}
	weakCert, weakKey := testCertPair(t, 1024)
	base := "http://" + h.Address + ":8080"
	addr := cfg.addr()
	stillGood := func() {
		t.Helper()
		if a := getApp(t, base+"/api/env", "keep.acc.test"); a.Version != "good" || a.Hostname != "web2" {
			t.Errorf("the previous application does not serve: %+v", a)
		}
		out := h.Exec(t, "sh", "-c", "systemctl is-active foobar-keep; sha256sum < /opt/foobar/keep/bin/testapp; ls /opt/foobar/keep/bin/")
		if want := "active\n" + fileSHA(t, good) + "  -\ntestapp\n"; out != want {
			t.Errorf("the previous artifact is not the one in place and running:\n%s\nwant\n%s", out, want)
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			out := h.Exec(t, "sh", "-c", `[ -d /srv/www/keep ] || echo "pre-existing document root removed"; `+
				`for p in /etc/nginx/sites-available/foobar-keep.conf /etc/nginx/sites-enabled/foobar-keep.conf /etc/nginx/foobar/keep /etc/systemd/system/foobar-keep.service /opt/foobar/keep; `+
				`do if [ -e "$p" ] || [ -L "$p" ]; then echo "left: $p"; fi; done; nginx -t 2>/dev/null || echo "nginx -t fails"`)
			if strings.TrimSpace(out) != "" {
				return fmt.Errorf("after destroy on web2:\n%s", out)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg.hcl(inv),
				Check: hostCheck(func() error {
					stillGood()
					return nil
				}),
			},
			{
				// The new artifact never gets healthy: rolled back.
				Config: func() string { c := cfg; c.artifact = bad; return c.hcl(inv) }(),
				ExpectError: errPattern("Deploy Application Error", "foobar-keep did not pass its health check GET http://127.0.0.1:8082/healthz within 10s",
					"last answer: HTTP 503", "Last lines of its log (journalctl -u foobar-keep)", "version bad: health check failing on purpose",
					"The new configuration was rolled back and verified"),
			},
			{
				PreConfig: stillGood,
				// A certificate nginx -t refuses (key too small for the host's OpenSSL).
				Config: func() string {
					c := cfg
					c.extra = fmt.Sprintf("  tls = {\n    certificate_pem = %q\n    private_key_pem = %q\n    port = 8443\n  }", weakCert, weakKey)
					return c.hcl(inv)
				}(),
				ExpectError: errPattern("Apply Nginx Site Error", "validation of the new configuration failed", "nginx -t", "ee key too small",
					"Nothing was applied, no live file was changed and the service was not reloaded: the previous configuration is serving"),
			},
			{
				PreConfig: func() {
					stillGood()
					if _, err := acctest.Fetch(context.Background(), vhost("keep.acc.test"), acctest.Request{URL: "https://" + h.Address + ":8443/"}); err == nil {
						t.Error("port 8443 answers: the refused TLS site was loaded")
					}
					if out := h.Exec(t, "sh", "-c", "grep -c ssl_certificate /etc/nginx/sites-available/foobar-keep.conf; ls /etc/nginx/sites-available/ | grep -c foobar-"); out != "0\n1\n" {
						t.Errorf("refused site file left on the host: %q", out)
					}
				},
				// Everything is as the first step left it.
				Config:           cfg.hcl(inv),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("artifact_checksum"), knownvalue.StringExact(fileSHA(t, good))),
				},
			},
		},
	})
}

// tfRun runs the Terraform CLI in dir with a trace log, and returns its
// combined output and the log.
func tfRun(t *testing.T, dir, cli, log string, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), "TF_CLI_CONFIG_FILE="+cli, "TF_LOG=trace", "TF_LOG_PATH="+log,
		"CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	b, rerr := os.ReadFile(log)
	if rerr != nil {
		t.Fatalf("terraform %s wrote no trace log: %v", args[0], rerr)
	}
	return string(out), string(b), err
}

// Secrets (a sensitive and a write-only environment value, and a
// write-only TLS key) reach the application but appear neither in the
// output of terraform plan, apply or destroy, nor in their trace logs
// (which hold the provider's own trace log), nor in the process list on
// the host, nor in any file other users can read there; the write-only
// values are not in the plan file or the state either. An invalid secret
// is refused at plan time without being echoed.
//
// This runs the Terraform CLI itself against a provider binary built by
// the test (dev_overrides), so that the whole output and log are seen.
func TestAccWebServer_secretsNeverLeak(t *testing.T) {
	requireTerraform(t)
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (as resource.Test requires)")
	}
	inv := acctest.Lab(t)
	h := inv.Host(t, "web2")
	forget(t, h, "sec")
	cleanupUser(t, h, "acc-sec")
	wo := terraformAtLeast111(t)

	dir := t.TempDir()
	cli := devOverrideCLI(t, dir)

	sensitive := randomSecret(t, "sens-")
	writeOnly := randomSecret(t, "wo-")
	cert, key := testCertPair(t, 2048)
	keyLine := strings.Split(key, "\n")[3] // a line of the key's base64 body
	secrets := acctest.Secrets{"sensitive env": sensitive, "TLS key": keyLine}
	writeOnlySecrets := acctest.Secrets{"write-only env": writeOnly, "TLS key": keyLine}
	// The secrets come in through variables, as operators pass them: the
	// sensitive ones are stored in plan files and the state (that is what
	// the sensitive alternative means), the write-only ones come from
	// ephemeral variables (Terraform 1.10+) and are stored nowhere.
	vars := "variable \"sens\" {\n  type      = string\n  sensitive = true\n}\n"
	env := []string{"TF_VAR_sens=" + sensitive, "TF_VAR_key=" + key, "TF_VAR_wo=" + writeOnly}
	secretBlock := "    secret_environment = { SEC_SENSITIVE = var.sens }\n"
	tlsBlock := fmt.Sprintf("  tls = {\n    certificate_pem = %q\n    private_key_pem = var.key\n    port = 8453\n  }\n", cert)
	vars += "variable \"key\" {\n  type      = string\n  sensitive = true\n}\n"
	if wo {
		secrets["write-only env"] = writeOnly
		vars = "variable \"sens\" {\n  type      = string\n  sensitive = true\n}\n" +
			"variable \"key\" {\n  type      = string\n  ephemeral = true\n}\n" +
			"variable \"wo\" {\n  type      = string\n  ephemeral = true\n}\n"
		secretBlock += "    secret_environment_wo = { SEC_WO = var.wo }\n    secret_environment_wo_version = 1\n"
		tlsBlock = fmt.Sprintf("  tls = {\n    certificate_pem = %q\n    private_key_pem_wo = var.key\n    private_key_pem_wo_version = 1\n    port = 8453\n  }\n", cert)
	} else {
		vars += "variable \"wo\" {\n  type    = string\n  default = \"\"\n}\n"
	}
	src := filepath.Join(dir, "public")
	acctest.WriteTree(t, src, map[string]string{"static/s.txt": "s\n"})
	app := acctest.BuildTestApp(t, filepath.Join(dir, "app"), "testapp", "sec", true)
	cfg := webConfig{host: h, name: "sec", serverName: "sec.acc.test", port: 8090, appPort: 8083,
		docRoot: "/srv/www/sec", sourceDir: src, artifact: app, extra: tlsBlock,
		cmdExtra: `, "-hash", "SEC_SENSITIVE,SEC_WO"`, appExtra: secretBlock}
	work := filepath.Join(dir, "work")
	acctest.WriteTree(t, work, map[string]string{"main.tf": "terraform {\n  required_providers {\n    foobar = { source = \"foobar/foobar\" }\n  }\n}\n" + vars + cfg.hcl(inv)})

	noLeak := func(what, text string) {
		t.Helper()
		if err := secrets.In(what, text); err != nil {
			t.Error(err)
		}
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_, _, _ = tfRun(t, work, cli, filepath.Join(dir, "cleanup.log"), env, "destroy", "-auto-approve", "-no-color")
		}
	})

	out, log, err := tfRun(t, work, cli, filepath.Join(dir, "plan.log"), env, "plan", "-no-color", "-input=false", "-out=tfplan")
	if err != nil {
		t.Fatalf("terraform plan: %v\n%s", err, out)
	}
	if !strings.Contains(out, "(sensitive value)") || !strings.Contains(log, "provider.terraform-provider-foobar") {
		t.Fatalf("unexpected plan output or a log without the provider's lines:\n%s", out)
	}
	noLeak("the plan output", out)
	noLeak("the plan's trace log", log)
	show, _, err := tfRun(t, work, cli, filepath.Join(dir, "show.log"), env, "show", "-json", "tfplan")
	if err != nil {
		t.Fatalf("terraform show: %v", err)
	}
	if err := writeOnlySecrets.In("the plan file", show); wo && err != nil {
		t.Error(err)
	}

	out, log, err = tfRun(t, work, cli, filepath.Join(dir, "apply.log"), env, "apply", "-no-color", "-input=false", "tfplan")
	if err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	noLeak("the apply output", out)
	noLeak("the apply's trace log", log)
	t.Logf("write-only attributes: %v; checked %d secrets in: apply output %d bytes, apply trace log %d bytes (%d lines of the provider)",
		wo, len(secrets), len(out), len(log), strings.Count(log, "provider.terraform-provider-foobar"))
	if !strings.Contains(log, "web server deployed") {
		t.Error("the apply's trace log lacks the provider's own messages")
	}

	// The application got the values (it shows only their sha256).
	a := getApp(t, "http://"+h.Address+":8090/api/env", "sec.acc.test")
	want := map[string]string{"SEC_SENSITIVE": sha(sensitive)}
	if wo {
		want["SEC_WO"] = sha(writeOnly)
	}
	if diff := cmp.Diff(want, a.SHA256); diff != "" {
		t.Errorf("the application's secrets (-want +got sha256):\n%s", diff)
	}
	if r, err := acctest.Fetch(context.Background(), vhost("sec.acc.test"), acctest.Request{URL: "https://" + h.Address + ":8453/healthz"}); err != nil || r.Status != 200 {
		t.Errorf("HTTPS with the deployed key: %d %v", r.Status, err)
	}

	// The host: not in the process list, not in files others can read.
	for _, s := range secrets {
		h.HostHasNoSecret(t, s, "/etc", "/opt", "/var/lib/foobar", "/run", "/var/log", "/srv", "/tmp")
	}
	if out := h.Exec(t, "stat", "-c", "%U %G %a", "/etc/foobar/sec.env", "/etc/nginx/foobar/sec/key.pem"); out != "root root 600\nroot root 600\n" {
		t.Errorf("secret files on the host: %q", out)
	}

	state, err := os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeOnlySecrets.In("the state", string(state)); wo && err != nil {
		t.Error(err)
	}

	// A second plan is empty and still leaks nothing.
	out, log, err = tfRun(t, work, cli, filepath.Join(dir, "plan2.log"), env, "plan", "-no-color", "-input=false", "-detailed-exitcode")
	if err != nil {
		t.Errorf("second plan is not empty (%v):\n%s", err, out)
	}
	noLeak("the second plan's output", out)
	noLeak("the second plan's trace log", log)

	// An invalid secret is refused without being echoed.
	bad := randomSecret(t, "bad-")
	badCfg := cfg
	badCfg.appExtra = fmt.Sprintf("    secret_environment = { SEC_SENSITIVE = \"%s\\u0007\" }\n", bad)
	badDir := filepath.Join(dir, "bad")
	acctest.WriteTree(t, badDir, map[string]string{"main.tf": "terraform {\n  required_providers {\n    foobar = { source = \"foobar/foobar\" }\n  }\n}\n" + vars + badCfg.hcl(inv)})
	out, log, err = tfRun(t, badDir, cli, filepath.Join(dir, "bad.log"), env, "plan", "-no-color", "-input=false")
	if err == nil || !strings.Contains(out, "the value is sensitive and not shown") {
		t.Errorf("an invalid secret was not refused as expected (%v):\n%s", err, out)
	}
	if strings.Contains(out, bad) || strings.Contains(log, bad) {
		t.Error("an invalid secret value is echoed in the plan output or log")
	}

	out, log, err = tfRun(t, work, cli, filepath.Join(dir, "destroy.log"), env, "destroy", "-auto-approve", "-no-color", "-input=false")
	if err != nil {
		t.Fatalf("terraform destroy: %v\n%s", err, out)
	}
	destroyed = true
	noLeak("the destroy output", out)
	noLeak("the destroy's trace log", log)
	if out, _ := h.TryExec("sh", "-c", "ls /etc/foobar/sec.env /etc/nginx/foobar/sec /srv/www/sec 2>/dev/null; true"); strings.TrimSpace(out) != "" {
		t.Errorf("left after destroy: %s", out)
	}
}

// A site whose files are in place but whose sites-enabled link was removed
// by hand is enabled again by the next apply; when nginx refuses the site
// once enabled (here an operator's conf.d file declares the site's upstream
// a second time), the link never appears on the host, not even while nginx
// -t runs: a watcher on web2 reads the link's target and runs nginx -t on
// the live configuration in a tight loop throughout the refused apply.
// Once the clash is gone, the apply enables the site.
func TestAccWebServer_relinkValidatedFirst(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h := inv.Host(t, "web2")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{"static/ok.txt": "ok\n"})
	app := acctest.BuildTestApp(t, filepath.Join(tmp, "app"), "testapp", "v1", true)
	forget(t, h, "relink")
	cleanupUser(t, h, "acc-relink")
	const link, clash = "/etc/nginx/sites-enabled/foobar-relink.conf", "/etc/nginx/conf.d/foobar-acc-clash.conf"
	t.Cleanup(func() { _, _ = h.TryExec("sh", "-c", "rm -f "+clash+"; systemctl reload nginx") })
	cfg := webConfig{host: h, name: "relink", serverName: "relink.acc.test", port: 8090, appPort: 8092,
		docRoot: "/srv/www/relink", sourceDir: src, artifact: app}
	var w *acctest.Watch
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg.hcl(inv)},
			{
				PreConfig: func() {
					h.Exec(t, "sh", "-c", `rm -- "$1" && printf 'upstream foobar_relink_app { server 127.0.0.1:1; }\n' > "$2" && nginx -t -q && systemctl reload nginx`, "sh", link, clash)
					w = h.WatchLive(t, link, "nginx", "-t", "-q")
				},
				Config:      cfg.hcl(inv),
				ExpectError: errPattern("nginx -t", `duplicate upstream "foobar_relink_app"`),
			},
			{
				PreConfig: func() {
					r := w.Stop(t)
					t.Logf("the watcher read the link %d times and ran nginx -t %d times", r.Samples, r.Checks)
					if r.Start != "missing" || len(r.Changes) > 0 {
						t.Errorf("the link of the refused site appeared on the host: started as %q, then %v", r.Start, r.Changes)
					}
					for _, f := range r.Failures {
						t.Errorf("a reload during the refused apply would have loaded an invalid configuration: nginx -t said: %s", f)
					}
					if r.Samples == 0 || r.Checks == 0 {
						t.Errorf("the watcher did not run: %d samples, %d checks", r.Samples, r.Checks)
					}
					h.Exec(t, "rm", "--", clash)
				},
				Config: cfg.hcl(inv),
				Check: hostCheck(func() error {
					if out := h.Exec(t, "sh", "-c", `readlink -- "$1"; nginx -t -q && echo valid`, "sh", link); out != "/etc/nginx/sites-available/foobar-relink.conf\nvalid\n" {
						return fmt.Errorf("the site was not enabled again: %q", out)
					}
					if a := getApp(t, "http://"+h.Address+":8090/api/env", "relink.acc.test"); a.Version != "v1" {
						return fmt.Errorf("the site does not serve the application: %+v", a)
					}
					return nil
				}),
			},
		},
	})
}

// goodAndBadApp makes a static tree (static/ok.txt) and two builds of the
// test application: "good", whose health check passes, and "bad", whose
// health check fails on purpose.
func goodAndBadApp(t *testing.T) (src, good, bad string) {
	t.Helper()
	tmp := t.TempDir()
	src = filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{"static/ok.txt": "ok\n"})
	good = acctest.BuildTestApp(t, filepath.Join(tmp, "good"), "testapp", "good", true)
	bad = acctest.BuildTestApp(t, filepath.Join(tmp, "bad"), "testapp", "bad", false)
	return src, good, bad
}

// TestAccWebServer_failedFirstInstall: the first apply of a web server whose
// application never gets healthy fails, and the rollback leaves nothing of
// the application behind: the process it started is stopped, its unit file
// and boot link are gone, and no error tells the operator to clean up by
// hand (the rollback used to try to enable the unit it had just removed,
// which failed and left the process running without a unit). What the
// create did leave (the deployment record, the working directory it made)
// is kept in the state, tainted: removing the resource from the
// configuration destroys it off the host, and after a second failure an
// apply with a healthy artifact replaces it.
func TestAccWebServer_failedFirstInstall(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h := inv.Host(t, "web1")
	src, good, bad := goodAndBadApp(t)
	forget(t, h, "firstfail")
	t.Cleanup(func() { forget(t, h, "firstfail") })
	cleanupUser(t, h, "acc-firstfail")
	cfg := webConfig{host: h, name: "firstfail", serverName: "firstfail.acc.test", port: 8087, appPort: 8088,
		docRoot: "/srv/www/firstfail", sourceDir: src, artifact: bad}
	const addr = "foobar_web_server.firstfail"
	// What the failed first apply may leave of the application: the
	// service running or known to systemd, its unit, its boot link, a
	// process of its user.
	leftovers := func() string {
		return strings.TrimSpace(h.Exec(t, "sh", "-c", `
systemctl is-active --quiet foobar-firstfail && echo "foobar-firstfail is active"
systemctl is-failed --quiet foobar-firstfail && echo "foobar-firstfail is failed"
for p in /etc/systemd/system/foobar-firstfail.service /etc/systemd/system/multi-user.target.wants/foobar-firstfail.service; do
  if [ -e "$p" ] || [ -L "$p" ]; then echo "left: $p"; fi
done
pgrep -u acc-firstfail >/dev/null 2>&1 && echo "a process of acc-firstfail runs"
true`))
	}
	// What the failed create does leave, and Terraform's state now tracks:
	// the deployment record and the working directory it created.
	recorded := func() string {
		return strings.TrimSpace(h.Exec(t, "sh", "-c", `
for p in /var/lib/foobar/web/firstfail/meta.json /opt/foobar/firstfail; do
  if [ -e "$p" ]; then echo "$p"; fi
done
true`))
	}
	failed := errPattern("Deploy Application Error", "foobar-firstfail did not pass its health check",
		"Nothing of it existed on the host before", "none of these files is left")
	noAppLeft := func() {
		if left := leftovers(); left != "" {
			t.Fatalf("after the failed first install on web1:\n%s", left)
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg.hcl(inv), ExpectError: failed},
			// The failed create is in the state, tainted: with the resource
			// gone from the configuration, the plan destroys it, and the
			// destroy takes its record and working directory off the host.
			{
				PreConfig: func() {
					noAppLeft()
					if got := recorded(); got != "/var/lib/foobar/web/firstfail/meta.json\n/opt/foobar/firstfail" {
						t.Fatalf("after the failed first install on web1, want the record and the working directory (kept in the state), got:\n%s", got)
					}
				},
				Config: inv.ProviderHCL(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroy),
				}},
				Check: hostCheck(func() error {
					if got := recorded(); got != "" {
						return fmt.Errorf("after destroying the failed create, left on web1:\n%s", got)
					}
					return nil
				}),
			},
			{Config: cfg.hcl(inv), ExpectError: failed},
			// Fixed, the next apply replaces the tainted resource.
			{
				PreConfig: noAppLeft,
				Config:    func() string { c := cfg; c.artifact = good; return c.hcl(inv) }(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace),
				}},
				Check: hostCheck(func() error {
					if out := h.Exec(t, "systemctl", "is-active", "foobar-firstfail"); strings.TrimSpace(out) != "active" {
						return fmt.Errorf("foobar-firstfail after the second apply: %q, want active", out)
					}
					return nil
				}),
			},
		},
	})
}
