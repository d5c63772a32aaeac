// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Restore describes the undoing of a takeover, for a resource's Delete. The
// fields mean what they mean in Change.
type Restore struct {
	// Paths are the managed paths to give back.
	Paths []string

	Validate        []string
	ValidatePrivate []string
	ValidateFilter  func(output string) string
	Reload          []string
	Verify          func(ctx context.Context, r remote.Runner) error

	Lock        string
	Host        string
	StateDir    string
	LockWait    time.Duration
	StepTimeout time.Duration

	flock string
}

// RestoreOriginal gives back what Change.KeepOriginal saved: each path
// with a <path>.foobar-orig gets that file back, each path with a
// <path>.foobar-orig-none marker is removed, and a path with neither (the
// engine never replaced it) is left as it is. It runs like a commit: under
// the lock, detached, with backups, Validate (when given) and Reload; a
// failure puts the managed files back and reports as Apply does. The saved
// originals are deleted only once everything succeeded. Nothing is reloaded
// when there was nothing to restore. Directories created by Apply stay.
func RestoreOriginal(ctx context.Context, r remote.Runner, rs Restore) error {
	t, err := newTxn(r, rs.Host, rs.StateDir, rs.Lock, rs.LockWait, rs.StepTimeout, rs.flock)
	if err != nil {
		return err
	}
	if len(rs.Paths) == 0 {
		return nil
	}
	seen := map[string]bool{}
	ops := make([]op, 0, len(rs.Paths))
	for _, p := range rs.Paths {
		if err := ValidatePath(p); err != nil {
			return err
		}
		if seen[p] {
			return fmt.Errorf("path %s appears twice", p)
		}
		seen[p] = true
		ops = append(ops, op{kind: opOrig, sha: "-", path: p})
	}
	if err := validateArgv("validate", rs.Validate); err != nil {
		return err
	}
	if err := validateArgv("reload", rs.Reload); err != nil {
		return err
	}
	if err := validatePrivate(rs.ValidatePrivate); err != nil {
		return err
	}
	t.validate, t.filter, t.reload, t.verify = rs.Validate, rs.ValidateFilter, rs.Reload, rs.Verify
	t.private = rs.ValidatePrivate

	rep, err := t.run(ctx, "restore", ops, true, true, t.verify == nil)
	if err != nil {
		return fmt.Errorf("restoring the original files: %w", err)
	}
	if err := t.commitError(rep, ops); err != nil {
		return fmt.Errorf("restoring the original files: %w", err)
	}
	if rep.result == "unchanged" || t.verify == nil {
		return nil
	}
	// A restore puts back files that existed: never a first install.
	if err := t.verifyOrRollback(ctx, ops, false); err != nil {
		return fmt.Errorf("restoring the original files: %w", err)
	}
	if err := t.cleanup(ctx, "cleanup-restore", ops); err != nil {
		return errors.Join(fmt.Errorf("the original files on %s were restored and verified, but removing the saved "+
			"copies and backups failed; remove the %s and %s files next to %v by hand", t.host, SuffixOrig, SuffixBackup, rs.Paths), err)
	}
	return nil
}
