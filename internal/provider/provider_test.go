// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// testAccProtoV6ProviderFactories runs the provider in-process for
// terraform-plugin-testing. Each Terraform command gets a new provider (and
// so a new SSH pool), as it would get a new plugin process.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"foobar": func() (tfprotov6.ProviderServer, error) {
		return providerserver.NewProtocol6WithError(New("test")())()
	},
}

// errPattern matches an error message that Terraform may have wrapped at
// any space: each part is literal, spaces match any white space, and parts
// are joined by ".*".
func errPattern(parts ...string) *regexp.Regexp {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
	}
	return regexp.MustCompile("(?s)" + strings.Join(q, ".*"))
}

// TestMain gives every test run its own empty Terraform CLI configuration
// (the environment may point TF_CLI_CONFIG_FILE at a file that does not
// exist) and forbids terraform-plugin-testing from downloading Terraform.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "foobar-tfcli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cli := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(cli, []byte("# empty: no registry mirrors, no overrides\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TF_CLI_CONFIG_FILE", cli)
	os.Setenv("CHECKPOINT_DISABLE", "1")
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if p, err := exec.LookPath("terraform"); err == nil {
			os.Setenv("TF_ACC_TERRAFORM_PATH", p)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireTerraform fails a test that needs the Terraform CLI when there is
// none: terraform-plugin-testing would otherwise try to download one.
func requireTerraform(t *testing.T) {
	t.Helper()
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH or put terraform on PATH (make test builds one)")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("TF_ACC_TERRAFORM_PATH=%s: %v", p, err)
	}
}

// terraformAtLeast111 reports whether the Terraform CLI supports write-only
// attributes.
func terraformAtLeast111(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), "version", "-json").Output()
	if err != nil {
		t.Fatalf("terraform version: %v", err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v.Version, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("terraform version %q: %v", v.Version, err)
	}
	return major > 1 || (major == 1 && minor >= 11)
}

func TestProviderSchemaIsValid(t *testing.T) {
	t.Parallel()
	p := New("test")()
	resp := &provider.SchemaResponse{}
	p.Schema(context.Background(), provider.SchemaRequest{}, resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("schema diagnostics: %v", resp.Diagnostics)
	}
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("schema does not validate: %v", diags)
	}
	for name, a := range resp.Schema.Attributes {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("attribute %s has no description", name)
		}
	}
	for _, secret := range []string{"private_key", "private_key_passphrase", "sudo_password"} {
		if !resp.Schema.Attributes[secret].IsSensitive() {
			t.Errorf("attribute %s must be sensitive", secret)
		}
	}
}

// withEnv replaces envLookup for one test (tests using it are not parallel).
func withEnv(t *testing.T, env map[string]string) {
	t.Helper()
	old := envLookup
	envLookup = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	t.Cleanup(func() { envLookup = old })
}

