// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/mysql"
)

// Defaults and limits of the resource.
const (
	mysqlPort               = 3306
	defaultLagThreshold     = 300
	defaultMySQLWaitTimeout = "5m"
	minMySQLWaitTimeout     = 10 * time.Second
	maxMySQLWaitTimeout     = 6 * time.Hour
)

type mysqlClusterModel struct {
	ID                           types.String         `tfsdk:"id"`
	Primary                      *mysqlMemberModel    `tfsdk:"primary"`
	Replicas                     []mysqlMemberModel   `tfsdk:"replicas"`
	ReplicationUser              types.String         `tfsdk:"replication_user"`
	ReplicationPassword          types.String         `tfsdk:"replication_password"`
	ReplicationPasswordWO        types.String         `tfsdk:"replication_password_wo"`
	ReplicationPasswordWOVersion types.Int64          `tfsdk:"replication_password_wo_version"`
	ReplicationTLS               *mysqlTLSModel       `tfsdk:"replication_tls"`
	ServerTLS                    *mysqlServerTLSModel `tfsdk:"server_tls"`
	Databases                    []mysqlDatabaseModel `tfsdk:"databases"`
	Users                        []mysqlUserModel     `tfsdk:"users"`
	Settings                     types.Map            `tfsdk:"settings"`
	LagThresholdSeconds          types.Int64          `tfsdk:"lag_threshold_seconds"`
	Install                      types.Bool           `tfsdk:"install"`
	WaitTimeout                  types.String         `tfsdk:"wait_timeout"`
	Flavor                       types.String         `tfsdk:"flavor"`
	WriterEndpoint               types.String         `tfsdk:"writer_endpoint"`
	ReaderEndpoints              types.List           `tfsdk:"reader_endpoints"`
	Servers                      types.Map            `tfsdk:"servers"`
	ReplicaStatus                types.List           `tfsdk:"replica_status"`
	Converged                    types.Bool           `tfsdk:"converged"`
	Drift                        types.List           `tfsdk:"drift"`
	ForgetUnreachableMembers     types.Bool           `tfsdk:"forget_unreachable_members"`
	FailoverFrom                 types.String         `tfsdk:"failover_from"`
	FencedMembers                types.List           `tfsdk:"fenced_members"`
	SemiSync                     *mysqlSemiSyncModel  `tfsdk:"semi_sync"`
}

type mysqlSemiSyncModel struct {
	Timeout types.String `tfsdk:"timeout"`
}

type mysqlMemberModel struct {
	SSH      connectionModel `tfsdk:"ssh"`
	ServerID types.Int64     `tfsdk:"server_id"`
}

type mysqlTLSModel struct {
	CAPEM            types.String `tfsdk:"ca_pem"`
	VerifyServerCert types.Bool   `tfsdk:"verify_server_cert"`
}

type mysqlServerTLSModel struct {
	CertPEM types.String `tfsdk:"cert_pem"`
	KeyPEM  types.String `tfsdk:"key_pem"`
}

type mysqlDatabaseModel struct {
	Name      types.String `tfsdk:"name"`
	Charset   types.String `tfsdk:"charset"`
	Collation types.String `tfsdk:"collation"`
}

type mysqlUserModel struct {
	Name              types.String `tfsdk:"name"`
	Host              types.String `tfsdk:"host"`
	Password          types.String `tfsdk:"password"`
	PasswordWO        types.String `tfsdk:"password_wo"`
	PasswordWOVersion types.Int64  `tfsdk:"password_wo_version"`
	RequireSSL        types.Bool   `tfsdk:"require_ssl"`
	Database          types.String `tfsdk:"database"`
	Privileges        types.Set    `tfsdk:"privileges"`
}

var (
	mysqlServerType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"role": types.StringType, "flavor": types.StringType, "version": types.StringType, "server_id": types.StringType,
	}}
	mysqlReplicaStatusType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"host": types.StringType, "io_running": types.BoolType, "sql_running": types.BoolType,
		"seconds_behind": types.Int64Type, "last_error": types.StringType, "gtid_position": types.StringType,
		"source_host": types.StringType,
	}}
)

func mysqlFlavor(v types.String) mysql.Flavor {
	switch stringOr(v, "") {
	case "mariadb":
		return mysql.MariaDB
	case "mysql":
		return mysql.MySQL
	}
	return mysql.FlavorUnknown
}

func (m mysqlMemberModel) toMember() mysql.Member {
	mm := mysql.Member{Host: stringOr(m.SSH.Host, "")}
	if !m.ServerID.IsNull() && !m.ServerID.IsUnknown() {
		mm.ServerID = m.ServerID.ValueInt64()
	}
	return mm
}

