// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// The SSH connection schema shared by the provider block (defaults) and every
// resource (per-host overrides), and the merge of the two into an ssh.Config.

import (
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/ssh"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

// Limits on connect_timeout.
const (
	minConnectTimeout = 500 * time.Millisecond
	maxConnectTimeout = 10 * time.Minute
)

// credentialsModel is the login attributes shared by the provider block,
// every host and every bastion (credentialSpecs).
type credentialsModel struct {
	Port                 types.Int64  `tfsdk:"port"`
	User                 types.String `tfsdk:"user"`
	PrivateKey           types.String `tfsdk:"private_key"`
	PrivateKeyFile       types.String `tfsdk:"private_key_file"`
	PrivateKeyPassphrase types.String `tfsdk:"private_key_passphrase"`
	Agent                types.Bool   `tfsdk:"agent"`
	KnownHostsFile       types.String `tfsdk:"known_hosts_file"`
}

// hostSettingsModel is what a host has beyond its credentials, shared by
// the provider block (defaults) and every host (hostSpecs, bastion).
type hostSettingsModel struct {
	Sudo           types.Bool    `tfsdk:"sudo"`
	SudoPassword   types.String  `tfsdk:"sudo_password"`
	ConnectTimeout types.String  `tfsdk:"connect_timeout"`
	Bastion        *bastionModel `tfsdk:"bastion"`
}

// connectionModel is the per-host connection block of a resource.
type connectionModel struct {
	Host    types.String `tfsdk:"host"`
	HostKey types.String `tfsdk:"host_key"`
	credentialsModel
	hostSettingsModel
}

// bastionModel is the jump host through which a host is reached.
type bastionModel struct {
	Host    types.String `tfsdk:"host"`
	HostKey types.String `tfsdk:"host_key"`
	credentialsModel
}

// hostConnection is an ssh block with only the host set: every other
// attribute null (the zero value of a framework value is null), so the
// provider's settings apply. Import and the cluster's members read back
// from a host use it.
func hostConnection(host string) connectionModel {
	return connectionModel{Host: types.StringValue(host)}
}

// Attribute descriptions, shared by the provider and resource schemas.
const (
	descHost           = "Address of the host: a DNS name or an IP address."
	descPort           = "SSH port. Defaults to the provider's `port`, then `FOOBAR_SSH_PORT`, then 22."
	descUser           = "Login user. Defaults to the provider's `user`, then `FOOBAR_SSH_USER`, then the user running Terraform."
	descPrivateKey     = "Private key (PEM or OpenSSH format) contents. Sensitive. Conflicts with `private_key_file`. Environment: `FOOBAR_SSH_PRIVATE_KEY`."
	descPrivateKeyFile = "Path to a private key file (`~/` is expanded, and `~\\` on Windows, to the home directory). Environment: `FOOBAR_SSH_PRIVATE_KEY_FILE`."
	descPassphrase     = "Passphrase of an encrypted private key. Sensitive. Environment: `FOOBAR_SSH_PRIVATE_KEY_PASSPHRASE`."
	descAgent          = "Authenticate with the keys of the running ssh-agent, tried before any private key: the socket `SSH_AUTH_SOCK` names (Linux; macOS, where launchd " +
		"sets it), or on Windows the OpenSSH agent service's named pipe `\\\\.\\pipe\\openssh-ssh-agent` (`SSH_AUTH_SOCK`, when set, names a pipe or a socket " +
		"there instead). Defaults to true when `SSH_AUTH_SOCK` is set, and on Windows. Environment: `FOOBAR_SSH_AGENT`."
	descKnownHosts = "OpenSSH known_hosts file used to verify host keys (hashed entries, several key types per host and `@cert-authority` lines are understood). Defaults to " +
		"`~/.ssh/known_hosts` (`%USERPROFILE%\\.ssh\\known_hosts` on Windows). Environment: `FOOBAR_SSH_KNOWN_HOSTS_FILE`. " +
		"Host keys are always verified: an unknown host and a changed key are both refused."
	descHostKey = "Pinned public key of the host in authorized_keys format (`ssh-ed25519 AAAA...`). When set it is checked instead of the known_hosts file."
	descSudo    = "Run privileged commands through sudo. Defaults to true unless the user is `root`. Environment: `FOOBAR_SUDO`. sudo never gets a TTY: `sudo -n` when no " +
		"password is needed, `sudo -S` with `sudo_password` on stdin otherwise."
	descSudoPassword  = "Password for sudo, sent on stdin, never on a command line. Sensitive. Environment: `FOOBAR_SUDO_PASSWORD`."
	descSudoPasswords = "Passwords for sudo by host (`\"10.0.0.5\"` or `\"10.0.0.5:2222\"`, as in `host_keys`), for hosts whose passwords differ: a host listed here uses its " +
		"entry instead of `sudo_password`. Sensitive, and like every provider setting never stored in the state or a plan file (see `sudo_password`)."
	descConnectTimeout = "Deadline for the TCP connection and, separately, for the SSH handshake, as a duration (`15s`). Defaults to `15s`. Environment: `FOOBAR_SSH_CONNECT_TIMEOUT`."
	descBastion        = "A bastion (jump) host through which the host is reached. It has its own credentials and its own host key check; unset fields fall back to the host's values."
)

// descNotStored is added to the provider block's secrets: the provider block
// is the one place a credential is never stored, and it is read on every
// operation (refresh, destroy and import included).
const descNotStored = " The provider block is never stored in the state or a plan file, and the provider reads it on every operation (refresh, destroy and import " +
	"included), so this is the place for the secret: give it from an ephemeral variable (`ephemeral = true`, Terraform 1.10+, OpenTofu 1.11+) or the " +
	"environment variable; a value from an ordinary variable is saved in plan files with the variable."

// storedSecret is the deprecation of a secret attribute in a resource's or
// the data source's `ssh` block (and its bastion): Terraform stores every
// argument of a resource and a data source in the state and in saved plan
// files; sensitive only hides it from the output. Write-only arguments
// (Terraform 1.11+) cannot replace it: a resource connects in Read and
// Delete too, which get the state but not the configuration, so a
// write-only credential would be gone exactly when refresh and destroy
// need it; and data sources cannot have write-only arguments at all.
var storedSecret = map[string]string{
	"private_key": "ssh.private_key is stored in the Terraform state and in saved plan files (sensitive only hides it from the output). " +
		"Give the key to the provider block instead (`private_key`, from an ephemeral variable or FOOBAR_SSH_PRIVATE_KEY; a provider alias per key), " +
		"or a `private_key_file` path or an ssh-agent key here.",
	"private_key_passphrase": "ssh.private_key_passphrase is stored in the Terraform state and in saved plan files (sensitive only hides it from the output). " +
		"Give it to the provider block instead (`private_key_passphrase`, from an ephemeral variable or FOOBAR_SSH_PRIVATE_KEY_PASSPHRASE), " +
		"or use an ssh-agent that holds the decrypted key.",
	"sudo_password": "ssh.sudo_password is stored in the Terraform state and in saved plan files (sensitive only hides it from the output). " +
		"Give it to the provider block instead: `sudo_password`, or `sudo_passwords` by host when hosts differ (from an ephemeral variable or FOOBAR_SUDO_PASSWORD).",
}

// attrSpec describes one connection attribute once, so that the provider
// schema (provider/schema) and the resource schemas (resource/schema), which
// are different Go types, are built from the same definition.
type attrSpec struct {
	name      string
	desc      string
	kind      string // "string", "int", "bool"
	sensitive bool
	strVals   []validator.String
	intVals   []validator.Int64
}

// credentialSpecs are the login attributes shared by the provider block,
// hosts and bastions.
func credentialSpecs() []attrSpec {
	return []attrSpec{
		{name: "port", desc: descPort, kind: "int", intVals: []validator.Int64{int64validator.Between(1, 65535)}},
		{name: "user", desc: descUser, kind: "string", strVals: []validator.String{validators.User()}},
		{name: "private_key", desc: descPrivateKey, kind: "string", sensitive: true, strVals: []validator.String{
			validators.PrivateKey(),
			stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("private_key_file")),
		}},
		{name: "private_key_file", desc: descPrivateKeyFile, kind: "string", strVals: []validator.String{validators.ReadableFile()}},
		{name: "private_key_passphrase", desc: descPassphrase, kind: "string", sensitive: true},
		{name: "agent", desc: descAgent, kind: "bool"},
		{name: "known_hosts_file", desc: descKnownHosts, kind: "string", strVals: []validator.String{validators.ReadableFile()}},
	}
}

