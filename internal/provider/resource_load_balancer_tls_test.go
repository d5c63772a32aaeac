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

// backendTLSHCL is two foobar_web_server sites with an HTTPS listener on
// 8443 (certificates for backendTLSName from the test's CA) behind
// foobar_load_balancer, whose backend "web" talks TLS to them, verified
// against caPEM and serverName. plain points the servers at the sites'
// plain-HTTP port instead of their TLS port.
func backendTLSHCL(inv *acctest.Inventory, lb acctest.Host, webs [2]acctest.Host, certs, keys [2]string, artifact, src, caPEM, serverName string, plain bool) string {
	port := "tls.port"
	if plain {
		port = "listen_port"
	}
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
	return hcl + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %[1]s
  frontends = [{ name = "www", port = 80, default_backend = "web" }]
  backends = [{
    name = "web"
    servers = [
      { name = "web1", address = foobar_web_server.tls1.ssh.host, port = foobar_web_server.tls1.%[2]s },
      { name = "web2", address = foobar_web_server.tls2.ssh.host, port = foobar_web_server.tls2.%[2]s },
    ]
    tls = {
      ca_pem      = %[3]q
      server_name = %[4]q
    }
    health_check = {
      path     = "/healthz"
      interval = "500ms"
      rise     = 1
      fall     = 2
    }
  }]
  stats = {
    bind_address = "0.0.0.0"
    user         = "admin"
    password     = "s3cret-Pw"
  }
}
`, lb.ConnectionHCL(), port, caPEM, serverName)
}

// TestAccLoadBalancer_backendTLS: HAProxy on lb1 talks to Nginx on web1
// and web2 over TLS with the servers' certificates verified, health checks
// included. With the CA that issued the sites' certificates both servers
// are UP and requests through the load balancer are answered by the
// application behind Nginx's HTTPS listener (Nginx tells it the scheme:
// https); the CA file is on the host, root-owned. Then, each time with the
// sites unchanged: a CA that did not issue the certificates, a server name
// the certificates do not hold, and servers that speak plain HTTP on the
// port (the sites' port 80) each take both servers DOWN in HAProxy's
// statistics, and the load balancer answers 503 rather than send a request
// to an unverified server.
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
	cfg := func(caPEM, serverName string, plain bool) string {
		return backendTLSHCL(inv, lb.Host, webs, certs, keys, artifact, src, caPEM, serverName, plain)
	}

	c := acctest.HTTPClient(acctest.ClientOptions{Timeout: 5 * time.Second})
	url := "http://" + lb.Address + "/"
	stats := "http://" + lb.Address + ":8404"
	// Checks every 500ms, down after 2 failures; a new worker's first
	// failed check takes a server down at once.
	const limit = 10 * time.Second
	allStatus := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			for _, s := range []string{"web1", "web2"} {
				took, err := lbWaitStatus(t, c, stats, s, func(st string) bool { return strings.HasPrefix(st, want) }, limit)
				if err != nil {
					return err
				}
				t.Logf("%s %s after %s", s, want, took.Round(time.Millisecond))
			}
			return nil
		}
	}
	refused := func(*terraform.State) error {
		if r := acctest.MustFetch(t, c, acctest.Request{URL: url}); r.Status != http.StatusServiceUnavailable {
			return fmt.Errorf("request through the load balancer: status %d, want 503 (no verified server): %.200q", r.Status, r.Body)
		}
		return nil
	}
	unchangedWebs := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction("foobar_web_server.tls1", plancheck.ResourceActionNoop),
		plancheck.ExpectResourceAction("foobar_web_server.tls2", plancheck.ResourceActionNoop),
		plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
	}}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{
			{
				Config: cfg(ca.PEM, backendTLSName, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					lbExpectRendered{after: []string{"ssl verify required ca-file " + haproxy.FilesDir + "/ca-web.", "sni str(" + backendTLSName + ") check-sni " + backendTLSName + " verifyhost " + backendTLSName}},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					allStatus("UP"),
					func(*terraform.State) error {
						seen := map[string]int{}
						for range 6 {
							r := acctest.MustFetch(t, c, acctest.Request{URL: url})
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
						files := strings.Fields(lb.Exec(t, "sh", "-c", "stat -c '%n:%a:%U' "+haproxy.FilesDir+"/ca-web.*.pem"))
						if len(files) != 1 || !strings.HasSuffix(files[0], ":644:root") {
							return fmt.Errorf("CA file on %s: %v, want one, mode 644, owner root", lb.Name, files)
						}
						if got := lb.Exec(t, "cat", strings.SplitN(files[0], ":", 2)[0]); strings.TrimSpace(got) != strings.TrimSpace(ca.PEM) {
							return fmt.Errorf("CA file on %s does not hold the configured CA", lb.Name)
						}
						return nil
					},
				),
			},
			{
				// A CA that did not issue the certificates: the checks fail
				// verification.
				Config:           cfg(otherCA.PEM, backendTLSName, false),
				ConfigPlanChecks: unchangedWebs,
				Check:            resource.ComposeAggregateTestCheckFunc(allStatus("DOWN"), refused),
			},
			{
				// The right CA, a name the certificates do not hold.
				Config:           cfg(ca.PEM, "other.backend.test", false),
				ConfigPlanChecks: unchangedWebs,
				Check:            resource.ComposeAggregateTestCheckFunc(allStatus("DOWN"), refused),
			},
			{
				// The right CA and name, but the servers' port speaks plain
				// HTTP.
				Config:           cfg(ca.PEM, backendTLSName, true),
				ConfigPlanChecks: unchangedWebs,
				Check:            resource.ComposeAggregateTestCheckFunc(allStatus("DOWN"), refused),
			},
		},
	})
}
