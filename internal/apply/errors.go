// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Serving is the sentence every failure that left the host as it was ends
// with. Callers and tests may look for it; operators read it.
const Serving = "the previous configuration is serving"

// ValidationError means the service's own validator refused the whole
// configuration as the candidates would have made it. Normally it ran
// before any live file changed (Swapped false); on a host without a private
// mount namespace it ran with the candidates in place (Swapped true) and
// the live files were put back (unless Restored is false). The service was
// never reloaded.
type ValidationError struct {
	Host       string
	Argv       []string
	ExitStatus int
	// Output is the validator's output, passed through Change.ValidateFilter.
	Output string
	// Paths are the managed paths that were to change.
	Paths []string
	// Swapped: the candidates were at the live paths while the validator
	// ran (the fallback when the host cannot make a private mount
	// namespace).
	Swapped bool
	// Restored is false when putting the previous files back failed;
	// RestoreDetail then says what the host reported.
	Restored      bool
	RestoreDetail string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "validation of the new configuration failed on %s: %s exited with status %d%s", e.Host, describeArgv(e.Argv), e.ExitStatus, statusHint(e.ExitStatus))
	writeOutput(&b, e.Output)
	switch {
	case !e.Swapped:
		fmt.Fprintf(&b, "\nNothing was applied, no live file was changed and the service was not reloaded: %s.", Serving)
		return b.String()
	case e.Restored:
		fmt.Fprintf(&b, "\nNothing was applied and the service was not reloaded: the previous files were put back and %s.", Serving)
		return b.String()
	}
	fmt.Fprintf(&b, "\nRestoring the previous files FAILED, so the refused files may still be in place at %s "+
		"(the previous ones are next to them as <path>%s). The service was not reloaded and still runs its previous "+
		"configuration, but it would not start from the files on disk: move each <path>%s back over <path> by hand, "+
		"or apply a valid configuration.", strings.Join(e.Paths, ", "), SuffixBackup, SuffixBackup)
	writeDetail(&b, e.RestoreDetail)
	return b.String()
}

// ReloadError means the configuration validated but the reload command
// failed. The previous files were put back and the service reloaded again.
type ReloadError struct {
	Host       string
	Argv       []string
	ExitStatus int
	Output     string
	Paths      []string
	// Restored reports whether the previous files were put back;
	// PreviousReloaded whether the reload after that succeeded (its output is
	// PreviousOutput).
	Restored         bool
	PreviousReloaded bool
	PreviousOutput   string
	RestoreDetail    string
}

func (e *ReloadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reloading the service failed on %s: %s exited with status %d%s", e.Host, describeArgv(e.Argv), e.ExitStatus, statusHint(e.ExitStatus))
	writeOutput(&b, e.Output)
	switch {
	case e.Restored && e.PreviousReloaded:
		fmt.Fprintf(&b, "\nThe previous files were put back and reloaded: %s.", Serving)
	case e.Restored:
		fmt.Fprintf(&b, "\nThe previous files were put back, but reloading them failed too, so the service may not be "+
			"running: check it on the host and start it by hand.")
		writeOutput(&b, e.PreviousOutput)
	default:
		fmt.Fprintf(&b, "\nRestoring the previous files FAILED: the new files are in place at %s and the service may "+
			"not be running. Move each <path>%s back over <path> by hand and reload the service, or apply a "+
			"working configuration.", strings.Join(e.Paths, ", "), SuffixBackup)
		writeDetail(&b, e.RestoreDetail)
	}
	return b.String()
}

