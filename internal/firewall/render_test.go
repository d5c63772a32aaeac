// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package firewall

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

func TestRender(t *testing.T) {
	t.Parallel()
	c := Config{
		AdminSources: []string{"10.0.0.1", "2001:db8::/32"},
		SSHPort:      2222,
		AllowPing:    false,
		Rules: []Rule{
			{Protocol: "tcp", Port: 3306, From: []string{"10.0.0.21", "10.0.0.22"}},
			{Protocol: "udp", Port: 53, From: []string{"fd00::/8"}},
			{Protocol: "vrrp", From: []string{"10.0.0.12", "fd00::12"}},
		},
	}
	got, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	want := Header + "\n" +
		"# Declaring the table first makes the delete valid when it does not exist yet; nothing outside it is touched.\n" +
		`table inet foobar {}
delete table inet foobar
table inet foobar {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		ct state invalid drop
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-router-solicit } accept
		ip saddr { 10.0.0.1 } tcp dport 2222 accept comment "admin_sources"
		ip6 saddr { 2001:db8::/32 } tcp dport 2222 accept comment "admin_sources"
		ip saddr { 10.0.0.21, 10.0.0.22 } tcp dport 3306 accept comment "allow[0]"
		ip6 saddr { fd00::/8 } udp dport 53 accept comment "allow[1]"
		ip saddr { 10.0.0.12 } meta l4proto 112 accept comment "allow[2]"
		ip6 saddr { fd00::12 } meta l4proto 112 accept comment "allow[2]"
	}
}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("render (-want +got):\n%s", diff)
	}
	again, _ := c.Render()
	if string(again) != string(got) {
		t.Error("render is not deterministic")
	}
	c.AllowPing = true
	got, _ = c.Render()
	if !strings.Contains(string(got), "icmp type echo-request accept\n") || !strings.Contains(string(got), "icmpv6 type echo-request accept\n") {
		t.Errorf("allow_ping: %s", got)
	}
	if strings.Contains(string(got), "flush") {
		t.Error("the ruleset must never flush")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := func() Config {
		return Config{AdminSources: []string{"10.0.0.1"}, SSHPort: 22, Rules: []Rule{{Protocol: "tcp", Port: 80, From: []string{"10.0.0.11"}}}}
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want []string // "path = value is not valid: ..." prefixes
	}{
		{"ok", func(*Config) {}, nil},
		{"no admin sources", func(c *Config) { c.AdminSources = nil }, []string{"admin_sources: must list at least one"}},
		{"bad cidr", func(c *Config) { c.AdminSources = []string{"10.0.0.0/33"} }, []string{`admin_sources[0] = "10.0.0.0/33" is not valid`}},
		{"host bits", func(c *Config) { c.AdminSources = []string{"10.0.0.5/24"} }, []string{`admin_sources[0] = "10.0.0.5/24" is not valid: has host bits set: the network is 10.0.0.0/24`}},
		{"dns name", func(c *Config) { c.Rules[0].From = []string{"web1.example.com"} }, []string{`allow[0].from[0] = "web1.example.com" is not valid`}},
		{"injection", func(c *Config) { c.Rules[0].From = []string{"10.0.0.1 } accept; #"} }, []string{`allow[0].from[0] = "10.0.0.1 } accept; #" is not valid`}},
		{"port unset", func(c *Config) { c.Rules[0].Port = 0 }, []string{"allow[0].port: must be set for protocol tcp"}},
		{"port -1", func(c *Config) { c.Rules[0].Port = -1 }, []string{"allow[0].port = -1 is not valid: must be a port number between 1 and 65535"}},
		{"vrrp", func(c *Config) { c.Rules = append(c.Rules, Rule{Protocol: "vrrp", From: []string{"10.0.0.12"}}) }, nil},
		{"vrrp with a port", func(c *Config) { c.Rules[0].Protocol = "vrrp" }, []string{"allow[0].port = 80 is not valid: must be unset for protocol vrrp"}},
		{"vrrp twice", func(c *Config) {
			c.Rules = append(c.Rules, Rule{Protocol: "vrrp", From: []string{"10.0.0.12"}}, Rule{Protocol: "vrrp", From: []string{"10.0.0.13"}})
		}, []string{"allow[2].port = 0 is not valid: vrrp is already opened by allow[1]"}},
		{"port 70000", func(c *Config) { c.Rules[0].Port = 70000 }, []string{"allow[0].port = 70000 is not valid"}},
		{"ssh port", func(c *Config) { c.SSHPort = 0 }, []string{"ssh_port = 0 is not valid"}},
		{"protocol", func(c *Config) { c.Rules[0].Protocol = "icmp" }, []string{`allow[0].protocol = "icmp" is not valid: must be one of tcp, udp, vrrp`}},
		{"no sources", func(c *Config) { c.Rules[0].From = nil }, []string{"allow[0].from: must list at least one"}},
		{"twice", func(c *Config) { c.AdminSources = []string{"10.0.0.1", "10.0.0.1"} }, []string{`admin_sources[1] = "10.0.0.1" is not valid: is listed twice`}},
		{"same port twice", func(c *Config) {
			c.Rules = append(c.Rules, Rule{Protocol: "tcp", Port: 80, From: []string{"10.0.0.12"}})
		},
			[]string{"allow[1].port = 80 is not valid: tcp port 80 is already opened by allow[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok()
			tc.mod(&c)
			err := c.Validate()
			var got []string
			for _, fe := range fault.Fields(err) {
				got = append(got, fe.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %d errors like %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("error %d: %q does not start with %q", i, got[i], tc.want[i])
				}
			}
			if _, rerr := c.Render(); (rerr == nil) != (err == nil) {
				t.Errorf("Render and Validate disagree: %v / %v", rerr, err)
			}
			var fe *fault.FieldError
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("not a field error: %v", err)
			}
		})
	}
}

func FuzzRender(f *testing.F) {
	f.Add("10.0.0.1", "10.0.0.0/24", int64(22))
	f.Add("2001:db8::1", "fd00::/8", int64(3306))
	f.Fuzz(func(t *testing.T, a, b string, port int64) {
		c := Config{AdminSources: []string{a}, SSHPort: 22, Rules: []Rule{{Protocol: "tcp", Port: port, From: []string{b}}}}
		out, err := c.Render()
		if err != nil {
			return
		}
		// A valid source is one token of hex digits, dots, colons and a slash.
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Count(line, "{") > 1 && !strings.Contains(line, "icmpv6") {
				t.Fatalf("injected structure: %q", line)
			}
		}
		for _, s := range []string{a, b} {
			if strings.ContainsAny(s, " {};#\"\n") {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
