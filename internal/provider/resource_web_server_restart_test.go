// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
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
// name answered it.
func answeredBy(c *http.Client, url, name string) bool {
	r, err := acctest.Fetch(context.Background(), c, acctest.Request{URL: url})
	return err == nil && r.Status == http.StatusOK && strings.TrimSpace(r.Body) == name
}

// TestAccWebServer_crashedServicesComeBack (issue 14.2): services come back
// by themselves. foobar_web_server puts its restart drop-in for nginx in
// place (systemd's Restart= is then on-failure); nginx killed with SIGKILL on
// web1 is restarted by systemd, and HAProxy on lb1 sends requests to web1
// again within comeBackLimit, with no apply; HAProxy killed with SIGKILL on
// lb1 (Debian's haproxy.service has Restart=always of its own) answers again
// too. The drop-in deleted by hand is drift that apply repairs; destroy
// takes it away.
func TestAccWebServer_crashedServicesComeBack(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	t.Cleanup(func() { _, _ = web1.TryExec("systemctl", "start", "nginx") })
	tmp := t.TempDir()
	src := filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{"index.html": "<h1>back</h1>\n"})
	app := acctest.BuildTestApp(t, filepath.Join(tmp, "v1"), "testapp", "v1", true)
	cfg := webConfig{host: web1, name: "back", serverName: "www.back.test", port: 80, appPort: 8086,
		docRoot: "/srv/www/back", sourceDir: src, artifact: app}
	forget(t, web1, "back")
	cleanupUser(t, web1, "acc-back")
	dropIn := nginx.RestartDropIn(nginx.Layout{})
	config := cfg.hcl(inv) + strings.TrimPrefix(basicLB(inv, lb.Host, web1, web2, "", ""), inv.ProviderHCL())
	c := acctest.HTTPClient(acctest.ClientOptions{Timeout: 2 * time.Second})
	url := "http://" + lb.Address + "/"
	stats := "http://" + lb.Address + ":8404"

	checkDropIn := func() error {
		got := web1.Exec(t, "sh", "-c", `cat "$1"; echo "policy=$(systemctl show -p Restart --value nginx)"`, "sh", dropIn.Path())
		if want := string(dropIn.Render()) + "policy=on-failure\n"; got != want {
			return fmt.Errorf("web1: the restart drop-in and systemd's Restart= of nginx:\n%s\nwant:\n%s", got, want)
		}
		return nil
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if err := lb.checkRestored(s); err != nil {
				return err
			}
			out := web1.Exec(t, "sh", "-c", `[ -e "$1" ] && echo "left: $1"; [ -d "$(dirname "$1")" ] && echo "left: $(dirname "$1")"; echo "policy=$(systemctl show -p Restart --value nginx)"`, "sh", dropIn.Path())
			if out != "policy=no\n" {
				return fmt.Errorf("web1 after destroy: %s", out)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: hostCheck(func() error {
					if err := checkDropIn(); err != nil {
						return err
					}
					if err := lbtWaitAll(t, c, stats, func(s string) bool { return strings.HasPrefix(s, "UP") }, "web1", "web2"); err != nil {
						return err
					}
					// nginx killed on web1: back in rotation by itself.
					took, err := killAndWaitBack(t, web1, "nginx", "nginx", func() bool { return answeredBy(c, url, web1.Name) })
					if err != nil {
						return err
					}
					acctest.Report("nginx killed with SIGKILL on web1: answered again through HAProxy by web1 after %s, no apply", took.Round(time.Millisecond))
					// HAProxy killed on lb1: answering again by itself.
					took, err = killAndWaitBack(t, lb.Host, "haproxy", "haproxy", func() bool {
						return answeredBy(c, url, web1.Name) || answeredBy(c, url, web2.Name)
					})
					if err != nil {
						return err
					}
					acctest.Report("haproxy killed with SIGKILL on lb1: answering again after %s, no apply", took.Round(time.Millisecond))
					return nil
				}),
			},
			{
				// The drop-in removed by hand: drift, repaired by apply.
				PreConfig: func() {
					web1.Exec(t, "sh", "-c", `rm -f "$1" && systemctl daemon-reload`, "sh", dropIn.Path())
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(cfg.addr(), plancheck.ResourceActionUpdate),
					acctest.ExpectDrift(cfg.addr(), "nginx's restart drop-in "+dropIn.Path()+" is missing"),
				}},
				// (the test framework's plan after each step must then be empty)
				Check: hostCheck(checkDropIn),
			},
		},
	})
}
