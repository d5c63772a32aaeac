// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

var (
	_ resource.ResourceWithConfigure        = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithImportState      = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*mysqlClusterResource)(nil)
	_ resource.ResourceWithConfigValidators = (*mysqlClusterResource)(nil)
)

// Defaults and limits of the resource.
const (
	mysqlPort               = 3306
	defaultLagThreshold     = 300
	defaultMySQLWaitTimeout = "5m"
	minMySQLWaitTimeout     = 10 * time.Second
	maxMySQLWaitTimeout     = 6 * time.Hour
)

// NewMySQLClusterResource is the foobar_mysql_cluster resource.
func NewMySQLClusterResource() resource.Resource { return &mysqlClusterResource{} }

type mysqlClusterResource struct{ data *providerData }

type mysqlClusterModel struct {
	ID                           types.String         `tfsdk:"id"`
	Primary                      *mysqlMemberModel    `tfsdk:"primary"`
	Replicas                     []mysqlMemberModel   `tfsdk:"replicas"`
	ReplicationUser              types.String         `tfsdk:"replication_user"`
	ReplicationPassword          types.String         `tfsdk:"replication_password"`
	ReplicationPasswordWO        types.String         `tfsdk:"replication_password_wo"`
	ReplicationPasswordWOVersion types.Int64          `tfsdk:"replication_password_wo_version"`
	ReplicationTLS               *mysqlTLSModel       `tfsdk:"replication_tls"`
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
}

type mysqlMemberModel struct {
	SSH      connectionModel `tfsdk:"ssh"`
	ServerID types.Int64     `tfsdk:"server_id"`
}

type mysqlTLSModel struct {
	CAPEM            types.String `tfsdk:"ca_pem"`
	VerifyServerCert types.Bool   `tfsdk:"verify_server_cert"`
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

func (r *mysqlClusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mysql_cluster"
}

// memberConnectionSchema is the shared ssh block without RequiresReplace on
// the host: a cluster's members change by update (a replica is added or
// removed, the primary role moves by switchover), never by replacing the
// whole cluster.
func memberConnectionSchema() schema.SingleNestedAttribute {
	s := connectionSchema()
	attrs := make(map[string]schema.Attribute, len(s.Attributes))
	for k, v := range s.Attributes {
		attrs[k] = v
	}
	attrs["host"] = schema.StringAttribute{
		MarkdownDescription: descHost + " It is also the address replicas connect to (port 3306) and the member's identity in the cluster.",
		Required:            true,
		Validators:          []validator.String{validators.Host()},
	}
	s.Attributes = attrs
	return s
}

func mysqlMemberSchema() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"ssh": memberConnectionSchema(),
		"server_id": schema.Int64Attribute{
			MarkdownDescription: "The member's `server_id` (1 to 4294967295). Default: derived from `ssh.host` (FNV-1a), stable across applies; two derived ids that collide are a plan-time error asking for an explicit value.",
			Optional:            true,
			Validators:          []validator.Int64{int64validator.Between(1, 4294967295)},
		},
	}
}

func (r *mysqlClusterResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = mysqlClusterSchema()
}

