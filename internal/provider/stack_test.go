// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

// TestAccStack_example applies examples/foobar-stack itself (the files an
// operator reads, not a copy in test code) to lb1, web1, web2, db1 and db2,
// and checks from outside what `make demo` checks: round robin through the
// load balancer, a static file from Nginx, a dynamic request from the
// application, a record written through the site and read back from the
// replica, and an empty second plan. Every hop behind the load balancer
// runs TLS with the peer verified (the example's internal_tls, a CA and
// certificates the test makes): HAProxy reports each web server UP over TLS
// on its HTTPS port with `ssl verify required`, the application's sessions
// on the writer and the replica report a TLS cipher and its account is
// refused without TLS or by a client that trusts another CA, and the
// replica verifies the primary's certificate. Destroy gives every host back. It runs
// on every Debian release of the lab at the same time (lbt1, webt1, webt2,
// dbt1 and dbt2 on trixie). On bookworm the example runs as `make demo`
// runs it, with lb1 and lb3 as a load-balancer pair behind a virtual
// address (the DNS record's, through which the site is checked); on trixie
// with one load balancer, the example's default.
func TestAccStack_example(t *testing.T) {
	requireTerraform(t)
	acctest.Lab(t)
	artifact := buildStackApp(t)
	// The example's required_providers names foobar/foobar, as an operator
	// writes it; the in-process provider must answer to that address.
	// Set here, before the releases' subtests start: they run in parallel.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "foobar")
	acctest.EachRelease(t, acctest.InParallel, func(t *testing.T, inv *acctest.Inventory, hosts acctest.Hosts) {
		testAccStackExample(t, newStackExample(t, inv, hosts, artifact))
	})
}