func TestBuildDefaultsFromEnvironment(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	withEnv(t, map[string]string{
		"FOOBAR_SSH_USER":             "deploy",
		"FOOBAR_SSH_PORT":             "2222",
		"FOOBAR_SSH_PRIVATE_KEY_FILE": keyFile,
		"FOOBAR_SSH_KNOWN_HOSTS_FILE": keyFile,
		"FOOBAR_SSH_AGENT":            "false",
		"SSH_AUTH_SOCK":               "/tmp/agent.sock",
		"FOOBAR_SUDO":                 "true",
		"FOOBAR_SUDO_PASSWORD":        "s3cret",
		"FOOBAR_SSH_CONNECT_TIMEOUT":  "7s",
	})
	d, diags := buildDefaults(context.Background(), nullProviderModel())
	if diags.HasError() {
		t.Fatal(diags)
	}
	yes := true
	want := sshDefaults{
		Port: 2222, User: "deploy", PrivateKeyFile: keyFile, KnownHostsFile: keyFile,
		Agent: false, Sudo: &yes, SudoPassword: "s3cret", ConnectTimeout: 7 * time.Second,
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestBuildDefaultsConfigWinsOverEnvironment(t *testing.T) {
	withEnv(t, map[string]string{"FOOBAR_SSH_USER": "envuser", "FOOBAR_SSH_PORT": "2222", "SSH_AUTH_SOCK": "/tmp/a"})
	m := nullProviderModel()
	m.User = types.StringValue("cfguser")
	m.Port = types.Int64Value(22)
	d, diags := buildDefaults(context.Background(), m)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if d.User != "cfguser" || d.Port != 22 || !d.Agent {
		t.Errorf("got user %q port %d agent %v; want cfguser, 22, agent on because SSH_AUTH_SOCK is set", d.User, d.Port, d.Agent)
	}
	if !strings.HasSuffix(d.KnownHostsFile, "/.ssh/known_hosts") {
		t.Errorf("known_hosts default = %q, want ~/.ssh/known_hosts", d.KnownHostsFile)
	}
}

func TestBuildDefaultsRejectsBadEnvironment(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"port":          {map[string]string{"FOOBAR_SSH_PORT": "ssh"}, `FOOBAR_SSH_PORT="ssh" is not a port number`},
		"port range":    {map[string]string{"FOOBAR_SSH_PORT": "70000"}, `FOOBAR_SSH_PORT="70000"`},
		"user":          {map[string]string{"FOOBAR_SSH_USER": "a b"}, `FOOBAR_SSH_USER="a b" is not valid`},
		"key file":      {map[string]string{"FOOBAR_SSH_PRIVATE_KEY_FILE": "/nonexistent/id"}, `FOOBAR_SSH_PRIVATE_KEY_FILE="/nonexistent/id" is not valid: no such file`},
		"known hosts":   {map[string]string{"FOOBAR_SSH_KNOWN_HOSTS_FILE": "/nonexistent/kh"}, `FOOBAR_SSH_KNOWN_HOSTS_FILE="/nonexistent/kh" is not valid: no such file`},
		"agent":         {map[string]string{"FOOBAR_SSH_AGENT": "maybe"}, `FOOBAR_SSH_AGENT="maybe" is not a boolean`},
		"timeout":       {map[string]string{"FOOBAR_SSH_CONNECT_TIMEOUT": "soon"}, `FOOBAR_SSH_CONNECT_TIMEOUT="soon" is not valid`},
		"sudo password": {map[string]string{"FOOBAR_SUDO_PASSWORD": "a\nb"}, "FOOBAR_SUDO_PASSWORD is not valid: must be a single line"},
		"private key":   {map[string]string{"FOOBAR_SSH_PRIVATE_KEY": "not a key"}, "FOOBAR_SSH_PRIVATE_KEY is not valid"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			withEnv(t, c.env)
			_, diags := buildDefaults(context.Background(), nullProviderModel())
			if !diags.HasError() {
				t.Fatalf("want an error mentioning %q", c.want)
			}
			msg := fmt.Sprint(diags)
			if !strings.Contains(msg, c.want) {
				t.Errorf("diagnostics %s\ndo not contain %q", msg, c.want)
			}
			if strings.Contains(c.want, "PASSWORD") && strings.Contains(msg, "a\nb") {
				t.Errorf("a secret leaked into the diagnostic: %s", msg)
			}
		})
	}
}

func TestConnectionMerge(t *testing.T) {
	t.Parallel()
	no := false
	d := sshDefaults{
		Port: 22, User: "deploy", PrivateKeyFile: "/keys/id", KnownHostsFile: "/kh",
		HostKeys:       map[string]string{"10.0.0.5": "ssh-ed25519 AAAApinned"},
		Sudo:           &no,
		ConnectTimeout: 15 * time.Second,
		Bastion:        &bastionModel{Host: types.StringValue("jump"), credentialsModel: credentialsModel{User: types.StringValue("ops")}},
	}
	c := hostConnection("10.0.0.5")
	c.Port = types.Int64Value(2222)
	c.PrivateKey = types.StringValue("PEM")
	c.Sudo = types.BoolValue(true)
	c.ConnectTimeout = types.StringValue("3s")
	got, diags := d.config(c)
	if diags.HasError() {
		t.Fatal(diags)
	}
	want := ssh.Config{
		Host: "10.0.0.5", Port: 2222, User: "deploy", PrivateKey: "PEM", KnownHostsFile: "/kh",
		HostKey: "ssh-ed25519 AAAApinned", Sudo: true, ConnectTimeout: 3 * time.Second,
		Bastion: &ssh.Config{Host: "jump", Port: 2222, User: "ops", PrivateKey: "PEM", KnownHostsFile: "/kh", ConnectTimeout: 3 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged config (-want +got):\n%s", diff)
	}

	// Without overrides: provider values, and sudo defaults to true for a non-root user.
	d.Sudo = nil
	got, _ = d.config(hostConnection("web1"))
	if got.Port != 22 || got.PrivateKeyFile != "/keys/id" || !got.Sudo || got.HostKey != "" {
		t.Errorf("defaults not applied: %+v", got)
	}
	d.User = "root"
	if got, _ = d.config(hostConnection("web1")); got.Sudo {
		t.Error("sudo must default to false for root")
	}
}

func nullProviderModel() providerModel {
	return providerModel{HostKeys: types.MapNull(types.StringType)}
}
