// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

const mysqlClusterAddr = "foobar_mysql_cluster.test"

// Names the tests create on the lab hosts (and clean up).
const (
	accDB       = "foobar_acc"
	accSeedDB   = "foobar_acc_seed"
	accReplUser = "foobar_repl"
	accAppUser  = "foobar_app"
)

var accDatabases = []string{accDB, accSeedDB}

func accAccounts() []string {
	return []string{"'" + accReplUser + "'@'%'", "'" + accAppUser + "'@'%'"}
}

// mysqlClusterHCL renders the provider block and a cluster with the given
// members; body holds the other attributes.
func mysqlClusterHCL(inv *acctest.Inventory, primary acctest.Host, replicas []acctest.Host, body string) string {
	var b strings.Builder
	b.WriteString(inv.ProviderHCL())
	fmt.Fprintf(&b, "resource \"foobar_mysql_cluster\" \"test\" {\n  primary = {\n    %s\n  }\n", primary.ConnectionHCL())
	if len(replicas) > 0 {
		b.WriteString("  replicas = [\n")
		for _, r := range replicas {
			fmt.Fprintf(&b, "    {\n      %s\n    },\n", r.ConnectionHCL())
		}
		b.WriteString("  ]\n")
	}
	b.WriteString(body)
	b.WriteString("}\n")
	return b.String()
}

// cleanMySQLHosts puts the hosts back as the lab starts them, before and
// after a test, whatever happened.
func cleanMySQLHosts(t *testing.T, hosts ...acctest.Host) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		return // resource.Test will skip: touch nothing on the shared lab
	}
	clean := func() {
		for _, h := range hosts {
			h.CleanMySQL(t, append(slices.Clone(accDatabases), "foobar_acc_other"), accAccounts())
		}
	}
	clean()
	t.Cleanup(clean)
}

// checkReplicates writes rows on the primary as the application account
// and waits until every replica has them.
func checkReplicates(primary acctest.Host, replicas []acctest.Host, appPW, table string, from, n int) func(*terraform.State) error {
	return func(*terraform.State) error {
		var sb strings.Builder
		fmt.Fprintf(&sb, "CREATE TABLE IF NOT EXISTS `%s` (id INT PRIMARY KEY, v VARCHAR(32));\n", table)
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&sb, "INSERT INTO `%s` VALUES (%d, 'row-%d');\n", table, i, i)
		}
		if _, err := primary.SQLAs(accAppUser, appPW, accDB, sb.String()); err != nil {
			return fmt.Errorf("writing on the primary %s as the application: %w", primary.Name, err)
		}
		want := strconv.Itoa(from + n - 1)
		for _, r := range replicas {
			if err := waitSQL(r, fmt.Sprintf("SELECT COALESCE(MAX(id), 0) FROM `%s`.`%s` WHERE id <= %s", accDB, table, want), want, 60*time.Second); err != nil {
				return err
			}
		}
		return nil
	}
}

// waitAnswering waits until each host's database server answers (after a
// container start or a kill), at most a minute each.
func waitAnswering(t *testing.T, hosts ...acctest.Host) {
	t.Helper()
	for _, h := range hosts {
		acctest.Eventually(t, 60*time.Second, func() string {
			if _, err := h.TrySQL("SELECT 1"); err != nil {
				return err.Error()
			}
			return ""
		})
	}
}