func mysqlClusterSchema() schema.Schema {
	secretNote := " Sent to the server on the client's standard input, never on a command line."
	return schema.Schema{
		MarkdownDescription: "A MySQL or MariaDB primary with GTID replicas, configured over SSH through the local `mysql`/`mariadb` client as the host's admin (socket authentication: no database port needs to be open to the machine running Terraform).\n\n" +
			"Create configures the primary, then each replica: a replica that joins a primary holding data is seeded from it first (a consistent dump streamed primary to replica over the two SSH connections), then replication starts and the apply waits until the replica has caught up. " +
			"Read reports stopped, lagging or misdirected replication, changed settings files, missing accounts or privileges as drift (`converged` and `drift`), which the next apply repairs. " +
			"A second apply of a healthy cluster changes nothing and issues no `CHANGE ... TO`. " +
			"Changing `primary` to a current replica is a planned switchover that loses no committed write. " +
			"Removing a replica detaches it and keeps its data; destroying the resource stops replication and removes the provider's settings and accounts, never databases. " +
			"A member that cannot be reached then is an error and the resource stays in state, unless `forget_unreachable_members` is set.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The members' hosts when the cluster was created (primary first, comma-separated); also the import ID format.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"primary": schema.SingleNestedAttribute{
				MarkdownDescription: "The member that takes writes. Changing it to one of the current `replicas` is a planned switchover: the old primary becomes read-only, the new one applies every transaction, is promoted, and every other member (the old primary included, if it stays listed as a replica) replicates from it. A host that is not a member yet cannot become the primary directly: add it as a replica first.",
				Required:            true,
				Attributes:          mysqlMemberSchema(),
			},
			"replicas": schema.ListNestedAttribute{
				MarkdownDescription: "The read-only members replicating from the primary with GTIDs. A replica added later is seeded from the primary when it holds no user tables; one that does is refused (the provider never drops data). A replica removed from the list is detached (replication stopped, the provider's settings and accounts removed) and keeps its data.",
				Optional:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: mysqlMemberSchema()},
			},
			"replication_user": schema.StringAttribute{
				MarkdownDescription: "The account replicas connect as (host `%`). It is granted `REPLICATION SLAVE` and nothing else.",
				Required:            true,
			},
			"replication_password": schema.StringAttribute{
				MarkdownDescription: "The replication account's password, stored in state (sensitive). Prefer `replication_password_wo` with Terraform 1.11 or later. Exactly one of the two is required. At most 32 characters on MySQL (96 on MariaDB)." + secretNote,
				Optional:            true,
				Sensitive:           true,
			},
			"replication_password_wo": schema.StringAttribute{
				MarkdownDescription: "The replication account's password as a write-only argument (Terraform 1.11+): never stored in state or plan. It is sent to the hosts only when `replication_password_wo_version` changes (or on create)." + secretNote,
				Optional:            true,
				Sensitive:           true,
				WriteOnly:           true,
			},
			"replication_password_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Change this number to send a new `replication_password_wo` to the hosts.",
				Optional:            true,
			},
			"replication_tls": schema.SingleNestedAttribute{
				MarkdownDescription: "Replicate over TLS. The primary must serve a certificate (MySQL does by default; MariaDB needs `ssl_cert` and `ssl_key` in `settings`).",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"ca_pem": schema.StringAttribute{
						MarkdownDescription: "PEM CA bundle the primary's certificate must chain to. Written to `" + mysql.ReplicationCAFile + "` on each replica.",
						Required:            true,
					},
					"verify_server_cert": schema.BoolAttribute{
						MarkdownDescription: "Also check that the certificate names the primary's host. Default `true`. With `false`, MySQL still checks the chain to `ca_pem`; MariaDB checks nothing (the channel is encrypted but the primary is not authenticated).",
						Optional:            true,
						Computed:            true,
						Default:             booldefault.StaticBool(true),
					},
				},
			},
			"databases": schema.ListNestedAttribute{
				MarkdownDescription: "Databases created on the primary (and so on every replica). An existing database is left as it is; a database removed from the list is not dropped.",
				Optional:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{MarkdownDescription: "Database name: letters, digits, `_`, `$` and `-` (not first), at most 64 characters.", Required: true},
					"charset": schema.StringAttribute{
						MarkdownDescription: "Character set. Default `utf8mb4`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString("utf8mb4"),
					},
					"collation": schema.StringAttribute{MarkdownDescription: "Collation of `charset`. Default: the server's default for it.", Optional: true},
				}},
			},
			"users": schema.ListNestedAttribute{
				MarkdownDescription: "Application accounts created on the primary (and so on every replica), each with privileges on one database. Privileges not listed are revoked; an account removed from the list is dropped.",
				Optional:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{MarkdownDescription: "User name: letters, digits, `_`, `.` and `-`; at most 32 characters on MySQL, 80 on MariaDB.", Required: true},
					"host": schema.StringAttribute{
						MarkdownDescription: "Host pattern the account may connect from: `%`, an address, `10.0.0.%`, `10.0.0.0/255.255.255.0` or a host name. Default `%`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString("%"),
					},
					"password": schema.StringAttribute{
						MarkdownDescription: "The account's password, stored in state (sensitive). Exactly one of `password` and `password_wo` is required." + secretNote,
						Optional:            true, Sensitive: true,
						Validators: []validator.String{stringvalidator.ExactlyOneOf(path.MatchRelative().AtParent().AtName("password_wo"))},
					},
					"password_wo": schema.StringAttribute{
						MarkdownDescription: "The account's password as a write-only argument (Terraform 1.11+), sent when `password_wo_version` changes." + secretNote,
						Optional:            true, Sensitive: true, WriteOnly: true,
					},
					"password_wo_version": schema.Int64Attribute{
						MarkdownDescription: "Change this number to send a new `password_wo`.",
						Optional:            true,
					},
					"database": schema.StringAttribute{MarkdownDescription: "The database the privileges apply to (`database.*`).", Required: true},
					"privileges": schema.SetAttribute{
						MarkdownDescription: "Database privileges, for example `[\"SELECT\", \"INSERT\", \"UPDATE\", \"DELETE\"]`, or `[\"ALL PRIVILEGES\"]`. `GRANT OPTION` is never granted.",
						Required:            true, ElementType: types.StringType,
						Validators: []validator.Set{setvalidator.SizeAtLeast(1)},
					},
				}},
			},
			"settings": schema.MapAttribute{
				MarkdownDescription: "Extra server settings written to the provider's option file on every member (`/etc/mysql/mariadb.conf.d/60-foobar.cnf` or `/etc/mysql/mysql.conf.d/zz-foobar.cnf`), for example `{ max_connections = \"500\" }`. The file is checked by the server before it is used (`mysqld --validate-config`; MariaDB: `mariadbd --help`). A setting that can change at run time is set with `SET GLOBAL`; one that cannot restarts the servers, replicas first, one at a time, then the primary. Settings the resource owns (`server_id`, `read_only`, `log_bin`, GTID and relay log settings, ...) are refused.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"lag_threshold_seconds": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("A replica more than this many seconds behind the primary is reported as drift. Default %d.", defaultLagThreshold),
				Optional:            true, Computed: true, Default: int64default.StaticInt64(defaultLagThreshold),
				Validators: []validator.Int64{int64validator.Between(1, 86400)},
			},
			"install": schema.BoolAttribute{
				MarkdownDescription: "Install the server package (`mariadb-server` or `mysql-server`, the flavor of the other members or `flavor`) with apt where it is missing. Default `true`.",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"forget_unreachable_members": schema.BoolAttribute{
				MarkdownDescription: "What destroy, or removing a member from `replicas`, does with a member it cannot reach over SSH. " +
					"`false` (default): an error naming the host, the connection error and what stays on it, raised before replication, accounts or settings change on any member; the resource (and the member) stay in state, so you can bring the host back and run it again. " +
					"`true`: the member is dropped with a warning, and keeps its replication settings, the provider's accounts, read-only and the provider's settings files (remove them by hand if the host comes back). " +
					"Set it to `true` and apply (a change of this attribute alone contacts no host), then destroy or remove the replica.",
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			},
			"wait_timeout": schema.StringAttribute{
				MarkdownDescription: "How long an apply waits for a replica to run and catch up, and for a restarted server to answer, as a duration. Default `" + defaultMySQLWaitTimeout + "`. A timeout error carries the replica's `Last_IO_Error` and `Last_SQL_Error`.",
				Optional:            true, Computed: true, Default: stringdefault.StaticString(defaultMySQLWaitTimeout),
				Validators: []validator.String{validators.Duration(minMySQLWaitTimeout, maxMySQLWaitTimeout)},
			},
			"flavor": schema.StringAttribute{
				MarkdownDescription: "`mariadb` or `mysql`. Default: what the members run (they must all run the same); it decides which package is installed on a host that has none (MariaDB when no member has a server).",
				Optional:            true, Computed: true,
				Validators:    []validator.String{stringvalidator.OneOf("mariadb", "mysql")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"writer_endpoint": schema.StringAttribute{
				MarkdownDescription: "`host:3306` of the primary, for the applications' write connection.",
				Computed:            true,
			},
			"reader_endpoints": schema.ListAttribute{
				MarkdownDescription: "`host:3306` of each replica, in `replicas` order, for read connections.",
				Computed:            true, ElementType: types.StringType,
			},
			"servers": schema.MapAttribute{
				MarkdownDescription: "Each member by host: `role` (primary or replica), `flavor` (MariaDB or MySQL), `version` and the running `server_id`.",
				Computed:            true, ElementType: mysqlServerType,
			},
			"replica_status": schema.ListAttribute{
				MarkdownDescription: "Replication health of each replica, in `replicas` order, as of the last refresh: `io_running`, `sql_running`, `seconds_behind` (null when unknown), `last_error` (IO or SQL), `gtid_position` (received: MariaDB `Gtid_IO_Pos`, MySQL `Retrieved_Gtid_Set`) and `source_host`.",
				Computed:            true, ElementType: mysqlReplicaStatusType,
			},
			"converged": schema.BoolAttribute{
				MarkdownDescription: "`true` when the last refresh found the cluster as configured. It turns `false` in state when Read finds drift (see `drift`); the configuration always wants `true`, so the plan shows the repair as an update.",
				Computed:            true, Default: booldefault.StaticBool(true),
			},
			"drift": schema.ListAttribute{
				MarkdownDescription: "What the last refresh found different from the configuration, one line per problem (a stopped replication thread, a replica lagging beyond `lag_threshold_seconds` or replicating from another source, a changed settings file, a missing account or privilege). Empty when converged; the next apply repairs each.",
				Computed:            true, ElementType: types.StringType,
				Default: listdefault.StaticValue(types.ListValueMust(types.StringType, []attr.Value{})),
			},
		},
	}
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

// ---------------------------------------------------------------- convert

func mysqlFlavor(v types.String) mysql.Flavor {
	switch stringOr(v, "") {
	case "mariadb":
		return mysql.MariaDB
	case "mysql":
		return mysql.MySQL
	}
	return mysql.FlavorUnknown
}

func member(m mysqlMemberModel) mysql.Member {
	mm := mysql.Member{Host: stringOr(m.SSH.Host, "")}
	if !m.ServerID.IsNull() && !m.ServerID.IsUnknown() {
		mm.ServerID = m.ServerID.ValueInt64()
	}
	return mm
}

// toCluster converts a model into the service model. cfg, when not nil,
// supplies the write-only passwords (only the configuration has them).
// Unknown values become empty (Validate skips them).
func toCluster(ctx context.Context, m mysqlClusterModel, cfg *mysqlClusterModel) (mysql.Cluster, diag.Diagnostics) {
	var diags diag.Diagnostics
	c := mysql.Cluster{
		Flavor:          mysqlFlavor(m.Flavor),
		ReplicationUser: stringOr(m.ReplicationUser, ""),
		Settings:        map[string]string{},
	}
	if m.Primary != nil {
		c.Primary = member(*m.Primary)
	}
	for _, r := range m.Replicas {
		c.Replicas = append(c.Replicas, member(r))
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
	for _, db := range m.Databases {
		c.Databases = append(c.Databases, mysql.Database{
			Name: stringOr(db.Name, ""), Charset: stringOr(db.Charset, ""), Collation: stringOr(db.Collation, ""),
		})
	}
	for i, u := range m.Users {
		mu := mysql.User{
			Name: stringOr(u.Name, ""), Host: stringOr(u.Host, ""), Password: stringOr(u.Password, ""),
			Database: stringOr(u.Database, ""),
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
	return c, diags
}

// ----------------------------------------------------------- validation

func (r *mysqlClusterResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m mysqlClusterModel
	if diags := req.Config.Get(ctx, &m); diags.HasError() {
		return // unknown collections: checked again at apply
	}
	c, diags := toCluster(ctx, m, &m)
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
		if err := checkCAPEM(m.ReplicationTLS.CAPEM.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("replication_tls").AtName("ca_pem"), "Invalid CA Bundle", "replication_tls.ca_pem "+err.Error())
		}
	}
}

// checkCAPEM accepts one or more PEM certificates and nothing else.
func checkCAPEM(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a %q block; only CERTIFICATE blocks belong in a CA bundle", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d does not parse: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("holds no PEM certificate")
	}
	// MySQL writes its auto-generated ca.pem with a trailing NUL: accept
	// that, and blank space, after the last certificate.
	if strings.Trim(string(rest), " \t\r\n\x00") != "" {
		return fmt.Errorf("has text after the last certificate")
	}
	return nil
}

func endpoint(host string) string { return net.JoinHostPort(host, strconv.Itoa(mysqlPort)) }

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
	if d := req.State.Get(ctx, &state); !d.HasError() && onlyForgetChanged(plan, state) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("servers"), state.Servers)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("replica_status"), state.ReplicaStatus)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("flavor"), state.Flavor)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("converged"), state.Converged)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("drift"), state.Drift)...)
	}
}

