// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

// Host-side scripts of the remote steps (deploy.go, inspect.go, remove.go).
// Each is a constant run with remote.Script: user values (paths, names,
// argv) arrive only as positional parameters, never as script text. They
// need a POSIX sh and coreutils; the HTTP checks use curl, or wget when curl
// is missing.

import (
	"strconv"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// appGoneScript runs the application's restart when its unit or init script
// exists; when it does not (the rollback of a first install removed it), it
// stops the service the failed apply started, removes its boot links and
// says so on stderr. Arguments: the unit or init script path, the init
// system (systemd or sysvinit), the service name, the sysvinit pid file,
// the systemd unit directory, then the restart's argv.
const appGoneScript = `
F=$1 I=$2 S=$3 P=$4 U=$5
shift 5
if [ -e "$F" ]; then exec "$@"; fi
if [ "$I" = systemd ]; then
  systemctl stop -- "$S" 2>/dev/null
  rm -f -- "$U"/*.wants/"$S".service
  systemctl daemon-reload
  systemctl reset-failed -- "$S" 2>/dev/null
else
  [ -f "$P" ] && /sbin/start-stop-daemon --stop --quiet --pidfile "$P" --retry TERM/10/KILL/5 --remove-pidfile
  update-rc.d -f "$S" remove >/dev/null 2>&1
fi
echo "foobar: $F is gone (the previous state had no $S): $S stopped and removed from boot" >&2
exit 0
`

// seqScript runs several commands in order and stops at the first failure,
// whose exit status it returns. Arguments: for each command, its word count
// followed by its words.
const seqScript = remote.ShRunFirst + `
while [ "$#" -gt 0 ]; do
  n=$1
  shift
  run_first "$n" "$@" || exit $?
  shift "$n"
done
`

// linkScript makes each symlink follow its target, then runs a command.
// Arguments: mode (validate or reload), the number of links N, N triples
// "<link> <target> <blocker>", then the command's argv.
//
// A link must exist when its target exists and its blocker (a path, or "-"
// for none) does not; then it is created when missing. Otherwise a link
// that points at exactly its target is removed (anything else at the link's
// path is never touched). In validate mode the engine runs it in a private
// mount namespace where the links' directories are private copies
// (apply.Change.ValidatePrivate, see linkDirs), so its link changes never
// reach the host; a failing command still undoes them, for the engine's
// fallback on hosts without such a namespace (links made live, validated,
// undone).
//
// This is how the links in sites-enabled follow the files the engine
// manages, under the engine's lock: the site's own link appears and
// disappears with the site file, and Debian's default site is disabled
// while the site file exists (its blocker) and comes back when it is gone
// (a rollback of the first deploy, or delete). The engine itself never
// manages a path in sites-enabled: its backups and markers next to such a
// path would be loaded by nginx's include of sites-enabled/*.
const linkScript = `
MODE=$1 N=$2
shift 2
CH=
i=0
while [ "$i" -lt "$N" ]; do
  l=$1 t=$2 b=$3
  shift 3
  i=$((i+1))
  want=0
  if [ -e "$t" ]; then
    want=1
    if [ "$b" != - ] && { [ -e "$b" ] || [ -L "$b" ]; }; then want=0; fi
  fi
  if [ "$want" = 1 ]; then
    if [ ! -e "$l" ] && [ ! -L "$l" ]; then
      ln -s -- "$t" "$l" || { echo "foobar: cannot create the link $l" >&2; exit 1; }
      CH="$CH
c $l $t"
    fi
  elif [ -L "$l" ] && [ "$(readlink -- "$l")" = "$t" ]; then
    rm -f -- "$l" || { echo "foobar: cannot remove the link $l" >&2; exit 1; }
    CH="$CH
r $l $t"
  fi
done
"$@"
rc=$?
if [ "$rc" -ne 0 ] && [ "$MODE" = validate ] && [ -n "$CH" ]; then
  printf '%s\n' "$CH" | while read -r op l t; do
    case $op in
    c) rm -f -- "$l" ;;
    r) ln -s -- "$t" "$l" ;;
    esac
  done
fi
exit "$rc"
`

// installedScript tells whether nginx is installed: an nginx binary and
// nginx.conf (a package removed without its binary, or a binary without a
// configuration, is not an installation). Argument: the path of
// nginx.conf. Prints "present", or exits 3 with a message saying what is
// missing.
const installedScript = `
if { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } && [ -f "$1" ]; then echo present; exit 0; fi
echo "foobar: nginx is not installed (no nginx binary or no $1)" >&2
exit 3
`

// layoutCheckScript checks that nginx.conf loads sites-enabled and that the
// site directories exist (creating them when only they are missing).
// Arguments: nginx.conf path, sites-available dir, sites-enabled dir.
const layoutCheckScript = `
if ! grep -Eqs '^[[:space:]]*include[[:space:]]+[^;#]*sites-enabled/' "$1"; then
  echo "foobar: $1 does not include $3/*; add \"include $3/*;\" to its http block" >&2
  exit 5
fi
mkdir -p -- "$2" "$3"
`

// workersScript prints the PIDs of nginx's worker processes, one a line
// (nothing when nginx is not running). Argument: the pid file.
const workersScript = `
[ -r "$1" ] || exit 0
read -r m < "$1" || exit 0
case $m in ''|*[!0-9]*) exit 0 ;; esac
ps -o pid= --ppid "$m" 2>/dev/null | tr -d ' '
exit 0
`

// httpStatusFunc defines status URL [HOST HEADER] [RESOLVE]: print the HTTP
// status of a GET (000 when there was no answer) with curl, wget, or for
// plain HTTP bash's /dev/tcp; "none" when none of them can. HTTPS
// certificates are not checked: this asks whether nginx serves, not whether
// a client trusts it.
const httpStatusFunc = `
status() {
  if command -v curl >/dev/null 2>&1; then
    set -- "$1" "${2:-}" "${3:-}"
    if [ -n "$3" ]; then
      curl -k -s -o /dev/null -w '%{http_code}' --max-time 3 --resolve "$3" -H "Host: $2" -- "$1" 2>/dev/null || true
    elif [ -n "$2" ]; then
      curl -k -s -o /dev/null -w '%{http_code}' --max-time 3 -H "Host: $2" -- "$1" 2>/dev/null || true
    else
      curl -k -s -o /dev/null -w '%{http_code}' --max-time 3 -- "$1" 2>/dev/null || true
    fi
  elif command -v wget >/dev/null 2>&1; then
    if [ -n "${2:-}" ]; then
      wget -S -q -O /dev/null -T 3 -t 1 --no-check-certificate --header "Host: $2" -- "$1" 2>&1 | awk '/^  HTTP\//{c=$2} END{print c+0}'
    else
      wget -S -q -O /dev/null -T 3 -t 1 --no-check-certificate -- "$1" 2>&1 | awk '/^  HTTP\//{c=$2} END{print c+0}'
    fi
  elif command -v bash >/dev/null 2>&1; then
    case $1 in
    http://*)
      # Plain HTTP over bash's /dev/tcp: minimal hosts have neither curl
      # nor wget. URL and Host header are arguments, never script text.
      timeout 4 bash -c '
        rest=${1#http://}; hp=${rest%%/*}; p=/${rest#*/}; [ "$hp" = "$rest" ] && p=/
        h=${2:-${hp%:*}}; port=${hp##*:}; [ "$port" = "$hp" ] && port=80
        exec 3<>"/dev/tcp/${hp%:*}/$port" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$p" "$h" >&3
        read -r proto code rest <&3 && printf "%s" "$code"' bash "$1" "${2:-}" 2>/dev/null || echo 000
      ;;
    *) echo none ;;
    esac
  else
    echo none
  fi
}
`

// healthScript polls the application's health check until it answers 2xx
// while the service is running, or the deadline passes. Arguments: URL,
// timeout in seconds, then the service's status argv. Prints "ok <status>"
// or "fail <status> <active 0|1>" (status "none": no curl or wget).
const healthScript = httpStatusFunc + remote.ShRunFirst + `
URL=$1 T=$2
shift 2
end=$(( $(date +%s) + T ))
while :; do
  code=$(status "$URL")
  if run_first "$#" "$@" >/dev/null 2>&1; then active=1; else active=0; fi
  case $code in
  2??) if [ "$active" = 1 ]; then echo "ok $code"; exit 0; fi ;;
  none) echo "fail none $active"; exit 1 ;;
  esac
  if [ "$(date +%s)" -ge "$end" ]; then echo "fail ${code:-000} $active"; exit 1; fi
  sleep 0.1
done
`

// Both checks poll every 0.1 s: each round is a ps and a curl on the host,
// and the reload or restart they wait for usually completes within a few
// hundred milliseconds (a 0.5 s poll added most of a second to a
// one-attribute change; make bench's change1/noop1).
//
// siteCheckScript waits until nginx runs new workers (a reload really
// happened: the master forks new ones, and keeps the old configuration
// with the old workers when the new one cannot be loaded, for example
// because a port is taken) and each URL answers with its expected status
// class. Arguments: pid file, timeout seconds, old worker PIDs
// (space-separated, may be empty), then triples "<url> <host header>
// <resolve|-> <expected class 2|3>". Prints "ok" or "fail <reason>".
const siteCheckScript = httpStatusFunc + `
PIDF=$1 T=$2 OLD=" $3 "
shift 3
end=$(( $(date +%s) + T ))
while :; do
  why=
  m=
  [ -r "$PIDF" ] && read -r m < "$PIDF"
  case $m in
  ''|*[!0-9]*) why="nginx is not running (no pid in $PIDF)" ;;
  *)
    fresh=0
    for p in $(ps -o pid= --ppid "$m" 2>/dev/null); do
      case $OLD in *" $p "*) ;; *) fresh=1 ;; esac
    done
    [ "$fresh" = 1 ] || why="nginx still runs only its previous worker processes: the reload did not take (see the nginx error log)"
    ;;
  esac
  if [ -z "$why" ]; then
    set -- "$@" END
    while [ "$1" != END ]; do
      u=$1 h=$2 r=$3 want=$4
      shift 4
      set -- "$@" "$u" "$h" "$r" "$want"
      [ "$r" = - ] && r=
      code=$(status "$u" "$h" "$r")
      if [ "$code" = none ]; then continue; fi
      case $code in
      "$want"??) ;;
      *) [ -n "$why" ] || why="$u (Host: $h) answered HTTP $code" ;;
      esac
    done
    shift
  fi
  if [ -z "$why" ]; then echo ok; exit 0; fi
  if [ "$(date +%s)" -ge "$end" ]; then echo "fail $why"; exit 1; fi
  sleep 0.1
done
`

// appLogScript prints the last lines of an application's log. Arguments:
// init (systemd or sysvinit), service name, sysvinit log file, line count.
const appLogScript = `
if [ "$1" = systemd ]; then
  journalctl -u "$2" -n "$4" --no-pager -o short-iso 2>&1
else
  tail -n "$4" -- "$3" 2>&1
fi
exit 0
`

// removeAppScript stops and forgets the application. Arguments: init,
// service name, the stop and the disable argv (each as a word count
// followed by its words), then the paths to remove: files (with the
// engine's backups and candidates next to them), or, with a trailing "/",
// directories removed recursively.
const removeAppScript = remote.ShRunFirst + `
INIT=$1 SVC=$2
shift 2
n=$1
shift
run_first "$n" "$@" >/dev/null 2>&1
shift "$n"
n=$1
shift
run_first "$n" "$@" >/dev/null 2>&1
shift "$n"
for p in "$@"; do
  case $p in
  */) rm -rf -- "${p%/}" || exit 1 ;;
  *) rm -f -- "$p" "$p.foobar-bak" "$p.foobar-bak-none" "$p.foobar-new" "$p.foobar-orig" "$p.foobar-orig-none" || exit 1 ;;
  esac
done
if [ "$INIT" = systemd ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  systemctl reset-failed -- "$SVC" >/dev/null 2>&1 || true
fi
exit 0
`

// rmdirScript removes directories that are empty (and only those).
const rmdirScript = `
for d in "$@"; do rmdir -- "$d" 2>/dev/null || true; done
exit 0
`

// counted encodes argv lists for seqScript and removeAppScript: each as its word count followed by its words.
func counted(argvs ...[]string) []string {
	var out []string
	for _, a := range argvs {
		out = append(out, strconv.Itoa(len(a)))
		out = append(out, a...)
	}
	return out
}

// SeqArgv runs the commands in order and stops at the first that fails.
func SeqArgv(argvs ...[]string) []string {
	return remote.Script(seqScript, counted(argvs...)...)
}

// LinkRule says when a symlink must exist: when Target exists and, if
// set, Unless does not.
type LinkRule struct {
	Link
	Unless string
}

// LinkedArgv makes each link follow its rule (see linkScript), then runs
// argv. In validate mode a failing argv undoes the link changes.
func LinkedArgv(validate bool, rules []LinkRule, argv []string) []string {
	mode := "reload"
	if validate {
		mode = "validate"
	}
	args := []string{mode, strconv.Itoa(len(rules))}
	for _, l := range rules {
		unless := l.Unless
		if unless == "" {
			unless = "-"
		}
		args = append(args, l.Path, l.Target, unless)
	}
	return remote.Script(linkScript, append(args, argv...)...)
}
