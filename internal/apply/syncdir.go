// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// manifestScript lists everything under a directory in one round trip, with
// sh and coreutils only. Arguments: the root and the sync record ("" for
// none). When the record exists, its lines come first, as "K" then one
// "k <line>" each. Output: NUL-terminated records
// "<kind> <sha256|-> <relative path>" (kind f file, d directory, l symlink,
// o other), framed by "h foobar-manifest 1" and "e end"; a missing root
// gives "h foobar-manifest 1", "m", "e end". Symlinks are never followed
// below the root, so nothing outside it is read.
const manifestScript = `
R=$1 REC=$2
printf 'h foobar-manifest 1\0'
if [ -n "$REC" ] && [ -f "$REC" ]; then
  printf 'K\0'
  while IFS= read -r l || [ -n "$l" ]; do printf 'k %s\0' "$l"; done < "$REC" || exit 1
fi
if [ ! -e "$R" ] && [ ! -L "$R" ]; then printf 'm\0e end\0'; exit 0; fi
if [ ! -d "$R" ]; then echo "foobar: $R exists and is not a directory" >&2; exit 1; fi
walk() {
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    rel=$2${e##*/}
    if [ -L "$e" ]; then
      printf 'l - %s\0' "$rel"
    elif [ -d "$e" ]; then
      printf 'd - %s\0' "$rel"
      (walk "$e" "$rel/") || exit 1
    elif [ -f "$e" ]; then
      s=$(sha256sum < "$e") || exit 1
      printf 'f %s %s\0' "${s%% *}" "$rel"
    else
      printf 'o - %s\0' "$rel"
    fi
  done
}
walk "$R" "" || exit 1
printf 'e end\0'
`

// syncScript applies a framed stream of operations under a root, with sh
// and coreutils only. Arguments: root, owner, group, file mode, directory
// mode, sync record. Each operation is a header line, a line with a relative
// path ("-" for M), and for W and M the content:
//
//	M <length> <sha256>   write the sync record atomically (root only, 0600)
//	W <length> <sha256>   write the file atomically (temp + checksum + rename)
//	R -                   remove the file, symlink or other non-directory
//	D -                   remove the directory if it is empty
//	E -                   end of stream (required)
//
// Every relative path is checked again here (no absolute paths, no "." or
// ".." or empty components), and no operation goes through a symlink or a
// non-directory below the root: nothing outside the root is ever touched.
const syncScript = `
R=$1 OWNER=$2 GROUP=$3 FMODE=$4 DMODE=$5 REC=$6
tmp=
trap 'if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi' 0
trap 'exit 1' HUP INT TERM PIPE
fail() { printf 'foobar: %s\n' "$*" >&2; exit 1; }
umask 077
# The root is created with the first file written into it.
mkroot() {
  if [ ! -e "$R" ] && [ ! -L "$R" ]; then
    (umask 022 && mkdir -p -- "$R") || fail "cannot create $R"
    chown -- "$OWNER:$GROUP" "$R" && chmod -- "$DMODE" "$R" || fail "cannot set owner and mode of $R"
  fi
  [ -d "$R" ] || fail "$R is not a directory"
}
if [ -e "$R" ] || [ -L "$R" ]; then [ -d "$R" ] || fail "$R is not a directory"; fi
checkrel() {
  case /$1/ in
  //|*//*|*/./*|*/../*) fail "refusing relative path $1" ;;
  esac
}
# walkparents REL CREATE: every directory between the root and REL must be a
# real directory (never a symlink); with CREATE=1 missing ones are made.
walkparents() {
  d=${1%/*}
  [ "$d" != "$1" ] || return 0
  cur=$R
  rest=$d
  while :; do
    c=${rest%%/*}
    cur="$cur/$c"
    if [ -L "$cur" ]; then fail "refusing to go through the symlink $cur"; fi
    if [ ! -e "$cur" ]; then
      [ "$2" = 1 ] || return 1
      mkdir -- "$cur" && chown -- "$OWNER:$GROUP" "$cur" && chmod -- "$DMODE" "$cur" || fail "cannot create $cur"
    elif [ ! -d "$cur" ]; then
      fail "$cur is not a directory"
    fi
    [ "$rest" != "$c" ] || return 0
    rest=${rest#*/}
  done
}
w=0 r=0 dd=0
while :; do
  IFS=' ' read -r op len sha || fail "stream ended early"
  [ "$op" = E ] && break
  IFS= read -r rel || fail "stream ended early"
  checkrel "$rel"
  dst="$R/$rel"
  case $op in
  M)
    mkdir -p -- "${REC%/*}" || fail "cannot create ${REC%/*}"
    tmp="$REC.foobar-tmp.$$"
    head -c "$len" > "$tmp" || fail "cannot write $tmp"
    s=$(sha256sum < "$tmp") || exit 1
    [ "${s%% *}" = "$sha" ] || fail "the sync record arrived incomplete or corrupted"
    chmod -- 600 "$tmp" && mv -fT -- "$tmp" "$REC" || fail "cannot rename into $REC"
    tmp=
    ;;
  W)
    mkroot
    walkparents "$rel" 1
    if [ -d "$dst" ] && [ ! -L "$dst" ]; then fail "$dst is a directory"; fi
    tmp="${dst%/*}/.${dst##*/}.foobar-tmp.$$"
    head -c "$len" > "$tmp" || fail "cannot write $tmp"
    s=$(sha256sum < "$tmp") || exit 1
    [ "${s%% *}" = "$sha" ] || fail "$rel arrived incomplete or corrupted"
    chown -- "$OWNER:$GROUP" "$tmp" && chmod -- "$FMODE" "$tmp" || fail "cannot set owner and mode of $rel"
    mv -fT -- "$tmp" "$dst" || fail "cannot rename into $dst"
    tmp=
    w=$((w+1))
    ;;
  R)
    walkparents "$rel" 0 || continue
    if [ -d "$dst" ] && [ ! -L "$dst" ]; then fail "$dst is a directory"; fi
    if [ -e "$dst" ] || [ -L "$dst" ]; then rm -f -- "$dst" || fail "cannot remove $dst"; r=$((r+1)); fi
    ;;
  D)
    walkparents "$rel" 0 || continue
    if [ -d "$dst" ] && [ ! -L "$dst" ]; then rmdir -- "$dst" 2>/dev/null && dd=$((dd+1)); fi
    ;;
  *) fail "unknown operation $op" ;;
  esac
done
if [ -d "$R" ]; then sync -f -- "$R" 2>/dev/null; fi
echo "synced $w $r $dd"
`

