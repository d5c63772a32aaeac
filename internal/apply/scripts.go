// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

// The remote side of the engine. Every script here is a constant run with
// remote.Script: values chosen by users (paths, owners, argv of validators)
// arrive only as positional parameters or on stdin, never as script text.
// They need a POSIX sh and GNU coreutils (sha256sum, stat -c, head -c, base64
// -w, mv -T, ln -P, cp -P, timeout); flock(1) from util-linux is used when
// present.

import "github.com/foobar/terraform-provider-foobar/internal/remote"

// Exit statuses of the commit launcher and worker. The client relies on the
// report's "result" line; the statuses make a report-less failure legible in
// logs and on the host.
const (
	exitInvalid     = 10 // validation refused the candidates; files restored
	exitReload      = 11 // reload failed; files restored, reloaded again
	exitConflict    = 12 // a candidate or live file is not what the client expected
	exitFailed      = 13 // backing up, swapping or restoring files failed
	exitLockTimeout = 75 // EX_TEMPFAIL: another apply held the lock too long
	exitInternal    = 70 // EX_SOFTWARE: cannot even create the state directory
)

// lockPreamble takes the per-service lock on fd 9 when flock exists, after
// $S (state dir), $LOCK (lock name), $LOCKWAIT (seconds) and $FLOCK (the
// flock command) are set. It sets HASLOCK to 1 or 0. The lock belongs to the
// open file description, so it is held for as long as any process that
// inherited fd 9 lives; commands the engine runs get 9>&- so that a daemon
// started by a reload cannot keep it.
const lockPreamble = `
HASLOCK=0
if command -v "$FLOCK" >/dev/null 2>&1; then
  (umask 077 && mkdir -p -- "$S/locks") || { echo "foobar: cannot create $S/locks" >&2; exit 70; }
  exec 9>>"$S/locks/$LOCK.lock" || exit 70
  if ! "$FLOCK" -w "$LOCKWAIT" 9; then
    echo "foobar: timed out after ${LOCKWAIT}s waiting for the lock $LOCK (another apply is running on this host)" >&2
    exit 75
  fi
  HASLOCK=1
fi
`

// stateScript reports, in one round trip, what the client needs to decide
// whether anything must change: for every path its kind, checksum,
// ownership and mode, and whether a backup left by an unfinished apply sits
// next to it. Arguments: the flock command, then the paths.
//
// Output, one line each: "flock 0|1", then per path
// "path <index> <F|L|O|M> <sha256|-> <uid> <gid> <user> <group> <mode> <pending> <candidate>"
// (F regular file, L symlink, O other such as a directory, M missing; the
// stat fields are "-" unless F; candidate says a <path>.foobar-new exists),
// then "end".
const stateScript = `
FLOCK=$1
shift
if command -v "$FLOCK" >/dev/null 2>&1; then echo "flock 1"; else echo "flock 0"; fi
i=0
for p in "$@"; do
  pend=0
  if [ -e "$p.foobar-bak" ] || [ -L "$p.foobar-bak" ] || [ -e "$p.foobar-bak-none" ]; then pend=1; fi
  cand=0
  if [ -e "$p.foobar-new" ] || [ -L "$p.foobar-new" ]; then cand=1; fi
  if [ -L "$p" ]; then
    printf 'path %d L - - - - - - %d %d\n' "$i" "$pend" "$cand"
  elif [ -f "$p" ]; then
    s=$(sha256sum < "$p") || exit 1
    m=$(stat -c '%u %g %U %G %a' -- "$p") || exit 1
    printf 'path %d F %s %s %d %d\n' "$i" "${s%% *}" "$m" "$pend" "$cand"
  elif [ -e "$p" ]; then
    printf 'path %d O - - - - - - %d %d\n' "$i" "$pend" "$cand"
  else
    printf 'path %d M - - - - - - %d %d\n' "$i" "$pend" "$cand"
  fi
  i=$((i+1))
done
echo end
`

