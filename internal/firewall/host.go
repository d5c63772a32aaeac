// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package firewall

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Limits of the confirmation deadline.
const (
	MinConfirmTimeout     = 10 * time.Second
	MaxConfirmTimeout     = 10 * time.Minute
	DefaultConfirmTimeout = 60 * time.Second
)

// Dialer opens a NEW connection to the host (never a pooled or multiplexed
// one: the point is to prove that a connection made under the new rules
// works) and returns a runner on it and a function that closes it.
type Dialer func(ctx context.Context) (remote.Runner, func(), error)

// Deployment is one firewall change on one host.
type Deployment struct {
	// Host names the host in messages.
	Host string
	// Ruleset is the rendered file (Config.Render).
	Ruleset []byte
	// ConfirmTimeout is the deadline after which the host restores the
	// previous table unless a new connection confirmed the change.
	ConfirmTimeout time.Duration
	// Dial opens the confirming connection.
	Dial Dialer
	// Log receives progress messages; nil: none.
	Log func(msg string, fields map[string]any)
}

// Result is what Deploy left on the host.
type Result struct {
	// Listing is `nft list table inet foobar` after the change: the table
	// as nftables prints it, which Inspect compares with to find drift.
	Listing []byte
	// Warnings are things an operator should know that did not fail the
	// change.
	Warnings []string
}

// RolledBackError is a change that the host undid because no new SSH
// connection could confirm it within the deadline.
type RolledBackError struct {
	Host    string
	Timeout time.Duration
	// Cause is why the confirmation failed (the last dial or sudo error).
	Cause error
	// Verified is true when, after the deadline, a new connection found the
	// rollback done and the previous table in place.
	Verified bool
	// VerifyErr is why the rollback could not be verified.
	VerifyErr error
}

func (e *RolledBackError) Error() string {
	head := fmt.Sprintf("the new firewall rules on %s cut this provider's access: a new SSH connection (with sudo) could not be made within %s "+
		"after loading them (%v). ", e.Host, e.Timeout, e.Cause)
	if e.Verified {
		return head + "As scheduled before the load, the host restored its previous rules (table inet foobar as it was, or none) when the deadline passed; " +
			"a new SSH connection after that works and found the previous table in place. Check admin_sources and ssh_port: they must include the " +
			"address this machine connects from."
	}
	return head + fmt.Sprintf("The host was scheduled to restore its previous rules when the deadline passed, but that could not be verified afterwards (%v); "+
		"check the host from its console (`nft list table inet foobar`, `cat %s/status`).", e.VerifyErr, RunDir)
}

func (e *RolledBackError) Unwrap() error { return e.Cause }

func (d Deployment) log(msg string, fields map[string]any) {
	if d.Log != nil {
		d.Log(msg, fields)
	}
}

func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func exitStatus(err error) (int, string, bool) {
	var ee *remote.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus, strings.TrimSpace(ee.Stderr), true
	}
	return 0, "", false
}

func stepErr(step, summary string, err error, msg string) error {
	return &fault.StepError{Step: step, Summary: summary, Err: err, Msg: msg}
}

