// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// TestAccMySQLCluster_mariadbFailover: db1 is the primary of db2 and db3.
// db2 falls behind (its receiver stopped) and db1's container is killed
// with SIGKILL. Changing the primary is then refused without
// failover_from, and with it refused for db2 (db3 is more advanced, and
// named); db3 is promoted, db2 follows it, and db1 is fenced. db1's
// container starts again: the next apply makes it read-only and a
// replica of db3, nothing lost. Then db3 is cut from the network, takes an
// errant write, and db2 is failed over to: when db3 is back the apply is
// refused naming db3 and its errant GTID, and db3 is left read-only with
// the write in place.
func TestAccMySQLCluster_mariadbFailover(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	db1, db2, db3 := inv.Host(t, "db1"), inv.Host(t, "db2"), inv.Host(t, "db3")
	cleanMySQLHosts(t, db1, db2, db3)
	t.Cleanup(func() {
		// Whatever failed: every container runs again (before the
		// cleanup above, registered earlier, runs), connected.
		db3.Connect(t, inv.Network)
		for _, h := range []acctest.Host{db1, db3} {
			if _, err := h.TryExec("true"); err != nil {
				h.Start(t)
			}
		}
		waitAnswering(t, db1, db2, db3)
	})
	replPW, appPW := randomSecret(t, "Rp-"), randomSecret(t, "Ap-")
	body := fmt.Sprintf(`  replication_user     = %q
  replication_password = %q
  databases = [{ name = %q }]
  users = [{
    name       = %q
    password   = %q
    database   = %q
    privileges = ["SELECT", "INSERT", "CREATE"]
  }]
  wait_timeout = "1m"
`, accReplUser, replPW, accDB, accAppUser, appPW, accDB)
	failoverFrom := func(h acctest.Host) string { return body + fmt.Sprintf("  failover_from = %q\n", h.Address) }
	count := func(h acctest.Host) string { return h.SQLValue(t, "SELECT COUNT(*) FROM foobar_acc.w") }
	fenced := func(hosts ...acctest.Host) statecheck.StateCheck {
		vs := []knownvalue.Check{}
		for _, h := range hosts {
			vs = append(vs, knownvalue.StringExact(h.Address))
		}
		return statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("fenced_members"), knownvalue.ListExact(vs))
	}
	var errant string
	start := time.Now()
	mark := func(what string) { t.Logf("%5.1fs: %s", time.Since(start).Seconds(), what) }

	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			mark("destroyed")
			return checkMySQLDestroyed(t, []acctest.Host{db1, db2, db3}, accDB)(s)
		},
		Steps: []tfresource.TestStep{
			{
				Config:            mysqlClusterHCL(inv, db1, []acctest.Host{db2, db3}, body),
				ConfigStateChecks: []statecheck.StateCheck{fenced()},
				Check:             checkReplicates(db1, []acctest.Host{db2, db3}, appPW, "w", 1, 10),
			},
			{
				// db2 stops receiving; db3 gets five more rows; db1 dies.
				// Without failover_from the change is a switchover that
				// needs db1: refused, naming db1 and the way out.
				PreConfig: func() {
					mark("db2 stops receiving, db1 is killed")
					db2.SQL(t, "STOP SLAVE IO_THREAD")
					if err := checkReplicates(db1, []acctest.Host{db3}, appPW, "w", 11, 5)(nil); err != nil {
						t.Fatal(err)
					}
					db1.Kill(t)
				},
				Config:      mysqlClusterHCL(inv, db2, []acctest.Host{db3, db1}, body),
				ExpectError: errPattern(db1.Address, "the current primary, cannot be reached", "failover_from = "),
			},
			{
				// With failover_from, db2 is refused: db3 has rows it lacks.
				PreConfig:   func() { mark("failover to db2 (refused)") },
				Config:      mysqlClusterHCL(inv, db2, []acctest.Host{db3, db1}, failoverFrom(db1)),
				ExpectError: errPattern(db3.Address, "is more advanced than", db2.Address, "Promote "+db3.Address, "nothing was changed"),
			},
			{
				// db3 is promoted; db2 follows it and gets db3's rows; db1 is
				// fenced (unreachable: the refresh still reports it, so the
				// plan after the apply is not empty).
				PreConfig: func() {
					mark("failover to db3")
					if got := count(db2); got != "10" {
						t.Fatalf("the refused failover changed db2: %s rows, want 10", got)
					}
				},
				Config:             mysqlClusterHCL(inv, db3, []acctest.Host{db2, db1}, failoverFrom(db1)),
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					fenced(db1),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("writer_endpoint"), knownvalue.StringExact(db3.Address+":3306")),
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkReplicaSource(t, db2, db3),
					checkReplicates(db3, []acctest.Host{db2}, appPW, "w", 16, 10),
					checkWriteRefused(db2, appPW),
				),
			},
			{
				// db1 is back (writable, as its settings say a primary is):
				// the apply fences it and it rejoins as db3's replica.
				PreConfig: func() { mark("db1 starts, rejoins"); db1.Start(t) },
				Config:    mysqlClusterHCL(inv, db3, []acctest.Host{db2, db1}, failoverFrom(db1)),
				ConfigStateChecks: []statecheck.StateCheck{
					fenced(),
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("servers").AtMapKey(db1.Address).AtMapKey("role"), knownvalue.StringExact("replica")),
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkReplicaSource(t, db1, db3),
					checkWriteRefused(db1, appPW),
					checkReplicates(db3, []acctest.Host{db2, db1}, appPW, "w", 26, 5),
					func(*terraform.State) error {
						for _, h := range []acctest.Host{db1, db2, db3} {
							if got := count(h); got != "30" {
								return fmt.Errorf("%s has %s rows, want 30", h.Name, got)
							}
						}
						return nil
					},
				),
			},
			{
				// db3, the primary, is cut off and takes a write that never
				// reaches the others (binary log on); db2 is promoted.
				PreConfig: func() {
					mark("db3 cut off, errant write, failover to db2")
					db3.Disconnect(t, inv.Network)
					db3.SQL(t, "INSERT INTO foobar_acc.w VALUES (1000, 'errant')")
					errant = db3.SQLValue(t, "SELECT @@GLOBAL.gtid_binlog_pos")
					t.Logf("errant transaction on db3: %s", errant)
				},
				Config:             mysqlClusterHCL(inv, db2, []acctest.Host{db1, db3}, failoverFrom(db3)),
				ExpectNonEmptyPlan: true,
				ConfigStateChecks:  []statecheck.StateCheck{fenced(db3)},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkReplicaSource(t, db1, db2),
					checkReplicates(db2, []acctest.Host{db1}, appPW, "w", 31, 5),
				),
			},
			{
				// db3 is back with its errant write: refused, named.
				PreConfig:   func() { mark("db3 back (refused)"); db3.Connect(t, inv.Network) },
				Config:      mysqlClusterHCL(inv, db2, []acctest.Host{db1, db3}, failoverFrom(db3)),
				ExpectError: errPattern(db3.Address, "holds transactions that", db2.Address, "never received", "domain 0 server", "left read-only"),
			},
			{
				// db3 was left read-only, not replicating, its write in place.
				PreConfig: func() {
					mark("db3 left untouched?")
					if got := db3.SQLValue(t, "SELECT @@GLOBAL.read_only"); got != "1" {
						t.Errorf("db3 read_only = %s, want 1", got)
					}
					if got := strings.TrimSpace(db3.SQL(t, "SHOW SLAVE STATUS")); got != "" {
						t.Errorf("db3 replicates after being refused: %s", got)
					}
					if got := db3.SQLValue(t, "SELECT v FROM foobar_acc.w WHERE id = 1000"); got != "errant" {
						t.Errorf("db3's errant row is %q, want it untouched", got)
					}
					if got := db2.SQLValue(t, "SELECT COUNT(*) FROM foobar_acc.w WHERE id = 1000"); got != "0" {
						t.Errorf("the errant row reached db2")
					}
				},
				Config:             mysqlClusterHCL(inv, db2, []acctest.Host{db1, db3}, failoverFrom(db3)),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}
