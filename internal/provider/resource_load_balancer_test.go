// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
)

const lbAddr = "foobar_load_balancer.lb"

// lbHost is a load balancer host of the lab and what the test needs to
// leave it as it found it.
type lbHost struct {
	acctest.Host
	stock    string // haproxy.cfg before the test
	stockSHA string
}

// prepareLB records lb's haproxy.cfg and registers a cleanup that puts it
// back (with the resource's files removed and HAProxy reloaded) if the test
// left anything behind, so later tests find the host as this one did.
func prepareLB(t testing.TB, h acctest.Host) *lbHost {
	t.Helper()
	if _, err := h.TryExec("test", "-x", "/usr/sbin/haproxy"); err != nil {
		// An earlier run died between purge and reinstall.
		h.Exec(t, "sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null")
	}
	stock := h.Exec(t, "cat", haproxy.ConfigPath)
	lh := &lbHost{Host: h, stock: stock, stockSHA: apply.Checksum([]byte(stock))}
	if strings.HasPrefix(stock, haproxy.Header) {
		t.Fatalf("%s: %s is managed by an earlier run that was not cleaned up", h.Name, haproxy.ConfigPath)
	}
	t.Cleanup(func() {
		if _, err := h.TryExec("test", "-x", "/usr/sbin/haproxy"); err != nil {
			t.Logf("%s: reinstalling haproxy after the test", h.Name)
			h.Exec(t, "sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null")
		}
		cur, _ := h.TryExec("cat", haproxy.ConfigPath)
		leftovers, _ := h.TryExec("sh", "-c", "ls -d /etc/haproxy/*.foobar-* /etc/haproxy/foobar /var/lib/foobar/haproxy 2>/dev/null; true")
		if cur == stock && strings.TrimSpace(leftovers) == "" {
			return
		}
		t.Logf("%s: restoring %s and removing the resource's files after the test", h.Name, haproxy.ConfigPath)
		h.ExecInput(t, stock, "sh", "-c", "cat > /etc/haproxy/haproxy.cfg && rm -rf /etc/haproxy/*.foobar-* /etc/haproxy/foobar /var/lib/foobar/haproxy && systemctl reload-or-restart haproxy")
	})
	return lh
}

// checkRestored is a CheckDestroy: the host's haproxy.cfg is byte for byte
// what it was before the test, HAProxy runs, and none of the resource's
// files remain.
func (lh *lbHost) checkRestored(*terraform.State) error {
	cur, err := lh.TryExec("cat", haproxy.ConfigPath)
	if err != nil {
		return err
	}
	if sum := apply.Checksum([]byte(cur)); sum != lh.stockSHA {
		return fmt.Errorf("%s: %s was not restored: sha256 %s, want %s; content:\n%s", lh.Name, haproxy.ConfigPath, sum, lh.stockSHA, cur)
	}
	if _, err := lh.TryExec("systemctl", "is-active", "--quiet", "haproxy"); err != nil {
		return fmt.Errorf("%s: haproxy is not active after delete", lh.Name)
	}
	left, _ := lh.TryExec("sh", "-c", "ls -d /etc/haproxy/*.foobar-* /etc/haproxy/foobar /var/lib/foobar/haproxy 2>/dev/null; true")
	if strings.TrimSpace(left) != "" {
		return fmt.Errorf("%s: files left behind after delete: %s", lh.Name, left)
	}
	return nil
}

func (lh *lbHost) processes(t *testing.T) haproxy.Processes {
	t.Helper()
	p, err := haproxy.ParseProcesses(lh.Exec(t, haproxy.ProcessesArgv()...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// liveView is the redacted view of the host's haproxy.cfg, which must equal
// rendered_config in state.
func (lh *lbHost) liveView(t *testing.T) string {
	t.Helper()
	return string(haproxy.Redact([]byte(lh.Exec(t, "cat", haproxy.ConfigPath))))
}

// checkHostMatchesState compares the host's file with rendered_config and
// checks the record's mode.
func (lh *lbHost) checkHostMatchesState(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[lbAddr]
		if !ok {
			return fmt.Errorf("%s not in state", lbAddr)
		}
		want := rs.Primary.Attributes["rendered_config"]
		if got := lh.liveView(t); got != want {
			return fmt.Errorf("%s on %s does not match rendered_config:\n--- host ---\n%s\n--- state ---\n%s", haproxy.ConfigPath, lh.Name, got, want)
		}
		if got, want := rs.Primary.Attributes["config_sha256"], apply.Checksum([]byte(want)); got != want {
			return fmt.Errorf("config_sha256 = %s, want sha256(rendered_config) %s", got, want)
		}
		if mode := strings.TrimSpace(lh.Exec(t, "stat", "-c", "%a %U %G", haproxy.ConfigPath)); mode != "640 root haproxy" {
			return fmt.Errorf("%s: mode/owner %q, want 640 root haproxy", haproxy.ConfigPath, mode)
		}
		if mode := strings.TrimSpace(lh.Exec(t, "stat", "-c", "%a %U", haproxy.RecordPath)); mode != "600 root" {
			return fmt.Errorf("%s: mode/owner %q, want 600 root", haproxy.RecordPath, mode)
		}
		return nil
	}
}

// lbAlternates checks that n requests through url alternate strictly between
// the two web hosts, each answering n/2 times.
func lbAlternates(t *testing.T, c *http.Client, url string, n int, a, b string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		fromNewWorker(c)
		seq := acctest.Sequence(t, c, url, n)
		for i := 1; i < len(seq); i++ {
			if seq[i] == seq[i-1] {
				return fmt.Errorf("round robin did not alternate at request %d: %v", i+1, seq)
			}
		}
		cnt := acctest.Count(seq)
		if cnt[a] != n/2 || cnt[b] != n/2 {
			return fmt.Errorf("want %d answers each from %s and %s, got %v", n/2, a, b, cnt)
		}
		return nil
	}
}

// fromNewWorker closes c's idle keep-alive connections before a check of
// what the configuration just applied does. After a reload the old worker
// still answers one more request on each kept-alive client connection
// (option idle-close-on-response: it is not closed under the client), with
// the old configuration, and then closes it.
func fromNewWorker(c *http.Client) { c.CloseIdleConnections() }

// lbRatio checks that n requests are split exactly as the weights say.
func lbRatio(t *testing.T, c *http.Client, url string, n int, want map[string]int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		fromNewWorker(c)
		cnt := acctest.Count(acctest.Sequence(t, c, url, n))
		for k, v := range want {
			if cnt[k] != v {
				return fmt.Errorf("of %d requests want %v, got %v", n, want, cnt)
			}
		}
		return nil
	}
}

func lbWebServers(inv *acctest.Inventory, t *testing.T) (acctest.Host, acctest.Host) {
	return inv.Host(t, "web1"), inv.Host(t, "web2")
}

// basicLB is the seed design: one frontend on port 80, round robin over
// web1 and web2 with HTTP health checks, and a stats page with credentials
// and the Prometheus exporter on port 8404 (reachable from the test).
func basicLB(inv *acctest.Inventory, lb acctest.Host, web1, web2 acctest.Host, w1, w2 string) string {
	return inv.ProviderHCL() + fmt.Sprintf(`
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
      { name = "web1", address = %q, port = 80 %s },
      { name = "web2", address = %q, port = 80 %s },
    ]
    health_check = {
      path          = "/"
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
    prometheus   = true
  }
}
`, lb.ConnectionHCL(), web1.Address, w1, web2.Address, w2)
}

// lbExpectRendered is a plan check on rendered_config's planned value.
type lbExpectRendered struct {
	before, after []string // substrings the prior and planned values must hold
	notAfter      []string
}

func (e lbExpectRendered) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != lbAddr {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		b, _ := before["rendered_config"].(string)
		a, _ := after["rendered_config"].(string)
		for _, s := range e.before {
			if !strings.Contains(b, s) {
				resp.Error = fmt.Errorf("prior rendered_config lacks %q:\n%s", s, b)
				return
			}
		}
		for _, s := range e.after {
			if !strings.Contains(a, s) {
				resp.Error = fmt.Errorf("planned rendered_config lacks %q:\n%s", s, a)
				return
			}
		}
		for _, s := range e.notAfter {
			if strings.Contains(a, s) {
				resp.Error = fmt.Errorf("planned rendered_config holds %q:\n%s", s, a)
				return
			}
		}
		return
	}
	resp.Error = fmt.Errorf("no change for %s in the plan", lbAddr)
}