// Deploy replaces the host's table inet foobar with d.Ruleset, "commit
// confirmed":
//
//  1. one round trip (the existing connection) uploads the ruleset,
//     checks it with `nft -c -f` (a refusal changes nothing), saves the
//     live table, schedules the automatic rollback (a transient systemd
//     timer, or a detached sleeper without systemd: both outlive the SSH
//     session), and loads the ruleset with one atomic `nft -f`;
//  2. a NEW connection (d.Dial) with sudo confirms the load before the
//     deadline: the rollback is cancelled, the ruleset persisted for boot;
//  3. when no new connection works within the deadline, Deploy waits for
//     the rollback, verifies it over a new connection, and returns a
//     *RolledBackError.
func Deploy(ctx context.Context, r remote.Runner, d Deployment) (Result, error) {
	var res Result
	if d.ConfirmTimeout == 0 {
		d.ConfirmTimeout = DefaultConfirmTimeout
	}
	if d.ConfirmTimeout < MinConfirmTimeout || d.ConfirmTimeout > MaxConfirmTimeout {
		return res, fmt.Errorf("confirm timeout %s is outside %s-%s", d.ConfirmTimeout, MinConfirmTimeout, MaxConfirmTimeout)
	}
	if d.Dial == nil {
		return res, errors.New("firewall: no way to open a new connection for the confirmation")
	}
	// The host must be one the provider changes (nftables' layout and
	// systemd units are Debian's); refused before anything is loaded.
	snap, err := apply.Probe(ctx, r, apply.ProbeRequest{})
	if err != nil {
		return res, stepErr("probe", "Firewall Error", err, fmt.Sprintf("could not inspect %s: %v. Nothing was changed.", d.Host, err))
	}
	if err := snap.SupportedSystem(); err != nil {
		return res, stepErr("probe", "Unsupported System", err, fmt.Sprintf("%s: %v. Nothing was changed.", d.Host, err))
	}
	tok := newToken()
	secs := int64(d.ConfirmTimeout / time.Second)
	start := time.Now()
	d.log("loading the firewall with an automatic rollback", map[string]any{"host": d.Host, "rollback_after": d.ConfirmTimeout.String()})
	out, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(loadScript, strconv.FormatInt(secs, 10), tok), Stdin: bytes.NewReader(d.Ruleset)})
	if err != nil {
		status, stderr, ok := exitStatus(err)
		switch {
		case ok && status == exitInvalid:
			return res, stepErr("validate", "Invalid Firewall Rules", err, fmt.Sprintf(
				"nft -c refused the firewall rules for %s, so nothing was loaded: the live ruleset is unchanged.\n%s", d.Host, stderr))
		case ok && status == exitNoNft:
			return res, stepErr("probe", "Firewall Error", err, fmt.Sprintf(
				"%s has no nft command: install the nftables package (apt-get install nftables). Nothing was changed.", d.Host))
		case ok && (status == exitPending || status == exitLocked):
			return res, stepErr("lock", "Firewall Error", err, fmt.Sprintf("%s: %s. Nothing was changed.", d.Host, stderr))
		case ok && status == exitLoad:
			return res, stepErr("load", "Firewall Error", err, fmt.Sprintf(
				"nft -f failed to load the firewall rules on %s (nft loads a file atomically, so the previous rules are still active):\n%s", d.Host, stderr))
		case ok && status == exitSchedule:
			return res, stepErr("schedule", "Firewall Error", err, fmt.Sprintf(
				"could not schedule the automatic rollback on %s, so the new rules were not loaded: %s", d.Host, stderr))
		case ok:
			return res, stepErr("load", "Firewall Error", err, fmt.Sprintf(
				"loading the firewall rules on %s failed before the load (the previous rules are still active): %v", d.Host, err))
		}
		return res, stepErr("load", "Firewall Error", err, fmt.Sprintf(
			"the connection to %s failed while loading the firewall rules (%v). If the rules were loaded, the host restores the previous ones "+
				"%s after the load unless confirmed; run apply again after that.", d.Host, err, d.ConfirmTimeout))
	}
	d.log("loaded; confirming over a new SSH connection", map[string]any{"host": d.Host, "schedule": strings.TrimSpace(string(out.Stdout))})

	deadline := start.Add(d.ConfirmTimeout - 2*time.Second)
	listing, cerr := confirm(ctx, d, tok, deadline)
	if cerr == nil {
		res.Listing = listing
		return res, nil
	}
	var rolled *rolledAlready
	if ctx.Err() != nil && !errors.As(cerr, &rolled) {
		return res, stepErr("confirm", "Firewall Error", cerr, fmt.Sprintf(
			"the apply was interrupted before the new firewall rules on %s were confirmed (%v); unless confirmed, the host restores the previous rules %s after the load.",
			d.Host, cerr, d.ConfirmTimeout))
	}
	d.log("confirmation failed; waiting for the host's rollback", map[string]any{"host": d.Host, "error": cerr.Error()})
	rb := &RolledBackError{Host: d.Host, Timeout: d.ConfirmTimeout, Cause: cerr}
	rb.Verified, rb.VerifyErr = verifyRollback(ctx, d, tok, start.Add(d.ConfirmTimeout))
	return res, &fault.StepError{Step: "confirm", Summary: "Firewall Rolled Back", Err: rb}
}

// rolledAlready is the confirmation finding that the rollback fired first.
type rolledAlready struct{ status string }

func (e *rolledAlready) Error() string {
	return "the automatic rollback fired before the confirmation: " + e.status
}

