// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package keepalived renders, applies and reads keepalived's configuration
// for a group of load balancers that share one virtual address (VRRP). It
// is pure where it can be (Config.Render, Config.Validate, the parsers) and
// speaks to a host only through internal/remote.Runner and the safe-apply
// engine (internal/apply). Nothing here knows about Terraform or dials.
//
// The protocol choice: VRRPv3 with unicast peers. VRRPv3 allows adverts in
// centiseconds, so a backup takes the address within about three adverts
// plus its skew (0.2 s adverts: well under a second) when the active member
// dies or is cut off; VRRPv2 allows whole seconds only (a backup waits more
// than three seconds). VRRPv3 has no authentication field (RFC 5798 removed
// it, keepalived ignores `authentication` for version 3): instead every
// member sends its adverts by unicast to the peers it is given and drops
// adverts whose source is not one of them (`check_unicast_src`), and the
// router id is the operator's. An attacker who can spoof a peer's source
// address on the segment can still disturb VRRP, as it can with VRRPv2's
// clear-text password.
package keepalived

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

// Host layout.
const (
	// ConfigPath is keepalived's configuration on Debian, Ubuntu and the
	// RHEL family.
	ConfigPath = "/etc/keepalived/keepalived.conf"
	// ConfigMode is ConfigPath's mode (owner root).
	ConfigMode = 0o644
	// CheckScriptPath is the helper keepalived runs to track HAProxy
	// (check mode) and to record its VRRP state (notify mode).
	CheckScriptPath = "/etc/keepalived/foobar-haproxy-check"
	// CheckScriptMode is the helper's mode: root only may write it
	// (enable_script_security refuses it otherwise).
	CheckScriptMode = 0o755
	// StatePath is where the helper writes the instance's VRRP state
	// (MASTER, BACKUP, FAULT, STOP) on every transition.
	StatePath = "/run/foobar-keepalived.state"
	// ServiceName is keepalived's service.
	ServiceName = "keepalived"
	// LockName is the apply engine's lock for what this package writes.
	LockName = "keepalived"
	// InstanceName is the VRRP instance's name.
	InstanceName = "foobar_lb"
	// ScriptName is the vrrp_script's name.
	ScriptName = "foobar_haproxy"
)

// Defaults.
const (
	DefaultInterface      = "eth0"
	DefaultPriority       = 100
	DefaultAdvertInterval = 200 * time.Millisecond
	// DefaultCheckInterval is how often the tracked check asks HAProxy
	// (keepalived 2.2 takes whole seconds only).
	DefaultCheckInterval = time.Second
	// DefaultCheckFall is how many failed checks in a row take the member
	// out (FAULT: it gives the address up at once). One: the helper
	// already asks twice before it reports a failure.
	DefaultCheckFall = 1
	// DefaultCheckRise is how many good checks in a row bring it back.
	DefaultCheckRise = 2
)

// Check is the HAProxy listener the tracked check asks: HAProxy must
// answer an HTTP request there (any status: it is HAProxy answering that
// counts, not its backends), or for tcp accept a connection.
type Check struct {
	// Scheme is http, https or tcp.
	Scheme string
	// Host is an IPv4 address or a bracketed IPv6 address as the member
	// reaches the listener (127.0.0.1 for a wildcard bind).
	Host string
	Port int
}

// Config is one member's keepalived configuration.
type Config struct {
	// Interface carries the virtual address and the adverts.
	Interface string
	// VirtualIP is the shared address with its prefix length (the
	// network's, for example 192.0.2.10/24).
	VirtualIP netip.Prefix
	// RouterID is the VRRP virtual router id (1-255), the same on every
	// member and unique on the segment.
	RouterID int
	// Priority (1-254): the higher one takes the address when both start,
	// and with Preempt takes it back.
	Priority int
	// Preempt lets a member with a higher priority take the address back
	// when it returns. Off (the default), the address stays where it is
	// until its holder fails: no flap back.
	Preempt bool
	// AdvertInterval is the VRRP advert interval (10 ms steps, 10 ms to
	// 40.95 s); DefaultAdvertInterval when zero.
	AdvertInterval time.Duration
	// SourceIP is this member's own address, the source of its adverts.
	SourceIP netip.Addr
	// Peers are the other members' addresses.
	Peers []netip.Addr
	// Check is the tracked HAProxy listener.
	Check Check
	// CheckInterval, CheckFall, CheckRise tune the tracked check (defaults
	// when zero).
	CheckInterval time.Duration
	CheckFall     int
	CheckRise     int
}

var ifaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,14}$`)

func (c Config) advert() time.Duration {
	if c.AdvertInterval == 0 {
		return DefaultAdvertInterval
	}
	return c.AdvertInterval
}

func (c Config) checkInterval() time.Duration {
	if c.CheckInterval == 0 {
		return DefaultCheckInterval
	}
	return c.CheckInterval
}

func orInt(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// Validate reports every problem of c, each naming the attribute (path
// relative to the high_availability block) and the value.
func (c Config) Validate() error {
	var errs fault.FieldErrors
	add := func(p string, v any, format string, args ...any) {
		errs = append(errs, &fault.FieldError{Path: p, Value: v, Err: fmt.Errorf(format, args...), Single: true})
	}
	if !ifaceRE.MatchString(c.Interface) {
		add("interface", c.Interface, "must be a network interface name (letters, digits, _ . : @ -, at most 15 characters)")
	}
	if !c.VirtualIP.IsValid() || !c.VirtualIP.Addr().Is4() && !c.VirtualIP.Addr().Is6() {
		add("virtual_ip", c.VirtualIP.String(), "must be an IP address with a prefix length, such as 192.0.2.10/24")
	} else if c.VirtualIP.Addr().IsUnspecified() || c.VirtualIP.Addr().IsLoopback() || c.VirtualIP.Addr().IsMulticast() {
		add("virtual_ip", c.VirtualIP.String(), "must be a unicast address on the members' network")
	}
	if c.RouterID < 1 || c.RouterID > 255 {
		add("virtual_router_id", c.RouterID, "must be between 1 and 255")
	}
	if c.Priority < 1 || c.Priority > 254 {
		add("priority", c.Priority, "must be between 1 and 254")
	}
	if a := c.advert(); a < 10*time.Millisecond || a > 40950*time.Millisecond || a%(10*time.Millisecond) != 0 {
		add("advert_interval", a.String(), "must be a multiple of 10ms between 10ms and 40.95s (VRRPv3)")
	}
	if ci := c.checkInterval(); ci < time.Second || ci > time.Hour || ci%time.Second != 0 {
		add("check_interval", ci.String(), "must be whole seconds between 1s and 1h (keepalived's vrrp_script interval)")
	}
	if c.CheckFall < 0 || c.CheckFall > 100 {
		add("check_fall", c.CheckFall, "must be between 1 and 100")
	}
	if c.CheckRise < 0 || c.CheckRise > 100 {
		add("check_rise", c.CheckRise, "must be between 1 and 100")
	}
	if !c.SourceIP.IsValid() {
		add("source_ip", c.SourceIP.String(), "must be this member's IP address")
	}
	if len(c.Peers) == 0 {
		add("peers", "", "must name at least one other member")
	}
	seen := map[netip.Addr]bool{}
	for i, p := range c.Peers {
		switch {
		case !p.IsValid():
			add(fmt.Sprintf("peers[%d]", i), p.String(), "must be an IP address")
		case p == c.SourceIP:
			add(fmt.Sprintf("peers[%d]", i), p.String(), "is this member's own address; list only the other members")
		case seen[p]:
			add(fmt.Sprintf("peers[%d]", i), p.String(), "is listed twice")
		case c.SourceIP.IsValid() && p.Is4() != c.SourceIP.Is4():
			add(fmt.Sprintf("peers[%d]", i), p.String(), "must be of the same address family as the member's own address %s", c.SourceIP)
		}
		seen[p] = true
		if c.VirtualIP.IsValid() && p == c.VirtualIP.Addr() {
			add("virtual_ip", c.VirtualIP.String(), "is a member's own address; the virtual address must be a free one")
		}
	}
	if c.VirtualIP.IsValid() && c.SourceIP.IsValid() {
		if c.VirtualIP.Addr() == c.SourceIP {
			add("virtual_ip", c.VirtualIP.String(), "is this member's own address; the virtual address must be a free one")
		} else if c.VirtualIP.Addr().Is4() != c.SourceIP.Is4() {
			add("virtual_ip", c.VirtualIP.String(), "must be of the same address family as the member's own address %s", c.SourceIP)
		}
	}
	switch c.Check.Scheme {
	case "http", "https", "tcp":
	default:
		add("check", c.Check.Scheme, "HAProxy has no listener to track (scheme must be http, https or tcp)")
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(c.Check.Host, "["), "]")); err != nil || !a.IsValid() {
		add("check", c.Check.Host, "HAProxy has no listener address to track")
	}
	if c.Check.Port < 1 || c.Check.Port > 65535 {
		add("check", c.Check.Port, "HAProxy has no listener port to track")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// seconds renders d in seconds with up to two decimals ("0.2", "1", "0.05").
func seconds(d time.Duration) string {
	cs := d / (10 * time.Millisecond)
	s := strconv.FormatInt(int64(cs/100), 10)
	if frac := cs % 100; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%02d", frac), "0")
	}
	return s
}

// Render returns keepalived.conf for c. The same c gives the same bytes.
func (c Config) Render() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Managed by terraform-provider-foobar (foobar_load_balancer high_availability).")
	w("# Manual changes are overwritten on the next apply.")
	w("global_defs {")
	w("    script_user root")
	w("    enable_script_security")
	w("}")
	w("")
	// The tracked check: HAProxy must answer, not just run. The helper
	// gives up after about a second itself; keepalived's timeout is
	// longer, so a check that is only slow to start on a busy host is
	// not counted as a failure.
	ci := c.checkInterval()
	timeout := 2 * time.Second
	w("vrrp_script %s {", ScriptName)
	w("    script \"%s check %s %s %d\"", CheckScriptPath, c.Check.Scheme, c.Check.Host, c.Check.Port)
	w("    interval %s", seconds(ci))
	w("    timeout %s", seconds(timeout))
	w("    fall %d", orInt(c.CheckFall, DefaultCheckFall))
	w("    rise %d", orInt(c.CheckRise, DefaultCheckRise))
	w("}")
	w("")
	w("vrrp_instance %s {", InstanceName)
	// Every member starts as BACKUP: the first to find no master takes
	// the address; nopreempt needs state BACKUP.
	w("    state BACKUP")
	w("    version 3")
	w("    interface %s", c.Interface)
	w("    virtual_router_id %d", c.RouterID)
	w("    priority %d", c.Priority)
	w("    advert_int %s", seconds(c.advert()))
	if !c.Preempt {
		w("    nopreempt")
	}
	// Gratuitous ARP: a second round one second after taking the address
	// (a neighbour that ignored the first within its ARP lock time takes
	// this one), and a refresh every 10 s while MASTER, so that a
	// neighbour that still points at a member that was cut off is
	// corrected.
	w("    garp_master_delay 1")
	w("    garp_master_refresh 10")
	w("    unicast_src_ip %s", c.SourceIP)
	w("    check_unicast_src")
	w("    unicast_peer {")
	for _, p := range c.Peers {
		w("        %s", p)
	}
	w("    }")
	w("    virtual_ipaddress {")
	w("        %s dev %s", c.VirtualIP, c.Interface)
	w("    }")
	w("    track_script {")
	w("        %s", ScriptName)
	w("    }")
	w("    notify \"%s notify\"", CheckScriptPath)
	w("}")
	return []byte(b.String()), nil
}

// CheckScript is the helper at CheckScriptPath. "check SCHEME HOST PORT"
// exits 0 when HAProxy itself answers there: an HTTP request with an
// invalid header name, which HAProxy answers with its own 400 without
// asking a backend (so slow or dead web servers never make a healthy load
// balancer give up the address); it tries twice, 0.3 s each, so one slow
// answer is not a failure, and a frozen HAProxy is seen within 0.7 s.
// For tcp (and without curl), a listening socket and a running haproxy
// count. "notify" is keepalived's notify hook (TYPE NAME STATE PRIORITY
// follow): it writes the state to StatePath.
const CheckScript = `#!/bin/sh
# Managed by terraform-provider-foobar: keepalived's HAProxy check.
mode=$1
case $mode in
notify)
  printf '%s\n' "$4" > /run/foobar-keepalived.state.tmp && mv -f /run/foobar-keepalived.state.tmp /run/foobar-keepalived.state
  exit 0 ;;
check) ;;
*) exit 2 ;;
esac
scheme=$2 host=$3 port=$4
if [ "$scheme" != tcp ] && command -v curl >/dev/null 2>&1; then
  for try in 1 2; do
    code=$(curl --http1.1 -s -k --noproxy '*' -o /dev/null -m 0.3 -w '%{http_code}' -H 'Foobar Check: 1' "$scheme://$host:$port/" 2>/dev/null)
    case $code in ''|000) ;; *) exit 0 ;; esac
    [ "$try" = 2 ] || sleep 0.1
  done
  exit 1
fi
pidof haproxy >/dev/null 2>&1 || exit 1
p=$(printf '%04X' "$port")
awk -v p="$p" '$4 == "0A" { n = split($2, a, ":"); if (a[n] == p) f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
`
