// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// foobar_mysql_cluster: a MySQL or MariaDB primary and its replicas. This
// file is the Terraform glue; the host work is internal/mysql's (Converge,
// Observe, Teardown), through runners the provider connects (connect). The
// schema is in resource_mysql_cluster_schema.go, the model and its
// conversion (toCluster, toMember, setStatus) in _model.go.
//
//   - Plan: attribute validators and ValidateConfig (mysql.Cluster.Validate
//     and the password rules) refuse every bad value with its path;
//     ModifyPlan plans the status attributes. Nothing touches a host.
//   - Apply: mysql.Converge installs when allowed, writes settings, accounts
//     and databases, points the replicas at the primary (seeding new ones),
//     switches the primary over when it changed, and waits until the
//     replicas have caught up. Its *fault.StepError becomes a diagnostic
//     (errorContext.addError).
//   - Read: mysql.Observe reads every member in one round trip each (the
//     servers the state saw tell it which queries to send) and
//     returns the drift (converged, drift).
//   - Delete: mysql.Teardown stops replication and removes the provider's
//     accounts and settings; databases are never dropped. An unreachable
//     member is an error unless forget_unreachable_members is set.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/pemcheck"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

var (
	_ resource.ResourceWithConfigure        = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithImportState      = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithConfigValidators = (*mysqlClusterResource)(nil)
)

// NewMySQLClusterResource is the foobar_mysql_cluster resource.
func NewMySQLClusterResource() resource.Resource { return &mysqlClusterResource{} }

type mysqlClusterResource struct{ data *providerData }

func (r *mysqlClusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mysql_cluster"
}

func (r *mysqlClusterResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = mysqlClusterSchema()
}

func (r *mysqlClusterResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("replication_password"), path.MatchRoot("replication_password_wo")),
		resourcevalidator.RequiredTogether(path.MatchRoot("replication_password_wo"), path.MatchRoot("replication_password_wo_version")),
	}
}

func (r *mysqlClusterResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *mysqlClusterResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m mysqlClusterModel
	if diags := req.Config.Get(ctx, &m); diags.HasError() {
		return // unknown collections: checked again at apply
	}
	c, diags := m.toCluster(ctx, &m)
	if diags.HasError() {
		return
	}
	if err := c.Validate(); err != nil {
		errorContext{}.addError(&resp.Diagnostics, "Invalid MySQL Cluster Configuration", err)
	}
	for _, pw := range []struct {
		v types.String
		p string
	}{{m.ReplicationPassword, "replication_password"}, {m.ReplicationPasswordWO, "replication_password_wo"}} {
		if !pw.v.IsNull() && !pw.v.IsUnknown() {
			if err := mysql.ValidateSourcePassword(pw.p, pw.v.ValueString(), c.Flavor); err != nil {
				errorContext{}.addError(&resp.Diagnostics, "Invalid Replication Password", err)
			}
		}
	}
	for i, u := range m.Users {
		for _, pw := range []struct {
			v types.String
			n string
		}{{u.Password, "password"}, {u.PasswordWO, "password_wo"}} {
			if !pw.v.IsNull() && !pw.v.IsUnknown() {
				if err := mysql.ValidatePassword(fmt.Sprintf("users[%d].%s", i, pw.n), pw.v.ValueString()); err != nil {
					errorContext{}.addError(&resp.Diagnostics, "Invalid Password", err)
				}
			}
		}
		if !u.PasswordWO.IsNull() && u.PasswordWOVersion.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("users").AtListIndex(i).AtName("password_wo_version"), "Missing Password Version",
				fmt.Sprintf("users[%d].", i)+"password_wo needs password_wo_version: the provider sends a write-only password to the hosts only when its version changes.")
		}
	}
	if m.ReplicationTLS != nil && !m.ReplicationTLS.CAPEM.IsNull() && !m.ReplicationTLS.CAPEM.IsUnknown() {
		if err := pemcheck.Certificates(m.ReplicationTLS.CAPEM.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("replication_tls").AtName("ca_pem"), "Invalid CA Bundle", "replication_tls.ca_pem "+err.Error())
		}
	}
	if st := m.ServerTLS; st != nil && !st.CertPEM.IsNull() && !st.CertPEM.IsUnknown() && !st.KeyPEM.IsNull() && !st.KeyPEM.IsUnknown() {
		if attr, err := mysql.ValidateServerTLS(st.CertPEM.ValueString(), st.KeyPEM.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("server_tls").AtName(attr), "Invalid Server Certificate", "server_tls."+attr+" "+err.Error())
		}
	}
}

