// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// foobar_load_balancer's high_availability block: keepalived (VRRPv3,
// unicast peers) on the load balancer's host, so that two or more
// load balancers share one virtual address. The shape is one resource per
// member (a for_each over the members, each naming the others as peers),
// not one resource spanning them: every member is a whole load balancer on
// its own (its HAProxy configuration, its host, its drift), a member can
// be replaced or destroyed without touching the others, and the HAProxy
// configuration stays in the one resource that already owns it. The
// members' HAProxy configuration is the same when they are written from
// the same values (a for_each over one set of frontends and backends).
// The host work is internal/keepalived's.

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/keepalived"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// lbHAModel is the high_availability block.
type lbHAModel struct {
	VirtualIP       types.String   `tfsdk:"virtual_ip"`
	Address         types.String   `tfsdk:"address"`
	Peers           []types.String `tfsdk:"peers"`
	VirtualRouterID types.Int64    `tfsdk:"virtual_router_id"`
	Priority        types.Int64    `tfsdk:"priority"`
	Preempt         types.Bool     `tfsdk:"preempt"`
	Interface       types.String   `tfsdk:"interface"`
	AdvertInterval  types.String   `tfsdk:"advert_interval"`
}

func lbHASchema() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Run this load balancer as one member of a group that shares a virtual address, with keepalived (VRRP version 3, unicast adverts " +
			"to the other members only). Declare one `foobar_load_balancer` per member (for example with `for_each`), each with the same frontends and backends, " +
			"the same `virtual_ip` and `virtual_router_id`, and the other members' addresses as `peers`.\n\n" +
			"The member holding the address gives it up when HAProxy on it stops answering (keepalived asks the first listener every second, by default one failure), " +
			"when the host dies or when it is cut from the network (the others miss three adverts); a backup takes it within about a second with the default " +
			"`advert_interval`. The address does not move back on its own unless `preempt` is set.\n\n" +
			"VRRPv3 has no authentication (VRRPv2's clear-text password protected nothing that a unicast peer list does not): a member accepts adverts only from " +
			"the addresses in `peers` (`check_unicast_src`). keepalived's configuration is checked with `keepalived --config-test` before it goes live, " +
			"reloaded (the address stays where it is), verified (keepalived runs and settles as MASTER or BACKUP), and rolled back on failure. " +
			"keepalived is installed when missing and `install` is true. Removing the block (or destroying the resource) restores the files found before and stops keepalived " +
			"when it was not configured before; when it was, a running keepalived is reloaded with the host's own configuration and a stopped one stays stopped.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"virtual_ip": schema.StringAttribute{
				MarkdownDescription: "The shared address with the network's prefix length, such as `192.0.2.10/24`. The same on every member; a free address on the members' network.",
				Required:            true,
			},
			"address": schema.StringAttribute{
				MarkdownDescription: "This member's own address, the source of its adverts (the address the peers list for it). Default: `ssh.host` when it is an IP address.",
				Optional:            true,
			},
			"peers": schema.ListAttribute{
				MarkdownDescription: "The other members' addresses (their `address`), at least one.",
				ElementType:         types.StringType, Required: true,
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
			},
			"virtual_router_id": schema.Int64Attribute{
				MarkdownDescription: "VRRP virtual router id, 1 to 255: the same on every member, unique among the VRRP groups of the network.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 255)},
			},
			"priority": schema.Int64Attribute{
				MarkdownDescription: "VRRP priority, 1 to 254. When members start together the highest takes the address; with `preempt` it takes it back whenever it can. Default: `100`.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 254)},
			},
			"preempt": schema.BoolAttribute{
				MarkdownDescription: "Let a member of higher `priority` take the address back when it returns. " +
					"Default: `false` (the address stays where it is until its holder fails, so it never flaps back).",
				Optional: true,
			},
			"interface": schema.StringAttribute{
				MarkdownDescription: "The network interface that carries the virtual address and the adverts: the one that has " +
					"this member's `address` (`ip -o addr` shows it; Debian names it `ens3`, `enp1s0`... on most machines). Default: `eth0`. " +
					"A name the host does not have is refused by `keepalived --config-test` before anything changes.",
				Optional: true,
			},
			"advert_interval": schema.StringAttribute{
				MarkdownDescription: "VRRP advert interval, a duration in 10 ms steps such as `200ms` or `1s` (10ms to 40.95s). A backup takes over after three missed adverts. Default: `200ms`.",
				Optional:            true,
			},
		},
	}
}