// hostSpecs are the attributes a host has beyond its credentials.
func hostSpecs() []attrSpec {
	return []attrSpec{
		{name: "sudo", desc: descSudo, kind: "bool"},
		{name: "sudo_password", desc: descSudoPassword, kind: "string", sensitive: true, strVals: []validator.String{validators.SingleLine()}},
		{name: "connect_timeout", desc: descConnectTimeout, kind: "string", strVals: []validator.String{validators.Duration(minConnectTimeout, maxConnectTimeout)}},
	}
}

// stored is the description and deprecation of the attribute in a
// resource's or the data source's ssh block, which Terraform stores: a
// secret there is deprecated (storedSecret).
func (a attrSpec) stored() (desc, deprecation string) {
	deprecation = storedSecret[a.name]
	if deprecation == "" {
		return a.desc, ""
	}
	return "**Deprecated: stored in the state and in plan files.** " + a.desc + " " + deprecation, deprecation
}

func (a attrSpec) resource() schema.Attribute {
	desc, dep := a.stored()
	switch a.kind {
	case "int":
		return schema.Int64Attribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, Validators: a.intVals, DeprecationMessage: dep}
	case "bool":
		return schema.BoolAttribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, DeprecationMessage: dep}
	default:
		return schema.StringAttribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, Validators: a.strVals, DeprecationMessage: dep}
	}
}

