// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"io"
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

// metricsBody fetches an exporter's /metrics from the test machine.
func metricsBody(u string) (string, error) {
	c := http.Client{Timeout: 10 * time.Second}
	r, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer func() { _ = r.Body.Close() }()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return "", err
	}
	if r.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: status %d", u, r.StatusCode)
	}
	return string(b), nil
}

// replicaRunningMetric matches the mysqld exporter's replication metric for
// the SQL (applier) thread running: mysql_slave_status_slave_sql_running or
// _replica_sql_running (the name follows SHOW REPLICA STATUS's columns), or a
// mysql_replica_status_ prefix in newer exporters.
var replicaRunningMetric = regexp.MustCompile(`(?m)^mysql_(slave|replica)_status_(slave|replica)_sql_running(\{[^}]*\})? 1$`)

// TestAccExporter_mysqlSuperReadOnly: the mysqld exporter on a MySQL 9
// cluster (mysql1 primary, mysql2 replica with super_read_only ON, as
// foobar_mysql_cluster sets it). The account is created on the replica too
// (super_read_only lifted and put back in the same session, outside the
// binary log): both exporters answer with mysql_up 1, the replica's shows
// its replication metrics, super_read_only is ON again, and the replica has
// no transaction of its own (its gtid_executed is a subset of the
// primary's). Removing the exporters drops the accounts on both and leaves
// super_read_only ON and the GTID sets as they were.
func TestAccExporter_mysqlSuperReadOnly(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	m1, m2 := inv.Host(t, "mysql1"), inv.Host(t, "mysql2")
	const exporterAccount = "'foobar_exporter'@'localhost'"
	for _, h := range []acctest.Host{m1, m2} {
		h.CleanMySQL(t, nil, []string{exporterAccount, "'repl'@'%'"})
		t.Cleanup(func() { h.CleanMySQL(t, nil, []string{exporterAccount, "'repl'@'%'"}) })
	}
	exporterPassword := randomSecret(t, "Ex-")
	cluster := inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_mysql_cluster" "db" {
  primary              = { %s }
  replicas             = [{ %s }]
  replication_user     = "repl"
  replication_password = %q
}
`, m1.ConnectionHCL(), m2.ConnectionHCL(), randomSecret(t, "Rp-"))
	exporters := cluster + fmt.Sprintf(`
