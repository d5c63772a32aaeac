// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// TestAccMySQLCluster_serverKilled (issue 14.2, services come back by
// themselves): MariaDB's server killed with SIGKILL, first on the replica
// and then on the primary, is restarted by systemd (Debian's mariadb.service
// has Restart=on-abnormal, RestartSec=5s: the provider adds no drop-in), and
// replication resumes without an apply: rows written on the primary after
// each restart reach the replica (the replica's I/O thread reconnects every
// MASTER_CONNECT_RETRY = 5 s; its GTID position is crash-safe).
func TestAccMySQLCluster_serverKilled(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	db1, db2 := inv.Host(t, "db1"), inv.Host(t, "db2")
	cleanMySQLHosts(t, db1, db2)
	if db1.Service != "mariadb" {
		t.Fatalf("db1 runs %q, want mariadb", db1.Service)
	}
	config := mysqlClusterHCL(inv, db1, []acctest.Host{db2}, fmt.Sprintf(`  replication_user     = %q
  replication_password = "Kill-Rp-1"
  databases            = [{ name = %q }]
  wait_timeout         = "2m"
`, accReplUser, accDB))
	const table = "killed"
	rows := 0
	// replicates writes 10 rows on the primary and waits until the replica
	// has them.
	replicates := func(limit time.Duration) (time.Duration, error) {
		start := time.Now()
		db1.WriteRows(t, accDB, table, rows+1, 10, 16)
		rows += 10
		want := strconv.Itoa(rows)
		err := waitSQL(db2, fmt.Sprintf("SELECT COUNT(*) FROM `%s`.`%s`", accDB, table), want, limit)
		return time.Since(start), err
	}
	// kill kills mariadbd on h and waits until systemd has started it again
	// (NRestarts grew, the server answers).
	kill := func(h acctest.Host) (time.Duration, error) {
		before := nRestarts(t, h, h.Service)
		h.Exec(t, "pkill", "-KILL", "-x", "mariadbd")
		killed := time.Now()
		if !acctest.Poll(60*time.Second, func() bool {
			_, err := h.TrySQL("SELECT 1")
			return err == nil && nRestarts(t, h, h.Service) > before
		}) {
			state, _ := h.TryExec("systemctl", "show", "-p", "ActiveState,SubState,Restart,NRestarts", h.Service)
			return time.Since(killed), fmt.Errorf("%s: mariadbd killed with SIGKILL was not running again after 60 s (no apply ran); systemd: %s",
				h.Name, strings.Join(strings.Fields(state), " "))
		}
		return time.Since(killed), nil
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			Check: hostCheck(func() error {
				if policy := strings.TrimSpace(db1.Exec(t, "systemctl", "show", "-p", "Restart", "--value", db1.Service)); policy != "on-abnormal" {
					return fmt.Errorf("db1: Restart= of %s is %q, want Debian's on-abnormal", db1.Service, policy)
				}
				if _, err := replicates(60 * time.Second); err != nil {
					return err
				}
				for _, h := range []acctest.Host{db2, db1} {
					role := map[string]string{db1.Name: "primary", db2.Name: "replica"}[h.Name]
					up, err := kill(h)
					if err != nil {
						return err
					}
					caught, err := replicates(90 * time.Second)
					if err != nil {
						return fmt.Errorf("after mariadbd was killed on the %s %s and restarted by systemd, replication did not resume without an apply: %w", role, h.Name, err)
					}
					for _, f := range []string{"Slave_IO_Running", "Slave_SQL_Running"} {
						if v := db2.ReplicaField(t, f); v != "Yes" {
							return fmt.Errorf("after the %s's restart: %s on %s is %q", role, f, db2.Name, v)
						}
					}
					acctest.Report("mariadbd killed with SIGKILL on the %s %s: restarted by systemd and answering after %.1f s; rows written next on the primary were on the replica after %.1f s; no apply",
						role, h.Name, up.Seconds(), caught.Seconds())
				}
				return nil
			}),
		}},
	})
}