// waitSQL polls a query on a host until it returns want.
func waitSQL(h acctest.Host, query, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		out, err := h.TrySQL(query)
		last = strings.TrimSpace(out)
		if err == nil && last == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %q returned %q, want %q after %s (last error: %w)", h.Name, query, last, want, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkWriteRefused: the application account cannot write on a replica.
func checkWriteRefused(replica acctest.Host, appPW string) func(*terraform.State) error {
	return func(*terraform.State) error {
		out, err := replica.SQLAs(accAppUser, appPW, accDB, "CREATE TABLE refused (i INT)")
		if err == nil {
			return fmt.Errorf("%s accepted a write from the application account: %s", replica.Name, out)
		}
		if !strings.Contains(out, "read-only") && !strings.Contains(out, "read_only") {
			return fmt.Errorf("%s refused the write, but not for being read-only: %s", replica.Name, out)
		}
		return nil
	}
}

// checkReplicaSource: the host replicates from source with both threads
// running.
func checkReplicaSource(t *testing.T, h, source acctest.Host) func(*terraform.State) error {
	return func(*terraform.State) error {
		host, port := "Master_Host", "Slave_SQL_Running"
		io := "Slave_IO_Running"
		if h.Service != "mariadb" {
			host, port, io = "Source_Host", "Replica_SQL_Running", "Replica_IO_Running"
		}
		if got := h.ReplicaField(t, host); got != source.Address {
			return fmt.Errorf("%s replicates from %q, want %s", h.Name, got, source.Address)
		}
		if h.ReplicaField(t, io) != "Yes" || h.ReplicaField(t, port) != "Yes" {
			return fmt.Errorf("%s: replication threads not both running", h.Name)
		}
		return nil
	}
}

// checkMySQLSetting: every host runs with the server variable at want.
func checkMySQLSetting(t *testing.T, hosts []acctest.Host, name, want string) func(*terraform.State) error {
	return func(*terraform.State) error {
		for _, h := range hosts {
			if v := h.SQLValue(t, "SELECT @@GLOBAL."+name); v != want {
				return fmt.Errorf("%s %s = %s, want %s", h.Name, name, v, want)
			}
		}
		return nil
	}
}

// checkMySQLDestroyed: no replication, no provider files, no provider
// accounts on any host; the databases are still there.
func checkMySQLDestroyed(t *testing.T, hosts []acctest.Host, keptDB string) func(*terraform.State) error {
	return func(*terraform.State) error {
		for _, h := range hosts {
			if src := h.ReplicaField(t, "Master_Host") + h.ReplicaField(t, "Source_Host"); src != "" {
				return fmt.Errorf("%s still replicates from %s", h.Name, src)
			}
			out, _ := h.TryExec("sh", "-c", "ls /etc/mysql/mariadb.conf.d/60-foobar.cnf /etc/mysql/mysql.conf.d/zz-foobar.cnf /etc/mysql/foobar-replication-ca.pem "+
				mysql.ServerCertFile+" "+mysql.ServerKeyFile+" 2>/dev/null; true")
			if strings.TrimSpace(out) != "" {
				return fmt.Errorf("%s still has the provider's files: %s", h.Name, out)
			}
			users, err := h.TrySQL(fmt.Sprintf("SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User IN ('%s', '%s')", accReplUser, accAppUser))
			if err != nil {
				return err
			}
			if strings.TrimSpace(users) != "" {
				return fmt.Errorf("%s still has the provider's accounts: %s", h.Name, users)
			}
			ro, err := h.TrySQL("SELECT @@GLOBAL.read_only")
			if err != nil {
				return err
			}
			if strings.TrimSpace(ro) != "0" {
				return fmt.Errorf("%s is still read-only", h.Name)
			}
			if keptDB != "" {
				dbs, err := h.TrySQL("SHOW DATABASES")
				if err != nil {
					return err
				}
				if !slices.Contains(strings.Fields(dbs), keptDB) {
					return fmt.Errorf("%s: database %s was dropped; delete must keep data", h.Name, keptDB)
				}
			}
		}
		return nil
	}
}

// psWatch samples the command lines of every process on the hosts while an
// apply runs, to prove no password is ever on one.
type psWatch struct {
	hosts   []acctest.Host
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples int
	lines   map[string]bool
}

func startPSWatch(hosts ...acctest.Host) *psWatch {
	w := &psWatch{hosts: hosts, stop: make(chan struct{}), done: make(chan struct{}), lines: map[string]bool{}}
	go func() {
		defer close(w.done)
		for {
			for _, h := range w.hosts {
				out, err := h.TryExec("ps", "-eww", "-o", "args=")
				if err != nil {
					continue
				}
				w.mu.Lock()
				w.samples++
				for _, l := range strings.Split(out, "\n") {
					w.lines[l] = true
				}
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *psWatch) check(secrets ...string) error {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.samples == 0 {
		return fmt.Errorf("ps never ran on the hosts")
	}
	for l := range w.lines {
		for _, s := range secrets {
			if strings.Contains(l, s) {
				return fmt.Errorf("a password is on a command line on a host: %q", strings.ReplaceAll(l, s, "***"))
			}
		}
	}
	return nil
}

// TestAccMySQLCluster_mariadb: a MariaDB primary and replica. Rows written
// on the primary reach the replica, a write on the replica is refused, a
// second apply plans nothing and issues no CHANGE MASTER, a stopped SQL
// thread shows as drift and is repaired without losing rows, settings
// change at run time or by restarting the replica before the primary,
// import works, and the passwords are in no log or command line. With
// Terraform 1.11+ the passwords are write-only and also in no plan or
// state; with older CLIs the test runs the same steps with the sensitive
// arguments (it never skips). It runs on every Debian release of the lab at
// the same time (db1 and db2 on bookworm, dbt1 and dbt2 on trixie).
func TestAccMySQLCluster_mariadb(t *testing.T) {
	requireTerraform(t)
	// Trace logs, a file per subtest (plugin-testing and the provider's log
	// sink put the test's name in TF_LOG_PATH_MASK's %s), set here because
	// the environment is the process's and the subtests run in parallel.
	logs := t.TempDir()
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logs, "%s.log"))
	acctest.EachRelease(t, acctest.InParallel, func(t *testing.T, inv *acctest.Inventory, hosts acctest.Hosts) {
		testAccMySQLClusterMariaDB(t, inv, hosts.DBPrimary, hosts.Replica, filepath.Join(logs, strings.ReplaceAll(t.Name(), "/", "__")+".log"))
	})
}

func testAccMySQLClusterMariaDB(t *testing.T, inv *acctest.Inventory, db1, db2 acctest.Host, logFile string) {
	cleanMySQLHosts(t, db1, db2)
	replPW, appPW := randomSecret(t, "Rp-"), randomSecret(t, "Ap-")
	wo := terraformAtLeast111(t)
	t.Logf("write-only passwords: %v", wo)

	// The passwords come in as variables, as an operator's would (from a
	// secret store). Write-only mode: ephemeral variables, so neither the
	// plan file nor its JSON holds them and the checks below can look at
	// everything Terraform wrote.
	// The key comes in as a sensitive variable, as an operator's would
	// (the trace log check below proves the provider never logs it).
	ca := testcert.NewCA(t)
	cert, key := clusterCert(t, ca, db1, db2)
	vars := config.Variables{"repl_pw": config.StringVariable(replPW), "app_pw": config.StringVariable(appPW), "server_key": config.StringVariable(key)}
	replArg, appArg, ephemeral := `replication_password            = var.repl_pw`, `password            = var.app_pw`, ""
	if wo {
		replArg = "replication_password_wo         = var.repl_pw\n  replication_password_wo_version = 1"
		appArg = "password_wo         = var.app_pw\n    password_wo_version = 1"
		ephemeral = "\n  ephemeral = true"
	}
	// Replication over TLS, the primary's certificate verified against the
	// test's CA and the primary's address.
	tlsHCL := serverTLSHCL(cert, "var.server_key") + fmt.Sprintf("  replication_tls = {\n    ca_pem = <<-EOT\n%s\nEOT\n  }\n", strings.TrimSpace(ca.PEM))
	keyLine := strings.Split(key, "\n")[1]
	body := func(settings string) string {
		return fmt.Sprintf(`  replication_user                = %q
  %s
%s
  databases = [{ name = %q }]
  users = [{
    name                = %q
    %s
    database            = %q
    privileges          = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP"]
  }]
  settings              = { %s }
  lag_threshold_seconds = 60
  wait_timeout          = "2m"
`, accReplUser, replArg, tlsHCL, accDB, accAppUser, appArg, accDB, settings)
	}
	cfg := func(settings string) string {
		return fmt.Sprintf(`
variable "repl_pw" {
  type      = string%[1]s
  sensitive = true
}
variable "app_pw" {
  type      = string%[1]s
  sensitive = true
}
variable "server_key" {
  type      = string
  sensitive = true
}
`, ephemeral) + mysqlClusterHCL(inv, db1, []acctest.Host{db2}, body(settings))
	}
	// The plan and state hold sensitive values by design; write-only ones
	// must be in neither.
	var planSecrets []plancheck.PlanCheck
	var stateSecrets []statecheck.StateCheck
	if wo {
		secrets := acctest.Secrets{"replication password": replPW, "application password": appPW}
		planSecrets, stateSecrets = []plancheck.PlanCheck{secrets}, []statecheck.StateCheck{secrets}
	}
	var ps *psWatch
	var changes int
	var uptime1, uptime2 int

	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMySQLDestroyed(t, []acctest.Host{db1, db2}, accDB),
		Steps: []tfresource.TestStep{
			{
				PreConfig:       func() { ps = startPSWatch(db1, db2) },
				Config:          cfg(`max_connections = "300"`),
				ConfigVariables: vars,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: append([]plancheck.PlanCheck{plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionCreate)}, planSecrets...),
				},
				ConfigStateChecks: append(stateSecrets,
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("flavor"), knownvalue.StringExact("mariadb")),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("writer_endpoint"), knownvalue.StringExact(db1.Address+":3306")),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("reader_endpoints"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(db2.Address + ":3306")})),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("converged"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("replication_password_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("replica_status").AtSliceIndex(0).AtMapKey("sql_running"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("replica_status").AtSliceIndex(0).AtMapKey("source_host"), knownvalue.StringExact(db1.Address)),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("servers").AtMapKey(db2.Address).AtMapKey("role"), knownvalue.StringExact("replica")),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("servers").AtMapKey(db1.Address).AtMapKey("version"), knownvalue.StringRegexp(db1.Version(t, "mariadb", true))),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("servers").AtMapKey(db2.Address).AtMapKey("version"), knownvalue.StringRegexp(db2.Version(t, "mariadb", true))),
				),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error { return ps.check(replPW, appPW, keyLine) },
					checkReplicates(db1, []acctest.Host{db2}, appPW, "t1", 1, 100),
					checkWriteRefused(db2, appPW),
					checkReplicaSource(t, db2, db1),
					func(*terraform.State) error { return checkVerifiedReplicationTLS(t, db1, db2) },
					func(*terraform.State) error {
						if v := db2.SQLValue(t, "SELECT @@GLOBAL.max_connections"); v != "300" {
							return fmt.Errorf("%s max_connections = %s, want 300", db2.Name, v)
						}
						changes = db2.ChangeSourceCounter(t)
						return nil
					},
				),
			},
			{
				// Idempotence: nothing planned, nothing re-issued.
				Config:          cfg(`max_connections = "300"`),
				ConfigVariables: vars,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if got := db2.ChangeSourceCounter(t); got != changes {
						return fmt.Errorf("a no-op apply issued CHANGE MASTER (%d -> %d)", changes, got)
					}
					return nil
				},
			},
			{
				// Drift: the SQL thread stopped by hand while the primary
				// takes writes.
				PreConfig: func() {
					db2.SQL(t, "STOP SLAVE SQL_THREAD")
					if _, err := db1.SQLAs(accAppUser, appPW, accDB, "INSERT INTO t1 VALUES (1001, 'while-stopped'), (1002, 'while-stopped')"); err != nil {
						t.Fatal(err)
					}
				},
				Config:          cfg(`max_connections = "300"`),
				ConfigVariables: vars,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: append([]plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate),
						acctest.ExpectDrift(mysqlClusterAddr, "SQL thread is not running"),
					}, planSecrets...),
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						return waitSQL(db2, "SELECT COUNT(*) FROM foobar_acc.t1", "102", 30*time.Second)
					},
					checkReplicaSource(t, db2, db1),
					func(*terraform.State) error {
						if got := db2.ChangeSourceCounter(t); got != changes {
							return fmt.Errorf("repairing a stopped SQL thread issued CHANGE MASTER (%d -> %d)", changes, got)
						}
						uptime1, uptime2 = db1.StatusCounter(t, "Uptime"), db2.StatusCounter(t, "Uptime")
						return nil
					},
				),
			},
			{
				// Drift: replication pointed elsewhere by hand.
				PreConfig: func() {
					db2.SQL(t, "STOP SLAVE; CHANGE MASTER TO MASTER_HOST = '127.0.0.1'; START SLAVE")
				},
				Config:          cfg(`max_connections = "300"`),
				ConfigVariables: vars,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate),
						acctest.ExpectDrift(mysqlClusterAddr, "replicates from 127.0.0.1:3306 instead of the primary"),
					},
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkReplicaSource(t, db2, db1),
					checkReplicates(db1, []acctest.Host{db2}, appPW, "t1", 3001, 10),
				),
			},
			{
				// A dynamic setting changes at run time (no restart).
				Config:          cfg(`max_connections = "400"`),
				ConfigVariables: vars,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					for _, h := range []acctest.Host{db1, db2} {
						if v := h.SQLValue(t, "SELECT @@GLOBAL.max_connections"); v != "400" {
							return fmt.Errorf("%s max_connections = %s, want 400", h.Name, v)
						}
					}
					if u := db1.StatusCounter(t, "Uptime"); u < uptime1 {
						return fmt.Errorf("%s restarted for a dynamic setting", db1.Name)
					}
					if u := db2.StatusCounter(t, "Uptime"); u < uptime2 {
						return fmt.Errorf("%s restarted for a dynamic setting", db2.Name)
					}
					return nil
				},
			},
			{
				// A static setting restarts the replica first, then the
				// primary; replication resumes and no row is lost.
				Config:          cfg(`max_connections = "400", back_log = "120"`),
				ConfigVariables: vars,
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						for _, h := range []acctest.Host{db1, db2} {
							if v := h.SQLValue(t, "SELECT @@GLOBAL.back_log"); v != "120" {
								return fmt.Errorf("%s back_log = %s, want 120", h.Name, v)
							}
						}
						u1, u2 := db1.StatusCounter(t, "Uptime"), db2.StatusCounter(t, "Uptime")
						if u2 < u1 {
							return fmt.Errorf("the primary restarted before the replica (uptime primary %d s, replica %d s)", u1, u2)
						}
						return nil
					},
					checkReplicates(db1, []acctest.Host{db2}, appPW, "t1", 2001, 10),
				),
			},
			{
				// A setting the server refuses never goes live: the
				// server's own check fails on the first host (a replica),
				// its previous file is put back, nothing else is touched.
				Config:          cfg(`max_connections = "400", back_log = "120", no_such_option = "1"`),
				ConfigVariables: vars,
				ExpectError:     errPattern("unknown variable", "no_such_option"),
			},
			{
				Config:          cfg(`max_connections = "400", back_log = "120"`),
				ConfigVariables: vars,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						for _, h := range []acctest.Host{db1, db2} {
							out := h.Exec(t, "cat", "/etc/mysql/mariadb.conf.d/60-foobar.cnf")
							if strings.Contains(out, "no_such_option") || !strings.Contains(out, "back_log = 120") {
								return fmt.Errorf("%s: the refused setting reached the live file:\n%s", h.Name, out)
							}
						}
						return nil
					},
					checkReplicates(db1, []acctest.Host{db2}, appPW, "t1", 4001, 5),
				),
			},
			{
				ResourceName:      mysqlClusterAddr,
				Config:            cfg(`max_connections = "400", back_log = "120"`),
				ConfigVariables:   vars,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return db1.Address + "," + db2.Address, nil },
				ImportStateVerifyIgnore: []string{
					"replication_password", "replication_password_wo", "replication_password_wo_version", "replication_tls", "server_tls", "databases", "users", "settings",
					"lag_threshold_seconds", "wait_timeout", "converged", "drift", "replica_status",
				},
			},
		},
	})

	// Secrets in Terraform's and the provider's trace logs.
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "seeding replica") {
		t.Errorf("the trace log %s has no provider messages (%d bytes): the check below would prove nothing", logFile, len(log))
	}
	for _, s := range []string{replPW, appPW} {
		if strings.Contains(string(log), s) {
			t.Errorf("a password appears in the TF_LOG=trace output")
		}
	}
	if strings.Contains(string(log), keyLine) {
		t.Errorf("the server's private key appears in the TF_LOG=trace output")
	}
}

