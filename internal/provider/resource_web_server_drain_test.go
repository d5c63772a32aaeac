// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
)

// comeBackLimit bounds the time from a SIGKILL to the first request
// answered again through HAProxy by the killed server: systemd's
// RestartSec (1 s), nginx's start, and HAProxy's rise × interval (500 ms).
const comeBackLimit = 10 * time.Second

// nRestarts is systemd's restart counter of a unit (NRestarts): it grows
// only when systemd itself restarts the service after it died.
func nRestarts(t *testing.T, h acctest.Host, unit string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(h.Exec(t, "systemctl", "show", "-p", "NRestarts", "--value", unit)))
	if err != nil {
		t.Fatalf("%s: NRestarts of %s: %v", h.Name, unit, err)
	}
	return n
}

// killAndWaitBack kills every process named proc on h with SIGKILL and
// polls, without any apply, until ok says the service answers again; it
// returns how long that took. systemd must have restarted unit (its
// NRestarts grew): the service came back by itself, not by accident.
func killAndWaitBack(t *testing.T, h acctest.Host, proc, unit string, ok func() bool) (time.Duration, error) {
	t.Helper()
	before := nRestarts(t, h, unit)
	h.Exec(t, "pkill", "-KILL", "-x", proc)
	killed := time.Now()
	// The kill really took the service down: nothing of it is left
	// running until systemd restarts it.
	if !acctest.Poll(comeBackLimit, ok) {
		state, _ := h.TryExec("systemctl", "show", "-p", "ActiveState,SubState,Restart,NRestarts", unit)
		return time.Since(killed), fmt.Errorf("%s: %s killed with SIGKILL was not answering again after %s (no apply ran); systemd: %s",
			h.Name, unit, comeBackLimit, strings.Join(strings.Fields(state), " "))
	}
	took := time.Since(killed)
	if after := nRestarts(t, h, unit); after <= before {
		return took, fmt.Errorf("%s: %s answers, but systemd did not restart it (NRestarts %d -> %d): was it killed?", h.Name, unit, before, after)
	}
	return took, nil
}

// answeredBy sends one GET through the load balancer and reports whether
// the test application on host name answered it.
func answeredBy(c *http.Client, url, name string) bool {
	r, err := acctest.Fetch(context.Background(), c, acctest.Request{URL: url})
	if err != nil || r.Status != http.StatusOK {
		return false
	}
	var a struct{ Hostname string }
	return json.Unmarshal([]byte(r.Body), &a) == nil && (name == "" || a.Hostname == name)
}

