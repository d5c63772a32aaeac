// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"sort"
	"strconv"
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

// TestAccMySQLCluster_semiSyncFailover measures what a failover of a dead
// primary loses, on MariaDB (db1-db3) and MySQL 9 (mysql1-mysql3), with
// semi_sync on and then off. The first member is the primary of the other
// two; the third stops receiving (so the second is the most advanced, as
// failover_from requires). A writer on the third member's host inserts
// rows into the primary as the application, one autocommit statement at a
// time, and records each id the primary acknowledged. The primary is cut
// off from the second member for 3 s (its packets dropped) and then its
// container is killed with SIGKILL, and the second member is promoted
// with failover_from. With semi_sync every acknowledged row is on the new
// primary (the writer stalls while no replica can acknowledge); without it
// the writes acknowledged during the cut are lost, and the number is
// logged: the risk of asynchronous replication that the guide quotes.
func TestAccMySQLCluster_semiSyncFailover(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	for _, f := range []struct {
		name  string
		hosts []string
	}{
		{"mariadb", []string{"db1", "db2", "db3"}},
		{"mysql", []string{"mysql1", "mysql2", "mysql3"}},
	} {
		// The flavours' hosts are distinct: both run at once.
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			for _, semi := range []bool{true, false} {
				name := "async"
				if semi {
					name = "semi_sync"
				}
				t.Run(name, func(t *testing.T) {
					semiSyncFailover(t, inv, inv.Host(t, f.hosts[0]), inv.Host(t, f.hosts[1]), inv.Host(t, f.hosts[2]), semi)
				})
			}
		})
	}
}