func testAccStackExample(t *testing.T, st stackExample) {
	web1, web2, db1, db2 := st.web1, st.web2, st.db1, st.db2
	example, vars, domain := st.dir, st.vars, stackDomain
	// The application's data stays (destroy never drops user databases);
	// it is removed out of band so the lab is as it started, also when the
	// test failed (a leftover database would stop the next run from
	// seeding the replica).
	t.Cleanup(func() { st.dropAppData(t) })
	checkSite := func(*terraform.State) error {
		var failed []string
		for _, c := range acctest.CheckStack(acctest.StackTarget{LB: st.site(), Domain: domain, Replica: db2.Address + ":3306", Web: []string{web1.Name, web2.Name}}) {
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
				Check:                    resource.ComposeAggregateTestCheckFunc(checkSite, st.checkTLS(t), st.checkFirewall(), st.checkScraped(t)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("dns_record", knownvalue.StringExact(domain+". IN A "+st.site())),
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
		CheckDestroy: st.checkDestroy,
	})
}

// stackDomain is the example's domain.
const stackDomain = "www.foobar.com"

// stackExample is examples/foobar-stack on one release's lab hosts (lb1,
// web1, web2, db1 and db2 on bookworm).
type stackExample struct {
	dir                       string
	vars                      config.Variables
	lb1, web1, web2, db1, db2 acctest.Host
	// lbPeer is lb1's partner behind vip (the zero Host and "" on a
	// release without one: then the site's address is lb1's).
	lbPeer acctest.Host
	vip    string
	// ca signed the example's internal_tls certificates; appPassword is
	// the application's database password.
	ca          *testcert.CA
	appPassword string
}

// stackWebTLSName is the name the web servers' certificate holds (the
// example's web_tls_name default), and stackWebTLSPort their HTTPS port.
const (
	stackWebTLSName = "web.foobar.internal"
	stackWebTLSPort = 443
)

// site is the address the DNS record names: the virtual address of the
// load-balancer pair, or the one load balancer's.
func (st stackExample) site() string {
	if st.vip != "" {
		return st.vip
	}
	return st.lb1.Address
}

// hosts are every host the example uses.
func (st stackExample) hosts() []acctest.Host {
	hs := []acctest.Host{st.lb1, st.web1, st.web2, st.db1, st.db2}
	if st.lbPeer.Name != "" {
		hs = append(hs, st.lbPeer)
	}
	return hs
}

func newStackExample(t testing.TB, inv *acctest.Inventory, hosts acctest.Hosts, artifact string) stackExample {
	t.Helper()
	st := stackExample{lb1: hosts.LB, web1: hosts.Web1, web2: hosts.Web2, db1: hosts.DBPrimary, db2: hosts.Replica}
	st.dir = filepath.Join(acctest.RepoRoot(), "examples", "foobar-stack")
	// The stack's internal CA, the web servers' certificate for
	// web_tls_name and the database members' for their addresses.
	st.ca, st.appPassword = testcert.NewCA(t), randomSecret(t, "app-")
	webCert, webKey := st.ca.Issue(t, []string{stackWebTLSName}, nil, 0)
	dbCert, dbKey := clusterCert(t, st.ca, st.db1, st.db2)
	st.vars = config.Variables{
		"ssh_user":             config.StringVariable(inv.User),
		"private_key_file":     config.StringVariable(inv.PrivateKeyFile),
		"known_hosts_file":     config.StringVariable(inv.KnownHostsFile),
		"lb_host":              config.StringVariable(st.lb1.Address),
		"web1_host":            config.StringVariable(st.web1.Address),
		"web2_host":            config.StringVariable(st.web2.Address),
		"db_primary_host":      config.StringVariable(st.db1.Address),
		"db_replica_hosts":     config.ListVariable(config.StringVariable(st.db2.Address)),
		"app_network":          config.StringVariable(strings.TrimSuffix(inv.Subnet, "0/24") + "%"),
		"app_artifact":         config.StringVariable(artifact),
		"site_dir":             config.StringVariable(filepath.Join(st.dir, "public")),
		"db_app_password":      config.StringVariable(st.appPassword),
		"replication_password": config.StringVariable(randomSecret(t, "repl-")),
		"stats_password":       config.StringVariable(randomSecret(t, "stats-")),
		// The test machine, as the hosts see it: Terraform's SSH and the
		// checks of the statistics port come from there.
		"admin_sources": config.ListVariable(config.StringVariable(strings.TrimSuffix(inv.Subnet, "0/24") + "1")),
		// Prometheus runs on the test machine too.
		"monitoring_sources":      config.ListVariable(config.StringVariable(strings.TrimSuffix(inv.Subnet, "0/24") + "1")),
		"exporter_mysql_password": config.StringVariable(randomSecret(t, "exporter-")),
		"internal_tls": config.ObjectVariable(map[string]config.Variable{
			"ca_pem":       config.StringVariable(st.ca.PEM),
			"web_cert_pem": config.StringVariable(webCert),
			"web_key_pem":  config.StringVariable(webKey),
			"db_cert_pem":  config.StringVariable(dbCert),
			"db_key_pem":   config.StringVariable(dbKey),
		}),
	}
	if hosts.LBPeer.Name != "" {
		// The pair's address: .10 of the lab's network, which no lab
		// host has (TestAccLoadBalancer_pair uses it too, never at the
		// same time: it does not run in parallel).
		st.lbPeer, st.vip = hosts.LBPeer, strings.TrimSuffix(inv.Subnet, "0/24")+"10"
		st.vars["lb_peer_hosts"] = config.ListVariable(config.StringVariable(st.lbPeer.Address))
		st.vars["virtual_ip"] = config.StringVariable(st.vip + "/24")
	}
	return st
}

// buildStackApp builds the example's application as `make app` does.
func buildStackApp(t testing.TB) string {
	t.Helper()
	artifact := filepath.Join(t.TempDir(), "foobar-app")
	build := exec.Command("go", "build", "-trimpath", "-o", artifact, ".")
	build.Dir = filepath.Join(acctest.RepoRoot(), "examples", "foobar-stack", "app")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example application: %v\n%s", err, out)
	}
	return artifact
}

// checkScraped starts Prometheus on the test machine (the example's
// monitoring_sources) with the example's monitoring/prometheus.yml and
// alerts.yml and its scrape_targets output as foobar-targets.json, and
// requires every target up: a node exporter on each host, Nginx's on each
// web server, mysqld's on each database member and each load balancer's
// HAProxy.
func (st stackExample) checkScraped(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		out, ok := s.RootModule().Outputs["scrape_targets"]
		if !ok {
			return fmt.Errorf("no scrape_targets output")
		}
		targets, ok := out.Value.(string)
		if !ok {
			return fmt.Errorf("scrape_targets is a %T, want a JSON string", out.Value)
		}
		lbs := 1
		if st.lbPeer.Name != "" {
			lbs = 2
		}
		want := len(st.hosts()) + 2 + 2 + lbs
		started := time.Now()
		prom := acctest.StartShippedPrometheus(t, 3*time.Second, []byte(targets))
		up, err := prom.WaitAllUp(want, 60*time.Second)
		if err != nil {
			return fmt.Errorf("scrape_targets %s: %w", targets, err)
		}
		t.Logf("Prometheus scraped %d of %d targets (up == 1) %.1f s after it started:\n%s", want, want, time.Since(started).Seconds(), up)
		return nil
	}
}

