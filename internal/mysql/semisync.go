// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"strconv"
	"time"
)

// SemiSync turns on semi-synchronous replication on every member: the
// primary returns a commit to its client only once a replica has written
// the transaction to its relay log (AFTER_SYNC: no other client sees it
// before that either), so a write acknowledged to a client survives the
// loss of the primary, provided the most advanced replica is the one
// promoted (Failover refuses any other). Both sides are on on every member,
// as MariaDB's and MySQL's manuals advise for servers that change roles: a
// switchover or failover then needs no change of settings.
//
// When no replica acknowledges within Timeout, the primary falls back to
// asynchronous replication until one catches up (the server's
// Rpl_semi_sync_*_status turns OFF): writes are then not held forever, and
// the guarantee is suspended. It does so at once when no semi-synchronous
// replica is connected at all (wait_no_slave / wait_no_replica OFF): a
// replica, whose source side has no replicas of its own, must not hold
// every transaction it applies for Timeout.
type SemiSync struct {
	Timeout time.Duration
}

// DefaultSemiSyncTimeout is both servers' own default.
const DefaultSemiSyncTimeout = 10 * time.Second

// Bounds of SemiSync.Timeout.
const (
	MinSemiSyncTimeout = 100 * time.Millisecond
	MaxSemiSyncTimeout = 24 * time.Hour
)

// ValidateSemiSync checks s at path (the attribute holding the timeout).
func ValidateSemiSync(path string, s SemiSync) error {
	if s.Timeout < MinSemiSyncTimeout || s.Timeout > MaxSemiSyncTimeout || s.Timeout%time.Millisecond != 0 {
		return fieldErr(path, s.Timeout.String(), "must be whole milliseconds between %s and %s", MinSemiSyncTimeout, MaxSemiSyncTimeout)
	}
	return nil
}

// semiSyncSettings are the fragment's settings for s. MariaDB has
// semi-synchronous replication built in (10.3 and later). MySQL needs its
// two plugins loaded at start (plugin_load_add), and their variables are
// written loose_ so that `mysqld --validate-config`, which loads no
// plugin, accepts them; 8.0.26 renamed plugins and variables from
// master/slave to source/replica.
func (d Dialect) semiSyncSettings(s SemiSync) []Setting {
	ms := strconv.FormatInt(s.Timeout.Milliseconds(), 10)
	if d.Flavor == MariaDB {
		return []Setting{
			{"rpl_semi_sync_master_enabled", "ON"},
			{"rpl_semi_sync_slave_enabled", "ON"},
			{"rpl_semi_sync_master_timeout", ms},
			{"rpl_semi_sync_master_wait_point", "AFTER_SYNC"},
			{"rpl_semi_sync_master_wait_no_slave", "OFF"},
		}
	}
	src, rep := "source", "replica"
	if !d.Version.AtLeast(8, 0, 26) {
		src, rep = "master", "slave"
	}
	return []Setting{
		{"plugin_load_add", "semisync_" + src + ".so;semisync_" + rep + ".so"},
		{"loose_rpl_semi_sync_" + src + "_enabled", "ON"},
		{"loose_rpl_semi_sync_" + rep + "_enabled", "ON"},
		{"loose_rpl_semi_sync_" + src + "_timeout", ms},
		{"loose_rpl_semi_sync_" + src + "_wait_point", "AFTER_SYNC"},
		{"loose_rpl_semi_sync_" + src + "_wait_no_" + rep, "OFF"},
	}
}

// SemiSyncStatusVar is the status variable that is ON while the primary
// waits for acknowledgements (OFF before a replica connects, and after a
// timeout until one catches up).
func (d Dialect) SemiSyncStatusVar() string {
	if d.Flavor == MySQL && d.Version.AtLeast(8, 0, 26) {
		return "Rpl_semi_sync_source_status"
	}
	return "Rpl_semi_sync_master_status"
}
