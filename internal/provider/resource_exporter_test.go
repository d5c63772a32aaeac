// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/exporter"
)

func TestExporterSchema(t *testing.T) {
	t.Parallel()
	resp := &fwresource.SchemaResponse{}
	NewExporterResource().Schema(context.Background(), fwresource.SchemaRequest{}, resp)
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("schema does not validate: %v", diags)
	}
	for name, a := range resp.Schema.Attributes {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("attribute %s has no description", name)
		}
	}
}

// Plan-time validation names the attribute and the value; no host is
// contacted.
func TestExporter_invalidInputs(t *testing.T) {
	requireTerraform(t)
	cases := []struct {
		name, body string
		want       *regexp.Regexp
	}{
		{"kind", `kind = "redis"
  listen = "10.0.0.1:9100"`, errPattern(`kind`, `"redis"`)},
		{"listen without port", `kind = "node"
  listen = "10.0.0.1"`, errPattern(`listen = "10.0.0.1" is not valid`, "address:port")},
		{"listen name", `kind = "node"
  listen = "web1:9100"`, errPattern(`listen = "web1:9100" is not valid`)},
		{"port 0", `kind = "node"
  listen = "10.0.0.1:0"`, errPattern(`listen = "10.0.0.1:0" is not valid`, "1-65535")},
		{"stub port on node", `kind = "node"
  listen = "10.0.0.1:9100"
  stub_status_port = 8080`, errPattern(`stub_status_port = 8080 is not valid`, `only applies to kind "nginx"`)},
		{"listen on the stub port", `kind = "nginx"
  listen = "0.0.0.0:8405"`, errPattern(`listen = "0.0.0.0:8405" is not valid`, "stub_status server")},
		{"mysqld without password", `kind = "mysqld"
  listen = "10.0.0.1:9104"`, errPattern(`mysql_password is not valid`, "12 to 100", "sensitive and not shown")},
		{"mysqld password with a quote", `kind = "mysqld"
  listen = "10.0.0.1:9104"
  mysql_password = "abc\"defghijklmn"`, errPattern(`mysql_password is not valid`, "except quotes")},
		{"password on node", `kind = "node"
  listen = "10.0.0.1:9100"
  mysql_password = "abcdefghijklmn"`, errPattern(`kind = "node" is not valid`, `apply to kind "mysqld" only`)},
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
resource "foobar_exporter" "x" {
  ssh = { host = "192.0.2.10" }
  %s
}`, c.body),
					PlanOnly:    true,
					ExpectError: c.want,
				}},
			})
		})
	}
}

// exporterUnitState is the unit's enabled and active state on h.
func exporterUnitState(h acctest.Host, unit string) string {
	en, _ := h.TryExec("systemctl", "is-enabled", unit)
	ac, _ := h.TryExec("systemctl", "is-active", unit)
	return strings.TrimSpace(en) + "/" + strings.TrimSpace(ac)
}

// TestAccExporter_prometheus sets up the node exporter on three hosts and
// the nginx exporter on the web server (on ports that are not the
// packages' defaults, so a listen address that is not applied fails),
// next to a load balancer with HAProxy's built-in exporter, and points a
// real Prometheus (a child process, Debian's package) at them through
// file_sd files built from the resources' scrape_target: every target must
// be up. promtool checks and unit-tests the stack's rules. Then real
// failures on the lab make the matching alerts fire in that Prometheus:
// Nginx stopped on web1 (WebServerDown, and HAProxy's BackendDown), and
// db1 down (HostDown). Drift (an exporter stopped by hand, its file
// edited) plans an update that repairs it; destroy gives the packages'
// files back and leaves the units disabled and stopped.
func TestAccExporter_prometheus(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb, web, db, db2 := inv.Host(t, "lb1"), inv.Host(t, "web1"), inv.Host(t, "db1"), inv.Host(t, "db2")
	hosts := []acctest.Host{lb, web, db}
	const exporterAccount = "'foobar_exporter'@'localhost'"
	for _, h := range []acctest.Host{db, db2} {
		h.CleanMySQL(t, nil, []string{exporterAccount, "'repl'@'%'"})
		t.Cleanup(func() { h.CleanMySQL(t, nil, []string{exporterAccount, "'repl'@'%'"}) })
	}
	const exporterPassword = "Exp-0rter-pw-42"
	orig := map[string]string{}
	for _, h := range hosts {
		orig[h.Name] = h.Sha256(t, "/etc/default/prometheus-node-exporter")
	}
	origNginx := web.Sha256(t, "/etc/default/prometheus-nginx-exporter")
	t.Cleanup(func() {
		web.Start(t)
		web.Exec(t, "sh", "-c", "systemctl start nginx; true")
	})
	config := inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_exporter" "lb1_node" {
  %s
  kind   = "node"
  listen = "%s:9110"
}
resource "foobar_exporter" "web1_node" {
  %s
  kind   = "node"
  listen = "%s:9110"
}
resource "foobar_exporter" "db1_node" {
  %s
  kind   = "node"
  listen = "0.0.0.0:9110"
}
resource "foobar_exporter" "web1_nginx" {
  %s
  kind   = "nginx"
  listen = "%s:9114"
}
resource "foobar_load_balancer" "lb" {
  %s
  frontends = [{ name = "www", port = 80, default_backend = "web" }]
  backends = [{
    name    = "web"
    servers = [{ name = "web1", address = %q, port = 80 }]
    health_check = { path = "/", interval = "500ms", rise = 1, fall = 2 }
  }]
  stats = { bind_address = %q, port = 8404, prometheus = true }
}
resource "foobar_mysql_cluster" "db" {
  primary              = { %s }
  replicas             = [{ %s }]
  replication_user     = "repl"
  replication_password = "secret-pw-repl"
}
resource "foobar_exporter" "db1_mysqld" {
  %s
  kind           = "mysqld"
  listen         = "%s:9105"
  mysql_password = %q
  depends_on     = [foobar_mysql_cluster.db]
}
resource "foobar_exporter" "db2_mysqld" {
  %s
  kind           = "mysqld"
  listen         = "%s:9105"
  mysql_password = %q
  depends_on     = [foobar_mysql_cluster.db]
}
`, lb.ConnectionHCL(), lb.Address, web.ConnectionHCL(), web.Address, db.ConnectionHCL(), web.ConnectionHCL(), web.Address,
		lb.ConnectionHCL(), web.Address, lb.Address, db.ConnectionHCL(), db2.ConnectionHCL(),
		db.ConnectionHCL(), db.Address, exporterPassword, db2.ConnectionHCL(), db2.Address, exporterPassword)

	var prom *acctest.Prometheus
	startProm := func(s *terraform.State) error {
		attr := func(name string) string { return s.RootModule().Resources[name].Primary.Attributes["scrape_target"] }
		// One job over one file_sd file whose groups carry their own job
		// label: the shape of the stack's scrape_targets output.
		prom = acctest.StartPrometheus(t, time.Second, 3*time.Second, "foobar")
		group := func(job, host string, targets ...string) acctest.FileSDGroup {
			return acctest.FileSDGroup{Targets: targets, Labels: map[string]string{"job": job, "host": host}}
		}
		prom.SetTargets(t, "foobar", []acctest.FileSDGroup{
			group("node", "lb1", attr("foobar_exporter.lb1_node")),
			group("node", "web1", attr("foobar_exporter.web1_node")),
			group("node", "db1", attr("foobar_exporter.db1_node")),
			group("nginx", "web1", attr("foobar_exporter.web1_nginx")),
			group("haproxy", "lb1", lb.Address+":8404"),
			group("mysqld", "db1", attr("foobar_exporter.db1_mysqld")),
			group("mysqld", "db2", attr("foobar_exporter.db2_mysqld")),
		})
		start := time.Now()
		up, err := prom.WaitAllUp(7, 60*time.Second)
		t.Logf("all 7 targets up after %s:\n%s", time.Since(start).Round(100*time.Millisecond), up)
		return err
	}
	// The account has only the exporter's privileges; its password is in
	// the 0600 credentials file of the exporter's user, never in a command line.
	mysqlAccount := func(*terraform.State) error {
		grants := db2.SQL(t, "SHOW GRANTS FOR "+exporterAccount)
		for _, want := range []string{"GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO", "GRANT SELECT ON `performance_schema`.* TO"} {
			if !strings.Contains(grants, want) {
				return fmt.Errorf("db2: grants of %s:\n%s\nwant %q", exporterAccount, grants, want)
			}
		}
		if n := strings.Count(grants, "GRANT "); n != 2 {
			return fmt.Errorf("db2: %d grants for %s, want 2:\n%s", n, exporterAccount, grants)
		}
		if st := db.Stat(t, exporter.MySQLCnfPath); st.Mode != "600" || st.Owner != "prometheus" {
			return fmt.Errorf("db1: %s is %+v, want mode 600 owned by prometheus", exporter.MySQLCnfPath, st)
		}
		if out, _ := db.TryExec("sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"); strings.Contains(out, exporterPassword) {
			return fmt.Errorf("db1: the exporter's password is in a command line")
		}
		return nil
	}
	metricsFromHere := func(*terraform.State) error {
		for _, u := range []string{"http://" + web.Address + ":9114/metrics", "http://" + db.Address + ":9110/metrics"} {
			r, err := http.Get(u)
			if err != nil {
				return err
			}
			_ = r.Body.Close()
			if r.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: status %d", u, r.StatusCode)
			}
		}
		return nil
	}
	liveFailures := func(*terraform.State) error {
		t.Logf("promtool:\n%s", acctest.PromtoolRules(t))
		start := time.Now()
		web.Exec(t, "systemctl", "stop", "nginx")
		if err := prom.WaitFiring("WebServerDown", map[string]string{"instance": web.Address + ":9114"}, 60*time.Second); err != nil {
			return err
		}
		if err := prom.WaitFiring("BackendDown", map[string]string{"proxy": "web", "server": "web1"}, 60*time.Second); err != nil {
			return err
		}
		t.Logf("nginx stopped on web1: WebServerDown and BackendDown firing after %s", time.Since(start).Round(100*time.Millisecond))
		web.Exec(t, "systemctl", "start", "nginx")
		start = time.Now()
		db2.SQL(t, "STOP SLAVE")
		if err := prom.WaitFiring("MySQLReplicationStopped", map[string]string{"host": "db2"}, 60*time.Second); err != nil {
			return err
		}
		t.Logf("replication stopped on db2: MySQLReplicationStopped firing after %s", time.Since(start).Round(100*time.Millisecond))
		db2.SQL(t, "START SLAVE")
		start = time.Now()
		web.Stop(t)
		if err := prom.WaitFiring("HostDown", map[string]string{"host": "web1"}, 60*time.Second); err != nil {
			return err
		}
		t.Logf("web1 stopped: HostDown firing after %s", time.Since(start).Round(100*time.Millisecond))
		web.Start(t)
		web.WaitSSH(t, 60*time.Second)
		// Both exporters were enabled: they are back after the boot.
		_, err := prom.WaitAllUp(7, 60*time.Second)
		return err
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			for _, h := range hosts {
				if got := exporterUnitState(h, "prometheus-node-exporter"); got != "disabled/inactive" {
					return fmt.Errorf("%s: prometheus-node-exporter is %s after destroy", h.Name, got)
				}
				if got := h.Sha256(t, "/etc/default/prometheus-node-exporter"); got != orig[h.Name] {
					return fmt.Errorf("%s: the package's /etc/default/prometheus-node-exporter was not given back", h.Name)
				}
			}
			if got := exporterUnitState(web, "prometheus-nginx-exporter"); got != "disabled/inactive" {
				return fmt.Errorf("web1: prometheus-nginx-exporter is %s after destroy", got)
			}
			if web.Sha256(t, "/etc/default/prometheus-nginx-exporter") != origNginx {
				return fmt.Errorf("web1: /etc/default/prometheus-nginx-exporter was not given back")
			}
			if out, err := web.TryExec("ls", exporter.StubStatusConf); err == nil {
				return fmt.Errorf("web1 still has %s", out)
			}
			if got := exporterUnitState(db, "prometheus-mysqld-exporter"); got != "disabled/inactive" {
				return fmt.Errorf("db1: prometheus-mysqld-exporter is %s after destroy", got)
			}
			if out, err := db.TryExec("ls", exporter.MySQLCnfPath); err == nil {
				return fmt.Errorf("db1 still has %s", out)
			}
			if n := strings.TrimSpace(db2.SQL(t, "SELECT COUNT(*) FROM mysql.user WHERE user = 'foobar_exporter'")); !strings.HasSuffix(n, "0") {
				return fmt.Errorf("db2 still has the exporter's account (%s)", n)
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
					resource.TestCheckResourceAttr("foobar_exporter.db1_node", "scrape_target", db.Address+":9110"),
					resource.TestCheckResourceAttr("foobar_exporter.web1_nginx", "scrape_target", web.Address+":9114"),
					metricsFromHere,
					mysqlAccount,
					startProm,
					liveFailures,
				),
			},
			{
				// Drift: the node exporter stopped by hand on lb1 and the nginx
				// exporter's file edited on web1 plan updates that repair them.
				PreConfig: func() {
					lb.Exec(t, "systemctl", "stop", "prometheus-node-exporter")
					web.Exec(t, "sh", "-c", `echo 'ARGS=""' > /etc/default/prometheus-nginx-exporter`)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("foobar_exporter.lb1_node", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("foobar_exporter.web1_nginx", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("foobar_exporter.web1_node", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if got := exporterUnitState(lb, "prometheus-node-exporter"); got != "enabled/active" {
						return fmt.Errorf("lb1: prometheus-node-exporter is %s after the repair", got)
					}
					_, err := prom.WaitAllUp(7, 30*time.Second)
					return err
				},
			},
		},
	})
}
