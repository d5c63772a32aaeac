// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// cliWithEphemeralVariables reports whether the CLI under test
// (TF_ACC_TERRAFORM_PATH, Terraform or OpenTofu) has ephemeral input
// variables: Terraform 1.10 and OpenTofu 1.11 introduced them.
func cliWithEphemeralVariables(t *testing.T) (name string, ok bool) {
	t.Helper()
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	text, err := exec.Command(cli, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", cli, err)
	}
	out, err := exec.Command(cli, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version -json: %v", cli, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v.Version, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("CLI version %q: %v", v.Version, err)
	}
	name, need := "Terraform "+v.Version, 10
	if strings.HasPrefix(string(text), "OpenTofu") {
		name, need = "OpenTofu "+v.Version, 11
	}
	return name, major > 1 || (major == 1 && minor >= need)
}

// devOverrideCLI builds the provider into dir and writes a CLI
// configuration that uses it (dev_overrides) for the registry host the CLI
// resolves `foobar/foobar` to (TF_ACC_PROVIDER_HOST, as for OpenTofu).
func devOverrideCLI(t testing.TB, dir string) string {
	t.Helper()
	plugins := filepath.Join(dir, "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "terraform-provider-foobar"), ".")
	build.Dir = acctest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	cli := filepath.Join(dir, "terraformrc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", host+"/foobar/foobar", plugins)
	if err := os.WriteFile(cli, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	return cli
}

// zipEntries is every file of a saved plan (a zip archive: the plan, the
// prior state, the configuration snapshot, the lock file), uncompressed and
// joined, so that a search sees what the archive really holds.
func zipEntries(t *testing.T, path string) string {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the plan file: %v", err)
	}
	defer r.Close()
	var b strings.Builder
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n== %s\n", f.Name)
		if _, err := io.Copy(&b, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	return b.String()
}

// TestAccLoadBalancer_credentialsStoredNowhere: the SSH credentials in the
// recommended form (the provider block, fed by ephemeral variables; with a
// CLI that has none, by the FOOBAR_* environment variables) reach neither
// a saved plan file (every entry of the archive, and `show -json`) nor the
// state, and are there for every operation that connects: the data
// source's read, create, refresh (a second plan is empty), import (after
// `state rm`; the next plan is empty) and destroy, on
// lb2, whose sudo asks for a password, logging in with an encrypted key.
// The same secret in a resource's or the data source's ssh block is
// deprecated with a warning that says why, and the warning is true: it
// lands in the plan file.
func TestAccLoadBalancer_credentialsStoredNowhere(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb2"))
	if lb.SudoPassword == "" {
		t.Fatalf("%s must be the lab host whose sudo needs a password", lb.Name)
	}
	backend := inv.Host(t, "web2")
	cliName, ephemeral := cliWithEphemeralVariables(t)
	dir := t.TempDir()
	cli := devOverrideCLI(t, dir)

	// The lab's key, encrypted with a passphrase made for this test.
	passphrase := randomSecret(t, "pass-")
	keyFile := filepath.Join(dir, "id_encrypted")
	key, err := os.ReadFile(inv.PrivateKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	if key, err = os.ReadFile(keyFile); err != nil {
		t.Fatal(err)
	}
	keyLines := strings.Split(strings.TrimSpace(string(key)), "\n")
	secrets := acctest.Secrets{"private key": keyLines[len(keyLines)/2], "key passphrase": passphrase, "sudo password": lb.SudoPassword}

	provider := fmt.Sprintf("provider \"foobar\" {\n  user             = %q\n  known_hosts_file = %q\n  agent            = false\n  connect_timeout  = \"10s\"\n",
		inv.User, inv.KnownHostsFile)
	var vars string
	env := []string{"TF_VAR_key=" + string(key), "TF_VAR_passphrase=" + passphrase, "TF_VAR_sudo=" + lb.SudoPassword}
	if ephemeral {
		for _, v := range []string{"key", "passphrase", "sudo"} {
			vars += fmt.Sprintf("variable %q {\n  type      = string\n  ephemeral = true\n}\n", v)
		}
		provider += fmt.Sprintf("  private_key            = var.key\n  private_key_passphrase = var.passphrase\n  sudo_passwords         = { %q = var.sudo }\n}\n", lb.Address)
	} else {
		env = []string{"FOOBAR_SSH_PRIVATE_KEY=" + string(key), "FOOBAR_SSH_PRIVATE_KEY_PASSPHRASE=" + passphrase, "FOOBAR_SUDO_PASSWORD=" + lb.SudoPassword}
		provider += "}\n"
	}
	t.Logf("%s: credentials from %s", cliName, map[bool]string{true: "ephemeral variables in the provider block", false: "FOOBAR_* environment variables"}[ephemeral])
	resources := fmt.Sprintf(`
data "foobar_host" "lb" {
  ssh = { host = %q }
}

resource "foobar_load_balancer" "lb" {
  ssh = { host = %q }
  frontends = [{
    name            = "www"
    port            = 80
    default_backend = "web"
  }]
  backends = [{
    name    = "web"
    servers = [{ name = "web2", address = %q, port = 80 }]
  }]
}

output "os" {
  value = data.foobar_host.lb.os_id
}
`, lb.Address, lb.Address, backend.Address)
	work := filepath.Join(dir, "work")
	head := "terraform {\n  required_providers {\n    foobar = { source = \"foobar/foobar\" }\n  }\n}\n"
	acctest.WriteTree(t, work, map[string]string{"main.tf": head + vars + provider + resources})
	run := func(what string, args ...string) string {
		t.Helper()
		start := time.Now()
		out, _, err := tfRun(t, work, cli, filepath.Join(dir, what+".log"), env, args...)
		t.Logf("%s %s: %s", cliName, args[0], time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", cliName, strings.Join(args, " "), err, out)
		}
		if err := secrets.In("the "+what+" output", out); err != nil {
			t.Error(err)
		}
		return out
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_, _, _ = tfRun(t, work, cli, filepath.Join(dir, "cleanup.log"), env, "destroy", "-auto-approve", "-no-color", "-input=false")
		}
	})

	run("plan", "plan", "-no-color", "-input=false", "-out=tfplan")
	if err := secrets.In("the plan file", zipEntries(t, filepath.Join(work, "tfplan"))); err != nil {
		t.Error(err)
	}
	if err := secrets.In("the JSON plan", run("show", "show", "-json", "tfplan")); err != nil {
		t.Error(err)
	}
	run("apply", "apply", "-no-color", "-input=false", "tfplan")
	state, err := os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.In("the state", string(state)); err != nil {
		t.Error(err)
	}
	if !strings.Contains(string(state), `"debian"`) || !strings.Contains(lb.Exec(t, "cat", "/etc/haproxy/haproxy.cfg"), backend.Address) {
		t.Errorf("the data source or the load balancer did not do its work; state:\n%s", state)
	}
	// Refresh connects again (Read has only the state, which holds no
	// credential): the second plan is empty.
	run("plan2", "plan", "-no-color", "-input=false", "-detailed-exitcode")
	// Import has only the ID and the provider block: forgotten, imported
	// again, and the next plan is empty; the state still holds no secret.
	run("forget", "state", "rm", "foobar_load_balancer.lb")
	run("import", "import", "-no-color", "-input=false", "foobar_load_balancer.lb", lb.Address)
	if state, err = os.ReadFile(filepath.Join(work, "terraform.tfstate")); err != nil {
		t.Fatal(err)
	}
	if err := secrets.In("the state after import", string(state)); err != nil {
		t.Error(err)
	}
	if !strings.Contains(string(state), `"foobar_load_balancer"`) {
		t.Errorf("the import left no load balancer in the state:\n%s", state)
	}
	run("plan3", "plan", "-no-color", "-input=false", "-detailed-exitcode")
	run("destroy", "destroy", "-auto-approve", "-no-color", "-input=false")
	destroyed = true
	if err := lb.checkRestored(nil); err != nil {
		t.Error(err)
	}

	// The deprecated form: a warning that names the attribute and the
	// reason, and the reason is true (the data source's state holds it).
	old := filepath.Join(dir, "deprecated")
	acctest.WriteTree(t, old, map[string]string{"main.tf": head + inv.ProviderHCL() +
		"variable \"sudo\" {\n  type      = string\n  sensitive = true\n}\n" +
		fmt.Sprintf("data \"foobar_host\" \"lb\" {\n  ssh = {\n    host          = %q\n    sudo_password = var.sudo\n  }\n}\n", lb.Address)})
	env = []string{"TF_VAR_sudo=" + lb.SudoPassword}
	out, _, err := tfRun(t, old, cli, filepath.Join(dir, "deprecated.log"), env, "apply", "-auto-approve", "-no-color", "-input=false")
	if err != nil {
		t.Fatalf("apply of the deprecated form: %v\n%s", err, out)
	}
	if flat := strings.Join(strings.Fields(out), " "); !strings.Contains(flat, "Deprecated") || !strings.Contains(flat, "ssh.sudo_password is stored in the Terraform state") {
		t.Errorf("no deprecation warning for ssh.sudo_password:\n%s", out)
	}
	if state, err := os.ReadFile(filepath.Join(old, "terraform.tfstate")); err != nil || !strings.Contains(string(state), lb.SudoPassword) {
		t.Errorf("the deprecated ssh.sudo_password is not in the state (%v), as its warning says it is", err)
	}
}