func semiSyncFailover(t *testing.T, inv *acctest.Inventory, h1, h2, h3 acctest.Host, semi bool) {
	cleanMySQLHosts(t, h1, h2, h3)
	t.Cleanup(func() {
		if _, err := h1.TryExec("true"); err != nil {
			h1.Start(t)
		}
		waitAnswering(t, h1)
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
  wait_timeout = "2m"
`, accReplUser, replPW, accDB, accAppUser, appPW, accDB)
	if semi {
		// Long enough that the primary never falls back to asynchronous
		// replication during the test: a fallback would be a failure.
		body += "  semi_sync = { timeout = \"1m\" }\n"
	}
	failover := body + fmt.Sprintf("  failover_from = %q\n", h1.Address)
	start := time.Now()
	mark := func(what string) { t.Logf("%5.1fs: %s", time.Since(start).Seconds(), what) }
	var w *sqlWriter
	var acked []int
	var during int // writes acknowledged while h1 was cut off from h2

	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMySQLDestroyed(t, []acctest.Host{h1, h2, h3}, accDB),
		Steps: []tfresource.TestStep{
			{
				Config: mysqlClusterHCL(inv, h1, []acctest.Host{h2, h3}, body),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					checkReplicates(h1, []acctest.Host{h2, h3}, appPW, "w", 1, 1),
					func(*terraform.State) error {
						// The primary waits for acknowledgements (two
						// replicas connected as semi-synchronous) only with
						// semi_sync.
						status, clients := semiSyncStatus(t, h1)
						t.Logf("%s: semi-synchronous status %s, %s clients", h1.Name, status, clients)
						if semi && (status != "ON" || clients != "2") {
							return fmt.Errorf("%s: semi_sync is set but the primary's status is %q with %q semi-synchronous replicas, want ON and 2", h1.Name, status, clients)
						}
						if !semi && status == "ON" {
							return fmt.Errorf("%s: semi-synchronous replication is on without semi_sync", h1.Name)
						}
						return nil
					},
				),
			},
			{
				// h3 stops receiving; the writer runs; h1 loses its route
				// to h2 (its packets to h2 are dropped: the replication
				// connection hangs, as in a network fault, while the writer
				// on h3 still reaches h1); then h1 is killed.
				PreConfig: func() {
					h3.SQL(t, "STOP "+replicaWord(h3)+" IO_THREAD")
					w = startSQLWriter(t, h3, h1, appPW, 1000)
					time.Sleep(3 * time.Second)
					before := w.count(t)
					mark(fmt.Sprintf("%s cut off from %s (%d writes acknowledged so far)", h1.Name, h2.Name, before))
					h1.Exec(t, "ip", "route", "add", "blackhole", h2.Address+"/32")
					time.Sleep(3 * time.Second)
					during = w.count(t) - before
					mark(fmt.Sprintf("killing %s's container with SIGKILL (%d writes acknowledged while it was cut off from %s)", h1.Name, during, h2.Name))
					h1.Kill(t)
					time.Sleep(time.Second)
					acked = w.stop(t)
					mark(fmt.Sprintf("failover to %s after %d acknowledged writes", h2.Name, len(acked)))
				},
				Config:             mysqlClusterHCL(inv, h2, []acctest.Host{h3, h1}, failover),
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mysqlClusterAddr, tfjsonpath.New("writer_endpoint"), knownvalue.StringExact(h2.Address+":3306")),
				},
				Check: func(*terraform.State) error {
					if len(acked) < 20 {
						return fmt.Errorf("the writer had only %d writes acknowledged before the kill: the test measured nothing", len(acked))
					}
					have := map[int]bool{}
					for _, s := range strings.Fields(h2.SQL(t, "SELECT id FROM "+accDB+".w WHERE id >= 1000")) {
						n, err := strconv.Atoi(s)
						if err != nil {
							return fmt.Errorf("%s: unexpected id %q", h2.Name, s)
						}
						have[n] = true
					}
					var lost []int
					for _, id := range acked {
						if !have[id] {
							lost = append(lost, id)
						}
					}
					t.Logf("FAILOVER semi_sync=%v: %d writes acknowledged by %s before it was killed, %d of them missing on the new primary %s (%d rows there from the writer)",
						semi, len(acked), h1.Name, len(lost), h2.Name, len(have))
					if semi && len(lost) > 0 {
						return fmt.Errorf("with semi_sync, %d acknowledged writes are missing on %s: %v", len(lost), h2.Name, lost)
					}
					// Without it, the writes h1 acknowledged while cut off
					// are gone: the fault is one that semi_sync is needed
					// for (if nothing were lost here, the semi_sync case
					// would prove nothing).
					if !semi && (during == 0 || len(lost) == 0) {
						return fmt.Errorf("asynchronous replication lost nothing (%d writes acknowledged during the cut): the test's fault does not test semi_sync", during)
					}
					if semi {
						if status, _ := semiSyncStatus(t, h2); status != "ON" {
							return fmt.Errorf("%s, the new primary, does not wait for acknowledgements (status %q)", h2.Name, status)
						}
					}
					return nil
				},
			},
			{
				// h1 runs again; it is fenced (the plan shows it), and the
				// destroy that follows finds every member.
				PreConfig: func() {
					h1.Start(t)
					waitAnswering(t, h1)
				},
				Config:             mysqlClusterHCL(inv, h2, []acctest.Host{h3, h1}, failover),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// replicaWord is REPLICA on MySQL and SLAVE on MariaDB (STOP ... IO_THREAD).
func replicaWord(h acctest.Host) string {
	if h.SQLClient() == "mysql" {
		return "REPLICA"
	}
	return "SLAVE"
}

// semiSyncStatus returns the primary side's status (ON while it waits for
// acknowledgements) and its number of semi-synchronous replicas; "" when
// the server has no semi-synchronous replication loaded.
func semiSyncStatus(t *testing.T, h acctest.Host) (status, clients string) {
	out := h.SQL(t, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_source_status', "+
		"'Rpl_semi_sync_master_clients', 'Rpl_semi_sync_source_clients')")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if strings.HasSuffix(f[0], "_status") {
			status = f[1]
		} else {
			clients = f[1]
		}
	}
	return status, clients
}

// sqlWriter inserts rows into a primary from another lab host: one client
// session, one autocommit INSERT per id from `from` on, each followed by a
// SELECT of its id, so the client prints an id only once the primary has
// acknowledged its INSERT (--unbuffered flushes each result).
type sqlWriter struct {
	host acctest.Host
}

const writerDir = "/tmp/foobar-writer"

func startSQLWriter(t *testing.T, on, primary acctest.Host, appPW string, from int) *sqlWriter {
	t.Helper()
	script := fmt.Sprintf(`rm -rf %[1]s && mkdir -p %[1]s && touch %[1]s/run
(i=%[2]d; while [ -f %[1]s/run ]; do echo "INSERT INTO w VALUES ($i, 'w'); SELECT $i;"; i=$((i+1)); done) |
  MYSQL_PWD=%[3]q %[4]s -h %[5]s -u %[6]s --batch --skip-column-names --unbuffered --connect-timeout=5 %[7]s > %[1]s/acked 2> %[1]s/err &
echo started`, writerDir, from, appPW, on.SQLClient(), primary.Address, accAppUser, accDB)
	on.Exec(t, "sh", "-c", script)
	return &sqlWriter{host: on}
}

func (w *sqlWriter) count(t *testing.T) int {
	out := w.host.Exec(t, "sh", "-c", "wc -l < "+writerDir+"/acked")
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n
}

// stop ends the writer and returns the acknowledged ids, sorted.
func (w *sqlWriter) stop(t *testing.T) []int {
	w.host.Exec(t, "sh", "-c", "rm -f "+writerDir+"/run; sleep 0.5; pkill -x "+w.host.SQLClient()+"; true")
	out := w.host.Exec(t, "cat", writerDir+"/acked")
	if e, _ := w.host.TryExec("cat", writerDir+"/err"); strings.TrimSpace(e) != "" {
		t.Logf("writer's errors: %s", strings.TrimSpace(e))
	}
	var ids []int
	for _, s := range strings.Fields(out) {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("writer printed %q", s)
		}
		ids = append(ids, n)
	}
	sort.Ints(ids)
	return ids
}