// topologyFlavor is one server flavor's lab hosts for the topology test:
// a primary, a replica, and a host whose server package the test purges
// (the provider installs it again).
type topologyFlavor struct {
	flavor mysql.Flavor
	hosts  [3]string
}

// TestAccMySQLCluster_mariadbTopology and TestAccMySQLCluster_mysqlTopology
// run one body (testAccClusterTopology) on each flavor's lab hosts: a
// replica joins a primary holding data (thousands of rows in several
// tables, on a host whose server package was purged: it is installed) and
// converges with matching checksums; a switchover primary -> replica under a
// continuous writer loses no acknowledged write and leaves the old primary
// replicating from the new one; a replica whose container is stopped while
// the primary takes writes catches up when it starts.
func TestAccMySQLCluster_mariadbTopology(t *testing.T) {
	testAccClusterTopology(t, topologyFlavor{flavor: mysql.MariaDB, hosts: [3]string{"db1", "db2", "db3"}})
}

// TestAccMySQLCluster_mysqlTopology: see TestAccMySQLCluster_mariadbTopology.
func TestAccMySQLCluster_mysqlTopology(t *testing.T) {
	testAccClusterTopology(t, topologyFlavor{flavor: mysql.MySQL, hosts: [3]string{"mysql1", "mysql2", "mysql3"}})
}

