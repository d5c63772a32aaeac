// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	gossh "golang.org/x/crypto/ssh"

	"github.com/foobar/terraform-provider-foobar/internal/hostfacts"
)

var _ datasource.DataSourceWithConfigure = (*hostDataSource)(nil)

// NewHostDataSource is the foobar_host data source.
func NewHostDataSource() datasource.DataSource { return &hostDataSource{} }

type hostDataSource struct{ data *providerData }

type hostDataSourceModel struct {
	Connection   connectionModel `tfsdk:"ssh"`
	ID           types.String    `tfsdk:"id"`
	Hostname     types.String    `tfsdk:"hostname"`
	OSID         types.String    `tfsdk:"os_id"`
	OSVersionID  types.String    `tfsdk:"os_version_id"`
	OSPrettyName types.String    `tfsdk:"os_pretty_name"`
	Kernel       types.String    `tfsdk:"kernel"`
	Architecture types.String    `tfsdk:"architecture"`
	CPUs         types.Int64     `tfsdk:"cpus"`
	InitSystem   types.String    `tfsdk:"init_system"`
	Services     types.Map       `tfsdk:"services"`
	HostKey      types.String    `tfsdk:"host_key_fingerprint"`
}

func (d *hostDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_host"
}

func (d *hostDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Connects to a host over SSH (with the same host key checks and sudo as the resources) and " +
			"reports its operating system, init system and the versions of HAProxy, Nginx, MariaDB and MySQL installed on it. " +
			"Useful to check connectivity and prerequisites before the resources change anything.",
		Attributes: map[string]schema.Attribute{
			"ssh":            dataSourceConnectionSchema(),
			"id":             computed("`host:port` of the host."),
			"hostname":       computed("The host's own name (`uname -n`)."),
			"os_id":          computed("`ID` from `/etc/os-release`, for example `debian`."),
			"os_version_id":  computed("`VERSION_ID` from `/etc/os-release`, for example `12`; empty on rolling releases."),
			"os_pretty_name": computed("`PRETTY_NAME` from `/etc/os-release`."),
			"kernel":         computed("Kernel release (`uname -r`)."),
			"architecture":   computed("Machine architecture (`uname -m`)."),
			"cpus": schema.Int64Attribute{
				MarkdownDescription: "Number of CPUs available (`nproc`).", Computed: true,
			},
			"init_system": computed("Service manager the provider will use: `systemd` or `sysvinit`."),
			"services": schema.MapAttribute{
				MarkdownDescription: "Installed services and their versions, keyed by `haproxy`, `nginx`, `mariadb`, `mysql`. A service that is not installed is absent.",
				Computed:            true, ElementType: types.StringType,
			},
			"host_key_fingerprint": computed("SHA256 fingerprint of the host key that was verified for this connection."),
		},
	}
}

func (d *hostDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (d *hostDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m hostDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, diags := d.data.client(ctx, m.Connection)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	f, err := hostfacts.Gather(ctx, cl)
	if err != nil {
		resp.Diagnostics.AddError("Read Host Facts Error", fmt.Sprintf("Could not read facts of %s: %s", cl.Addr(), err))
		return
	}
	m.ID = types.StringValue(cl.Addr())
	m.Hostname = types.StringValue(f.Hostname)
	m.OSID = types.StringValue(f.OSID)
	m.OSVersionID = types.StringValue(f.OSVersionID)
	m.OSPrettyName = types.StringValue(f.OSPrettyName)
	m.Kernel = types.StringValue(f.Kernel)
	m.Architecture = types.StringValue(f.Architecture)
	m.CPUs = types.Int64Value(int64(f.CPUs))
	m.InitSystem = types.StringValue(string(f.Init))
	services, diags := types.MapValueFrom(ctx, types.StringType, f.Services)
	resp.Diagnostics.Append(diags...)
	m.Services = services
	m.HostKey = types.StringValue(fingerprint(cl))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// fingerprint is the SHA256 fingerprint of the host key the client verified.
func fingerprint(cl interface{ HostKey() gossh.PublicKey }) string {
	k := cl.HostKey()
	if k == nil {
		return ""
	}
	return gossh.FingerprintSHA256(k)
}
