// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
)

// sudoCase is what the sudoPasswordNotAsked tests share: the password,
// the HCL that declares its variable, the Terraform log they capture and
// the secret-leak check.
type sudoCase struct {
	pw      string
	vars    string
	log     string
	secrets acctest.Secrets
}

// sudoPasswordNotAsked sets up host for the tests below: sudo asks a
// password for everything but env, the command the provider wraps every
// privileged command in, so the detection sees a password policy and the
// commands run without one (sudo reads none of their stdin). The tests
// pass the password through a variable (never in the HCL the test
// framework logs) to the provider block (never stored in the state), and
// capture the Terraform and provider log at trace level.
func sudoPasswordNotAsked(t *testing.T, h acctest.Host) sudoCase {
	t.Helper()
	pw := randomSecret(t, "Sudo-")
	h.SetSudo(t, acctest.SudoPasswordButEnv, pw)
	c := sudoCase{
		pw:      pw,
		vars:    "variable \"sudo_pw\" {\n  type      = string\n  sensitive = true\n}\n",
		log:     filepath.Join(t.TempDir(), "tf.log"),
		secrets: acctest.Secrets{"sudo password": pw},
	}
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_ACC_LOG_PATH", c.log)
	return c
}

// config is hcl (which holds the lab's provider block) with the variable
// declared and the provider's sudo_password set from it.
func (c sudoCase) config(hcl string) string {
	return c.vars + strings.Replace(hcl, `provider "foobar" {`, `provider "foobar" {`+"\n  sudo_password = var.sudo_pw", 1)
}

// variables gives the password to the config's variable.
func (c sudoCase) variables() config.Variables {
	return config.Variables{"sudo_pw": config.StringVariable(c.pw)}
}

// checkNowhere fails the test when the password is in the captured log,
// in a file under dirs on h or in h's journal. (The state is checked by
// the steps, with c.secrets.)
func (c sudoCase) checkNowhere(t *testing.T, h acctest.Host, dirs ...string) {
	t.Helper()
	log, err := os.ReadFile(c.log)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.secrets.In("the Terraform and provider log", string(log)); err != nil {
		t.Error(err)
	}
	hostHasNoSecretAnywhere(t, h, c.pw, dirs...)
}

// hostHasNoSecretAnywhere fails the test when secret is in any file under
// dirs (readable by anyone or not) or in the journal.
func hostHasNoSecretAnywhere(t *testing.T, h acctest.Host, secret string, dirs ...string) {
	t.Helper()
	const script = `umask 077
f=$(mktemp /root/.secret.XXXXXX) || exit 1
cat > "$f"
find "$@" -xdev -type f -size -16M -exec grep -lF -f "$f" -- {} + 2>/dev/null
if command -v journalctl >/dev/null && journalctl -q --no-pager 2>/dev/null | grep -qF -f "$f"; then echo journal; fi
rm -f -- "$f"
exit 0`
	if out := strings.TrimSpace(h.ExecInput(t, secret+"\n", append([]string{"sh", "-c", script, "sh"}, dirs...)...)); out != "" {
		t.Errorf("%s: the sudo password is on the host in: %s", h.Name, out)
	}
}

// TestAccMySQLCluster_sudoPasswordNotAsked: with sudo_password set on a
// host whose sudo does not ask for it, the statements reach the client
// exactly (the password used to be their first line: a syntax error that
// echoed it), the account works, and the password is in no log, state or
// file on the host.
func TestAccMySQLCluster_sudoPasswordNotAsked(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	db1 := inv.Host(t, "db1")
	cleanMySQLHosts(t, db1)
	sudo := sudoPasswordNotAsked(t, db1)
	appPW := randomSecret(t, "Ap-")
	primary := db1
	primary.SudoPassword = ""
	hcl := "variable \"app_pw\" {\n  type      = string\n  sensitive = true\n}\n" +
		sudo.config(mysqlClusterHCL(inv, primary, nil, fmt.Sprintf(`  replication_user     = %q
  replication_password = var.app_pw
  databases = [{ name = %q }]
  users = [{
    name       = %q
    password   = var.app_pw
    database   = %q
    privileges = ["SELECT", "INSERT", "CREATE"]
  }]
`, accReplUser, accDB, accAppUser, accDB)))
	vars := sudo.variables()
	vars["app_pw"] = config.StringVariable(appPW)
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config:            hcl,
			ConfigVariables:   vars,
			ConfigStateChecks: []statecheck.StateCheck{sudo.secrets},
			Check: tfresource.ComposeAggregateTestCheckFunc(
				sudo.secrets.StateAttributes(mysqlClusterAddr),
				func(*terraform.State) error {
					_, err := db1.SQLAs(accAppUser, appPW, accDB, "CREATE TABLE IF NOT EXISTS t (i INT); INSERT INTO t VALUES (1)")
					return err
				},
			),
		}},
	})
	sudo.checkNowhere(t, db1, "/etc", "/var/log", "/var/lib/mysql", "/tmp", "/run", "/home/deploy")
}