// uploadScript writes candidates from a framed stream on stdin. Arguments:
// state dir, lock name, lock wait, flock command, number of files. Each
// frame is a line "<length> <sha256> <octal mode> <owner> <group>", a line
// with the absolute target path, then exactly <length> bytes (read with GNU
// head -c, which never reads past them).
//
// First, without the lock, each file goes to a temporary name in the
// target's directory (".<name>.foobar-tmp.<pid of this shell>"), is checked
// against its checksum (a stream cut short never becomes a candidate), gets
// its owner, group and mode, and is synced. Only then, under the lock, is
// each renamed to <path>.foobar-new; the live path is never touched. The
// lock keeps a concurrent commit from seeing a candidate change under it.
//
// The lock is not held while data arrives: a client that vanishes without
// the host noticing (no FIN or RST ever arrives; sshd may keep such a
// session until TCP keepalive gives up, two hours by default) leaves an
// upload waiting for input forever, and it must not block every later
// apply. Temporaries whose writer is gone (killed outright, so its trap did
// not run) are removed by the next upload of the same path; those of a
// writer still alive are left to it.
const uploadScript = `
S=$1 LOCK=$2 LOCKWAIT=$3 FLOCK=$4 N=$5
PATHS=
tmp_of() { d=${1%/*}; [ -n "$d" ] || d=/; tmp="$d/.${1##*/}.foobar-tmp.$$"; }
drop_tmps() {
  while IFS= read -r p; do
    [ -n "$p" ] || continue
    tmp_of "$p"
    rm -f -- "$tmp"
  done <<EOF
$PATHS
EOF
}
trap 'drop_tmps' 0
trap 'exit 1' HUP INT TERM PIPE
umask 077
i=0
while [ "$i" -lt "$N" ]; do
  IFS=' ' read -r len sha mode owner group || { echo "foobar: upload stream ended early" >&2; exit 1; }
  IFS= read -r p || { echo "foobar: upload stream ended early" >&2; exit 1; }
  tmp_of "$p"
  (umask 022 && mkdir -p -- "$d") || exit 1
  PATHS="$PATHS
$p"
  head -c "$len" > "$tmp" || exit 1
  s=$(sha256sum < "$tmp") || exit 1
  if [ "${s%% *}" != "$sha" ]; then
    echo "foobar: the upload of $p arrived incomplete or corrupted; nothing was changed" >&2
    exit 1
  fi
  chown -- "$owner:$group" "$tmp" || exit 1
  chmod -- "$mode" "$tmp" || exit 1
  sync -- "$tmp" 2>/dev/null || sync
  i=$((i+1))
done
` + lockPreamble + `
while IFS= read -r p; do
  [ -n "$p" ] || continue
  tmp_of "$p"
  for old in "$d/.${p##*/}.foobar-tmp."*; do
    pid=${old##*.}
    case $pid in ''|*[!0-9]*) continue ;; esac
    [ "$pid" != $$ ] || continue
    # Still being written by a live upload: leave it. (/proc also sees
    # the processes of other users, which kill -0 may not signal.)
    if [ -d "/proc/$pid" ] || kill -0 "$pid" 2>/dev/null; then continue; fi
    rm -f -- "$old"
  done
  mv -fT -- "$tmp" "$p.foobar-new" || exit 1
done <<EOF
$PATHS
EOF
`

// discardScript removes candidates left by an apply that never committed
// them, under the lock. Arguments: state dir, lock name, lock wait, flock
// command, then the managed paths.
const discardScript = `
S=$1 LOCK=$2 LOCKWAIT=$3 FLOCK=$4
shift 4
` + lockPreamble + `
for p in "$@"; do rm -f -- "$p.foobar-new" || exit 1; done
`

// launcherScript starts a commit, rollback or cleanup so that losing the
// client cannot interrupt it. It ignores HUP and PIPE (inherited by the
// worker, which cannot undo it), takes the lock, and starts the worker in the
// background with stdin from /dev/null and stdout/stderr into the run's
// directory, then waits for it and prints its report. If the SSH session dies
// or the launcher is killed, the worker keeps running to completion and keeps
// the lock (it shares fd 9) until it is done; its report stays in
// <state dir>/runs/<id>/report, where the client can collect it (awaitScript).
// The 50 newest runs are kept.
//
// Arguments: state dir, run id, lock name, lock wait, flock command, the
// worker script, then the worker's own arguments after the first two.
const launcherScript = `
trap '' HUP PIPE
S=$1 ID=$2 LOCK=$3 LOCKWAIT=$4 FLOCK=$5 WORKER=$6
shift 6
umask 077
D="$S/runs/$ID"
mkdir -p -- "$D" || { echo "foobar: cannot create $D" >&2; exit 70; }
` + lockPreamble + `
(cd -- "$S/runs" && ls -1t | tail -n +51 | while IFS= read -r old; do [ "$old" = "$ID" ] || rm -rf -- "$old"; done) >/dev/null 2>&1
/bin/sh -c "$WORKER" foobar-worker "$D" "$HASLOCK" "$@" < /dev/null >> "$D/log" 2>&1 &
wait "$!"
rc=$?
if [ -f "$D/report" ]; then
  cat -- "$D/report"
else
  printf 'foobar-report 1\n'
  cat -- "$D/report.tmp" 2>/dev/null
  printf 'log %s\nresult incomplete\nend\n' "$(head -c 65536 -- "$D/log" | base64 -w 0)"
fi
exit "$rc"
`