// TestAccLoadBalancer_basic: lb1 in front of web1 and web2. Round robin
// alternates exactly; weights change the ratio; the stats page needs its
// credentials and Prometheus answers; a second apply plans and reloads
// nothing; hand edits (a directive, the redacted password) show as an
// update and apply puts the file back; a config this provider wrote
// imports with no diff; delete restores Debian's file byte for byte. It runs
// on every Debian release of the lab (lb1 on bookworm, lbt1 on trixie).
func TestAccLoadBalancer_basic(t *testing.T) {
	requireTerraform(t)
	acctest.EachRelease(t, acctest.InParallel, testAccLoadBalancerBasic)
}

func testAccLoadBalancerBasic(t *testing.T, inv *acctest.Inventory, hosts acctest.Hosts) {
	lb := prepareLB(t, hosts.LB)
	web1, web2 := hosts.Web1, hosts.Web2
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
	url := "http://" + lb.Address + "/"
	stats := "http://" + lb.Address + ":8404"
	equal := basicLB(inv, lb.Host, web1, web2, "", "")
	weighted := basicLB(inv, lb.Host, web1, web2, ", weight = 3", ", weight = 1")
	var before haproxy.Processes

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{
			{
				Config: equal,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionCreate),
					lbExpectRendered{after: []string{haproxy.Header, "stats auth admin:" + haproxy.Redacted, "server web2 " + web2.Address + ":80 check"}, notAfter: []string{"s3cret-Pw"}},
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("id"), knownvalue.StringExact(lb.Address)),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("haproxy_version"), knownvalue.StringRegexp(lb.Version(t, "haproxy", true))),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("haproxy_package_version"), knownvalue.StringRegexp(lb.Version(t, "haproxy", false))),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("install"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("frontends").AtSliceIndex(0).AtMapKey("forward_for"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("config_sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					lbAlternates(t, c, url, 20, web1.Name, web2.Name),
					func(*terraform.State) error {
						if r := acctest.MustFetch(t, c, acctest.Request{URL: stats + "/stats"}); r.Status != http.StatusUnauthorized {
							return fmt.Errorf("stats page without credentials: status %d, want 401", r.Status)
						}
						if r := acctest.MustFetch(t, c, acctest.Request{URL: stats + "/stats", User: "admin", Password: "wrong"}); r.Status != http.StatusUnauthorized {
							return fmt.Errorf("stats page with a wrong password: status %d, want 401", r.Status)
						}
						if r := acctest.MustFetch(t, c, acctest.Request{URL: stats + "/stats", User: "admin", Password: "s3cret-Pw"}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Statistics Report") {
							return fmt.Errorf("stats page with credentials: status %d", r.Status)
						}
						if r := acctest.MustFetch(t, c, acctest.Request{URL: stats + "/metrics"}); r.Status != http.StatusOK || !strings.Contains(r.Body, "haproxy_process_") {
							return fmt.Errorf("prometheus endpoint: status %d, body %.200q", r.Status, r.Body)
						}
						// The password is on the host only.
						if !strings.Contains(lb.Exec(t, "cat", haproxy.ConfigPath), "stats auth admin:s3cret-Pw") {
							return fmt.Errorf("the host's haproxy.cfg lacks the real stats auth line")
						}
						return nil
					},
				),
			},
			{
				// Same configuration: nothing planned, nothing written,
				// nothing reloaded.
				PreConfig: func() { before = lb.processes(t) },
				Config:    equal,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: func(*terraform.State) error {
					if after := lb.processes(t); !slices.Equal(after.Workers, before.Workers) || after.Master != before.Master {
						return fmt.Errorf("HAProxy was reloaded by an empty apply: before %s, after %s", before, after)
					}
					return nil
				},
			},
			{
				PreConfig: func() { before = lb.processes(t) },
				Config:    weighted,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
					lbExpectRendered{before: []string{"server web1 " + web1.Address + ":80 check\n"}, after: []string{"server web1 " + web1.Address + ":80 check weight 3\n"}},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					lbRatio(t, c, url, 40, map[string]int{web1.Name: 30, web2.Name: 10}),
					func(*terraform.State) error {
						after := lb.processes(t)
						if after.Master != before.Master || len(after.NewWorkers(before)) == 0 {
							return fmt.Errorf("want a reload (same master, a new worker): before %s, after %s", before, after)
						}
						return nil
					},
				),
			},
			{
				// A hand edit on the host shows as an update with a readable
				// diff, and apply puts the file back.
				PreConfig: func() {
					lb.Exec(t, "sed", "-i", "s/weight 3$/weight 9/", haproxy.ConfigPath)
				},
				Config: weighted,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
					lbExpectRendered{before: []string{"weight 9\n"}, after: []string{"weight 3\n"}, notAfter: []string{"weight 9"}},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(lb.checkHostMatchesState(t), lbRatio(t, c, url, 40, map[string]int{web1.Name: 30, web2.Name: 10})),
			},
			{
				// Only the (redacted) password changed on the host: still
				// drift, and apply restores it.
				PreConfig: func() {
					lb.Exec(t, "sed", "-i", "s/admin:s3cret-Pw/admin:hacked/", haproxy.ConfigPath)
				},
				Config: weighted,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
					lbExpectRendered{before: []string{"a redacted secret"}, notAfter: []string{"a redacted secret", "hacked"}},
				}},
				Check: func(*terraform.State) error {
					if r := acctest.MustFetch(t, c, acctest.Request{URL: stats + "/stats", User: "admin", Password: "s3cret-Pw"}); r.Status != http.StatusOK {
						return fmt.Errorf("stats password not restored: status %d", r.Status)
					}
					return nil
				},
			},
			{
				// Import by address, as an import block: no change planned.
				ResourceName:    lbAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   lb.Address,
			},
			{
				// And with terraform import: the state is identical.
				ResourceName:      lbAddr,
				ImportState:       true,
				ImportStateId:     "deploy@" + lb.Address + ":22",
				ImportStateVerify: true,
				// The import ID's user and port land in ssh; the
				// configuration leaves them to the provider block.
				ImportStateVerifyIgnore: []string{"ssh.user", "ssh.port"},
			},
		},
	})
}

// lbServerStatus reads the stats CSV through the stats listener and returns
// the status of backend web's server.
func lbServerStatus(t *testing.T, c *http.Client, stats, server string) string {
	t.Helper()
	r := acctest.MustFetch(t, c, acctest.Request{URL: stats + "/stats;csv", User: "admin", Password: "s3cret-Pw"})
	servers, err := haproxy.ParseStat(r.Body)
	if err != nil {
		t.Fatalf("stats CSV: %v", err)
	}
	for _, s := range servers {
		if s.Backend == "web" && s.Server == server {
			return s.Status
		}
	}
	t.Fatalf("server %s not in the stats CSV", server)
	return ""
}

