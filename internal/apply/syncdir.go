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
// sh and coreutils only. Argument: the root. Output: NUL-terminated records
// "<kind> <sha256|-> <relative path>" (kind f file, d directory, l symlink,
// o other), framed by "h foobar-manifest 1" and "e end"; a missing root
// gives "h foobar-manifest 1", "m", "e end". Symlinks are never followed
// below the root, so nothing outside it is read.
const manifestScript = `
R=$1
printf 'h foobar-manifest 1\0'
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
// mode. Each operation is a header line, a line with a relative path, and
// for W the content:
//
//	W <length> <sha256>   write the file atomically (temp + checksum + rename)
//	R -                   remove the file, symlink or other non-directory
//	D -                   remove the directory if it is empty
//	E -                   end of stream (required)
//
// Every relative path is checked again here (no absolute paths, no "." or
// ".." or empty components), and no operation goes through a symlink or a
// non-directory below the root: nothing outside the root is ever touched.
const syncScript = `
R=$1 OWNER=$2 GROUP=$3 FMODE=$4 DMODE=$5
tmp=
trap 'if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi' 0
trap 'exit 1' HUP INT TERM PIPE
fail() { printf 'foobar: %s\n' "$*" >&2; exit 1; }
umask 077
if [ ! -e "$R" ] && [ ! -L "$R" ]; then
  (umask 022 && mkdir -p -- "$R") || fail "cannot create $R"
  chown -- "$OWNER:$GROUP" "$R" && chmod -- "$DMODE" "$R" || fail "cannot set owner and mode of $R"
fi
[ -d "$R" ] || fail "$R is not a directory"
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
  W)
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
sync -f -- "$R" 2>/dev/null
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

// Manifest returns the sha256 of every regular file under root on the
// host, keyed by slash-separated path relative to root, in one round trip.
// A missing root gives an empty map. Symlinks below root are not followed
// and not listed.
func Manifest(ctx context.Context, r remote.Runner, root string) (map[string]string, error) {
	entries, err := manifest(ctx, r, root)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(entries))
	for rel, e := range entries {
		if e.kind == 'f' {
			m[rel] = e.sha
		}
	}
	return m, nil
}

func manifest(ctx context.Context, r remote.Runner, root string) (map[string]manifestEntry, error) {
	if err := validateRoot(root); err != nil {
		return nil, err
	}
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(manifestScript, root)})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, hostErr(err))
	}
	return parseManifest(res.Stdout)
}

func parseManifest(out []byte) (map[string]manifestEntry, error) {
	recs := bytes.Split(out, []byte{0})
	if len(recs) < 3 || string(recs[0]) != "h foobar-manifest 1" || len(recs[len(recs)-1]) != 0 || string(recs[len(recs)-2]) != "e end" {
		return nil, fmt.Errorf("malformed manifest from the host: %q", truncate(string(out), 512))
	}
	m := map[string]manifestEntry{}
	for _, rec := range recs[1 : len(recs)-2] {
		s := string(rec)
		if s == "m" {
			continue
		}
		f := strings.SplitN(s, " ", 3)
		if len(f) != 3 || len(f[0]) != 1 || !strings.Contains("fdlo", f[0]) || f[2] == "" {
			return nil, fmt.Errorf("malformed manifest record %q", truncate(s, 200))
		}
		m[f[2]] = manifestEntry{kind: f[0][0], sha: f[1]}
	}
	return m, nil
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

// SyncDir makes the tree under root on the host hold exactly files
// (relative path -> content): it sends only the files whose checksum
// differs, removes files, symlinks and directories that are not part of the
// set, writes each file atomically (temporary name, checksum check, rename)
// with the given owner, group and mode (directories it creates get dirMode),
// and never touches anything outside root, not even through a symlink on the
// host. It takes two round trips: Manifest, then one framed stream with
// every change (none when nothing differs). Existing directories keep their
// owner and mode; files whose content matches keep theirs.
func SyncDir(ctx context.Context, r remote.Runner, root string, files map[string][]byte, owner, group string, fileMode, dirMode fs.FileMode) (SyncStats, error) {
	if err := validateRoot(root); err != nil {
		return SyncStats{}, err
	}
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

	host, err := manifest(ctx, r, root)
	if err != nil {
		return SyncStats{}, err
	}

	var stats SyncStats
	var removeFiles, removeDirs, write []string
	for rel, e := range host {
		if _, want := files[rel]; want && e.kind != 'd' {
			continue // compared below; a symlink or other is replaced by the rename
		}
		if e.kind == 'd' && wantDirs[rel] {
			continue
		}
		if strings.Contains(rel, "\n") {
			return SyncStats{}, fmt.Errorf("%s has an entry whose name contains a newline (%q): remove it by hand", root, rel)
		}
		if e.kind == 'd' {
			removeDirs = append(removeDirs, rel)
		} else {
			removeFiles = append(removeFiles, rel)
		}
	}
	for rel, content := range files {
		if e, ok := host[rel]; ok && e.kind == 'f' && e.sha == Checksum(content) {
			stats.FilesUnchanged++
			continue
		}
		write = append(write, rel)
	}
	if len(removeFiles)+len(removeDirs)+len(write) == 0 {
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

	var readers []io.Reader
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
	readers = append(readers, strings.NewReader("E - -\n"))
	argv := remote.Script(syncScript, root, owner, group, octalMode(fileMode), octalMode(dirMode))
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
