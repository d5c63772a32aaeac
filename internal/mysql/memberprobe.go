// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

// Observe reads each member in one round trip: one apply.Probe whose
// commands run the client on the host (the server's identity, the facts,
// and on the primary its databases, accounts and grants) and which also
// checksums the settings files. What the queries and paths are depends on
// the server's dialect, which the round trip itself reveals; so the probe is
// built for the dialect the member was last seen with (Env.Servers, from the
// state) or, when that is not known, for the configured flavor, and it is
// run again only when the server turns out to need other queries or paths
// (an upgrade across a dialect change, a flavor swapped under the state).

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// pipeScript runs the command in its remaining arguments with its first
// argument on stdin: how a probe command, whose own stdin is /dev/null,
// gives the client its SQL as Node.run does.
const pipeScript = `s=$1
shift
printf '%s' "$s" | "$@"`

// clientJob is one client invocation inside a member's probe: the
// statements of a QueryMulti, on the client's stdin.
type clientJob struct {
	argv []string
	q    multiQuery
	sql  []byte
}

func newClientJob(d Dialect, stmts ...Stmt) (clientJob, error) {
	for _, s := range stmts {
		// The SQL travels in the probe's argv: never a password there.
		if s.secret {
			return clientJob{}, fmt.Errorf("%s cannot be read in a probe", s)
		}
	}
	q, err := newMultiQuery(stmts...)
	if err != nil {
		return clientJob{}, err
	}
	return clientJob{argv: d.ClientArgv(), q: q, sql: d.Script(ScriptOptions{}, q.all...)}, nil
}

func (j clientJob) command() []string {
	return remote.Script(pipeScript, append([]string{string(j.sql)}, j.argv...)...)
}

// key is what the job runs, without its random section marker.
func (j clientJob) key() string {
	var b strings.Builder
	b.WriteString(strings.Join(j.argv, " "))
	for _, s := range j.q.stmts {
		b.WriteString("\n" + s.sql)
	}
	return b.String()
}

// tables reads the job's output as Node.QueryMulti would have returned it.
func (j clientJob) tables(host string, c apply.CommandOutput) ([]Table, error) {
	if ee := c.ExitError(); ee != nil {
		ee.Argv = j.argv
		return nil, fmt.Errorf("%s: %s: %w", host, describe(j.q.all), scrub(ee, j.q.all))
	}
	return j.q.tables(host, c.Stdout)
}

// memberPlan is what a member's probe reads for one dialect.
type memberPlan struct {
	// paths are the settings files of the member (settingsFiles); nil when
	// they cannot be rendered (Observe reports why itself).
	paths    []string
	facts    clientJob
	factsErr error
	primary  *primaryPlan
}

// primaryPlan is what the primary's probe reads besides the facts.
type primaryPlan struct {
	accts []managedAccount
	// listErr is why the accounts cannot be listed; the databases are
	// not read then either (as before: one query for both).
	listErr error
	dbAccts clientJob
	// grants are SHOW GRANTS per account, each in a client run of its own
	// (one for an account that is missing fails alone); grantErrs[i] is
	// why grants[i] cannot be rendered.
	grants    []clientJob
	grantErrs []error
}

func planMember(d Dialect, c Cluster, m Member, role Role) memberPlan {
	var p memberPlan
	cc := c
	cc.Flavor = d.Flavor
	if want, err := settingsFiles(d, cc.SettingsFor(m, role), c.TLS, c.ServerTLS); err == nil {
		for _, w := range want {
			p.paths = append(p.paths, w.Path)
		}
	}
	stmts, err := factStmts(d)
	if err == nil {
		p.facts, err = newClientJob(d, stmts...)
	}
	p.factsErr = err
	if role != RolePrimary {
		return p
	}
	pp := &primaryPlan{accts: managedAccounts(c, d)}
	list := make([]Account, len(pp.accts))
	for i, a := range pp.accts {
		list[i] = a.Account
	}
	listQ, err := d.ListAccountsQuery(list)
	if err == nil {
		pp.dbAccts, err = newClientJob(d, d.DatabasesQuery(), listQ)
	}
	pp.listErr = err
	pp.grants = make([]clientJob, len(pp.accts))
	pp.grantErrs = make([]error, len(pp.accts))
	for i, a := range pp.accts {
		s, err := d.ShowGrants(a.Account)
		if err == nil {
			pp.grants[i], err = newClientJob(d, s)
		}
		pp.grantErrs[i] = err
	}
	p.primary = pp
	return p
}

