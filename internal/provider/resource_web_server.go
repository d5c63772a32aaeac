// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// foobar_web_server: an Nginx site, its static files and the application
// behind it, on one host. This file is the Terraform glue; the host work is
// internal/nginx's (Deploy, Inspect, Observe, Remove), over the safe-apply
// engine (internal/apply). The schema is in resource_web_server_schema.go,
// the model and its conversions (toSite, toApp) in _model.go, the host
// record that import reads in _record.go.
//
//   - Plan: attribute validators (the nginx package's checks through
//     validators.StringFunc) refuse every bad value with its path;
//     ValidateConfig runs nginx's whole-site rules; ModifyPlan renders the
//     site file (nginx.Site.RenderConfigOnly) and hashes the local artifact
//     and static files. Nothing touches the host.
//   - Apply: deployment converts the model into an nginx.Deployment and
//     checks the local files are still what the plan saw; nginx.Deploy
//     installs when allowed and applies the application, the static files
//     and the site, each rolled back on failure. Its *fault.StepError
//     becomes a diagnostic (errorContext.addError).
//   - Read: nginx.Inspect reads the host; nginx.Observe compares it with
//     what the last apply left and returns the drift.
//   - Delete: nginx.Remove takes away what the resource added and gives
//     back what it replaced (Debian's default site).

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

var (
	_ resource.ResourceWithConfigure      = (*webServerResource)(nil)
	_ resource.ResourceWithImportState    = (*webServerResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*webServerResource)(nil)
	_ resource.ResourceWithValidateConfig = (*webServerResource)(nil)
)

// NewWebServerResource is the foobar_web_server resource.
func NewWebServerResource() resource.Resource { return &webServerResource{} }

type webServerResource struct{ data *providerData }

func (r *webServerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_web_server"
}

func (r *webServerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *webServerResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = webServerSchema()
}

func (r *webServerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m webServerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if t := m.TLS; t != nil && !t.PrivateKeyPEM.IsUnknown() && !t.PrivateKeyPEMWO.IsUnknown() {
		if t.PrivateKeyPEM.IsNull() && t.PrivateKeyPEMWO.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("tls"), "Missing TLS Private Key",
				"tls needs the certificate's key: set tls.private_key_pem_wo (write-only, Terraform 1.11+) or tls.private_key_pem.")
		}
		if !t.PrivateKeyPEMWO.IsNull() && t.PrivateKeyPEMWOVersion.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("tls").AtName("private_key_pem_wo_version"), "Missing Version",
				"tls.private_key_pem_wo needs tls.private_key_pem_wo_version: Terraform cannot see a change of a write-only value, so change the version to deploy a new key.")
		}
	}
	if a := m.App; a != nil {
		if !a.SecretEnvironmentWO.IsNull() && !a.SecretEnvironmentWO.IsUnknown() && a.SecretEnvironmentWOVersion.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("app").AtName("secret_environment_wo_version"), "Missing Version",
				"app.secret_environment_wo needs app.secret_environment_wo_version: Terraform cannot see a change of a write-only value, so change the version to deploy new values.")
		}
		// A variable set in two of the maps.
		c := &conv{ctx: ctx}
		seen := map[string]string{}
		for _, src := range []struct {
			attr string
			m    types.Map
		}{{"environment", a.Environment}, {"secret_environment", a.SecretEnvironment}, {"secret_environment_wo", a.SecretEnvironmentWO}} {
			keys := make([]string, 0)
			for k := range c.strMap(src.m) {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if other, dup := seen[k]; dup {
					resp.Diagnostics.AddAttributeError(path.Root("app").AtName(src.attr).AtMapKey(k), "Duplicate Environment Variable",
						fmt.Sprintf("app.%s[%q] is also set in app.%s; set each variable once.", src.attr, k, other))
				}
				seen[k] = src.attr
			}
		}
		resp.Diagnostics.Append(c.diags...)
	}

	// Every rule of the service package that involves more than one value,
	// or has no per-attribute validator, checked on the whole model. Rules
	// about one value alone were reported by the attribute's validator.
	c := &conv{ctx: ctx}
	env, _ := m.environment(c, &m)
	site := m.toSite(c)
	app := m.toApp(c, env)
	if c.unknown || c.diags.HasError() {
		resp.Diagnostics.Append(c.diags...)
		return
	}
	ec := errorContext{
		skip: func(fe *fault.FieldError) bool { return fe.Single && !strings.HasPrefix(fe.Path, "app.command") },
		rename: func(p string) string {
			switch {
			case p == "app.name":
				return "name"
			case p == "tls.private_key_pem" && m.TLS != nil && m.TLS.PrivateKeyPEM.IsNull():
				return "tls.private_key_pem_wo"
			}
			return p
		},
	}
	for _, err := range []error{site.Validate(), app.Validate(), nginx.CheckPair(site, app)} {
		if _, ok := errors.AsType[fault.FieldErrors](err); ok {
			ec.addError(&resp.Diagnostics, "Invalid Attribute Value", err)
		}
	}
}

