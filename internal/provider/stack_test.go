// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// TestAccStack_example applies examples/foobar-stack itself (the files an
// operator reads, not a copy in test code) to lb1, web1, web2, db1 and db2,
// and checks from outside what `make demo` checks: round robin through the
// load balancer, a static file from Nginx, a dynamic request from the
// application, a record written through the site and read back from the
// replica, and an empty second plan. Destroy gives every host back. It runs
// on every Debian release of the lab at the same time (lbt1, webt1, webt2,
// dbt1 and dbt2 on trixie).
func TestAccStack_example(t *testing.T) {
	requireTerraform(t)
	acctest.Lab(t)
	example := filepath.Join(acctest.RepoRoot(), "examples", "foobar-stack")

	// The application, built as `make app` builds it.
	artifact := filepath.Join(t.TempDir(), "foobar-app")
	build := exec.Command("go", "build", "-trimpath", "-o", artifact, ".")
	build.Dir = filepath.Join(example, "app")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example application: %v\n%s", err, out)
	}

	// The example's required_providers names foobar/foobar, as an operator
	// writes it; the in-process provider must answer to that address.
	// Set here, before the releases' subtests start: they run in parallel.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "foobar")

	acctest.EachRelease(t, acctest.InParallel, func(t *testing.T, inv *acctest.Inventory, hosts acctest.Hosts) {
		testAccStackExample(t, inv, hosts, example, artifact)
	})
}

func testAccStackExample(t *testing.T, inv *acctest.Inventory, hosts acctest.Hosts, example, artifact string) {
	lb1, web1, web2, db1, db2 := hosts.LB, hosts.Web1, hosts.Web2, hosts.DBPrimary, hosts.Replica
	// The application's data stays (destroy never drops user databases);
	// remove it out of band so the lab is as it started, also when the
	// test failed (a leftover database would stop the next run from
	// seeding the replica).
	t.Cleanup(func() {
		for _, h := range []acctest.Host{db1, db2} {
			h.Exec(t, "mariadb", "-e", "SET sql_log_bin=0; DROP DATABASE IF EXISTS foobar")
		}
	})
	const domain = "www.foobar.com"
	vars := config.Variables{
		"ssh_user":             config.StringVariable(inv.User),
		"private_key_file":     config.StringVariable(inv.PrivateKeyFile),
		"known_hosts_file":     config.StringVariable(inv.KnownHostsFile),
		"lb_host":              config.StringVariable(lb1.Address),
		"web1_host":            config.StringVariable(web1.Address),
		"web2_host":            config.StringVariable(web2.Address),
		"db_primary_host":      config.StringVariable(db1.Address),
		"db_replica_hosts":     config.ListVariable(config.StringVariable(db2.Address)),
		"app_network":          config.StringVariable(strings.TrimSuffix(inv.Subnet, "0/24") + "%"),
		"app_artifact":         config.StringVariable(artifact),
		"site_dir":             config.StringVariable(filepath.Join(example, "public")),
		"db_app_password":      config.StringVariable(randomSecret(t, "app-")),
		"replication_password": config.StringVariable(randomSecret(t, "repl-")),
		"stats_password":       config.StringVariable(randomSecret(t, "stats-")),
	}
	checkSite := func(*terraform.State) error {
		var failed []string
		for _, c := range acctest.CheckStack(acctest.StackTarget{LB: lb1.Address, Domain: domain, Replica: db2.Address + ":3306", Web: []string{web1.Name, web2.Name}}) {
			t.Log(c)
			if !c.OK {
				failed = append(failed, c.String())
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("the stack does not work:\n%s", strings.Join(failed, "\n"))
		}
		return nil
	}
	// The example's own terraform block names the provider, so the
	// factories go on the steps (plugin-testing's rule for configuration
	// directories).
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          config.StaticDirectory(example),
				ConfigVariables:          vars,
				Check:                    checkSite,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("dns_record", knownvalue.StringExact(domain+". IN A "+lb1.Address)),
					statecheck.ExpectKnownOutputValue("db_writer_endpoint", knownvalue.StringExact(db1.Address+":3306")),
					statecheck.ExpectKnownOutputValue("db_reader_endpoints", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(db2.Address + ":3306")})),
				},
			},
			{
				// The second plan is empty.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          config.StaticDirectory(example),
				ConfigVariables:          vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			// Every host is back as the lab started it.
			if out, err := lb1.TryExec("systemctl", "is-active", "haproxy"); err != nil {
				return fmt.Errorf("%s: haproxy not running after destroy: %w %s", lb1.Name, err, out)
			}
			for _, w := range []acctest.Host{web1, web2} {
				r, err := acctest.Fetch(context.Background(), acctest.HTTPClient(acctest.ClientOptions{Timeout: 10 * time.Second}), acctest.Request{URL: "http://" + w.Address + "/"})
				if err != nil {
					return fmt.Errorf("%s: Debian's default site does not answer after destroy: %w", w.Name, err)
				}
				if r.Status != 200 || strings.TrimSpace(r.Body) != w.Name {
					return fmt.Errorf("%s: Debian's default site is not back after destroy: status %d, body %q", w.Name, r.Status, r.Body)
				}
			}
			if out, _ := db2.TryExec("mariadb", "-N", "-e", "SHOW SLAVE STATUS"); strings.TrimSpace(out) != "" {
				return fmt.Errorf("%s still replicates after destroy: %s", db2.Name, out)
			}
			if out, _ := db1.TryExec("mariadb", "-N", "-e", "SHOW DATABASES LIKE 'foobar'"); strings.TrimSpace(out) != "foobar" {
				return fmt.Errorf("%s: destroy must keep the application's database, SHOW DATABASES says %q", db1.Name, out)
			}
			return nil
		},
	})
}
