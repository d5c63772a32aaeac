// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// foobar_firewall: one host's inbound nftables policy, as the table
// `inet foobar` that the provider owns. This file is the Terraform glue; the
// rendering and the host work ("commit confirmed" load, listing, removal)
// are internal/firewall's.
//
// One resource per host rather than rules inside each service resource:
// a host's inbound policy is one thing (one default-drop chain, one SSH
// rule) that must be loaded and confirmed as a whole, and a rule reads
// best where the flow is written down with references to both ends:
//
//	allow = [{ port = 3306, from = [foobar_web_server.web1.ssh.host] }]
//
// Every service resource stays about its service.

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/firewall"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

var (
	_ resource.ResourceWithConfigure      = (*firewallResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*firewallResource)(nil)
	_ resource.ResourceWithValidateConfig = (*firewallResource)(nil)
)

// NewFirewallResource is the foobar_firewall resource.
func NewFirewallResource() resource.Resource { return &firewallResource{} }

type firewallResource struct{ data *providerData }

// firewallModel is the resource's state and plan.
type firewallModel struct {
	ID              types.String    `tfsdk:"id"`
	SSH             connectionModel `tfsdk:"ssh"`
	AdminSources    []types.String  `tfsdk:"admin_sources"`
	SSHPort         types.Int64     `tfsdk:"ssh_port"`
	AllowPing       types.Bool      `tfsdk:"allow_ping"`
	Allow           []allowModel    `tfsdk:"allow"`
	ConfirmTimeout  types.String    `tfsdk:"confirm_timeout"`
	RenderedRuleset types.String    `tfsdk:"rendered_ruleset"`
	LiveSHA256      types.String    `tfsdk:"live_sha256"`
}

type allowModel struct {
	Protocol types.String   `tfsdk:"protocol"`
	Port     types.Int64    `tfsdk:"port"`
	From     []types.String `tfsdk:"from"`
}

func strs(vs []types.String) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ValueString()
	}
	return out
}

// toConfig converts the model into the firewall package's Config; null
// optional values take their defaults (as in ValidateConfig, before the
// plan applies them).
func (m firewallModel) toConfig() firewall.Config {
	c := firewall.Config{AdminSources: strs(m.AdminSources), SSHPort: 22, AllowPing: true}
	if !m.SSHPort.IsNull() && !m.SSHPort.IsUnknown() {
		c.SSHPort = m.SSHPort.ValueInt64()
	}
	if !m.AllowPing.IsNull() && !m.AllowPing.IsUnknown() {
		c.AllowPing = m.AllowPing.ValueBool()
	}
	for _, a := range m.Allow {
		r := firewall.Rule{Protocol: "tcp", Port: a.Port.ValueInt64(), From: strs(a.From)}
		if !a.Protocol.IsNull() && !a.Protocol.IsUnknown() {
			r.Protocol = a.Protocol.ValueString()
		}
		c.Rules = append(c.Rules, r)
	}
	return c
}

func (m firewallModel) confirmTimeout() time.Duration {
	d, err := time.ParseDuration(m.ConfirmTimeout.ValueString())
	if err != nil {
		return firewall.DefaultConfirmTimeout
	}
	return d
}

func (r *firewallResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_firewall"
}

func (r *firewallResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *firewallResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = firewallSchema()
}

// fwErrors shows the firewall package's field errors; problems a schema
// validator already reports are skipped when skipSingle is set.
func fwErrors(skipSingle bool) errorContext {
	ec := errorContext{}
	if skipSingle {
		ec.skip = func(fe *fault.FieldError) bool { return fe.Single }
	}
	return ec
}

// ValidateConfig runs firewall.Config.Validate when the configuration is
// fully known: an empty admin_sources, a port opened twice, a source
// listed twice.
func (r *firewallResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !req.Config.Raw.IsFullyKnown() {
		return
	}
	var m firewallModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	fwErrors(true).addError(&resp.Diagnostics, "Invalid Firewall Configuration", m.toConfig().Validate())
}