// key is everything the plan runs and reads: two plans with the same key
// read the same things on the host.
func (p memberPlan) key() string {
	parts := []string{strings.Join(p.paths, "\x00"), errText(p.factsErr), p.facts.key()}
	if pp := p.primary; pp != nil {
		parts = append(parts, errText(pp.listErr), pp.dbAccts.key())
		for i, g := range pp.grants {
			parts = append(parts, errText(pp.grantErrs[i]), g.key())
		}
	}
	return strings.Join(parts, "\x01")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Indexes of a member probe's commands.
const (
	cmdServer = 0
	cmdFacts  = 1
	cmdDBs    = 2
	cmdGrants = 3
)

// request is the member's probe: the server query first, then the jobs
// (a job that cannot be rendered runs `true` in its place, so that the
// indexes stay fixed).
func (p memberPlan) request() apply.ProbeRequest {
	job := func(j clientJob, err error) []string {
		if err != nil {
			return []string{"true"}
		}
		return j.command()
	}
	cmds := [][]string{
		remote.Script(pipeScript, append([]string{string(sessionScript(ServerQuery))}, ProbeClientArgv()...)...),
		job(p.facts, p.factsErr),
	}
	if pp := p.primary; pp != nil {
		cmds = append(cmds, job(pp.dbAccts, pp.listErr))
		for i, g := range pp.grants {
			cmds = append(cmds, job(g, pp.grantErrs[i]))
		}
	}
	return apply.ProbeRequest{Paths: p.paths, Commands: cmds}
}

// memberRead is one member as its probe found it.
type memberRead struct {
	server Server
	// dialectErr: the server is not one this provider supports.
	dialectErr error
	dialect    Dialect
	facts      hostFacts
	factsErr   error
	files      apply.Snapshot
	primary    primaryRead
}

// primaryRead is what primaryDrift needs from the primary.
type primaryRead struct {
	plan    *primaryPlan
	tables  []Table
	err     error
	grants  [][]Table
	grantEr []error
}

// guessDialect is the dialect a member's probe is built for before the
// server has said which it speaks: the one it was last seen with, else the
// configured flavor's (at a current version), else MariaDB's.
func guessDialect(known *Server, f Flavor) (Dialect, bool) {
	if known != nil {
		if d, err := known.Dialect(); err == nil {
			return d, true
		}
	}
	switch f {
	case MySQL:
		d, err := NewDialect(MySQL, V(8, 4, 0))
		return d, err == nil
	default:
		d, err := NewDialect(MariaDB, V(10, 11, 0))
		return d, err == nil
	}
}

// readMember reads one member in one round trip (two when the guessed
// dialect reads other things than the server's). The error is the
// server's identification failing (the host or its server cannot be
// reached); the other failures are in the memberRead.
func readMember(ctx context.Context, r Runner, host string, known *Server, c Cluster, m Member, role Role) (memberRead, error) {
	var mr memberRead
	guess, ok := guessDialect(known, c.Flavor)
	if !ok {
		return mr, errors.New("no dialect to read the server with")
	}
	plan := planMember(guess, c, m, role)
	snap, err := apply.Probe(ctx, r, plan.request())
	if err != nil {
		return mr, fmt.Errorf("identify MySQL server: %w", err)
	}
	sc := snap.Commands[cmdServer]
	if ee := sc.ExitError(); ee != nil {
		ee.Argv = ProbeClientArgv()
		return mr, fmt.Errorf("identify MySQL server: %w", ee)
	}
	if mr.server, err = ParseServer(sc.Stdout); err != nil {
		return mr, err
	}
	// A server this provider does not support is not a failure to read:
	// the caller reports it as it is.
	mr.dialect, mr.dialectErr = mr.server.Dialect()
	if mr.dialectErr != nil {
		return mr, nil //nolint:nilerr // the error is in mr.dialectErr
	}
	if actual := planMember(mr.dialect, c, m, role); actual.key() != plan.key() {
		plan = actual
		if snap, err = apply.Probe(ctx, r, plan.request()); err != nil {
			return mr, fmt.Errorf("identify MySQL server: %w", err)
		}
	}
	mr.files = snap
	if mr.factsErr = plan.factsErr; mr.factsErr == nil {
		var ts []Table
		if ts, mr.factsErr = plan.facts.tables(host, snap.Commands[cmdFacts]); mr.factsErr == nil {
			mr.facts, mr.factsErr = parseFacts(host, mr.dialect, ts)
		}
	}
	if pp := plan.primary; pp != nil {
		pr := primaryRead{plan: pp, err: pp.listErr, grants: make([][]Table, len(pp.grants)), grantEr: make([]error, len(pp.grants))}
		if pr.err == nil {
			pr.tables, pr.err = pp.dbAccts.tables(host, snap.Commands[cmdDBs])
		}
		for i, g := range pp.grants {
			if pr.grantEr[i] = pp.grantErrs[i]; pr.grantEr[i] == nil {
				pr.grants[i], pr.grantEr[i] = g.tables(host, snap.Commands[cmdGrants+i])
			}
		}
		mr.primary = pr
	}
	return mr, nil
}