// lbWaitStatus polls the stats CSV until server has a status matching want,
// and returns how long that took.
func lbWaitStatus(t *testing.T, c *http.Client, stats, server string, want func(string) bool, limit time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < limit {
		if last = lbServerStatus(t, c, stats, server); want(last) {
			return time.Since(start), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("server %s still %q after %s", server, last, limit)
}

func lbWebBody(names ...string) func(string) error {
	return func(body string) error {
		if slices.Contains(names, body) {
			return nil
		}
		return fmt.Errorf("unexpected body %q", body)
	}
}

// TestAccLoadBalancer_traffic: a web server that stops is taken out within
// fall × interval while a client sending requests continuously sees no
// failure, and rejoins when it starts again; a change applied while a load
// generator runs through the load balancer (a server added) fails no
// request.
func TestAccLoadBalancer_traffic(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	t.Cleanup(func() { _, _ = web2.TryExec("systemctl", "start", "nginx") })
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
	url := "http://" + lb.Address + "/"
	stats := "http://" + lb.Address + ":8404"
	// Health checks every 500ms, down after 2 failures: out within 1s.
	const fallTime = 2 * 500 * time.Millisecond
	two := basicLB(inv, lb.Host, web1, web2, "", "")
	// A third server: web1 again under another name.
	three := strings.Replace(two, `{ name = "web2"`, fmt.Sprintf(`{ name = "web1b", address = %q, port = 80 },
      { name = "web2"`, web1.Address), 1)
	var load *acctest.LoadGen
	var before haproxy.Processes

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{
			{
				Config: two,
				Check: func(*terraform.State) error {
					load := acctest.StartLoad(c, url, acctest.LoadOptions{Workers: 3, Pause: 5 * time.Millisecond, MaxDuration: 60 * time.Second, Accept: lbWebBody(web1.Name, web2.Name)})
					time.Sleep(500 * time.Millisecond)
					stopped := time.Now()
					web2.Exec(t, "systemctl", "stop", "nginx")
					took, err := lbWaitStatus(t, c, stats, "web2", func(s string) bool { return strings.HasPrefix(s, "DOWN") }, 10*fallTime)
					if err != nil {
						load.Stop()
						return err
					}
					t.Logf("web2 marked DOWN %s after nginx stopped (fall × interval = %s)", time.Since(stopped).Round(time.Millisecond), fallTime)
					// Check intervals are not aligned with the stop: allow one
					// interval and the polling delay on top.
					if took > fallTime+500*time.Millisecond+300*time.Millisecond {
						load.Stop()
						return fmt.Errorf("web2 went DOWN only after %s, want within fall × interval (%s) plus one interval", took, fallTime)
					}
					mid := load.Snapshot()
					time.Sleep(time.Second)
					after := load.Snapshot()
					if n := after.Bodies[web2.Name] - mid.Bodies[web2.Name]; n != 0 {
						load.Stop()
						return fmt.Errorf("web2 got %d requests while DOWN", n)
					}
					if after.Bodies[web1.Name] == mid.Bodies[web1.Name] {
						load.Stop()
						return fmt.Errorf("web1 got no traffic while web2 was down")
					}
					web2.Exec(t, "systemctl", "start", "nginx")
					if _, err := lbWaitStatus(t, c, stats, "web2", func(s string) bool { return s == "UP" }, 10*time.Second); err != nil {
						load.Stop()
						return err
					}
					mid = load.Snapshot()
					time.Sleep(time.Second)
					res := load.Stop()
					if n := res.Bodies[web2.Name] - mid.Bodies[web2.Name]; n == 0 {
						return fmt.Errorf("web2 did not rejoin: no request after it came back UP")
					}
					t.Logf("continuous client during stop/start of web2: %s", res)
					if res.Failures != 0 || res.Requests < 100 {
						return fmt.Errorf("the client saw %d failed requests of %d: %v", res.Failures, res.Requests, res.Errors)
					}
					return nil
				},
			},
			{
				// Add a server while a load generator runs: the reload must
				// not fail a single request.
				PreConfig: func() {
					before = lb.processes(t)
					load = acctest.StartLoad(c, url, acctest.LoadOptions{Workers: 4, MaxDuration: 90 * time.Second, Accept: lbWebBody(web1.Name, web2.Name)})
					time.Sleep(300 * time.Millisecond)
				},
				Config: three,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					time.Sleep(500 * time.Millisecond)
					res := load.Stop()
					t.Logf("load during the reload: %s", res)
					after := lb.processes(t)
					if after.Master != before.Master || len(after.NewWorkers(before)) == 0 {
						return fmt.Errorf("want a reload (same master, new worker): before %s, after %s", before, after)
					}
					if res.Failures != 0 || res.Requests < 100 {
						return fmt.Errorf("%d of %d requests failed during the reload: %v", res.Failures, res.Requests, res.Errors)
					}
					if !strings.Contains(lb.Exec(t, "cat", haproxy.ConfigPath), "server web1b ") {
						return fmt.Errorf("the new server is not in the host's configuration")
					}
					return nil
				},
			},
		},
	})
}