// testAccClusterTopology: failures name the flavor's hosts (db1 or mysql1);
// the flavor is in the test's name and log.
func testAccClusterTopology(t *testing.T, f topologyFlavor) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	db1, db2, db3 := inv.Host(t, f.hosts[0]), inv.Host(t, f.hosts[1]), inv.Host(t, f.hosts[2])
	t.Logf("flavor %s: primary %s, replicas %s and %s (%s is purged)", f.flavor, db1.Name, db2.Name, db3.Name, db3.Name)
	cleanMySQLHosts(t, db1, db2, db3)
	replPW, appPW := randomSecret(t, "Rp-"), randomSecret(t, "Ap-")
	body := fmt.Sprintf(`  replication_user     = %q
  replication_password = %q
  databases = [{ name = %q }, { name = %q, charset = "utf8mb4", collation = "utf8mb4_unicode_ci" }]
  users = [{
    name       = %q
    password   = %q
    database   = %q
    privileges = ["SELECT", "INSERT", "CREATE"]
  }]
  wait_timeout = "3m"
`, accReplUser, replPW, accDB, accSeedDB, accAppUser, appPW, accDB)
	tables := []string{accSeedDB + ".a", accSeedDB + ".b", accSeedDB + ".c", accDB + ".w"}
	var writer *acctest.Writer

	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMySQLDestroyed(t, []acctest.Host{db1, db2, db3}, accSeedDB),
		Steps: []tfresource.TestStep{
			{
				Config: mysqlClusterHCL(inv, db1, []acctest.Host{db2}, body),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("flavor"), knownvalue.StringExact(strings.ToLower(f.flavor.String()))),
				},
				Check: checkReplicates(db1, []acctest.Host{db2}, appPW, "w", 1, 10),
			},
			{
				// db3's server package is purged: with install = false
				// that is an error that changes nothing.
				PreConfig: func() {
					for i, tbl := range []string{"a", "b", "c"} {
						db1.WriteRows(t, accSeedDB, tbl, 1, 2000+1000*i, 50)
					}
					pkg := mysql.ServerPackage(f.flavor)
					db3.Exec(t, "sh", "-c", `DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$1" >/dev/null 2>&1`, "sh", pkg)
					if _, err := db3.TryExec("systemctl", "cat", db3.Service); err == nil {
						t.Fatalf("%s still has the %s service after purging %s", db3.Name, db3.Service, pkg)
					}
				},
				Config:      mysqlClusterHCL(inv, db1, []acctest.Host{db2, db3}, body+"  install = false\n"),
				ExpectError: errPattern(db3.Address, "no MySQL or MariaDB server is installed, and install is false", "install "+mysql.ServerPackage(f.flavor)),
			},
			{
				// db3 joins a primary holding data; its server package was
				// purged, so it is installed first.
				PreConfig: func() {
					if _, err := db3.TryExec("systemctl", "cat", db3.Service); err == nil {
						t.Fatalf("install = false installed the server on %s", db3.Name)
					}
				},
				Config: mysqlClusterHCL(inv, db1, []acctest.Host{db2, db3}, body),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("replica_status").AtSliceIndex(1).AtMapKey("io_running"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("servers").AtMapKey(db3.Address).AtMapKey("role"), knownvalue.StringExact("replica")),
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						want := db1.Checksums(t, tables...)
						if len(want) != len(tables) {
							return fmt.Errorf("checksums on %s: %v", db1.Name, want)
						}
						for _, h := range []acctest.Host{db2, db3} {
							if diff := cmp.Diff(want, h.Checksums(t, tables...)); diff != "" {
								return fmt.Errorf("%s checksums differ from %s (-%s +%s):\n%s", h.Name, db1.Name, db1.Name, h.Name, diff)
							}
						}
						return nil
					},
					checkReplicates(db1, []acctest.Host{db2, db3}, appPW, "w", 11, 10),
					checkWriteRefused(db3, appPW),
				),
			},
			{
				// Switchover db1 -> db2 while an application writes to
				// whichever host takes writes.
				PreConfig: func() {
					writer = acctest.StartWriter(t, []acctest.Host{db1, db2}, accAppUser, appPW, accDB, "sw")
					acctest.Eventually(t, 30*time.Second, func() string {
						if writer.Acked() < 10 {
							return "the writer has not written 10 rows yet"
						}
						return ""
					})
				},
				Config: mysqlClusterHCL(inv, db2, []acctest.Host{db1, db3}, body),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("writer_endpoint"), knownvalue.StringExact(db2.Address+":3306")),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("servers").AtMapKey(db1.Address).AtMapKey("role"), knownvalue.StringExact("replica")),
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						// Let the writer run against the new primary too.
						before := writer.Acked()
						acctest.Eventually(t, 30*time.Second, func() string {
							if writer.Acked() < before+10 {
								return "the writer does not write to the new primary"
							}
							return ""
						})
						acked, failures, byHost := writer.Stop()
						t.Logf("switchover under load: %d writes acknowledged (%v), %d refused or failed", len(acked), byHost, failures)
						if byHost[db1.Name] == 0 || byHost[db2.Name] == 0 {
							return fmt.Errorf("the writer did not write to both primaries: %v", byHost)
						}
						// Every member converges on the new primary's rows,
						// and every acknowledged write is among them.
						want := db2.SQLValue(t, "SELECT COUNT(*) FROM foobar_acc.sw")
						for _, h := range []acctest.Host{db2, db1, db3} {
							if err := waitSQL(h, "SELECT COUNT(*) FROM foobar_acc.sw", want, 60*time.Second); err != nil {
								return err
							}
							have := map[string]bool{}
							for _, id := range strings.Fields(h.SQL(t, "SELECT id FROM foobar_acc.sw")) {
								have[id] = true
							}
							for _, id := range acked {
								if !have[strconv.Itoa(id)] {
									return fmt.Errorf("%s lost acknowledged write %d", h.Name, id)
								}
							}
						}
						return nil
					},
					checkReplicaSource(t, db1, db2),
					checkReplicaSource(t, db3, db2),
					checkWriteRefused(db1, appPW),
				),
			},
			{
				// A replica's container stops while the primary takes
				// writes; it catches up when it starts, nothing lost, and
				// the next plan is empty.
				PreConfig: func() {
					db3.Stop(t)
					db2.WriteRows(t, accSeedDB, "d", 1, 3000, 20)
					db3.Start(t)
					if err := waitSQL(db3, "SELECT COUNT(*) FROM foobar_acc_seed.d", "3000", 2*time.Minute); err != nil {
						t.Fatal(err)
					}
				},
				Config: mysqlClusterHCL(inv, db2, []acctest.Host{db1, db3}, body),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkReplicaSource(t, db3, db2),
					func(*terraform.State) error {
						want := db2.Checksums(t, accSeedDB+".d")
						if diff := cmp.Diff(want, db3.Checksums(t, accSeedDB+".d")); diff != "" {
							return fmt.Errorf("%s differs from %s after catching up:\n%s", db3.Name, db2.Name, diff)
						}
						return nil
					},
				),
			},
			{
				// Removing a replica detaches it and keeps its data.
				Config: mysqlClusterHCL(inv, db2, []acctest.Host{db1}, body),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkMySQLDestroyed(t, []acctest.Host{db3}, accSeedDB),
					checkReplicaSource(t, db1, db2),
				),
			},
		},
	})
}