// checkTLS checks every hop behind the load balancer with the checks
// `make demo` runs (acctest.CheckStackTLS), and that the application's
// account is also refused by a client that verifies against another CA
// (and accepted with the stack's).
func (st stackExample) checkTLS(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		lbs := []acctest.Host{st.lb1}
		if st.lbPeer.Name != "" {
			lbs = append(lbs, st.lbPeer)
		}
		var failed []string
		for _, c := range acctest.CheckStackTLS(acctest.StackTLSTarget{
			LB: st.site(), Domain: stackDomain, LBs: lbs, Backend: "web", WebTLSPort: stackWebTLSPort,
			Primary: st.db1, Replica: st.db2, ReplicaEndpoint: st.db2.Address + ":3306",
			AppUser: "foobar_app", AppPassword: st.appPassword,
		}) {
			t.Log(c)
			if !c.OK {
				failed = append(failed, c.String())
			}
		}
		// The account as the cluster in the state names it.
		db, ok := s.RootModule().Resources["foobar_mysql_cluster.db"]
		if !ok {
			return fmt.Errorf("foobar_mysql_cluster.db is not in the state")
		}
		if user := db.Primary.Attributes["users.0.name"]; user != "foobar_app" {
			failed = append(failed, fmt.Sprintf("the example's first database user is %q, want foobar_app", user))
		} else if err := checkClientTLS(t, st.db1, user, st.appPassword, st.ca.PEM, testcert.NewCA(t).PEM)(s); err != nil {
			failed = append(failed, err.Error())
		}
		if len(failed) > 0 {
			return fmt.Errorf("a hop is not TLS, or not verified:\n%s", strings.Join(failed, "\n"))
		}
		return nil
	}
}

// checkFirewall checks every flow between the example's hosts: SSH from
// none of them (only admin_sources, the test machine), HTTP on a load
// balancer from all, its statistics port from none, a web server's HTTPS
// from the load balancers only and its plain HTTP from none, MySQL from the web servers and the other
// database hosts only, the exporters (node on every host, nginx on the web
// servers, mysqld on the database hosts) from none (only
// monitoring_sources, the test machine).
func (st stackExample) checkFirewall() resource.TestCheckFunc {
	lbs := []acctest.Host{st.lb1}
	if st.lbPeer.Name != "" {
		lbs = append(lbs, st.lbPeer)
	}
	webs, dbs := []acctest.Host{st.web1, st.web2}, []acctest.Host{st.db1, st.db2}
	hosts := append(append(append([]acctest.Host{}, lbs...), webs...), dbs...)
	ports := map[string][]int{}
	var want []string
	for _, to := range hosts {
		ports[to.Name] = []int{22, 9100}
	}
	for _, lb := range lbs {
		ports[lb.Name] = append(ports[lb.Name], 80, 8404)
		for _, from := range hosts {
			want = append(want, fmt.Sprintf("%s->%s:80", from.Name, lb.Name))
		}
	}
	for _, w := range webs {
		ports[w.Name] = append(ports[w.Name], 80, stackWebTLSPort, 9113)
		for _, lb := range lbs {
			want = append(want, fmt.Sprintf("%s->%s:%d", lb.Name, w.Name, stackWebTLSPort))
		}
	}
	for _, db := range dbs {
		ports[db.Name] = append(ports[db.Name], 3306, 9104)
		for _, from := range append(append([]acctest.Host{}, webs...), dbs...) {
			want = append(want, fmt.Sprintf("%s->%s:3306", from.Name, db.Name))
		}
	}
	return checkFlows(hosts, ports, want...)
}

