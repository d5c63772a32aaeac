// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Runner runs commands on one host: the SSH client satisfies it (it is
// remote.Runner). Everything in this file only composes commands and reads
// their output; the behaviour of real servers is tested against lab hosts.
type Runner interface {
	Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error)
}

var _ Runner = remote.Runner(nil)

// Node is one member as the orchestration sees it.
type Node struct {
	Host    string
	Runner  Runner
	Dialect Dialect
}

// Exec runs statements on a node through the client, SQL on stdin.
func (n Node) Exec(ctx context.Context, opts ScriptOptions, stmts ...Stmt) error {
	_, err := n.run(ctx, opts, stmts...)
	return err
}

// Query runs one statement and parses its result set.
func (n Node) Query(ctx context.Context, s Stmt) (Table, error) {
	out, err := n.run(ctx, ScriptOptions{}, s)
	if err != nil {
		return Table{}, err
	}
	return ParseBatch(out)
}

func (n Node) run(ctx context.Context, opts ScriptOptions, stmts ...Stmt) ([]byte, error) {
	res, err := n.Runner.Run(ctx, remote.Cmd{
		Argv:  n.Dialect.clientArgvFor(opts),
		Stdin: bytes.NewReader(n.Dialect.Script(opts, stmts...)),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", n.Host, describe(stmts), scrub(err, stmts))
	}
	return res.Stdout, nil
}

// scrub removes secrets from a failed command's stderr. The MariaDB client
// echoes a failing statement, password and all, to stderr in batch mode (no
// option turns that off; MySQL's client does not), and a server message can
// quote a value. When the script carried a secret, only the client's ERROR
// lines are kept and every secret (or a prefix of one, 6 bytes or more) in
// them is replaced by ***.
func scrub(err error, stmts []Stmt) error {
	var secrets []string
	for _, s := range stmts {
		secrets = append(secrets, s.secrets...)
	}
	var ee *remote.ExitError
	if len(secrets) == 0 || !errors.As(err, &ee) {
		return err
	}
	var kept []string
	for _, line := range strings.Split(ee.Stderr, "\n") {
		if strings.HasPrefix(line, "ERROR ") {
			kept = append(kept, redact(line, secrets))
		}
	}
	return &remote.ExitError{Argv: ee.Argv, ExitStatus: ee.ExitStatus, Stderr: strings.Join(kept, "\n")}
}

// redact hides each secret as it is and as it appears inside a quoted SQL
// literal (remote.Redact: the secret cut short too).
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		s = remote.Redact(s, sec, strings.Trim(quoteString(sec), "'"))
	}
	return s
}

func describe(stmts []Stmt) string {
	parts := make([]string, len(stmts))
	for i, s := range stmts {
		parts[i] = s.String()
	}
	return strings.Join(parts, "; ")
}

// DetectServer asks a host which server it runs, before its flavor is known.
func DetectServer(ctx context.Context, r Runner) (Server, error) {
	// The query is constant and runs before any Dialect exists (no
	// sql_mode preamble), but still in a pinned session like every other.
	res, err := r.Run(ctx, remote.Cmd{
		Argv:  ProbeClientArgv(),
		Stdin: bytes.NewReader(sessionScript(ServerQuery)),
	})
	if err != nil {
		return Server{}, fmt.Errorf("identify MySQL server: %w", err)
	}
	return ParseServer(res.Stdout)
}

// ReplicaStatus reads the node's replication status; nil when it is not a
// replica.
func (n Node) ReplicaStatus(ctx context.Context) (*ReplicaStatus, error) {
	out, err := n.run(ctx, ScriptOptions{}, n.Dialect.ShowReplicaStatus())
	if err != nil {
		return nil, err
	}
	st, err := n.Dialect.ParseReplicaStatus(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Host, err)
	}
	return st, nil
}

