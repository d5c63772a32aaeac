// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package provider is the Terraform glue of the foobar provider: schemas,
// models, CRUD and import. It converts Terraform models into the models of
// the service packages (internal/haproxy, internal/nginx, internal/mysql) and
// calls them; it never builds a shell command or a configuration line itself.
package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/ssh"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

var _ provider.Provider = (*foobarProvider)(nil)

// New returns a constructor of the provider for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &foobarProvider{version: version, pool: ssh.NewPool()}
	}
}

type foobarProvider struct {
	version string
	// pool holds one SSH connection per host for the life of the provider
	// process, shared by every resource and data source.
	pool *ssh.Pool
}

// providerModel is the provider block.
type providerModel struct {
	HostKeys      types.Map `tfsdk:"host_keys"`
	SudoPasswords types.Map `tfsdk:"sudo_passwords"`
	credentialsModel
	hostSettingsModel
}

// providerData is what Configure hands to resources and data sources.
type providerData struct {
	pool     *ssh.Pool
	defaults sshDefaults
	version  string
}

func (p *foobarProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "foobar"
	resp.Version = p.version
}

func (p *foobarProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{
		MarkdownDescription: "The foobar provider builds a classic web stack (HAProxy load balancer, Nginx web servers " +
			"with an application server, MySQL/MariaDB primary and replicas) on ordinary Linux hosts over SSH. " +
			"Every attribute here is a default for the `ssh` block of each resource, which can override it per host. " +
			"SSH secrets belong here: the provider block is never stored in the state or a plan file, and is read on every operation.",
		Attributes: providerConnectionAttributes(),
	}
}