// checkDestroy: every host is back as the lab started it.
func (st stackExample) checkDestroy(*terraform.State) error {
	for _, h := range st.hosts() {
		if out, err := h.TryExec("nft", "list", "table", "inet", "foobar"); err == nil {
			return fmt.Errorf("%s: the firewall's table is still there after destroy:\n%s", h.Name, out)
		}
	}
	lbs := []acctest.Host{st.lb1}
	if st.lbPeer.Name != "" {
		lbs = append(lbs, st.lbPeer)
	}
	for _, lb := range lbs {
		if out, err := lb.TryExec("systemctl", "is-active", "haproxy"); err != nil {
			return fmt.Errorf("%s: haproxy not running after destroy: %w %s", lb.Name, err, out)
		}
		if st.vip == "" {
			continue
		}
		if out, _ := lb.TryExec("sh", "-c", "systemctl is-active keepalived; ip -o -4 addr show"); strings.Contains(out, " "+st.vip+"/") || strings.HasPrefix(out, "active") {
			return fmt.Errorf("%s: keepalived or the virtual address %s is still there after destroy:\n%s", lb.Name, st.vip, out)
		}
	}
	for _, w := range []acctest.Host{st.web1, st.web2} {
		r, err := acctest.Fetch(context.Background(), acctest.HTTPClient(acctest.ClientOptions{Timeout: 10 * time.Second}), acctest.Request{URL: "http://" + w.Address + "/"})
		if err != nil {
			return fmt.Errorf("%s: Debian's default site does not answer after destroy: %w", w.Name, err)
		}
		if r.Status != 200 || strings.TrimSpace(r.Body) != w.Name {
			return fmt.Errorf("%s: Debian's default site is not back after destroy: status %d, body %q", w.Name, r.Status, r.Body)
		}
	}
	// The admin's client on the socket, without TLS (acctest's SQL
	// helpers): MariaDB 11's client would verify a certificate there.
	if out, err := st.db2.TrySQL("SHOW SLAVE STATUS"); err != nil {
		return fmt.Errorf("%s: cannot tell whether it still replicates after destroy: %w", st.db2.Name, err)
	} else if strings.TrimSpace(out) != "" {
		return fmt.Errorf("%s still replicates after destroy: %s", st.db2.Name, out)
	}
	if out, _ := st.db1.TrySQL("SHOW DATABASES LIKE 'foobar'"); strings.TrimSpace(out) != "foobar" {
		return fmt.Errorf("%s: destroy must keep the application's database, SHOW DATABASES says %q", st.db1.Name, out)
	}
	return nil
}

// dropAppData removes the application's database, which destroy keeps
// (it never drops user databases), so the lab is as it started.
func (st stackExample) dropAppData(t *testing.T) {
	for _, h := range []acctest.Host{st.db1, st.db2} {
		h.SQL(t, "SET sql_log_bin=0; DROP DATABASE IF EXISTS foobar")
	}
}

