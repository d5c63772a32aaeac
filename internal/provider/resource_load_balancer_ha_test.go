// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/keepalived"
)

// haPairConfig is two load balancers (lb1 priority 150, lb2 100) with the
// same HAProxy configuration behind the virtual address vip; check is the
// backend's health check attributes (a change of it changes haproxy.cfg on
// both).
func haPairConfig(inv *acctest.Inventory, lb1, lb2 acctest.Host, vip string, web []*acctest.Responder, check string) string {
	var servers strings.Builder
	for _, s := range web {
		fmt.Fprintf(&servers, "      { name = %q, address = %q, port = %d },\n", s.Name, s.Host.Address, s.Port)
	}
	member := func(name string, h, peer acctest.Host, prio int) string {
		return fmt.Sprintf(`
resource "foobar_load_balancer" %q {
  %s
  frontends = local.frontends
  backends  = local.backends
  high_availability = {
    virtual_ip        = "%s/24"
    peers             = [%q]
    virtual_router_id = 82
    priority          = %d
  }
}
`, name, h.ConnectionHCL(), vip, peer.Address, prio)
	}
	return inv.ProviderHCL() + fmt.Sprintf(`
locals {
  frontends = [{ name = "www", port = 80, default_backend = "web" }]
  backends = [{
    name    = "web"
    servers = [
%s    ]
    health_check = { %s }
  }]
}
`, servers.String(), check) + member("lb1", lb1, lb2, 150) + member("lb2", lb2, lb1, 100)
}

// operatorKeepalived is a keepalived.conf the host had before the
// provider (no VRRP instance: keepalived started with it holds nothing).
const operatorKeepalived = "global_defs {\n    router_id operator\n}\n"

// haHolders returns the members that have vip on an interface.
func haHolders(t testing.TB, vip string, hosts ...acctest.Host) []string {
	t.Helper()
	var h []string
	for _, x := range hosts {
		out, err := x.TryExec("ip", "-o", "addr", "show")
		if err == nil && strings.Contains(out, " "+vip+"/24 ") {
			h = append(h, x.Name)
		}
	}
	return h
}

// haSettle waits (30 s at most) until exactly one member holds vip and every member's
// keepalived recorded MASTER or BACKUP, and returns the holder.
func haSettle(t testing.TB, vip string, hosts ...acctest.Host) acctest.Host {
	const within = 30 * time.Second
	t.Helper()
	var holder acctest.Host
	var last string
	var since time.Time
	ok := acctest.Poll(within, func() bool {
		holders := haHolders(t, vip, hosts...)
		states := []string{}
		settled := len(holders) == 1
		for _, h := range hosts {
			st, _ := h.TryExec("cat", keepalived.StatePath)
			st = strings.TrimSpace(st)
			states = append(states, h.Name+"="+st)
			if st != keepalived.StateMaster && st != keepalived.StateBackup {
				settled = false
			}
			if len(holders) == 1 && holders[0] == h.Name {
				holder = h
			}
		}
		last = fmt.Sprintf("holders %v, states %v", holders, states)
		// Settled, and still so two seconds later.
		if !settled {
			since = time.Time{}
			return false
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) >= 2*time.Second
	})
	if !ok {
		t.Fatalf("the pair did not settle within %s: %s", within, last)
	}
	return holder
}

// haReq is one request of haClient.
type haReq struct {
	method     string
	start, end time.Time
	err        string
}

// haClient sends GET and POST requests to url without pause (a new
// connection each, as separate clients do) until stopped, and records
// each one.
type haClient struct {
	mu     sync.Mutex
	reqs   []haReq
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startHAClient(url string, timeout time.Duration) *haClient {
	ctx, cancel := context.WithCancel(context.Background())
	c := &haClient{cancel: cancel}
	hc := acctest.HTTPClient(acctest.ClientOptions{Timeout: timeout})
	for i, method := range []string{http.MethodGet, http.MethodGet, http.MethodPost} {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				r := haReq{method: method, start: time.Now()}
				req := acctest.Request{Method: method, URL: url}
				if method == http.MethodPost {
					req.JSON = []byte(fmt.Sprintf(`{"worker":%d,"n":%d}`, i, n))
				}
				resp, err := acctest.Fetch(ctx, hc, req)
				r.end = time.Now()
				if ctx.Err() != nil {
					return
				}
				switch {
				case err != nil:
					r.err = err.Error()
				case resp.Status != http.StatusOK:
					r.err = fmt.Sprintf("status %d", resp.Status)
				}
				c.mu.Lock()
				c.reqs = append(c.reqs, r)
				c.mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	return c
}

func (c *haClient) stop() []haReq {
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]haReq(nil), c.reqs...)
}

