// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package apply is the safe-apply engine: the one way the provider changes
// files on live hosts. It talks to hosts only through remote.Runner and
// knows nothing of Terraform or of any particular service; services supply
// their validate and reload argv and their Verify callback.
//
// # Host requirements
//
// A POSIX sh and GNU coreutils (sha256sum, stat -c, head -c, base64 -w,
// mv -T, ln -P, cp -P, mktemp, timeout). flock(1) from util-linux is used to
// serialise applies when present; without it applies still work but are not
// serialised, and Outcome.Warnings says so. Every remote script is a
// constant in scripts.go (or next to its caller) run with remote.Script;
// paths, owners and argv reach it as positional parameters or on stdin,
// never as script text.
//
// # What lives on the host
//
// Next to each managed path P, in the same directory (so every rename is
// atomic):
//
//	P.foobar-new        a complete, checksummed candidate (upload step)
//	P.foobar-bak        the file that was live before the current commit
//	P.foobar-bak-none   marker: nothing was at P before the current commit
//	P.foobar-orig       the file found at P before the first takeover
//	P.foobar-orig-none  marker: nothing was at P before the first takeover
//	.N.foobar-tmp.PID   an upload in progress (N is P's base name)
//
// Under the state directory (/var/lib/foobar by default, mode 0700):
// locks/NAME.lock for flock, and runs/ID/ with the report, log and
// validator/reload output of each commit, rollback and cleanup (the newest
// 50 are kept).
//
// # One Apply
//
//  1. One round trip reads kind, sha256, owner, group and mode of every
//     managed path, and whether backups or candidates sit next to it. If
//     everything matches and nothing is left over, Apply returns: nothing is
//     written and nothing reloads.
//  2. One round trip uploads every changed file as a framed stream on stdin;
//     each lands on a temporary name, is checked against its sha256, gets
//     its owner, group and mode, is synced, and is renamed to P.foobar-new.
//     The live path is never touched.
//  3. One "commit" round trip. A launcher takes the lock and starts a worker
//     detached from the session (HUP and PIPE ignored, stdin from /dev/null,
//     output to the run directory), then waits and prints the worker's
//     report. The worker checks every candidate's sha256 (a concurrent apply
//     that replaced one is a *ConflictError, nothing changes), saves
//     originals (KeepOriginal), and runs Validate before any live file
//     changes: in a private mount namespace (unshare -m) where every
//     directory the change touches, and every ValidatePrivate directory, is
//     a staged copy under the run directory with the candidates renamed in
//     and the Remove paths gone (subdirectories bind-mounted, never
//     copied). A refusal drops the candidates and stops (*ValidationError):
//     no live file ever held them. Then it backs up each target (hard link,
//     or copy), renames candidates over targets and removes the Remove
//     paths, runs Reload, and on failure restores and reloads again
//     (*ReloadError). Without Verify it then drops the backups. A host that
//     cannot make the namespace (no unshare, no CAP_SYS_ADMIN) validates
//     after the swap instead and restores on refusal, and
//     Outcome.Warnings says so.
//  4. Verify runs on the client; when it fails, a rollback run (same
//     launcher, under the lock) checks the live files are still the ones
//     this apply wrote, puts the backups back and reloads, and Verify runs
//     again (*VerifyError says which of these worked).
//  5. A cleanup run drops the backups.
//
// # Interruptions
//
// A connection cut before the commit leaves the live files untouched and at
// most complete candidates; the next Apply overwrites them, or discards them
// when they are no longer needed. A commit, once started, runs to
// completion on the host whatever happens to the client: if the client
// loses the session but its context is still alive it collects the report
// from the run directory; otherwise Apply returns *InterruptedError naming
// that report.
//
// Backups (P.foobar-bak or P.foobar-bak-none) exist only between a commit
// and the end of its Apply, so finding one means an earlier apply did not
// finish: its commit may have swapped files and died before reloading, or
// its Verify never ran. The next Apply therefore treats such a path as
// pending even when its checksum matches: it makes a fresh backup (replacing
// the stale one, which describes an older state), validates, reloads,
// verifies and cleans up, and lists the path in Outcome.Resumed. The
// previous state such an Apply can restore is whatever was on disk when it
// started.
//
// The lock is held within each host-side step, not across the whole Apply;
// the candidate checksums and the rollback's check of the live files catch
// a concurrent apply of the same files instead of overwriting its work.
package apply
