// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

func TestFirewallSchema(t *testing.T) {
	t.Parallel()
	resp := &fwresource.SchemaResponse{}
	NewFirewallResource().Schema(context.Background(), fwresource.SchemaRequest{}, resp)
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("schema does not validate: %v", diags)
	}
	for name, a := range resp.Schema.Attributes {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("attribute %s has no description", name)
		}
	}
}

// Plan-time validation: each bad value is refused before any host is
// contacted, naming the attribute and the value.
func TestFirewall_invalidInputs(t *testing.T) {
	requireTerraform(t)
	cases := []struct {
		name, admin, allow string
		want               *regexp.Regexp
	}{
		{"empty admin sources", `[]`, ``, errPattern("admin_sources", "at least 1")},
		{"bad cidr", `["10.0.0.0/33"]`, ``, errPattern(`admin_sources[0] = "10.0.0.0/33" is not valid`)},
		{"host bits", `["10.0.0.5/24"]`, ``, errPattern(`admin_sources[0] = "10.0.0.5/24" is not valid`, "10.0.0.0/24")},
		{"dns name", `["10.0.0.1"]`, `allow = [{ port = 80, from = ["lb1.example.com"] }]`, errPattern(`allow[0].from[0] = "lb1.example.com" is not valid`, "DNS names")},
		{"port 0", `["10.0.0.1"]`, `allow = [{ port = 0, from = ["10.0.0.11"] }]`, errPattern("allow[0].port = 0 is not valid", "between 1 and 65535")},
		{"port 70000", `["10.0.0.1"]`, `allow = [{ port = 70000, from = ["10.0.0.11"] }]`, errPattern("allow[0].port = 70000 is not valid")},
		{"protocol", `["10.0.0.1"]`, `allow = [{ protocol = "icmp", port = 1, from = ["10.0.0.11"] }]`, errPattern(`allow[0].protocol = "icmp" is not valid`)},
		{"port unset", `["10.0.0.1"]`, `allow = [{ from = ["10.0.0.11"] }]`, errPattern("allow[0].port", "must be set for protocol tcp")},
		{"vrrp with a port", `["10.0.0.1"]`, `allow = [{ protocol = "vrrp", port = 112, from = ["10.0.0.12"] }]`, errPattern("allow[0].port = 112 is not valid", "must be unset for protocol vrrp")},
		{"no sources", `["10.0.0.1"]`, `allow = [{ port = 80, from = [] }]`, errPattern("allow[0].from", "at least 1")},
		{"same port twice", `["10.0.0.1"]`, `allow = [{ port = 80, from = ["10.0.0.11"] }, { port = 80, from = ["10.0.0.12"] }]`, errPattern("allow[1].port = 80 is not valid", "already opened by allow[0]")},
		{"confirm timeout", `["10.0.0.1"]`, `confirm_timeout = "1s"`, errPattern(`confirm_timeout = "1s" is not valid`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "foobar" {
  user = "deploy"
}
resource "foobar_firewall" "x" {
  ssh           = { host = "192.0.2.10" }
  admin_sources = %s
  %s
}`, c.admin, c.allow),
					PlanOnly:    true,
					ExpectError: c.want,
				}},
			})
		})
	}
}

// fwOperatorTable stands for Docker's or an operator's own rules: it must
// survive create, update and destroy byte for byte.
const fwOperatorTable = `table ip operator {
	chain c {
		type filter hook input priority 10; policy accept;
		tcp dport 9999 accept
	}
}
`

// fwForeign lists every table but inet foobar, without counters.
func fwForeign(t *testing.T, h acctest.Host) string {
	t.Helper()
	return h.Exec(t, "sh", "-c", `nft -s list tables | grep -vx 'table inet foobar' | while read -r _ fam name; do nft -s list table "$fam" "$name"; done 2>/dev/null`)
}

func fwClean(t *testing.T, h acctest.Host) {
	t.Helper()
	h.Exec(t, "sh", "-c", `systemctl stop foobar-firewall-rollback.timer 2>/dev/null; nft delete table inet foobar 2>/dev/null; nft delete table ip operator 2>/dev/null
systemctl disable foobar-firewall.service 2>/dev/null; rm -rf /run/foobar/firewall /etc/foobar /etc/systemd/system/foobar-firewall.service; systemctl daemon-reload; true`)
}

// tcpOpen reports whether from can open a TCP connection to addr:port
// within 3 seconds (a dropped SYN times out).
func tcpOpen(from acctest.Host, addr string, port int) bool {
	_, err := from.TryExec("timeout", "3", "bash", "-c", fmt.Sprintf("</dev/tcp/%s/%d", addr, port))
	return err == nil
}

// checkFlows checks every flow from the lab hosts: want lists the
// "from->to:port" flows that must work; every other combination of the
// hosts and ports must fail. The probes run at the same time (a dropped
// SYN costs tcpOpen's 3 seconds).
func checkFlows(hosts []acctest.Host, ports map[string][]int, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ok := map[string]bool{}
		for _, w := range want {
			ok[w] = true
		}
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			errs []string
		)
		for _, from := range hosts {
			for _, to := range hosts {
				if from.Name == to.Name {
					continue
				}
				for _, port := range ports[to.Name] {
					flow := fmt.Sprintf("%s->%s:%d", from.Name, to.Name, port)
					wg.Add(1)
					go func() {
						defer wg.Done()
						if got := tcpOpen(from, to.Address, port); got != ok[flow] {
							mu.Lock()
							errs = append(errs, fmt.Sprintf("%s: open=%v, want %v", flow, got, ok[flow]))
							mu.Unlock()
						}
					}()
				}
			}
		}
		wg.Wait()
		if len(errs) > 0 {
			sort.Strings(errs)
			return fmt.Errorf("flows:\n%s", strings.Join(errs, "\n"))
		}
		return nil
	}
}

func TestAccFirewall_flowsLockoutDriftForeign(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb, web, db := inv.Host(t, "lb1"), inv.Host(t, "web1"), inv.Host(t, "db1")
	gw := strings.TrimSuffix(inv.Subnet, ".0/24") + ".1" // the test machine, as the hosts see it
	hosts := []acctest.Host{lb, web, db}
	foreign := map[string]string{}
	for _, h := range []acctest.Host{web, db} {
		fwClean(t, h)
		h.ExecInput(t, fwOperatorTable, "nft", "-f", "-")
		foreign[h.Name] = fwForeign(t, h)
		t.Cleanup(func() { fwClean(t, h) })
	}
	foreignSame := func(*terraform.State) error {
		for _, h := range []acctest.Host{web, db} {
			if got := fwForeign(t, h); got != foreign[h.Name] {
				return fmt.Errorf("%s: foreign tables changed:\nbefore:\n%s\nafter:\n%s", h.Name, foreign[h.Name], got)
			}
		}
		return nil
	}
	// All hosts listen on 3306 (mariadb.socket) and web1 on 80 too.
	ports := map[string][]int{"web1": {80, 3306}, "db1": {3306}}
	config := func(dbFrom []string, dbAdmin string) string {
		q := func(ss []string) string { return `["` + strings.Join(ss, `", "`) + `"]` }
		return inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_firewall" "web1" {
  %s
  admin_sources = [%q]
  # vrrp: the protocol rule loads (and is no drift); no TCP flow changes.
  allow = [{ port = 80, from = [%[3]q] }, { protocol = "vrrp", from = [%[3]q] }]
}

resource "foobar_firewall" "db1" {
  %s
  admin_sources   = [%q]
  confirm_timeout = "15s"
  allow = [{ port = 3306, from = %s }]
}
`, web.ConnectionHCL(), gw, lb.Address, db.ConnectionHCL(), dbAdmin, q(dbFrom))
	}
	var dbTable string
	saveTable := func(*terraform.State) error {
		out, err := db.TryExec("nft", "list", "table", "inet", "foobar")
		dbTable = out
		return err
	}
	sameTable := func(*terraform.State) error {
		out, err := db.TryExec("nft", "list", "table", "inet", "foobar")
		if err != nil || out != dbTable {
			return fmt.Errorf("db1's table after the rollback:\n%s (%w)\nwant:\n%s", out, err, dbTable)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			func(*terraform.State) error {
				for _, h := range []acctest.Host{web, db} {
					if out, err := h.TryExec("nft", "list", "table", "inet", "foobar"); err == nil {
						return fmt.Errorf("%s still has table inet foobar:\n%s", h.Name, out)
					}
					if out, err := h.TryExec("ls", "/etc/foobar/firewall.nft"); err == nil {
						return fmt.Errorf("%s still has %s", h.Name, out)
					}
				}
				return nil
			},
			foreignSame,
			// Everything open again.
			checkFlows(hosts, ports, "lb1->web1:80", "lb1->web1:3306", "db1->web1:80", "db1->web1:3306", "lb1->db1:3306", "web1->db1:3306"),
		),
		Steps: []resource.TestStep{
			{
				// web1 -> db1:3306 works, lb1 -> db1:3306 does not; db1 -> web1:80
				// fails while lb1 -> web1:80 works; nothing else gets through.
				Config: config([]string{web.Address}, gw),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFlows(hosts, ports, "lb1->web1:80", "web1->db1:3306"),
					foreignSame,
					resource.TestCheckResourceAttrSet("foobar_firewall.db1", "live_sha256"),
					resource.TestMatchResourceAttr("foobar_firewall.db1", "rendered_ruleset", regexp.MustCompile(`ip saddr \{ `+regexp.QuoteMeta(web.Address)+` \} tcp dport 3306 accept`)),
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// Update: lb1 may reach db1 too.
				Config: config([]string{web.Address, lb.Address}, gw),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction("foobar_firewall.db1", plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkFlows(hosts, ports, "lb1->web1:80", "web1->db1:3306", "lb1->db1:3306"),
					foreignSame,
				),
			},
			{
				// Drift: a rule added by hand to our table shows up as an update,
				// and the apply removes it.
				PreConfig: func() {
					db.Exec(t, "nft", "add", "rule", "inet", "foobar", "input", "tcp", "dport", "80", "accept")
				},
				Config: config([]string{web.Address, lb.Address}, gw),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("foobar_firewall.db1", plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						if out := db.Exec(t, "nft", "list", "table", "inet", "foobar"); strings.Contains(out, "tcp dport 80 accept") {
							return fmt.Errorf("the hand-added rule survived:\n%s", out)
						}
						return nil
					},
					saveTable,
				),
			},
			{
				// Admin sources that exclude the test machine: the host rolls
				// back by itself, the apply says so, and the previous rules
				// (and SSH) are back.
				Config:      config([]string{web.Address, lb.Address}, "192.0.2.1"),
				ExpectError: errPattern("Firewall Rolled Back", "restored its previous rules", "a new SSH connection after that works"),
			},
			{
				// The state is still the previous configuration and the host
				// runs it: nothing to do.
				Config:           config([]string{web.Address, lb.Address}, gw),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeAggregateTestCheckFunc(
					sameTable,
					checkFlows(hosts, ports, "lb1->web1:80", "web1->db1:3306", "lb1->db1:3306"),
					foreignSame,
				),
			},
		},
	})
}