// VerifyError means the configuration validated and reloaded, but
// Change.Verify found the service not answering or not running the new
// configuration. The engine rolled back (put the previous files back and
// reloaded) and ran Verify again.
type VerifyError struct {
	Host string
	Err  error
	// Restored reports whether the previous files were put back, and
	// RolledBack whether they were also reloaded; RollbackDetail says what
	// went wrong otherwise.
	Restored       bool
	RolledBack     bool
	RollbackDetail string
	// AfterRollback is Verify's answer after the rollback (nil: the previous
	// configuration answers).
	AfterRollback error
	// FirstInstall: none of the files existed before, so the rollback
	// removed them all (and its reload stopped what they had started), and
	// there was no previous configuration to verify.
	FirstInstall bool
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verification after reloading the new configuration failed on %s: %v", e.Host, e.Err)
	switch {
	case e.RolledBack && e.FirstInstall:
		fmt.Fprintf(&b, "\nNothing of it existed on the host before: the rollback removed the new files and reloaded "+
			"(an application the apply had started was stopped): none of these files is left, and nothing they started runs.")
	case e.RolledBack && e.AfterRollback == nil:
		fmt.Fprintf(&b, "\nThe new configuration was rolled back and verified: %s.", Serving)
	case e.RolledBack:
		fmt.Fprintf(&b, "\nThe previous configuration was restored and reloaded, but it fails verification too (%v): "+
			"the problem is probably not this change; check the service on the host.", e.AfterRollback)
	case e.Restored:
		fmt.Fprintf(&b, "\nThe previous files were put back, but reloading them FAILED, so the service may still run "+
			"the new configuration or may be down: check it on the host and reload or start it by hand.")
		writeDetail(&b, e.RollbackDetail)
	default:
		fmt.Fprintf(&b, "\nRolling back FAILED: the new configuration, which failed verification, is still in place "+
			"and loaded. Move each <path>%s back over <path> by hand and reload the service, or run apply again.",
			SuffixBackup)
		writeDetail(&b, e.RollbackDetail)
	}
	return b.String()
}

func (e *VerifyError) Unwrap() error { return e.Err }

// InterruptedError means the client lost the host in the middle of a
// commit or rollback. The host-side part runs to completion on its own; its
// report stays in Report on the host. The next apply waits for it (the lock)
// and converges.
type InterruptedError struct {
	Host   string
	Report string
	Err    error
}

func (e *InterruptedError) Error() string {
	what := fmt.Sprintf("lost contact with %s while committing the configuration: %v", e.Host, e.Err)
	if errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded) {
		// The operator (Ctrl-C) or a timeout stopped the client; the host
		// was still there.
		what = fmt.Sprintf("the apply was interrupted while committing the configuration on %s (%v)", e.Host, e.Err)
	}
	return fmt.Sprintf("%s. If the commit had started, it "+
		"runs to completion on the host on its own and either applies the new configuration or restores the "+
		"previous one (its report: %s); if it had not, nothing changed. Run apply again to converge and to see which.",
		what, e.Report)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// ConflictError means files on the host changed between this apply's steps,
// which only happens when something else (another apply of the same files)
// is changing them. Nothing was changed by the step that found it.
type ConflictError struct {
	Host  string
	Paths []string
	Stage string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s on %s stopped: %s changed on the host since this apply looked at it (is another apply "+
		"of the same files running?). Nothing was changed by this step; run apply again.",
		e.Stage, e.Host, strings.Join(e.Paths, ", "))
}

// scriptError shortens the error of one of the engine's own scripts: the
// operator needs the script's complaint and exit status, not its text.
type scriptError struct{ ee *remote.ExitError }

func (e *scriptError) Error() string {
	if msg := strings.TrimSpace(e.ee.Stderr); msg != "" {
		return fmt.Sprintf("%s (exit status %d)", truncate(msg, 4096), e.ee.ExitStatus)
	}
	return fmt.Sprintf("exit status %d", e.ee.ExitStatus)
}

func (e *scriptError) Unwrap() error { return e.ee }

// hostErr wraps the error of Running one of the engine's scripts.
func hostErr(err error) error {
	if ee, ok := errors.AsType[*remote.ExitError](err); ok {
		return &scriptError{ee: ee}
	}
	return err
}

// statusHint explains the exit statuses that come from the shell or from
// timeout(1) rather than from the command itself.
func statusHint(status int) string {
	switch status {
	case 124, 137:
		return " (it did not finish in time and was killed)"
	case 126:
		return " (the command is not executable)"
	case 127:
		return " (the command was not found on the host)"
	}
	return ""
}

// describeArgv shows a command the way an operator recognises it, cut short
// when it is a long script.
func describeArgv(argv []string) string {
	return truncate(strings.Join(strings.Fields(remote.Join(argv)), " "), 160)
}

func writeOutput(b *strings.Builder, out string) {
	out = strings.TrimSpace(out)
	if out == "" {
		return
	}
	b.WriteString(":\n")
	b.WriteString(out)
}

func writeDetail(b *strings.Builder, d string) {
	d = strings.TrimSpace(d)
	if d == "" {
		return
	}
	b.WriteString("\nHost reported:\n")
	b.WriteString(truncate(d, 4096))
}
