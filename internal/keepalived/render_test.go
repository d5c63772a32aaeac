// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package keepalived

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func pair() Config {
	return Config{
		Interface: "eth0",
		VirtualIP: netip.MustParsePrefix("192.0.2.10/24"),
		RouterID:  51,
		Priority:  100,
		SourceIP:  netip.MustParseAddr("192.0.2.11"),
		Peers:     []netip.Addr{netip.MustParseAddr("192.0.2.12")},
		Check:     Check{Scheme: "http", Host: "127.0.0.1", Port: 80},
	}
}

func TestRender_golden(t *testing.T) {
	t.Parallel()
	preempt := pair()
	preempt.Preempt = true
	preempt.Priority = 150
	preempt.AdvertInterval = 1050 * time.Millisecond
	preempt.CheckFall, preempt.CheckRise = 3, 5
	preempt.CheckInterval = 3 * time.Second
	preempt.Peers = append(preempt.Peers, netip.MustParseAddr("192.0.2.13"))
	for name, c := range map[string]Config{"pair": pair(), "preempt_three": preempt} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Render()
			if err != nil {
				t.Fatal(err)
			}
			again, _ := c.Render()
			if string(got) != string(again) {
				t.Fatal("Render is not deterministic")
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("Render (-want +got):\n%s", d)
			}
		})
	}
}

func TestValidate_namesAttributeAndValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		path   string
		want   string
	}{
		{"interface injection", func(c *Config) { c.Interface = "eth0\n}" }, "interface", "network interface name"},
		{"interface brace", func(c *Config) { c.Interface = "eth0{" }, "interface", "network interface name"},
		{"router id", func(c *Config) { c.RouterID = 256 }, "virtual_router_id", "between 1 and 255"},
		{"priority", func(c *Config) { c.Priority = 255 }, "priority", "between 1 and 254"},
		{"advert", func(c *Config) { c.AdvertInterval = 5 * time.Millisecond }, "advert_interval", "multiple of 10ms"},
		{"advert step", func(c *Config) { c.AdvertInterval = 215 * time.Millisecond }, "advert_interval", "multiple of 10ms"},
		{"no peers", func(c *Config) { c.Peers = nil }, "peers", "at least one"},
		{"self peer", func(c *Config) { c.Peers = []netip.Addr{c.SourceIP} }, "peers[0]", "own address"},
		{"dup peer", func(c *Config) { c.Peers = append(c.Peers, c.Peers[0]) }, "peers[1]", "twice"},
		{"vip is member", func(c *Config) { c.VirtualIP = netip.MustParsePrefix("192.0.2.12/24") }, "virtual_ip", "free one"},
		{"vip family", func(c *Config) { c.VirtualIP = netip.MustParsePrefix("2001:db8::1/64") }, "virtual_ip", "address family"},
		{"vip missing", func(c *Config) { c.VirtualIP = netip.Prefix{} }, "virtual_ip", "prefix length"},
		{"no check", func(c *Config) { c.Check = Check{} }, "check", "no listener"},
		{"fall", func(c *Config) { c.CheckFall = -1 }, "check_fall", "between 1 and 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := pair()
			tt.mutate(&c)
			_, err := c.Render()
			var fe *fault.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Render() error = %v, want a FieldError", err)
			}
			found := false
			for _, e := range fault.Fields(err) {
				if e.Path == tt.path && strings.Contains(e.Error(), tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("error %q does not name %s with %q", err, tt.path, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	got, err := ParseStatus("installed 1\nrunning 1\nvip 0\nend\n")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Status{Installed: true, Running: true}, got); d != "" {
		t.Error(d)
	}
	for _, bad := range []string{"", "installed 1\nrunning 1\nend\n", "installed 1\nrunning x\nvip 0\nend\n", "installed 1\nrunning 1\nvip 1\n"} {
		if _, err := ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q) accepted it", bad)
		}
	}
}

func TestSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		200 * time.Millisecond: "0.2", time.Second: "1", 50 * time.Millisecond: "0.05", 1050 * time.Millisecond: "1.05", 40950 * time.Millisecond: "40.95",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%s) = %q, want %q", d, got, want)
		}
	}
}
