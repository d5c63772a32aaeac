// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

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
			MarkdownDescription: "The member's `server_id` (1 to 4294967295). Default: derived from `ssh.host` (FNV-1a), stable across applies; two derived ids that collide are a " +
				"plan-time error asking for an explicit value.",
			Optional:   true,
			Validators: []validator.Int64{int64validator.Between(1, 4294967295)},
		},
	}
}

func mysqlClusterSchema() schema.Schema {
	secretNote := " Sent to the server on the client's standard input, never on a command line."
	return schema.Schema{
		MarkdownDescription: "A MySQL or MariaDB primary with GTID replicas, configured over SSH through the local `mysql`/`mariadb` client as the host's admin (socket " +
			"authentication: no database port needs to be open to the machine running Terraform).\n\n" +
			"Create configures the primary, then each replica: a replica that joins a primary holding data is seeded from it first (a consistent dump streamed primary to replica " +
			"over the two SSH connections), then replication starts and the apply waits until the replica has caught up. " +
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
				MarkdownDescription: "The member that takes writes. Changing it to one of the current `replicas` is a planned switchover: the old primary becomes read-only, the " +
					"new one applies every transaction, is promoted, and every other member (the old primary included, if it stays listed as a replica) replicates from it. A host " +
					"that is not a member yet cannot become the primary directly: add it as a replica first. When the current primary is dead, see `failover_from`.",
				Required:   true,
				Attributes: mysqlMemberSchema(),
			},
			"replicas": schema.ListNestedAttribute{
				MarkdownDescription: "The read-only members replicating from the primary with GTIDs. A replica added later is seeded from the primary when it holds no user tables; " +
					"one that does is refused (the provider never drops data). A replica removed from the list is detached (replication stopped, the provider's settings and " +
					"accounts removed) and keeps its data.",
				Optional:     true,
				NestedObject: schema.NestedAttributeObject{Attributes: mysqlMemberSchema()},
			},
			"replication_user": schema.StringAttribute{
				MarkdownDescription: "The account replicas connect as (host `%`). It is granted `REPLICATION SLAVE` and nothing else.",
				Required:            true,
			},
			"replication_password": schema.StringAttribute{
				MarkdownDescription: "The replication account's password, stored in state (sensitive). Prefer `replication_password_wo` with Terraform 1.11 or later. Exactly one " +
					"of the two is required. At most 32 characters on MySQL (96 on MariaDB)." + secretNote,
				Optional:  true,
				Sensitive: true,
			},
			"replication_password_wo": schema.StringAttribute{
				MarkdownDescription: "The replication account's password as a write-only argument (Terraform 1.11+): never stored in state or plan. It is sent to the hosts only " +
					"when `replication_password_wo_version` changes (or on create)." + secretNote,
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"replication_password_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Change this number to send a new `replication_password_wo` to the hosts.",
				Optional:            true,
			},
			"replication_tls": schema.SingleNestedAttribute{
				MarkdownDescription: "Replicate over TLS. The primary must serve a certificate: `server_tls` (MySQL also serves a self-signed one of its own by default, which " +
					"no replica can verify by name).",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"ca_pem": schema.StringAttribute{
						MarkdownDescription: "PEM CA bundle the primary's certificate must chain to. Written to `" + mysql.ReplicationCAFile + "` on each replica.",
						Required:            true,
					},
					"verify_server_cert": schema.BoolAttribute{
						MarkdownDescription: "Also check that the certificate names the primary's host. Default `true`. With `false`, MySQL still checks the chain to `ca_pem`; " +
							"MariaDB checks nothing (the channel is encrypted but the primary is not authenticated).",
						Optional: true,
						Computed: true,
						Default:  booldefault.StaticBool(true),
					},
				},
			},
			"semi_sync": schema.SingleNestedAttribute{
				MarkdownDescription: "Turn on semi-synchronous replication on every member: the primary answers a commit only once a replica has written the transaction " +
					"to its relay log (wait point `AFTER_SYNC`), so a write acknowledged to a client is on at least one replica and survives the loss of the primary " +
					"when the most advanced replica is promoted (`failover_from` refuses any other). Both sides are on on every member, so a switchover or failover " +
					"changes no setting. MariaDB has it built in; on MySQL the provider loads the `semisync_source` and `semisync_replica` plugins " +
					"at start. Turning it on or off restarts each member once.\n\n" +
					"Writes then wait for a replica's round trip. When no replica is connected, or none acknowledges within `timeout` (every replica down, cut off " +
					"or stalled), the primary falls back to asynchronous replication until one catches up: writes go on, unprotected, and the server's `Rpl_semi_sync_master_status` " +
					"(MySQL: `Rpl_semi_sync_source_status`) shows `OFF`.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"timeout": schema.StringAttribute{
						MarkdownDescription: "How long the primary waits for an acknowledgement before it falls back to asynchronous replication, whole milliseconds " +
							"from `100ms` to `24h`. Default `10s` (the servers' own default).",
						Optional:   true,
						Computed:   true,
						Default:    stringdefault.StaticString("10s"),
						Validators: []validator.String{validators.Duration(mysql.MinSemiSyncTimeout, mysql.MaxSemiSyncTimeout)},
					},
				},
			},
			"server_tls": schema.SingleNestedAttribute{
				MarkdownDescription: "The certificate every member serves to replicas and clients (one certificate for the whole cluster: its subject alternative names must " +
					"name every member's `ssh.host` as replicas and applications reach it, IP addresses as IP SANs). Written to `" + mysql.ServerCertFile + "` (0644) and `" +
					mysql.ServerKeyFile + "` (0640, root:mysql) on every member, with `ssl_cert` and `ssl_key` in the provider's option file (so these two cannot be in `settings`). " +
					"Adding, removing or changing it restarts the servers, replicas first, one at a time (MySQL's `ALTER INSTANCE RELOAD TLS` refuses a certificate " +
					"that does not chain to the server's own `ssl_ca`). To change the CA, first list both CAs in `replication_tls.ca_pem`. " +
					"Use it with `replication_tls` (its `ca_pem` the CA that signed this certificate) and `users[*].require_ssl`.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"cert_pem": schema.StringAttribute{
						MarkdownDescription: "PEM server certificate, optionally followed by its intermediate CA certificates.",
						Required:            true,
					},
					"key_pem": schema.StringAttribute{
						MarkdownDescription: "PEM private key of `cert_pem` (PKCS#1, PKCS#8 or EC), stored in state (sensitive). It reaches the hosts on the file transfer's standard " +
							"input, never on a command line or in a log.",
						Required:  true,
						Sensitive: true,
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
				MarkdownDescription: "Application accounts created on the primary (and so on every replica), each with privileges on one database. Privileges not listed are " +
					"revoked; an account removed from the list is dropped.",
				Optional: true,
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
					"require_ssl": schema.BoolAttribute{
						MarkdownDescription: "Refuse the account's connections that do not use TLS (`REQUIRE SSL`). The client should also verify the server's certificate " +
							"(see `server_tls`): the server cannot check that. Default `false`.",
						Optional: true, Computed: true, Default: booldefault.StaticBool(false),
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
				MarkdownDescription: "Extra server settings written to the provider's option file on every member (`/etc/mysql/mariadb.conf.d/60-foobar.cnf` or " +
					"`/etc/mysql/mysql.conf.d/zz-foobar.cnf`), for example `{ max_connections = \"500\" }`. The file is checked by the server before it is used (`mysqld " +
					"--validate-config`; MariaDB: `mariadbd --help`). A setting that can change at run time is set with `SET GLOBAL`; one that cannot restarts the servers, " +
					"replicas first, one at a time, then the primary. Settings the resource owns (`server_id`, `read_only`, `log_bin`, GTID and relay log settings, ...) are refused.\n\n" +
					"Settings that switch off the server's security are refused at plan time, naming the setting and why: `skip-grant-tables` / `grant-tables` " +
					"(no authentication), `user` (the account the server runs as), `unix-socket` (MariaDB: the plugin the provider logs in with), `init-file`, " +
					"`init-connect`, `init-slave` / `init-replica` (SQL run at start-up, on connect, by replication), `plugin-load`, `plugin-load-add`, " +
					"`early-plugin-load`, `plugin-dir`, `basedir`, `character-sets-dir` (code or charset definitions loaded at start-up) and `secure-file-priv` " +
					"(only `NULL` is accepted). `datadir` and `local-infile` are accepted. Every spelling the servers accept is recognised: `-` or `_`, a " +
					"`loose-` prefix, `skip-`/`disable-`/`enable-` prefixes and abbreviations (`skip-grant` is `skip-grant-tables`).\n\n" +
					"**Character set guarantee.** Every SQL session the provider opens runs in `utf8mb4` whatever the host's option files say: the client " +
					"runs with `--default-character-set=utf8mb4` and `--init-command=SET NAMES utf8mb4` (which replaces any host `init-command`), and every " +
					"script starts with `SET NAMES utf8mb4`; passwords are quoted only for that session, where no multi-byte character can hold a quote or a " +
					"backslash. Settings that would make the server read SQL in another character set are refused unless their value is `utf8mb4`, `utf8mb3`, " +
					"`utf8`, `latin1`, `ascii` or `binary` (or a collation of one of them): `character-set-server`, `character-set-client`, " +
					"`character-set-connection`, `character-set-results`, `character-set-database`, `default-character-set`, `collation-server`, " +
					"`collation-connection`, `collation-database`, `default-collation`; `skip-character-set-client-handshake` (or the handshake set to " +
					"`OFF`) is refused. In GBK, Big5, GB18030, Shift-JIS and CP932 a multi-byte character can end in a backslash and let a password end " +
					"its literal early.",
				Optional:    true,
				ElementType: types.StringType,
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
					"`false` (default): an error naming the host, the connection error and what stays on it, raised before replication, accounts or settings change on any member; " +
					"the resource (and the member) stay in state, so you can bring the host back and run it again. " +
					"`true`: the member is dropped with a warning, and keeps its replication settings, the provider's accounts, read-only and the provider's settings files (remove " +
					"them by hand if the host comes back). " +
					"Set it to `true` and apply (a change of this attribute alone contacts no host), then destroy or remove the replica.",
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			},
			"failover_from": schema.StringAttribute{
				MarkdownDescription: "Allows a failover from a dead primary: the host of the current `primary` (its `ssh.host`), set in the apply that changes `primary` to one of the replicas. " +
					"Without it, changing `primary` while the current primary cannot be reached (its host does not answer over SSH, " +
					"or its database server cannot be started) is refused, because a lost primary may hold writes no replica has. " +
					"With it, and only when that primary cannot be reached, the apply waits until every reachable replica has applied what it received, refuses (naming it) if another replica " +
					"holds transactions the new primary lacks, promotes the new primary and repoints the other replicas to it; the old primary is listed in `fenced_members`. " +
					"Keep the old primary in `replicas`: once it is back, the next apply makes it read-only, stops its replication, and rejoins it as a replica when every transaction it holds " +
					"is on the new primary, or stops with an error naming its errant transactions and leaves it read-only and untouched. " +
					"While the named host can be reached, a change of `primary` is a planned switchover as without this attribute; a change of `primary` with `failover_from` naming another host " +
					"than the current primary is refused at plan time; without a change of `primary` it does nothing (it can stay set after a failover). Default: unset.",
				Optional:   true,
				Validators: []validator.String{validators.Host()},
			},
			"fenced_members": schema.ListAttribute{
				MarkdownDescription: "Former primaries that a failover (`failover_from`) left behind and that have not rejoined yet: they were unreachable at the last apply, or hold errant " +
					"transactions. The provider never writes to them except to make them read-only; an apply that finds one back rejoins it (see `failover_from`).",
				Computed: true, ElementType: types.StringType,
			},
			"wait_timeout": schema.StringAttribute{
				MarkdownDescription: "How long an apply waits for a replica to run and catch up, and for a restarted server to answer, as a duration. Default " +
					"`" + defaultMySQLWaitTimeout + "`. A timeout error carries the replica's `Last_IO_Error` and `Last_SQL_Error`.",
				Optional: true, Computed: true, Default: stringdefault.StaticString(defaultMySQLWaitTimeout),
				Validators: []validator.String{validators.Duration(minMySQLWaitTimeout, maxMySQLWaitTimeout)},
			},
			"flavor": schema.StringAttribute{
				MarkdownDescription: "`mariadb` or `mysql`. Default: what the members run (they must all run the same); it decides which package is installed on a host that has " +
					"none (MariaDB when no member has a server).",
				Optional: true, Computed: true,
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
				MarkdownDescription: "Each member by host: `role` (primary or replica), `flavor` (MariaDB or MySQL), `version` (the upstream version, such as `11.8.9`) and the running `server_id`.",
				Computed:            true, ElementType: mysqlServerType,
			},
			"replica_status": schema.ListAttribute{
				MarkdownDescription: "Replication health of each replica, in `replicas` order, as of the last refresh: `io_running`, `sql_running`, `seconds_behind` (null when " +
					"unknown), `last_error` (IO or SQL), `gtid_position` (received: MariaDB `Gtid_IO_Pos`, MySQL `Retrieved_Gtid_Set`) and `source_host`.",
				Computed: true, ElementType: mysqlReplicaStatusType,
			},
			"converged": schema.BoolAttribute{
				MarkdownDescription: "`true` when the last refresh found the cluster as configured. It turns `false` in state when Read finds drift (see `drift`); the " +
					"configuration always wants `true`, so the plan shows the repair as an update.",
				Computed: true, Default: booldefault.StaticBool(true),
			},
			"drift": schema.ListAttribute{
				MarkdownDescription: "What the last refresh found different from the configuration, one line per problem (a stopped replication thread, a replica lagging beyond " +
					"`lag_threshold_seconds` or replicating from another source, a changed settings file, a missing account or privilege). Empty when converged; the next apply repairs each.",
				Computed: true, ElementType: types.StringType,
				Default: listdefault.StaticValue(types.ListValueMust(types.StringType, []attr.Value{})),
			},
		},
	}
}