// httpsLB is one frontend with HTTP on 80 redirecting to HTTPS on 443,
// HSTS, and optionally an extra frontend.
func httpsLB(inv *acctest.Inventory, lb acctest.Host, web1, web2 acctest.Host, cert, key, extra string) string {
	return inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %s
  frontends = [{
    name              = "www"
    port              = 80
    tls = {
      certificate_pem = %q
      private_key_pem = %q
    }
    redirect_to_https = true
    hsts_max_age      = 31536000
    default_backend   = "web"
  }%s]
  backends = [{
    name = "web"
    servers = [
      { name = "web1", address = %q, port = 80 },
      { name = "web2", address = %q, port = 80 },
    ]
  }]
}
`, lb.ConnectionHCL(), cert, key, extra, web1.Address, web2.Address)
}

// TestAccLoadBalancer_https: HTTPS with a certificate from a CA made in the
// test (the client trusts only that CA), HTTP redirected to HTTPS, HSTS.
// Then two changes that pass plan-time validation but that the host
// refuses: a 1024-bit RSA certificate (haproxy -c fails: OpenSSL's security
// level) and a listener on an address the host does not have (haproxy -c
// passes, the reload does not start a new worker, verification fails and
// the engine rolls back). Each time the previous configuration keeps
// serving, proven over HTTPS.
func TestAccLoadBalancer_https(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	ca := acctest.NewTestCA(t)
	ip := net.ParseIP(lb.Address)
	cert, key := ca.Issue(t, []string{"www.foobar.test"}, []net.IP{ip}, 0)
	weakCert, weakKey := ca.Issue(t, []string{"www.foobar.test"}, []net.IP{ip}, 1024)
	good := httpsLB(inv, lb.Host, web1, web2, cert, key, "")
	weak := httpsLB(inv, lb.Host, web1, web2, weakCert, weakKey, "")
	foreignBind := httpsLB(inv, lb.Host, web1, web2, cert, key, `, {
    name            = "internal"
    bind_address    = "10.99.99.99"
    port            = 8080
    default_backend = "web"
  }`)
	tlsClient := acctest.HTTPClient(acctest.ClientOptions{Roots: ca.Pool, KeepAlive: true})
	plain := acctest.HTTPClient(acctest.ClientOptions{})
	httpsURL := "https://" + lb.Address + "/"
	var served string

	// stillServing proves the configuration applied in step 1 answers.
	stillServing := func() {
		t.Helper()
		if got := lb.liveView(t); got != served {
			t.Fatalf("haproxy.cfg changed although the apply failed:\n%s", got)
		}
		r := acctest.MustFetch(t, tlsClient, acctest.Request{URL: httpsURL})
		if r.Status != http.StatusOK || (strings.TrimSpace(r.Body) != web1.Name && strings.TrimSpace(r.Body) != web2.Name) {
			t.Fatalf("HTTPS through %s after the refused change: status %d body %q", lb.Name, r.Status, r.Body)
		}
		if r := acctest.MustFetch(t, plain, acctest.Request{URL: "http://" + lb.Address + "/"}); r.Status != http.StatusMovedPermanently {
			t.Fatalf("HTTP after the refused change: status %d, want 301", r.Status)
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{
			{
				Config: good,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					lbExpectRendered{after: []string{"ssl crt " + haproxy.FilesDir + "/www.", "redirect scheme https code 301", "max-age=31536000"}, notAfter: []string{"PRIVATE KEY"}},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					func(*terraform.State) error {
						served = lb.liveView(t)
						r := acctest.MustFetch(t, plain, acctest.Request{URL: "http://" + lb.Address + "/some/path?q=1"})
						if r.Status != http.StatusMovedPermanently || r.Header.Get("Location") != "https://"+lb.Address+"/some/path?q=1" {
							return fmt.Errorf("HTTP: status %d Location %q, want 301 to https", r.Status, r.Header.Get("Location"))
						}
						r = acctest.MustFetch(t, tlsClient, acctest.Request{URL: httpsURL})
						if r.Status != http.StatusOK {
							return fmt.Errorf("HTTPS: status %d", r.Status)
						}
						if h := r.Header.Get("Strict-Transport-Security"); h != "max-age=31536000" {
							return fmt.Errorf("HTTPS: Strict-Transport-Security %q", h)
						}
						// The docs: HTTP/2 and HTTP/1.1 by ALPN, TLS 1.2 or
						// newer.
						if r.Proto != "HTTP/2.0" {
							return fmt.Errorf("HTTPS with a client offering h2: %s, want HTTP/2.0", r.Proto)
						}
						h1 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
							TLSClientConfig: &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
						}}
						if r := acctest.MustFetch(t, h1, acctest.Request{URL: httpsURL}); r.Status != http.StatusOK || r.Proto != "HTTP/1.1" {
							return fmt.Errorf("HTTPS with an HTTP/1.1-only client: status %d, %s", r.Status, r.Proto)
						}
						tls11 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
							TLSClientConfig: &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, //nolint:gosec // the refusal is the test
						}}
						if _, err := acctest.Fetch(context.Background(), tls11, acctest.Request{URL: httpsURL}); err == nil {
							return fmt.Errorf("a client limited to TLS 1.1 was served")
						}
						// A client that does not trust the test CA is refused.
						if _, err := acctest.Fetch(context.Background(), acctest.HTTPClient(acctest.ClientOptions{Roots: x509.NewCertPool(), KeepAlive: true}), acctest.Request{URL: httpsURL}); err == nil {
							return fmt.Errorf("a client without the test CA accepted the certificate")
						}
						// The key is on the host, root only, not in haproxy.cfg.
						files := strings.Fields(lb.Exec(t, "sh", "-c", "stat -c '%a:%U:%n' "+haproxy.FilesDir+"/*.pem"))
						if len(files) != 1 || !strings.HasPrefix(files[0], "600:root:") {
							return fmt.Errorf("TLS bundle files: %v, want one, mode 600 root", files)
						}
						return nil
					},
				),
			},
			{
				Config:      weak,
				ExpectError: errPattern("validation of the new configuration failed on", "haproxy -c", "unable to load SSL certificate", apply.Serving),
			},
			{
				PreConfig:   stillServing,
				Config:      foreignBind,
				ExpectError: errPattern("verification after reloading", "no new HAProxy worker", "rolled back and verified", apply.Serving),
			},
			{
				PreConfig: stillServing,
				Config:    good,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				// The TLS file changed by hand: drift, and apply rewrites it.
				PreConfig: func() {
					lb.Exec(t, "sh", "-c", "for f in "+haproxy.FilesDir+"/*.pem; do echo >> \"$f\"; done")
				},
				Config: good,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
					lbExpectRendered{before: []string{"TLS certificate file this configuration uses was changed"}, notAfter: []string{"was changed"}},
				}},
				Check: func(*terraform.State) error {
					out := strings.Fields(lb.Exec(t, "sh", "-c", "sha256sum "+haproxy.FilesDir+"/*.pem"))
					if len(out) != 2 || !haproxy.BundleIntact(out[1], out[0]) {
						return fmt.Errorf("the TLS file was not restored: %v", out)
					}
					// The refused bundle did not stay behind.
					if n := strings.Fields(lb.Exec(t, "sh", "-c", "ls "+haproxy.FilesDir+" | grep -c 'pem$'; true")); len(n) != 1 || n[0] != "1" {
						return fmt.Errorf("want exactly one TLS bundle in %s, got %v", haproxy.FilesDir, n)
					}
					return nil
				},
			},
		},
	})
}

// TestAccLoadBalancer_adopt: a haproxy.cfg this provider did not write is
// imported as it is; the next plan shows the whole diff from it to the
// managed file; apply takes it over; delete gives it back byte for byte.
func TestAccLoadBalancer_adopt(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	foreign := lb.stock + fmt.Sprintf("\nfrontend legacy\n\tbind :8081\n\tdefault_backend legacy_web\n\nbackend legacy_web\n\tserver old1 %s:80\n", web1.Address)
	foreignSHA := apply.Checksum([]byte(foreign))
	cfg := basicLB(inv, lb.Host, web1, web2, "", "")
	c := acctest.HTTPClient(acctest.ClientOptions{})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			cur, err := lb.TryExec("cat", haproxy.ConfigPath)
			if err != nil {
				return err
			}
			if apply.Checksum([]byte(cur)) != foreignSHA {
				return fmt.Errorf("delete did not give back the adopted configuration; found:\n%s", cur)
			}
			if r := acctest.MustFetch(t, c, acctest.Request{URL: "http://" + lb.Address + ":8081/"}); r.Status != http.StatusOK || strings.TrimSpace(r.Body) != web1.Name {
				return fmt.Errorf("the adopted configuration does not serve again after delete: %d %q", r.Status, r.Body)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					lb.ExecInput(t, foreign, "sh", "-c", "cat > /etc/haproxy/haproxy.cfg && systemctl reload haproxy")
				},
				Config:             cfg,
				ResourceName:       lbAddr,
				ImportState:        true,
				ImportStateId:      lb.Address,
				ImportStatePersist: true,
				ImportStateCheck: func(is []*terraform.InstanceState) error {
					if len(is) != 1 {
						return fmt.Errorf("imported %d instances", len(is))
					}
					a := is[0].Attributes
					if a["rendered_config"] != foreign {
						return fmt.Errorf("rendered_config after import is not the host's file:\n%s", a["rendered_config"])
					}
					if a["id"] != lb.Address || a["ssh.host"] != lb.Address || !strings.HasPrefix(a["haproxy_version"], "2.6.") {
						return fmt.Errorf("imported id %q ssh.host %q haproxy_version %q", a["id"], a["ssh.host"], a["haproxy_version"])
					}
					if _, ok := a["frontends.#"]; ok && a["frontends.#"] != "0" {
						return fmt.Errorf("a foreign configuration must not import a model, got %s frontends", a["frontends.#"])
					}
					return nil
				},
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
					lbExpectRendered{before: []string{"frontend legacy", "errorfile 503"}, after: []string{haproxy.Header, "frontend www"}, notAfter: []string{"frontend legacy"}},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					lbAlternates(t, c, "http://"+lb.Address+"/", 10, web1.Name, web2.Name),
					func(*terraform.State) error {
						if orig := lb.Exec(t, "cat", haproxy.ConfigPath+apply.SuffixOrig); apply.Checksum([]byte(orig)) != foreignSHA {
							return fmt.Errorf("the adopted file was not saved as %s%s", haproxy.ConfigPath, apply.SuffixOrig)
						}
						return nil
					},
				),
			},
		},
	})
}

// purgeHAProxy removes the haproxy package with its configuration. The
// lab's root file system (fuse-overlayfs) can show the image's copy of a
// file again once the package that had replaced it is removed a second
// time, so whatever the package listed and is still there is removed too.
const purgeHAProxy = `
export DEBIAN_FRONTEND=noninteractive
files=$(dpkg -L haproxy 2>/dev/null)
apt-get purge -y -q haproxy >/dev/null 2>&1 || exit 1
for f in $files; do
  # Regular files only: the list also names directories and symlinked
  # ones such as /lib, which must stay.
  if [ -f "$f" ] && [ ! -L "$f" ]; then rm -f -- "$f"; fi
done
rm -rf /etc/haproxy
exit 0
`

// TestAccLoadBalancer_install: on lb2 (whose sudo asks for a password),
// HAProxy purged out of band is refused with install = false (nothing
// changes), then installed with apt by the resource, which then serves;
// delete restores the package's stock file and HAProxy keeps running.
func TestAccLoadBalancer_install(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb2"))
	if lb.SudoPassword == "" {
		t.Fatalf("%s must be the lab host whose sudo needs a password", lb.Name)
	}
	web1, web2 := lbWebServers(inv, t)
	cfg := basicLB(inv, lb.Host, web1, web2, "", "")
	noInstall := strings.Replace(cfg, "frontends = [{", "install = false\n  frontends = [{", 1)
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
	absent := func() error {
		if out, err := lb.TryExec("sh", "-c", "command -v haproxy || ls /etc/haproxy/haproxy.cfg"); err == nil {
			return fmt.Errorf("haproxy is still there: %s", out)
		}
		return nil
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					lb.Exec(t, "sh", "-c", purgeHAProxy)
					if err := absent(); err != nil {
						t.Fatal(err)
					}
				},
				Config:      noInstall,
				ExpectError: errPattern("HAProxy is not installed on", "install = false", "Nothing was changed"),
			},
			{
				PreConfig: func() {
					if err := absent(); err != nil {
						t.Fatalf("install = false changed the host: %v", err)
					}
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("haproxy_version"), knownvalue.StringRegexp(lb.Version(t, "haproxy", true))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					lbAlternates(t, c, "http://"+lb.Address+"/", 10, web1.Name, web2.Name),
					func(*terraform.State) error {
						// The file that was saved is the package's stock one.
						if orig := lb.Exec(t, "cat", haproxy.ConfigPath+apply.SuffixOrig); apply.Checksum([]byte(orig)) != lb.stockSHA {
							return fmt.Errorf("saved original is not the stock haproxy.cfg:\n%s", orig)
						}
						return nil
					},
				),
			},
			{
				// Purged again behind Terraform's back: the next plan shows
				// an update (the file is gone), and apply installs HAProxy
				// again and puts the configuration back.
				PreConfig: func() { lb.Exec(t, "sh", "-c", purgeHAProxy) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(lbAddr, tfjsonpath.New("haproxy_version")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					lbAlternates(t, c, "http://"+lb.Address+"/", 10, web1.Name, web2.Name),
				),
			},
		},
	})
}

func writeOnlyLB(inv *acctest.Inventory, lb acctest.Host, web1 acctest.Host, cert, key, password string, version int) string {
	return inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %s
  frontends = [{
    name = "www"
    port = 80
    tls = {
      certificate_pem            = %q
      private_key_pem_wo         = %q
      private_key_pem_wo_version = 1
    }
    default_backend = "web"
  }]
  backends = [{
    name    = "web"
    servers = [{ name = "web1", address = %q, port = 80 }]
  }]
  stats = {
    bind_address        = "0.0.0.0"
    user                = "admin"
    password_wo         = %q
    password_wo_version = %d
  }
}
`, lb.ConnectionHCL(), cert, key, web1.Address, password, version)
}

