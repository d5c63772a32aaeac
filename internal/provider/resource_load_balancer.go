// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// foobar_load_balancer: HAProxy on one host. This file is the Terraform
// glue; the host work is internal/haproxy's (Deploy, Inspect, Remove), over
// the safe-apply engine (internal/apply).
//
//   - Plan: attribute validators (the haproxy package's checks through
//     validators.StringFunc) refuse every bad value with its path;
//     ValidateConfig runs haproxy.Config.Validate for cross-field problems
//     (unknown backend, duplicate names, overlapping binds); ModifyPlan
//     renders haproxy.cfg and plans rendered_config (with the stats
//     password redacted) and config_sha256. Nothing touches the host.
//   - Apply: lbModel.toDeployment converts the model into a haproxy.Deployment
//     (the Config, install, which secrets are write-only) and
//     haproxy.Deploy probes, installs when allowed, and applies (haproxy -c
//     in place, atomic swap, reload, verification, rollback). Its
//     *fault.StepError becomes a diagnostic (errorContext.addError).
//   - Read: haproxy.Inspect returns the redacted haproxy.cfg (with drift
//     notes), the version and, when the host runs what this provider wrote,
//     its haproxy.Record; lbModel.fromRecord turns that back into a model
//     (import, or a change applied from another state).
//   - Delete: haproxy.Remove puts back the file found before the first
//     apply (Debian's stock haproxy.cfg) and reloads.

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/keepalived"
)

var (
	_ resource.ResourceWithConfigure      = (*loadBalancerResource)(nil)
	_ resource.ResourceWithImportState    = (*loadBalancerResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*loadBalancerResource)(nil)
	_ resource.ResourceWithValidateConfig = (*loadBalancerResource)(nil)
)

// NewLoadBalancerResource is the foobar_load_balancer resource.
func NewLoadBalancerResource() resource.Resource { return &loadBalancerResource{} }

type loadBalancerResource struct{ data *providerData }

func (r *loadBalancerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_load_balancer"
}

func (r *loadBalancerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *loadBalancerResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = loadBalancerSchema()
}

// ValidateConfig runs the haproxy package's whole-config validation (unknown
// backends, duplicate names, overlapping listeners, certificate and key
// that do not match) when the configuration is fully known. Problems an
// attribute validator already reported are not repeated.
func (r *loadBalancerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !req.Config.Raw.IsFullyKnown() {
		return
	}
	var m lbModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, cv := m.toConfig(m)
	cv.errorContext(true).addError(&resp.Diagnostics, "Invalid Load Balancer Configuration", cfg.Validate())
}

// ModifyPlan renders the configuration and plans rendered_config (the
// redacted view of haproxy.cfg) and config_sha256, so that a plan shows
// the exact change that will reach the host. A configuration that is not
// fully known yet leaves them unknown.
func (r *loadBalancerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var state *lbModel
	if !req.State.Raw.IsNull() {
		state = &lbModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	host := types.StringUnknown()
	var hostVal types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("ssh").AtName("host"), &hostVal)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !hostVal.IsUnknown() {
		host = hostVal
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), host)...)

	// The version stays what Read found, unless HAProxy is missing (an
	// apply installs it) or the resource is new.
	version, pkgVersion := types.StringUnknown(), types.StringUnknown()
	if state != nil && state.HAProxyVersion.ValueString() != "" && state.HAProxyPackageVersion.ValueString() != "" && host.Equal(state.SSH.Host) {
		version, pkgVersion = state.HAProxyVersion, state.HAProxyPackageVersion
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("haproxy_version"), version)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("haproxy_package_version"), pkgVersion)...)

	if !req.Config.Raw.IsFullyKnown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("rendered_config"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("config_sha256"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("keepalived_config_sha256"), types.StringUnknown())...)
		return
	}
	var plan, config lbModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, cv := plan.toConfig(config)
	rendered, err := cfg.Render()
	if err != nil {
		cv.errorContext(false).addError(&resp.Diagnostics, "Invalid Load Balancer Configuration", err)
		return
	}
	view := haproxy.Redact(rendered)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("rendered_config"), types.StringValue(string(view)))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("config_sha256"), types.StringValue(apply.Checksum(view)))...)
	kaSHA, err := planHA(plan, cfg)
	if err != nil {
		haErrors.addError(&resp.Diagnostics, "Invalid High Availability Configuration", err)
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("keepalived_config_sha256"), kaSHA)...)
	if plan.HighAvailability == nil {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("vrrp_state"), types.StringNull())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("holds_virtual_ip"), types.BoolNull())...)
	}
}

func (r *loadBalancerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, req.Config, nil, &resp.State, &resp.Diagnostics)
}

func (r *loadBalancerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var prior lbModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.apply(ctx, req.Plan, req.Config, prior.HighAvailability, &resp.State, &resp.Diagnostics)
}

// lbLog sends the haproxy package's progress messages to tflog.
func lbLog(ctx context.Context) func(string, map[string]any) {
	return func(msg string, fields map[string]any) { tflog.Info(ctx, msg, fields) }
}

