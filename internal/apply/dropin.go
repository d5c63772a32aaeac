// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// DefaultSystemdDir is where systemd reads the administrator's units and
// drop-ins.
const DefaultSystemdDir = "/etc/systemd/system"

// RestartDropInName is the file name of the provider's restart drop-in in a
// unit's <unit>.service.d directory.
const RestartDropInName = "foobar-restart.conf"

// RestartDropIn is a systemd drop-in the provider owns that makes a
// distribution's unit restart its service when it dies (Debian's
// nginx.service has no Restart=, so a crashed nginx stays down until
// someone starts it). The drop-in only adds Restart= and RestartSec=; every
// other setting stays the distribution's.
type RestartDropIn struct {
	// Unit is the service's unit name without ".service" (nginx).
	Unit string
	// Policy is systemd's Restart= value: "on-failure" or "always".
	Policy string
	// Delay is RestartSec=, at least one second.
	Delay time.Duration
	// SystemdDir defaults to DefaultSystemdDir.
	SystemdDir string
}

// Path is <systemd dir>/<unit>.service.d/foobar-restart.conf.
func (d RestartDropIn) Path() string {
	dir := d.SystemdDir
	if dir == "" {
		dir = DefaultSystemdDir
	}
	return path.Join(dir, d.Unit+".service.d", RestartDropInName)
}

func (d RestartDropIn) delaySeconds() int {
	s := int((d.Delay + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// Validate checks the unit name and the policy.
func (d RestartDropIn) Validate() error {
	if err := ValidateServiceName(d.Unit); err != nil {
		return err
	}
	switch d.Policy {
	case "on-failure", "always":
	default:
		return fmt.Errorf("restart policy %q must be \"on-failure\" or \"always\"", d.Policy)
	}
	return nil
}

// Render returns the drop-in's bytes (deterministic: same input, same
// checksum).
func (d RestartDropIn) Render() []byte {
	var b strings.Builder
	b.WriteString("# Managed by terraform-provider-foobar; manual changes will be reverted.\n")
	fmt.Fprintf(&b, "# Restarts %s when it dies (a crash or a kill), so that it comes back without an apply.\n", d.Unit)
	b.WriteString("[Service]\n")
	fmt.Fprintf(&b, "Restart=%s\n", d.Policy)
	fmt.Fprintf(&b, "RestartSec=%ds\n", d.delaySeconds())
	return []byte(b.String())
}

// File is the drop-in as a managed file (root:root 0644).
func (d RestartDropIn) File() File {
	return File{Path: d.Path(), Content: d.Render(), Owner: DefaultOwner, Group: DefaultGroup, Mode: DefaultMode}
}

// ReloadArgv makes systemd read the drop-in: systemctl daemon-reload. The
// service itself is not restarted: Restart= applies to its next death.
func (d RestartDropIn) ReloadArgv() []string {
	return []string{"systemctl", "daemon-reload"}
}

// restartPolicyScript prints the unit's Restart= as systemd sees it and
// fails when it is not the wanted one. Arguments: unit, wanted policy.
const restartPolicyScript = `
got=$(systemctl show -p Restart --value -- "$1") || exit 1
if [ "$got" != "$2" ]; then
  echo "systemd reports Restart=$got for $1, not $2" >&2
  exit 1
fi
`

// Verify checks that systemd took the drop-in: the unit's Restart= is the
// wanted policy.
func (d RestartDropIn) Verify(ctx context.Context, r remote.Runner) error {
	_, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(restartPolicyScript, d.Unit+".service", d.Policy)})
	if ee, ok := errors.AsType[*remote.ExitError](err); ok {
		return fmt.Errorf("%s (exit status %d)", strings.TrimSpace(ee.Stderr), ee.ExitStatus)
	}
	return err
}

// Change is the engine change that puts the drop-in in place: written
// atomically, systemctl daemon-reload, Restart= verified; a failure puts
// the previous file back. lock is the service's apply lock.
func (d RestartDropIn) Change(host, stateDir, lock string) Change {
	return Change{
		Files:    []File{d.File()},
		Reload:   d.ReloadArgv(),
		Verify:   d.Verify,
		Lock:     lock,
		Host:     host,
		StateDir: stateDir,
	}
}