func (a attrSpec) dataSource() dschema.Attribute {
	desc, dep := a.stored()
	switch a.kind {
	case "int":
		return dschema.Int64Attribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, Validators: a.intVals, DeprecationMessage: dep}
	case "bool":
		return dschema.BoolAttribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, DeprecationMessage: dep}
	default:
		return dschema.StringAttribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, Validators: a.strVals, DeprecationMessage: dep}
	}
}

func (a attrSpec) provider() pschema.Attribute {
	desc := a.desc
	if a.sensitive {
		desc += descNotStored
	}
	switch a.kind {
	case "int":
		return pschema.Int64Attribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, Validators: a.intVals}
	case "bool":
		return pschema.BoolAttribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive}
	default:
		return pschema.StringAttribute{MarkdownDescription: desc, Optional: true, Sensitive: a.sensitive, Validators: a.strVals}
	}
}

// connectionSchema is the resource-level `ssh` attribute: the host and
// overrides of the provider's SSH defaults. Changing the host replaces the
// resource.
func connectionSchema() schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{
		"host": schema.StringAttribute{
			MarkdownDescription: descHost + " Changing it replaces the resource.",
			Required:            true,
			Validators:          []validator.String{validators.Host()},
			PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
		},
		"host_key": schema.StringAttribute{
			MarkdownDescription: descHostKey + " Overrides the provider's `host_keys` entry for this host.",
			Optional:            true,
			Validators:          []validator.String{validators.PublicKey()},
		},
		"bastion": bastionSchema(),
	}
	for _, a := range append(credentialSpecs(), hostSpecs()...) {
		attrs[a.name] = a.resource()
	}
	return schema.SingleNestedAttribute{
		MarkdownDescription: "How to reach the host over SSH. Unset fields fall back to the provider's settings.",
		Required:            true,
		Attributes:          attrs,
	}
}

func bastionSchema() schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{
		"host": schema.StringAttribute{
			MarkdownDescription: "Address of the bastion.", Required: true,
			Validators: []validator.String{validators.Host()},
		},
		"host_key": schema.StringAttribute{
			MarkdownDescription: "Pinned public key of the bastion (authorized_keys format).", Optional: true,
			Validators: []validator.String{validators.PublicKey()},
		},
	}
	for _, a := range credentialSpecs() {
		attrs[a.name] = a.resource()
	}
	return schema.SingleNestedAttribute{MarkdownDescription: descBastion, Optional: true, Attributes: attrs}
}

