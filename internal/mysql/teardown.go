// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// TeardownOptions are what Teardown needs besides the cluster.
type TeardownOptions struct {
	// Accounts are every account the resource created (the replication
	// account and the application accounts).
	Accounts []Account
	// Timeout bounds the wait for a restarted server (default 5 minutes).
	Timeout time.Duration
	// ForgetUnreachable lets Teardown skip a member it cannot reach, with
	// a warning naming what stays on it; otherwise such a member is an
	// UnreachableError and nothing is changed on any member.
	ForgetUnreachable bool
}

// UnreachableError is a member the provider could not reach to undo what
// it did there (Teardown, or Converge detaching a member that left).
type UnreachableError struct {
	Host string
	Err  error
	// Left says what stays on the host.
	Left string
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s cannot be reached (%v): %s were NOT removed from it", e.Host, e.Err, e.Left)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// waysOut tells the two ways out: bring the member back, or forget it
// (the resource's forget_unreachable_members), then do again what failed.
func (e *UnreachableError) waysOut(then string) string {
	return fmt.Sprintf("\n\nEither bring %s back (SSH and the database server) and %s again; "+
		"or, to drop it leaving what is listed above on it, set forget_unreachable_members = true on the resource, "+
		"apply (that change alone contacts no host), then %s again.", e.Host, then, then)
}

// leftOn says what an unreachable member keeps of what the provider did.
func leftOn(accounts []Account) string {
	names := make([]string, len(accounts))
	for i, a := range accounts {
		names[i] = a.String()
	}
	return fmt.Sprintf("replication (its source, user and password), the provider's accounts (%s), read-only, and the provider's settings files (the server settings fragment and %s)",
		strings.Join(names, ", "), ReplicationCAFile)
}

// Teardown undoes what Converge did, for the resource's Delete: replication
// stops on every replica, then on every member the managed accounts are
// dropped (outside the binary log), read-only is switched off, and the
// provider's files are removed (the server restarts to run without them).
// Databases are never dropped. A member that cannot be reached is an
// UnreachableError, and then nothing changes on any member (destroy again
// once it is back); with ForgetUnreachable it is skipped with a warning
// naming what stays on it. Any other failure is an error.
func Teardown(ctx context.Context, env Env, c Cluster, o TeardownOptions) (warnings []string, err error) {
	defer func() {
		if err == nil {
			return
		}
		state := "Replication is stopped on the members that were reached; databases were not touched. Fix the cause and destroy again."
		if ue, ok := errors.AsType[*UnreachableError](err); ok {
			state = "Nothing was changed on any member and the cluster stays in state." + ue.waysOut("destroy")
		}
		err = &fault.StepError{Step: "teardown", Err: err,
			Msg: "Could not remove the provider's settings and accounts: " + err.Error() + "\n\n" + state}
	}()
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	hosts := []string{c.Primary.Host}
	for _, r := range c.Replicas {
		hosts = append(hosts, r.Host)
	}
	nodes := make([]*prepared, len(hosts))
	unreachable := make([]error, len(hosts))
	_ = forEachIndex(len(hosts), func(n int) error {
		h := hosts[n]
		r, ok := env.Runners[h]
		if !ok {
			unreachable[n] = &UnreachableError{Host: h, Err: errors.New("no connection configured"), Left: leftOn(o.Accounts)}
			return nil
		}
		// An unreachable member is collected, not returned: every member is
		// tried before deciding.
		if p, err := prepareHost(ctx, h, r, false, FlavorUnknown, o.Timeout, env.log); err != nil {
			unreachable[n] = &UnreachableError{Host: h, Err: err, Left: leftOn(o.Accounts)}
		} else {
			nodes[n] = p
		}
		return nil
	})
	if !o.ForgetUnreachable {
		if err := errors.Join(unreachable...); err != nil {
			return nil, err
		}
	}
	for _, e := range unreachable {
		if e != nil {
			w := e.Error() + "; forgotten as forget_unreachable_members asks"
			warnings = append(warnings, w)
			env.log("warning: "+w, nil)
		}
	}
	// Replication stops everywhere before anything else changes, so that
	// nothing a member does afterwards reaches another.
	var errs []error
	for _, p := range nodes {
		if p == nil {
			continue
		}
		d := p.Dialect
		if err := p.Exec(ctx, ScriptOptions{}, d.StopReplica(), d.ResetReplicaAll()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return warnings, err
	}
	var live []string
	byHost := map[string]*prepared{}
	for _, p := range nodes {
		if p != nil {
			live = append(live, p.Host)
			byHost[p.Host] = p
		}
	}
	err = forEach(live, func(h string) error {
		env.log("removing the provider's settings and accounts", map[string]any{"host": h})
		return teardownMember(ctx, byHost[h], o.Accounts, o.Timeout)
	})
	return warnings, err
}

// teardownMember detaches one member: replication stopped and forgotten,
// managed accounts dropped outside the binary log, writable again, the
// provider's files removed and the server restarted without them. Its data
// stays.
func teardownMember(ctx context.Context, p *prepared, accounts []Account, timeout time.Duration) error {
	d := p.Dialect
	// Writable first: MySQL's super_read_only refuses even DROP USER by the
	// admin.
	stmts := append([]Stmt{d.StopReplica(), d.ResetReplicaAll()}, d.SetReadOnly(false)...)
	for _, a := range accounts {
		s, err := d.DropUser(a)
		if err != nil {
			return err
		}
		stmts = append(stmts, s)
	}
	if err := p.Exec(ctx, ScriptOptions{NoBinlog: true, LockWaitTimeout: 30 * time.Second}, stmts...); err != nil {
		return err
	}
	validate, err := d.ValidateConfigArgv("")
	if err != nil {
		return err
	}
	if err := apply.RestoreOriginal(ctx, p.Runner, apply.Restore{
		Paths:    managedPaths(d),
		Validate: validate,
		Reload:   p.Init.Argv(apply.ActionRestart, d.Service),
		Verify: func(ctx context.Context, r remote.Runner) error {
			return waitAnswering(ctx, Node{Host: p.Host, Runner: r, Dialect: d}, timeout)
		},
		Lock: applyLock,
		Host: p.Host,
	}); err != nil {
		return fmt.Errorf("%s: %w", p.Host, err)
	}
	return nil
}