// toCluster converts a model into the service model. cfg, when not nil,
// supplies the write-only passwords (only the configuration has them).
// Unknown values become empty (Validate skips them).
func (m mysqlClusterModel) toCluster(ctx context.Context, cfg *mysqlClusterModel) (mysql.Cluster, diag.Diagnostics) {
	var diags diag.Diagnostics
	c := mysql.Cluster{
		Flavor:          mysqlFlavor(m.Flavor),
		ReplicationUser: stringOr(m.ReplicationUser, ""),
		Settings:        map[string]string{},
	}
	if m.Primary != nil {
		c.Primary = m.Primary.toMember()
	}
	for _, r := range m.Replicas {
		c.Replicas = append(c.Replicas, r.toMember())
	}
	c.ReplicationPassword = stringOr(m.ReplicationPassword, "")
	if cfg != nil && c.ReplicationPassword == "" {
		c.ReplicationPassword = stringOr(cfg.ReplicationPasswordWO, "")
	}
	if m.ReplicationTLS != nil {
		c.TLS = &mysql.SourceTLS{
			CAFile:           mysql.ReplicationCAFile,
			CAPEM:            []byte(stringOr(m.ReplicationTLS.CAPEM, "")),
			VerifyServerCert: m.ReplicationTLS.VerifyServerCert.IsNull() || m.ReplicationTLS.VerifyServerCert.ValueBool(),
		}
	}
	if m.ServerTLS != nil {
		c.ServerTLS = &mysql.ServerTLS{CertPEM: []byte(stringOr(m.ServerTLS.CertPEM, "")), KeyPEM: []byte(stringOr(m.ServerTLS.KeyPEM, ""))}
	}
	for _, db := range m.Databases {
		c.Databases = append(c.Databases, mysql.Database{
			Name: stringOr(db.Name, ""), Charset: stringOr(db.Charset, ""), Collation: stringOr(db.Collation, ""),
		})
	}
	for i, u := range m.Users {
		mu := mysql.User{
			Name: stringOr(u.Name, ""), Host: stringOr(u.Host, ""), Password: stringOr(u.Password, ""),
			Database: stringOr(u.Database, ""), RequireSSL: u.RequireSSL.ValueBool(),
		}
		if mu.Password == "" && cfg != nil && i < len(cfg.Users) {
			mu.Password = stringOr(cfg.Users[i].PasswordWO, "")
		}
		if !u.Privileges.IsNull() && !u.Privileges.IsUnknown() {
			diags.Append(u.Privileges.ElementsAs(ctx, &mu.Privileges, false)...)
			slices.Sort(mu.Privileges)
		}
		c.Users = append(c.Users, mu)
	}
	if !m.Settings.IsNull() && !m.Settings.IsUnknown() {
		diags.Append(m.Settings.ElementsAs(ctx, &c.Settings, false)...)
	}
	if !m.LagThresholdSeconds.IsNull() && !m.LagThresholdSeconds.IsUnknown() {
		c.MaxLagSeconds = m.LagThresholdSeconds.ValueInt64()
	}
	if m.SemiSync != nil {
		ss := mysql.SemiSync{Timeout: mysql.DefaultSemiSyncTimeout}
		if v := m.SemiSync.Timeout; !v.IsNull() && !v.IsUnknown() {
			d, err := time.ParseDuration(v.ValueString())
			if err != nil {
				diags.AddAttributeError(path.Root("semi_sync").AtName("timeout"), "Invalid Semi-Synchronous Timeout",
					fmt.Sprintf("semi_sync.timeout = %q is not a duration such as \"10s\" or \"500ms\"", v.ValueString()))
			} else {
				ss.Timeout = d
			}
		}
		c.SemiSync = &ss
	}
	return c, diags
}

func endpoint(host string) string { return net.JoinHostPort(host, strconv.Itoa(mysqlPort)) }

// secrets are the passwords of a model and its configuration, for masking.
func secrets(c mysql.Cluster, extra ...mysql.Cluster) []string {
	var out []string
	for _, cc := range append([]mysql.Cluster{c}, extra...) {
		if cc.ReplicationPassword != "" {
			out = append(out, cc.ReplicationPassword)
		}
		for _, u := range cc.Users {
			if u.Password != "" {
				out = append(out, u.Password)
			}
		}
	}
	return out
}

func (m mysqlClusterModel) members() []mysqlMemberModel {
	var out []mysqlMemberModel
	if m.Primary != nil {
		out = append(out, *m.Primary)
	}
	return append(out, m.Replicas...)
}

func hostsOf(members []mysqlMemberModel) []string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = m.SSH.Host.ValueString()
	}
	return out
}

func (m mysqlClusterModel) waitTimeout() time.Duration {
	d, err := time.ParseDuration(stringOr(m.WaitTimeout, ""))
	if err != nil || d <= 0 {
		d, _ = time.ParseDuration(defaultMySQLWaitTimeout)
	}
	return d
}