// TestAccLoadBalancer_sudoPasswordNotAsked: with sudo_password set on a
// host whose sudo does not ask for it, haproxy.cfg on the host is exactly
// rendered_config (the password used to reach the commands' stdin ahead of
// the file), HAProxy serves through it, and the password is in no log,
// state or file on the host.
func TestAccLoadBalancer_sudoPasswordNotAsked(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1 := inv.Host(t, "web1")
	sudo := sudoPasswordNotAsked(t, lb.Host)
	conn := lb.Host
	conn.SudoPassword = ""
	hcl := sudo.config(inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %s
  frontends = [{ name = "www", port = 80, default_backend = "web" }]
  backends  = [{ name = "web", servers = [{ name = "web1", address = %q, port = 80 }] }]
}
`, conn.ConnectionHCL(), web1.Address))
	c := acctest.HTTPClient(acctest.ClientOptions{Timeout: 10 * time.Second})
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []tfresource.TestStep{{
			Config:            hcl,
			ConfigVariables:   sudo.variables(),
			ConfigStateChecks: []statecheck.StateCheck{sudo.secrets},
			Check: tfresource.ComposeAggregateTestCheckFunc(
				sudo.secrets.StateAttributes(lbAddr),
				lb.checkHostMatchesState(t),
				func(*terraform.State) error {
					if r := acctest.MustFetch(t, c, acctest.Request{URL: "http://" + lb.Address + "/"}); r.Status != http.StatusOK || strings.TrimSpace(r.Body) != web1.Name {
						return fmt.Errorf("through HAProxy: HTTP %d %.200q, want 200 %q", r.Status, r.Body, web1.Name)
					}
					return nil
				},
			),
		}},
	})
	sudo.checkNowhere(t, lb.Host, "/etc", "/var/log", "/var/lib/foobar", "/tmp", "/run", "/home/deploy")
}

// TestAccWebServer_sudoPasswordNotAsked: with sudo_password set on a host
// whose sudo does not ask for it, the site file on the host is exactly
// site_config, nginx serves the static file and proxies to the
// application, and the password is in no log, state or file on the host.
func TestAccWebServer_sudoPasswordNotAsked(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h := inv.Host(t, "web1")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "site")
	acctest.WriteTree(t, src, map[string]string{"static/s.txt": "s\n"})
	app := acctest.BuildTestApp(t, filepath.Join(tmp, "app"), "testapp", "v1", true)
	forget(t, h, "sudopw")
	t.Cleanup(func() { forget(t, h, "sudopw") })
	cleanupUser(t, h, "acc-sudopw")
	sudo := sudoPasswordNotAsked(t, h)
	conn := h
	conn.SudoPassword = ""
	cfg := webConfig{host: conn, name: "sudopw", serverName: "sudopw.acc.test", port: 8090, appPort: 8084,
		docRoot: "/srv/www/sudopw", sourceDir: src, artifact: app}
	base := fmt.Sprintf("http://%s:%d", h.Address, cfg.port)
	site := nginx.Layout{}.SiteConfPath(cfg.name)
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config:            sudo.config(cfg.hcl(inv)),
			ConfigVariables:   sudo.variables(),
			ConfigStateChecks: []statecheck.StateCheck{sudo.secrets},
			Check: tfresource.ComposeAggregateTestCheckFunc(
				sudo.secrets.StateAttributes(cfg.addr()),
				func(s *terraform.State) error {
					want := s.RootModule().Resources[cfg.addr()].Primary.Attributes["site_config"]
					if got := h.Exec(t, "cat", site); got != want {
						return fmt.Errorf("%s on %s does not match site_config:\n--- host ---\n%s\n--- state ---\n%s", site, h.Name, got, want)
					}
					if r := acctest.MustFetch(t, vhost(cfg.serverName), acctest.Request{URL: base + "/static/s.txt"}); r.Status != http.StatusOK || r.Body != "s\n" {
						return fmt.Errorf("static file: HTTP %d %.200q", r.Status, r.Body)
					}
					if a := getApp(t, base+"/api/env", cfg.serverName); a.Version != "v1" {
						return fmt.Errorf("application: version %q, want v1", a.Version)
					}
					return nil
				},
			),
		}},
	})
	sudo.checkNowhere(t, h, "/etc", "/var/log", "/var/lib/foobar", "/opt/foobar", "/srv/www", "/tmp", "/run", "/home/deploy")
}
