// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
)

// backendTLSName is the name every web server's certificate holds and the
// load balancer verifies in TestAccLoadBalancer_backendTLS.
const backendTLSName = "web.backend.test"

// backendTLSCase is one backend of TestAccLoadBalancer_backendTLS: the
// same two sites, verified against ca for name, on their TLS port or (plain)
// on their plain-HTTP port; want is the servers' status.
type backendTLSCase struct {
	backend, ca, name string
	plain             bool
	want              string
}

// backendTLSHCL is two foobar_web_server sites with an HTTPS listener on
// 8443 (certificates for backendTLSName from the test's CA) behind one
// foobar_load_balancer with a backend per case, each talking TLS to both
// sites; requests under /<backend>/ go to that backend, the rest to the
// first.
func backendTLSHCL(inv *acctest.Inventory, lb acctest.Host, webs [2]acctest.Host, certs, keys [2]string, artifact, src string, cases []backendTLSCase) string {
	hcl := inv.ProviderHCL()
	for i, h := range webs {
		hcl += fmt.Sprintf(`
resource "foobar_web_server" "tls%[1]d" {
  %[2]s
  name          = "lbtls"
  server_names  = [%[3]q]
  listen_port   = 80
  document_root = "/srv/www/lbtls"
  source_dir    = %[4]q
  tls = {
    certificate_pem = %[5]q
    private_key_pem = %[6]q
    port            = 8443
  }
  app = {
    artifact_source      = %[7]q
    command              = ["/opt/foobar/lbtls/bin/testapp", "-listen", "127.0.0.1:8091"]
    port                 = 8091
    user                 = "acc-lbtls"
    health_check_timeout = "10s"
  }
}
`, i+1, h.ConnectionHCL(), backendTLSName, src, certs[i], keys[i], artifact)
	}
	var rules, backends string
	for _, c := range cases {
		port := "tls.port"
		if c.plain {
			port = "listen_port"
		}
		rules += fmt.Sprintf("      { path_prefix = \"/%s/\", backend = %q },\n", c.backend, c.backend)
		backends += fmt.Sprintf(`    {
      name = %[1]q
      servers = [
        { name = "web1", address = foobar_web_server.tls1.ssh.host, port = foobar_web_server.tls1.%[2]s },
        { name = "web2", address = foobar_web_server.tls2.ssh.host, port = foobar_web_server.tls2.%[2]s },
      ]
      tls          = { ca_pem = %[3]q, server_name = %[4]q }
      health_check = { path = "/healthz", interval = "500ms", rise = 1, fall = 2 }
    },
`, c.backend, port, c.ca, c.name)
	}
	return hcl + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %[1]s
  frontends = [{
    name            = "www"
    port            = 80
    rules = [
%[2]s    ]
    default_backend = %[3]q
  }]
  backends = [
%[4]s  ]
  stats = {
    bind_address = "0.0.0.0"
    user         = "admin"
    password     = "s3cret-Pw"
  }
}
`, lb.ConnectionHCL(), rules, cases[0].backend, backends)
}

// backendTLSStatus reads the stats CSV through the stats listener and
// returns the status of every server, by "backend/server".
func backendTLSStatus(t *testing.T, c *http.Client, stats string) map[string]haproxy.ServerStatus {
	t.Helper()
	r := acctest.MustFetch(t, c, acctest.Request{URL: stats + "/stats;csv", User: "admin", Password: "s3cret-Pw"})
	servers, err := haproxy.ParseStat(r.Body)
	if err != nil {
		t.Fatalf("stats CSV: %v", err)
	}
	out := map[string]haproxy.ServerStatus{}
	for _, s := range servers {
		out[s.Backend+"/"+s.Server] = s
	}
	return out
}

// TestAccLoadBalancer_backendTLS: HAProxy on lb1 talks to Nginx on web1
// and web2 (foobar_web_server with a tls listener) over TLS with the
// servers' certificates verified, health checks included. One apply, one
// backend per case, each over both sites:
//   - "good": the CA that issued the sites' certificates and the name they
//     hold: both servers UP, and requests through the load balancer are
//     answered by the application behind Nginx's HTTPS listener (Nginx
//     tells it the scheme: https);
//   - "wrongca": a CA that did not issue them; "wrongname": a name they do
//     not hold; "plain": the sites' plain-HTTP port: both servers DOWN with
//     a layer-6 (TLS) check failure, and requests to the backend get 503,
//     never an unverified server.
//
// The CA files are on the host, root-owned, one per backend.
func TestAccLoadBalancer_backendTLS(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	webs := [2]acctest.Host{web1, web2}
	for _, h := range webs {
		forget(t, h, "lbtls")
		cleanupUser(t, h, "acc-lbtls")
		t.Cleanup(func() { forget(t, h, "lbtls") })
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{"index.html": "<h1>lbtls</h1>\n"})
	artifact := acctest.BuildTestApp(t, filepath.Join(tmp, "app"), "testapp", "v1", true)

	ca, otherCA := acctest.NewTestCA(t), acctest.NewTestCA(t)
	var certs, keys [2]string
	for i := range webs {
		certs[i], keys[i] = ca.Issue(t, []string{backendTLSName}, nil, 0)
	}
	cases := []backendTLSCase{
		{backend: "good", ca: ca.PEM, name: backendTLSName, want: "UP"},
		{backend: "wrongca", ca: otherCA.PEM, name: backendTLSName, want: "DOWN"},
		{backend: "wrongname", ca: ca.PEM, name: "other.backend.test", want: "DOWN"},
		{backend: "plain", ca: ca.PEM, name: backendTLSName, plain: true, want: "DOWN"},
	}
	c := acctest.HTTPClient(acctest.ClientOptions{Timeout: 5 * time.Second})
	base := "http://" + lb.Address
	stats := base + ":8404"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{{
			Config: backendTLSHCL(inv, lb.Host, webs, certs, keys, artifact, src, cases),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				lbExpectRendered{after: []string{
					"ssl verify required ca-file " + haproxy.FilesDir + "/ca-good.",
					"sni str(" + backendTLSName + ") check-sni " + backendTLSName + " verifyhost " + backendTLSName + "\n",
				}},
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				lb.checkHostMatchesState(t),
				func(*terraform.State) error {
					// Checks every 500ms, down after 2 failures.
					var last map[string]haproxy.ServerStatus
					settled := acctest.Poll(10*time.Second, func() bool {
						last = backendTLSStatus(t, c, stats)
						for _, tc := range cases {
							for _, srv := range []string{"web1", "web2"} {
								s := last[tc.backend+"/"+srv]
								if s.Status != tc.want || tc.want == "DOWN" && !strings.Contains(s.CheckStatus, "L6") {
									return false
								}
							}
						}
						return true
					})
					for _, tc := range cases {
						for _, srv := range []string{"web1", "web2"} {
							s := last[tc.backend+"/"+srv]
							t.Logf("%s/%s: %s, last check %s (want %s)", tc.backend, srv, s.Status, s.CheckStatus, tc.want)
						}
					}
					if !settled {
						return fmt.Errorf("servers did not reach the expected status (DOWN with a layer-6 check failure where TLS must fail) within 10s: %v", last)
					}
					return nil
				},
				func(*terraform.State) error {
					seen := map[string]int{}
					for range 6 {
						r := acctest.MustFetch(t, c, acctest.Request{URL: base + "/"})
						if r.Status != http.StatusOK {
							return fmt.Errorf("request through the load balancer: status %d: %.200q", r.Status, r.Body)
						}
						var a webApp
						if err := json.Unmarshal([]byte(r.Body), &a); err != nil {
							return fmt.Errorf("not the application's answer: %w: %.200q", err, r.Body)
						}
						if a.FwdProto != "https" {
							return fmt.Errorf("the application saw X-Forwarded-Proto %q from Nginx, want https (the request reached Nginx's TLS listener)", a.FwdProto)
						}
						seen[a.Hostname]++
					}
					if len(seen) != 2 {
						return fmt.Errorf("want answers from both web servers, got %v", seen)
					}
					for _, tc := range cases[1:] {
						if r := acctest.MustFetch(t, c, acctest.Request{URL: base + "/" + tc.backend + "/"}); r.Status != http.StatusServiceUnavailable {
							return fmt.Errorf("request to backend %s: status %d, want 503 (no verified server): %.200q", tc.backend, r.Status, r.Body)
						}
					}
					return nil
				},
				func(*terraform.State) error {
					files := strings.Fields(lb.Exec(t, "sh", "-c", "stat -c '%n:%a:%U' "+haproxy.FilesDir+"/ca-*.pem"))
					if len(files) != len(cases) {
						return fmt.Errorf("CA files on %s: %v, want one per backend", lb.Name, files)
					}
					for _, f := range files {
						if !strings.HasSuffix(f, ":644:root") {
							return fmt.Errorf("CA file on %s: %s, want mode 644, owner root", lb.Name, f)
						}
					}
					return nil
				},
			),
		}},
	})
}