// StepStatements renders the SQL of a step that is plain SQL (nil for
// steps that are not: check, record, wait, verify, write-settings). src is
// the step's source when it has one.
func (d Dialect) StepStatements(s Step, src SourceConfig) ([]Stmt, error) {
	switch s.Kind {
	case StepSetReadOnly:
		return d.SetReadOnly(true), nil
	case StepSetWritable:
		return d.SetReadOnly(false), nil
	case StepStopReplica:
		return []Stmt{d.StopReplica()}, nil
	case StepResetReplica:
		return []Stmt{d.ResetReplicaAll()}, nil
	case StepStartReplica:
		return []Stmt{d.StartReplica()}, nil
	case StepAdoptBinlogPosition:
		if st, ok := d.AdoptBinlogPosition(); ok {
			return []Stmt{st}, nil
		}
		return nil, nil
	case StepChangeSource:
		st, err := d.ChangeSource(src)
		if err != nil {
			return nil, err
		}
		return []Stmt{st}, nil
	}
	return nil, nil
}

// SwitchoverOptions are what ExecuteSwitchover needs besides the plan.
type SwitchoverOptions struct {
	// Source says how to replicate from a member (Cluster.SourceFor).
	Source func(host string) SourceConfig
	// WriteSettings writes a member's fragment for a role through the apply
	// engine (validate, back up, atomic rename; no restart).
	WriteSettings func(ctx context.Context, host string, role Role) error
	// WaitTimeout bounds the wait for the new primary to catch up
	// (default 60 s), VerifyTimeout each replica's verification (default
	// 60 s), LockWaitTimeout SET GLOBAL read_only's wait for running
	// transactions (default 30 s).
	WaitTimeout, VerifyTimeout, LockWaitTimeout time.Duration
	// PollInterval is how often verification reads status (default 1 s).
	PollInterval time.Duration
}

func (o *SwitchoverOptions) defaults() {
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 60 * time.Second
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = 60 * time.Second
	}
	if o.LockWaitTimeout <= 0 {
		o.LockWaitTimeout = 30 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
}

// SwitchoverError says which step failed, whether the switchover was rolled
// back, and what state the cluster was left in.
type SwitchoverError struct {
	Plan       SwitchoverPlan
	Failed     int
	Err        error
	RolledBack bool
	// RollbackErr is set when the rollback itself failed.
	RollbackErr error
}

func (e *SwitchoverError) Error() string {
	step := e.Plan.Steps[e.Failed]
	var state string
	switch {
	case e.Failed >= e.Plan.Commit:
		state = fmt.Sprintf("%s is the new primary and may have taken writes; %s is read-only. "+
			"Some replicas may still point at %s: apply again to finish the switchover", e.Plan.To, e.Plan.From, e.Plan.From)
	case e.RollbackErr != nil:
		state = fmt.Sprintf("rolling back also failed (%v): check which of %s and %s is writable before anything else", e.RollbackErr, e.Plan.From, e.Plan.To)
	case e.RolledBack:
		state = fmt.Sprintf("rolled back: %s is still the primary and writable, %s replicates from it", e.Plan.From, e.Plan.To)
	default:
		state = fmt.Sprintf("nothing was changed: %s is still the primary", e.Plan.From)
	}
	return fmt.Sprintf("switchover from %s to %s: step %d (%s) failed: %v; %s",
		e.Plan.From, e.Plan.To, e.Failed+1, step, e.Err, state)
}

func (e *SwitchoverError) Unwrap() error { return e.Err }

// ExecuteSwitchover runs a switchover plan against the members' nodes.
func ExecuteSwitchover(ctx context.Context, plan SwitchoverPlan, nodes map[string]Node, opts SwitchoverOptions) error {
	opts.defaults()
	for _, s := range plan.Steps {
		if _, ok := nodes[s.Host]; !ok {
			return fmt.Errorf("switchover: no connection to %s", s.Host)
		}
	}
	x := &executor{nodes: nodes, opts: opts}
	for i, s := range plan.Steps {
		if err := x.do(ctx, s); err != nil {
			e := &SwitchoverError{Plan: plan, Failed: i, Err: err}
			if rb := plan.Rollback(i); len(rb) > 0 {
				// Roll back even if ctx is done: a half-switched cluster is
				// worse than a late return.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
				var errs []error
				for _, r := range rb {
					if err := x.do(rctx, r); err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", r, err))
					}
				}
				cancel()
				e.RolledBack = len(errs) == 0
				e.RollbackErr = errors.Join(errs...)
			}
			return e
		}
	}
	return nil
}