func (r *mysqlClusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan mysqlClusterModel
	if diags := req.Plan.Get(ctx, &plan); diags.HasError() {
		return
	}
	// Endpoints are known from the configuration.
	if plan.Primary != nil && !plan.Primary.SSH.Host.IsUnknown() {
		plan.WriterEndpoint = types.StringValue(endpoint(plan.Primary.SSH.Host.ValueString()))
	} else {
		plan.WriterEndpoint = types.StringUnknown()
	}
	readers := []attr.Value{}
	for _, rep := range plan.Replicas {
		if rep.SSH.Host.IsUnknown() {
			readers = nil
			break
		}
		readers = append(readers, types.StringValue(endpoint(rep.SSH.Host.ValueString())))
	}
	if readers == nil {
		plan.ReaderEndpoints = types.ListUnknown(types.StringType)
	} else {
		plan.ReaderEndpoints = types.ListValueMust(types.StringType, readers)
	}

	if !req.State.Raw.IsNull() {
		var state mysqlClusterModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if state.Primary != nil && plan.Primary != nil && !plan.Primary.SSH.Host.IsUnknown() {
			oldP, newP := state.Primary.SSH.Host.ValueString(), plan.Primary.SSH.Host.ValueString()
			if !strings.EqualFold(oldP, newP) && !slices.ContainsFunc(state.Replicas, func(m mysqlMemberModel) bool {
				return strings.EqualFold(m.SSH.Host.ValueString(), newP)
			}) {
				resp.Diagnostics.AddAttributeError(path.Root("primary").AtName("ssh").AtName("host"), "Invalid Primary Change",
					fmt.Sprintf("%s is not a replica of this cluster, so it cannot become the primary: a switchover promotes a replica that has every transaction of %s. "+
						"Add %s to replicas and apply first (it is seeded from %s), then make it the primary.", newP, oldP, newP, oldP))
				return
			}
			if ff := plan.FailoverFrom; !ff.IsNull() && !ff.IsUnknown() && !strings.EqualFold(oldP, newP) && !strings.EqualFold(ff.ValueString(), oldP) {
				resp.Diagnostics.AddAttributeError(path.Root("failover_from"), "Invalid Failover",
					fmt.Sprintf("failover_from is %q, but the current primary is %s: failover_from must name the primary that is being replaced (%q), "+
						"so that a failover is allowed only from the host you know is lost.", ff.ValueString(), oldP, oldP))
				return
			}
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	if resp.Diagnostics.HasError() || req.State.Raw.IsNull() {
		return
	}
	// Status attributes change with every apply: unknown when one is
	// planned.
	if !resp.Plan.Raw.Equal(req.State.Raw) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("servers"), types.MapUnknown(mysqlServerType))...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("replica_status"), types.ListUnknown(mysqlReplicaStatusType))...)
		if plan.Flavor.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("flavor"), types.StringUnknown())...)
		}
	}
	// A change of forget_unreachable_members alone contacts no host
	// (Update writes it to state only): the status stays as the last
	// refresh found it, and the plan after it still shows the repair.
	var state mysqlClusterModel
	if d := req.State.Get(ctx, &state); !d.HasError() && plan.onlyForgetChanged(state) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("servers"), state.Servers)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("replica_status"), state.ReplicaStatus)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("flavor"), state.Flavor)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("converged"), state.Converged)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("drift"), state.Drift)...)
	}
}

// connect connects to the members (and to the members of prior that left) and
// returns the runners by host.
func (r *mysqlClusterResource) connect(ctx context.Context, members []mysqlMemberModel, optional []mysqlMemberModel, diags *diag.Diagnostics) mysql.Env {
	// The orchestration logs from several goroutines; tflog's masking is
	// not safe for concurrent use of one context, so calls are serialised.
	var logMu sync.Mutex
	env := mysql.Env{
		Runners: map[string]mysql.Runner{},
		Log: func(msg string, fields map[string]any) {
			logMu.Lock()
			defer logMu.Unlock()
			tflog.Info(ctx, msg, fields)
		},
	}
	for _, m := range members {
		h := m.SSH.Host.ValueString()
		if _, ok := env.Runners[h]; ok {
			continue
		}
		cl, d := r.data.client(ctx, m.SSH)
		diags.Append(d...)
		if cl != nil {
			env.Runners[h] = cl
		}
	}
	for _, m := range optional {
		h := m.SSH.Host.ValueString()
		if _, ok := env.Runners[h]; ok {
			continue
		}
		if cl, d := r.data.client(ctx, m.SSH); !d.HasError() {
			env.Runners[h] = cl
		} else {
			tflog.Warn(ctx, "cannot connect to a former member", map[string]any{"host": h})
			env.Runners[h] = unreachableRunner{errors.New(d.Errors()[0].Detail())}
		}
	}
	return env
}

// hostList is hosts as a list attribute (empty, not null).
func hostList(hosts []string) types.List {
	vs := make([]attr.Value, len(hosts))
	for i, h := range hosts {
		vs[i] = types.StringValue(h)
	}
	return types.ListValueMust(types.StringType, vs)
}

