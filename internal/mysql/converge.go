// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

// Env is how the orchestration reaches the members.
type Env struct {
	// Runners are by member host (Member.Host): every member of the
	// configuration, and every member of the prior state that is gone from
	// it (to detach it).
	Runners map[string]Runner
	// Log receives progress messages (never secrets). Nil discards them.
	Log func(msg string, fields map[string]any)
	// Servers are the servers the members were last seen running, by
	// host (from the state); optional. With them Observe reads each
	// member in one round trip.
	Servers map[string]Server
}

func (e Env) log(msg string, fields map[string]any) {
	if e.Log != nil {
		e.Log(msg, fields)
	}
}

// Prior is what the previous apply managed, from Terraform state.
type Prior struct {
	Primary  string
	Replicas []string
	// Settings are the extra settings the fragments on the hosts were
	// written with.
	Settings map[string]string
	// ReplicationUser is the replication account's user of the previous
	// apply (its host is the cluster's ReplicationHost).
	ReplicationUser string
	// Users are the application accounts of the previous apply.
	Users []Account
}

func (p *Prior) members() []string {
	if p == nil || p.Primary == "" {
		return nil
	}
	return append([]string{p.Primary}, p.Replicas...)
}

// ConvergeOptions are what Converge needs besides the cluster.
type ConvergeOptions struct {
	// Install installs the server package on members that lack it.
	Install bool
	// Flavor, when set, is the flavor the members must run (and the
	// package installed where none is); otherwise whatever the members run,
	// which must be one flavor (MariaDB where no member has a server).
	Flavor Flavor
	// WaitTimeout bounds each wait for a replica to run and catch up, and
	// for a restarted server to answer (default 5 minutes).
	WaitTimeout time.Duration
	// ReplicationPasswordChanged says the replication password differs
	// from the one the hosts were given (a password cannot be read back):
	// the account and every replica's connection get the new one.
	ReplicationPasswordChanged bool
	// UserPasswordChanged is the same, per Cluster.Users index.
	UserPasswordChanged []bool
	// Prior is the previous apply's view; nil on create.
	Prior *Prior
	// ForgetUnreachable lets a member that left the configuration and
	// cannot be reached be dropped with a warning naming what stays on
	// it; otherwise it is an UnreachableError before anything changes.
	ForgetUnreachable bool
	// FailoverFrom, when it names the prior primary, allows a failover:
	// if that primary cannot be prepared (SSH or its server is down), the
	// configured primary is promoted without it (Failover). It allows
	// nothing else: with the old primary alive the change is a planned
	// switchover.
	FailoverFrom string
	// Fenced are former primaries a failover left behind (from state):
	// one that is still unreachable stays fenced (a warning), one that is
	// back is fenced and rejoins (fence).
	Fenced []string
}

type conv struct {
	env   Env
	c     Cluster
	o     ConvergeOptions
	nodes map[string]*prepared
	// caChanged are replicas whose CA bundle changed in this apply.
	caChanged map[string]bool
	// replPasswordSent is true when this apply set the replication
	// account's password (created the account or changed its password):
	// replicas then need it in their connection.
	replPasswordSent bool
	// lost are configured members left out of this apply: the dead
	// primary of a failover, fenced members still unreachable. They are
	// not in c.Replicas.
	lost     map[string]error
	warnings []string
	mu       sync.Mutex
}

func (x *conv) log(msg string, fields map[string]any) { x.env.log(msg, fields) }

func (x *conv) warn(format string, args ...any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	x.warnings = append(x.warnings, msg)
	x.log("warning: "+msg, nil)
}

// Converge brings the members to the cluster's configuration, repairing
// whatever Observe would report as drift, and returns the cluster's status
// afterwards. In order:
//
//  1. every member runs a server: the package is installed where missing
//     (Install), a stopped service is started, flavor and version are read;
//  2. when the primary changed, a planned switchover (ExecuteSwitchover)
//     moves the role without losing a committed write;
//  3. settings fragments go through the apply engine (validated by the
//     server's own check): replicas that already replicate first, one at a
//     time, waiting for each to catch up after a restart; then the primary
//     and the members that join; a restart only where a setting that cannot
//     change at run time changed;
//  4. on the primary: the replication account, databases, application
//     accounts and their privileges (missing ones granted, others revoked);
//  5. each replica replicates from the primary: left alone when it already
//     does (no CHANGE ... TO), restarted when a thread stopped, repointed
//     when its source is another member, seeded (SeedReplica) when it holds
//     no user data; then the apply waits until it has caught up;
//  6. members gone from the configuration are detached (replication
//     stopped, the provider's settings and accounts removed, data kept),
//     and accounts gone from it are dropped.
func Converge(ctx context.Context, env Env, c Cluster, o ConvergeOptions) (Status, error) {
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 5 * time.Minute
	}
	x := &conv{env: env, c: c, o: o, nodes: map[string]*prepared{}, caChanged: map[string]bool{}, lost: map[string]error{}}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"prepare", x.prepare},
		{"check", x.check},
		{"switchover", x.switchover},
		{"fence", x.fence},
		{"settings", x.settings},
		{"primary", x.primarySQL},
		{"replicas", x.replicas},
		{"detach", x.detachRemoved},
		{"accounts", x.dropRemovedAccounts},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			msg := "Could not bring the cluster to the configuration: " + err.Error() +
				"\n\nWhat was done so far stays on the hosts (every step is idempotent): fix the cause and apply again."
			if ue, ok := errors.AsType[*UnreachableError](err); ok {
				msg += ue.waysOut("remove the replica")
			}
			return Status{Warnings: x.warnings, Fenced: x.fenced()}, &fault.StepError{Step: s.name, Err: err, Msg: msg}
		}
	}
	// The servers just prepared tell Observe which queries to send.
	env.Servers = map[string]Server{}
	for h, p := range x.nodes {
		if p != nil {
			env.Servers[h] = p.Server
		}
	}
	st := Observe(ctx, env, x.c)
	st.Warnings = append(x.warnings, st.Warnings...)
	st.Fenced = x.fenced()
	return st, nil
}

