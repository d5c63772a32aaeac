// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// TestAccInstallPackagesWaitsForDpkgLock: on lb3, another apt-get holds
// dpkg's lock (a reinstall of adduser from the lab's package source whose
// DPkg::Pre-Invoke hook sleeps 5 s) when InstallPackages starts. It waits
// for the lock and succeeds, where apt-get without DPkg::Lock::Timeout fails
// at once with "Could not get lock" (two resources installing on one host
// in the same apply, or unattended-upgrades, hold it the same way). The
// holder's hook marks when it let go: InstallPackages returns after that.
func TestAccInstallPackagesWaitsForDpkgLock(t *testing.T) {
	inv := acctest.RemoteLab(t)
	h := inv.Host(t, "lb3")
	c := acctest.Connect(t, inv.SSHConfig(h))
	h.Exec(t, "sh", "-c", `rm -f /tmp/foobar-lock-held /tmp/foobar-lock-released
(DEBIAN_FRONTEND=noninteractive apt-get install --reinstall -y -q \
  -o DPkg::Pre-Invoke::="touch /tmp/foobar-lock-held; sleep 5; touch /tmp/foobar-lock-released" adduser \
  </dev/null >/tmp/foobar-lock-holder.log 2>&1 &)
i=0
while [ ! -e /tmp/foobar-lock-held ]; do
  i=$((i+1))
  if [ "$i" -gt 300 ]; then echo "the holder never took dpkg's lock:" >&2; cat /tmp/foobar-lock-holder.log >&2; exit 1; fi
  sleep 0.1
done`)
	t.Cleanup(func() {
		_, _ = h.TryExec("sh", "-c", "while pgrep -x apt-get >/dev/null; do sleep 0.2; done; rm -f /tmp/foobar-lock-held /tmp/foobar-lock-released /tmp/foobar-lock-holder.log")
	})
	// Control: apt-get without the option fails at once while the lock is
	// held (so the holder really holds it).
	if out, err := h.TryExec("sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q keepalived </dev/null 2>&1"); err == nil || !strings.Contains(out, "Could not get lock") {
		t.Fatalf("apt-get without DPkg::Lock::Timeout while the lock is held: err %v, output:\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := apply.InstallPackages(ctx, c, []string{"keepalived"}); err != nil {
		t.Fatalf("InstallPackages while another apt-get holds dpkg's lock: %v", err)
	}
	if out := h.Exec(t, "sh", "-c", "[ -e /tmp/foobar-lock-released ] && echo released; true"); strings.TrimSpace(out) != "released" {
		t.Fatalf("InstallPackages returned before the holder let go of dpkg's lock")
	}
}
