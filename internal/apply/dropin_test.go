// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRestartDropIn(t *testing.T) {
	t.Parallel()
	d := RestartDropIn{Unit: "nginx", Policy: "on-failure", Delay: 300 * time.Millisecond}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := d.Path(), "/etc/systemd/system/nginx.service.d/foobar-restart.conf"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	want := "# Managed by terraform-provider-foobar; manual changes will be reverted.\n" +
		"# Restarts nginx when it dies (a crash or a kill), so that it comes back without an apply.\n" +
		"[Service]\nRestart=on-failure\nRestartSec=1s\n"
	if diff := cmp.Diff(want, string(d.Render())); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
	if f := d.File(); f.Mode != 0o644 || f.Owner != "root" || f.Group != "root" {
		t.Errorf("File = %+v", f)
	}
	for _, bad := range []RestartDropIn{{Unit: "../x", Policy: "always"}, {Unit: "nginx", Policy: "no"}, {Unit: "nginx"}} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) accepted it", bad)
		}
	}
}
