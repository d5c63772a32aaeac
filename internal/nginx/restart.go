// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// RestartDelay is the pause before systemd restarts a dead nginx.
const RestartDelay = time.Second

// RestartDropIn is the provider's drop-in for Debian's nginx.service, which
// has no Restart=: a master killed by a signal or the OOM killer leaves the
// site down until someone starts nginx again. With it, systemd restarts
// nginx (Restart=on-failure, RestartSec=1s); a clean `systemctl stop nginx`
// still stops it. Hosts without systemd get no drop-in: there nothing
// restarts a dead nginx.
//
// Every site on a host shares it: Deploy writes it (the same bytes for
// every site), Remove of the last site on the host takes it away.
func RestartDropIn(l Layout) apply.RestartDropIn {
	return apply.RestartDropIn{Unit: "nginx", Policy: "on-failure", Delay: RestartDelay, SystemdDir: l.withDefaults().SystemdDir}
}

// RestartDropInSHA256 is the checksum the drop-in has on a host where it is
// as the provider writes it.
func RestartDropInSHA256(l Layout) string { return apply.Checksum(RestartDropIn(l).Render()) }

// applyRestartDropIn puts the drop-in in place on a systemd host (nothing
// on other hosts), under nginx's apply lock.
func applyRestartDropIn(ctx context.Context, r remote.Runner, d Deployment, init apply.Init, res *Result) error {
	if init != apply.Systemd {
		return nil
	}
	di := RestartDropIn(d.Layout)
	if err := di.Validate(); err != nil {
		return err
	}
	out, err := apply.Apply(ctx, r, di.Change(d.Host, d.StateDir, SiteLock))
	res.Warnings = append(res.Warnings, out.Warnings...)
	if err != nil {
		return fmt.Errorf("installing nginx's restart drop-in %s on %s: %w", di.Path(), hostName(d.Host), err)
	}
	res.RestartDropInChanged = len(out.Changed) > 0
	return nil
}

// removeDropInUnlessUsedScript removes nginx's restart drop-in unless
// another deployment record is left in the state directory (another site
// on the host still uses nginx), under nginx's apply lock so that a
// concurrent Deploy of another site cannot lose its drop-in. Arguments:
// the web records' directory, the drop-in's path, the state directory, the
// lock name.
const removeDropInUnlessUsedScript = `
S=$3 LOCK=$4
if command -v flock >/dev/null 2>&1; then
  (umask 077 && mkdir -p -- "$S/locks") || exit 70
  exec 9>>"$S/locks/$LOCK.lock" || exit 70
  flock -w 120 9 || { echo "foobar: timed out after 120s waiting for the lock $LOCK" >&2; exit 75; }
fi
for m in "$1"/*/meta.json; do
  if [ -e "$m" ]; then exit 0; fi
done
p=$2
if [ -e "$p" ] || [ -L "$p" ]; then
  rm -f -- "$p" "$p.foobar-bak" "$p.foobar-bak-none" "$p.foobar-new" || exit 1
  rmdir -- "$(dirname -- "$p")" 2>/dev/null
  systemctl daemon-reload 9>&- || exit 1
fi
exit 0
`

// removeRestartDropIn takes the drop-in away when no site is left on the
// host (run after the site's own record is removed).
func removeRestartDropIn(ctx context.Context, r remote.Runner, l Layout, stateDir string, init apply.Init) error {
	if init != apply.Systemd {
		return nil
	}
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	webDir := path.Dir(MetaDir(stateDir, "x"))
	_, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(removeDropInUnlessUsedScript, webDir, RestartDropIn(l).Path(), stateDir, SiteLock)})
	return err
}