func (r *webServerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, config webServerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *webServerModel
	if !req.State.Raw.IsNull() {
		state = &webServerModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	plan.fillAppDefaults(&config)

	// The id names the site on its host; it stays as it is while the name
	// and the host do (ids written before the import-ID grammar read
	// <name>@<host>).
	switch {
	case state != nil && plan.Name.Equal(state.Name) && plan.SSH.Host.Equal(state.SSH.Host):
		plan.ID = state.ID
	case !plan.Name.IsUnknown() && !plan.SSH.Host.IsUnknown():
		plan.ID = types.StringValue(webServerID(plan.SSH.Host.ValueString(), plan.Name.ValueString()))
	}

	// Artifact checksum, from the local file.
	plan.ArtifactChecksum = types.StringUnknown()
	if plan.App != nil && !plan.App.ArtifactSource.IsUnknown() {
		sum, err := nginx.ArtifactChecksum(validators.ExpandHome(plan.App.ArtifactSource.ValueString()))
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("app").AtName("artifact_source"), "Unreadable Artifact",
				fmt.Sprintf("Could not read the artifact %s: %s", plan.App.ArtifactSource.ValueString(), err))
			return
		}
		plan.ArtifactChecksum = types.StringValue(sum)
	}

	// Static digest, from source_dir.
	switch {
	case plan.SourceDir.IsNull():
		plan.StaticChecksum = types.StringNull()
	case plan.SourceDir.IsUnknown():
		plan.StaticChecksum = types.StringUnknown()
	default:
		digest, skipped, err := nginx.StaticDigest(validators.ExpandHome(plan.SourceDir.ValueString()))
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("source_dir"), "Unusable Static Files",
				fmt.Sprintf("Could not read %s: %s", plan.SourceDir.ValueString(), err))
			return
		}
		for _, s := range skipped {
			resp.Diagnostics.AddAttributeWarning(path.Root("source_dir"), "Static File Skipped",
				fmt.Sprintf("%s is not deployed: %s.", s.RelPath, s.Reason))
		}
		plan.StaticChecksum = types.StringValue(digest)
	}

	// Host facts known from the last refresh.
	version := ""
	plan.NginxVersion, plan.InitSystem = types.StringUnknown(), types.StringUnknown()
	if state != nil {
		if v := state.NginxVersion.ValueString(); v != "" {
			plan.NginxVersion, version = state.NginxVersion, v
		}
		if v := state.InitSystem.ValueString(); v != "" {
			plan.InitSystem = state.InitSystem
		}
	}

	// The rendered site (the certificate and key do not appear in it).
	c := &conv{ctx: ctx}
	site := plan.toSite(c)
	versionMatters := site.TLS != nil && site.TLS.HTTP2 && version == ""
	plan.SiteConfig, plan.SiteChecksum = types.StringUnknown(), types.StringUnknown()
	if !c.unknown && !c.diags.HasError() && !versionMatters {
		if conf, err := site.RenderConfigOnly(nginx.Options{NginxVersion: version}); err == nil {
			plan.SiteConfig = types.StringValue(string(conf))
			plan.SiteChecksum = types.StringValue(apply.Checksum(conf))
		}
	}

	// What the apply will make true on the host.
	plan.AppState = types.StringValue("active")
	plan.Drift = types.ListValueMust(types.StringType, []attr.Value{})
	plan.AppPID = types.Int64Unknown()
	plan.LastSync = types.ObjectUnknown(lastSyncAttrTypes)
	if state != nil {
		if appUnchanged(state, &plan) {
			plan.AppPID = state.AppPID
		}
		if state.StaticChecksum.Equal(plan.StaticChecksum) && !state.LastSync.IsNull() {
			plan.LastSync = state.LastSync
		}
		if plan.SourceDir.IsNull() {
			plan.LastSync = state.LastSync
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// deployment builds what nginx.Deploy needs from the plan and the
// configuration (write-only values), reading the local files and checking
// they are still what the plan saw.
func (r *webServerResource) deployment(ctx context.Context, plan, config *webServerModel, host string, model []byte) (nginx.Deployment, []string, diag.Diagnostics) {
	var diags diag.Diagnostics
	c := &conv{ctx: ctx}
	env, secrets := plan.environment(c, config)
	site := plan.toSite(c)
	if config.TLS != nil && !config.TLS.PrivateKeyPEMWO.IsNull() && site.TLS != nil {
		site.TLS.PrivateKeyPEM = config.TLS.PrivateKeyPEMWO.ValueString()
	}
	if site.TLS != nil {
		secrets = append(secrets, site.TLS.PrivateKeyPEM)
	}
	app := plan.toApp(c, env)
	diags.Append(c.diags...)
	if c.unknown {
		diags.AddError("Unknown Values", "Some values are still unknown at apply time; this is a bug in the provider.")
	}
	if diags.HasError() {
		return nginx.Deployment{}, secrets, diags
	}
	src := plan.App.ArtifactSource.ValueString()
	artifact, err := nginx.ReadArtifact(validators.ExpandHome(src), planned(plan.ArtifactChecksum))
	if ce := (*nginx.ChangedError)(nil); errors.As(err, &ce) {
		diags.AddAttributeError(path.Root("app").AtName("artifact_source"), "Artifact Changed Since Plan",
			fmt.Sprintf("%s has checksum %s, but the plan was made with %s: run plan again.", src, ce.Got, ce.Planned))
		return nginx.Deployment{}, secrets, diags
	} else if err != nil {
		diags.AddAttributeError(path.Root("app").AtName("artifact_source"), "Unreadable Artifact", err.Error())
		return nginx.Deployment{}, secrets, diags
	}
	d := nginx.Deployment{
		Site:               site,
		App:                app,
		Artifact:           artifact,
		DisableDefaultSite: plan.DisableDefaultSite.ValueBool(),
		Install:            plan.Install.ValueBool(),
		HealthTimeout:      plan.healthTimeout(),
		Drain:              plan.toDrain(c),
		Host:               host,
		Model:              model,
	}
	if !plan.SourceDir.IsNull() {
		static, err := nginx.ReadStatic(validators.ExpandHome(plan.SourceDir.ValueString()), planned(plan.StaticChecksum))
		var ce *nginx.ChangedError
		var ue *nginx.UnreadableError
		switch {
		case errors.As(err, &ce):
			diags.AddAttributeError(path.Root("source_dir"), "Static Files Changed Since Plan",
				fmt.Sprintf("The files under %s changed after the plan was made: run plan again.", plan.SourceDir.ValueString()))
		case errors.As(err, &ue):
			diags.AddAttributeError(path.Root("source_dir"), "Unreadable Static File", err.Error())
		case err != nil:
			diags.AddAttributeError(path.Root("source_dir"), "Unusable Static Files", err.Error())
		}
		if err != nil {
			return d, secrets, diags
		}
		d.Static = static
	}
	return d, secrets, diags
}

func (r *webServerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, req.Config, &resp.State, &resp.Diagnostics, true)
}

func (r *webServerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, req.Config, &resp.State, &resp.Diagnostics, false)
}