// dataSourceConnectionSchema is connectionSchema for data sources.
func dataSourceConnectionSchema() dschema.SingleNestedAttribute {
	bastion := map[string]dschema.Attribute{
		"host": dschema.StringAttribute{
			MarkdownDescription: "Address of the bastion.", Required: true,
			Validators: []validator.String{validators.Host()},
		},
		"host_key": dschema.StringAttribute{
			MarkdownDescription: "Pinned public key of the bastion (authorized_keys format).", Optional: true,
			Validators: []validator.String{validators.PublicKey()},
		},
	}
	for _, a := range credentialSpecs() {
		bastion[a.name] = a.dataSource()
	}
	attrs := map[string]dschema.Attribute{
		"host": dschema.StringAttribute{
			MarkdownDescription: descHost, Required: true,
			Validators: []validator.String{validators.Host()},
		},
		"host_key": dschema.StringAttribute{
			MarkdownDescription: descHostKey + " Overrides the provider's `host_keys` entry for this host.",
			Optional:            true,
			Validators:          []validator.String{validators.PublicKey()},
		},
		"bastion": dschema.SingleNestedAttribute{MarkdownDescription: descBastion, Optional: true, Attributes: bastion},
	}
	for _, a := range append(credentialSpecs(), hostSpecs()...) {
		attrs[a.name] = a.dataSource()
	}
	return dschema.SingleNestedAttribute{
		MarkdownDescription: "How to reach the host over SSH. Unset fields fall back to the provider's settings.",
		Required:            true,
		Attributes:          attrs,
	}
}

// providerConnectionAttributes are the provider block's SSH defaults.
func providerConnectionAttributes() map[string]pschema.Attribute {
	attrs := map[string]pschema.Attribute{
		"host_keys": pschema.MapAttribute{
			MarkdownDescription: "Pinned host keys by host (`\"10.0.0.5\"` or `\"10.0.0.5:2222\"`), in authorized_keys format. A pinned key is checked instead of the known_hosts file.",
			Optional:            true,
			ElementType:         types.StringType,
			Validators:          []validator.Map{mapvalidator.KeysAre(validators.Host()), mapvalidator.ValueStringsAre(validators.PublicKey())},
		},
	}
	attrs["sudo_passwords"] = pschema.MapAttribute{
		MarkdownDescription: descSudoPasswords,
		Optional:            true,
		Sensitive:           true,
		ElementType:         types.StringType,
		Validators:          []validator.Map{mapvalidator.KeysAre(validators.Host()), mapvalidator.ValueStringsAre(validators.SingleLine())},
	}
	bastion := map[string]pschema.Attribute{
		"host": pschema.StringAttribute{
			MarkdownDescription: "Address of the bastion.", Required: true,
			Validators: []validator.String{validators.Host()},
		},
		"host_key": pschema.StringAttribute{
			MarkdownDescription: "Pinned public key of the bastion (authorized_keys format).", Optional: true,
			Validators: []validator.String{validators.PublicKey()},
		},
	}
	for _, a := range credentialSpecs() {
		bastion[a.name] = a.provider()
	}
	attrs["bastion"] = pschema.SingleNestedAttribute{MarkdownDescription: descBastion + " Applies to every host unless a resource sets its own.", Optional: true, Attributes: bastion}
	for _, a := range append(credentialSpecs(), hostSpecs()...) {
		attrs[a.name] = a.provider()
	}
	return attrs
}

// sshDefaults are the provider-level settings after environment variables and
// built-in defaults were applied.
type sshDefaults struct {
	Port                 int
	User                 string
	PrivateKey           string
	PrivateKeyFile       string
	PrivateKeyPassphrase string
	Agent                bool
	KnownHostsFile       string
	HostKeys             map[string]string
	Sudo                 *bool // nil: true unless the user is root
	SudoPassword         string
	SudoPasswords        map[string]string // by host or host:port, over SudoPassword
	ConnectTimeout       time.Duration
	Bastion              *bastionModel
}

