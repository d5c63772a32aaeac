// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// The lab's hosts run systemd; this test starts a host of the same image
// whose services run under their SysV init scripts (no systemd at all), and
// applies an HAProxy config there: DetectInit must say sysvinit, and the
// reload goes through service(8) and the Debian init script.
func TestAccApply_SysVinitHost(t *testing.T) {
	inv := acctest.RemoteLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	lb := acctest.Connect(t, inv.SSHConfig(inv.Host(t, "lb1")))
	if got, err := apply.DetectInit(ctx, lb); err != nil || got != apply.Systemd {
		t.Errorf("DetectInit on lb1 = %q, %v; want systemd", got, err)
	}

	h, cfg := inv.StartSysVHost(t)
	c := acctest.Connect(t, cfg)
	init, err := apply.DetectInit(ctx, c)
	if err != nil || init != apply.SysVinit {
		t.Fatalf("DetectInit on a host without systemd = %q, %v; want sysvinit", init, err)
	}
	if _, err := c.Run(ctx, remote.Cmd{Argv: init.Argv(apply.ActionStatus, "haproxy")}); err != nil {
		t.Errorf("%v: %v", init.Argv(apply.ActionStatus, "haproxy"), err)
	}

	web := inv.Host(t, "web1")
	x := acctest.HAProxy{Host: h, Port: accPort}
	conf := x.Config(t, web.Address, 80)
	change := x.Change(t, c, conf, web.Name)
	if want := []string{"service", "haproxy", "reload"}; !slices.Equal(change.Reload, want) {
		t.Fatalf("reload argv %q, want %q", change.Reload, want)
	}
	out, err := apply.Apply(ctx, c, change)
	if err != nil {
		t.Fatalf("apply on the SysV host: %v", err)
	}
	if !out.Reloaded || len(out.Changed) != 1 {
		t.Errorf("apply: Changed %v, Reloaded %v", out.Changed, out.Reloaded)
	}
	if got := h.Sha256(t, haproxy.ConfigPath); got != apply.Checksum(conf) {
		t.Errorf("haproxy.cfg is %s, want %s", got, apply.Checksum(conf))
	}
	out, err = apply.Apply(ctx, c, x.Change(t, c, conf, web.Name))
	if err != nil || len(out.Changed) != 0 || out.Reloaded {
		t.Errorf("second apply: Changed %v, Reloaded %v, err %v; want nothing to do", out.Changed, out.Reloaded, err)
	}
	snap, err := apply.Probe(ctx, c, apply.ProbeRequest{Paths: []string{haproxy.ConfigPath}, Services: []string{"haproxy"}})
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if svc := snap.Services["haproxy"]; snap.Init != apply.SysVinit || !svc.Active() || svc.LoadState != "loaded" {
		t.Errorf("probe: init %q, haproxy %+v; want sysvinit, active, loaded", snap.Init, svc)
	}
	if fi := snap.Files[haproxy.ConfigPath]; fi.SHA256 != apply.Checksum(conf) {
		t.Errorf("probe: haproxy.cfg %+v", fi)
	}
}