// apply deploys the plan (Create when create is set, Update otherwise).
func (r *webServerResource) apply(ctx context.Context, planIn tfsdk.Plan, configIn tfsdk.Config, stateOut *tfsdk.State, diags *diag.Diagnostics, create bool) {
	var plan, config webServerModel
	diags.Append(planIn.Get(ctx, &plan)...)
	diags.Append(configIn.Get(ctx, &config)...)
	if diags.HasError() {
		return
	}
	cl, d := r.data.client(ctx, plan.SSH)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	model, err := plan.encodeRecord(ctx)
	if err != nil {
		diags.AddError("Encode Deployment Record Error", err.Error())
		return
	}
	dep, secrets, d := r.deployment(ctx, &plan, &config, cl.Addr(), model)
	secrets = append(secrets, r.data.connSecrets(plan.SSH)...)
	ctx = maskSecrets(ctx, secrets)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	tflog.Debug(ctx, "deploying web server", map[string]any{"host": cl.Addr(), "name": dep.Site.Name,
		"static_files": len(dep.Static), "artifact_bytes": len(dep.Artifact)})
	res, err := nginx.Deploy(ctx, cl, dep)
	for _, w := range res.Warnings {
		diags.AddWarning("Web Server Warning", w)
	}
	if res.Synced {
		tflog.Info(ctx, "static files synced", map[string]any{"root": dep.Site.DocumentRoot,
			"files_sent": res.Sync.FilesSent, "bytes_sent": res.Sync.BytesSent, "files_unchanged": res.Sync.FilesUnchanged,
			"files_removed": res.Sync.FilesRemoved, "dirs_removed": res.Sync.DirsRemoved})
	}
	if err != nil {
		errorContext{host: cl.Addr(), secrets: secrets}.addError(diags, "Deploy Web Server Error", err)
		if create && res.Recorded {
			keepTainted(planIn, stateOut, diags, "foobar_web_server",
				"the site's deployment record and the directories it created")
		}
		return
	}
	tflog.Info(ctx, "web server deployed", map[string]any{"host": cl.Addr(), "nginx_installed": res.NginxInstalled,
		"app_changed": res.AppChanged, "app_restarted": res.AppRestarted, "site_changed": res.SiteChanged, "site_reloaded": res.SiteReloaded})

	obs, err := nginx.Inspect(ctx, cl, nginx.InspectRequest{Name: dep.Site.Name, ArtifactPath: dep.App.ArtifactPath, DocumentRoot: dep.Site.DocumentRoot})
	if err != nil {
		diags.AddError("Read Web Server Error", fmt.Sprintf("The deployment on %s succeeded, but reading it back failed: %s", cl.Addr(), err))
		return
	}
	conf, err := dep.Site.RenderConfigOnly(nginx.Options{NginxVersion: res.NginxVersion})
	if err != nil {
		diags.AddError("Render Site Error", err.Error())
		return
	}
	plan.SiteConfig = types.StringValue(string(conf))
	plan.SiteChecksum = types.StringValue(apply.Checksum(conf))
	plan.ArtifactChecksum = types.StringValue(apply.Checksum(dep.Artifact))
	plan.NginxVersion = types.StringValue(res.NginxVersion)
	plan.InitSystem = types.StringValue(string(res.Init))
	if !obs.App.Active() {
		diags.AddError("Application Not Running", fmt.Sprintf("%s on %s passed its health check but is now %s.", nginx.ServiceName(dep.App.Name), cl.Addr(), obs.App.ActiveState))
		return
	}
	plan.AppState = types.StringValue("active")
	// Values the plan already knew stay as planned (Terraform requires it);
	// the next refresh reads them again.
	if plan.AppPID.IsUnknown() {
		plan.AppPID = types.Int64Value(int64(obs.App.MainPID))
	}
	plan.Drift = types.ListValueMust(types.StringType, []attr.Value{})
	if plan.LastSync.IsUnknown() {
		plan.LastSync = types.ObjectNull(lastSyncAttrTypes)
		if res.Synced {
			plan.LastSync = syncObject(res.Sync)
		}
	}
	diags.Append(stateOut.Set(ctx, &plan)...)
}

