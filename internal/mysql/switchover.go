// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"strings"
)

// StepKind is one action of a switchover.
type StepKind int

const (
	// StepCheckSource: the new primary replicates from the old one, both
	// threads running, with GTIDs. Nothing has changed yet if it fails.
	StepCheckSource StepKind = iota + 1
	// StepWriteSettings: write the member's fragment for Step.Role (the
	// apply engine does it; no restart: roles differ only in dynamic
	// settings).
	StepWriteSettings
	// StepSetReadOnly: read_only (and super_read_only on MySQL) on.
	StepSetReadOnly
	// StepRecordPosition: read the old primary's GTID position.
	StepRecordPosition
	// StepWaitForPosition: wait, bounded, until the new primary has applied
	// the recorded position.
	StepWaitForPosition
	// StepStopReplica, StepResetReplica, StepStartReplica: STOP, RESET ...
	// ALL, START.
	StepStopReplica
	StepResetReplica
	// StepSetWritable: super_read_only and read_only off.
	StepSetWritable
	// StepAdoptBinlogPosition: MariaDB only (a no-op on MySQL): make the
	// demoted primary's gtid_slave_pos include its own writes.
	StepAdoptBinlogPosition
	// StepChangeSource: CHANGE ... TO Step.Source.
	StepChangeSource
	StepStartReplica
	// StepVerifyReplica: poll, bounded, until both threads run and the
	// source is Step.Source.
	StepVerifyReplica
)

var stepNames = map[StepKind]string{
	StepCheckSource:         "check-source",
	StepWriteSettings:       "write-settings",
	StepSetReadOnly:         "set-read-only",
	StepRecordPosition:      "record-position",
	StepWaitForPosition:     "wait-for-position",
	StepStopReplica:         "stop-replica",
	StepResetReplica:        "reset-replica",
	StepSetWritable:         "set-writable",
	StepAdoptBinlogPosition: "adopt-binlog-position",
	StepChangeSource:        "change-source",
	StepStartReplica:        "start-replica",
	StepVerifyReplica:       "verify-replica",
}

func (k StepKind) String() string {
	if n, ok := stepNames[k]; ok {
		return n
	}
	return fmt.Sprintf("step(%d)", int(k))
}

// Step is one action on one member.
type Step struct {
	Kind StepKind
	// Host is the member the step runs on.
	Host string
	// Source is the member replicated from (StepCheckSource,
	// StepChangeSource, StepVerifyReplica), or whose position is waited for
	// (StepWaitForPosition).
	Source string
	// Role is the role written (StepWriteSettings).
	Role Role
}

func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s", s.Kind, s.Host)
	if s.Source != "" {
		fmt.Fprintf(&b, " (source %s)", s.Source)
	}
	if s.Kind == StepWriteSettings {
		fmt.Fprintf(&b, " (role %s)", s.Role)
	}
	return b.String()
}

// Topology is who replicates from whom, by member host.
type Topology struct {
	Primary  string
	Replicas []string
}

// SwitchoverPlan is the ordered steps that move the primary role.
type SwitchoverPlan struct {
	From, To string
	Steps    []Step
	// Commit is the index of the first step after the new primary became
	// writable. A failure before it is rolled back (Rollback); from it on,
	// the new primary may have taken writes and the remaining steps are
	// repaired forward by running the switchover again, never rolled back.
	Commit int
}