// awaitScript collects the report of a run whose launcher the client lost
// contact with. Arguments: the run directory, the maximum wait in seconds.
const awaitScript = `
D=$1 N=$2
i=0
while [ ! -f "$D/report" ]; do
  if [ ! -d "$D" ] && [ "$i" -ge 3 ]; then echo "foobar: no run $D on this host" >&2; exit 3; fi
  if [ "$i" -ge "$N" ]; then echo "foobar: run $D still not finished after ${N}s" >&2; exit 4; fi
  sleep 1
  i=$((i+1))
done
cat -- "$D/report"
`

// nsScript runs inside the private mount namespace of a commit's
// validation (unshare -m --propagation private, so no mount reaches the
// host): it mounts what stage_all wrote to the mounts file (its first
// argument), says "ok" on fd 3, and execs the validator (the other
// arguments). It contains no single quote: the worker embeds it in one.
const nsScript = `
M=$1
shift
while IFS= read -r a && IFS= read -r dst; do
  k=${a%% *} src=${a#* }
  case $k in
  r) mount --rbind "$src" "$dst" ;;
  b) mount --bind "$src" "$dst" ;;
  *) false ;;
  esac || { echo "foobar: cannot mount $src on $dst" >&2; exit 125; }
done < "$M"
echo ok >&3
exec 3>&-
exec "$@"
`