func (r *webServerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st webServerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, st.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	imported := st.App == nil
	ireq := nginx.InspectRequest{Name: st.Name.ValueString(), Manifest: imported || !st.SourceDir.IsNull()}
	if !imported {
		ireq.ArtifactPath = st.App.ArtifactPath.ValueString()
		ireq.DocumentRoot = st.DocumentRoot.ValueString()
	}
	obs, err := nginx.Inspect(ctx, cl, ireq)
	if err != nil {
		resp.Diagnostics.AddError("Read Web Server Error", fmt.Sprintf("Could not read %s on %s: %s", ireq.Name, cl.Addr(), err))
		return
	}
	if obs.Gone() {
		if imported {
			resp.Diagnostics.AddError("Import Web Server Error", fmt.Sprintf("There is no foobar_web_server named %q on %s.", ireq.Name, cl.Addr()))
			return
		}
		tflog.Info(ctx, "web server gone from the host; removing it from the state", map[string]any{"host": cl.Addr(), "name": ireq.Name})
		resp.State.RemoveResource(ctx)
		return
	}
	if imported {
		if obs.Meta == nil {
			resp.Diagnostics.AddError("Import Web Server Error", fmt.Sprintf(
				"%s on %s has no deployment record (%s), so its configuration cannot be adopted: import works for "+
					"deployments made by this provider. Remove the site and the service by hand and let apply create them.",
				ireq.Name, cl.Addr(), nginx.MetaPath("", ireq.Name)))
			return
		}
		m, err := decodeRecord(obs.Meta.Model)
		if err != nil {
			resp.Diagnostics.AddError("Import Web Server Error", fmt.Sprintf("The deployment record of %s on %s is unusable: %s", ireq.Name, cl.Addr(), err))
			return
		}
		m.SSH, m.ID, m.Name = st.SSH, st.ID, st.Name
		st = m
	}
	st.observe(ctx, obs)
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
}