// SyncStats says what SyncDir did.
type SyncStats struct {
	FilesSent      int
	BytesSent      int64
	FilesUnchanged int
	FilesRemoved   int
	DirsRemoved    int
}

type manifestEntry struct {
	kind byte // f, d, l, o
	sha  string
}

// SyncRecord is what SyncDir put under a root, kept on the host next to
// (never under) the root: the files it wrote and the directories it
// created, relative to Root. A sync removes only what its record names.
type SyncRecord struct {
	Root  string
	Files map[string]bool
	Dirs  map[string]bool
}

const syncRecordHeader = "foobar-sync-record 1"

// encode renders the record: a header, the root, then "d <rel>" and
// "f <rel>" lines, sorted (same record, same bytes).
func (s SyncRecord) encode() []byte {
	var b strings.Builder
	b.WriteString(syncRecordHeader + "\nroot " + s.Root + "\n")
	for _, k := range sortedSet(s.Dirs) {
		b.WriteString("d " + k + "\n")
	}
	for _, k := range sortedSet(s.Files) {
		b.WriteString("f " + k + "\n")
	}
	return []byte(b.String())
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func parseSyncRecord(lines []string) (*SyncRecord, error) {
	if len(lines) < 2 || lines[0] != syncRecordHeader || !strings.HasPrefix(lines[1], "root ") {
		return nil, errors.New("it does not start with the record header and its root")
	}
	rec := &SyncRecord{Root: strings.TrimPrefix(lines[1], "root "), Files: map[string]bool{}, Dirs: map[string]bool{}}
	for _, l := range lines[2:] {
		kind, rel, ok := strings.Cut(l, " ")
		if !ok || (kind != "f" && kind != "d") {
			return nil, fmt.Errorf("malformed line %q", truncate(l, 200))
		}
		if err := ValidateRelPath(rel); err != nil {
			return nil, err
		}
		if kind == "f" {
			rec.Files[rel] = true
		} else {
			rec.Dirs[rel] = true
		}
	}
	return rec, nil
}

// Listing is what one round trip found under a root: every entry, and the
// sync record when there is one for this root.
type Listing struct {
	entries map[string]manifestEntry
	// Record is the sync record of the root, nil when there is none (or
	// when it is about another root).
	Record *SyncRecord
}

// Files is the sha256 of every regular file under the root.
func (l Listing) Files() map[string]string {
	m := map[string]string{}
	for rel, e := range l.entries {
		if e.kind == 'f' {
			m[rel] = e.sha
		}
	}
	return m
}

// Synced is the sha256 of the regular files the sync record names (what
// earlier syncs put there and that is still there); without a record, for
// a root synced before records existed, every regular file.
func (l Listing) Synced() map[string]string {
	all := l.Files()
	if l.Record == nil {
		return all
	}
	m := map[string]string{}
	for rel := range l.Record.Files {
		if sum, ok := all[rel]; ok {
			m[rel] = sum
		}
	}
	return m
}

// List reads, in one round trip, everything under root on the host and the
// sync record (a host path, "" for none) that SyncDir keeps for it.
func List(ctx context.Context, r remote.Runner, root, record string) (Listing, error) {
	argv, err := ListArgv(root, record)
	if err != nil {
		return Listing{}, err
	}
	res, err := r.Run(ctx, remote.Cmd{Argv: argv})
	if err != nil {
		return Listing{}, fmt.Errorf("listing %s: %w", root, hostErr(err))
	}
	return ParseListing(res.Stdout, root, record)
}

// ListArgv is the command List runs, for a caller that runs it among
// others in one round trip (a Probe command) and parses its output with
// ParseListing. It exits 1 with a message on stderr when root is not a
// directory.
func ListArgv(root, record string) ([]string, error) {
	if err := validateRoot(root); err != nil {
		return nil, err
	}
	if record != "" {
		if err := validateRecordPath(root, record); err != nil {
			return nil, err
		}
	}
	return remote.Script(manifestScript, root, record), nil
}

// ParseListing parses the output of ListArgv(root, record).
func ParseListing(out []byte, root, record string) (Listing, error) {
	entries, recLines, hasRec, err := parseManifest(out)
	if err != nil {
		return Listing{}, err
	}
	l := Listing{entries: entries}
	if hasRec {
		rec, err := parseSyncRecord(recLines)
		if err != nil {
			return Listing{}, fmt.Errorf("the sync record %s of %s is malformed (%v): remove it to start over "+
				"(the files it names are then left in place)", record, root, err)
		}
		if rec.Root == root {
			l.Record = rec
		}
	}
	return l, nil
}

func validateRecordPath(root, record string) error {
	if err := ValidatePath(record); err != nil {
		return fmt.Errorf("sync record: %w", err)
	}
	if record == root || strings.HasPrefix(record, root+"/") {
		return fmt.Errorf("sync record %s must not be inside the synced root %s", record, root)
	}
	return nil
}

// Manifest returns the sha256 of every regular file under root on the
// host, keyed by slash-separated path relative to root, in one round trip.
// A missing root gives an empty map. Symlinks below root are not followed
// and not listed.
func Manifest(ctx context.Context, r remote.Runner, root string) (map[string]string, error) {
	l, err := List(ctx, r, root, "")
	if err != nil {
		return nil, err
	}
	return l.Files(), nil
}

func parseManifest(out []byte) (entries map[string]manifestEntry, record []string, hasRecord bool, err error) {
	recs := bytes.Split(out, []byte{0})
	if len(recs) < 3 || string(recs[0]) != "h foobar-manifest 1" || len(recs[len(recs)-1]) != 0 || string(recs[len(recs)-2]) != "e end" {
		return nil, nil, false, fmt.Errorf("malformed manifest from the host: %q", truncate(string(out), 512))
	}
	m := map[string]manifestEntry{}
	for _, rec := range recs[1 : len(recs)-2] {
		s := string(rec)
		switch {
		case s == "m":
			continue
		case s == "K":
			hasRecord = true
			continue
		case strings.HasPrefix(s, "k "):
			record = append(record, s[2:])
			continue
		}
		f := strings.SplitN(s, " ", 3)
		if len(f) != 3 || len(f[0]) != 1 || !strings.Contains("fdlo", f[0]) || f[2] == "" {
			return nil, nil, false, fmt.Errorf("malformed manifest record %q", truncate(s, 200))
		}
		m[f[2]] = manifestEntry{kind: f[0][0], sha: f[1]}
	}
	return m, record, hasRecord, nil
}

// dangerousRoots are directories SyncDir refuses to own: it deletes
// everything under its root that is not in its file set.
var dangerousRoots = map[string]bool{
	"/bin": true, "/boot": true, "/dev": true, "/etc": true, "/home": true, "/lib": true, "/lib64": true,
	"/opt": true, "/proc": true, "/root": true, "/run": true, "/sbin": true, "/srv": true, "/sys": true,
	"/tmp": true, "/usr": true, "/var": true, "/var/lib": true, "/var/www": true, "/usr/local": true,
}

func validateRoot(root string) error {
	if err := ValidatePath(root); err != nil {
		return fmt.Errorf("sync root: %w", err)
	}
	if dangerousRoots[root] {
		return fmt.Errorf("sync root %s is a system directory: refusing to manage (and prune) all of it", root)
	}
	return nil
}

// ValidateRelPath reports whether rel may name a file under a SyncDir root:
// relative, slash-separated, without empty, "." or ".." components, NUL or
// newline, and not one of the engine's temporary names.
func ValidateRelPath(rel string) error {
	switch {
	case rel == "":
		return errors.New("empty relative path")
	case strings.ContainsAny(rel, "\x00\n"):
		return fmt.Errorf("relative path %q contains a NUL or newline character", rel)
	case strings.HasPrefix(rel, "/"):
		return fmt.Errorf("relative path %q is absolute", rel)
	}
	for _, c := range strings.Split(rel, "/") {
		switch c {
		case "":
			return fmt.Errorf("relative path %q has an empty component", rel)
		case ".", "..":
			return fmt.Errorf("relative path %q has a %q component", rel, c)
		}
	}
	if strings.Contains(path.Base(rel), reserved) {
		return fmt.Errorf("relative path %q uses the name %q reserved for the engine's own files", rel, reserved)
	}
	return nil
}

// SyncSpec says what SyncDir makes of a directory on the host.
type SyncSpec struct {
	// Root is the directory on the host (not a system directory).
	Root string
	// Files is the content the root must hold (relative path -> bytes).
	Files map[string][]byte
	// Owner, Group, FileMode and DirMode are given to the files written and
	// the directories created (defaults: DefaultOwner, DefaultGroup,
	// DefaultMode, 0755).
	Owner, Group      string
	FileMode, DirMode fs.FileMode
	// Record is the host path of the sync record (SyncRecord), outside
	// Root, for example under the state directory. Required.
	Record string
}

// SyncDir makes the files under s.Root on the host what s.Files says,
// removing only what an earlier sync put there: it sends only the files
// whose checksum differs; it removes the files that its record names and
// that are no longer in s.Files, and the directories it created that no
// file needs any more (when empty); files, symlinks and directories it did
// not put there are never removed, whatever they are (a file of s.Files
// that is already there, foreign or not, is written over and from then on
// is the sync's). Each file is written atomically (temporary name, checksum
// check, rename) with the given owner, group and mode; nothing outside the
// root is touched, not even through a symlink on the host. The record is
// written first with everything the sync may put there (so an interrupted
// sync still knows), and last with what is there. Two round trips: List,
// then one framed stream with every change (none when nothing differs).
// Existing directories keep their owner and mode; files whose content
// matches keep theirs. A root that is missing is created with the first
// file written into it.
func SyncDir(ctx context.Context, r remote.Runner, s SyncSpec) (SyncStats, error) {
	root, files := s.Root, s.Files
	if err := validateRoot(root); err != nil {
		return SyncStats{}, err
	}
	if err := validateRecordPath(root, s.Record); err != nil {
		return SyncStats{}, err
	}
	owner, group, fileMode, dirMode := s.Owner, s.Group, s.FileMode, s.DirMode
	if owner == "" {
		owner = DefaultOwner
	}
	if group == "" {
		group = DefaultGroup
	}
	if fileMode == 0 {
		fileMode = DefaultMode
	}
	if dirMode == 0 {
		dirMode = 0o755
	}
	for _, e := range []error{validateOwner("owner", owner), validateOwner("group", group), validateMode(fileMode), validateMode(dirMode)} {
		if e != nil {
			return SyncStats{}, e
		}
	}
	wantDirs := map[string]bool{}
	for rel := range files {
		if err := ValidateRelPath(rel); err != nil {
			return SyncStats{}, err
		}
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			wantDirs[d] = true
		}
	}
	for rel := range files {
		if wantDirs[rel] {
			return SyncStats{}, fmt.Errorf("%s is both a file and a directory in the file set", rel)
		}
	}

	l, err := List(ctx, r, root, s.Record)
	if err != nil {
		return SyncStats{}, err
	}
	host := l.entries
	old := l.Record
	if old == nil {
		old = &SyncRecord{Root: root, Files: map[string]bool{}, Dirs: map[string]bool{}}
	}

	var stats SyncStats
	var removeFiles, removeDirs, write []string
	for rel := range old.Files {
		if _, want := files[rel]; want {
			continue
		}
		if e, ok := host[rel]; ok && e.kind != 'd' {
			removeFiles = append(removeFiles, rel)
		}
	}
	for rel := range old.Dirs {
		if wantDirs[rel] {
			continue
		}
		if e, ok := host[rel]; ok && e.kind == 'd' {
			removeDirs = append(removeDirs, rel)
		}
	}
	intent := SyncRecord{Root: root, Files: map[string]bool{}, Dirs: map[string]bool{}}
	final := SyncRecord{Root: root, Files: map[string]bool{}, Dirs: map[string]bool{}}
	for rel := range old.Files {
		intent.Files[rel] = true
	}
	for rel := range old.Dirs {
		intent.Dirs[rel] = true
		if wantDirs[rel] {
			final.Dirs[rel] = true
		}
	}
	for d := range wantDirs {
		if e, ok := host[d]; !ok || e.kind != 'd' {
			intent.Dirs[d], final.Dirs[d] = true, true // created by this sync
		}
	}
	for rel, content := range files {
		intent.Files[rel], final.Files[rel] = true, true
		if e, ok := host[rel]; ok && e.kind == 'f' && e.sha == Checksum(content) {
			stats.FilesUnchanged++
			continue
		}
		write = append(write, rel)
	}
	finalBytes := final.encode()
	if len(removeFiles)+len(removeDirs)+len(write) == 0 && l.Record != nil && bytes.Equal(l.Record.encode(), finalBytes) {
		return stats, nil
	}
	sort.Strings(removeFiles)
	sort.Strings(write)
	// Deepest directories first, so each is empty when its turn comes.
	sort.Slice(removeDirs, func(i, j int) bool {
		di, dj := strings.Count(removeDirs[i], "/"), strings.Count(removeDirs[j], "/")
		if di != dj {
			return di > dj
		}
		return removeDirs[i] < removeDirs[j]
	})

	recordOp := func(b []byte) []io.Reader {
		return []io.Reader{strings.NewReader(fmt.Sprintf("M %d %s\n-\n", len(b), Checksum(b))), bytes.NewReader(b)}
	}
	var readers []io.Reader
	if len(write) > 0 {
		readers = append(readers, recordOp(intent.encode())...)
	}
	for _, rel := range removeFiles {
		readers = append(readers, strings.NewReader("R - -\n"+rel+"\n"))
	}
	for _, rel := range removeDirs {
		readers = append(readers, strings.NewReader("D - -\n"+rel+"\n"))
	}
	for _, rel := range write {
		c := files[rel]
		readers = append(readers, strings.NewReader(fmt.Sprintf("W %d %s\n%s\n", len(c), Checksum(c), rel)), bytes.NewReader(c))
		stats.FilesSent++
		stats.BytesSent += int64(len(c))
	}
	readers = append(readers, recordOp(finalBytes)...)
	readers = append(readers, strings.NewReader("E - -\n"))
	argv := remote.Script(syncScript, root, owner, group, octalMode(fileMode), octalMode(dirMode), s.Record)
	res, err := r.Run(ctx, remote.Cmd{Argv: argv, Stdin: io.MultiReader(readers...)})
	if err != nil {
		return SyncStats{}, fmt.Errorf("syncing %s: %w", root, hostErr(err))
	}
	var w, rm, dd int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(res.Stdout)), "synced %d %d %d", &w, &rm, &dd); err != nil {
		return SyncStats{}, fmt.Errorf("syncing %s: unexpected answer %q", root, truncate(string(res.Stdout), 200))
	}
	if w != stats.FilesSent {
		return SyncStats{}, fmt.Errorf("syncing %s: the host wrote %d files, %d were sent", root, w, stats.FilesSent)
	}
	stats.FilesRemoved, stats.DirsRemoved = rm, dd
	return stats, nil
}
