// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"strings"
	"testing"
	"time"
)

func TestSemiSyncSettings(t *testing.T) {
	t.Parallel()
	base := Settings{Role: RoleReplica, ServerID: 7, ReportHost: "10.0.0.2", SemiSync: &SemiSync{Timeout: 2500 * time.Millisecond}}
	for _, c := range []struct {
		flavor Flavor
		v      Version
		want   []string
	}{
		{MariaDB, V(10, 11, 6), []string{
			"rpl_semi_sync_master_enabled = ON", "rpl_semi_sync_slave_enabled = ON",
			"rpl_semi_sync_master_timeout = 2500", "rpl_semi_sync_master_wait_point = AFTER_SYNC",
			"rpl_semi_sync_master_wait_no_slave = OFF"}},
		{MySQL, V(9, 7, 0), []string{
			"plugin_load_add = semisync_source.so;semisync_replica.so",
			"loose_rpl_semi_sync_source_enabled = ON", "loose_rpl_semi_sync_replica_enabled = ON",
			"loose_rpl_semi_sync_source_timeout = 2500", "loose_rpl_semi_sync_source_wait_point = AFTER_SYNC",
			"loose_rpl_semi_sync_source_wait_no_replica = OFF"}},
		{MySQL, V(8, 0, 25), []string{
			"plugin_load_add = semisync_master.so;semisync_slave.so",
			"loose_rpl_semi_sync_master_enabled = ON", "loose_rpl_semi_sync_slave_enabled = ON"}},
	} {
		d, err := NewDialect(c.flavor, c.v)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.RenderSettings(base)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), "\n"+w+"\n") {
				t.Errorf("%s %s: fragment lacks %q:\n%s", c.flavor, c.v, w, out)
			}
		}
		// The fragment reads back, and turning semi_sync on needs a
		// restart (MySQL's plugins load at start; MariaDB's replicas read
		// the setting when their I/O thread starts).
		got, err := ParseFragment(out)
		if err != nil {
			t.Fatal(err)
		}
		off := base
		off.SemiSync = nil
		prev, _ := d.ServerSettings(off)
		if r := d.RestartNeeded(prev, got); len(r) == 0 {
			t.Errorf("%s: turning semi_sync on needs no restart?", c.flavor)
		}
		noSemi, _ := d.RenderSettings(off)
		if strings.Contains(string(noSemi), "semi") {
			t.Errorf("semi_sync off still renders it:\n%s", noSemi)
		}
	}
}

func TestSemiSyncRefused(t *testing.T) {
	t.Parallel()
	d, _ := NewDialect(MySQL, V(9, 7, 0))
	s := Settings{Role: RolePrimary, ServerID: 7, ReportHost: "10.0.0.2", SemiSync: &SemiSync{Timeout: time.Second}}
	for _, c := range []struct {
		name  string
		semi  SemiSync
		extra map[string]string
		want  string
	}{
		{"short timeout", SemiSync{Timeout: 10 * time.Millisecond}, nil, `semi_sync.timeout = "10ms" is not valid: must be whole milliseconds between 100ms and 24h0m0s`},
		{"fraction", SemiSync{Timeout: 1500 * time.Microsecond * 100}, nil, ""},
		{"sub-millisecond", SemiSync{Timeout: time.Second + time.Microsecond}, nil, "whole milliseconds"},
	} {
		s := s
		s.SemiSync, s.Extra = &c.semi, c.extra
		_, err := d.ServerSettings(s)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := ValidateSetting("settings", "rpl_semi_sync_master_enabled", "ON"); err == nil || !strings.Contains(err.Error(), "semi_sync") {
		t.Errorf("rpl_semi_sync_master_enabled in settings: %v", err)
	}
	c := Cluster{SemiSync: &SemiSync{Timeout: 50 * time.Millisecond}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `semi_sync.timeout = "50ms"`) {
		t.Errorf("cluster with a 50ms semi_sync.timeout: %v", err)
	}
}