func (r *webServerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var st webServerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, st.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	rm := nginx.Removal{Name: st.Name.ValueString(), Host: cl.Addr(), DocumentRoot: st.DocumentRoot.ValueString()}
	if st.App != nil {
		rm.ArtifactPath, rm.WorkingDir = st.App.ArtifactPath.ValueString(), st.App.WorkingDir.ValueString()
	}
	res, err := nginx.Remove(ctx, cl, rm)
	for _, w := range res.Warnings {
		resp.Diagnostics.AddWarning("Web Server Warning", w)
	}
	if err != nil {
		errorContext{host: cl.Addr(), secrets: r.data.connSecrets(st.SSH)}.addError(&resp.Diagnostics, "Remove Web Server Error", err)
		return
	}
	tflog.Info(ctx, "web server removed", map[string]any{"host": cl.Addr(), "name": rm.Name,
		"document_root_kept": res.DocumentRootKept, "working_dir_kept": res.WorkingDirKept, "default_site_restored": res.DefaultSiteRestored})
}

// ImportState takes [USER@]HOST[:PORT]/NAME (import_id.go). The host is
// reached with the provider's SSH settings and any user and port the ID
// names; the configuration is read back from the deployment record the
// provider keeps on the host (secrets excepted). The form of earlier
// versions, NAME@HOST, is still accepted, with a warning.
func (r *webServerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	members, name, ok := strings.Cut(req.ID, "/")
	if !ok {
		if legacyName, host, isLegacy := strings.Cut(req.ID, "@"); isLegacy && nginx.ValidateSiteName(legacyName) == nil && validators.CheckHost(host) == nil {
			resp.Diagnostics.AddWarning("Deprecated Import ID", fmt.Sprintf(
				"%q is the import ID form of earlier versions (NAME@HOST); write %q: \"@\" now always means the SSH user.", req.ID, webServerID(host, legacyName)))
			members, name = host, legacyName
		} else {
			resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf(
				"Import ID %q must be %s/NAME, for example 10.0.0.21/shop or deploy@10.0.0.21:22/shop.", req.ID, importIDGrammar))
			return
		}
	}
	if err := nginx.ValidateSiteName(name); err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import ID %q: the site name: %s", req.ID, err))
		return
	}
	member, err := parseImportMember(members)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import ID %q: %s", req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), webServerID(member.Host, name))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ssh"), member.connection())...)
}
