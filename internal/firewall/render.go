// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package firewall renders and applies a host's inbound firewall as one
// nftables table of its own, `table inet foobar`, and never touches any
// other table (Docker's, an operator's).
//
// The renderer is pure (Config.Validate, Config.Render); the host work
// (Deploy, Inspect, Remove in host.go) speaks to the host only through
// remote.Runner, with constant scripts whose inputs are positional
// parameters or stdin.
//
// The rendered file replaces the table atomically when loaded with one
// `nft -f`: it first declares the table (a no-op when it exists), deletes
// it, and defines it again, all in one nftables transaction. `flush
// ruleset` is never used.
//
// A base chain with policy drop in this table drops a packet even when a
// chain of another table accepts it: that is how nftables evaluates
// several tables hooked at the same place (a drop anywhere is final), and
// it is intended: the firewall is the host's inbound policy.
package firewall

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

// Table is the nftables table this package owns: family inet, name foobar.
const (
	TableFamily = "inet"
	TableName   = "foobar"
)

// Protocols a rule may open: a TCP or UDP port, or VRRP (IP protocol
// 112, the adverts between keepalived peers), which has no port.
var Protocols = []string{"tcp", "udp", "vrrp"}

// VRRPProtocol is VRRP's IP protocol number.
const VRRPProtocol = 112

// Rule opens one port (or, for vrrp, the protocol) to a list of sources.
type Rule struct {
	// Protocol is "tcp", "udp" or "vrrp".
	Protocol string
	// Port is 1-65535 for tcp and udp; 0 (unset) for vrrp.
	Port int64
	// From are IPv4 or IPv6 addresses or networks (CIDR); at least one.
	From []string
}

// Config is a host's inbound policy. Everything not allowed here is
// dropped, except loopback, packets of established connections, and (with
// AllowPing) ICMP echo requests. IPv6 neighbour discovery is always
// accepted: without it IPv6 does not work at all.
type Config struct {
	// AdminSources may reach SSHPort; at least one (an empty list would
	// lock every operator out).
	AdminSources []string
	// SSHPort is the port sshd listens on (22).
	SSHPort int64
	// AllowPing accepts ICMP and ICMPv6 echo requests from anywhere.
	AllowPing bool
	// Rules are the services' ports and who may reach them.
	Rules []Rule
}

// CheckSource checks one source: an IPv4 or IPv6 address or a network in
// CIDR notation whose host bits are zero. DNS names are refused: nft would
// resolve them once, when the rules are loaded, and never again.
func CheckSource(s string) error {
	if s == "" {
		return errors.New("must be an IP address or a network in CIDR notation, not empty")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("must be an IP address or a network in CIDR notation (10.0.0.0/24, 2001:db8::/32): %w", err)
		}
		if p.Addr().Zone() != "" {
			return errors.New("must not carry an IPv6 zone")
		}
		if p.Masked() != p {
			return fmt.Errorf("has host bits set: the network is %s", p.Masked())
		}
		return nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return errors.New("must be an IP address or a network in CIDR notation (10.0.0.5, 10.0.0.0/24, 2001:db8::1); " +
			"DNS names are not accepted (nft would resolve them once, when the rules load)")
	}
	if a.Zone() != "" {
		return errors.New("must not carry an IPv6 zone")
	}
	return nil
}

// CheckPort checks a port number.
func CheckPort(p int64) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("must be a port number between 1 and 65535")
	}
	return nil
}