// connections are the members' ssh blocks.
func connections(members []mysqlMemberModel) []connectionModel {
	out := make([]connectionModel, len(members))
	for i, m := range members {
		out[i] = m.SSH
	}
	return out
}

// unreachableRunner stands for a member the provider could not connect
// to: every command fails with the connection error, so that whatever
// needs the member says why it cannot be reached.
type unreachableRunner struct{ err error }

func (u unreachableRunner) Run(context.Context, remote.Cmd) (remote.Result, error) {
	return remote.Result{}, u.err
}

func (r *mysqlClusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg mysqlClusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := plan.toCluster(ctx, &cfg)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sec := append(secrets(c), r.data.connSecrets(connections(plan.members())...)...)
	ctx = maskSecrets(ctx, sec)
	env := r.connect(ctx, plan.members(), nil, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	st, err := mysql.Converge(ctx, env, c, mysql.ConvergeOptions{
		Install:     plan.Install.IsNull() || plan.Install.ValueBool(),
		Flavor:      mysqlFlavor(plan.Flavor),
		WaitTimeout: plan.waitTimeout(),
	})
	ec := errorContext{secrets: sec}
	ec.addWarnings(&resp.Diagnostics, "MySQL Cluster Warning", st.Warnings)
	if err != nil {
		ec.addError(&resp.Diagnostics, "Create MySQL Cluster Error", err)
		return
	}
	plan.ID = types.StringValue(strings.Join(hostsOf(plan.members()), ","))
	plan.FencedMembers = hostList(st.Fenced)
	plan.finish(st, sec, "Create", &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// finish records the status after an apply; drift that is left is an
// error (the plan promised a converged cluster) and stays in state.
func (m *mysqlClusterModel) finish(st mysql.Status, sec []string, verb string, diags *diag.Diagnostics) {
	m.setStatus(st, diags)
	if len(st.Drift) > 0 {
		diags.AddError(verb+" MySQL Cluster Error", "The cluster was configured, but reading it back still finds:\n- "+
			redact(strings.Join(st.Drift, "\n- "), sec)+"\n\nApply again once the cause is fixed.")
	}
	// State says what was found: setStatus wrote converged = false and
	// the drift. The plan promised true and [] (their defaults), and a
	// result that differs from a known planned value is normally "Provider
	// produced inconsistent result after apply"; but Terraform skips that
	// check when the apply also returns an error (the error above), and
	// saves the object as returned. So the state is not written as clean,
	// and the next plan shows converged false -> true and the repair.
}

func (r *mysqlClusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state mysqlClusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.Primary == nil {
		resp.Diagnostics.AddError("Read MySQL Cluster Error", "the state has no primary; this is a bug in the provider")
		return
	}
	c, diags := state.toCluster(ctx, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	env := r.connect(ctx, nil, state.members(), &resp.Diagnostics)
	env.Servers = state.knownServers()
	importing := c.ReplicationUser == ""
	if importing {
		// Imported: take the replication account from the replicas.
		st := mysql.Observe(ctx, env, c)
		for _, ms := range st.Members {
			if ms.Replica != nil && ms.Replica.SourceUser != "" {
				c.ReplicationUser = ms.Replica.SourceUser
				break
			}
		}
		if c.ReplicationUser != "" {
			state.ReplicationUser = types.StringValue(c.ReplicationUser)
		}
	}
	st := mysql.Observe(ctx, env, c)
	if len(st.Drift) > 0 {
		tflog.Info(ctx, "drift found", map[string]any{"drift": strings.Join(st.Drift, "; ")})
	}
	state.setStatus(st, &resp.Diagnostics)
	if state.LagThresholdSeconds.IsNull() {
		state.LagThresholdSeconds = types.Int64Value(defaultLagThreshold)
	}
	if state.Install.IsNull() {
		state.Install = types.BoolValue(true)
	}
	if state.WaitTimeout.IsNull() {
		state.WaitTimeout = types.StringValue(defaultMySQLWaitTimeout)
	}
	if state.ForgetUnreachableMembers.IsNull() {
		state.ForgetUnreachableMembers = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *mysqlClusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, cfg, state mysqlClusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := plan.toCluster(ctx, &cfg)
	resp.Diagnostics.Append(diags...)
	old, diags := state.toCluster(ctx, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sec := append(secrets(c, old), r.data.connSecrets(connections(append(plan.members(), state.members()...))...)...)
	ctx = maskSecrets(ctx, sec)
	if plan.onlyForgetChanged(state) {
		// How failures are treated is not on the hosts: the state takes
		// it, so that forget_unreachable_members = true can be applied
		// while a member is unreachable, before a destroy.
		state.ForgetUnreachableMembers = plan.ForgetUnreachableMembers
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}

	prior := &mysql.Prior{
		Primary:         old.Primary.Host,
		Settings:        old.Settings,
		ReplicationUser: old.ReplicationUser,
	}
	for _, m := range old.Replicas {
		prior.Replicas = append(prior.Replicas, m.Host)
	}
	stateUsers := map[mysql.Account]mysqlUserModel{}
	for i, u := range old.Users {
		prior.Users = append(prior.Users, u.Account())
		stateUsers[u.Account()] = state.Users[i]
	}
	userChanged := make([]bool, len(c.Users))
	for i, u := range c.Users {
		if su, ok := stateUsers[u.Account()]; ok {
			userChanged[i] = passwordChanged(su.Password, plan.Users[i].Password, su.PasswordWOVersion, plan.Users[i].PasswordWOVersion)
		}
	}
	// The primary being replaced and the members a failover fenced may be
	// unreachable: Converge says what that means (a switchover needs the
	// old primary; failover_from allows going on without it).
	fenced := recStrs(ctx, state.FencedMembers, &resp.Diagnostics)
	var required, optional []mysqlMemberModel
	for _, m := range plan.members() {
		h := m.SSH.Host.ValueString()
		if slices.ContainsFunc(fenced, func(f string) bool { return strings.EqualFold(f, h) }) ||
			(strings.EqualFold(h, old.Primary.Host) && !strings.EqualFold(h, c.Primary.Host)) {
			optional = append(optional, m)
		} else {
			required = append(required, m)
		}
	}
	env := r.connect(ctx, required, append(optional, state.members()...), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	st, err := mysql.Converge(ctx, env, c, mysql.ConvergeOptions{
		FailoverFrom:               plan.FailoverFrom.ValueString(),
		Fenced:                     fenced,
		Install:                    plan.Install.IsNull() || plan.Install.ValueBool(),
		Flavor:                     mysqlFlavor(plan.Flavor),
		WaitTimeout:                plan.waitTimeout(),
		ReplicationPasswordChanged: passwordChanged(state.ReplicationPassword, plan.ReplicationPassword, state.ReplicationPasswordWOVersion, plan.ReplicationPasswordWOVersion),
		UserPasswordChanged:        userChanged,
		Prior:                      prior,
		ForgetUnreachable:          plan.ForgetUnreachableMembers.ValueBool(),
	})
	ec := errorContext{secrets: sec}
	ec.addWarnings(&resp.Diagnostics, "MySQL Cluster Warning", st.Warnings)
	if err != nil {
		ec.addError(&resp.Diagnostics, "Update MySQL Cluster Error", err)
		return
	}
	plan.ID = state.ID
	plan.FencedMembers = hostList(st.Fenced)
	plan.finish(st, sec, "Update", &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *mysqlClusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state mysqlClusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := state.toCluster(ctx, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sec := append(secrets(c), r.data.connSecrets(connections(state.members())...)...)
	ctx = maskSecrets(ctx, sec)
	accounts := []mysql.Account{}
	if c.ReplicationUser != "" {
		accounts = append(accounts, c.ReplicationAccount())
	}
	for _, u := range c.Users {
		accounts = append(accounts, u.Account())
	}
	env := r.connect(ctx, nil, state.members(), &resp.Diagnostics)
	warnings, err := mysql.Teardown(ctx, env, c, mysql.TeardownOptions{Accounts: accounts, Timeout: state.waitTimeout(),
		ForgetUnreachable: state.ForgetUnreachableMembers.ValueBool()})
	ec := errorContext{secrets: sec}
	ec.addWarnings(&resp.Diagnostics, "MySQL Cluster Warning", warnings)
	ec.addError(&resp.Diagnostics, "Delete MySQL Cluster Error", err)
}

// ImportState takes the members, primary first, comma-separated, each
// [USER@]HOST[:PORT] (import_id.go): "10.0.0.31,deploy@10.0.0.32". The
// connections use the provider's SSH settings and any user and port the ID
// names;
// Read takes the replication account from the replicas. Passwords,
// databases, users and settings are not read back: set them in the
// configuration (the next plan shows what differs).
func (r *mysqlClusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	members, err := parseImportMembers(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID",
			fmt.Sprintf("The import ID is the members, primary first, comma-separated, each %s (\"10.0.0.31,10.0.0.32\"): %s", importIDGrammar, err))
		return
	}
	hosts := make([]string, len(members))
	for i, m := range members {
		hosts[i] = m.Host
	}
	mk := func(m importMember) mysqlMemberModel {
		return mysqlMemberModel{SSH: m.connection(), ServerID: types.Int64Null()}
	}
	p := mk(members[0])
	var reps []mysqlMemberModel
	for _, m := range members[1:] {
		reps = append(reps, mk(m))
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), strings.Join(hosts, ","))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("primary"), p)...)
	if len(reps) > 0 {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("replicas"), reps)...)
	}
}