// TestAccMySQLCluster_unreachableMember: destroy, or removing a replica,
// with a member whose host is down is an error naming the host, the
// connection error, what stays on it and the two ways out, and the
// cluster stays in state; setting forget_unreachable_members (a change
// that contacts no host) lets the replica be removed and the cluster
// destroyed.
func TestAccMySQLCluster_unreachableMember(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	db1, db2 := inv.Host(t, "db1"), inv.Host(t, "db2")
	cleanMySQLHosts(t, db1, db2)
	replPW := randomSecret(t, "Rp-")
	body := func(forget bool) string {
		return fmt.Sprintf(`  replication_user     = %q
  replication_password = %q
  wait_timeout = "3m"
  forget_unreachable_members = %t
`, accReplUser, replPW, forget)
	}
	stopped := false
	t.Cleanup(func() {
		if stopped {
			db2.Start(t)
		}
	})
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// db2 is down when the cluster is destroyed: only db1 is clean.
		CheckDestroy: checkMySQLDestroyed(t, []acctest.Host{db1}, ""),
		Steps: []tfresource.TestStep{
			{
				Config: mysqlClusterHCL(inv, db1, []acctest.Host{db2}, body(false)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("forget_unreachable_members"), knownvalue.Bool(false)),
				},
			},
			{
				PreConfig: func() {
					db2.Stop(t)
					stopped = true
				},
				Config:  mysqlClusterHCL(inv, db1, []acctest.Host{db2}, body(false)),
				Destroy: true,
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(db2.Address) + `\s+cannot\s+be\s+reached\s+\(.*Could\s+not\s+connect.*NOT\s+removed.*bring\s+` +
					regexp.QuoteMeta(db2.Address) + `\s+back.*forget_unreachable_members\s+=\s+true`),
			},
			{
				// Removing the unreachable replica fails the same way.
				Config: mysqlClusterHCL(inv, db1, nil, body(false)),
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(db2.Address) + `\s+cannot\s+be\s+reached\s+\(.*Could\s+not\s+connect.*NOT\s+removed.*bring\s+` +
					regexp.QuoteMeta(db2.Address) + `\s+back.*forget_unreachable_members\s+=\s+true`),
			},
			{
				// Still in state (an update, not a create), and nothing was
				// changed on db1 by the failed destroy.
				PreConfig: func() {
					if src := db1.ReplicaField(t, "Master_Host"); src != "" {
						t.Errorf("db1 replicates from %s", src)
					}
					if users, _ := db1.TrySQL(fmt.Sprintf("SELECT User FROM mysql.user WHERE User = '%s'", accReplUser)); strings.TrimSpace(users) == "" {
						t.Error("the failed destroy dropped the replication account on db1")
					}
				},
				Config: mysqlClusterHCL(inv, db1, []acctest.Host{db2}, body(true)),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("forget_unreachable_members"), knownvalue.Bool(true)),
				},
				// The refresh cannot read db2: converged stays false in
				// state and the next plan shows the repair.
				ExpectNonEmptyPlan: true,
			},
			{
				// With the attribute set, the replica can be removed too
				// (the cluster converges without it).
				Config: mysqlClusterHCL(inv, db1, nil, body(true)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("converged"), knownvalue.Bool(true)),
				},
			},
			// The test's final destroy runs with db2 still down (and no
			// longer a member); CheckDestroy looks at db1.
		},
	})
}

// TestAccMySQLCluster_mysql: the same basics on MySQL 9 (CHANGE
// REPLICATION SOURCE, super_read_only, a cloned server_uuid), with
// sensitive (not write-only) passwords, replication over TLS verified
// against the test's CA and the members' addresses (server_tls), a replica
// given the wrong CA refused, and an application account that must use TLS
// (require_ssl).
func TestAccMySQLCluster_mysql(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	m1, m2 := inv.Host(t, "mysql1"), inv.Host(t, "mysql2")
	cleanMySQLHosts(t, m1, m2)
	replPW, replPW2, appPW := randomSecret(t, "Rp-"), randomSecret(t, "Rq-"), randomSecret(t, "Ap-")
	ca, otherCA := testcert.NewCA(t), testcert.NewCA(t)
	serverTLS, rotatedTLS := clusterTLSHCL(t, ca, m1, m2), clusterTLSHCL(t, otherCA, m1, m2)
	mkBodyTLS := func(replPW, privileges, caPEM, serverTLS string) string {
		return fmt.Sprintf(`  replication_user     = %q
  replication_password = %q
%s
  replication_tls = {
    ca_pem = <<-EOT
%s
EOT
  }
  databases = [{ name = %q }]
  users = [{
    name        = %q
    host        = "%%"
    password    = %q
    require_ssl = true
    database    = %q
    privileges  = [%s]
  }]
  wait_timeout = "2m"
`, accReplUser, replPW, serverTLS, strings.TrimSpace(caPEM), accDB, accAppUser, appPW, accDB, privileges)
	}
	mkBodyCA := func(replPW, privileges, caPEM string) string { return mkBodyTLS(replPW, privileges, caPEM, serverTLS) }
	mkBody := func(replPW, privileges string) string { return mkBodyCA(replPW, privileges, ca.PEM) }
	cfg := mysqlClusterHCL(inv, m1, []acctest.Host{m2}, mkBody(replPW, `"ALL PRIVILEGES"`))
	withSettings := func(settings string) string {
		return mysqlClusterHCL(inv, m1, []acctest.Host{m2}, mkBody(replPW2, `"SELECT", "INSERT", "CREATE"`)+"  settings = { "+settings+" }\n")
	}
	var changes int

	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMySQLDestroyed(t, []acctest.Host{m1, m2}, accDB),
		Steps: []tfresource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("flavor"), knownvalue.StringExact("mysql")),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("servers").AtMapKey(m1.Address).AtMapKey("version"), knownvalue.StringRegexp(regexp.MustCompile(`^9\.`))),
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkReplicates(m1, []acctest.Host{m2}, appPW, "t1", 1, 100),
					checkReplicaSource(t, m2, m1),
					func(*terraform.State) error {
						// super_read_only refuses even the admin.
						if _, err := m2.TrySQL("CREATE DATABASE foobar_acc_other"); err == nil || !strings.Contains(err.Error(), "super-read-only") {
							return fmt.Errorf("the replica's admin could write, or was refused for another reason: %w", err)
						}
						if err := checkVerifiedReplicationTLS(t, m1, m2); err != nil {
							return err
						}
						if ct := m1.SQLValue(t, fmt.Sprintf("SELECT GROUP_CONCAT(connection_type) FROM performance_schema.threads WHERE processlist_user = '%s'", accReplUser)); ct != "SSL/TLS" {
							return fmt.Errorf("the replication connection on the primary is %q, want SSL/TLS", ct)
						}
						changes = m2.ChangeSourceCounter(t)
						return nil
					},
					checkWriteRefused(m2, appPW),
					checkClientTLS(t, m1, accAppUser, appPW, ca.PEM, otherCA.PEM),
				),
			},
			{
				Config: cfg,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if got := m2.ChangeSourceCounter(t); got != changes {
						return fmt.Errorf("a no-op apply issued CHANGE REPLICATION SOURCE (%d -> %d)", changes, got)
					}
					return nil
				},
			},
			{
				// Refusal: a replica told to trust another CA does not
				// connect, and the apply says why at once (not after
				// wait_timeout). The next step puts the right CA back.
				Config:      mysqlClusterHCL(inv, m1, []acctest.Host{m2}, mkBodyCA(replPW, `"ALL PRIVILEGES"`, otherCA.PEM)),
				ExpectError: errPattern(m2.Address, "refuses", m1.Address, "TLS certificate", "certificate verify failed", "replication_tls.ca_pem"),
			},
			{
				PreConfig: func() {
					m2.SQL(t, "STOP REPLICA SQL_THREAD")
					if _, err := m1.SQLAs(accAppUser, appPW, accDB, "INSERT INTO t1 VALUES (1001, 'while-stopped')"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate),
						acctest.ExpectDrift(mysqlClusterAddr, "SQL thread is not running"),
					},
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						return waitSQL(m2, "SELECT COUNT(*) FROM foobar_acc.t1", "101", 30*time.Second)
					},
					checkReplicaSource(t, m2, m1),
				),
			},
			{
				// A new replication password reaches the account and the
				// replica's connection; fewer privileges are revoked.
				Config: mysqlClusterHCL(inv, m1, []acctest.Host{m2}, mkBody(replPW2, `"SELECT", "INSERT", "CREATE"`)),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(mysqlClusterAddr, plancheck.ResourceActionUpdate)},
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						// Reconnect: the IO thread logs in again with the
						// password it was given.
						m2.SQL(t, "STOP REPLICA IO_THREAD; START REPLICA IO_THREAD")
						return nil
					},
					checkReplicates(m1, []acctest.Host{m2}, appPW, "t1", 2001, 5),
					checkReplicaSource(t, m2, m1),
					func(*terraform.State) error {
						grants := m1.SQL(t, fmt.Sprintf("SHOW GRANTS FOR '%s'@'%%'", accAppUser))
						if !strings.Contains(grants, "GRANT SELECT, INSERT, CREATE ON `foobar") || strings.Contains(grants, "ALL PRIVILEGES") {
							return fmt.Errorf("privileges not reduced to SELECT, INSERT, CREATE:\n%s", grants)
						}
						if _, err := m1.SQLAs(accAppUser, appPW, accDB, "DROP TABLE t1"); err == nil {
							return fmt.Errorf("the application could still drop a table")
						}
						return nil
					},
				),
			},
			{
				// A setting goes into the managed fragment on both hosts.
				Config: withSettings(`max_connections = "300"`),
				Check:  checkMySQLSetting(t, []acctest.Host{m1, m2}, "max_connections", "300"),
			},
			{
				// A setting the server refuses (mysqld --validate-config)
				// never goes live: the error names it, the live fragment
				// keeps the previous settings.
				Config:      withSettings(`max_connections = "300", no_such_option = "1"`),
				ExpectError: errPattern("unknown variable", "no_such_option"),
			},
			{
				Config: withSettings(`max_connections = "300"`),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkMySQLSetting(t, []acctest.Host{m1, m2}, "max_connections", "300"),
					func(*terraform.State) error {
						for _, h := range []acctest.Host{m1, m2} {
							out := h.Exec(t, "cat", "/etc/mysql/mysql.conf.d/zz-foobar.cnf")
							if strings.Contains(out, "no_such_option") || !strings.Contains(out, "max_connections = 300") {
								return fmt.Errorf("%s: the refused setting reached the live file, or the previous one is gone:\n%s", h.Name, out)
							}
						}
						return nil
					},
					checkReplicates(m1, []acctest.Host{m2}, appPW, "t1", 3001, 5),
				),
			},
			{
				// Rotation: a certificate from another CA (replicas trust
				// both during the change) is served after the restart,
				// replica first; a client that trusts only the new CA
				// verifies it, one that trusts only the old one is refused.
				Config: mysqlClusterHCL(inv, m1, []acctest.Host{m2}, mkBodyTLS(replPW2, `"SELECT", "INSERT", "CREATE"`, ca.PEM+otherCA.PEM, rotatedTLS)+"  settings = { max_connections = \"300\" }\n"),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						if u1, u2 := m1.StatusCounter(t, "Uptime"), m2.StatusCounter(t, "Uptime"); u2 < u1 {
							return fmt.Errorf("the primary restarted before the replica (uptime primary %d s, replica %d s)", u1, u2)
						}
						return nil
					},
					checkClientTLS(t, m1, accAppUser, appPW, otherCA.PEM, ca.PEM),
					checkReplicates(m1, []acctest.Host{m2}, appPW, "t1", 1501, 5),
					checkReplicaSource(t, m2, m1),
				),
			},
			{
				ResourceName:      mysqlClusterAddr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return m1.Address + "," + m2.Address, nil },
				ImportStateVerifyIgnore: []string{
					"replication_password", "replication_tls", "server_tls", "databases", "users", "settings",
					"lag_threshold_seconds", "wait_timeout", "converged", "drift", "replica_status",
				},
			},
		},
	})
}

