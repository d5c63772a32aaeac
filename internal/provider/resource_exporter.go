// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// foobar_exporter: a Prometheus exporter from the distribution's packages
// on one host. The Terraform glue; rendering and host work are
// internal/exporter's.
//
// One small resource per host and exporter rather than an attribute of
// each service resource: the node exporter belongs to every host (load
// balancers, web servers, databases alike), the exporters' lifecycle is
// the same for every kind (the package's /etc/default file, its unit, a
// metrics check), and a configuration reads with references at both ends:
//
//	resource "foobar_exporter" "web1_node" { ssh = ..., kind = "node", listen = "10.0.0.21:9100" }
//	allow = [{ port = 9100, from = var.monitoring_sources }]   # foobar_firewall
//	targets = [foobar_exporter.web1_node.scrape_target]         # file_sd output
//
// Every service resource stays about its service.

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/exporter"
)

var (
	_ resource.ResourceWithConfigure      = (*exporterResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*exporterResource)(nil)
	_ resource.ResourceWithValidateConfig = (*exporterResource)(nil)
)

// NewExporterResource is the foobar_exporter resource.
func NewExporterResource() resource.Resource { return &exporterResource{} }

type exporterResource struct{ data *providerData }

type exporterModel struct {
	ID             types.String    `tfsdk:"id"`
	SSH            connectionModel `tfsdk:"ssh"`
	Kind           types.String    `tfsdk:"kind"`
	Listen         types.String    `tfsdk:"listen"`
	StubStatusPort types.Int64     `tfsdk:"stub_status_port"`
	MySQLUser      types.String    `tfsdk:"mysql_user"`
	MySQLPassword  types.String    `tfsdk:"mysql_password"`
	ScrapeTarget   types.String    `tfsdk:"scrape_target"`
	ConfigSHA256   types.String    `tfsdk:"config_sha256"`
}

func (m exporterModel) toConfig() exporter.Config {
	return exporter.Config{
		Kind: m.Kind.ValueString(), Listen: m.Listen.ValueString(), StubStatusPort: int(m.StubStatusPort.ValueInt64()),
		MySQLUser: m.MySQLUser.ValueString(), MySQLPassword: m.MySQLPassword.ValueString(),
	}
}

func (r *exporterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_exporter"
}

func (r *exporterResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *exporterResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = exporterSchema()
}

// ValidateConfig runs exporter.Config.Validate when the configuration is
// known (stub_status_port on a node exporter, a listen port that is the
// status server's).
func (r *exporterResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !req.Config.Raw.IsFullyKnown() {
		return
	}
	var m exporterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	fwErrors(true).addError(&resp.Diagnostics, "Invalid Exporter Configuration", m.toConfig().Validate())
}

// ModifyPlan sets id, scrape_target and config_sha256 from the plan.
func (r *exporterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if !req.Plan.Raw.IsFullyKnown() {
		for _, a := range []string{"id", "scrape_target", "config_sha256"} {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(a), types.StringUnknown())...)
		}
		return
	}
	var plan exporterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := plan.toConfig()
	if err := c.Validate(); err != nil {
		fwErrors(false).addError(&resp.Diagnostics, "Invalid Exporter Configuration", err)
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), types.StringValue(plan.SSH.Host.ValueString()+"/"+c.Kind))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("scrape_target"), types.StringValue(exporter.ScrapeTarget(plan.SSH.Host.ValueString(), c.Listen)))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("config_sha256"), types.StringValue(c.SHA256()))...)
}

func (r *exporterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *exporterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *exporterResource) apply(ctx context.Context, planIn tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var m exporterModel
	diags.Append(planIn.Get(ctx, &m)...)
	if diags.HasError() {
		return
	}
	ec := errorContext{secrets: append(r.data.connSecrets(m.SSH), m.MySQLPassword.ValueString())}
	ctx = maskSecrets(ctx, ec.secrets)
	cl, dg := r.data.client(ctx, m.SSH)
	diags.Append(dg...)
	if diags.HasError() {
		return
	}
	c := m.toConfig()
	res, err := exporter.Deploy(ctx, cl, exporter.Deployment{Host: cl.Addr(), Config: c})
	for _, w := range res.Warnings {
		diags.AddWarning("Exporter Warning", w)
	}
	if err != nil {
		ec.addError(diags, "Apply Exporter Error", err)
		return
	}
	m.ID = types.StringValue(m.SSH.Host.ValueString() + "/" + c.Kind)
	m.ScrapeTarget = types.StringValue(exporter.ScrapeTarget(m.SSH.Host.ValueString(), c.Listen))
	m.ConfigSHA256 = types.StringValue(c.SHA256())
	diags.Append(state.Set(ctx, &m)...)
}

// Read compares the managed files and the unit with the configuration in
// the state; a difference becomes a drift note in config_sha256.
func (r *exporterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m exporterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, m.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := m.toConfig()
	ins, err := exporter.Inspect(ctx, cl, cl.Addr(), c)
	if err != nil {
		errorContext{secrets: r.data.connSecrets(m.SSH)}.addError(&resp.Diagnostics, "Read Exporter Error", err)
		return
	}
	if drift := ins.Drift(c, c.FileChecksums()); len(drift) > 0 {
		tflog.Warn(ctx, "the exporter differs from its configuration", map[string]any{"host": cl.Addr(), "drift": drift})
		m.ConfigSHA256 = types.StringValue("drift: " + strings.Join(drift, "; "))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Delete stops and disables the exporter and gives back what it replaced.
func (r *exporterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m exporterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, m.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := exporter.Remove(ctx, cl, exporter.Deployment{Host: cl.Addr(), Config: m.toConfig()}); err != nil {
		errorContext{secrets: r.data.connSecrets(m.SSH)}.addError(&resp.Diagnostics, "Remove Exporter Error", err)
	}
}