// confirm tries new connections until one confirms load tok or the deadline
// passes.
func confirm(ctx context.Context, d Deployment, tok string, deadline time.Time) ([]byte, error) {
	var last error
	for attempt := 1; ; attempt++ {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			if last == nil {
				last = errors.New("no time left")
			}
			return nil, last
		}
		out, err := confirmOnce(ctx, d, tok, remaining)
		if err == nil {
			return out, nil
		}
		var rolled *rolledAlready
		if errors.As(err, &rolled) || ctx.Err() != nil {
			return nil, err
		}
		last = err
		d.log("confirmation attempt failed", map[string]any{"host": d.Host, "attempt": attempt, "error": err.Error()})
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// confirmOnce dials within dialFor; once connected, the confirmation may
// take longer: on the host it races the rollback under a lock, and exactly
// one of them wins.
func confirmOnce(ctx context.Context, d Deployment, tok string, dialFor time.Duration) ([]byte, error) {
	dctx, cancel := context.WithTimeout(ctx, dialFor)
	r, closeFn, err := d.Dial(dctx)
	cancel()
	if err != nil {
		return nil, err
	}
	defer closeFn()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := r.Run(rctx, remote.Cmd{Argv: remote.Script(confirmScript, tok)})
	if err != nil {
		if status, stderr, ok := exitStatus(err); ok && status == exitRolled {
			return nil, &rolledAlready{status: stderr}
		}
		return nil, err
	}
	_, listing, _ := bytes.Cut(out.Stdout, []byte("---listing\n"))
	return listing, nil
}

// verifyRollback waits until the rollback deadline has passed, then checks
// over new connections that load tok was rolled back.
func verifyRollback(ctx context.Context, d Deployment, tok string, due time.Time) (bool, error) {
	wait := time.Until(due.Add(2 * time.Second))
	if wait > 0 {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(wait):
		}
	}
	giveUp := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(giveUp) {
		actx, cancel := context.WithTimeout(ctx, time.Until(giveUp))
		last = func() error {
			r, closeFn, err := d.Dial(actx)
			if err != nil {
				return fmt.Errorf("a new SSH connection still fails: %w", err)
			}
			defer closeFn()
			out, err := r.Run(actx, remote.Cmd{Argv: remote.Script(statusScript, tok)})
			if err != nil {
				return err
			}
			status, _, _ := strings.Cut(string(out.Stdout), "\n")
			switch {
			case strings.HasPrefix(status, "rolled-back "+tok+" "):
				return nil
			case status == "pending":
				return errors.New("the rollback has not fired yet")
			default:
				return fmt.Errorf("the rollback status is %q", status)
			}
		}()
		cancel()
		if last == nil || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if last != nil {
		return false, last
	}
	return true, nil
}

// Inspection is the live table.
type Inspection struct {
	// Present is false when the host has no table inet foobar.
	Present bool
	// Listing is `nft list table inet foobar`.
	Listing []byte
}

// Inspect lists the live table in one round trip.
func Inspect(ctx context.Context, r remote.Runner, host string) (Inspection, error) {
	out, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(inspectScript)})
	if err != nil {
		if status, _, ok := exitStatus(err); ok && status == exitNoNft {
			// No nft, so no table: the plan shows the firewall gone, and
			// the apply says what is missing.
			return Inspection{}, nil
		}
		return Inspection{}, stepErr("inspect", "Read Firewall Error", err, fmt.Sprintf("listing the firewall on %s: %v", host, err))
	}
	first, rest, _ := bytes.Cut(out.Stdout, []byte("\n"))
	if string(first) == "present" {
		return Inspection{Present: true, Listing: rest}, nil
	}
	return Inspection{}, nil
}

// Remove deletes the table inet foobar (only it), the persisted ruleset and
// its boot unit. Removing rules never locks anyone out.
func Remove(ctx context.Context, r remote.Runner, host string) error {
	if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(removeScript)}); err != nil {
		msg := fmt.Sprintf("removing the firewall (table inet foobar) from %s failed: %v", host, err)
		if _, stderr, ok := exitStatus(err); ok && stderr != "" {
			msg = fmt.Sprintf("removing the firewall (table inet foobar) from %s failed: %s", host, stderr)
		}
		return stepErr("remove", "Remove Firewall Error", err, msg)
	}
	return nil
}