// haGap measures a fault injected at fault: the gap is the longest time
// without a successful answer around the fault (from the last success
// before the outage to the first success after it); it counts the failed
// requests, says whether the last request succeeded (the service
// recovered), and lists the failures of requests that started after the
// service answered again (there must be none).
type haGap struct {
	gap         time.Duration
	lastOK      time.Time
	firstOK     time.Time
	recovered   bool
	failed      int
	total       int
	lateFailure []string
}

func measureGap(reqs []haReq, fault time.Time) haGap {
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].end.Before(reqs[j].end) })
	var g haGap
	var prev time.Time
	for _, r := range reqs {
		if !r.end.Before(fault) {
			g.total++
			if r.err != "" {
				g.failed++
			}
		}
		if r.err != "" {
			g.recovered = false
			continue
		}
		g.recovered = true
		if !prev.IsZero() && !r.end.Before(fault) && r.end.Sub(prev) > g.gap {
			g.gap, g.lastOK, g.firstOK = r.end.Sub(prev), prev, r.end
		}
		prev = r.end
	}
	for _, r := range reqs {
		if r.err != "" && !g.firstOK.IsZero() && r.start.After(g.firstOK) {
			g.lateFailure = append(g.lateFailure, fmt.Sprintf("%s at %s: %s", r.method, r.start.Format("15:04:05.000"), r.err))
		}
	}
	return g
}

// haCleanup puts a member back as it was when the resource's destroy did
// not run: keepalived stopped and disabled, its files and the address gone,
// no packet filter of the test left.
func haCleanup(t *testing.T, h acctest.Host, vip string) {
	t.Cleanup(func() {
		out, _ := h.TryExec("sh", "-c", "ls /etc/keepalived/ 2>/dev/null | grep -v '^keepalived.conf.sample$'; ip -o addr show | grep -F ' "+vip+"/' ; true")
		if strings.TrimSpace(out) == "" {
			return
		}
		t.Logf("%s: removing keepalived's configuration after the test: %s", h.Name, strings.TrimSpace(out))
		_, _ = h.TryExec("sh", "-c", "systemctl disable --now keepalived; rm -f /etc/keepalived/keepalived.conf /etc/keepalived/keepalived.conf.foobar-* /etc/keepalived/foobar-haproxy-check* "+keepalived.StatePath+"; ip addr del "+vip+"/24 dev eth0 2>/dev/null; true")
	})
}

