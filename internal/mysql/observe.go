// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"fmt"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// Status is the cluster as Observe found it.
type Status struct {
	// Flavor is the primary's (FlavorUnknown when it could not be read).
	Flavor Flavor
	// Members are the primary first, then the replicas in configuration
	// order.
	Members []MemberStatus
	// Drift lists every difference from the configuration, worded for an
	// operator, in member order; empty when the cluster is as configured.
	Drift []string
	// Warnings are things the operator should know that are not drift.
	Warnings []string
	// Fenced are the former primaries a failover left out of the
	// cluster, read-only or unreachable, to be rejoined by a later apply
	// (Converge only).
	Fenced []string
}

// MemberStatus is one member as Observe found it.
type MemberStatus struct {
	Host string
	Role Role
	// Err is set when the member could not be read (the rest is then
	// empty).
	Err error
	// Server is the running server's flavor and version.
	Server Server
	// ServerID is the running server_id.
	ServerID string
	// ReadOnly is true when every read-only variable is on.
	ReadOnly bool
	// Replica is the replication status; nil when the member does not
	// replicate.
	Replica *ReplicaStatus
}

// Observe reads every member (in parallel, one round trip each: see
// readMember) and reports how the cluster differs from c: settings files,
// running server_id, read-only by role, replication source, threads, errors
// and lag beyond c.MaxLagSeconds, and on the primary the databases,
// accounts and privileges. A member that cannot be read is drift too, not
// an error: a plan must still be possible with a host down.
func Observe(ctx context.Context, env Env, c Cluster) Status {
	type memberSpec struct {
		m    Member
		role Role
	}
	specs := []memberSpec{{c.Primary, RolePrimary}}
	for _, r := range c.Replicas {
		specs = append(specs, memberSpec{r, RoleReplica})
	}
	st := Status{Members: make([]MemberStatus, len(specs))}
	drift := make([][]string, len(specs))
	var primary primaryRead
	src := c.SourceFor(c.Primary)
	_ = forEachIndex(len(specs), func(i int) error {
		sp := specs[i]
		ms := &st.Members[i]
		ms.Host, ms.Role = sp.m.Host, sp.role
		label := fmt.Sprintf("%s (%s)", sp.m.Host, sp.role)
		add := func(format string, args ...any) {
			drift[i] = append(drift[i], label+": "+fmt.Sprintf(format, args...))
		}
		r, ok := env.Runners[sp.m.Host]
		if !ok {
			ms.Err = fmt.Errorf("no connection to %s", sp.m.Host)
			add("cannot be read: %v", ms.Err)
			return nil
		}
		var known *Server
		if s, ok := env.Servers[sp.m.Host]; ok {
			known = &s
		}
		mr, err := readMember(ctx, r, sp.m.Host, known, c, sp.m, sp.role)
		if err != nil {
			ms.Err = err
			add("cannot be read: %v", err)
			return nil
		}
		if err := mr.dialectErr; err != nil {
			ms.Err = err
			add("%v", err)
			return nil
		}
		d := mr.dialect
		ms.Server = mr.server
		if err := mr.factsErr; err != nil {
			ms.Err = err
			add("cannot be read: %v", err)
			return nil
		}
		f := mr.facts
		ms.ServerID = f.Vars["server_id"]
		ms.ReadOnly = f.readOnlyIs(d, true)
		ms.Replica = f.Replica
		if sp.role == RolePrimary {
			primary = mr.primary
		}

		// Files.
		cc := c
		cc.Flavor = d.Flavor
		want, err := settingsFiles(d, cc.SettingsFor(sp.m, sp.role), c.TLS, c.ServerTLS)
		if err != nil {
			add("%v", err)
			return nil
		}
		for _, w := range want {
			fi, ok := mr.files.Files[w.Path]
			switch {
			case !ok:
				add("managed files cannot be read: %s was not probed", w.Path)
			case !fi.Exists:
				add("%s is missing", w.Path)
			case fi.SHA256 != apply.Checksum(w.Content):
				add("%s differs from the configuration", w.Path)
			}
		}
		if id := fmt.Sprint(sp.m.EffectiveServerID()); ms.ServerID != id {
			add("runs with server_id %s, the configuration says %s (a restart is pending)", ms.ServerID, id)
		}

		// Role and replication.
		if sp.role == RolePrimary {
			if !f.readOnlyIs(d, false) {
				add("is read-only, but it is the primary")
			}
			if f.Replica != nil {
				add("replicates from %s:%d, but it is the primary", f.Replica.SourceHost, f.Replica.SourcePort)
			}
			return nil
		}
		if !ms.ReadOnly {
			add("accepts writes, but it is a replica (read-only is off)")
		}
		rs := f.Replica
		switch {
		case rs == nil:
			add("does not replicate")
		case !rs.From(src):
			add("replicates from %s:%d instead of the primary %s:%d", rs.SourceHost, rs.SourcePort, src.Host, src.port())
		case !rs.SameSource(src):
			add("replicates from the primary with other settings than configured (user, GTID positioning or TLS)")
		}
		if rs == nil {
			return nil
		}
		lastErr := func(name, msg string) string {
			if msg == "" {
				return ""
			}
			return fmt.Sprintf("; %s: %q", name, msg)
		}
		if !rs.IORunning {
			add("the replication IO thread is not running (%s)%s", rs.IOState, lastErr("Last_IO_Error", rs.LastIOError))
		} else if rs.LastIOErrno != 0 {
			add("the replication IO thread reports an error%s", lastErr("Last_IO_Error", rs.LastIOError))
		}
		if !rs.SQLRunning {
			add("the replication SQL thread is not running%s", lastErr("Last_SQL_Error", rs.LastSQLError))
		}
		if c.MaxLagSeconds > 0 && rs.SecondsBehind != nil && *rs.SecondsBehind > c.MaxLagSeconds {
			add("lags %d s behind the primary (lag_threshold_seconds is %d)", *rs.SecondsBehind, c.MaxLagSeconds)
		}
		return nil
	})

	if p := st.Members[0]; p.Err == nil {
		st.Flavor = p.Server.Flavor
		d, err := p.Server.Dialect()
		if err == nil {
			for _, msg := range primaryDrift(d, c, primary) {
				drift[0] = append(drift[0], fmt.Sprintf("%s (primary): %s", p.Host, msg))
			}
		}
	}
	for _, d := range drift {
		st.Drift = append(st.Drift, d...)
	}
	return st
}