// TestAccLoadBalancer_writeOnly: the TLS key and the stats password as
// write-only arguments never reach the state; a new password is applied
// when its version changes (and only then, as write-only values are
// invisible to plans); a config with write-only secrets imports with no
// diff.
func TestAccLoadBalancer_writeOnly(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, _ := lbWebServers(inv, t)
	ca := acctest.NewTestCA(t)
	cert, key := ca.Issue(t, nil, []net.IP{net.ParseIP(lb.Address)}, 0)
	c := acctest.HTTPClient(acctest.ClientOptions{})
	tlsClient := acctest.HTTPClient(acctest.ClientOptions{Roots: ca.Pool})
	stats := "http://" + lb.Address + ":8404/stats"
	secretsAbsent := acctest.Secrets{"TLS key": "PRIVATE KEY", "first password": "pw-one", "second password": "pw-two", "third password": "pw-three"}.StateAttributes(lbAddr)
	statsAuth := func(good, bad string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if r := acctest.MustFetch(t, c, acctest.Request{URL: stats, User: "admin", Password: good}); r.Status != http.StatusOK {
				return fmt.Errorf("stats with password %q: status %d", good, r.Status)
			}
			if r := acctest.MustFetch(t, c, acctest.Request{URL: stats, User: "admin", Password: bad}); r.Status != http.StatusUnauthorized {
				return fmt.Errorf("stats with the old password %q: status %d, want 401", bad, r.Status)
			}
			return nil
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{
			{
				Config: writeOnlyLB(inv, lb.Host, web1, cert, key, "pw-one", 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("stats").AtMapKey("password_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("stats").AtMapKey("password"), knownvalue.Null()),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("frontends").AtSliceIndex(0).AtMapKey("tls").AtMapKey("private_key_pem_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("frontends").AtSliceIndex(0).AtMapKey("tls").AtMapKey("private_key_pem_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					secretsAbsent,
					lb.checkHostMatchesState(t),
					statsAuth("pw-one", "pw-two"),
					func(*terraform.State) error {
						if r := acctest.MustFetch(t, tlsClient, acctest.Request{URL: "https://" + lb.Address + "/"}); r.Status != http.StatusOK {
							return fmt.Errorf("HTTPS with the write-only key: status %d", r.Status)
						}
						if rec := lb.Exec(t, "cat", haproxy.RecordPath); strings.Contains(rec, "pw-one") || strings.Contains(rec, "PRIVATE KEY") {
							return fmt.Errorf("the record on the host holds a write-only secret")
						}
						return nil
					},
				),
			},
			{
				Config: writeOnlyLB(inv, lb.Host, web1, cert, key, "pw-two", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(lbAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(secretsAbsent, statsAuth("pw-two", "pw-one")),
			},
			{
				// A new write-only value without a new version is not seen.
				Config: writeOnlyLB(inv, lb.Host, web1, cert, key, "pw-three", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: statsAuth("pw-two", "pw-three"),
			},
			{
				ResourceName:    lbAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   lb.Address,
			},
		},
	})
}

// invalidLB is a valid configuration with parts replaced. The host is in
// TEST-NET-1 (nothing answers there): a case that reached the host would
// fail with a connection error instead of the expected message.
func invalidLB(top, frontends, backends string) string {
	if frontends == "" {
		frontends = `[{ name = "www", port = 80, default_backend = "web" }]`
	}
	if backends == "" {
		backends = `[{ name = "web", servers = [{ name = "web1", address = "10.0.0.21", port = 80 }] }]`
	}
	return fmt.Sprintf(`
provider "foobar" {
  user  = "deploy"
  agent = false
}
resource "foobar_load_balancer" "lb" {
  ssh = {
    host            = "192.0.2.1"
    connect_timeout = "1s"
  }
  %s
  frontends = %s
  backends  = %s
}
`, top, frontends, backends)
}

// lbNotError matches any text that does not contain "Error:".
const lbNotError = `(?:[^E]|E[^r]|Er[^r]|Err[^o]|Erro[^r]|Error[^:])*`

// lbOnlyError is errPattern for output that holds exactly one Terraform
// error ("Error:" once), whose text contains the parts in order: a bad
// value must be reported once, not by both an attribute validator and the
// whole-configuration check.
func lbOnlyError(parts ...string) *regexp.Regexp {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)\A` + lbNotError + `Error:` + lbNotError + strings.Join(q, lbNotError) + lbNotError + `\z`)
}

// TestLoadBalancer_invalidInputs: every bad value is refused at plan time
// with the attribute's path (and the value, unless it is a secret), before
// any host is contacted.
func TestLoadBalancer_invalidInputs(t *testing.T) {
	requireTerraform(t)
	ca := acctest.NewTestCA(t)
	cert, _ := ca.Issue(t, []string{"www.foobar.test"}, nil, 0)
	_, otherKey := ca.Issue(t, []string{"www.foobar.test"}, nil, 0)
	server := func(extra string) string {
		return `[{ name = "web", servers = [{ name = "web1", address = "10.0.0.21", port = 80 ` + extra + ` }] }]`
	}
	fe := func(extra string) string {
		return `[{ name = "www", port = 80, default_backend = "web"` + extra + ` }]`
	}
	tlsBE := func(tls string) string {
		return `[{ name = "web", servers = [{ name = "web1", address = "10.0.0.21", port = 443 }], tls = ` + tls + ` }]`
	}
	cases := []struct {
		name                     string
		top, frontends, backends string
		want                     *regexp.Regexp
	}{
		{"frontend name with a space", "", `[{ name = "w w", port = 80, default_backend = "web" }]`, "", lbOnlyError(`frontends[0].name = "w w" is not valid`, "a space")},
		{"frontend name injecting a line", "", `[{ name = "www\n  bind :1", port = 80, default_backend = "web" }]`, "", lbOnlyError(`frontends[0].name = "www\n`, "is not valid", "a newline")},
		{"server address with a keyword", "", "", server(`, address = "10.0.0.1 backup"`), lbOnlyError(`backends[0].servers[0].address = "10.0.0.1 backup" is not valid`)},
		{"bind address not an IP", "", fe(`, bind_address = "localhost"`), "", lbOnlyError(`frontends[0].bind_address = "localhost" is not valid`)},
		{"port out of range", "", `[{ name = "www", port = 70000, default_backend = "web" }]`, "", lbOnlyError(`frontends[0].port = 70000 is not valid`, "1-65535")},
		{"weight out of range", "", "", server(`, weight = 300`), lbOnlyError(`backends[0].servers[0].weight = 300 is not valid`, "0-256")},
		{"duration with a space", `timeouts = { connect = "5 s" }`, "", "", lbOnlyError(`timeouts.connect = "5 s" is not valid`, "HAProxy time")},
		{"zero duration", `hard_stop_after = "0s"`, "", "", lbOnlyError(`hard_stop_after = "0s" is not valid`, "greater than zero")},
		{"nbthread zero", `nbthread = 0`, "", "", lbOnlyError(`nbthread = 0 is not valid`)},
		{"path prefix with a comment", "", `[{ name = "www", port = 80, rules = [{ path_prefix = "/api#x", backend = "web" }] }]`, "", lbOnlyError(`frontends[0].rules[0].path_prefix = "/api#x" is not valid`, "'#'")},
		{"rule without a condition", "", `[{ name = "www", port = 80, rules = [{ backend = "web" }] }]`, "", lbOnlyError(`frontends[0].rules[0]: needs host, path_prefix or both`)},
		{"rule host with a quote", "", `[{ name = "www", port = 80, rules = [{ host = "a\"b", backend = "web" }] }]`, "", lbOnlyError(`frontends[0].rules[0].host = "a\"b" is not valid`)},
		{"health check path with a quote", "", "", `[{ name = "web", servers = [{ name = "web1", address = "10.0.0.21", port = 80 }], health_check = { path = "/h'x" } }]`, lbOnlyError(`backends[0].health_check.path = "/h'x" is not valid`, "quote")},
		{"health check status", "", "", `[{ name = "web", servers = [{ name = "web1", address = "10.0.0.21", port = 80 }], health_check = { expect_status = 999 } }]`, lbOnlyError(`backends[0].health_check.expect_status = 999 is not valid`)},
		{"health check error limit", "", "", `[{ name = "web", servers = [{ name = "web1", address = "10.0.0.21", port = 80 }], health_check = { error_limit = 0 } }]`,
			lbOnlyError(`backends[0].health_check.error_limit = 0 is not valid`)},
		{"balance algorithm", "", "", `[{ name = "web", balance = "roundrobin;x", servers = [{ name = "web1", address = "10.0.0.21", port = 80 }] }]`, lbOnlyError(`backends[0].balance = "roundrobin;x" is not valid`, "not a supported balance algorithm")},
		{"sticky cookie", "", "", `[{ name = "web", sticky_cookie = "a b", servers = [{ name = "web1", address = "10.0.0.21", port = 80 }] }]`, lbOnlyError(`backends[0].sticky_cookie = "a b" is not valid`)},
		{"unknown backend", "", `[{ name = "www", port = 80, default_backend = "nope" }]`, "", lbOnlyError(`frontends[0].default_backend = "nope" is not valid: no backend named "nope"`)},
		{"duplicate backend", "", "", `[{ name = "web", servers = [{ name = "a", address = "10.0.0.21", port = 80 }] }, { name = "web", servers = [{ name = "a", address = "10.0.0.22", port = 80 }] }]`, lbOnlyError(`backends[1].name = "web" is not valid: duplicate backend name "web"`)},
		{"duplicate server", "", "", `[{ name = "web", servers = [{ name = "a", address = "10.0.0.21", port = 80 }, { name = "a", address = "10.0.0.22", port = 80 }] }]`, lbOnlyError(`backends[0].servers[1].name = "a" is not valid: duplicate server name "a"`)},
		{"no servers", "", "", `[{ name = "web", servers = [] }]`, lbOnlyError(`backends[0].servers`, "at least 1")},
		{"overlapping listeners", "", `[{ name = "a", port = 80, default_backend = "web" }, { name = "b", port = 80, default_backend = "web" }]`, "", lbOnlyError(`frontends[1].port = 80 is not valid`, "overlaps")},
		{"frontend without a listener", "", `[{ name = "www", default_backend = "web" }]`, "", lbOnlyError(`frontends[0].port: is required unless tls is set`)},
		{"redirect without tls", "", fe(`, redirect_to_https = true`), "", lbOnlyError(`frontends[0].redirect_to_https: requires tls`)},
		{"hsts without tls", "", fe(`, hsts_max_age = 100`), "", lbOnlyError(`frontends[0].hsts_max_age = 100 is not valid: requires tls`)},
		{"certificate and key do not match", "", fe(fmt.Sprintf(`, tls = { certificate_pem = %q, private_key_pem = %q }`, cert, otherKey)), "", lbOnlyError(`frontends[0].tls.private_key_pem is not valid: is not the private key of the certificate`, "sensitive and not shown")},
		{"tls without a key", "", fe(fmt.Sprintf(`, tls = { certificate_pem = %q }`, cert)), "", lbOnlyError(`frontends[0].tls`, "private_key_pem")},
		{"backend tls: ca not a PEM", "", "", tlsBE(`{ ca_pem = "/etc/ssl/ca.pem", server_name = "web.internal" }`),
			lbOnlyError(`backends[0].tls.ca_pem is not valid: "/etc/ssl/ca.pem" holds no PEM certificate`)},
		{"backend tls: a private key as the ca", "", "", tlsBE(fmt.Sprintf(`{ ca_pem = %q, server_name = "web.internal" }`, otherKey)),
			lbOnlyError(`backends[0].tls.ca_pem is not valid: PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`)},
		{"backend tls: server name", "", "", tlsBE(fmt.Sprintf(`{ ca_pem = %q, server_name = "web internal" }`, ca.PEM)),
			lbOnlyError(`backends[0].tls.server_name = "web internal" is not valid`, "a space")},
		{"backend tls: no server name", "", "", tlsBE(fmt.Sprintf(`{ ca_pem = %q }`, ca.PEM)),
			lbOnlyError(`backends`, `attribute "tls"`, `attribute "server_name" is required`)},
		{"stats user with a colon", `stats = { user = "ad:min", password = "x" }`, "", "", lbOnlyError(`stats.user = "ad:min" is not valid`)},
		{"stats password with a space", `stats = { user = "admin", password = "with space" }`, "", "", lbOnlyError(`stats.password is not valid`, "(the value is sensitive and not shown)")},
		{"stats user without password", `stats = { user = "admin" }`, "", "", lbOnlyError(`stats.password: is required when stats.user is set`)},
		{"ha virtual address without a prefix", `high_availability = { virtual_ip = "10.0.0.10", peers = ["10.0.0.12"], virtual_router_id = 5 }`, "", "", lbOnlyError(`high_availability.virtual_ip = "10.0.0.10" is not valid`, "prefix length")},
		{"ha virtual address is a member", `high_availability = { virtual_ip = "10.0.0.12/24", peers = ["10.0.0.12"], virtual_router_id = 5 }`, "", "", lbOnlyError(`high_availability.virtual_ip = "10.0.0.12/24" is not valid`, "free one")},
		{"ha peer is not an address", `high_availability = { virtual_ip = "10.0.0.10/24", peers = ["lb2"], virtual_router_id = 5 }`, "", "", lbOnlyError(`high_availability.peers[0] = "lb2" is not valid`, "IP address")},
		{"ha interface injection", `high_availability = { virtual_ip = "10.0.0.10/24", peers = ["10.0.0.12"], virtual_router_id = 5, interface = "eth0 }" }`, "", "", lbOnlyError(`high_availability.interface = "eth0 }" is not valid`)},
		{"ha advert interval", `high_availability = { virtual_ip = "10.0.0.10/24", peers = ["10.0.0.12"], virtual_router_id = 5, advert_interval = "5ms" }`, "", "", lbOnlyError(`high_availability.advert_interval = "5ms" is not valid`, "10ms")},
		{"ha router id", `high_availability = { virtual_ip = "10.0.0.10/24", peers = ["10.0.0.12"], virtual_router_id = 256 }`, "", "", lbOnlyError(`high_availability.virtual_router_id`, "between 1 and 255")},
		{"stats page on the metrics path", `stats = { prometheus = true, uri = "/metrics" }`, "", "", lbOnlyError(`stats.uri = "/metrics" is not valid`, "Prometheus exporter's path")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      invalidLB(c.top, c.frontends, c.backends),
					PlanOnly:    true,
					ExpectError: c.want,
				}},
			})
		})
	}
}