// TestAccLoadBalancer_pair runs HAProxy on lb1 and lb2 behind one virtual
// address (keepalived, VRRPv3, unicast) with a client sending GET and POST
// requests to the address all along, and breaks the member that holds it
// three ways: HAProxy killed with SIGKILL, the container killed, the
// member cut off by a packet filter. Each time another member answers
// within 3 s (the gap is logged) and no request that started after it
// answered fails. A change of the HAProxy configuration applied to both
// members under load fails no request.
func TestAccLoadBalancer_pair(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb1h, lb2h := inv.Host(t, "lb1"), inv.Host(t, "lb2")
	lb1, lb2 := prepareLB(t, lb1h), prepareLB(t, lb2h)
	web1, web2 := lbWebServers(inv, t)
	acctest.InstallResponders(t, web1, web2)
	web := []*acctest.Responder{acctest.StartResponder(t, web1, 8080, "www1"), acctest.StartResponder(t, web2, 8080, "www2")}
	vip := inv.Subnet + ".10"
	if strings.Count(inv.Subnet, ".") != 2 {
		vip = lb1h.Address[:strings.LastIndexByte(lb1h.Address, '.')] + ".10"
	}
	members := []acctest.Host{lb1h, lb2h}
	_ = lb2
	haCleanup(t, lb1h, vip)
	haCleanup(t, lb2h, vip)
	// lb2 has the operator's own keepalived.conf, with keepalived stopped:
	// destroy must give that file back and must not start keepalived.
	lb2h.Exec(t, "sh", "-c", "systemctl stop keepalived && printf '%s' \""+operatorKeepalived+"\" > "+keepalived.ConfigPath)
	url := "http://" + vip + "/"
	config := haPairConfig(inv, lb1h, lb2h, vip, web, lbtCheck)
	config2 := haPairConfig(inv, lb1h, lb2h, vip, web, `path = "/healthz", expect_status = 200, interval = "400ms", rise = 1, fall = 3`)

	var load *haClient
	var loadFrom time.Time
	var liveKA string // lb2's keepalived.conf after the drift step
	stoppedBeforeDestroy := false

	// fault injects a fault on the member holding the address; with
	// mustMove, the address must have moved to another member (a fault
	// that nothing but keepalived repairs).
	fault := func(name string, mustMove bool, inject func(holder acctest.Host), restore func(holder acctest.Host)) func(*terraform.State) error {
		return func(*terraform.State) error {
			holder := haSettle(t, vip, members...)
			// A short timeout: a request that went to a member that no
			// longer answers fails soon, so the gap measures the move and
			// not the client's patience.
			c := startHAClient(url, 800*time.Millisecond)
			time.Sleep(2 * time.Second)
			at := time.Now()
			inject(holder)
			time.Sleep(6 * time.Second)
			reqs := c.stop()
			g := measureGap(reqs, at)
			newHolders := haHolders(t, vip, members...)
			t.Logf("FAULT %s on %s: gap %s (last success %s, first after %s), %d of %d requests after the fault failed; address now on %v",
				name, holder.Name, g.gap.Round(time.Millisecond), g.lastOK.Format("15:04:05.000"), g.firstOK.Format("15:04:05.000"), g.failed, g.total, newHolders)
			restore(holder)
			moved := false
			for _, n := range newHolders {
				moved = moved || n != holder.Name
			}
			if mustMove && !moved {
				return fmt.Errorf("%s: the address did not move from %s (now on %v)", name, holder.Name, newHolders)
			}
			if g.firstOK.IsZero() || !g.recovered {
				return fmt.Errorf("%s: the virtual address never answered again", name)
			}
			if g.gap > 3*time.Second {
				return fmt.Errorf("%s: the virtual address was not answered for %s (bound 3s)", name, g.gap)
			}
			if len(g.lateFailure) > 0 {
				return fmt.Errorf("%s: %d requests started after the address answered again failed: %v", name, len(g.lateFailure), g.lateFailure)
			}
			return nil
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if err := lb1.checkRestored(s); err != nil {
				return err
			}
			if err := lb2.checkRestored(s); err != nil {
				return err
			}
			for _, h := range members {
				out, _ := h.TryExec("sh", "-c", "systemctl is-active keepalived; ls /etc/keepalived | grep -v '^keepalived.conf.sample$'; ip -o addr show | grep -cF ' "+vip+"/'; true")
				want := []string{"inactive", "0"}
				if h.Name == lb2h.Name {
					// keepalived was stopped on lb2 by the last step; if an
					// earlier step failed, it ran at destroy and reloaded
					// the operator's file.
					st := "active"
					if stoppedBeforeDestroy {
						st = "inactive"
					}
					want = []string{st, "keepalived.conf", "0"}
				}
				if f := strings.Fields(out); strings.Join(f, " ") != strings.Join(want, " ") {
					return fmt.Errorf("%s after destroy: want keepalived inactive, only the host's own files in /etc/keepalived (%v) and no virtual address, got %q", h.Name, want, out)
				}
			}
			if got := lb2h.Exec(t, "cat", keepalived.ConfigPath); got != operatorKeepalived {
				return fmt.Errorf("lb2 after destroy: the operator's keepalived.conf was not given back: %q", got)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttrSet("foobar_load_balancer.lb1", "keepalived_config_sha256"),
					func(*terraform.State) error {
						holder := haSettle(t, vip, members...)
						t.Logf("the address is on %s", holder.Name)
						out := acctest.MustFetch(t, acctest.HTTPClient(acctest.ClientOptions{}), acctest.Request{URL: url})
						if out.Status != http.StatusOK {
							return fmt.Errorf("GET %s: status %d", url, out.Status)
						}
						return nil
					},
					fault("haproxy-sigkill", false, func(h acctest.Host) {
						h.Exec(t, "pkill", "-9", "-x", "haproxy")
					}, func(h acctest.Host) {
						acctest.WaitFor(t, 30*time.Second, "HAProxy back on "+h.Name, func() bool {
							_, err := h.TryExec("curl", "-s", "-o", "/dev/null", "http://127.0.0.1/")
							return err == nil
						})
					}),
					// HAProxy frozen (SIGSTOP): the process runs, systemd
					// sees nothing wrong, connections hang. Only a check
					// that HAProxy answers moves the address.
					fault("haproxy-frozen", true, func(h acctest.Host) {
						h.Exec(t, "pkill", "-STOP", "-x", "haproxy")
					}, func(h acctest.Host) {
						h.Exec(t, "pkill", "-CONT", "-x", "haproxy")
						haSettle(t, vip, members...)
					}),
					fault("container-kill", true, func(h acctest.Host) {
						if _, err := acctest.TryDocker("kill", h.Container); err != nil {
							t.Fatal(err)
						}
					}, func(h acctest.Host) {
						h.Start(t)
					}),
					fault("network-cut", true, func(h acctest.Host) {
						// The member's link is down (a pulled cable, a dead
						// switch port): packets to it are dropped, connections
						// hang. (docker network disconnect would rename the
						// interface when it comes back.)
						h.Exec(t, "ip", "link", "set", "eth0", "down")
					}, func(h acctest.Host) {
						h.Exec(t, "ip", "link", "set", "eth0", "up")
						h.WaitSSH(t, 30*time.Second)
						haSettle(t, vip, members...)
					}),
				),
			},
			{
				// The HAProxy configuration changes on both members under
				// load: every request succeeds.
				PreConfig: func() {
					haSettle(t, vip, members...)
					load = startHAClient(url, 3*time.Second)
					loadFrom = time.Now()
					time.Sleep(time.Second)
				},
				Config: config2,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("foobar_load_balancer.lb1", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("foobar_load_balancer.lb2", plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					time.Sleep(time.Second)
					reqs := load.stop()
					var failed []string
					n := 0
					for _, r := range reqs {
						if r.start.Before(loadFrom) {
							continue
						}
						n++
						if r.err != "" {
							failed = append(failed, fmt.Sprintf("%s at %s: %s", r.method, r.start.Format("15:04:05.000"), r.err))
						}
					}
					t.Logf("HAProxy change on both members under load: %d requests, %d failed", n, len(failed))
					if n == 0 || len(failed) > 0 {
						return fmt.Errorf("%d of %d requests failed during the change: %v", len(failed), n, failed)
					}
					for _, h := range members {
						if got := h.Exec(t, "sh", "-c", "grep -c 'inter 400' /etc/haproxy/haproxy.cfg"); strings.TrimSpace(got) == "0" {
							return fmt.Errorf("%s: haproxy.cfg does not have the new health check", h.Name)
						}
					}
					return nil
				},
			},
			{
				// Drift: keepalived stopped by hand on lb2 shows in the plan
				// (read in the same round trip as haproxy.cfg) and apply
				// starts it again.
				PreConfig: func() {
					lb2h.Exec(t, "systemctl", "stop", "keepalived")
					haSettle(t, vip, lb1h)
				},
				Config: config2,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("foobar_load_balancer.lb2", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("foobar_load_balancer.lb1", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if out, err := lb2h.TryExec("systemctl", "is-active", "keepalived"); err != nil {
						return fmt.Errorf("lb2: keepalived is not running after the apply: %s", out)
					}
					haSettle(t, vip, members...)
					liveKA = lb2h.Exec(t, "cat", keepalived.ConfigPath)
					return nil
				},
			},
			{
				// A configuration keepalived refuses (an interface lb2 does
				// not have) fails the apply before anything changes.
				Config:      strings.Replace(config2, "priority          = 100\n", "priority          = 100\n    interface         = \"nosuch0\"\n", 1),
				ExpectError: regexp.MustCompile(`(?s)keepalived.*nosuch0`),
			},
			{
				// lb2 keeps the configuration it had, keepalived still runs
				// there; then keepalived is stopped on lb2 by hand before
				// destroy (CheckDestroy: it stays stopped).
				PreConfig: func() {
					if got := lb2h.Exec(t, "cat", keepalived.ConfigPath); got != liveKA {
						t.Errorf("lb2: keepalived.conf changed by the refused apply:\n%s", got)
					}
					if out, err := lb2h.TryExec("systemctl", "is-active", "keepalived"); err != nil {
						t.Errorf("lb2: keepalived is not running after the refused apply: %s", out)
					}
					lb2h.Exec(t, "systemctl", "stop", "keepalived")
					stoppedBeforeDestroy = true
					haSettle(t, vip, lb1h)
				},
				Config:  config2,
				Destroy: true,
			},
		},
	})
}
