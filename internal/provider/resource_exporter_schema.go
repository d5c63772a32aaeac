// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/foobar/terraform-provider-foobar/internal/exporter"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

// exporterSchema is the schema of foobar_exporter.
func exporterSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A Prometheus exporter from the distribution's packages on one host, bound to the address " +
			"and port you choose: `node` (Debian's `prometheus-node-exporter`: the host's CPU, memory, disks and network; " +
			"declare one on every host), `mysqld` (`prometheus-mysqld-exporter`, with a least-privilege account it creates: see " +
			"`mysql_user`) or `nginx` (`prometheus-nginx-exporter`, reading Nginx's `stub_status` from a " +
			"loopback-only server that this resource adds as `" + exporter.StubStatusConf + "`, checked with `nginx -t` " +
			"before Nginx reloads). HAProxy needs no exporter: `foobar_load_balancer`'s `stats.prometheus` serves its " +
			"built-in one at `/metrics` on the stats port.\n\n" +
			"The listen address goes into the package's `/etc/default` file (its original kept and given back on destroy) " +
			"through the same validate, back up, swap and verify steps as every other managed file; the unit is enabled " +
			"and restarted, and the apply fails unless the exporter then answers on `listen` with its metrics (for Nginx: " +
			"`nginx_up 1`). Refresh plans an update when the file was changed or the exporter stopped. Destroy stops and " +
			"disables the unit, restores the package's file and removes the status server. The package must be installed. " +
			"Open `listen`'s port to your Prometheus servers only, with `foobar_firewall` " +
			"(`allow = [{ port = 9100, from = var.monitoring_sources }]`).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<ssh.host>/<kind>`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"ssh": connectionSchema(),
			"kind": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("The exporter: `%s`. Changing it replaces the resource.", strings.Join(exporter.Kinds, "`, `")),
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(exporter.Kinds...)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"listen": schema.StringAttribute{
				MarkdownDescription: "The address and port the exporter serves `/metrics` on, as `address:port` (`10.0.0.21:9100`, " +
					"`[2001:db8::21]:9100`; `0.0.0.0:9100` for every address). Prefer the host's private address. " +
					"The usual ports: 9100 for `node`, 9113 for `nginx`, 9104 for `mysqld`.",
				Required:   true,
				Validators: []validator.String{validators.StringFunc("an address:port", exporter.CheckListen)},
			},
			"stub_status_port": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("`nginx` only: the loopback port (on 127.0.0.1) of the Nginx server that answers "+
					"`stub_status` at `%s` for the exporter. Default `%d`.", exporter.StubStatusPath, exporter.DefaultStubStatusPort),
				Optional: true,
			},
			"mysql_user": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("`mysqld` only: the exporter's MySQL account (`'<name>'@'localhost'`), which this resource creates "+
					"on the host's own server, outside the binary log (so each cluster member gets its own and replicas gain no "+
					"transaction of their own), with only %s. The password is in `%s` (mode 0600, owned by the exporter's user `prometheus`), "+
					"never in a command line. Destroy drops the account. Default `%s`.\n\n"+
					"On a MySQL replica, where `super_read_only` is ON (as `foobar_mysql_cluster` sets it) and refuses `CREATE USER` even "+
					"to root, the account's statements lift it for themselves, as MySQL Shell's `dba.configureInstance` does: in one client "+
					"session outside the binary log, `super_read_only` is turned OFF only if it was ON, the account is created, changed or "+
					"dropped, and it is turned back ON as the session's last statement, which runs even when an earlier statement failed "+
					"(the apply still fails then). The window is that one session, from the statement that turns it off to the one "+
					"that turns it back on (the account's four statements, or its `DROP USER`); `read_only` stays ON throughout, so "+
					"only accounts with `CONNECTION_ADMIN` or `SUPER` could write to the replica meanwhile. Should turning it back ON fail "+
					"too (a lock wait over 30 s), the error says that `super_read_only` was left OFF. MariaDB's `read_only` does not stop "+
					"the admin, and nothing is lifted there.",
					"`PROCESS`, `REPLICATION CLIENT` (MariaDB: `BINLOG MONITOR`, `SLAVE MONITOR`) and `SELECT` on `performance_schema`",
					exporter.MySQLCnfPath, exporter.DefaultMySQLUser),
				Optional: true,
			},
			"mysql_password": schema.StringAttribute{
				MarkdownDescription: "`mysqld` only, and required there: the password of `mysql_user`, 12 to 100 printable ASCII characters " +
					"without quotes, backslash, `#` or spaces.",
				Optional:  true,
				Sensitive: true,
			},
			"scrape_target": schema.StringAttribute{
				MarkdownDescription: "What Prometheus scrapes (`host:port`, for a `file_sd` or `static_configs` target): `listen`, " +
					"with `ssh.host` in place of an unspecified address (`0.0.0.0`, `::`).",
				Computed: true,
			},
			"config_sha256": schema.StringAttribute{
				MarkdownDescription: "SHA-256 of the managed files as planned. After a refresh that found them changed, or the " +
					"exporter stopped, a `drift:` note saying what, so that the plan shows the repair.",
				Computed: true,
			},
		},
	}
}