// CheckProtocol checks a rule's protocol.
func CheckProtocol(p string) error {
	for _, ok := range Protocols {
		if p == ok {
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(Protocols, ", "))
}

// Validate returns every problem with c as fault.FieldErrors, with paths
// in the resource's terms (admin_sources[0], allow[1].port).
func (c Config) Validate() error {
	var errs fault.FieldErrors
	add := func(path string, value any, err error, single bool) {
		if err != nil {
			errs = append(errs, &fault.FieldError{Path: path, Value: value, Err: err, Single: single})
		}
	}
	if len(c.AdminSources) == 0 {
		errs = append(errs, &fault.FieldError{Path: "admin_sources", Err: errors.New(
			"must list at least one address or network that may reach SSH: with none, the firewall would lock every operator (and this provider) out")})
	}
	checkSources := func(path string, srcs []string) {
		seen := map[string]bool{}
		for i, s := range srcs {
			p := fmt.Sprintf("%s[%d]", path, i)
			add(p, s, CheckSource(s), true)
			if seen[s] {
				add(p, s, errors.New("is listed twice"), false)
			}
			seen[s] = true
		}
	}
	checkSources("admin_sources", c.AdminSources)
	add("ssh_port", c.SSHPort, CheckPort(c.SSHPort), true)
	type key struct {
		proto string
		port  int64
	}
	seen := map[key]int{}
	for i, r := range c.Rules {
		p := fmt.Sprintf("allow[%d]", i)
		add(p+".protocol", r.Protocol, CheckProtocol(r.Protocol), true)
		switch {
		case r.Protocol == "vrrp" && r.Port != 0:
			add(p+".port", r.Port, errors.New("must be unset for protocol vrrp (VRRP has no ports)"), false)
		case r.Protocol != "vrrp" && r.Port == 0:
			errs = append(errs, &fault.FieldError{Path: p + ".port", Err: fmt.Errorf("must be set for protocol %s", r.Protocol)})
		case r.Protocol != "vrrp":
			add(p+".port", r.Port, CheckPort(r.Port), true)
		}
		if len(r.From) == 0 {
			errs = append(errs, &fault.FieldError{Path: p + ".from", Err: errors.New("must list at least one address or network")})
		}
		checkSources(p+".from", r.From)
		k := key{r.Protocol, r.Port}
		if j, dup := seen[k]; dup {
			what := fmt.Sprintf("%s port %d is", r.Protocol, r.Port)
			if r.Protocol == "vrrp" {
				what = "vrrp is"
			}
			add(p+".port", r.Port, fmt.Errorf("%s already opened by allow[%d]: list every source there", what, j), false)
		} else {
			seen[k] = i
		}
	}
	return errs.Err()
}

// split returns the IPv4 and the IPv6 sources, in the order given.
func split(srcs []string) (v4, v6 []string) {
	for _, s := range srcs {
		if strings.Contains(s, ":") {
			v6 = append(v6, s)
		} else {
			v4 = append(v4, s)
		}
	}
	return v4, v6
}

// Header is the first line of every rendered ruleset.
const Header = "# Managed by terraform-provider-foobar (foobar_firewall): the table inet foobar, replaced atomically by one `nft -f`."

// Render returns the nft file that replaces the table with c, after
// Validate. Same input, same bytes.
func (c Config) Render() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(Header + "\n")
	b.WriteString("# Declaring the table first makes the delete valid when it does not exist yet; nothing outside it is touched.\n")
	fmt.Fprintf(&b, "table %s %s {}\n", TableFamily, TableName)
	fmt.Fprintf(&b, "delete table %s %s\n", TableFamily, TableName)
	fmt.Fprintf(&b, "table %s %s {\n", TableFamily, TableName)
	b.WriteString("\tchain input {\n")
	b.WriteString("\t\ttype filter hook input priority filter; policy drop;\n")
	b.WriteString("\t\tiif \"lo\" accept\n")
	b.WriteString("\t\tct state established,related accept\n")
	b.WriteString("\t\tct state invalid drop\n")
	b.WriteString("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-router-solicit } accept\n")
	if c.AllowPing {
		b.WriteString("\t\ticmp type echo-request accept\n")
		b.WriteString("\t\ticmpv6 type echo-request accept\n")
	}
	rule := func(proto string, port int64, srcs []string, comment string) {
		v4, v6 := split(srcs)
		match := fmt.Sprintf("%s dport %d", proto, port)
		if proto == "vrrp" {
			match = fmt.Sprintf("meta l4proto %d", VRRPProtocol)
		}
		if len(v4) > 0 {
			fmt.Fprintf(&b, "\t\tip saddr { %s } %s accept comment %q\n", strings.Join(v4, ", "), match, comment)
		}
		if len(v6) > 0 {
			fmt.Fprintf(&b, "\t\tip6 saddr { %s } %s accept comment %q\n", strings.Join(v6, ", "), match, comment)
		}
	}
	rule("tcp", c.SSHPort, c.AdminSources, "admin_sources")
	for i, r := range c.Rules {
		rule(r.Protocol, r.Port, r.From, fmt.Sprintf("allow[%d]", i))
	}
	b.WriteString("\t}\n}\n")
	return b.Bytes(), nil
}
