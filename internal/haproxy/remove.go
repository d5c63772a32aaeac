// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"context"
	"fmt"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Removal names the host Remove gives its configuration back to.
type Removal struct {
	// Host names the host in messages.
	Host string
}

// Remove gives the host behind r back the haproxy.cfg found before the
// first Deploy (apply.RestoreOriginal: validated with haproxy -c, swapped,
// reloaded and verified, or rolled back), removes the Record and every
// support file, and leaves HAProxy installed and running. Without HAProxy
// on the host the files are put back without a reload. Errors are
// *fault.StepError; warnings say what was left behind after a successful
// restore.
func Remove(ctx context.Context, r remote.Runner, rm Removal) (warnings []string, err error) {
	host := rm.Host
	hp, err := probeHost(ctx, r)
	if err != nil {
		return nil, stepError(StepInspect, "", err, fmt.Sprintf("Could not inspect %s: %s. Nothing was changed.", host, err))
	}
	paths := []string{ConfigPath, RecordPath}
	paths = append(paths, StaleFiles(hp.listing, nil)...)
	rs := apply.Restore{Paths: paths, Lock: LockName, Host: host}
	if !hp.missing {
		rs.Validate = ValidateArgv(ConfigPath)
		rs.ValidateFilter = FilterCheckOutput
		rs.Reload = hp.reloadArgv()
		rs.Verify = Verifier(hp.procs, nil, EndpointsFromConfig(hp.config), 0)
	}
	if err := apply.RestoreOriginal(ctx, r, rs); err != nil {
		return nil, stepError(StepRestore, "", err, "")
	}
	if _, err := r.Run(ctx, remote.Cmd{Argv: CleanupArgv()}); err != nil {
		warnings = append(warnings, fmt.Sprintf("The original configuration on %s was restored, but removing %s failed: %s", host, FilesDir, err))
	}
	return warnings, nil
}