// lbHAComputed are the computed attributes of the block's state.
func lbHAComputed() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"keepalived_config_sha256": schema.StringAttribute{
			MarkdownDescription: "SHA-256 of the `keepalived.conf` this member writes (with `high_availability`). When keepalived is missing, stopped, or its files were changed on the host, " +
				"a refresh sets it to what is wrong (for example `keepalived is not running`), so the plan shows the drift and apply repairs it.",
			Computed: true,
		},
		"vrrp_state": schema.StringAttribute{
			MarkdownDescription: "This member's VRRP state as last read: `MASTER` (it holds the virtual address), `BACKUP`, `FAULT` (its HAProxy check fails), " +
				"`STOPPED` (keepalived does not run) or `UNKNOWN`. Null without `high_availability`.",
			Computed:      true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"holds_virtual_ip": schema.BoolAttribute{
			MarkdownDescription: "Whether this member held the virtual address when it was last read. Null without `high_availability`.",
			Computed:            true,
			PlanModifiers:       []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
		},
	}
}

// haErrors shows keepalived's field errors at the block's attributes.
var haErrors = errorContext{rename: func(p string) string { return "high_availability." + p }}

// toKeepalived converts the block (with the HAProxy configuration whose
// first listener the check tracks) into a keepalived.Config. Errors name
// the attribute (relative to the block) and the value.
func (ha *lbHAModel) toKeepalived(sshHost string, cfg haproxy.Config) (keepalived.Config, error) {
	var errs fault.FieldErrors
	bad := func(p string, v any, msg string) {
		errs = append(errs, &fault.FieldError{Path: p, Value: v, Err: fmt.Errorf("%s", msg), Single: true})
	}
	c := keepalived.Config{
		Interface: stringOr(ha.Interface, keepalived.DefaultInterface),
		RouterID:  intOr(ha.VirtualRouterID, 0),
		Priority:  intOr(ha.Priority, keepalived.DefaultPriority),
		Preempt:   boolOr(ha.Preempt, false),
	}
	if p, err := netip.ParsePrefix(ha.VirtualIP.ValueString()); err != nil {
		bad("virtual_ip", ha.VirtualIP.ValueString(), "must be an IP address with the network's prefix length, such as 192.0.2.10/24")
	} else {
		c.VirtualIP = p
	}
	src := ha.Address.ValueString()
	srcPath := "address"
	if ha.Address.IsNull() {
		src, srcPath = sshHost, "address"
	}
	if a, err := netip.ParseAddr(src); err != nil {
		bad(srcPath, src, "must be this member's IP address (set high_availability.address when ssh.host is a name)")
	} else {
		c.SourceIP = a
	}
	for i, p := range ha.Peers {
		a, err := netip.ParseAddr(p.ValueString())
		if err != nil {
			bad(fmt.Sprintf("peers[%d]", i), p.ValueString(), "must be an IP address")
			continue
		}
		c.Peers = append(c.Peers, a)
	}
	if !ha.AdvertInterval.IsNull() {
		d, err := time.ParseDuration(ha.AdvertInterval.ValueString())
		if err != nil || d <= 0 {
			bad("advert_interval", ha.AdvertInterval.ValueString(), "must be a duration such as 200ms or 1s")
		} else {
			c.AdvertInterval = d
		}
	}
	if eps := cfg.Endpoints(); len(eps) > 0 {
		e := eps[0]
		c.Check = keepalived.Check{Scheme: e.Scheme, Host: e.Host, Port: e.Port}
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, c.Validate()
}

// planHA plans the computed attributes of the block: the sha256 of the
// keepalived.conf it renders, and null state attributes without it.
func planHA(plan lbModel, cfg haproxy.Config) (types.String, error) {
	if plan.HighAvailability == nil {
		return types.StringNull(), nil
	}
	kc, err := plan.HighAvailability.toKeepalived(plan.SSH.Host.ValueString(), cfg)
	if err != nil {
		return types.StringUnknown(), err
	}
	rendered, err := kc.Render()
	if err != nil {
		return types.StringUnknown(), err
	}
	return types.StringValue(apply.Checksum(rendered)), nil
}

// deployHA applies the block after HAProxy (keepalived.Deploy) and fills
// the computed attributes; without the block, it removes what an earlier
// block wrote (prior is the state's block, nil on create).
func (r *loadBalancerResource) deployHA(ctx context.Context, cl *ssh.Client, m *lbModel, cfg haproxy.Config, prior *lbHAModel, diags *diag.Diagnostics) {
	if m.HighAvailability == nil {
		if prior != nil {
			if err := keepalived.Remove(ctx, cl, cl.Addr()); err != nil {
				diags.AddError("Remove keepalived Config Error", fmt.Sprintf("%s: %s", cl.Addr(), err))
				return
			}
		}
		m.KeepalivedSHA256, m.VRRPState, m.HoldsVirtualIP = types.StringNull(), types.StringNull(), types.BoolNull()
		return
	}
	kc, err := m.HighAvailability.toKeepalived(m.SSH.Host.ValueString(), cfg)
	if err != nil {
		haErrors.addError(diags, "Invalid High Availability Configuration", err)
		return
	}
	rendered, _ := kc.Render()
	out, err := keepalived.Deploy(ctx, cl, keepalived.Deployment{Config: kc, Install: boolOr(m.Install, true), Host: cl.Addr()})
	for _, w := range out.Warnings {
		diags.AddWarning("keepalived Apply Warning", w)
	}
	if err != nil {
		haErrors.addError(diags, "Apply keepalived Config Error", err)
		return
	}
	m.KeepalivedSHA256 = types.StringValue(apply.Checksum(rendered))
	if m.VRRPState.IsUnknown() || m.HoldsVirtualIP.IsUnknown() {
		snap, err := apply.Probe(ctx, cl, keepalived.ProbeRequest(kc.VirtualIP))
		var o keepalived.Observed
		if err == nil {
			o, err = keepalived.Observe(snap.Files, snap.Commands[0])
		}
		if err != nil {
			// The change is applied: it must reach the state. The next
			// refresh reads the VRRP state again.
			diags.AddWarning("Read keepalived State Warning", fmt.Sprintf("%s: keepalived was applied, but reading its state failed: %s", cl.Addr(), err))
			m.VRRPState, m.HoldsVirtualIP = types.StringValue("UNKNOWN"), types.BoolValue(false)
			return
		}
		m.VRRPState, m.HoldsVirtualIP = types.StringValue(o.State), types.BoolValue(o.HoldsVIP)
	}
}

// readHA sets the computed attributes from what Inspect's probe found
// (obs.Extra, requested with haProbe).
func readHA(m *lbModel, cfg haproxy.Config, extra apply.Snapshot, diags *diag.Diagnostics) {
	if m.HighAvailability == nil {
		m.KeepalivedSHA256, m.VRRPState, m.HoldsVirtualIP = types.StringNull(), types.StringNull(), types.BoolNull()
		return
	}
	if len(extra.Commands) == 0 {
		return
	}
	o, err := keepalived.Observe(extra.Files, extra.Commands[0])
	if err != nil {
		diags.AddWarning("Read keepalived State", err.Error())
		return
	}
	m.VRRPState, m.HoldsVirtualIP = types.StringValue(o.State), types.BoolValue(o.HoldsVIP)
	want := ""
	if kc, err := m.HighAvailability.toKeepalived(m.SSH.Host.ValueString(), cfg); err == nil {
		if rendered, err := kc.Render(); err == nil {
			want = apply.Checksum(rendered)
		}
	}
	if d := o.Drift(want); d != "" {
		m.KeepalivedSHA256 = types.StringValue(d)
		return
	}
	m.KeepalivedSHA256 = types.StringValue(want)
}

// haProbe is what Read asks of the host for the block, in Inspect's round
// trip.
func haProbe(m lbModel) apply.ProbeRequest {
	if m.HighAvailability == nil {
		return apply.ProbeRequest{}
	}
	p, err := netip.ParsePrefix(m.HighAvailability.VirtualIP.ValueString())
	if err != nil {
		return apply.ProbeRequest{}
	}
	return keepalived.ProbeRequest(p)
}