// clusterTLSHCL issues one server certificate from ca naming every member
// by address (IP SANs) and returns the cluster's server_tls argument with
// the key inline.
func clusterTLSHCL(t *testing.T, ca *testcert.CA, members ...acctest.Host) string {
	t.Helper()
	cert, key := clusterCert(t, ca, members...)
	return serverTLSHCL(cert, "<<-EOT\n"+strings.TrimSpace(key)+"\nEOT")
}

// clusterCert issues one server certificate from ca naming every member by
// address (IP SANs).
func clusterCert(t testing.TB, ca *testcert.CA, members ...acctest.Host) (cert, key string) {
	t.Helper()
	var ips []net.IP
	for _, m := range members {
		ips = append(ips, net.ParseIP(m.Address))
	}
	return ca.Issue(t, nil, ips, 0)
}

// serverTLSHCL is the server_tls argument with the certificate inline and
// the key as the HCL expression keyExpr.
func serverTLSHCL(cert, keyExpr string) string {
	return fmt.Sprintf("  server_tls = {\n    cert_pem = <<-EOT\n%s\nEOT\n    key_pem = %s\n  }\n", strings.TrimSpace(cert), keyExpr)
}

// checkVerifiedReplicationTLS: the replica connects over TLS with the
// source's certificate verified by name, and the primary's key is readable
// by the server's group only.
func checkVerifiedReplicationTLS(t *testing.T, primary, replica acctest.Host) error {
	t.Helper()
	allowed, verify := "Master_SSL_Allowed", "Master_SSL_Verify_Server_Cert"
	if replica.Service != "mariadb" {
		allowed, verify = "Source_SSL_Allowed", "Source_SSL_Verify_Server_Cert"
	}
	if got := replica.ReplicaField(t, allowed); got != "Yes" {
		return fmt.Errorf("%s: replication is not over TLS (%s %q)", replica.Name, allowed, got)
	}
	if got := replica.ReplicaField(t, verify); got != "Yes" {
		return fmt.Errorf("%s: the source's certificate is not verified (%s %q)", replica.Name, verify, got)
	}
	if got := strings.TrimSpace(primary.Exec(t, "stat", "-c", "%a %U %G", mysql.ServerKeyFile)); got != "640 root mysql" {
		return fmt.Errorf("%s: %s is %q, want 640 root mysql", primary.Name, mysql.ServerKeyFile, got)
	}
	return nil
}

