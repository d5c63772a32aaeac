// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// SeedOptions are what SeedReplica needs besides the two nodes.
type SeedOptions struct {
	// Source is how the replica replicates from the primary.
	Source SourceConfig
	// Databases are dumped from the primary; nil means every user database
	// the primary has (UserDatabasesQuery).
	Databases []string
	// Accounts are run on the replica after the load with sql_log_bin = 0:
	// the replication account and the managed users, which a dump of user
	// databases does not carry (see DumpArgv). Build them with CreateUser,
	// AlterUserPassword and the Grant builders.
	Accounts []Stmt
	// VerifyTimeout bounds the wait for replication to run (default 60 s),
	// PollInterval how often it is checked (default 1 s).
	VerifyTimeout, PollInterval time.Duration
}

// SeedReplica makes a new replica a copy of the primary and starts
// replication at the copy's GTID position:
//
//  1. refuse if the replica holds any user database with tables in it
//     (seeding would overwrite it: the provider never drops user data);
//  2. on the replica: make it writable for the admin (MySQL's
//     super_read_only blocks even root), stop and reset replication, and
//     reset its own binary logs and GTID state;
//  3. stream the primary's consistent dump (DumpArgv) into the replica's
//     client (LoadDumpArgv), which also sets the GTID position
//     (gtid_slave_pos on MariaDB, GTID_PURGED on MySQL); a primary without
//     user databases gives its current position instead (SetGTIDPosition);
//  4. create the accounts with sql_log_bin = 0;
//  5. point it at the primary, make it read-only again, start replication
//     and wait until both threads run.
//
// On failure the replica is made read-only again (best effort) and the
// error says that it may hold a partial copy.
func SeedReplica(ctx context.Context, primary, replica Node, o SeedOptions) error {
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = 60 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	rd := replica.Dialect
	change, err := rd.ChangeSource(o.Source)
	if err != nil {
		return err
	}

	existing, err := databases(ctx, replica, rd.NonEmptyDatabasesQuery())
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return fmt.Errorf("seed %s from %s: the replica already has databases with tables %q; seeding would overwrite them. "+
			"Drop them on %s if they are disposable, or make it a replica by hand", replica.Host, primary.Host, existing, replica.Host)
	}
	dbs := o.Databases
	if dbs == nil {
		if dbs, err = databases(ctx, primary, primary.Dialect.UserDatabasesQuery()); err != nil {
			return err
		}
	}

	prepare := append(rd.SetReadOnly(false), rd.StopReplica(), rd.ResetReplicaAll(), rd.ResetBinaryLogs())
	if err := replica.Exec(ctx, ScriptOptions{}, prepare...); err != nil {
		return fmt.Errorf("seed %s: prepare: %w", replica.Host, err)
	}
	fail := func(what string, err error) error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := replica.Exec(rctx, ScriptOptions{}, rd.SetReadOnly(true)...); rerr != nil {
			err = errors.Join(err, fmt.Errorf("making %s read-only again also failed: %w", replica.Host, rerr))
		}
		return fmt.Errorf("seed %s from %s: %s: %w; the replica may hold a partial copy and does not replicate", replica.Host, primary.Host, what, err)
	}

	if len(dbs) > 0 {
		if err := streamDump(ctx, primary, replica, dbs); err != nil {
			return fail("copy", err)
		}
	} else {
		// Nothing to dump: start where the primary is now, as a dump would
		// have, rather than replaying its binary log from the start (which
		// would repeat the account statements run below).
		pos, err := primary.Query(ctx, primary.Dialect.GTIDPositionQuery())
		if err != nil {
			return fail("read the primary's GTID position", err)
		}
		p, ok := pos.Get(0, "gtid_position")
		if !ok {
			return fail("read the primary's GTID position", fmt.Errorf("no gtid_position in %q", pos.Columns))
		}
		set, err := rd.SetGTIDPosition(p)
		if err != nil {
			return fail("position", err)
		}
		if err := replica.Exec(ctx, ScriptOptions{}, set); err != nil {
			return fail("position", err)
		}
	}
	if len(o.Accounts) > 0 {
		if err := replica.Exec(ctx, ScriptOptions{NoBinlog: true}, o.Accounts...); err != nil {
			return fail("accounts", err)
		}
	}
	finish := append([]Stmt{change}, rd.SetReadOnly(true)...)
	finish = append(finish, rd.StartReplica())
	if err := replica.Exec(ctx, ScriptOptions{}, finish...); err != nil {
		return fail("start replication", err)
	}
	deadline := time.Now().Add(o.VerifyTimeout)
	for {
		st, err := replica.ReplicaStatus(ctx)
		if err != nil {
			return err
		}
		if st.From(o.Source) && st.Healthy() {
			return nil
		}
		if st != nil && st.TLSRefused() {
			return fmt.Errorf("seed: %w", errTLSRefused(replica.Host, primary.Host, st))
		}
		if time.Now().After(deadline) {
			if st == nil {
				return fmt.Errorf("seed %s: not a replica after START", replica.Host)
			}
			return fmt.Errorf("seed %s: replication from %s does not run after %s (IO %s, SQL running %t, last IO error %q, last SQL error %q)",
				replica.Host, primary.Host, o.VerifyTimeout, st.IOState, st.SQLRunning, st.LastIOError, st.LastSQLError)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.PollInterval):
		}
	}
}

func databases(ctx context.Context, n Node, q Stmt) ([]string, error) {
	t, err := n.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := range t.Rows {
		name, ok := t.Get(i, "name")
		if !ok {
			return nil, fmt.Errorf("%s: database list without a name column: %q", n.Host, t.Columns)
		}
		out = append(out, name)
	}
	return out, nil
}

// streamDump pipes the primary's dump into the replica's client. If the
// dump fails, the pipe is closed with its error, so the load sees a broken
// stream and the dump's error is reported even if the load did not notice.
func streamDump(ctx context.Context, primary, replica Node, dbs []string) error {
	argv, err := primary.Dialect.DumpArgv(dbs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	dumpErr := make(chan error, 1)
	go func() {
		_, err := primary.Runner.Run(ctx, remote.Cmd{Argv: argv, Stdout: pw})
		if err != nil {
			pw.CloseWithError(fmt.Errorf("dump on %s: %w", primary.Host, err))
			cancel() // stop the load too
		} else {
			pw.Close()
		}
		dumpErr <- err
	}()
	_, loadErr := replica.Runner.Run(ctx, remote.Cmd{Argv: replica.Dialect.LoadDumpArgv(), Stdin: pr})
	pr.CloseWithError(io.ErrClosedPipe) // unblock the dump if the load stopped reading
	if derr := <-dumpErr; derr != nil {
		return fmt.Errorf("dump on %s: %w", primary.Host, derr)
	}
	if loadErr != nil {
		return fmt.Errorf("load on %s: %w", replica.Host, loadErr)
	}
	return nil
}