// workerScript does the work under the lock, detached from the client.
//
// Arguments: run dir, HASLOCK, mode, keep-original (0/1), cleanup (0/1),
// step timeout in seconds, the operations, the private directories (one
// absolute path a line, see Change.ValidatePrivate), then the validate argv
// as a count followed by its words, then the reload argv likewise. The operations are
// lines "<op> <sha256|-> <absolute path>" (paths never contain newlines):
//
//	put   a checksummed candidate <path>.foobar-new replaces <path>
//	rm    <path> is removed
//	touch nothing changes, but <path> takes part (backed up, validated,
//	      reloaded): used to finish an apply that was interrupted
//	orig  (mode restore) <path>.foobar-orig replaces <path>, or <path> is
//	      removed if <path>.foobar-orig-none says nothing was there
//
// Modes:
//
//	commit    check candidates; save originals (keep-original); validate
//	          the configuration as it will be, in a private mount namespace
//	          (see nsScript), before any live file changes; back up; swap;
//	          reload; with cleanup, drop the backups. Only when the host
//	          cannot make a private mount namespace (no unshare(1), no
//	          CAP_SYS_ADMIN) is the validator run after the swap, as a
//	          fallback the report names ("nsfail"), restoring on refusal
//	restore   turn orig operations into put/rm/touch, then as commit
//	rollback  check the live files are still what this apply wrote, put the
//	          backups back, reload
//	cleanup, cleanup-restore
//	          drop the backups (and, for cleanup-restore, the originals)
//
// The report (in the run dir, printed by the launcher) has lines
// "foobar-report 1", "conflict <path>", "changed <op> <path>",
// "step <validate|reload|reload-previous> <exit status> <base64 output>",
// "prevalidated 1" (the validator ran before any live file changed),
// "nsfail <base64 reason>" (it could not: see commit), "restore <0|1>",
// "log <base64>", "result <word>", "end".
const workerScript = remote.ShRunFirst + `
NSSCRIPT='` + nsScript + `'
D=$1 HASLOCK=$2 MODE=$3 KEEPORIG=$4 CLEANUP=$5 STEPTIMEOUT=$6 OPS=$7 PRIV=$8
shift 8
NV=$1
shift
cd / || exit 70
umask 022
RT="$D/report.tmp"
printf 'foobar-report 1\n' > "$RT" || exit 70
rep() { printf '%s\n' "$*" >> "$RT"; }
b64() { head -c 65536 -- "$1" 2>/dev/null | base64 -w 0; }
finish() {
  case $1 in ok|unchanged) ;; *) rep "log $(b64 "$D/log")" ;; esac
  rep "result $1"
  rep end
  mv -f -- "$RT" "$D/report"
  exit "$2"
}
exists() { [ -e "$1" ] || [ -L "$1" ]; }
parse() { op=${1%% *}; rest=${1#* }; sha=${rest%% *}; p=${rest#* }; }
sha_of() { s=$(sha256sum < "$1") || return 1; printf '%s' "${s%% *}"; }
TO=
if command -v timeout >/dev/null 2>&1; then TO=timeout; fi
# run_step K WORDS...: run the first K words (run_first) under the step
# timeout, output to $OUT.
run_step() {
  _k=$1
  shift
  if [ -n "$TO" ]; then set -- "$TO" -k 10 "$STEPTIMEOUT" "$@"; _k=$((_k+4)); fi
  run_first "$_k" "$@" > "$OUT" 2>&1 < /dev/null 9>&-
}
run_validate() { run_step "$NV" "$@"; }
# run_validate_ns WORDS...: run the validator inside a private mount
# namespace where nsScript first mounts the staged directories over the
# live ones; nsScript writes "ok" on fd 3 once they are in place.
run_validate_ns() {
  _k=$((NV+9))
  set -- unshare -m --propagation private /bin/sh -c "$NSSCRIPT" foobar-ns "$D/mounts" "$@"
  if [ -n "$TO" ]; then set -- "$TO" -k 10 "$STEPTIMEOUT" "$@"; _k=$((_k+4)); fi
  run_first "$_k" "$@" > "$OUT" 2>&1 < /dev/null 9>&- 3> "$D/ns-ok"
}
reload_count() { shift "$NV"; printf '%s' "$1"; }
run_reload() { shift "$NV"; nr=$1; shift; run_step "$nr" "$@"; }
NR=$(reload_count "$@")

check_candidates() {
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    [ "$op" = put ] && [ "$sha" != - ] || continue
    if [ -L "$p.foobar-new" ] || [ ! -f "$p.foobar-new" ]; then rep "conflict $p"; return 1; fi
    got=$(sha_of "$p.foobar-new") || { rep "conflict $p"; return 1; }
    if [ "$got" != "$sha" ]; then rep "conflict $p"; return 1; fi
  done <<EOF
$OPS
EOF
}

check_live() {
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    case $op in
    put)
      [ "$sha" != - ] || continue
      if [ -L "$p" ] || [ ! -f "$p" ]; then rep "conflict $p"; return 1; fi
      got=$(sha_of "$p") || { rep "conflict $p"; return 1; }
      if [ "$got" != "$sha" ]; then rep "conflict $p"; return 1; fi
      ;;
    rm)
      if exists "$p"; then rep "conflict $p"; return 1; fi
      ;;
    esac
  done <<EOF
$OPS
EOF
}

keep_orig() {
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    [ "$op" = put ] || continue
    if exists "$p.foobar-orig" || [ -e "$p.foobar-orig-none" ]; then continue; fi
    if exists "$p"; then
      rm -f -- "$p.foobar-orig.tmp"
      cp -Pp -- "$p" "$p.foobar-orig.tmp" && mv -fT -- "$p.foobar-orig.tmp" "$p.foobar-orig" || return 1
    else
      : > "$p.foobar-orig-none" || return 1
    fi
  done <<EOF
$OPS
EOF
}

backup_all() {
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    b="$p.foobar-bak"
    if exists "$p"; then
      if [ ! -L "$p" ] && [ ! -L "$b" ] && [ -e "$b" ] && [ "$p" -ef "$b" ]; then
        : # already a backup of the live file
      else
        rm -f -- "$b.tmp"
        { ln -P -- "$p" "$b.tmp" 2>/dev/null || cp -Pp -- "$p" "$b.tmp"; } && mv -fT -- "$b.tmp" "$b" || return 1
      fi
      rm -f -- "$b-none" || return 1
    else
      : > "$b-none" || return 1
      rm -f -- "$b" || return 1
    fi
  done <<EOF
$OPS
EOF
}

swap_all() {
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    case $op in
    put)
      mv -fT -- "$p.foobar-new" "$p" || return 1
      rep "changed put $p"
      ;;
    rm)
      if exists "$p"; then
        rm -f -- "$p" || return 1
        rep "changed rm $p"
      fi
      ;;
    *) continue ;;
    esac
    d=${p%/*}
    sync -- "${d:-/}" 2>/dev/null
  done <<EOF
$OPS
EOF
  return 0
}

restore_all() {
  RFAIL=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    b="$p.foobar-bak"
    if [ "$MODE" != rollback ]; then rm -f -- "$p.foobar-new"; fi
    if exists "$b"; then
      if [ ! -L "$p" ] && [ ! -L "$b" ] && [ -e "$p" ] && [ "$p" -ef "$b" ]; then
        rm -f -- "$b" || RFAIL=1
      else
        mv -fT -- "$b" "$p" || RFAIL=1
      fi
    elif [ -e "$b-none" ]; then
      if rm -f -- "$p"; then rm -f -- "$b-none" || RFAIL=1; else RFAIL=1; fi
    fi
  done <<EOF
$OPS
EOF
  rep "restore $RFAIL"
  [ "$RFAIL" = 0 ]
}

cleanup_all() {
  CFAIL=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    rm -f -- "$p.foobar-bak" "$p.foobar-bak-none" || CFAIL=1
    case $MODE in restore|cleanup-restore) rm -f -- "$p.foobar-orig" "$p.foobar-orig-none" || CFAIL=1 ;; esac
  done <<EOF
$OPS
EOF
  [ "$CFAIL" = 0 ]
}

prep_restore() {
  NEW=
  CH=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    if exists "$p.foobar-orig"; then
      rm -f -- "$p.foobar-new"
      cp -Pp -- "$p.foobar-orig" "$p.foobar-new" || return 1
      NEW="$NEW
put - $p"
      CH=1
    elif [ -e "$p.foobar-orig-none" ]; then
      NEW="$NEW
rm - $p"
      if exists "$p"; then CH=1; fi
    else
      NEW="$NEW
touch - $p"
    fi
  done <<EOF
$OPS
EOF
  OPS=$NEW
}

# stage_all builds, under $D/stage, a copy of every directory a put or rm
# changes and of every private directory, with this commit's changes made in
# the copy, and writes to $D/mounts what nsScript mounts to show each copy
# at its live directory: per mount a line "<r|b> <source>" and a line with
# the target. Regular files and symlinks are copied (cp -P); a
# subdirectory, or anything else (socket, fifo), is an empty placeholder on
# which the live one is bind-mounted, so nothing is copied recursively and
# nothing below a staged directory is hidden. Parents come before their
# children. The live directories are only read.
stage_all() {
  ST="$D/stage" M="$D/mounts"
  rm -rf -- "$ST" && mkdir -p -- "$ST" && : > "$M" || return 1
  DIRS=$PRIV
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    case $op in put|rm) [ -n "${p%/*}" ] || return 1; DIRS="$DIRS
${p%/*}" ;; esac
  done <<EOF
$OPS
EOF
  DIRS=$(printf '%s\n' "$DIRS" | sed '/^$/d' | sort -u | awk '{ print length($0) " " $0 }' | sort -n -s -k1,1 | cut -d' ' -f2-)
  i=0
  while IFS= read -r d; do
    [ -n "$d" ] || continue
    [ -d "$d" ] || continue
    s="$ST/$i"
    i=$((i+1))
    mkdir -- "$s" || return 1
    chown --reference="$d" -- "$s" && chmod --reference="$d" -- "$s" || return 1
    for e in "$d"/* "$d"/.[!.]* "$d"/..?*; do
      exists "$e" || continue
      n=${e##*/}
      # The mounts file is line-based: a name with a newline cannot be
      # staged (no validator reads such a name; refuse rather than guess).
      case $n in *"
"*) return 1 ;; esac
      if [ -L "$e" ] || [ -f "$e" ]; then
        cp -Pp -- "$e" "$s/$n" || return 1
      elif [ -d "$e" ]; then
        mkdir -- "$s/$n" || return 1
        printf 'r %s\n%s\n' "$e" "$s/$n" >> "$M" || return 1
      else
        : > "$s/$n" || return 1
        printf 'b %s\n%s\n' "$e" "$s/$n" >> "$M" || return 1
      fi
    done
    while IFS= read -r line; do
      [ -n "$line" ] || continue
      parse "$line"
      [ "${p%/*}" = "$d" ] || continue
      n=${p##*/}
      case $op in
      put) mv -fT -- "$s/$n.foobar-new" "$s/$n" || return 1 ;;
      rm) rm -f -- "$s/$n" || return 1 ;;
      esac
    done <<EOF
$OPS
EOF
    printf 'r %s\n%s\n' "$s" "$d" >> "$M" || return 1
  done <<EOF
$DIRS
EOF
}

# prevalidate WORDS...: validate the configuration as this commit will
# leave it, before any live file changes. Returns 0 (valid), 1 (refused:
# reported as the validate step) or 2 (no private mount namespace here;
# NSWHY says why).
prevalidate() {
  NSWHY=
  if ! command -v unshare >/dev/null 2>&1; then NSWHY="unshare(1) is not installed"; return 2; fi
  if ! stage_all; then
    rm -rf -- "$D/stage"
    NSWHY="could not stage a copy of the changed directories"
    return 2
  fi
  OUT="$D/validate.out"
  run_validate_ns "$@"
  vs=$?
  rm -rf -- "$D/stage"
  if [ "$(cat -- "$D/ns-ok" 2>/dev/null)" != ok ]; then
    NSWHY="no private mount namespace (unshare -m exited with status $vs: $(head -c 1024 -- "$OUT" | tr '\n' ' '))"
    return 2
  fi
  rep "prevalidated 1"
  rep "step validate $vs $(b64 "$OUT")"
  [ "$vs" -eq 0 ] || return 1
}

# drop_candidates removes the candidates of a refused commit.
drop_candidates() {
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    parse "$line"
    [ "$op" != put ] || rm -f -- "$p.foobar-new"
  done <<EOF
$OPS
EOF
}

# do_reload STEPNAME ARGS...: run the reload argv, report it as STEPNAME.
do_reload() {
  step=$1
  shift
  OUT="$D/$step.out"
  run_reload "$@"
  rs=$?
  rep "step $step $rs $(b64 "$OUT")"
  return "$rs"
}

case $MODE in
commit|restore)
  if [ "$MODE" = restore ]; then
    prep_restore || finish failed 13
    [ "$CH" = 1 ] || { cleanup_all; finish unchanged 0; }
  else
    check_candidates || finish conflict 12
    if [ "$KEEPORIG" = 1 ]; then keep_orig || finish failed 13; fi
  fi
  PRE=2
  if [ "$NV" -gt 0 ]; then
    prevalidate "$@"
    PRE=$?
    case $PRE in
    1)
      drop_candidates
      rep "restore 0"
      finish invalid 10
      ;;
    2) rep "nsfail $(printf '%s' "$NSWHY" | base64 -w 0)" ;;
    esac
  fi
  backup_all || finish failed 13
  if ! swap_all; then
    restore_all
    finish failed 13
  fi
  if [ "$NV" -gt 0 ] && [ "$PRE" = 2 ]; then
    OUT="$D/validate.out"
    run_validate "$@"
    vs=$?
    rep "step validate $vs $(b64 "$OUT")"
    if [ "$vs" -ne 0 ]; then
      restore_all
      finish invalid 10
    fi
  fi
  if [ "$NR" -gt 0 ]; then
    if ! do_reload reload "$@"; then
      if restore_all; then do_reload reload-previous "$@"; fi
      finish reload-failed 11
    fi
  fi
  if [ "$CLEANUP" = 1 ]; then cleanup_all; fi
  finish ok 0
  ;;
rollback)
  check_live || finish conflict 12
  restore_all || finish failed 13
  if [ "$NR" -gt 0 ]; then
    do_reload reload "$@" || finish reload-failed 11
  fi
  finish ok 0
  ;;
cleanup|cleanup-restore)
  cleanup_all || finish failed 13
  finish ok 0
  ;;
*)
  echo "foobar: unknown mode $MODE" >&2
  finish failed 70
  ;;
esac
`