// fenced are the members this apply left fenced: lost ones, sorted.
func (x *conv) fenced() []string {
	var out []string
	for h := range x.lost {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// isFenced reports whether host was left fenced by an earlier failover.
func (x *conv) isFenced(host string) bool {
	return slices.ContainsFunc(x.o.Fenced, func(h string) bool { return strings.EqualFold(h, host) })
}

// failoverFrom is the dead primary this apply may fail over from: the
// prior primary when the configuration names another primary and
// FailoverFrom names it; "" otherwise.
func (x *conv) failoverFrom() string {
	if x.o.Prior == nil || x.o.Prior.Primary == "" || strings.EqualFold(x.o.Prior.Primary, x.c.Primary.Host) {
		return ""
	}
	if strings.EqualFold(x.o.FailoverFrom, x.o.Prior.Primary) {
		return x.o.Prior.Primary
	}
	return ""
}

func (x *conv) desiredHosts() []string {
	hosts := []string{x.c.Primary.Host}
	for _, r := range x.c.Replicas {
		hosts = append(hosts, r.Host)
	}
	return hosts
}

func (x *conv) isDesired(host string) bool {
	return slices.ContainsFunc(x.desiredHosts(), func(h string) bool { return strings.EqualFold(h, host) })
}

func (x *conv) wasMember(host string) bool {
	return slices.ContainsFunc(x.o.Prior.members(), func(h string) bool { return strings.EqualFold(h, host) })
}

// isMemberAddr reports whether addr is a member, configured or prior.
func (x *conv) isMemberAddr(addr string) bool {
	return x.isDesired(addr) || x.wasMember(addr)
}

func (x *conv) runner(host string) (Runner, error) {
	r, ok := x.env.Runners[host]
	if !ok || r == nil {
		return nil, fmt.Errorf("no connection to %s", host)
	}
	return r, nil
}

// forEach runs fn for each host in parallel and joins the errors.
func forEach(hosts []string, fn func(host string) error) error {
	return forEachIndex(len(hosts), func(i int) error { return fn(hosts[i]) })
}

// forEachIndex runs fn for 0..n-1 in parallel and joins the errors.
func forEachIndex(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prepare connects to every member, installs and starts servers, and
// identifies them. Members of the prior state that are gone from the
// configuration are prepared to be detached: one that cannot be reached
// is an UnreachableError unless ForgetUnreachable (then a warning), and a
// former primary that a switchover needs must be reachable.
func (x *conv) prepare(ctx context.Context) error {
	hosts := x.desiredHosts()
	var gone []string
	for _, h := range x.o.Prior.members() {
		if !x.isDesired(h) && !slices.Contains(gone, h) {
			gone = append(gone, h)
		}
	}
	var missing []string
	var mu sync.Mutex
	// The first pass installs nothing and puts the hosts without a server
	// aside; the second installs there (install) or fails with the host's
	// errNotInstalled, so that every desired host has a node after it.
	pass := func(first, install bool, flavor Flavor) func(string) error {
		return func(h string) error {
			r, err := x.runner(h)
			if err != nil {
				return err
			}
			p, err := prepareHost(ctx, h, r, install, flavor, x.o.WaitTimeout, x.log)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				x.nodes[h] = p
			case first && errors.Is(err, errNotInstalled):
				missing = append(missing, h)
				return nil
			case strings.EqualFold(h, x.failoverFrom()):
				x.lost[h] = err
				x.warn("%s, the primary, cannot be reached (%v): failing over to %s as failover_from allows; %s stays fenced until it is back and an apply rejoins it",
					h, err, x.c.Primary.Host, h)
				return nil
			case x.isFenced(h):
				x.lost[h] = err
				x.warn("%s (fenced by a failover) still cannot be reached (%v): it stays fenced; apply again once it is back to rejoin it", h, err)
				return nil
			case x.o.Prior != nil && strings.EqualFold(h, x.o.Prior.Primary) && !strings.EqualFold(h, x.c.Primary.Host):
				return fmt.Errorf("%s, the current primary, cannot be reached (%w): a planned switchover to %s needs it. "+
					"If %s is lost, set failover_from = %q to promote %s without it: transactions that only %s had are then lost, "+
					"and %s is fenced (never written to) until it is back", h, err, x.c.Primary.Host, h, h, x.c.Primary.Host, h, h)
			}
			return err
		}
	}
	if err := forEach(hosts, pass(true, false, x.o.Flavor)); err != nil {
		return err
	}
	if len(missing) > 0 {
		flavor := x.o.Flavor
		for _, p := range x.nodes {
			if flavor == FlavorUnknown {
				flavor = p.Server.Flavor
			}
		}
		if err := forEach(missing, pass(false, x.o.Install, flavor)); err != nil {
			return err
		}
	}
	oldPrimary := ""
	if x.o.Prior != nil && !strings.EqualFold(x.o.Prior.Primary, x.c.Primary.Host) {
		oldPrimary = x.o.Prior.Primary
	}
	goneErr := forEach(gone, func(h string) error {
		r, err := x.runner(h)
		if err == nil {
			var p *prepared
			if p, err = prepareHost(ctx, h, r, false, FlavorUnknown, x.o.WaitTimeout, x.log); err == nil {
				mu.Lock()
				x.nodes[h] = p
				mu.Unlock()
				return nil
			}
		}
		if h == oldPrimary {
			return nil
		}
		ue := &UnreachableError{Host: h, Err: err, Left: leftOn(x.allAccounts())}
		if !x.o.ForgetUnreachable {
			return ue
		}
		x.warn("%s left the cluster: %s; forgotten as forget_unreachable_members asks", h, ue)
		return nil
	})
	if goneErr != nil {
		return goneErr
	}
	if len(x.lost) > 0 {
		var keep []Member
		for _, r := range x.c.Replicas {
			if _, lost := x.lost[r.Host]; !lost {
				keep = append(keep, r)
			}
		}
		x.c.Replicas = keep
	}
	if oldPrimary != "" && x.nodes[oldPrimary] == nil && x.failoverFrom() == "" {
		return fmt.Errorf("changing the primary from %s to %s is a planned switchover and needs %s to be reachable "+
			"(the provider does no failover: a lost primary may hold writes that no replica has)", oldPrimary, x.c.Primary.Host, oldPrimary)
	}
	return nil
}

// check refuses mixed flavors and checks what depends on the flavor.
func (x *conv) check(context.Context) error {
	var flavors []string
	first := x.nodes[x.c.Primary.Host]
	for _, h := range x.desiredHosts() {
		p := x.nodes[h]
		if p.Server.Flavor != first.Server.Flavor {
			flavors = append(flavors, fmt.Sprintf("%s runs %s", h, p.Server))
		}
	}
	if len(flavors) > 0 {
		return fmt.Errorf("the members run different server flavors (%s runs %s; %s): replication between MariaDB and MySQL is not supported",
			x.c.Primary.Host, first.Server, strings.Join(flavors, "; "))
	}
	if x.o.Flavor != FlavorUnknown && first.Server.Flavor != x.o.Flavor {
		return fmt.Errorf("the configuration asks for %s but %s runs %s", x.o.Flavor, x.c.Primary.Host, first.Server)
	}
	d := first.Dialect
	x.c.Flavor = d.Flavor
	var errs []error
	errs = append(errs, d.ValidateUserName("replication_user", x.c.ReplicationUser))
	errs = append(errs, d.ValidateSourcePassword("replication_password", x.c.ReplicationPassword))
	for i, u := range x.c.Users {
		p := fmt.Sprintf("users[%d]", i)
		errs = append(errs, d.ValidateUserName(p+".name", u.Name))
		errs = append(errs, ValidatePassword(p+".password", u.Password))
		if _, err := d.NormalizePrivileges(p+".privileges", u.Privileges); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// source is how members replicate from the primary.
func (x *conv) source() SourceConfig { return x.c.SourceFor(x.c.Primary) }

func (x *conv) sourceFor(host string) SourceConfig { return x.c.SourceFor(Member{Host: host}) }

// switchover moves the primary role when the configuration names another
// primary than the prior state.
func (x *conv) switchover(ctx context.Context) error {
	if x.o.Prior == nil || x.o.Prior.Primary == "" || strings.EqualFold(x.o.Prior.Primary, x.c.Primary.Host) {
		return nil
	}
	oldP, newP := x.o.Prior.Primary, x.c.Primary.Host
	if !x.wasMember(newP) {
		return fmt.Errorf("%s was not a member of the cluster: a new primary must first join as a replica (add it to replicas and apply), then be promoted", newP)
	}
	nf, err := x.nodes[newP].facts(ctx)
	if err != nil {
		return err
	}
	if nf.Replica == nil && nf.readOnlyIs(x.nodes[newP].Dialect, false) {
		// An earlier switchover got past the promotion and failed later:
		// the rest of Converge repoints the others.
		x.log("switchover already past promotion; finishing it", map[string]any{"from": oldP, "to": newP})
		return nil
	}
	if _, lost := x.lost[oldP]; lost || x.nodes[oldP] == nil {
		return x.failover(ctx, oldP, newP)
	}
	topo := Topology{Primary: oldP}
	for _, r := range x.o.Prior.Replicas {
		if x.isDesired(r) && x.nodes[r] != nil {
			topo.Replicas = append(topo.Replicas, r)
		}
	}
	plan, err := PlanSwitchover(topo, newP)
	if err != nil {
		return err
	}
	x.log("switchover", map[string]any{"from": oldP, "to": newP, "steps": len(plan.Steps)})
	return ExecuteSwitchover(ctx, plan, x.nodeMap(append([]string{oldP}, topo.Replicas...)), x.switchoverOptions())
}

// nodeMap is the prepared nodes of hosts, for the switchover executor.
func (x *conv) nodeMap(hosts []string) map[string]Node {
	nodes := map[string]Node{}
	for _, h := range hosts {
		nodes[h] = x.nodes[h].Node
	}
	return nodes
}

// switchoverOptions are the executor's options for a change of primary
// (a switchover or a failover).
func (x *conv) switchoverOptions() SwitchoverOptions {
	return SwitchoverOptions{
		Source: x.sourceFor,
		WriteSettings: func(ctx context.Context, host string, role Role) error {
			// The prior settings with the new role: a role change is
			// dynamic; changed settings are applied (and restarted for)
			// by the settings step that follows.
			c := x.c
			c.Settings = x.o.Prior.Settings
			_, err := x.nodes[host].applySettings(ctx, c.SettingsFor(x.member(host), role), x.c.TLS, x.c.ServerTLS, true, x.o.WaitTimeout, x.log)
			return err
		},
		WaitTimeout:   x.o.WaitTimeout,
		VerifyTimeout: x.o.WaitTimeout,
	}
}

// appliedPositionQuery reads what a replica has applied from its
// source, as one column named gtid_position: MariaDB gtid_slave_pos (its
// binary log may also hold its own writes), MySQL gtid_executed.
func appliedPositionQuery(d Dialect) Stmt {
	if d.Flavor == MariaDB {
		return newStmt("SELECT @@GLOBAL.gtid_slave_pos AS gtid_position")
	}
	return d.GTIDPositionQuery()
}

// readPosition runs a one-column gtid_position query and parses it.
func readPosition(ctx context.Context, n Node, q Stmt) (string, GTIDSet, error) {
	t, err := n.Query(ctx, q)
	if err != nil {
		return "", GTIDSet{}, err
	}
	raw, ok := t.Get(0, "gtid_position")
	if !ok || raw == "NULL" {
		return "", GTIDSet{}, fmt.Errorf("%s: no GTID position in the answer to %q", n.Host, q.SQL())
	}
	g, err := ParseGTIDSet(n.Dialect.Flavor, raw)
	if err != nil {
		return "", GTIDSet{}, fmt.Errorf("%s: %w", n.Host, err)
	}
	return raw, g, nil
}

// readHistory reads which transactions a member holds, to find errant
// ones: MySQL gtid_executed (a set: exact). On MariaDB, by domain and
// server id (ParseMariaDBBinlogState), variable: the fenced member's last
// transaction in each domain (gtid_binlog_pos), against the last one of
// each server in the primary's binary log (gtid_binlog_state). Histories
// in a domain are linear (gtid_strict_mode), so the fenced member's history
// is on the primary when its last transaction is. Its older entries in
// gtid_binlog_state are not compared: a primary whose binary log was reset
// (a seeded replica, promoted) never logged them, though it has their
// effect. The check errs on the safe side: a primary that never logged
// the fenced member's last transaction (seeded after it) refuses it.
func readHistory(ctx context.Context, n Node, variable string) (string, GTIDSet, error) {
	if n.Dialect.Flavor != MariaDB {
		return readPosition(ctx, n, n.Dialect.GTIDPositionQuery())
	}
	q := newStmt("SELECT @@GLOBAL." + variable + " AS gtid_position")
	t, err := n.Query(ctx, q)
	if err != nil {
		return "", GTIDSet{}, err
	}
	raw, ok := t.Get(0, "gtid_position")
	if !ok || raw == "NULL" {
		return "", GTIDSet{}, fmt.Errorf("%s: no GTID state in the answer to %q", n.Host, q.SQL())
	}
	g, err := ParseMariaDBBinlogState(raw)
	if err != nil {
		return "", GTIDSet{}, fmt.Errorf("%s: %w", n.Host, err)
	}
	return raw, g, nil
}

// failover promotes newP while oldP, the primary, cannot be reached (the
// operator allowed it with failover_from). Every reachable replica first
// applies what it has received (its relay log); newP must then hold every
// transaction any of them holds, or the apply names the more advanced
// one and changes nothing. newP stops replicating, forgets its source and
// becomes writable with the primary's fragment; the others are repointed
// to it and verified. oldP is not touched (it cannot be reached): it stays
// in x.lost, fenced, until an apply finds it back (fence).
func (x *conv) failover(ctx context.Context, oldP, newP string) error {
	var cands []string
	for _, r := range x.o.Prior.Replicas {
		if _, lost := x.lost[r]; !lost && x.isDesired(r) && x.nodes[r] != nil {
			cands = append(cands, r)
		}
	}
	if !slices.Contains(cands, newP) {
		return fmt.Errorf("failover from %s: %s is not a reachable replica of it, so it cannot be promoted", oldP, newP)
	}
	wait := min(x.o.WaitTimeout, 2*time.Minute)
	raw := map[string]string{}
	pos := map[string]GTIDSet{}
	var mu sync.Mutex
	err := forEach(cands, func(h string) error {
		n := x.nodes[h].Node
		st, err := n.ReplicaStatus(ctx)
		if err != nil {
			return err
		}
		if st != nil && strings.TrimSpace(st.GTIDPosition) != "" {
			// What it received from the dead primary is in its relay log:
			// applied before the positions are compared.
			ws, err := n.Dialect.WaitForGTID(st.GTIDPosition, wait)
			if err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, wait+30*time.Second)
			out, err := n.run(wctx, ScriptOptions{}, ws)
			cancel()
			if err != nil {
				return err
			}
			ok, err := n.Dialect.ParseGTIDWait(out)
			if err != nil {
				return fmt.Errorf("%s: %w", h, err)
			}
			if !ok {
				return fmt.Errorf("%s has not applied its relay log (received %s from %s) within %s (SQL thread running %t, last SQL error %q): "+
					"fix its replication, then apply again", h, st.GTIDPosition, oldP, wait, st.SQLRunning, st.LastSQLError)
			}
		}
		r, g, err := readPosition(ctx, n, appliedPositionQuery(n.Dialect))
		if err != nil {
			return err
		}
		mu.Lock()
		raw[h], pos[h] = r, g
		mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("failover from %s to %s: %w; nothing was changed", oldP, newP, err)
	}
	for _, h := range cands {
		if h == newP {
			continue
		}
		if missing := pos[h].Minus(pos[newP]); missing != "" {
			return fmt.Errorf("failover from %s to %s refused: %s is more advanced than %s: it has applied %s, which %s lacks "+
				"(%s at %q, %s at %q). Promote %s instead (primary = %s); nothing was changed",
				oldP, newP, h, newP, missing, newP, h, raw[h], newP, raw[newP], h, h)
		}
	}
	x.log("failover", map[string]any{"from": oldP, "to": newP, "position": raw[newP]})
	steps := []Step{
		{Kind: StepStopReplica, Host: newP},
		{Kind: StepResetReplica, Host: newP},
		{Kind: StepSetWritable, Host: newP},
		{Kind: StepWriteSettings, Host: newP, Role: RolePrimary},
	}
	for _, h := range cands {
		if h != newP {
			steps = append(steps,
				Step{Kind: StepStopReplica, Host: h},
				Step{Kind: StepChangeSource, Host: h, Source: newP},
				Step{Kind: StepStartReplica, Host: h},
				Step{Kind: StepVerifyReplica, Host: h, Source: newP})
		}
	}
	opts := x.switchoverOptions()
	opts.defaults()
	ex := &executor{nodes: x.nodeMap(cands), opts: opts}
	for i, s := range steps {
		if err := ex.do(ctx, s); err != nil {
			state := "nothing was changed yet"
			if i > 0 {
				state = "apply again to finish it (a failover resumes where it stopped)"
			}
			return fmt.Errorf("failover from %s to %s: step %d (%s) failed: %w; %s", oldP, newP, i+1, s, err, state)
		}
	}
	return nil
}

// fence handles former primaries that a failover left fenced and that can
// be reached again: each is made read-only and stops replicating first,
// then its GTID position is compared with the primary's. Contained: it
// may rejoin, and the replicas step makes it a replica of the primary.
// Transactions the primary lacks (errant: written on it while it was cut
// off, never replicated): the apply stops with an error naming them, and
// the member is left read-only and otherwise untouched for a person.
func (x *conv) fence(ctx context.Context) error {
	p := x.nodes[x.c.Primary.Host]
	var errs []error
	for _, r := range x.c.Replicas {
		h := r.Host
		if !x.isFenced(h) || x.nodes[h] == nil {
			continue
		}
		n := x.nodes[h]
		d := n.Dialect
		x.log("fencing a former primary", map[string]any{"host": h})
		if err := n.Exec(ctx, ScriptOptions{}, append(d.SetReadOnly(true), d.StopReplica())...); err != nil {
			return fmt.Errorf("%s (fenced): cannot make it read-only: %w", h, err)
		}
		mine, g, err := readHistory(ctx, n.Node, "gtid_binlog_pos")
		if err != nil {
			return err
		}
		praw, pg, err := readHistory(ctx, p.Node, "gtid_binlog_state")
		if err != nil {
			return err
		}
		if errant := g.Minus(pg); errant != "" {
			x.lost[h] = fmt.Errorf("holds errant transactions %s", errant)
			errs = append(errs, fmt.Errorf("%s, the former primary, holds transactions that %s (the primary) never received: %s "+
				"(%s at %q, %s at %q). It was left read-only, with replication stopped and its data untouched: "+
				"inspect it, and either replay what is needed on %s and rebuild %s as an empty replica, or make it the primary by hand; the provider never overwrites data",
				h, p.Host, errant, h, mine, p.Host, praw, p.Host, h))
			continue
		}
		if s, ok := d.AdoptBinlogPosition(); ok {
			// MariaDB: its slave position must cover what it wrote as
			// the primary, so that it asks the new primary for what
			// follows.
			if err := n.Exec(ctx, ScriptOptions{}, s); err != nil {
				return err
			}
		}
		x.log("former primary rejoins", map[string]any{"host": h, "position": mine})
	}
	return errors.Join(errs...)
}

// member returns the configured member for host (or a bare one for a
// member of the prior state).
func (x *conv) member(host string) Member {
	if strings.EqualFold(x.c.Primary.Host, host) {
		return x.c.Primary
	}
	for _, r := range x.c.Replicas {
		if strings.EqualFold(r.Host, host) {
			return r
		}
	}
	return Member{Host: host}
}

// settings writes every member's fragment: replicas that already replicate
// from the primary one at a time (each caught up again before the next),
// then the primary together with the members that join.
func (x *conv) settings(ctx context.Context) error {
	src := x.source()
	var existing, rest []string
	for _, r := range x.c.Replicas {
		f, err := x.nodes[r.Host].facts(ctx)
		if err != nil {
			return err
		}
		if f.Replica != nil && f.Replica.From(src) && f.Replica.Healthy() {
			existing = append(existing, r.Host)
		} else {
			rest = append(rest, r.Host)
		}
	}
	apply := func(h string, role Role) error {
		p := x.nodes[h]
		res, err := p.applySettings(ctx, x.c.SettingsFor(x.member(h), role), x.c.TLS, x.c.ServerTLS, false, x.o.WaitTimeout, x.log)
		if err != nil {
			return err
		}
		if res.CAChanged {
			x.mu.Lock()
			x.caChanged[h] = true
			x.mu.Unlock()
		}
		if res.Restarted {
			x.log("restarted", map[string]any{"host": h, "role": role.String()})
		}
		f, err := p.facts(ctx)
		if err != nil {
			return err
		}
		if err := p.ensureRole(ctx, f, role); err != nil {
			return err
		}
		if res.Restarted && role == RoleReplica && slices.Contains(existing, h) {
			return x.waitCaughtUp(ctx, h)
		}
		return nil
	}
	for _, h := range existing {
		if err := apply(h, RoleReplica); err != nil {
			return err
		}
	}
	return forEach(append([]string{x.c.Primary.Host}, rest...), func(h string) error {
		role := RoleReplica
		if h == x.c.Primary.Host {
			role = RolePrimary
		}
		return apply(h, role)
	})
}

// managedAccounts are the replication account and the users, with the
// password of each and whether it changed.
type managedAccount struct {
	Account    Account
	Password   string
	Changed    bool
	RequireSSL bool
	// Global privileges wanted ON *.*, Database and Privileges ON db.*.
	Global     []string
	Database   string
	Privileges []string
	Path       string
}

// managed are the accounts with whether each needs its password sent: it
// changed, or the account was not managed by the previous apply (on
// create, after an import, a new user): a password cannot be read back, so
// an account the provider takes over gets the configured one.
func (x *conv) managed(d Dialect) []managedAccount {
	out := managedAccounts(x.c, d)
	known := map[Account]bool{}
	if p := x.o.Prior; p != nil {
		for _, a := range p.Users {
			known[a] = true
		}
		if p.ReplicationUser != "" {
			a := x.c.ReplicationAccount()
			a.User = p.ReplicationUser
			known[a] = true
		}
	}
	out[0].Changed = x.o.ReplicationPasswordChanged || !known[out[0].Account]
	for i := range x.c.Users {
		changed := i < len(x.o.UserPasswordChanged) && x.o.UserPasswordChanged[i]
		out[i+1].Changed = changed || !known[out[i+1].Account]
	}
	return out
}

// primarySQL creates what the primary must hold: databases, the
// replication account and the application accounts, with their privileges.
// Everything is written to the binary log, so replicas get it too.
func (x *conv) primarySQL(ctx context.Context) error {
	p := x.nodes[x.c.Primary.Host]
	d := p.Dialect
	accts := x.managed(d)
	list := make([]Account, len(accts))
	for i, a := range accts {
		list[i] = a.Account
	}
	listQ, err := d.ListAccountsQuery(list)
	if err != nil {
		return err
	}
	ts, err := p.QueryMulti(ctx, ScriptOptions{}, d.DatabasesQuery(), listQ)
	if err != nil {
		return err
	}
	dbs := map[string]bool{}
	for i := range ts[0].Rows {
		n, _ := ts[0].Get(i, "name")
		dbs[n] = true
	}
	exist, err := ParseAccounts(ts[1])
	if err != nil {
		return err
	}
	requireSSL := ParseAccountsRequireSSL(ts[1])

	var stmts []Stmt
	for _, db := range x.c.Databases {
		if dbs[db.Name] {
			continue
		}
		s, err := d.CreateDatabase(db)
		if err != nil {
			return err
		}
		stmts = append(stmts, s)
	}
	for _, a := range accts {
		opts := UserOptions{RequireSSL: a.RequireSSL}
		var s Stmt
		switch {
		case !exist[a.Account]:
			s, err = d.CreateUser(a.Account, a.Password, opts)
		case a.Changed:
			s, err = d.AlterUserPassword(a.Account, a.Password, opts)
		case requireSSL[a.Account] != a.RequireSSL:
			s, err = d.AlterUserTLS(a.Account, opts)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", a.Path, err)
		}
		stmts = append(stmts, s)
		if a.Path == "replication_user" {
			x.replPasswordSent = true
		}
	}
	if len(stmts) > 0 {
		x.log("creating databases and accounts on the primary", map[string]any{"host": p.Host, "statements": len(stmts)})
		if err := p.Exec(ctx, ScriptOptions{}, stmts...); err != nil {
			return err
		}
	}

	// Privileges.
	shows := make([]Stmt, len(accts))
	for i, a := range accts {
		if shows[i], err = d.ShowGrants(a.Account); err != nil {
			return err
		}
	}
	gts, err := p.QueryMulti(ctx, ScriptOptions{}, shows...)
	if err != nil {
		return err
	}
	var grants []Stmt
	for i, a := range accts {
		cur, err := ParseGrants(gts[i])
		if err != nil {
			return fmt.Errorf("%s: %s: %w", p.Host, a.Account, err)
		}
		plan, err := d.PlanGrants(a.Account, cur, a.Global, a.Database, a.Privileges)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Path, err)
		}
		for _, c := range plan.Changes {
			x.log("privileges", map[string]any{"host": p.Host, "change": c})
		}
		grants = append(grants, plan.Stmts...)
	}
	if len(grants) == 0 {
		return nil
	}
	return p.Exec(ctx, ScriptOptions{}, grants...)
}

// replicas makes every replica replicate from the primary, one at a time.
func (x *conv) replicas(ctx context.Context) error {
	for _, r := range x.c.Replicas {
		if err := x.ensureReplica(ctx, r.Host); err != nil {
			return err
		}
	}
	return nil
}

// ensureReplica makes one replica replicate from the primary and waits
// until it has caught up. CHANGE ... TO is issued only when the replica's
// source differs from the configuration (or the password or CA changed).
func (x *conv) ensureReplica(ctx context.Context, host string) error {
	p, r := x.nodes[x.c.Primary.Host], x.nodes[host]
	d := r.Dialect
	src := x.source()
	f, err := r.facts(ctx)
	if err != nil {
		return err
	}
	st := f.Replica
	repoint := func(why string, adopt bool) error {
		x.log("repointing replica", map[string]any{"host": host, "source": src.Host, "why": why})
		change, err := d.ChangeSource(src)
		if err != nil {
			return err
		}
		stmts := []Stmt{d.StopReplica()}
		if adopt {
			if s, ok := d.AdoptBinlogPosition(); ok {
				stmts = append(stmts, s)
			}
		}
		stmts = append(stmts, change, d.StartReplica())
		return r.Exec(ctx, ScriptOptions{}, stmts...)
	}
	formerPrimary := x.o.Prior != nil && strings.EqualFold(x.o.Prior.Primary, host)
	switch {
	case st != nil && st.SameSource(src) && !x.o.ReplicationPasswordChanged && !x.replPasswordSent && !x.caChanged[host]:
		if !st.IORunning || !st.SQLRunning {
			x.log("starting replication", map[string]any{"host": host, "io": st.IOState, "sql_running": st.SQLRunning})
			if err := r.Exec(ctx, ScriptOptions{}, d.StartReplica()); err != nil {
				return err
			}
		}
	case st != nil && st.SameSource(src):
		if err := repoint("the replication password or CA changed", false); err != nil {
			return err
		}
	case st != nil && (st.From(src) || x.isMemberAddr(st.SourceHost)):
		if err := repoint(fmt.Sprintf("it replicates from %s:%d", st.SourceHost, st.SourcePort), false); err != nil {
			return err
		}
	case len(f.NonEmpty) == 0:
		if err := x.seed(ctx, p, r, f); err != nil {
			return err
		}
	case x.wasMember(host):
		// A member with data that does not replicate (an old primary
		// after an interrupted switchover, replication reset by hand):
		// GTIDs tell its new source where it stands.
		if err := repoint("it was a member and does not replicate", formerPrimary); err != nil {
			return err
		}
	default:
		from := "does not replicate"
		if st != nil {
			from = fmt.Sprintf("replicates from %s:%d, which is not a member of this cluster", st.SourceHost, st.SourcePort)
		}
		return fmt.Errorf("%s %s and holds databases with tables (%s): seeding it from %s would overwrite them, and the provider never drops data. "+
			"Drop those databases on %s if they are disposable, or make it a replica of %s by hand (GTID) and apply again",
			host, from, strings.Join(f.NonEmpty, ", "), p.Host, host, p.Host)
	}
	return x.waitCaughtUp(ctx, host)
}

// seed copies the primary into an empty replica and starts replication.
func (x *conv) seed(ctx context.Context, p, r *prepared, f hostFacts) error {
	// A MySQL host cloned from another keeps its server_uuid; a replica
	// with its source's UUID refuses to replicate. The replica holds no
	// user data, so it gets a new one.
	if uuid := f.Vars["server_uuid"]; uuid != "" {
		for h, o := range x.nodes {
			if h == r.Host || !x.isDesired(h) {
				continue
			}
			of, err := o.facts(ctx)
			if err != nil {
				return err
			}
			if of.Vars["server_uuid"] == uuid {
				x.log("replica has the server_uuid of another member (cloned host): making a new one", map[string]any{"host": r.Host, "other": h})
				if err := r.regenerateUUID(ctx, f.Vars["datadir"], x.o.WaitTimeout); err != nil {
					return err
				}
				break
			}
		}
	}
	accounts, err := x.copyAccounts(ctx, p)
	if err != nil {
		return err
	}
	x.log("seeding replica", map[string]any{"host": r.Host, "source": p.Host})
	start := time.Now()
	err = SeedReplica(ctx, p.Node, r.Node, SeedOptions{
		Source:        x.source(),
		Accounts:      accounts,
		VerifyTimeout: x.o.WaitTimeout,
	})
	x.log("seeded replica", map[string]any{"host": r.Host, "seconds": time.Since(start).Seconds(), "ok": err == nil})
	return err
}

// copyAccounts reads the managed accounts from the primary as statements
// that recreate them, password hashes included, on a seeded replica: a dump
// of user databases does not carry accounts, and the replica starts from a
// GTID position after they were created. Copying (rather than creating from
// the configured passwords) gives the replica exactly what the primary has,
// whether the passwords are write-only or not.
func (x *conv) copyAccounts(ctx context.Context, p *prepared) ([]Stmt, error) {
	d := p.Dialect
	accts := x.managed(d)
	stmts := append([]Stmt(nil), d.AccountCopyPrelude()...)
	for _, a := range accts {
		c, err := d.ShowCreateUser(a.Account)
		if err != nil {
			return nil, err
		}
		g, err := d.ShowGrants(a.Account)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, c, g)
	}
	ts, err := p.QueryMulti(ctx, ScriptOptions{}, stmts...)
	if err != nil {
		return nil, err
	}
	ts = ts[len(d.AccountCopyPrelude()):]
	var out []Stmt
	for i, a := range accts {
		s, err := d.CopyAccount(a.Account, ts[2*i], ts[2*i+1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Host, err)
		}
		out = append(out, s...)
	}
	return out, nil
}

// waitCaughtUp waits until the replica's threads run without error and it
// has applied everything the primary had when the wait began, at most
// WaitTimeout. An SQL thread stopped by an error fails at once (it does
// not heal by itself); IO errors are waited out (a restarted primary).
func (x *conv) waitCaughtUp(ctx context.Context, host string) error {
	p, r := x.nodes[x.c.Primary.Host], x.nodes[host]
	src := x.source()
	t, err := p.Query(ctx, p.Dialect.GTIDPositionQuery())
	if err != nil {
		return err
	}
	// A missing position is not the empty set: waiting for "" passes at
	// once, and a replica that has not caught up would pass for one.
	pos, ok := t.Get(0, "gtid_position")
	if !ok || pos == "NULL" {
		return fmt.Errorf("%s: cannot tell whether %s has caught up: the primary's answer to %q had no gtid_position (@@GLOBAL.%s; columns %q, %d rows). "+
			"Check that GTIDs are enabled on %s, then apply again",
			p.Host, host, p.Dialect.GTIDPositionQuery().SQL(), p.Dialect.GTIDPositionVar, t.Columns, len(t.Rows), p.Host)
	}
	deadline := time.Now().Add(x.o.WaitTimeout)
	var last *ReplicaStatus
	for {
		st, err := r.ReplicaStatus(ctx)
		if err != nil {
			return err
		}
		last = st
		switch {
		case st == nil:
			return fmt.Errorf("%s is not a replica after configuring it", host)
		case !st.SQLRunning && st.LastSQLErrno != 0:
			return fmt.Errorf("%s: replication from %s stopped on an error: Last_SQL_Error: %q (Last_IO_Error: %q). "+
				"Fix the cause on %s, then apply again", host, p.Host, st.LastSQLError, st.LastIOError, host)
		case st.TLSRefused():
			return errTLSRefused(host, p.Host, st)
		case st.Healthy() && st.From(src):
			wait := min(2*time.Second, time.Until(deadline))
			ws, err := r.Dialect.WaitForGTID(pos, max(wait, time.Second))
			if err != nil {
				return err
			}
			out, err := r.Query(ctx, ws)
			if err != nil {
				return err
			}
			if v, _ := out.Get(0, "result"); strings.TrimSpace(v) == r.Dialect.gtidWaitOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			behind := "unknown"
			if last.SecondsBehind != nil {
				behind = fmt.Sprintf("%d s", *last.SecondsBehind)
			}
			return fmt.Errorf("%s has not caught up with %s within %s (IO thread %s, SQL thread running %t, behind %s); Last_IO_Error: %q; Last_SQL_Error: %q",
				host, p.Host, x.o.WaitTimeout, last.IOState, last.SQLRunning, behind, last.LastIOError, last.LastSQLError)
		}
		if !(st.Healthy() && st.From(src)) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// detachRemoved detaches members that left the configuration.
func (x *conv) detachRemoved(ctx context.Context) error {
	var gone []string
	for _, h := range x.o.Prior.members() {
		if !x.isDesired(h) && x.nodes[h] != nil && !slices.Contains(gone, h) {
			gone = append(gone, h)
		}
	}
	accounts := x.allAccounts()
	return forEach(gone, func(h string) error {
		x.log("detaching a member that left the cluster", map[string]any{"host": h})
		return teardownMember(ctx, x.nodes[h], accounts, x.o.WaitTimeout)
	})
}

// allAccounts are every account the resource manages or managed.
func (x *conv) allAccounts() []Account {
	var out []Account
	add := func(a Account) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	add(x.c.ReplicationAccount())
	for _, u := range x.c.Users {
		add(u.Account())
	}
	if x.o.Prior != nil {
		if x.o.Prior.ReplicationUser != "" {
			a := x.c.ReplicationAccount()
			a.User = x.o.Prior.ReplicationUser
			add(a)
		}
		for _, a := range x.o.Prior.Users {
			add(a)
		}
	}
	return out
}

// dropRemovedAccounts drops, on the primary (and so on every replica),
// the accounts of the prior state that the configuration no longer has.
func (x *conv) dropRemovedAccounts(ctx context.Context) error {
	p := x.nodes[x.c.Primary.Host]
	want := map[Account]bool{x.c.ReplicationAccount(): true}
	for _, u := range x.c.Users {
		want[u.Account()] = true
	}
	var stmts []Stmt
	for _, a := range x.allAccounts() {
		if want[a] {
			continue
		}
		s, err := p.Dialect.DropUser(a)
		if err != nil {
			return err
		}
		stmts = append(stmts, s)
	}
	if len(stmts) == 0 {
		return nil
	}
	x.log("dropping accounts that left the configuration", map[string]any{"host": p.Host, "count": len(stmts)})
	return p.Exec(ctx, ScriptOptions{}, stmts...)
}