// ModifyPlan renders the ruleset so the plan shows the exact nft file that
// will be loaded. live_sha256 is known only after the load.
func (r *firewallResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var hostVal types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("ssh").AtName("host"), &hostVal)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), hostVal)...)
	if !req.Plan.Raw.IsFullyKnown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("rendered_ruleset"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("live_sha256"), types.StringUnknown())...)
		return
	}
	var plan firewallModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rendered, err := plan.toConfig().Render()
	if err != nil {
		fwErrors(false).addError(&resp.Diagnostics, "Invalid Firewall Configuration", err)
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("rendered_ruleset"), types.StringValue(string(rendered)))...)
	live := types.StringUnknown()
	if !req.State.Raw.IsNull() {
		var state firewallModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if state.RenderedRuleset.ValueString() == string(rendered) && state.SSH.Host.Equal(plan.SSH.Host) {
			live = state.LiveSHA256
		}
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("live_sha256"), live)...)
}

func (r *firewallResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *firewallResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

// freshDialer opens a new connection of its own to the host of c (never the
// pooled one), for the firewall's confirmation.
func (d *providerData) freshDialer(c connectionModel) firewall.Dialer {
	return func(ctx context.Context) (remote.Runner, func(), error) {
		cfg, diags := d.defaults.config(c)
		if diags.HasError() {
			return nil, nil, fmt.Errorf("connection settings: %v", diags)
		}
		cl, err := ssh.Dial(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return cl, func() { _ = cl.Close() }, nil
	}
}

// apply loads the plan's ruleset (firewall.Deploy: nft -c, automatic
// rollback, atomic load, confirmation over a new connection) and records it.
func (r *firewallResource) apply(ctx context.Context, planIn tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var m firewallModel
	diags.Append(planIn.Get(ctx, &m)...)
	if diags.HasError() {
		return
	}
	ec := errorContext{secrets: r.data.connSecrets(m.SSH)}
	ctx = maskSecrets(ctx, ec.secrets)
	rendered, err := m.toConfig().Render()
	if err != nil {
		ec.addError(diags, "Invalid Firewall Configuration", err)
		return
	}
	cl, dg := r.data.client(ctx, m.SSH)
	diags.Append(dg...)
	if diags.HasError() {
		return
	}
	res, err := firewall.Deploy(ctx, cl, firewall.Deployment{
		Host:           cl.Addr(),
		Ruleset:        rendered,
		ConfirmTimeout: m.confirmTimeout(),
		Dial:           r.data.freshDialer(m.SSH),
		Log:            func(msg string, fields map[string]any) { tflog.Info(ctx, msg, fields) },
	})
	for _, w := range res.Warnings {
		diags.AddWarning("Firewall Warning", w)
	}
	if err != nil {
		ec.addError(diags, "Apply Firewall Error", err)
		return
	}
	m.ID = m.SSH.Host
	m.RenderedRuleset = types.StringValue(string(rendered))
	m.LiveSHA256 = types.StringValue(apply.Checksum(res.Listing))
	diags.Append(state.Set(ctx, &m)...)
}

// driftNote starts rendered_ruleset in the state when the live table is not
// the one this provider loaded, so the plan shows the repair.
const driftNote = "# drift: the live table inet foobar is not the one this provider loaded; nft lists it as:\n"

// Read lists the live table (one round trip). When it is gone or differs
// from the listing recorded at the last apply, rendered_ruleset in the state
// becomes a note with the live listing, so the next plan shows an update
// that loads the configured rules again.
func (r *firewallResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m firewallModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, m.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ins, err := firewall.Inspect(ctx, cl, cl.Addr())
	if err != nil {
		errorContext{secrets: r.data.connSecrets(m.SSH)}.addError(&resp.Diagnostics, "Read Firewall Error", err)
		return
	}
	switch {
	case !ins.Present:
		tflog.Warn(ctx, "the firewall table is missing on the host", map[string]any{"host": cl.Addr()})
		m.RenderedRuleset = types.StringValue("# drift: the host has no table inet foobar\n")
		m.LiveSHA256 = types.StringValue("")
	case apply.Checksum(ins.Listing) != m.LiveSHA256.ValueString():
		tflog.Warn(ctx, "the firewall table on the host was changed outside Terraform", map[string]any{"host": cl.Addr()})
		m.RenderedRuleset = types.StringValue(driftNote + string(ins.Listing))
		m.LiveSHA256 = types.StringValue(apply.Checksum(ins.Listing))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Delete removes the table inet foobar and its boot file; no other table is
// touched.
func (r *firewallResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m firewallModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, m.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := firewall.Remove(ctx, cl, cl.Addr()); err != nil {
		errorContext{secrets: r.data.connSecrets(m.SSH)}.addError(&resp.Diagnostics, "Remove Firewall Error", err)
	}
}
