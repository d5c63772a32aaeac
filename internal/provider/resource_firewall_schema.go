// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/firewall"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

// firewallSchema is the schema of foobar_firewall.
func firewallSchema() schema.Schema {
	source := validators.StringFunc("an IPv4 or IPv6 address or network (CIDR)", firewall.CheckSource)
	port := validators.Int64Func("a port number (1-65535)", firewall.CheckPort)
	sources := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{
			MarkdownDescription: desc,
			Required:            true,
			ElementType:         types.StringType,
			Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(source)},
		}
	}
	return schema.Schema{
		MarkdownDescription: "The inbound firewall of one host, as an nftables table of its own (`table inet foobar`): " +
			"everything inbound is dropped except loopback, packets of established connections, IPv6 neighbour discovery, " +
			"ping (`allow_ping`), SSH from `admin_sources`, and each `allow` rule's port from its sources. No other table " +
			"is ever touched (Docker's, an operator's), and `flush ruleset` is never used: the table is replaced atomically " +
			"by one `nft -f`. Note that nftables evaluates every table hooked on input: a packet this table drops stays " +
			"dropped even when another table's chain accepts it.\n\n" +
			"On the members of a load-balancer pair (`high_availability`), allow `protocol = \"vrrp\"` from the other members: " +
			"without it their adverts are dropped and every member takes the virtual address.\n\n" +
			"A change cannot lock you out (\"commit confirmed\", as network equipment does it): the rules are checked with " +
			"`nft -c` first (a refusal changes nothing), the live table is saved, and the host schedules its own " +
			"rollback (a transient systemd timer, which survives the SSH connection) before loading the rules. The provider " +
			"then opens a NEW SSH connection and runs a command with sudo; only that cancels the rollback. When no new " +
			"connection works within `confirm_timeout`, the host puts the previous rules back, the provider verifies that " +
			"over a new connection, and the apply fails saying so.\n\n" +
			"Confirmed rules are also written to `/etc/foobar/firewall.nft` and loaded at boot by the " +
			"`foobar-firewall.service` unit (ordered after Debian's `nftables.service`, whose `flush ruleset` would " +
			"otherwise remove them). Refresh lists the live table and plans an update when it was changed outside " +
			"Terraform. Destroy deletes the table, the file and the unit. The host needs the `nft` command (Debian package " +
			"`nftables`). Import is not supported: the rules live in the configuration, the host holds only their nft form " +
			"(declare the resource and apply: the table is replaced as a whole).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The host (`ssh.host`).",
				Computed:            true,
			},
			"ssh": connectionSchema(),
			"admin_sources": sources("Addresses or networks (IPv4 or IPv6, CIDR) that may reach SSH (`ssh_port`). Required and never empty: " +
				"it must include the address this provider connects from, or the change is rolled back. DNS names are refused " +
				"(nft would resolve them only once)."),
			"ssh_port": schema.Int64Attribute{
				MarkdownDescription: "The TCP port sshd listens on, opened to `admin_sources`. Default `22`.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(22),
				Validators: []validator.Int64{port},
			},
			"allow_ping": schema.BoolAttribute{
				MarkdownDescription: "Accept ICMP and ICMPv6 echo requests from anywhere. Default `true`.",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"allow": schema.ListNestedAttribute{
				MarkdownDescription: "Inbound ports and who may reach them, one entry per port: typically the address of " +
					"another resource's host (`from = [foobar_web_server.web1.ssh.host]`). Every port not listed is closed.",
				Optional: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"protocol": schema.StringAttribute{
						MarkdownDescription: "`tcp`, `udp`, or `vrrp` (IP protocol 112: the adverts between the members of a " +
							"`foobar_load_balancer` pair, `from` the other members). Default `tcp`.",
						Optional: true, Computed: true, Default: stringdefault.StaticString("tcp"),
						Validators: []validator.String{validators.StringFunc("tcp, udp or vrrp", firewall.CheckProtocol)},
					},
					"port": schema.Int64Attribute{
						MarkdownDescription: "The port (1-65535); required for `tcp` and `udp`, unset for `vrrp`.",
						Optional:            true,
						Validators:          []validator.Int64{port},
					},
					"from": sources("Addresses or networks (IPv4 or IPv6, CIDR) that may reach the port. At least one."),
				}},
			},
			"confirm_timeout": schema.StringAttribute{
				MarkdownDescription: "How long after loading new rules the host waits for the provider's confirmation over " +
					"a new SSH connection before it puts the previous rules back, as a duration (`60s`), between `10s` and `10m`. Default `60s`.",
				Optional: true, Computed: true, Default: stringdefault.StaticString("60s"),
				Validators: []validator.String{validators.Duration(firewall.MinConfirmTimeout, firewall.MaxConfirmTimeout)},
			},
			"rendered_ruleset": schema.StringAttribute{
				MarkdownDescription: "The nft file that replaces the table, as planned. After a refresh that found the live " +
					"table changed outside Terraform (or gone), a note followed by the live listing, so that the plan shows the repair.",
				Computed: true,
			},
			"live_sha256": schema.StringAttribute{
				MarkdownDescription: "SHA-256 of `nft list table inet foobar` after the last apply, which refresh compares with the live table.",
				Computed:            true,
			},
		},
	}
}
