// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/apply"
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
func prepareLB(t *testing.T, h acctest.Host) *lbHost {
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

// alternates checks that n requests through url alternate strictly between
// the two web hosts, each answering n/2 times.
func alternates(t *testing.T, c *http.Client, url string, n int, a, b string) resource.TestCheckFunc {
	return func(*terraform.State) error {
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

// ratio checks that n requests are split exactly as the weights say.
func ratio(t *testing.T, c *http.Client, url string, n int, want map[string]int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		cnt := acctest.Count(acctest.Sequence(t, c, url, n))
		for k, v := range want {
			if cnt[k] != v {
				return fmt.Errorf("of %d requests want %v, got %v", n, want, cnt)
			}
		}
		return nil
	}
}

func webServers(inv *acctest.Inventory, t *testing.T) (acctest.Host, acctest.Host) {
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

// expectRendered is a plan check on rendered_config's planned value.
type expectRendered struct {
	before, after []string // substrings the prior and planned values must hold
	notAfter      []string
}

func (e expectRendered) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
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
// imports with no diff; delete restores Debian's file byte for byte.
func TestAccLoadBalancer_basic(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := webServers(inv, t)
	c := acctest.HTTPClient(nil, true)
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
					expectRendered{after: []string{haproxy.Header, "stats auth admin:" + haproxy.Redacted, "server web2 " + web2.Address + ":80 check"}, notAfter: []string{"s3cret-Pw"}},
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("id"), knownvalue.StringExact(lb.Address)),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("haproxy_version"), knownvalue.StringRegexp(regexp.MustCompile(`^2\.6\.`))),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("install"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("frontends").AtSliceIndex(0).AtMapKey("forward_for"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(lbAddr, tfjsonpath.New("config_sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					alternates(t, c, url, 20, web1.Name, web2.Name),
					func(*terraform.State) error {
						if r := acctest.MustFetch(t, c, stats+"/stats", "", ""); r.Status != http.StatusUnauthorized {
							return fmt.Errorf("stats page without credentials: status %d, want 401", r.Status)
						}
						if r := acctest.MustFetch(t, c, stats+"/stats", "admin", "wrong"); r.Status != http.StatusUnauthorized {
							return fmt.Errorf("stats page with a wrong password: status %d, want 401", r.Status)
						}
						if r := acctest.MustFetch(t, c, stats+"/stats", "admin", "s3cret-Pw"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Statistics Report") {
							return fmt.Errorf("stats page with credentials: status %d", r.Status)
						}
						if r := acctest.MustFetch(t, c, stats+"/metrics", "", ""); r.Status != http.StatusOK || !strings.Contains(r.Body, "haproxy_process_") {
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
					expectRendered{before: []string{"server web1 " + web1.Address + ":80 check\n"}, after: []string{"server web1 " + web1.Address + ":80 check weight 3\n"}},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					lb.checkHostMatchesState(t),
					ratio(t, c, url, 40, map[string]int{web1.Name: 30, web2.Name: 10}),
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
					expectRendered{before: []string{"weight 9\n"}, after: []string{"weight 3\n"}, notAfter: []string{"weight 9"}},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(lb.checkHostMatchesState(t), ratio(t, c, url, 40, map[string]int{web1.Name: 30, web2.Name: 10})),
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
					expectRendered{before: []string{"a redacted secret"}, notAfter: []string{"a redacted secret", "hacked"}},
				}},
				Check: func(*terraform.State) error {
					if r := acctest.MustFetch(t, c, stats+"/stats", "admin", "s3cret-Pw"); r.Status != http.StatusOK {
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