// checkClientTLS: an account with require_ssl is refused without TLS
// (error 1045) and when the client trusts another CA, and works when the
// client verifies the server's certificate against ca (the session then
// reports a TLS cipher).
func checkClientTLS(t *testing.T, h acctest.Host, user, password, caPEM, otherCAPEM string) func(*terraform.State) error {
	return func(*terraform.State) error {
		good, bad := "/tmp/foobar-acc-ca.pem", "/tmp/foobar-acc-other-ca.pem"
		h.ExecInput(t, caPEM, "sh", "-c", "cat > "+good)
		h.ExecInput(t, otherCAPEM, "sh", "-c", "cat > "+bad)
		const q = "SHOW SESSION STATUS LIKE 'Ssl_cipher'"
		if out, err := h.SQLAsTLS(user, password, "", q, ""); err == nil || !strings.Contains(out, "1045") {
			return fmt.Errorf("%s: %s connected without TLS, or was refused for another reason: %w (output %q)", h.Name, user, err, out)
		}
		if _, err := h.SQLAsTLS(user, password, "", q, bad); err == nil {
			return fmt.Errorf("%s: a client trusting another CA connected as %s", h.Name, user)
		} else {
			t.Logf("wrong CA refused as it should be: %v", err)
		}
		out, err := h.SQLAsTLS(user, password, "", q, good)
		if err != nil {
			return fmt.Errorf("%s: %s could not connect with TLS verified against the cluster's CA: %w", h.Name, user, err)
		}
		if f := strings.Fields(out); len(f) < 2 {
			return fmt.Errorf("%s: the verified session has no TLS cipher: %q", h.Name, out)
		}
		return nil
	}
}

// TestMySQLCluster_invalidInputs: bad inputs are refused at plan time, each
// on its attribute, before any host is contacted.
func TestMySQLCluster_invalidInputs(t *testing.T) {
	requireTerraform(t)
	const provider = `provider "foobar" {}` + "\n"
	certA, keyA := testcert.Pair(t, "db")
	_, keyB := testcert.Pair(t, "db")
	serverTLSArg := func(cert, key string) string {
		return fmt.Sprintf("server_tls = {\n    cert_pem = %q\n    key_pem = %q\n  }", cert, key)
	}
	member := func(h string) string { return fmt.Sprintf("{ ssh = { host = %q } }", h) }
	cluster := func(primary string, replicas []string, extra string) string {
		var reps []string
		for _, r := range replicas {
			reps = append(reps, member(r))
		}
		return provider + fmt.Sprintf(`resource "foobar_mysql_cluster" "test" {
  primary              = %s
  replicas             = [%s]
  replication_user     = "repl"
  replication_password = "secret-pw"
%s
}
`, member(primary), strings.Join(reps, ", "), extra)
	}
	cases := []struct {
		name string
		cfg  string
		want []string
	}{
		{"duplicate replicas", cluster("10.0.0.1", []string{"10.0.0.2", "10.0.0.2"}, ""),
			[]string{`replicas[1].ssh.host`, `is listed twice (also replicas[0].ssh.host)`}},
		{"primary as replica", cluster("10.0.0.1", []string{"10.0.0.1"}, ""),
			[]string{`replicas[0].ssh.host`, `is the primary`}},
		{"owned setting", cluster("10.0.0.1", nil, `settings = { server_id = "7" }`),
			[]string{`settings["server_id"]`, `is managed by the resource`}},
		{"bad setting name", cluster("10.0.0.1", nil, `settings = { "max connections" = "7" }`),
			[]string{`settings["max connections"]`, `setting names are lower-case`}},
		{"setting value injection", cluster("10.0.0.1", nil, `settings = { max_connections = "7\n[client]" }`),
			[]string{`settings["max_connections"]`, `printable ASCII on one line`}},
		{"bad user name", cluster("10.0.0.1", nil, `users = [{ name = "app;drop", password = "x-pw", database = "app", privileges = ["SELECT"] }]`),
			[]string{`users[0].name`, `may contain only letters`}},
		{"bad user host", cluster("10.0.0.1", nil, `users = [{ name = "app", host = "10.0.0.0/8", password = "x-pw", database = "app", privileges = ["SELECT"] }]`),
			[]string{`users[0].host`, `10.0.0.0/8`}},
		{"bad privilege", cluster("10.0.0.1", nil, `users = [{ name = "app", password = "x-pw", database = "app", privileges = ["SELECT", "FILE"] }]`),
			[]string{`users[0].privileges`, `"FILE"`, `is not a database privilege`}},
		{"system database", cluster("10.0.0.1", nil, `databases = [{ name = "mysql" }]`),
			[]string{`databases[0].name`, `is a system schema`}},
		{"bad replication user", strings.Replace(cluster("10.0.0.1", nil, ""), `replication_user     = "repl"`, `replication_user = "re pl"`, 1),
			[]string{`replication_user`, `may contain only letters`}},
		{"two passwords", cluster("10.0.0.1", nil, `replication_password_wo = "x"
  replication_password_wo_version = 1`),
			[]string{`replication_password`, `replication_password_wo`}},
		{"user without password", cluster("10.0.0.1", nil, `users = [{ name = "app", database = "app", privileges = ["SELECT"] }]`),
			[]string{`users[0].password`}},
		{"bad ca", cluster("10.0.0.1", nil, `replication_tls = { ca_pem = "not a certificate" }`),
			[]string{`replication_tls.ca_pem`, `holds no PEM certificate`}},
		{"semi_sync timeout not a duration", cluster("10.0.0.1", nil, `semi_sync = { timeout = "fast" }`),
			[]string{`semi_sync.timeout`, `"fast"`, `not a duration`}},
		{"semi_sync timeout too short", cluster("10.0.0.1", nil, `semi_sync = { timeout = "10ms" }`),
			[]string{`semi_sync.timeout`, `"10ms"`, `between 100ms and 24h`}},
		{"semi_sync set in settings", cluster("10.0.0.1", nil, `settings = { rpl_semi_sync_master_enabled = "ON" }`),
			[]string{`settings["rpl_semi_sync_master_enabled"]`, `semi_sync attribute`}},
		{"server key of another certificate", cluster("10.0.0.1", nil, serverTLSArg(certA, keyB)),
			[]string{`server_tls.key_pem`, `is not the private key of the certificate`}},
		{"server key not a key", cluster("10.0.0.1", nil, serverTLSArg(certA, "not a key")),
			[]string{`server_tls.key_pem`, `holds no PEM private key`}},
		{"server cert not a cert", cluster("10.0.0.1", nil, serverTLSArg("not a certificate", keyB)),
			[]string{`server_tls.cert_pem`, `holds no PEM certificate`}},
		{"ssl_cert with server_tls", cluster("10.0.0.1", nil, serverTLSArg(certA, keyA)+"\n  settings = { ssl_cert = \"/etc/x.pem\" }"),
			[]string{`settings["ssl_cert"]`, `is managed by server_tls`}},
		{"bad wait", cluster("10.0.0.1", nil, `wait_timeout = "soon"`),
			[]string{`wait_timeout`, `not a duration`}},
		// issue 13 part 5: settings that switch off the server's security.
		{"security off", cluster("10.0.0.1", nil, `settings = { "skip-grant-tables" = "" }`),
			[]string{`settings["skip-grant-tables"]`, `without authentication`}},
		{"code at start-up", cluster("10.0.0.1", nil, `settings = { "loose-plugin-load-add" = "x.so" }`),
			[]string{`settings["loose-plugin-load-add"]`, `arbitrary code`}},
		// issue 13 part 1: a server charset in which a literal can end early.
		{"dangerous charset", cluster("10.0.0.1", nil, `settings = { "character-set-server" = "gbk" }`),
			[]string{`settings["character-set-server"]`, `SQL injection`, `allowed values: utf8mb4`}},
		{"no handshake", cluster("10.0.0.1", nil, `settings = { "skip-character-set-client-handshake" = "" }`),
			[]string{`settings["skip-character-set-client-handshake"]`, `ignores the character set clients ask for`}},
	}
	steps := make([]tfresource.TestStep, 0, len(cases))
	for _, c := range cases {
		steps = append(steps, tfresource.TestStep{
			Config:      c.cfg,
			PlanOnly:    true,
			ExpectError: errPattern(c.want...),
		})
	}
	tfresource.UnitTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
	})
}