// setStatus fills the computed attributes from a status.
// knownServers are the servers the state last saw on the members, by
// host: with them mysql.Observe reads each member in one round trip.
func (m *mysqlClusterModel) knownServers() map[string]mysql.Server {
	out := map[string]mysql.Server{}
	if m.Servers.IsNull() || m.Servers.IsUnknown() {
		return out
	}
	for host, v := range m.Servers.Elements() {
		obj, ok := v.(types.Object)
		if !ok {
			continue
		}
		f, okF := obj.Attributes()["flavor"].(types.String)
		ver, okV := obj.Attributes()["version"].(types.String)
		if !okF || !okV {
			continue
		}
		if s, ok := mysql.KnownServer(f.ValueString(), ver.ValueString()); ok {
			out[host] = s
		}
	}
	return out
}

func (m *mysqlClusterModel) setStatus(st mysql.Status, diags *diag.Diagnostics) {
	if st.Flavor != mysql.FlavorUnknown {
		m.Flavor = types.StringValue(strings.ToLower(st.Flavor.String()))
	} else if m.Flavor.IsUnknown() {
		m.Flavor = types.StringNull()
	}
	if m.Primary != nil {
		m.WriterEndpoint = types.StringValue(endpoint(m.Primary.SSH.Host.ValueString()))
	}
	readers := []attr.Value{}
	for _, rep := range m.Replicas {
		readers = append(readers, types.StringValue(endpoint(rep.SSH.Host.ValueString())))
	}
	m.ReaderEndpoints = types.ListValueMust(types.StringType, readers)

	servers := map[string]attr.Value{}
	statuses := []attr.Value{}
	for _, ms := range st.Members {
		flavor, version := types.StringNull(), types.StringNull()
		if ms.Err == nil {
			flavor, version = types.StringValue(ms.Server.Flavor.String()), types.StringValue(ms.Server.Version.String())
		}
		obj, d := types.ObjectValue(mysqlServerType.AttrTypes, map[string]attr.Value{
			"role": types.StringValue(ms.Role.String()), "flavor": flavor, "version": version,
			"server_id": types.StringValue(ms.ServerID),
		})
		diags.Append(d...)
		servers[ms.Host] = obj
		if ms.Role != mysql.RoleReplica {
			continue
		}
		vals := map[string]attr.Value{
			"host": types.StringValue(ms.Host), "io_running": types.BoolValue(false), "sql_running": types.BoolValue(false),
			"seconds_behind": types.Int64Null(), "last_error": types.StringValue(""), "gtid_position": types.StringValue(""),
			"source_host": types.StringValue(""),
		}
		if rs := ms.Replica; rs != nil {
			vals["io_running"], vals["sql_running"] = types.BoolValue(rs.IORunning), types.BoolValue(rs.SQLRunning)
			if rs.SecondsBehind != nil {
				vals["seconds_behind"] = types.Int64Value(*rs.SecondsBehind)
			}
			lastErr := rs.LastSQLError
			if lastErr == "" {
				lastErr = rs.LastIOError
			}
			vals["last_error"] = types.StringValue(lastErr)
			vals["gtid_position"] = types.StringValue(rs.GTIDPosition)
			vals["source_host"] = types.StringValue(rs.SourceHost)
		} else if ms.Err != nil {
			vals["last_error"] = types.StringValue(ms.Err.Error())
		}
		obj, d = types.ObjectValue(mysqlReplicaStatusType.AttrTypes, vals)
		diags.Append(d...)
		statuses = append(statuses, obj)
	}
	m.Servers = types.MapValueMust(mysqlServerType, servers)
	m.ReplicaStatus = types.ListValueMust(mysqlReplicaStatusType, statuses)
	drift := make([]attr.Value, len(st.Drift))
	for i, d := range st.Drift {
		drift[i] = types.StringValue(d)
	}
	m.Drift = types.ListValueMust(types.StringType, drift)
	m.Converged = types.BoolValue(len(st.Drift) == 0)
}

// passwordChanged reports whether a password must be sent again: the
// sensitive value changed, or the write-only version did, or the mode did.
func passwordChanged(oldPW, newPW types.String, oldVer, newVer types.Int64) bool {
	if !newPW.IsNull() {
		return !oldPW.Equal(newPW)
	}
	return !oldPW.IsNull() || !oldVer.Equal(newVer)
}

// onlyForgetChanged reports whether the plan differs from the state only
// in forget_unreachable_members and the status attributes (unknown, or
// converged and drift, which a refresh that cannot reach a member sets:
// the state keeps them, so the next plan still shows the repair).
func (plan mysqlClusterModel) onlyForgetChanged(state mysqlClusterModel) bool {
	if plan.ForgetUnreachableMembers.Equal(state.ForgetUnreachableMembers) {
		return false
	}
	p := plan
	p.ForgetUnreachableMembers = state.ForgetUnreachableMembers
	p.Servers, p.ReplicaStatus = state.Servers, state.ReplicaStatus
	p.Converged, p.Drift = state.Converged, state.Drift
	p.FencedMembers = state.FencedMembers
	if p.Flavor.IsUnknown() {
		p.Flavor = state.Flavor
	}
	return reflect.DeepEqual(p, state)
}
