// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Defaults for the optional fields of Change.
const (
	DefaultStateDir    = "/var/lib/foobar"
	DefaultLock        = "default"
	DefaultLockWait    = 2 * time.Minute
	DefaultStepTimeout = 5 * time.Minute
)

// Change is one configuration change on one host: the managed files as they
// must be, the managed files that must go, and how the service checks,
// loads and proves its configuration.
type Change struct {
	// Files are the desired managed files. A file whose content, owner,
	// group and mode already match is never rewritten.
	Files []File
	// Remove are managed paths that must not exist. They are backed up and
	// restored like files, but KeepOriginal does not apply to them: to give
	// a path back to what was there before the engine, use RestoreOriginal.
	Remove []string

	// Validate is an argv that checks the whole configuration with every
	// candidate in place (for example haproxy -c -f /etc/haproxy/haproxy.cfg).
	// It runs before any live file changes, in a private mount namespace
	// where each directory the change touches is replaced by a copy with
	// the candidates renamed into place and the Remove paths gone, so it
	// reads the configuration exactly as it will be at the live paths.
	// Only on a host that cannot make such a namespace (no unshare(1) or no
	// CAP_SYS_ADMIN) does it run after the swap, the files being restored
	// when it refuses; Outcome.Warnings then says so. Empty: no validation.
	Validate []string
	// ValidatePrivate are directories Validate may change (nginx's
	// sites-enabled links, made to follow the site file): during
	// validation they too are private copies, so nothing Validate does
	// there reaches the host.
	ValidatePrivate []string
	// ValidateFilter trims the validator's output to the lines worth showing
	// an operator. Nil: the output as it is.
	ValidateFilter func(output string) string
	// Reload is an argv that makes the service load the new configuration,
	// usually Init.Argv(ActionReload, name). Empty: nothing is reloaded.
	Reload []string
	// Verify runs on the client after a successful reload and returns an
	// error when the service does not answer or did not take the new
	// configuration. Nil: no verification.
	Verify func(ctx context.Context, r remote.Runner) error

	// Reapply makes every path of the change take part even when it is
	// already as it must be: the configuration is validated (before any
	// live change, as always), reloaded and verified. For a change whose
	// files are in place but whose service is not running them (stopped
	// by hand, or a link the validator and reload make was removed).
	Reapply bool

	// KeepOriginal saves, the first time the engine replaces a path, the
	// file that was there as <path>.foobar-orig (or <path>.foobar-orig-none
	// when there was none), for RestoreOriginal.
	KeepOriginal bool
	// Lock names the host-side lock that serialises applies (one per
	// service, for example "haproxy"). Default "default".
	Lock string

	// Host names the host in error messages. Default: the Runner's String
	// method if it has one.
	Host string
	// StateDir holds locks and run reports on the host. Default
	// /var/lib/foobar.
	StateDir string
	// LockWait bounds the wait for the lock; StepTimeout bounds each
	// validate and reload command (with coreutils timeout(1)).
	LockWait    time.Duration
	StepTimeout time.Duration

	// flock is the flock command; tests point it elsewhere to exercise the
	// degraded path.
	flock string
}

// Outcome is what Apply did.
type Outcome struct {
	// Changed lists the paths written or removed, sorted.
	Changed []string
	// Reloaded reports whether the reload command ran and succeeded.
	Reloaded bool
	// Checksums holds the sha256 of every managed file now on the host (the
	// paths in Change.Files).
	Checksums map[string]string
	// Resumed lists managed paths that still carried the backup of an
	// earlier apply that never finished; Apply validated, reloaded and
	// verified them again.
	Resumed []string
	// Warnings are things an operator should know that did not make the
	// apply fail (no flock on the host; backups that could not be removed).
	Warnings []string
}

var lockRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$`)

// txn holds what the commit, rollback and cleanup steps share.
type txn struct {
	r              remote.Runner
	host           string
	stateDir, lock string
	lockWait, step time.Duration
	flock          string
	validate       []string
	private        []string
	filter         func(string) string
	reload         []string
	verify         func(context.Context, remote.Runner) error
	keepOrig       bool
}

type opKind string

const (
	opPut   opKind = "put"
	opRm    opKind = "rm"
	opTouch opKind = "touch"
	opOrig  opKind = "orig"
)

type op struct {
	kind opKind
	sha  string // "-" when there is nothing to check
	path string
}

func encodeOps(ops []op) string {
	var b strings.Builder
	for _, o := range ops {
		fmt.Fprintf(&b, "%s %s %s\n", o.kind, o.sha, o.path)
	}
	return b.String()
}

func newTxn(r remote.Runner, host, stateDir, lock string, lockWait, step time.Duration, flock string) (*txn, error) {
	t := &txn{r: r, host: hostLabel(host, r), stateDir: stateDir, lock: lock, lockWait: lockWait, step: step, flock: flock}
	if t.stateDir == "" {
		t.stateDir = DefaultStateDir
	}
	if err := ValidatePath(t.stateDir); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if t.lock == "" {
		t.lock = DefaultLock
	}
	if !lockRE.MatchString(t.lock) {
		return nil, fmt.Errorf("invalid lock name %q", t.lock)
	}
	if t.lockWait <= 0 {
		t.lockWait = DefaultLockWait
	}
	if t.step <= 0 {
		t.step = DefaultStepTimeout
	}
	if t.flock == "" {
		t.flock = "flock"
	}
	return t, nil
}

func hostLabel(host string, r remote.Runner) string {
	if host != "" {
		return host
	}
	if s, ok := r.(fmt.Stringer); ok {
		if n := s.String(); n != "" {
			return n
		}
	}
	return "the host"
}

func seconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

func validatePrivate(dirs []string) error {
	for _, d := range dirs {
		if err := ValidatePath(d); err != nil {
			return fmt.Errorf("private directory of the validator: %w", err)
		}
	}
	return nil
}

func validateArgv(name string, argv []string) error {
	for _, a := range argv {
		if strings.ContainsRune(a, 0) {
			return fmt.Errorf("%s argv contains a NUL byte", name)
		}
	}
	return nil
}

// Apply brings the managed files on the host to the state c describes,
// safely: unchanged files are left alone and nothing is reloaded when
// nothing changed; changed files are uploaded as complete, checksummed
// candidates next to their targets; a detached commit on the host swaps
// them in atomically under the lock, validates the whole configuration,
// reloads, and restores the previous files if either fails; Verify then
// checks the service from the client, and a failure rolls back.
//
// Errors are *ValidationError, *ReloadError, *VerifyError,
// *InterruptedError, *ConflictError or plain errors (bad input, transport
// failure before the commit: nothing on the host changed). Each says what
// state the host was left in.
//
// Interruptions: a connection cut before the commit leaves at most complete
// <path>.foobar-new candidates, which the next Apply overwrites; a commit
// runs to completion on the host whatever happens to the client; and the
// backups (<path>.foobar-bak / -bak-none) that live between the commit and
// the end of Apply mark an apply that did not finish: the next Apply sees
// them, replaces them with fresh backups, and validates, reloads and
// verifies again even when every checksum already matches (Outcome.Resumed),
// because the service may never have loaded the files on disk.
func Apply(ctx context.Context, r remote.Runner, c Change) (Outcome, error) {
	t, files, err := c.prepare(r)
	if err != nil {
		return Outcome{}, err
	}

	paths := make([]string, 0, len(files)+len(c.Remove))
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	paths = append(paths, c.Remove...)
	st, hasFlock, err := readState(ctx, r, t.flock, paths)
	if err != nil {
		return Outcome{}, fmt.Errorf("reading the managed files on %s: %w", t.host, err)
	}

	var out Outcome
	if !hasFlock {
		out.Warnings = append(out.Warnings, fmt.Sprintf("flock(1) is not installed on %s: applies there are not serialised (install util-linux)", t.host))
	}
	current := make(map[string]string, len(files))
	desired := make(map[string]string, len(files))
	var ops, puts []op
	var upload []File
	var stale []string // candidates nobody will commit
	for i, p := range paths {
		if st[i].candidate {
			stale = append(stale, p)
		}
	}
	// firstInstall: none of the files exists on the host yet, so a
	// rollback leaves nothing of this configuration behind, and there is
	// no previous configuration to verify afterwards.
	firstInstall := len(files) > 0
	for i, f := range files {
		s := st[i]
		firstInstall = firstInstall && s.kind == "M"
		sum := Checksum(f.Content)
		desired[f.Path] = sum
		if s.kind == "F" {
			current[f.Path] = s.sha
		}
		switch {
		case s.kind == "O":
			return Outcome{}, fmt.Errorf("%s on %s exists but is neither a regular file nor a symlink (a directory?); refusing to replace it", f.Path, t.host)
		case !s.matches(f, sum):
			o := op{kind: opPut, sha: sum, path: f.Path}
			ops, puts, upload = append(ops, o), append(puts, o), append(upload, f)
		case s.pending:
			ops = append(ops, op{kind: opTouch, sha: "-", path: f.Path})
			out.Resumed = append(out.Resumed, f.Path)
		}
	}
	for j, p := range c.Remove {
		s := st[len(files)+j]
		switch {
		case s.kind == "O":
			return Outcome{}, fmt.Errorf("%s on %s is neither a regular file nor a symlink (a directory?); refusing to remove it", p, t.host)
		case s.kind != "M":
			firstInstall = false
			ops = append(ops, op{kind: opRm, sha: "-", path: p})
		case s.pending:
			ops = append(ops, op{kind: opTouch, sha: "-", path: p})
			out.Resumed = append(out.Resumed, p)
		}
	}
	if c.Reapply {
		for _, p := range paths {
			if !slices.ContainsFunc(ops, func(o op) bool { return o.path == p }) {
				ops = append(ops, op{kind: opTouch, sha: "-", path: p})
			}
		}
	}
	stale = slices.DeleteFunc(stale, func(p string) bool { return slices.ContainsFunc(puts, func(o op) bool { return o.path == p }) })
	if len(ops) == 0 {
		out.Checksums = current
		out.Warnings = append(out.Warnings, discardCandidates(ctx, t, stale)...)
		return out, nil
	}

	if len(upload) > 0 {
		if err := uploadCandidates(ctx, t, upload); err != nil {
			return Outcome{}, fmt.Errorf("uploading the new files to %s failed, the live files were not touched: %w", t.host, err)
		}
	}

	rep, err := t.run(ctx, "commit", ops, true, true, t.verify == nil)
	if err != nil {
		return Outcome{}, err
	}
	out.Checksums = current
	out.Warnings = append(out.Warnings, t.nsWarning(rep)...)
	if err := t.commitError(rep, ops); err != nil {
		return out, err
	}
	out.Checksums = desired
	out.Changed = append(out.Changed, rep.changed...)
	sort.Strings(out.Changed)
	out.Reloaded = len(t.reload) > 0

	if t.verify != nil {
		if err := t.verifyOrRollback(ctx, ops, firstInstall); err != nil {
			if ve, ok := errors.AsType[*VerifyError](err); ok && ve.Restored {
				out.Checksums = current
				out.Changed = nil
				out.Reloaded = ve.RolledBack
			}
			return out, err
		}
		if err := t.cleanup(ctx, "cleanup", ops); err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("the apply succeeded but its backups on %s could not be removed (%v); the next apply will validate and reload once more", t.host, err))
		}
	}
	out.Warnings = append(out.Warnings, discardCandidates(ctx, t, stale)...)
	return out, nil
}

// nsWarning says when the validator could not run before the swap.
func (t *txn) nsWarning(rep *report) []string {
	if rep.nsfail == "" {
		return nil
	}
	return []string{fmt.Sprintf("%s could not validate the new configuration before putting it in place (%s), so it validated it "+
		"in place and would have restored the previous files had it been refused: for that moment a reload by anyone else "+
		"could have loaded it. Install util-linux and let the provider's sudo run unshare -m (CAP_SYS_ADMIN).", t.host, rep.nsfail)}
}

// discardCandidates removes candidates an interrupted apply left next to
// paths this apply did not need to change. They are harmless (never
// committed, overwritten by the next upload), so a failure is a warning.
func discardCandidates(ctx context.Context, t *txn, paths []string) []string {
	if len(paths) == 0 {
		return nil
	}
	argv := remote.Script(discardScript, append([]string{t.stateDir, t.lock, seconds(t.lockWait), t.flock}, paths...)...)
	if _, err := t.r.Run(ctx, remote.Cmd{Argv: argv}); err != nil {
		return []string{fmt.Sprintf("could not remove leftover %s files on %s: %v", SuffixNew, t.host, hostErr(err))}
	}
	return nil
}

// prepare validates c and applies defaults.
func (c Change) prepare(r remote.Runner) (*txn, []File, error) {
	t, err := newTxn(r, c.Host, c.StateDir, c.Lock, c.LockWait, c.StepTimeout, c.flock)
	if err != nil {
		return nil, nil, err
	}
	if len(c.Files) == 0 && len(c.Remove) == 0 {
		return nil, nil, errors.New("a change needs at least one file or one path to remove")
	}
	seen := map[string]bool{}
	files := make([]File, len(c.Files))
	for i, f := range c.Files {
		f = f.withDefaults()
		if err := f.validate(); err != nil {
			return nil, nil, err
		}
		if seen[f.Path] {
			return nil, nil, fmt.Errorf("path %s appears twice in the change", f.Path)
		}
		seen[f.Path] = true
		files[i] = f
	}
	for _, p := range c.Remove {
		if err := ValidatePath(p); err != nil {
			return nil, nil, err
		}
		if seen[p] {
			return nil, nil, fmt.Errorf("path %s appears twice in the change", p)
		}
		seen[p] = true
	}
	if err := validateArgv("validate", c.Validate); err != nil {
		return nil, nil, err
	}
	if err := validateArgv("reload", c.Reload); err != nil {
		return nil, nil, err
	}
	if err := validatePrivate(c.ValidatePrivate); err != nil {
		return nil, nil, err
	}
	t.validate, t.filter, t.reload, t.verify, t.keepOrig = c.Validate, c.ValidateFilter, c.Reload, c.Verify, c.KeepOriginal
	t.private = c.ValidatePrivate
	return t, files, nil
}

type pathState struct {
	kind      string // F, L, O, M
	sha       string
	uid, gid  string
	user, grp string
	mode      string
	pending   bool
	candidate bool
}

func (s pathState) matches(f File, sum string) bool {
	return s.kind == "F" && s.sha == sum &&
		(f.Owner == s.user || f.Owner == s.uid) &&
		(f.Group == s.grp || f.Group == s.gid) &&
		s.mode == octalMode(f.Mode)
}

// readState runs stateScript and parses its output.
func readState(ctx context.Context, r remote.Runner, flock string, paths []string) ([]pathState, bool, error) {
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(stateScript, append([]string{flock}, paths...)...)})
	if err != nil {
		return nil, false, hostErr(err)
	}
	return parseState(res.Stdout, len(paths))
}

func parseState(out []byte, n int) ([]pathState, bool, error) {
	st := make([]pathState, n)
	got := make([]bool, n)
	var hasFlock, end bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "flock":
			hasFlock = len(f) == 2 && f[1] == "1"
		case "end":
			end = true
		case "path":
			if len(f) != 11 {
				return nil, false, fmt.Errorf("malformed state line %q", sc.Text())
			}
			i, err := strconv.Atoi(f[1])
			if err != nil || i < 0 || i >= n {
				return nil, false, fmt.Errorf("malformed state line %q", sc.Text())
			}
			s := pathState{kind: f[2], sha: f[3], uid: f[4], gid: f[5], user: f[6], grp: f[7], mode: f[8], pending: f[9] == "1", candidate: f[10] == "1"}
			switch s.kind {
			case "F", "L", "O", "M":
			default:
				return nil, false, fmt.Errorf("malformed state line %q", sc.Text())
			}
			st[i], got[i] = s, true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, err
	}
	if !end {
		return nil, false, fmt.Errorf("incomplete state report: %q", truncate(string(out), 2048))
	}
	for i, ok := range got {
		if !ok {
			return nil, false, fmt.Errorf("state report lacks path %d", i)
		}
	}
	return st, hasFlock, nil
}

// uploadCandidates sends every file in one round trip as a framed stream
// (see uploadScript).
func uploadCandidates(ctx context.Context, t *txn, files []File) error {
	readers := make([]io.Reader, 0, 2*len(files))
	for _, f := range files {
		hdr := fmt.Sprintf("%d %s %s %s %s\n%s\n", len(f.Content), Checksum(f.Content), octalMode(f.Mode), f.Owner, f.Group, f.Path)
		readers = append(readers, strings.NewReader(hdr), bytes.NewReader(f.Content))
	}
	argv := remote.Script(uploadScript, t.stateDir, t.lock, seconds(t.lockWait), t.flock, strconv.Itoa(len(files)))
	_, err := t.r.Run(ctx, remote.Cmd{Argv: argv, Stdin: io.MultiReader(readers...)})
	return hostErr(err)
}

func newRunID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a clock-based
		// id is still unique enough for a report directory.
		return strconv.FormatInt(time.Now().UnixNano(), 16)
	}
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// run starts the worker in the given mode through the launcher and returns
// its report. When the client loses the host in the middle (and the context
// is still alive), it tries once to collect the report of the run that keeps
// going on the host.
func (t *txn) run(ctx context.Context, mode string, ops []op, withValidate, withReload, cleanup bool) (*report, error) {
	id := newRunID()
	dir := path.Join(t.stateDir, "runs", id)
	args := []string{t.stateDir, id, t.lock, seconds(t.lockWait), t.flock, workerScript,
		mode, boolArg(t.keepOrig), boolArg(cleanup), seconds(t.step), encodeOps(ops), strings.Join(t.private, "\n")}
	args = appendArgv(args, t.validate, withValidate)
	args = appendArgv(args, t.reload, withReload)
	res, err := t.r.Run(ctx, remote.Cmd{Argv: remote.Script(launcherScript, args...)})
	if err == nil {
		return parseReport(res.Stdout)
	}
	if ee, ok := errors.AsType[*remote.ExitError](err); ok {
		if rep, perr := parseReport(res.Stdout); perr == nil {
			return rep, nil
		}
		switch ee.ExitStatus {
		case exitLockTimeout:
			return nil, fmt.Errorf("%s on %s: %s; the live files were not touched", modeDesc[mode], t.host, strings.TrimSpace(ee.Stderr))
		default:
			return nil, fmt.Errorf("%s on %s failed without a report: %w", modeDesc[mode], t.host, hostErr(err))
		}
	}
	if mode == "cleanup" || mode == "cleanup-restore" {
		return nil, err
	}
	if ctx.Err() == nil {
		wait := t.lockWait + 3*t.step + 30*time.Second
		res, aerr := t.r.Run(ctx, remote.Cmd{Argv: remote.Script(awaitScript, dir, seconds(wait))})
		if aerr == nil {
			if rep, perr := parseReport(res.Stdout); perr == nil {
				return rep, nil
			}
		}
	}
	return nil, &InterruptedError{Host: t.host, Report: path.Join(dir, "report"), Err: err}
}

// cleanup drops the backups (and for cleanup-restore the saved originals)
// of a verified commit.
func (t *txn) cleanup(ctx context.Context, mode string, ops []op) error {
	rep, err := t.run(ctx, mode, ops, false, false, false)
	if err != nil {
		return err
	}
	if rep.result != "ok" {
		return fmt.Errorf("%s ended with %q: %s", modeDesc[mode], rep.result, strings.TrimSpace(truncate(rep.log, 2048)))
	}
	return nil
}

var modeDesc = map[string]string{
	"commit":          "committing the new files",
	"restore":         "restoring the original files",
	"rollback":        "rolling back",
	"cleanup":         "removing backups",
	"cleanup-restore": "removing backups and saved originals",
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func appendArgv(args, argv []string, use bool) []string {
	if !use {
		return append(args, "0")
	}
	args = append(args, strconv.Itoa(len(argv)))
	return append(args, argv...)
}

func opPaths(ops []op, kinds ...opKind) []string {
	var ps []string
	for _, o := range ops {
		for _, k := range kinds {
			if o.kind == k {
				ps = append(ps, o.path)
			}
		}
	}
	return ps
}

func (t *txn) filtered(out string) string {
	if t.filter != nil {
		if f := strings.TrimSpace(t.filter(out)); f != "" {
			return f
		}
	}
	return truncate(strings.TrimSpace(out), 8192)
}

// commitError turns a commit or restore report into the error the caller
// returns, or nil when it succeeded.
func (t *txn) commitError(rep *report, ops []op) error {
	paths := opPaths(ops, opPut, opRm, opOrig)
	switch rep.result {
	case "ok", "unchanged":
		return nil
	case "conflict":
		return &ConflictError{Host: t.host, Paths: rep.conflicts, Stage: "committing the new files"}
	case "invalid":
		s, _ := rep.step("validate")
		return &ValidationError{Host: t.host, Argv: t.validate, ExitStatus: s.exit, Output: t.filtered(s.output),
			Paths: paths, Restored: rep.restore == 0, Swapped: !rep.prevalidated, RestoreDetail: rep.log}
	case "reload-failed":
		s, _ := rep.step("reload")
		prev, ran := rep.step("reload-previous")
		return &ReloadError{Host: t.host, Argv: t.reload, ExitStatus: s.exit, Output: truncate(strings.TrimSpace(s.output), 8192),
			Paths: paths, Restored: rep.restore == 0, PreviousReloaded: ran && prev.exit == 0,
			PreviousOutput: truncate(strings.TrimSpace(prev.output), 8192), RestoreDetail: rep.log}
	case "failed":
		var cond string
		switch rep.restore {
		case -1:
			cond = "no live file was changed"
		case 0:
			cond = Serving
		default:
			cond = fmt.Sprintf("restoring the previous files FAILED too: check %s and their %s backups by hand", strings.Join(paths, ", "), SuffixBackup)
		}
		return fmt.Errorf("committing the new files on %s failed (%s); %s", t.host, strings.TrimSpace(truncate(rep.log, 4096)), cond)
	default:
		return fmt.Errorf("committing the new files on %s ended with %q; the host's log says: %s. Run apply again to converge",
			t.host, rep.result, strings.TrimSpace(truncate(rep.log, 4096)))
	}
}

// verifyOrRollback runs Verify; on failure it rolls back, runs Verify again
// (unless this was a first install: then nothing was there before, and
// nothing is left to verify) and returns a *VerifyError.
func (t *txn) verifyOrRollback(ctx context.Context, ops []op, firstInstall bool) error {
	verr := t.verify(ctx, t.r)
	if verr == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted before the new configuration on %s was verified (%w): it is in place and loaded but "+
			"unverified; its backups were kept, so the next apply validates, reloads and verifies it again", t.host, verr)
	}
	ve := &VerifyError{Host: t.host, Err: verr}
	rep, err := t.run(ctx, "rollback", ops, false, true, false)
	switch {
	case err != nil:
		ve.RollbackDetail = err.Error()
	case rep.result == "ok" && firstInstall:
		ve.Restored, ve.RolledBack, ve.FirstInstall = true, true, true
	case rep.result == "ok":
		ve.Restored, ve.RolledBack = true, true
		ve.AfterRollback = t.verify(ctx, t.r)
	case rep.result == "conflict":
		ve.RollbackDetail = (&ConflictError{Host: t.host, Paths: rep.conflicts, Stage: "rolling back"}).Error()
	case rep.result == "reload-failed":
		ve.Restored = true
		s, _ := rep.step("reload")
		ve.RollbackDetail = fmt.Sprintf("the previous files were put back, but reloading them failed: %s exited with status %d: %s",
			describeArgv(t.reload), s.exit, strings.TrimSpace(s.output))
	default:
		ve.RollbackDetail = fmt.Sprintf("rollback ended with %q: %s", rep.result, strings.TrimSpace(rep.log))
	}
	return ve
}