// apply deploys the plan, the same for Create and Update, and records it
// with its computed attributes in the state.
func (r *loadBalancerResource) apply(ctx context.Context, planIn tfsdk.Plan, configIn tfsdk.Config, priorHA *lbHAModel, state *tfsdk.State, diags *diag.Diagnostics) {
	var m, config lbModel
	diags.Append(planIn.Get(ctx, &m)...)
	diags.Append(configIn.Get(ctx, &config)...)
	if diags.HasError() {
		return
	}
	r.deploy(ctx, &m, config, priorHA, diags)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &m)...)
}

// deploy applies m (haproxy.Deploy) and fills its computed attributes;
// write-only values come from config.
func (r *loadBalancerResource) deploy(ctx context.Context, m *lbModel, config lbModel, priorHA *lbHAModel, diags *diag.Diagnostics) {
	d, cv := m.toDeployment(config)
	cv.secrets = append(cv.secrets, r.data.connSecrets(m.SSH)...)
	ctx = maskSecrets(ctx, cv.secrets)
	cl, dg := r.data.client(ctx, m.SSH)
	diags.Append(dg...)
	if diags.HasError() {
		return
	}
	d.Host, d.Log = cl.Addr(), lbLog(ctx)
	res, err := haproxy.Deploy(ctx, cl, d)
	for _, w := range res.Warnings {
		diags.AddWarning("HAProxy Apply Warning", w)
	}
	if err != nil {
		cv.errorContext(false).addError(diags, "Apply HAProxy Config Error", err)
		return
	}
	m.ID = m.SSH.Host
	m.RenderedConfig = types.StringValue(string(res.View))
	m.ConfigSHA256 = types.StringValue(apply.Checksum(res.View))
	m.setVersion(res.Version)
	// keepalived after HAProxy: a member takes the address only once its
	// HAProxy answers with the new configuration.
	r.deployHA(ctx, cl, m, d.Config, priorHA, diags)
}

// Read takes haproxy.cfg (its redacted view, with a note when only a secret
// or a TLS bundle changed) and the version from the host. When the host's
// record matches its haproxy.cfg, the host runs what this provider wrote:
// the model is taken from the record (an import, or a change applied from
// another state) unless the state already says the same.
func (r *loadBalancerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m lbModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, m.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	obs, err := haproxy.Inspect(ctx, cl, haproxy.InspectRequest{Host: cl.Addr(), Shown: []byte(m.RenderedConfig.ValueString()), Extra: haProbe(m)})
	if obs.VersionErr != nil {
		resp.Diagnostics.AddWarning("Read HAProxy Version", fmt.Sprintf("%s: %s", cl.Addr(), obs.VersionErr))
	}
	if err != nil {
		errorContext{secrets: r.data.connSecrets(m.SSH)}.addError(&resp.Diagnostics, "Read HAProxy Config Error", err)
		return
	}
	m.setVersion(obs.Version)
	if m.ID.IsNull() || m.ID.ValueString() == "" {
		m.ID = m.SSH.Host
	}
	if obs.Record != nil {
		if rec := m.fromRecord(obs.Record); !m.sameAs(rec) {
			m = rec
		}
	}
	// A missing haproxy.cfg reads as empty: an update puts it back (and
	// installs HAProxy when install = true).
	m.RenderedConfig = types.StringValue(string(obs.View))
	m.ConfigSHA256 = types.StringValue(apply.Checksum(obs.View))
	cfg, _ := m.toConfig(m)
	readHA(&m, cfg, obs.Extra, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *loadBalancerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m lbModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.deleteModel(ctx, &m, &resp.Diagnostics)
}

// deleteModel gives the host back the configuration found before the first
// apply and reloads HAProxy, which keeps running (haproxy.Remove).
func (r *loadBalancerResource) deleteModel(ctx context.Context, m *lbModel, diags *diag.Diagnostics) {
	cl, d := r.data.client(ctx, m.SSH)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	// keepalived first: the address leaves this member (a peer takes it)
	// before its HAProxy configuration goes.
	if m.HighAvailability != nil {
		if err := keepalived.Remove(ctx, cl, cl.Addr()); err != nil {
			errorContext{secrets: r.data.connSecrets(m.SSH)}.addError(diags, "Remove keepalived Config Error", err)
			return
		}
	}
	warnings, err := haproxy.Remove(ctx, cl, haproxy.Removal{Host: cl.Addr()})
	if err != nil {
		errorContext{secrets: r.data.connSecrets(m.SSH)}.addError(diags, "Restore HAProxy Config Error", err)
		return
	}
	for _, w := range warnings {
		diags.AddWarning("HAProxy Cleanup Warning", w)
	}
	tflog.Info(ctx, "restored the original HAProxy configuration", map[string]any{"host": cl.Addr()})
}

// ImportState takes one member of the import-ID grammar (import_id.go):
// [USER@]HOST[:PORT]. Everything else about the connection comes from the
// provider block.
func (r *loadBalancerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	member, err := parseImportMember(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", "The import ID is "+importIDGrammar+": "+err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ssh"), member.connection())...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), member.Host)...)
}