func (p *foobarProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d, diags := buildDefaults(ctx, m)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	secrets := []string{d.PrivateKey, d.SudoPassword, d.PrivateKeyPassphrase}
	for _, p := range d.SudoPasswords {
		secrets = append(secrets, p)
	}
	ctx = maskSecrets(ctx, secrets)
	tflog.Debug(ctx, "foobar provider configured", map[string]any{
		"user": d.User, "port": d.Port, "agent": d.Agent, "known_hosts_file": d.KnownHostsFile,
		"sudo_password_set": d.SudoPassword != "", "connect_timeout": d.ConnectTimeout.String(),
	})
	data := &providerData{pool: p.pool, defaults: d, version: p.version}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// buildDefaults applies environment variables and built-in defaults to the
// provider block. Configuration wins over the environment.
func buildDefaults(ctx context.Context, m providerModel) (sshDefaults, diag.Diagnostics) {
	var diags diag.Diagnostics
	d := sshDefaults{
		Port:           ssh.DefaultPort,
		ConnectTimeout: ssh.DefaultConnectTimeout,
	}
	str := func(v types.String, env string, check func(string) error, secret bool) string {
		if !v.IsNull() && !v.IsUnknown() {
			return v.ValueString()
		}
		s, ok := envLookup(env)
		if !ok || s == "" {
			return ""
		}
		if check != nil {
			if err := check(s); err != nil {
				if secret {
					diags.AddError("Invalid Environment Variable", fmt.Sprintf("%s is not valid: %s", env, err))
				} else {
					diags.AddError("Invalid Environment Variable", fmt.Sprintf("%s=%q is not valid: %s", env, s, err))
				}
			}
		}
		return s
	}
	d.User = str(m.User, "FOOBAR_SSH_USER", validators.CheckUser, false)
	if d.User == "" {
		d.User = defaultUser()
	}
	if !m.Port.IsNull() && !m.Port.IsUnknown() {
		d.Port = int(m.Port.ValueInt64())
	} else if s, ok := envLookup("FOOBAR_SSH_PORT"); ok && s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 65535 {
			diags.AddError("Invalid Environment Variable", fmt.Sprintf("FOOBAR_SSH_PORT=%q is not a port number (1-65535)", s))
		}
		d.Port = n
	}
	d.PrivateKey = str(m.PrivateKey, "FOOBAR_SSH_PRIVATE_KEY", validators.CheckPrivateKey, true)
	d.PrivateKeyFile = str(m.PrivateKeyFile, "FOOBAR_SSH_PRIVATE_KEY_FILE", validators.CheckReadableFile, false)
	if !m.PrivateKey.IsNull() {
		d.PrivateKeyFile = "" // an explicit key wins over a key file from the environment
	}
	if d.PrivateKey != "" && d.PrivateKeyFile != "" && !m.PrivateKeyFile.IsNull() {
		diags.AddAttributeError(path.Root("private_key"), "Conflicting Attributes", "set private_key or private_key_file, not both")
	}
	d.PrivateKeyPassphrase = str(m.PrivateKeyPassphrase, "FOOBAR_SSH_PRIVATE_KEY_PASSPHRASE", nil, true)
	d.KnownHostsFile = str(m.KnownHostsFile, "FOOBAR_SSH_KNOWN_HOSTS_FILE", validators.CheckReadableFile, false)
	if d.KnownHostsFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			d.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
		}
	}
	d.SudoPassword = str(m.SudoPassword, "FOOBAR_SUDO_PASSWORD", validators.CheckSingleLine, true)

	_, haveSock := envLookup("SSH_AUTH_SOCK")
	d.Agent = agentByDefault(runtime.GOOS, haveSock)
	if !m.Agent.IsNull() && !m.Agent.IsUnknown() {
		d.Agent = m.Agent.ValueBool()
	} else if b, ok, err := envBool("FOOBAR_SSH_AGENT"); err != nil {
		diags.AddError("Invalid Environment Variable", err.Error())
	} else if ok {
		d.Agent = b
	}
	if !m.Sudo.IsNull() && !m.Sudo.IsUnknown() {
		b := m.Sudo.ValueBool()
		d.Sudo = &b
	} else if b, ok, err := envBool("FOOBAR_SUDO"); err != nil {
		diags.AddError("Invalid Environment Variable", err.Error())
	} else if ok {
		d.Sudo = &b
	}
	if t := str(m.ConnectTimeout, "FOOBAR_SSH_CONNECT_TIMEOUT", func(s string) error {
		return validators.CheckDuration(s, minConnectTimeout, maxConnectTimeout)
	}, false); t != "" {
		if dur, err := time.ParseDuration(t); err == nil {
			d.ConnectTimeout = dur
		}
	}
	if !m.HostKeys.IsNull() && !m.HostKeys.IsUnknown() {
		d.HostKeys = map[string]string{}
		diags.Append(m.HostKeys.ElementsAs(ctx, &d.HostKeys, false)...)
	}
	if !m.SudoPasswords.IsNull() && !m.SudoPasswords.IsUnknown() {
		d.SudoPasswords = map[string]string{}
		diags.Append(m.SudoPasswords.ElementsAs(ctx, &d.SudoPasswords, false)...)
	}
	d.Bastion = m.Bastion
	return d, diags
}

func (p *foobarProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewLoadBalancerResource,
		NewWebServerResource,
		NewMySQLClusterResource,
		NewFirewallResource,
		NewExporterResource,
	}
}

func (p *foobarProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewHostDataSource,
	}
}

// configureData extracts providerData in a resource's or data source's
// Configure; it returns nil (without error) before the provider is
// configured, as the framework requires.
func configureData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil
	}
	d, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data", fmt.Sprintf("expected *providerData, got %T; this is a bug in the provider", raw))
		return nil
	}
	return d
}

// client returns the pooled SSH client for a connection block, turning
// transport errors into diagnostics that name the host.
func (d *providerData) client(ctx context.Context, c connectionModel) (*ssh.Client, diag.Diagnostics) {
	cfg, diags := d.defaults.config(c)
	if diags.HasError() {
		return nil, diags
	}
	tflog.Debug(ctx, "connecting", map[string]any{"host": cfg.Host, "port": cfg.Port, "user": cfg.User, "sudo": cfg.Sudo})
	cl, err := d.pool.Get(ctx, cfg)
	if err != nil {
		diags.AddAttributeError(path.Root("ssh"), "SSH Connection Error",
			fmt.Sprintf("Could not connect to %s@%s: %s", cfg.User, cfg.Addr(), err))
		return nil, diags
	}
	return cl, diags
}
