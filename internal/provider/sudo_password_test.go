// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// sudoPasswordNotAsked sets up host for the tests below: sudo asks a
// password for everything but env, the command the provider wraps every
// privileged command in, so the detection sees a password policy and the
// commands run without one (sudo reads none of their stdin). It returns
// the password, which the tests pass through a variable (never in the HCL
// the test framework logs) to the provider block (never stored in the
// state), and the HCL that declares the variable.
func sudoPasswordNotAsked(t *testing.T, h acctest.Host) (string, string) {
	t.Helper()
	pw := randomSecret(t, "Sudo-")
	h.SetSudo(t, acctest.SudoPasswordButEnv, pw)
	return pw, "variable \"sudo_pw\" {\n  type      = string\n  sensitive = true\n}\n"
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
	sudoPW, vars := sudoPasswordNotAsked(t, db1)
	appPW := randomSecret(t, "Ap-")
	logFile := filepath.Join(t.TempDir(), "tf.log")
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	secrets := acctest.Secrets{"sudo password": sudoPW}
	primary := db1
	primary.SudoPassword = ""
	hcl := vars + "variable \"app_pw\" {\n  type      = string\n  sensitive = true\n}\n" +
		strings.Replace(mysqlClusterHCL(inv, primary, nil, fmt.Sprintf(`  replication_user     = %q
  replication_password = var.app_pw
  databases = [{ name = %q }]
  users = [{
    name       = %q
    password   = var.app_pw
    database   = %q
    privileges = ["SELECT", "INSERT", "CREATE"]
  }]
`, accReplUser, accDB, accAppUser, accDB)), `provider "foobar" {`, `provider "foobar" {`+"\n  sudo_password = var.sudo_pw", 1)
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config:            hcl,
			ConfigVariables:   config.Variables{"sudo_pw": config.StringVariable(sudoPW), "app_pw": config.StringVariable(appPW)},
			ConfigStateChecks: []statecheck.StateCheck{secrets},
			Check: tfresource.ComposeAggregateTestCheckFunc(
				secrets.StateAttributes(mysqlClusterAddr),
				func(*terraform.State) error {
					_, err := db1.SQLAs(accAppUser, appPW, accDB, "CREATE TABLE IF NOT EXISTS t (i INT); INSERT INTO t VALUES (1)")
					return err
				},
			),
		}},
	})
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.In("the Terraform and provider log", string(log)); err != nil {
		t.Error(err)
	}
	hostHasNoSecretAnywhere(t, db1, sudoPW, "/etc", "/var/log", "/var/lib/mysql", "/tmp", "/run", "/home/deploy")
}