// TestAccStack_readRoundTrips holds every Read of the example stack to one
// SSH round trip per host (issue 17): a refresh reads lb1, web1, web2 (with
// their static trees), db1 and db2, each host's firewall and node exporter,
// the web servers' Nginx exporters and the database members' mysqld
// exporters, and the provider's pool must have run exactly one command per
// resource on each: three on a load balancer, four on a web server or a
// database member (the sessions that set a connection up, sudo detection,
// are not counted). Then drift of every kind the reads look at
// (a static file, a server's settings file, a revoked privilege on the
// primary, haproxy.cfg) is made on the hosts, and the next refresh must
// still see all of it in one round trip per host. A last apply repairs the
// stack and destroy gives every host back.
func TestAccStack_readRoundTrips(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "foobar")
	st := newStackExample(t, inv, acctest.Releases[0].Hosts(t, inv), buildStackApp(t))
	t.Cleanup(func() { st.dropAppData(t) })
	hosts := st.hosts()

	// One pool for every provider instance the test runs, so that its
	// counts cover each refresh whole.
	pool := ssh.NewPool()
	t.Cleanup(func() { _ = pool.Close() })
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"foobar": func() (tfprotov6.ProviderServer, error) {
			return providerserver.NewProtocol6WithError(&foobarProvider{version: "test", pool: pool})()
		},
	}
	oneEach := func(*terraform.State) error {
		counts := pool.CommandCounts()
		var bad []string
		for _, h := range hosts {
			addr := net.JoinHostPort(h.Address, "22")
			// The resources that read each host: its service's, its
			// firewall and its node exporter; on a web server Nginx's
			// exporter too, on a database member mysqld's.
			want := 3
			if h != st.lb1 && h != st.lbPeer {
				want = 4
			}
			if n := counts[addr]; n != want {
				bad = append(bad, fmt.Sprintf("%s (%s): %d, want %d", h.Name, addr, n, want))
			}
			delete(counts, addr)
		}
		for addr, n := range counts {
			bad = append(bad, fmt.Sprintf("%s, a host the stack does not use: %d", addr, n))
		}
		if len(bad) > 0 {
			return fmt.Errorf("a refresh must run one command (one SSH round trip) per resource on each host (3 on a load balancer, 4 elsewhere); commands run: %s", strings.Join(bad, ", "))
		}
		return nil
	}
	drift := func(addr, want string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			rs, ok := s.RootModule().Resources[addr]
			if !ok {
				return fmt.Errorf("%s is not in the state", addr)
			}
			var got []string
			for k, v := range rs.Primary.Attributes {
				if strings.HasPrefix(k, "drift.") && k != "drift.#" {
					got = append(got, v)
				}
			}
			switch {
			case want == "" && len(got) > 0:
				return fmt.Errorf("%s: want no drift, got %q", addr, got)
			case want != "" && !slices.ContainsFunc(got, func(d string) bool { return strings.Contains(d, want) }):
				return fmt.Errorf("%s: want drift %q, got %q", addr, want, got)
			}
			return nil
		}
	}
	appNet := strings.TrimSuffix(inv.Subnet, "0/24") + "%"
	// The example's files as one configuration string, and the factories
	// on the test case: a refresh step keeps the configuration (and its
	// variables) of the step before only so. (A configuration directory
	// that names its providers needs the factories on each step, and a
	// refresh step with factories of its own writes a configuration of its
	// own: an empty provider block.)
	tfFiles, err := filepath.Glob(filepath.Join(st.dir, "*.tf"))
	if err != nil || len(tfFiles) == 0 {
		t.Fatalf("the example's files: %v %v", tfFiles, err)
	}
	var hcl strings.Builder
	for _, f := range tfFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		hcl.Write(b)
		hcl.WriteString("\n")
	}
	step := func(s resource.TestStep) resource.TestStep {
		if !s.RefreshState {
			s.Config = hcl.String()
			s.ConfigVariables = st.vars
		}
		return s
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			step(resource.TestStep{}),
			step(resource.TestStep{
				PreConfig:    pool.ResetCommandCounts,
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(oneEach,
					drift("foobar_web_server.web1", ""), drift("foobar_web_server.web2", ""), drift("foobar_mysql_cluster.db", ""),
					resource.TestCheckResourceAttr("foobar_mysql_cluster.db", "converged", "true"),
					resource.TestCheckResourceAttr("foobar_web_server.web1", "app_state", "active"),
				),
			}),
			step(resource.TestStep{
				PreConfig: func() {
					st.web1.Exec(t, "sh", "-c", "echo changed >> /srv/www/foobar/static/index.html")
					st.db2.Exec(t, "sh", "-c", "echo '# changed by hand' >> /etc/mysql/mariadb.conf.d/60-foobar.cnf")
					st.db1.SQL(t, fmt.Sprintf("REVOKE INSERT ON foobar.* FROM 'foobar_app'@'%s'", appNet))
					st.lb1.Exec(t, "sh", "-c", "echo '# changed by hand' >> /etc/haproxy/haproxy.cfg")
					pool.ResetCommandCounts()
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(oneEach,
					drift("foobar_web_server.web1", "static files differ from source_dir: 1 changed"),
					drift("foobar_web_server.web2", ""),
					drift("foobar_mysql_cluster.db", "60-foobar.cnf differs from the configuration"),
					drift("foobar_mysql_cluster.db", "INSERT"),
					resource.TestCheckResourceAttr("foobar_mysql_cluster.db", "converged", "false"),
					resource.TestMatchResourceAttr("foobar_load_balancer.lb.0", "rendered_config", regexp.MustCompile(`# changed by hand\n$`)),
				),
			}),
			// Apply repairs every host.
			step(resource.TestStep{
				Check: resource.ComposeAggregateTestCheckFunc(
					drift("foobar_web_server.web1", ""), drift("foobar_mysql_cluster.db", ""),
					resource.TestCheckResourceAttr("foobar_mysql_cluster.db", "converged", "true"),
				),
			}),
		},
		CheckDestroy: st.checkDestroy,
	})
}