// lbWalkAttributes calls f for every attribute of the schema, nested ones
// included, with its path.
func lbWalkAttributes(prefix string, attrs map[string]schema.Attribute, f func(string, schema.Attribute)) {
	for name, a := range attrs {
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		f(p, a)
		switch n := a.(type) {
		case schema.SingleNestedAttribute:
			lbWalkAttributes(p, n.Attributes, f)
		case schema.ListNestedAttribute:
			lbWalkAttributes(p, n.NestedObject.Attributes, f)
		}
	}
}

func TestLoadBalancerSchema(t *testing.T) {
	t.Parallel()
	s := loadBalancerSchema()
	if d := s.ValidateImplementation(context.Background()); d.HasError() {
		t.Fatalf("schema: %v", d)
	}
	sensitive := map[string]bool{}
	writeOnly := map[string]bool{}
	lbWalkAttributes("", s.Attributes, func(p string, a schema.Attribute) {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("%s has no description", p)
		}
		if a.IsSensitive() {
			sensitive[p] = true
		}
		if a.IsWriteOnly() {
			writeOnly[p] = true
		}
	})
	for _, p := range []string{"frontends.tls.private_key_pem", "frontends.tls.private_key_pem_wo", "stats.password", "stats.password_wo", "ssh.sudo_password", "ssh.private_key"} {
		if !sensitive[p] {
			t.Errorf("%s must be sensitive", p)
		}
	}
	if diff := cmp.Diff(map[string]bool{"frontends.tls.private_key_pem_wo": true, "stats.password_wo": true}, writeOnly); diff != "" {
		t.Errorf("write-only attributes (-want +got):\n%s", diff)
	}
	// Every check the plan-time validation relies on is wired to an
	// attribute of the schema.
	paths := map[string]bool{}
	lbWalkAttributes("", s.Attributes, func(p string, _ schema.Attribute) { paths[p] = true })
	for p := range lbChecks {
		if !paths[p] {
			t.Errorf("lbChecks names %s, which is not an attribute", p)
		}
	}
}