resource "foobar_exporter" "mysql1" {
  %s
  kind           = "mysqld"
  listen         = "%s:9104"
  mysql_password = %q
  depends_on     = [foobar_mysql_cluster.db]
}
resource "foobar_exporter" "mysql2" {
  %s
  kind           = "mysqld"
  listen         = "%s:9104"
  mysql_password = %q
  depends_on     = [foobar_mysql_cluster.db]
}
`, m1.ConnectionHCL(), m1.Address, exporterPassword, m2.ConnectionHCL(), m2.Address, exporterPassword)

	superReadOnly := func() error {
		if got := m2.SQLValue(t, "SELECT CONCAT(@@GLOBAL.read_only, @@GLOBAL.super_read_only)"); got != "11" {
			return fmt.Errorf("mysql2: read_only, super_read_only = %s, want 1 and 1", got)
		}
		if got := m1.SQLValue(t, "SELECT @@GLOBAL.super_read_only"); got != "0" {
			return fmt.Errorf("mysql1 (the primary): super_read_only = %s, want 0", got)
		}
		return nil
	}
	noErrantGTID := func() error {
		replicaSet := m2.SQLValue(t, "SELECT @@GLOBAL.gtid_executed")
		primarySet := m1.SQLValue(t, "SELECT @@GLOBAL.gtid_executed")
		if got := m1.SQLValue(t, fmt.Sprintf("SELECT GTID_SUBSET('%s', @@GLOBAL.gtid_executed)", strings.ReplaceAll(replicaSet, "\n", ""))); got != "1" {
			return fmt.Errorf("mysql2 has transactions of its own: its gtid_executed %q is not a subset of the primary's %q", replicaSet, primarySet)
		}
		t.Logf("gtid_executed: primary %q, replica %q", primarySet, replicaSet)
		return nil
	}
	// A password policy on the replica alone (validate_password, installed
	// outside the binary log) makes the account's ALTER USER fail there:
	// the error path, after super_read_only was lifted.
	const strictPolicy = "SET SESSION sql_log_bin = 0; SET GLOBAL super_read_only = OFF; INSTALL COMPONENT 'file://component_validate_password'; " +
		"SET GLOBAL validate_password.length = 200; SET GLOBAL super_read_only = ON;"
	const noPolicy = "SET SESSION sql_log_bin = 0; SET GLOBAL super_read_only = OFF; UNINSTALL COMPONENT 'file://component_validate_password'; SET GLOBAL super_read_only = ON;"
	t.Cleanup(func() {
		// Before CleanMySQL (cleanups run last first), which turns super_read_only off anyway.
		_, _ = m2.TrySQL("SET SESSION sql_log_bin = 0; SET GLOBAL super_read_only = OFF; UNINSTALL COMPONENT 'file://component_validate_password';")
	})
	// The GTID sets of both servers once the cluster is up: no exporter
	// apply or destroy may add to them, on the primary either.
	var gtidsOfCluster [2]string
	gtidSets := func() [2]string {
		return [2]string{m1.SQLValue(t, "SELECT @@GLOBAL.gtid_executed"), m2.SQLValue(t, "SELECT @@GLOBAL.gtid_executed")}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			for _, h := range []acctest.Host{m1, m2} {
				if n := h.SQLValue(t, "SELECT COUNT(*) FROM mysql.user WHERE user = 'foobar_exporter'"); n != "0" {
					return fmt.Errorf("%s still has the exporter's account (%s)", h.Name, n)
				}
				if out, err := h.TryExec("ls", exporter.MySQLCnfPath); err == nil {
					return fmt.Errorf("%s still has %s", h.Name, out)
				}
				if got := exporterUnitState(h, "prometheus-mysqld-exporter"); got != "disabled/inactive" {
					return fmt.Errorf("%s: prometheus-mysqld-exporter is %s after destroy", h.Name, got)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cluster,
				Check: func(*terraform.State) error {
					gtidsOfCluster = gtidSets()
					return superReadOnly()
				},
			},
			{
				PreConfig: func() { m2.SQL(t, strictPolicy) },
				Config:    exporters,
				// The replica refuses the password: the apply says so,
				// with the password scrubbed.
				ExpectError: errPattern("setting up the exporter's account", m2.Address, "ERROR 1819", "password does not satisfy"),
			},
			{
				// After that failure super_read_only is ON again and the
				// replica has no transaction of its own; then the policy
				// goes and the same configuration applies.
				PreConfig: func() {
					if err := superReadOnly(); err != nil {
						t.Fatalf("after the failed apply: %v", err)
					}
					if err := noErrantGTID(); err != nil {
						t.Fatalf("after the failed apply: %v", err)
					}
					if got := gtidSets(); got != gtidsOfCluster {
						t.Fatalf("the failed apply changed the GTID sets (primary, replica): %q -> %q", gtidsOfCluster, got)
					}
					m2.SQL(t, noPolicy)
				},
				Config: exporters,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					for _, h := range []acctest.Host{m1, m2} {
						body, err := metricsBody("http://" + h.Address + ":9104/metrics")
						if err != nil {
							return fmt.Errorf("%s: %w", h.Name, err)
						}
						if !regexp.MustCompile(`(?m)^mysql_up 1$`).MatchString(body) {
							return fmt.Errorf("%s: the exporter's metrics lack mysql_up 1", h.Name)
						}
						// The account's privileges are enough for every default
						// collector (SHOW REPLICA STATUS among them): none failed.
						if failed := regexp.MustCompile(`(?m)^mysql_exporter_collector_success\{[^}]*\} 0$`).FindAllString(body, -1); len(failed) > 0 {
							return fmt.Errorf("%s: collectors failed: %s", h.Name, strings.Join(failed, "; "))
						}
						if !strings.Contains(body, "\nmysql_exporter_collector_success{collector=\"collect.slave_status\"} 1\n") {
							return fmt.Errorf("%s: the replication status collector did not succeed", h.Name)
						}
						replica := replicaRunningMetric.FindString(body)
						if h == m2 && replica == "" {
							var lines []string
							for _, l := range strings.Split(body, "\n") {
								if strings.HasPrefix(l, "mysql_slave") || strings.HasPrefix(l, "mysql_replica") || strings.HasPrefix(l, "mysql_exporter_collector") {
									lines = append(lines, l)
								}
							}
							return fmt.Errorf("mysql2: no replication metric with the applier running; replication lines:\n%s", strings.Join(lines, "\n"))
						}
						if h == m1 && replica != "" {
							return fmt.Errorf("mysql1 (the primary) reports replication: %s", replica)
						}
						t.Logf("%s: mysql_up 1; %s", h.Name, replica)
						grants := h.SQL(t, "SHOW GRANTS FOR "+exporterAccount)
						for _, want := range []string{"GRANT PROCESS, REPLICATION CLIENT ON *.* TO", "GRANT SELECT ON `performance_schema`.* TO"} {
							if !strings.Contains(grants, want) {
								return fmt.Errorf("%s: grants of %s:\n%s\nwant %q", h.Name, exporterAccount, grants, want)
							}
						}
						if n := strings.Count(grants, "GRANT "); n != 2 {
							return fmt.Errorf("%s: %d grants for %s, want 2:\n%s", h.Name, n, exporterAccount, grants)
						}
					}
					if err := superReadOnly(); err != nil {
						return err
					}
					if got := gtidSets(); got != gtidsOfCluster {
						return fmt.Errorf("the exporters' accounts changed the GTID sets (primary, replica): %q -> %q", gtidsOfCluster, got)
					}
					return noErrantGTID()
				},
			},
			{
				// The exporters alone are destroyed: each account is
				// dropped on its own server (the replica's with
				// super_read_only lifted and put back), nothing replicates.
				Config: cluster,
				Check: func(*terraform.State) error {
					for _, h := range []acctest.Host{m1, m2} {
						if n := h.SQLValue(t, "SELECT COUNT(*) FROM mysql.user WHERE user = 'foobar_exporter'"); n != "0" {
							return fmt.Errorf("%s still has the exporter's account (%s)", h.Name, n)
						}
						if got := exporterUnitState(h, "prometheus-mysqld-exporter"); got != "disabled/inactive" {
							return fmt.Errorf("%s: prometheus-mysqld-exporter is %s after destroy", h.Name, got)
						}
					}
					if err := superReadOnly(); err != nil {
						return err
					}
					if got := gtidSets(); got != gtidsOfCluster {
						return fmt.Errorf("dropping the accounts changed the GTID sets (primary, replica): %q -> %q", gtidsOfCluster, got)
					}
					return noErrantGTID()
				},
			},
		},
	})
}