// TestAccWebServer_rollingDeployAndCrashes (issue 14.2), on web1 and web2
// behind HAProxy on lb1:
//
//   - a new artifact applied to web1 and then web2 (web2 depends on web1),
//     each with a drain that matches the load balancer's health check,
//     while a client sends about 50 GET/s and 10 POST/s through the load
//     balancer: zero failed requests. Each web server leaves the rotation
//     before its application restarts (its health check answers 503) and
//     comes back only once healthy;
//   - services come back by themselves: foobar_web_server puts its restart
//     drop-in for nginx in place (systemd's Restart= is then on-failure);
//     nginx killed with SIGKILL on web1 is restarted by systemd and HAProxy
//     sends requests to web1 again within comeBackLimit, with no apply;
//     HAProxy killed with SIGKILL on lb1 (Debian's haproxy.service has
//     Restart=always of its own) answers again too;
//   - the drop-in deleted by hand is drift that apply repairs; destroy takes
//     it away.
//
// One test for both, so that the lab's hosts are set up and torn down once.
func TestAccWebServer_rollingDeployAndCrashes(t *testing.T) {
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
	t.Cleanup(func() { _, _ = web1.TryExec("systemctl", "start", "nginx") })
	dropIn := nginx.RestartDropIn(nginx.Layout{})
	checkDropIn := func(h acctest.Host) error {
		got := h.Exec(t, "sh", "-c", `cat "$1"; echo "policy=$(systemctl show -p Restart --value nginx)"`, "sh", dropIn.Path())
		if want := string(dropIn.Render()) + "policy=on-failure\n"; got != want {
			return fmt.Errorf("%s: the restart drop-in and systemd's Restart= of nginx:\n%s\nwant:\n%s", h.Name, got, want)
		}
		return nil
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
			if err := lb.checkRestored(s); err != nil {
				return err
			}
			for _, h := range []acctest.Host{web1, web2} {
				out := h.Exec(t, "sh", "-c", `[ -e "$1" ] && echo "left: $1"; [ -d "$(dirname "$1")" ] && echo "left: $(dirname "$1")"; echo "policy=$(systemctl show -p Restart --value nginx)"`, "sh", dropIn.Path())
				if out != "policy=no\n" {
					return fmt.Errorf("%s after destroy: %s", h.Name, out)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config(v1),
				Check: hostCheck(func() error {
					return errors.Join(checkDropIn(web1), checkDropIn(web2))
				}),
			},
			{
				// A new artifact on both, one after the other, under load.
				PreConfig: func() {
					if err := lbtWaitAll(t, c, stats, func(s string) bool { return strings.HasPrefix(s, "UP") }, "web1", "web2"); err != nil {
						t.Fatal(err)
					}
					for _, h := range []acctest.Host{web1, web2} {
						// /run/foobar as foobar_firewall leaves it (0700): the
						// drain's flag must still be visible to nginx's
						// workers (it was not, under /run/foobar/drain).
						h.Exec(t, "sh", "-c", "mkdir -p /run/foobar && chmod 700 /run/foobar")
						// The drain log from this deploy only (emptied, not
						// removed: nginx writes to the file it opened).
						h.Exec(t, "sh", "-c", `if [ -e "$1" ]; then : > "$1"; fi`, "sh", nginx.DrainLogPath(nginx.Layout{}, "roll"))
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
					// Each server was drained: its health check answered
					// lb1's checks 503 at least fall (2) times before its
					// application restarted.
					for _, h := range []acctest.Host{web1, web2} {
						out := h.Exec(t, "sh", "-c", `grep -c "^$1 503\$" "$2" || true`, "sh", lb.Address, nginx.DrainLogPath(nginx.Layout{}, "roll"))
						if n, _ := strconv.Atoi(strings.TrimSpace(out)); n < 2 {
							return fmt.Errorf("%s: the drain log shows %q failed checks from lb1 (%s), want at least fall = 2", h.Name, strings.TrimSpace(out), lb.Address)
						}
					}
					seen := versions()
					if seen[web1.Name+" v2"] == 0 || seen[web2.Name+" v2"] == 0 || seen[web1.Name+" v1"]+seen[web2.Name+" v1"] > 0 {
						return fmt.Errorf("after the deploy the load balancer's answers came from %v, want v2 on both", seen)
					}

					// nginx killed on web1: back in rotation by itself.
					took, err := killAndWaitBack(t, web1, "nginx", "nginx", func() bool { return answeredBy(c, url, web1.Name) })
					if err != nil {
						return err
					}
					acctest.Report("nginx killed with SIGKILL on web1: answered again through HAProxy by web1 after %s, no apply", took.Round(time.Millisecond))
					// HAProxy killed on lb1: answering again by itself.
					took, err = killAndWaitBack(t, lb.Host, "haproxy", "haproxy", func() bool { return answeredBy(c, url, "") })
					if err != nil {
						return err
					}
					acctest.Report("haproxy killed with SIGKILL on lb1: answering again after %s, no apply", took.Round(time.Millisecond))
					return nil
				}),
			},
			{
				// The drop-in removed by hand: drift, repaired by apply (the
				// framework's plan after the step must then be empty).
				PreConfig: func() {
					web1.Exec(t, "sh", "-c", `rm -f "$1" && systemctl daemon-reload`, "sh", dropIn.Path())
				},
				Config: config(v2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("foobar_web_server.roll1", plancheck.ResourceActionUpdate),
					acctest.ExpectDrift("foobar_web_server.roll1", "nginx's restart drop-in "+dropIn.Path()+" is missing"),
				}},
				Check: hostCheck(func() error { return checkDropIn(web1) }),
			},
		},
	})
}