func lbTestModel(t *testing.T) lbModel {
	t.Helper()
	ca := acctest.NewTestCA(t)
	cert, key := ca.Issue(t, []string{"www.foobar.test"}, nil, 0)
	return lbModel{
		SSH:            hostConnection("10.0.0.11"),
		ID:             types.StringValue("10.0.0.11"),
		Install:        types.BoolValue(true),
		MaxConn:        types.Int64Value(2000),
		NbThread:       types.Int64Null(),
		HardStopAfter:  types.StringValue("1m"),
		Timeouts:       &lbTimeoutsModel{Connect: types.StringValue("3s"), Client: types.StringNull(), Server: types.StringNull(), HTTPRequest: types.StringNull(), HTTPKeepAlive: types.StringNull(), Queue: types.StringNull()},
		RenderedConfig: types.StringValue("x"), ConfigSHA256: types.StringValue("y"), HAProxyVersion: types.StringValue("2.6.12"),
		Frontends: []lbFrontendModel{{
			Name: types.StringValue("www"), BindAddress: types.StringNull(), Port: types.Int64Value(80), MaxConn: types.Int64Null(),
			TLS:             &lbTLSModel{Port: types.Int64Null(), CertificatePEM: types.StringValue(cert), PrivateKeyPEM: types.StringValue(key), PrivateKeyPEMWO: types.StringNull(), PrivateKeyPEMWOVersion: types.Int64Null()},
			RedirectToHTTPS: types.BoolValue(true), HSTSMaxAge: types.Int64Value(100), ForwardFor: types.BoolValue(false), ForwardedProto: types.BoolValue(true),
			Timeouts:       nil,
			Rules:          []lbRuleModel{{Host: types.StringNull(), PathPrefix: types.StringValue("/api/"), Backend: types.StringValue("web")}},
			DefaultBackend: types.StringValue("web"),
		}},
		Backends: []lbBackendModel{{
			Name: types.StringValue("web"), Balance: types.StringNull(), StickyCookie: types.StringNull(), Timeouts: nil,
			TLS:         &lbBackendTLSModel{CAPEM: types.StringValue(ca.PEM), ServerName: types.StringValue("web.internal.test")},
			HealthCheck: &lbHealthCheckModel{Path: types.StringValue("/health"), Host: types.StringNull(), ExpectStatus: types.Int64Value(200), Interval: types.StringNull(), Rise: types.Int64Null(), Fall: types.Int64Value(2)},
			Servers: []lbServerModel{
				{Name: types.StringValue("web1"), Address: types.StringValue("10.0.0.21"), Port: types.Int64Value(80), Weight: types.Int64Value(3), Backup: types.BoolValue(false), MaxConn: types.Int64Null(), Disabled: types.BoolValue(false)},
				{Name: types.StringValue("web2"), Address: types.StringValue("10.0.0.22"), Port: types.Int64Value(80), Weight: types.Int64Null(), Backup: types.BoolValue(true), MaxConn: types.Int64Value(50), Disabled: types.BoolValue(false)},
			},
		}},
		Stats: &lbStatsModel{BindAddress: types.StringNull(), Port: types.Int64Null(), URI: types.StringNull(), User: types.StringValue("admin"), Password: types.StringValue("pw"),
			PasswordWO: types.StringNull(), PasswordWOVersion: types.Int64Null(), Refresh: types.StringNull(), Prometheus: types.BoolValue(true)},
	}
}

func TestLoadBalancerBuildConfig(t *testing.T) {
	t.Parallel()
	m := lbTestModel(t)
	cfg, cv := m.toConfig(m)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f, b := cfg.Frontends[0], cfg.Backends[0]
	if f.ForwardFor || !f.ForwardedProto || !f.RedirectToHTTPS || f.TLS == nil || f.TLS.PrivateKeyPEM == "" {
		t.Errorf("frontend %+v", f)
	}
	if *b.Servers[0].Weight != 3 || b.Servers[1].Weight != nil || !b.Servers[1].Backup || b.HealthCheck.Fall != 2 {
		t.Errorf("backend %+v", b)
	}
	if cfg.MaxConn != 2000 || cfg.NbThread != 0 || cfg.Timeouts.Connect != "3s" || cfg.Stats.Password != "pw" {
		t.Errorf("config %+v", cfg)
	}
	if len(cv.secrets) != 2 {
		t.Errorf("want the key and the password as secrets to mask, got %d", len(cv.secrets))
	}
	// The write-only forms come from the configuration.
	plan := lbTestModel(t)
	plan.Stats.Password = types.StringNull()
	config := plan
	config.Stats = &lbStatsModel{}
	*config.Stats = *plan.Stats
	config.Stats.PasswordWO = types.StringValue("from-config")
	cfg, cv = plan.toConfig(config)
	if cfg.Stats.Password != "from-config" || cv.rename("stats.password") != "stats.password_wo" {
		t.Errorf("write-only password: %q, error path %s", cfg.Stats.Password, cv.rename("stats.password"))
	}
}

// Errors about secrets never quote them, neither the attribute checks nor
// the whole-configuration check.
func TestLoadBalancerSecretsNotInDiagnostics(t *testing.T) {
	t.Parallel()
	m := lbTestModel(t)
	ca := acctest.NewTestCA(t)
	_, otherKey := ca.Issue(t, nil, nil, 0)
	m.Frontends[0].TLS.PrivateKeyPEM = types.StringValue(otherKey)
	m.Stats.Password = types.StringValue("bad pass#word")
	cfg, cv := m.toConfig(m)
	var diags diag.Diagnostics
	cv.errorContext(false).addError(&diags, "Invalid Load Balancer Configuration", cfg.Validate())
	if len(diags) != 2 {
		t.Fatalf("want two errors (key, password), got %v", diags)
	}
	for _, d := range diags {
		text := d.Summary() + d.Detail()
		if strings.Contains(text, "bad pass#word") || strings.Contains(text, "PRIVATE KEY") || strings.Contains(text, otherKey[40:80]) {
			t.Errorf("a secret leaked into %q", text)
		}
	}
}

// A private key pasted into a backend's ca_pem is refused without being
// shown, by the whole-configuration check as by the attribute's own.
func TestLoadBalancerBackendCAKeyNotShown(t *testing.T) {
	t.Parallel()
	m := lbTestModel(t)
	ca := acctest.NewTestCA(t)
	_, key := ca.Issue(t, nil, nil, 0)
	m.Backends[0].TLS.CAPEM = types.StringValue(key)
	cfg, cv := m.toConfig(m)
	var diags diag.Diagnostics
	cv.errorContext(false).addError(&diags, "Invalid Load Balancer Configuration", cfg.Validate())
	if len(diags) != 1 {
		t.Fatalf("want one error (ca_pem), got %v", diags)
	}
	text := diags[0].Detail()
	if !strings.Contains(text, `backends[0].tls.ca_pem: PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`) {
		t.Errorf("error %q does not say what is wrong at which attribute", text)
	}
	if strings.Contains(text, key[40:80]) || strings.Contains(text, "BEGIN") {
		t.Errorf("the key leaked into %q", text)
	}
}

// lbModelCmp compares models attribute by attribute.
var lbModelCmp = cmp.Options{
	modelCmp,
	cmp.Comparer(func(a, b types.String) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b types.Int64) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b types.Bool) bool { return a.Equal(b) }),
}