// PlanSwitchover returns the steps that make newPrimary the primary of t
// with no committed write lost (no automatic failover: this is the planned,
// explicit change of an apply):
//
//  1. check that the new primary replicates from the old one, healthy;
//  2. write the old primary's fragment as a replica, so that a restart from
//     here on cannot bring it back writable;
//  3. make the old primary read-only (super_read_only on MySQL): no new
//     writes can commit there;
//  4. record its GTID position, and wait (bounded) until the new primary
//     has applied it;
//  5. stop and reset replication on the new primary, make it writable, and
//     write its fragment as the primary;
//  6. repoint every other replica, then the old primary, to the new primary
//     (the old primary first adopts its own binlog position on MariaDB) and
//     start replication;
//  7. verify that each of them replicates from the new primary.
func PlanSwitchover(t Topology, newPrimary string) (SwitchoverPlan, error) {
	if t.Primary == "" {
		return SwitchoverPlan{}, fmt.Errorf("switchover: the current topology has no primary")
	}
	if strings.EqualFold(newPrimary, t.Primary) {
		return SwitchoverPlan{}, fmt.Errorf("switchover: %s is already the primary", newPrimary)
	}
	var others []string
	found := false
	seen := map[string]bool{normHost(t.Primary): true}
	for _, r := range t.Replicas {
		if seen[normHost(r)] {
			return SwitchoverPlan{}, fmt.Errorf("switchover: %s appears twice in the topology", r)
		}
		seen[normHost(r)] = true
		if strings.EqualFold(r, newPrimary) {
			found = true
			continue
		}
		others = append(others, r)
	}
	if !found {
		return SwitchoverPlan{}, fmt.Errorf("switchover: %s is not a replica of %s, so it cannot be promoted", newPrimary, t.Primary)
	}
	old, nw := t.Primary, newPrimary
	p := SwitchoverPlan{From: old, To: nw}
	add := func(s ...Step) { p.Steps = append(p.Steps, s...) }
	add(
		Step{Kind: StepCheckSource, Host: nw, Source: old},
		Step{Kind: StepWriteSettings, Host: old, Role: RoleReplica},
		Step{Kind: StepSetReadOnly, Host: old},
		Step{Kind: StepRecordPosition, Host: old},
		Step{Kind: StepWaitForPosition, Host: nw, Source: old},
		Step{Kind: StepStopReplica, Host: nw},
		Step{Kind: StepResetReplica, Host: nw},
		Step{Kind: StepSetWritable, Host: nw},
	)
	p.Commit = len(p.Steps)
	add(Step{Kind: StepWriteSettings, Host: nw, Role: RolePrimary})
	for _, r := range others {
		add(
			Step{Kind: StepStopReplica, Host: r},
			Step{Kind: StepChangeSource, Host: r, Source: nw},
			Step{Kind: StepStartReplica, Host: r},
		)
	}
	add(
		Step{Kind: StepStopReplica, Host: old},
		Step{Kind: StepAdoptBinlogPosition, Host: old},
		Step{Kind: StepChangeSource, Host: old, Source: nw},
		Step{Kind: StepStartReplica, Host: old},
	)
	for _, r := range append(others, old) {
		add(Step{Kind: StepVerifyReplica, Host: r, Source: nw})
	}
	return p, nil
}

// Rollback returns the steps that undo a switchover whose step failed (its
// index) before Commit: the new primary goes back to read-only and to
// replicating from the old primary, then the old primary becomes writable
// again with its primary fragment, in that order so that two writable
// primaries never exist. From Commit on it returns nil: see Commit.
func (p SwitchoverPlan) Rollback(failed int) []Step {
	if failed < 0 || failed >= p.Commit {
		return nil
	}
	// Which steps were attempted (the failed one may have half-happened).
	attempted := map[StepKind]bool{}
	for _, s := range p.Steps[:failed+1] {
		attempted[s.Kind] = true
	}
	var out []Step
	if attempted[StepSetWritable] {
		out = append(out, Step{Kind: StepSetReadOnly, Host: p.To})
	}
	if attempted[StepStopReplica] || attempted[StepResetReplica] {
		out = append(out,
			Step{Kind: StepStopReplica, Host: p.To},
			Step{Kind: StepChangeSource, Host: p.To, Source: p.From},
			Step{Kind: StepStartReplica, Host: p.To})
	}
	if attempted[StepSetReadOnly] {
		out = append(out, Step{Kind: StepSetWritable, Host: p.From})
	}
	if attempted[StepWriteSettings] {
		out = append(out, Step{Kind: StepWriteSettings, Host: p.From, Role: RolePrimary})
	}
	return out
}