// config merges a resource's connection block over the provider defaults.
func (d sshDefaults) config(c connectionModel) (ssh.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	cfg := ssh.Config{
		Host:                 c.Host.ValueString(),
		Port:                 intOr(c.Port, d.Port),
		User:                 stringOr(c.User, d.User),
		PrivateKey:           stringOr(c.PrivateKey, d.PrivateKey),
		PrivateKeyFile:       validators.ExpandHome(stringOr(c.PrivateKeyFile, d.PrivateKeyFile)),
		PrivateKeyPassphrase: stringOr(c.PrivateKeyPassphrase, d.PrivateKeyPassphrase),
		Agent:                boolOr(c.Agent, d.Agent),
		KnownHostsFile:       validators.ExpandHome(stringOr(c.KnownHostsFile, d.KnownHostsFile)),
		HostKey:              c.HostKey.ValueString(),
		SudoPassword:         stringOr(c.SudoPassword, d.SudoPassword),
		ConnectTimeout:       d.ConnectTimeout,
	}
	// A key given at one level replaces a key file given at the other.
	if !c.PrivateKey.IsNull() {
		cfg.PrivateKeyFile = ""
	} else if !c.PrivateKeyFile.IsNull() {
		cfg.PrivateKey = ""
	}
	if cfg.HostKey == "" {
		cfg.HostKey = d.HostKeys[cfg.Host]
		if k, ok := d.HostKeys[cfg.Addr()]; ok {
			cfg.HostKey = k
		}
	}
	if c.SudoPassword.IsNull() {
		if p, ok := d.SudoPasswords[cfg.Host]; ok {
			cfg.SudoPassword = p
		}
		if p, ok := d.SudoPasswords[cfg.Addr()]; ok {
			cfg.SudoPassword = p
		}
	}
	switch {
	case !c.Sudo.IsNull():
		cfg.Sudo = c.Sudo.ValueBool()
	case d.Sudo != nil:
		cfg.Sudo = *d.Sudo
	default:
		cfg.Sudo = cfg.User != "root"
	}
	if !c.ConnectTimeout.IsNull() {
		t, err := time.ParseDuration(c.ConnectTimeout.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("ssh").AtName("connect_timeout"), "Invalid Connect Timeout", err.Error())
		}
		cfg.ConnectTimeout = t
	}
	b := c.Bastion
	if b == nil {
		b = d.Bastion
	}
	if b != nil {
		bc := ssh.Config{
			Host:                 b.Host.ValueString(),
			Port:                 intOr(b.Port, cfg.Port),
			User:                 stringOr(b.User, cfg.User),
			PrivateKey:           stringOr(b.PrivateKey, cfg.PrivateKey),
			PrivateKeyFile:       validators.ExpandHome(stringOr(b.PrivateKeyFile, cfg.PrivateKeyFile)),
			PrivateKeyPassphrase: stringOr(b.PrivateKeyPassphrase, cfg.PrivateKeyPassphrase),
			Agent:                boolOr(b.Agent, cfg.Agent),
			KnownHostsFile:       validators.ExpandHome(stringOr(b.KnownHostsFile, cfg.KnownHostsFile)),
			HostKey:              b.HostKey.ValueString(),
			ConnectTimeout:       cfg.ConnectTimeout,
		}
		if !b.PrivateKey.IsNull() {
			bc.PrivateKeyFile = ""
		} else if !b.PrivateKeyFile.IsNull() {
			bc.PrivateKey = ""
		}
		if bc.HostKey == "" {
			bc.HostKey = d.HostKeys[bc.Host]
			if k, ok := d.HostKeys[bc.Addr()]; ok {
				bc.HostKey = k
			}
		}
		cfg.Bastion = &bc
	}
	return cfg, diags
}

// envLookup is os.LookupEnv, replaceable in tests.
var envLookup = os.LookupEnv

// defaultUser is the user running Terraform, as ssh would pick it.
func defaultUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return loginName(runtime.GOOS, u.Username)
	}
	if u, ok := envLookup("USER"); ok {
		return u
	}
	return "root"
}

// loginName is the SSH login for the local account name: on Windows the
// account is DOMAIN\user (or COMPUTER\user), and the login is its user part,
// as Windows' own ssh.exe uses.
func loginName(goos, account string) string {
	if goos == "windows" {
		if i := strings.LastIndexByte(account, '\\'); i >= 0 {
			return account[i+1:]
		}
	}
	return account
}

// agentByDefault is the agent setting when neither the provider block nor
// FOOBAR_SSH_AGENT gives one: on when SSH_AUTH_SOCK is set, and on Windows
// always, where the OpenSSH agent service listens on a well-known named pipe
// without SSH_AUTH_SOCK (an agent that is not running is then skipped when a
// private key is configured, and named in the error when none is).
func agentByDefault(goos string, haveSSHAuthSock bool) bool {
	return haveSSHAuthSock || goos == "windows"
}

// envBool parses a boolean environment variable.
func envBool(name string) (bool, bool, error) {
	v, ok := envLookup(name)
	if !ok || v == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, true, fmt.Errorf("%s=%q is not a boolean (true or false)", name, v)
	}
	return b, true, nil
}