// The model survives the trip through the host's record (lbDeployment,
// haproxy.Record as JSON, lbModelFromRecord): an import restores it.
// Write-only values are applied but not recorded; their versions are.
func TestLoadBalancerRecordRoundTrip(t *testing.T) {
	t.Parallel()
	imported := func() lbModel {
		return lbModel{SSH: hostConnection("10.0.0.11"), ID: types.StringValue("10.0.0.11"), RenderedConfig: types.StringValue("x"),
			ConfigSHA256: types.StringValue("y"), HAProxyVersion: types.StringValue("2.6.12")}
	}
	sensitive := lbTestModel(t)
	plan := lbTestModel(t)
	key := plan.Frontends[0].TLS.PrivateKeyPEM.ValueString()
	plan.Frontends[0].TLS.PrivateKeyPEM, plan.Frontends[0].TLS.PrivateKeyPEMWOVersion = types.StringNull(), types.Int64Value(3)
	plan.Stats.Password, plan.Stats.PasswordWOVersion = types.StringNull(), types.Int64Value(7)
	config := plan
	config.Frontends = []lbFrontendModel{plan.Frontends[0]}
	tls := *plan.Frontends[0].TLS
	tls.PrivateKeyPEMWO = types.StringValue(key)
	config.Frontends[0].TLS = &tls
	stats := *plan.Stats
	stats.PasswordWO = types.StringValue("never-recorded")
	config.Stats = &stats

	for _, c := range []struct {
		name          string
		plan, config  lbModel
		notInRecord   []string
		wantTLSKey    string
		wantStatsPass string
	}{
		{"sensitive", sensitive, sensitive, []string{"10.0.0.11", "rendered_config"}, sensitive.Frontends[0].TLS.PrivateKeyPEM.ValueString(), "pw"},
		{"write-only", plan, config, []string{"never-recorded", "PRIVATE KEY", "10.0.0.11"}, key, "never-recorded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, _ := c.plan.toDeployment(c.config)
			if d.Config.Frontends[0].TLS.PrivateKeyPEM != c.wantTLSKey || d.Config.Stats.Password != c.wantStatsPass {
				t.Fatalf("the deployment does not apply the secrets: key %t, password %q", d.Config.Frontends[0].TLS.PrivateKeyPEM == c.wantTLSKey, d.Config.Stats.Password)
			}
			b, err := d.Record("abc123").Encode()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range c.notInRecord {
				if strings.Contains(string(b), s) {
					t.Fatalf("the record holds %q:\n%s", s, b)
				}
			}
			rec, err := haproxy.DecodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			if rec.ConfigSHA256 != "abc123" {
				t.Errorf("config_sha256 %q", rec.ConfigSHA256)
			}
			got := imported().fromRecord(rec)
			want := c.plan
			want.SSH, want.ID, want.RenderedConfig, want.ConfigSHA256, want.HAProxyVersion = got.SSH, got.ID, got.RenderedConfig, got.ConfigSHA256, got.HAProxyVersion
			if diff := cmp.Diff(want, got, lbModelCmp); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if !c.plan.sameAs(got) {
				t.Error("the state's model and the recorded one are not the same deployment")
			}
		})
	}
}

// Read keeps the state's model when the record says the same thing in
// other words (own: the record was written from the model itself), and
// takes the record's when it says something else.
func TestLoadBalancerSameModel(t *testing.T) {
	t.Parallel()
	base := lbTestModel(t)
	for _, c := range []struct {
		name string
		own  bool
		edit func(m *lbModel)
		same bool
	}{
		{"identical", false, func(*lbModel) {}, true},
		{"explicit zero and empty address", true, func(m *lbModel) {
			m.Frontends[0].HSTSMaxAge, m.Frontends[0].BindAddress = types.Int64Value(0), types.StringValue("")
		}, true},
		{"empty blocks", true, func(m *lbModel) {
			m.Backends[0].Timeouts = &lbBackendTimeoutsModel{Connect: types.StringNull(), Server: types.StringNull(), Queue: types.StringNull()}
			m.Frontends[0].Rules = []lbRuleModel{}
			m.Frontends[0].DefaultBackend = types.StringValue("web")
		}, true},
		{"another weight", false, func(m *lbModel) { m.Backends[0].Servers[0].Weight = types.Int64Value(4) }, false},
		{"another password", false, func(m *lbModel) { m.Stats.Password = types.StringValue("other") }, false},
		{"install", false, func(m *lbModel) { m.Install = types.BoolValue(false) }, false},
		{"key version", false, func(m *lbModel) { m.Frontends[0].TLS.PrivateKeyPEMWOVersion = types.Int64Value(2) }, false},
		{"another backend server name", false, func(m *lbModel) { m.Backends[0].TLS.ServerName = types.StringValue("other.internal.test") }, false},
		{"no backend tls", false, func(m *lbModel) { m.Backends[0].TLS = nil }, false},
	} {
		m := lbTestModel(t)
		m.Frontends[0].TLS.CertificatePEM, m.Frontends[0].TLS.PrivateKeyPEM = base.Frontends[0].TLS.CertificatePEM, base.Frontends[0].TLS.PrivateKeyPEM
		m.Backends[0].TLS.CAPEM = base.Backends[0].TLS.CAPEM
		c.edit(&m)
		from := base
		if c.own {
			from = m
		}
		d, _ := from.toDeployment(from)
		if err := d.Config.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		rec := d.Record("abc")
		if got := m.sameAs(m.fromRecord(&rec)); got != c.same {
			t.Errorf("%s: lbSameModel = %t, want %t", c.name, got, c.same)
		}
	}
}

// A configuration Render refuses is reported at its attributes, with the
// values from the configuration.
func TestLoadBalancerRenderError(t *testing.T) {
	t.Parallel()
	m := lbTestModel(t)
	m.Stats.User = types.StringNull()
	m.Frontends[0].Name = types.StringValue("w w")
	d, cv := m.toDeployment(m)
	_, err := d.Config.Render()
	var diags diag.Diagnostics
	cv.errorContext(false).addError(&diags, "Apply HAProxy Config Error", &fault.StepError{Step: haproxy.StepRender, Summary: "Invalid Load Balancer Configuration", Err: err})
	if len(diags) == 0 || diags[0].Summary() != "Invalid Load Balancer Configuration" {
		t.Fatalf("render error: %v", diags)
	}
	var found bool
	for _, d := range diags {
		if strings.Contains(d.Detail(), `frontends[0].name = "w w" is not valid`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no diagnostic names frontends[0].name and its value: %v", diags)
	}
}

// A model that does not convert exactly is the same as nothing: numbers
// out of range clamp to one value and unknowns read as nulls, so two such
// models built equal Configs and compared equal while saying different
// things.
func TestLoadBalancerSameModelInexact(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		a, b func(m *lbModel)
	}{
		{"maxconn out of range", func(m *lbModel) { m.MaxConn = types.Int64Value(1 << 40) }, func(m *lbModel) { m.MaxConn = types.Int64Value(1 << 41) }},
		{"negative port out of range", func(m *lbModel) { m.Frontends[0].Port = types.Int64Value(-1 << 40) }, func(m *lbModel) { m.Frontends[0].Port = types.Int64Value(-1 << 33) }},
		{"unknown and null", func(m *lbModel) { m.HardStopAfter = types.StringUnknown() }, func(m *lbModel) { m.HardStopAfter = types.StringNull() }},
		{"unknown number", func(m *lbModel) { m.NbThread = types.Int64Unknown() }, func(m *lbModel) { m.NbThread = types.Int64Null() }},
	} {
		a, b := lbTestModel(t), lbTestModel(t)
		b.Frontends[0].TLS.CertificatePEM, b.Frontends[0].TLS.PrivateKeyPEM = a.Frontends[0].TLS.CertificatePEM, a.Frontends[0].TLS.PrivateKeyPEM
		b.Backends[0].TLS.CAPEM = a.Backends[0].TLS.CAPEM
		if !a.sameAs(b) {
			t.Fatalf("%s: the unedited models differ", c.name)
		}
		c.a(&a)
		c.b(&b)
		if a.sameAs(b) || b.sameAs(a) {
			t.Errorf("%s: lbSameModel = true for models that do not convert exactly", c.name)
		}
	}
}

// haproxy_version is the upstream version; haproxy_package_version keeps
// what haproxy -v printed, the distribution's revision included.
func TestLBModelSetVersion(t *testing.T) {
	t.Parallel()
	for reported, upstream := range map[string]string{
		"2.6.12-1+deb12u4": "2.6.12",
		"3.0.11-1+deb13u4": "3.0.11",
		"3.0.11":           "3.0.11",
	} {
		var m lbModel
		m.setVersion(reported)
		if m.HAProxyVersion.ValueString() != upstream || m.HAProxyPackageVersion.ValueString() != reported {
			t.Errorf("setVersion(%q): haproxy_version %s, haproxy_package_version %s; want %q, %q",
				reported, m.HAProxyVersion, m.HAProxyPackageVersion, upstream, reported)
		}
	}
}
