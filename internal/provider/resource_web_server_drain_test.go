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
)

// TestAccWebServer_rollingDeployDrains (issue 14.2): a new artifact applied
// to web1 and then web2 (web2 depends on web1), each behind HAProxy on lb1
// and each with a drain that matches the load balancer's health check,
// while a client sends about 50 GET/s and 10 POST/s through the load
// balancer: zero failed requests. Each web server leaves the rotation
// before its application restarts (its health check answers 503) and
// comes back only once healthy.
func TestAccWebServer_rollingDeployDrains(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{"index.html": "<h1>roll</h1>\n"})
	v1 := acctest.BuildTestApp(t, filepath.Join(tmp, "v1"), "testapp", "v1", true)
	v2 := acctest.BuildTestApp(t, filepath.Join(tmp, "v2"), "testapp", "v2", true)
	for _, h := range []acctest.Host{web1, web2} {
		forget(t, h, "roll")
		cleanupUser(t, h, "acc-roll")
	}
	// The load balancer checks /healthz every 500ms: down after 2
	// failures, up after 1 success. The drains say the same.
	const drain = `  default_server       = true
  disable_default_site = true
  drain = { health_check_interval = "500ms", fall = 2, rise = 1 }`
	web := func(h acctest.Host, label, artifact, extra string) string {
		c := webConfig{host: h, name: "roll", serverName: "www.roll.test", port: 80, appPort: 8087,
			docRoot: "/srv/www/roll", sourceDir: src, artifact: artifact, extra: drain + extra}
		return strings.Replace(strings.TrimPrefix(c.hcl(inv), inv.ProviderHCL()), `resource "foobar_web_server" "roll"`, `resource "foobar_web_server" "`+label+`"`, 1)
	}
	config := func(artifact string) string {
		return inv.ProviderHCL() + web(web1, "roll1", artifact, "") + web(web2, "roll2", artifact, "\n  depends_on = [foobar_web_server.roll1]") + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %s
  frontends = [{
    name            = "www"
    port            = 80
    default_backend = "web"
  }]
  backends = [{
    name = "web"
    servers = [
      { name = "web1", address = %q, port = 80 },
      { name = "web2", address = %q, port = 80 },
    ]
    health_check = {
      path          = "/healthz"
      host          = "www.roll.test"
      expect_status = 200
      interval      = "500ms"
      rise          = 1
      fall          = 2
    }
  }]
  stats = {
    bind_address = "0.0.0.0"
    user         = "admin"
    password     = "s3cret-Pw"
  }
}
`, lb.ConnectionHCL(), web1.Address, web2.Address)
	}
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true, Timeout: 10 * time.Second})
	url := "http://" + lb.Address + "/api/orders"
	stats := "http://" + lb.Address + ":8404"
	// accept: the test application's answer, from web1 or web2, to the
	// method it was sent.
	accept := func(method string) func(string) error {
		return func(body string) error {
			var a struct{ Hostname, Version, Method string }
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				return fmt.Errorf("not the application's answer: %.100q", body)
			}
			if a.Method != method || (a.Hostname != web1.Name && a.Hostname != web2.Name) {
				return fmt.Errorf("unexpected answer %q", body)
			}
			return nil
		}
	}
	var gets, posts *acctest.LoadGen
	versions := func() map[string]int {
		seen := map[string]int{}
		for range 20 {
			r, err := acctest.Fetch(t.Context(), c, acctest.Request{URL: url})
			if err != nil || r.Status != http.StatusOK {
				continue
			}
			var a struct{ Hostname, Version string }
			if json.Unmarshal([]byte(r.Body), &a) == nil {
				seen[a.Hostname+" "+a.Version]++
			}
		}
		return seen
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if gets != nil {
				gets.Stop()
				posts.Stop()
			}
			return lb.checkRestored(s)
		},
		Steps: []resource.TestStep{
			{Config: config(v1)},
			{
				// A new artifact on both, one after the other, under load.
				PreConfig: func() {
					if err := lbtWaitAll(t, c, stats, func(s string) bool { return strings.HasPrefix(s, "UP") }, "web1", "web2"); err != nil {
						t.Fatal(err)
					}
					gets = acctest.StartLoad(c, url, acctest.LoadOptions{Workers: 2, Pause: 35 * time.Millisecond, MaxDuration: 5 * time.Minute, Accept: accept(http.MethodGet)})
					posts = acctest.StartLoad(c, url, acctest.LoadOptions{Workers: 1, Pause: 95 * time.Millisecond, MaxDuration: 5 * time.Minute,
						Method: http.MethodPost, JSON: []byte(`{"order":1}`), Accept: accept(http.MethodPost)})
					time.Sleep(2 * time.Second) // traffic on both servers before the deploy starts
				},
				Config: config(v2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("foobar_web_server.roll1", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("foobar_web_server.roll2", plancheck.ResourceActionUpdate),
				}},
				Check: hostCheck(func() error {
					time.Sleep(time.Second) // traffic on both servers after the deploy
					g, p := gets.Stop(), posts.Stop()
					acctest.Report("rolling deploy of a new artifact to web1 then web2 through HAProxy: GET %d requests, %d failed (%.0f/s); POST %d requests, %d failed (%.0f/s); answered by %d distinct bodies",
						g.Requests, g.Failures, g.RPS(), p.Requests, p.Failures, p.RPS(), len(g.Bodies)+len(p.Bodies))
					if g.Failures > 0 || p.Failures > 0 {
						return fmt.Errorf("failed requests during the rolling deploy: GET %d of %d %q; POST %d of %d %q",
							g.Failures, g.Requests, g.Errors, p.Failures, p.Requests, p.Errors)
					}
					if g.Requests < 100 || p.Requests < 20 {
						return fmt.Errorf("too little traffic to say anything: GET %d, POST %d", g.Requests, p.Requests)
					}
					seen := versions()
					if seen[web1.Name+" v2"] == 0 || seen[web2.Name+" v2"] == 0 || seen[web1.Name+" v1"]+seen[web2.Name+" v1"] > 0 {
						return fmt.Errorf("after the deploy the load balancer's answers came from %v, want v2 on both", seen)
					}
					return nil
				}),
			},
		},
	})
}