func (x *executor) source(host string) (SourceConfig, error) {
	if x.opts.Source == nil {
		return SourceConfig{}, fmt.Errorf("no source configuration for %s", host)
	}
	return x.opts.Source(host), nil
}

type executor struct {
	nodes    map[string]Node
	opts     SwitchoverOptions
	position string
}

func (x *executor) do(ctx context.Context, s Step) error {
	n := x.nodes[s.Host]
	d := n.Dialect
	switch s.Kind {
	case StepCheckSource:
		st, err := n.ReplicaStatus(ctx)
		if err != nil {
			return err
		}
		if st == nil {
			return fmt.Errorf("%s is not a replica", s.Host)
		}
		src, err := x.source(s.Source)
		if err != nil {
			return err
		}
		if !st.From(src) {
			return fmt.Errorf("%s replicates from %s:%d, not from %s (%s:%d)", s.Host, st.SourceHost, st.SourcePort, s.Source, src.Host, src.port())
		}
		if !st.Healthy() || !st.UsingGTID {
			return fmt.Errorf("%s is not replicating cleanly with GTIDs (IO %s, SQL running %t, GTID %t, last IO error %q, last SQL error %q)",
				s.Host, st.IOState, st.SQLRunning, st.UsingGTID, st.LastIOError, st.LastSQLError)
		}
		return nil
	case StepWriteSettings:
		if x.opts.WriteSettings == nil {
			return fmt.Errorf("no settings writer configured")
		}
		return x.opts.WriteSettings(ctx, s.Host, s.Role)
	case StepSetReadOnly:
		return n.Exec(ctx, ScriptOptions{LockWaitTimeout: x.opts.LockWaitTimeout}, d.SetReadOnly(true)...)
	case StepRecordPosition:
		t, err := n.Query(ctx, d.GTIDPositionQuery())
		if err != nil {
			return err
		}
		pos, ok := t.Get(0, "gtid_position")
		if !ok {
			return fmt.Errorf("%s: no GTID position in answer %q", s.Host, t.Columns)
		}
		x.position = pos
		return nil
	case StepWaitForPosition:
		st, err := d.WaitForGTID(x.position, x.opts.WaitTimeout)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, x.opts.WaitTimeout+30*time.Second)
		defer cancel()
		out, err := n.run(wctx, ScriptOptions{}, st)
		if err != nil {
			return err
		}
		ok, err := d.ParseGTIDWait(out)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Host, err)
		}
		if !ok {
			return fmt.Errorf("%s did not apply %s's position %q within %s: writes on %s were stopped but the new primary is behind",
				s.Host, s.Source, x.position, x.opts.WaitTimeout, s.Source)
		}
		return nil
	case StepVerifyReplica:
		src, err := x.source(s.Source)
		if err != nil {
			return err
		}
		deadline := time.Now().Add(x.opts.VerifyTimeout)
		for {
			st, err := n.ReplicaStatus(ctx)
			if err != nil {
				return err
			}
			if st != nil && st.From(src) && st.Healthy() {
				return nil
			}
			if time.Now().After(deadline) {
				if st == nil {
					return fmt.Errorf("%s is not a replica", s.Host)
				}
				return fmt.Errorf("%s does not replicate cleanly from %s after %s (source %s, IO %s, SQL running %t, last IO error %q, last SQL error %q)",
					s.Host, s.Source, x.opts.VerifyTimeout, st.SourceHost, st.IOState, st.SQLRunning, st.LastIOError, st.LastSQLError)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(x.opts.PollInterval):
			}
		}
	}
	var src SourceConfig
	if s.Source != "" {
		var err error
		if src, err = x.source(s.Source); err != nil {
			return err
		}
	}
	stmts, err := d.StepStatements(s, src)
	if err != nil {
		return err
	}
	if len(stmts) == 0 {
		return nil
	}
	return n.Exec(ctx, ScriptOptions{}, stmts...)
}