// ------------------------------------------------------------------ CRUD

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

// env connects to the members (and to the members of prior that left) and
// returns the runners by host.
func (r *mysqlClusterResource) env(ctx context.Context, members []mysqlMemberModel, optional []mysqlMemberModel, diags *diag.Diagnostics) mysql.Env {
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

// unreachableRunner stands for a member the provider could not connect
// to: every command fails with the connection error, so that whatever
// needs the member says why it cannot be reached.
type unreachableRunner struct{ err error }

func (u unreachableRunner) Run(context.Context, remote.Cmd) (remote.Result, error) {
	return remote.Result{}, u.err
}

func allMembers(m mysqlClusterModel) []mysqlMemberModel {
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

func waitTimeout(m mysqlClusterModel) time.Duration {
	d, err := time.ParseDuration(stringOr(m.WaitTimeout, ""))
	if err != nil || d <= 0 {
		d, _ = time.ParseDuration(defaultMySQLWaitTimeout)
	}
	return d
}

// setStatus fills the computed attributes from a status.
func setStatus(ctx context.Context, m *mysqlClusterModel, st mysql.Status, diags *diag.Diagnostics) {
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

func (r *mysqlClusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg mysqlClusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := toCluster(ctx, plan, &cfg)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sec := secrets(c)
	ctx = maskSecrets(ctx, sec)
	env := r.env(ctx, allMembers(plan), nil, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	st, err := mysql.Converge(ctx, env, c, mysql.ConvergeOptions{
		Install:     plan.Install.IsNull() || plan.Install.ValueBool(),
		Flavor:      mysqlFlavor(plan.Flavor),
		WaitTimeout: waitTimeout(plan),
	})
	ec := errorContext{secrets: sec}
	ec.addWarnings(&resp.Diagnostics, "MySQL Cluster Warning", st.Warnings)
	if err != nil {
		ec.addError(&resp.Diagnostics, "Create MySQL Cluster Error", err)
		return
	}
	plan.ID = types.StringValue(strings.Join(hostsOf(allMembers(plan)), ","))
	r.finish(ctx, &plan, st, sec, "Create", &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// finish records the status after an apply; drift that is left is an
// error (the plan promised a converged cluster) and stays in state.
func (r *mysqlClusterResource) finish(ctx context.Context, m *mysqlClusterModel, st mysql.Status, sec []string, verb string, diags *diag.Diagnostics) {
	setStatus(ctx, m, st, diags)
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
	c, diags := toCluster(ctx, state, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	env := r.env(ctx, nil, allMembers(state), &resp.Diagnostics)
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
	setStatus(ctx, &state, st, &resp.Diagnostics)
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

// passwordChanged reports whether a password must be sent again: the
// sensitive value changed, or the write-only version did, or the mode did.
func passwordChanged(oldPW, newPW types.String, oldVer, newVer types.Int64) bool {
	if !newPW.IsNull() {
		return !oldPW.Equal(newPW)
	}
	return !oldPW.IsNull() || !oldVer.Equal(newVer)
}

func (r *mysqlClusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, cfg, state mysqlClusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := toCluster(ctx, plan, &cfg)
	resp.Diagnostics.Append(diags...)
	old, diags := toCluster(ctx, state, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sec := secrets(c, old)
	ctx = maskSecrets(ctx, sec)
	if onlyForgetChanged(plan, state) {
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
	env := r.env(ctx, allMembers(plan), allMembers(state), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	st, err := mysql.Converge(ctx, env, c, mysql.ConvergeOptions{
		Install:                    plan.Install.IsNull() || plan.Install.ValueBool(),
		Flavor:                     mysqlFlavor(plan.Flavor),
		WaitTimeout:                waitTimeout(plan),
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
	r.finish(ctx, &plan, st, sec, "Update", &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *mysqlClusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state mysqlClusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := toCluster(ctx, state, nil)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sec := secrets(c)
	ctx = maskSecrets(ctx, sec)
	accounts := []mysql.Account{}
	if c.ReplicationUser != "" {
		accounts = append(accounts, c.ReplicationAccount())
	}
	for _, u := range c.Users {
		accounts = append(accounts, u.Account())
	}
	env := r.env(ctx, nil, allMembers(state), &resp.Diagnostics)
	warnings, err := mysql.Teardown(ctx, env, c, mysql.TeardownOptions{Accounts: accounts, Timeout: waitTimeout(state),
		ForgetUnreachable: state.ForgetUnreachableMembers.ValueBool()})
	ec := errorContext{secrets: sec}
	ec.addWarnings(&resp.Diagnostics, "MySQL Cluster Warning", warnings)
	ec.addError(&resp.Diagnostics, "Delete MySQL Cluster Error", err)
}

// onlyForgetChanged reports whether the plan differs from the state only
// in forget_unreachable_members and the status attributes (unknown, or
// converged and drift, which a refresh that cannot reach a member sets:
// the state keeps them, so the next plan still shows the repair).
func onlyForgetChanged(plan, state mysqlClusterModel) bool {
	if plan.ForgetUnreachableMembers.Equal(state.ForgetUnreachableMembers) {
		return false
	}
	p := plan
	p.ForgetUnreachableMembers = state.ForgetUnreachableMembers
	p.Servers, p.ReplicaStatus = state.Servers, state.ReplicaStatus
	p.Converged, p.Drift = state.Converged, state.Drift
	if p.Flavor.IsUnknown() {
		p.Flavor = state.Flavor
	}
	return reflect.DeepEqual(p, state)
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