func TestMySQLClusterSchemaIsValid(t *testing.T) {
	t.Parallel()
	r := NewMySQLClusterResource()
	resp := &resource.SchemaResponse{}
	r.Schema(context.Background(), resource.SchemaRequest{}, resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("schema does not validate: %v", diags)
	}
	for name, a := range resp.Schema.Attributes {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("attribute %s has no description", name)
		}
	}
	for _, secret := range []string{"replication_password", "replication_password_wo"} {
		if !resp.Schema.Attributes[secret].IsSensitive() {
			t.Errorf("%s must be sensitive", secret)
		}
	}
	if !resp.Schema.Attributes["replication_password_wo"].IsWriteOnly() {
		t.Error("replication_password_wo must be write-only")
	}
	// A member's host must not force replacement: moving the primary is a
	// switchover, adding a replica an update, never a new cluster.
	for _, m := range []string{"primary", "replicas"} {
		var attrs map[string]schema.Attribute
		switch a := resp.Schema.Attributes[m].(type) {
		case schema.SingleNestedAttribute:
			attrs = a.Attributes
		case schema.ListNestedAttribute:
			attrs = a.NestedObject.Attributes
		}
		host := attrs["ssh"].(schema.SingleNestedAttribute).Attributes["host"].(schema.StringAttribute)
		if len(host.PlanModifiers) != 0 {
			t.Errorf("%s.ssh.host has plan modifiers %v; it must not require replacement", m, host.PlanModifiers)
		}
	}
}

func TestPasswordChanged(t *testing.T) {
	t.Parallel()
	s, n := types.StringValue, types.StringNull()
	v, nv := types.Int64Value, types.Int64Null()
	cases := []struct {
		name           string
		oldPW, newPW   types.String
		oldVer, newVer types.Int64
		want           bool
	}{
		{"sensitive same", s("a"), s("a"), nv, nv, false},
		{"sensitive changed", s("a"), s("b"), nv, nv, true},
		{"wo same version", n, n, v(1), v(1), false},
		{"wo new version", n, n, v(1), v(2), true},
		{"sensitive to wo", s("a"), n, nv, v(1), true},
		{"wo to sensitive", n, s("a"), v(1), nv, true},
	}
	for _, c := range cases {
		if got := passwordChanged(c.oldPW, c.newPW, c.oldVer, c.newVer); got != c.want {
			t.Errorf("%s: passwordChanged = %t, want %t", c.name, got, c.want)
		}
	}
}

// An apply that leaves drift is an error and the state says so: converged
// false and the drift listed, never converged true and an empty drift.
func TestMySQLClusterFinishKeepsDrift(t *testing.T) {
	t.Parallel()
	for _, drift := range [][]string{nil, {"db2: replication SQL thread stopped", "db1: settings file changed"}} {
		m := mysqlClusterModel{Primary: &mysqlMemberModel{SSH: hostConnection("db1")}}
		st := mysql.Status{Members: []mysql.MemberStatus{{Host: "db1", Role: mysql.RolePrimary}}, Drift: drift}
		var diags diag.Diagnostics
		m.finish(st, nil, "Update", &diags)
		if got, want := diags.HasError(), len(drift) > 0; got != want {
			t.Errorf("drift %q: error %t, want %t (%v)", drift, got, want, diags)
		}
		if got, want := m.Converged.ValueBool(), len(drift) == 0; got != want {
			t.Errorf("drift %q: converged = %t, want %t", drift, got, want)
		}
		var gotDrift []string
		diags.Append(m.Drift.ElementsAs(context.Background(), &gotDrift, false)...)
		if diff := cmp.Diff(drift, gotDrift, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("drift in state (-want +got):\n%s", diff)
		}
	}
}

// A change of forget_unreachable_members alone is a state-only update (so
// it can be applied while a member is unreachable); with anything else it
// converges as usual.
func TestMySQLClusterOnlyForgetChanged(t *testing.T) {
	t.Parallel()
	state := mysqlClusterModel{
		Primary: &mysqlMemberModel{SSH: hostConnection("db1")}, Replicas: []mysqlMemberModel{{SSH: hostConnection("db2")}},
		Flavor: types.StringValue("mariadb"), Servers: types.MapNull(mysqlServerType), ReplicaStatus: types.ListNull(mysqlReplicaStatusType),
		Install: types.BoolValue(true), ForgetUnreachableMembers: types.BoolValue(false),
	}
	planned := func(edit func(m *mysqlClusterModel)) mysqlClusterModel {
		m := state
		m.Replicas = slices.Clone(state.Replicas)
		m.Flavor, m.Servers, m.ReplicaStatus = types.StringUnknown(), types.MapUnknown(mysqlServerType), types.ListUnknown(mysqlReplicaStatusType)
		edit(&m)
		return m
	}
	for _, c := range []struct {
		name string
		plan mysqlClusterModel
		want bool
	}{
		{"nothing changed", planned(func(*mysqlClusterModel) {}), false},
		{"forget set", planned(func(m *mysqlClusterModel) { m.ForgetUnreachableMembers = types.BoolValue(true) }), true},
		{"forget set while the state has drift", planned(func(m *mysqlClusterModel) {
			m.ForgetUnreachableMembers, m.Converged = types.BoolValue(true), types.BoolValue(!state.Converged.ValueBool())
		}), true},
		{"forget set and a replica removed", planned(func(m *mysqlClusterModel) {
			m.ForgetUnreachableMembers, m.Replicas = types.BoolValue(true), nil
		}), false},
		{"forget set and install changed", planned(func(m *mysqlClusterModel) {
			m.ForgetUnreachableMembers, m.Install = types.BoolValue(true), types.BoolValue(false)
		}), false},
	} {
		if got := c.plan.onlyForgetChanged(state); got != c.want {
			t.Errorf("%s: onlyForgetChanged = %t, want %t", c.name, got, c.want)
		}
	}
}

// TestMySQLCluster_example plans the documented example (no host is
// contacted for a plan): it must stay valid as the schema changes.
func TestMySQLCluster_example(t *testing.T) {
	requireTerraform(t)
	b, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "resources", "foobar_mysql_cluster", "resource.tf"))
	if err != nil {
		t.Fatal(err)
	}
	ca := testcert.NewCA(t)
	cert, key := ca.Issue(t, nil, []net.IP{net.ParseIP("10.0.0.31"), net.ParseIP("10.0.0.32"), net.ParseIP("10.0.0.33")}, 0)
	tfresource.UnitTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// Ephemeral variables and write-only arguments.
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []tfresource.TestStep{{
			Config: `provider "foobar" {}` + "\n" + string(b),
			ConfigVariables: config.Variables{
				"replication_password": config.StringVariable("r-secret"), "app_password": config.StringVariable("a-secret"),
				"db_ca_pem": config.StringVariable(ca.PEM), "db_cert_pem": config.StringVariable(cert), "db_key_pem": config.StringVariable(key),
			},
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: tfresource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("foobar_mysql_cluster.db", tfjsonpath.New("writer_endpoint"), knownvalue.StringExact("10.0.0.31:3306")),
				},
			},
		}},
	})
}