// managedAccounts are the replication account and the application
// accounts with what each should hold.
func managedAccounts(c Cluster, d Dialect) []managedAccount {
	out := []managedAccount{{
		Account:  c.ReplicationAccount(),
		Password: c.ReplicationPassword,
		Global:   d.ReplicationPrivileges,
		Path:     "replication_user",
	}}
	for i, u := range c.Users {
		out = append(out, managedAccount{
			Account: u.Account(), Password: u.Password, RequireSSL: u.RequireSSL,
			Database: u.Database, Privileges: u.Privileges, Path: fmt.Sprintf("users[%d]", i),
		})
	}
	return out
}

// primaryDrift checks the primary's databases, accounts and privileges, as
// its probe read them.
func primaryDrift(d Dialect, c Cluster, pr primaryRead) []string {
	if pr.plan == nil {
		return []string{"databases and accounts were not read"}
	}
	if pr.err != nil {
		if pr.tables == nil && pr.plan.listErr != nil {
			return []string{pr.err.Error()}
		}
		return []string{"databases and accounts cannot be read: " + pr.err.Error()}
	}
	ts := pr.tables
	var out []string
	dbs := map[string]bool{}
	for i := range ts[0].Rows {
		name, _ := ts[0].Get(i, "name")
		dbs[name] = true
	}
	for _, db := range c.Databases {
		if !dbs[db.Name] {
			out = append(out, fmt.Sprintf("database %q is missing", db.Name))
		}
	}
	exist, err := ParseAccounts(ts[1])
	if err != nil {
		return append(out, err.Error())
	}
	requireSSL := ParseAccountsRequireSSL(ts[1])
	var present []int
	for i, a := range pr.plan.accts {
		if !exist[a.Account] {
			out = append(out, fmt.Sprintf("account %s is missing", a.Account))
			continue
		}
		if requireSSL[a.Account] != a.RequireSSL {
			out = append(out, fmt.Sprintf("account %s: REQUIRE SSL is %s, configured %s", a.Account, onOff(requireSSL[a.Account]), onOff(a.RequireSSL)))
		}
		if err := pr.plan.grantErrs[i]; err != nil {
			return append(out, err.Error())
		}
		present = append(present, i)
	}
	for _, i := range present {
		if err := pr.grantEr[i]; err != nil {
			return append(out, "privileges cannot be read: "+err.Error())
		}
	}
	for _, i := range present {
		a := pr.plan.accts[i]
		cur, err := ParseGrants(pr.grants[i][0])
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		plan, err := d.PlanGrants(a.Account, cur, a.Global, a.Database, a.Privileges)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		out = append(out, plan.Changes...)
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
