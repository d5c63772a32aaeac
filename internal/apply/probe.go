// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// DefaultMaxContent caps file contents and command outputs returned by
// Probe.
const DefaultMaxContent = 1 << 20

// ProbeRequest says what Probe reads.
type ProbeRequest struct {
	// Paths are stat'ed and checksummed.
	Paths []string
	// Content are paths whose content is returned as well (they need not
	// be repeated in Paths).
	Content []string
	// MaxContent caps each returned content and command output, in bytes
	// (default DefaultMaxContent). A larger file's content is not returned
	// (FileInfo.ContentTooLarge); a larger output is cut.
	MaxContent int64
	// Services are service names whose state is read.
	Services []string
	// Commands are argv lists run on the host, each captured with its exit
	// status (for example haproxy -v), with stdin from /dev/null.
	Commands [][]string
	// CommandMax caps each command's output, in bytes (default
	// MaxContent): a command that lists a tree can say more than a file
	// the probe should return.
	CommandMax int64
	// CommandTimeout bounds each command (default 30 s) where the host has
	// timeout(1).
	CommandTimeout time.Duration
	// Init is the service manager; empty means detect it in the same round
	// trip (the answer is cached as DetectInit's is).
	Init Init
}

// FileKind is what a path is on the host.
type FileKind string

// File kinds reported by Probe.
const (
	KindMissing FileKind = ""
	KindFile    FileKind = "file"
	KindSymlink FileKind = "symlink"
	KindDir     FileKind = "dir"
	KindOther   FileKind = "other"
)

// FileInfo is one path as Probe found it. A symlink is described itself (its
// target is not followed) and has no checksum.
type FileInfo struct {
	Path         string
	Exists       bool
	Kind         FileKind
	Size         int64
	Mode         fs.FileMode
	UID, GID     int
	Owner, Group string
	// SHA256 is set for regular files.
	SHA256 string
	// Content is set for regular files requested in ProbeRequest.Content
	// that are not larger than the cap.
	Content         []byte
	ContentTooLarge bool
}

// ServiceStatus is one service as the service manager reports it.
type ServiceStatus struct {
	Name string
	// ActiveState is systemd's ActiveState (active, reloading, inactive,
	// failed, activating, deactivating); under sysvinit it is derived from
	// the LSB exit status of "service NAME status" (0 active, 3 inactive,
	// 1 and 2 failed, otherwise unknown).
	ActiveState string
	SubState    string
	// LoadState is systemd's LoadState (loaded, not-found, ...); under
	// sysvinit "loaded" when /etc/init.d/NAME exists, else "not-found".
	LoadState string
	// MainPID is 0 when unknown or not running.
	MainPID int
}

// Active reports whether the service is running.
func (s ServiceStatus) Active() bool {
	return s.ActiveState == "active" || s.ActiveState == "reloading"
}

// CommandOutput is one ProbeRequest command's result.
type CommandOutput struct {
	Argv       []string
	ExitStatus int
	Stdout     []byte
	Stderr     []byte
}

// ExitError is the command's failure as Runner.Run would have returned it
// (nil for exit status 0).
func (c CommandOutput) ExitError() *remote.ExitError {
	if c.ExitStatus == 0 {
		return nil
	}
	return &remote.ExitError{Argv: c.Argv, ExitStatus: c.ExitStatus, Stderr: string(c.Stderr)}
}

// Err is ExitError worded as the engine words a failed script on the host
// (nil for exit status 0).
func (c CommandOutput) Err() error {
	if ee := c.ExitError(); ee != nil {
		return hostErr(ee)
	}
	return nil
}

// Snapshot is everything Probe read.
type Snapshot struct {
	Init Init
	// OSRelease is the host's os-release(5) content (/etc/os-release, else
	// /usr/lib/os-release); empty when it has neither. SupportedSystem
	// judges it.
	OSRelease string
	Files     map[string]FileInfo
	Services  map[string]ServiceStatus
	// Commands are in request order.
	Commands []CommandOutput
}

// probeScript reads files, services and command outputs in one round trip.
// Arguments: init ("" to detect), cap in bytes, command timeout in seconds,
// cap of command outputs in bytes, then a count of files followed by "<want content 0|1> <path>" pairs, a
// count of services followed by the names, a count of commands each
// followed by its own word count and words.
//
// Output lines (all fields free of spaces; free text is base64):
//
//	foobar-probe 1
//	init <systemd|sysvinit|unknown>
//	os <base64 of /etc/os-release, else /usr/lib/os-release; empty when neither>
//	file <i> M
//	file <i> <F|L|D|O> <size> <mode> <uid> <gid> <user> <group> <sha256|->
//	content <i> <base64>          | content-too-large <i>
//	service <i> <active> <sub|-> <load|-> <mainpid>
//	cmd <i> <exit> <base64 stdout> <base64 stderr>
//	end
const probeScript = remote.ShRunFirst + osReleaseFunc + `
INIT=$1 MAX=$2 CT=$3 CMAX=$4
shift 4
TO=
if command -v timeout >/dev/null 2>&1; then TO=timeout; fi
echo "foobar-probe 1"
if [ -z "$INIT" ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && systemctl show -p Version >/dev/null 2>&1; then
    INIT=systemd
  elif command -v service >/dev/null 2>&1 || [ -d /etc/init.d ]; then
    INIT=sysvinit
  else
    INIT=unknown
  fi
fi
echo "init $INIT"
printf 'os '
os_release ` + OSReleasePath + ` | head -c 65536 | base64 -w 0
echo

tmpd=$(mktemp -d) || exit 1
trap 'rm -rf -- "$tmpd"' 0
# Files: their kinds first (shell tests, no process), then one stat and
# one hash command for all of them (xargs keeps the order), then the
# lines, read back from the three lists in step.
HASH="sha256sum --"
if command -v openssl >/dev/null 2>&1; then HASH="openssl dgst -sha256 -r"; fi
: > "$tmpd/l"; : > "$tmpd/x"; : > "$tmpd/h"; : > "$tmpd/xs"; : > "$tmpd/hs"; : > "$tmpd/svc"
n=$1
shift
i=0
while [ "$i" -lt "$n" ]; do
  want=$1 p=$2
  shift 2
  if [ -L "$p" ]; then t=L
  elif [ -f "$p" ]; then t=F
  elif [ -d "$p" ]; then t=D
  elif [ -e "$p" ]; then t=O
  else t=M
  fi
  # The path last, ended by a slash that read's field splitting cannot trim.
  printf '%s %s %s/\n' "$t" "$want" "$p" >> "$tmpd/l"
  if [ "$t" != M ]; then printf '%s\n' "$p" >> "$tmpd/x"; fi
  if [ "$t" = F ]; then printf '%s\n' "$p" >> "$tmpd/h"; fi
  i=$((i+1))
done
if [ -s "$tmpd/x" ]; then xargs -d '\n' stat -c '%s %a %u %g %U %G' -- < "$tmpd/x" > "$tmpd/xs" || exit 1; fi
if [ -s "$tmpd/h" ]; then xargs -d '\n' $HASH < "$tmpd/h" > "$tmpd/hs" || exit 1; fi
i=0
exec 3< "$tmpd/xs" 4< "$tmpd/hs"
while IFS=' ' read -r t want p; do
  p=${p%/}
  if [ "$t" = M ]; then
    printf 'file %d M\n' "$i"
  else
    IFS= read -r st <&3 || exit 1
    sha=-
    if [ "$t" = F ]; then
      IFS= read -r sha <&4 || exit 1
      sha=${sha%% *}
      sha=${sha#\\}
      case $sha in *[!0-9a-f]*|'') exit 1 ;; esac
      [ "${#sha}" -eq 64 ] || exit 1
    fi
    printf 'file %d %s %s %s\n' "$i" "$t" "$st" "$sha"
    if [ "$want" = 1 ] && [ "$t" = F ]; then
      if [ "${st%% *}" -le "$MAX" ]; then
        printf 'content %d ' "$i"
        base64 -w 0 < "$p" || exit 1
        echo
      else
        printf 'content-too-large %d\n' "$i"
      fi
    fi
  fi
  i=$((i+1))
done < "$tmpd/l"
exec 3<&- 4<&-

# Services: systemd answers for all of them in one systemctl show, a
# block of KEY=VALUE lines each, in the order asked, blank lines between.
n=$1
shift
if [ "$INIT" = systemd ] && [ "$n" -gt 0 ]; then
  run_first $((n+11)) systemctl show -p LoadState -p ActiveState -p SubState -p MainPID -- "$@" > "$tmpd/svc" 2>/dev/null
fi
exec 3< "$tmpd/svc"
i=0
while [ "$i" -lt "$n" ]; do
  svc=$1
  shift
  a=unknown sub=- load=- pid=0
  case $INIT in
  systemd)
    while IFS='=' read -r k v <&3; do
      [ -n "$k" ] || break
      case $k in
      ActiveState) a=${v:-unknown} ;;
      SubState) sub=${v:--} ;;
      LoadState) load=${v:--} ;;
      MainPID) pid=${v:-0} ;;
      esac
    done
    ;;
  sysvinit)
    if [ -e "/etc/init.d/$svc" ]; then load=loaded; else load=not-found; fi
    $TO ${TO:+30} service "$svc" status >/dev/null 2>&1 < /dev/null
    case $? in
    0) a=active ;;
    3) a=inactive ;;
    1|2) a=failed ;;
    esac
    for f in "/run/$svc.pid" "/var/run/$svc.pid" "/run/$svc/$svc.pid"; do
      [ -f "$f" ] || continue
      IFS= read -r pid < "$f" || pid=0
      case $pid in ''|*[!0-9]*) pid=0 ;; esac
      if [ "$pid" != 0 ] && kill -0 "$pid" 2>/dev/null; then break; fi
      pid=0
    done
    ;;
  esac
  case $a in *' '*|'') a=unknown ;; esac
  case $pid in ''|*[!0-9]*) pid=0 ;; esac
  printf 'service %d %s %s %s %s\n' "$i" "$a" "${sub:--}" "${load:--}" "$pid"
  i=$((i+1))
done
exec 3<&-

# run_cmd K WORDS...: run the first K words (run_first) under the command
# timeout, output to $tmpd/o and $tmpd/e.
run_cmd() {
  _k=$1
  shift
  if [ -n "$TO" ]; then set -- "$TO" -k 5 "$CT" "$@"; _k=$((_k+4)); fi
  run_first "$_k" "$@" > "$tmpd/o" 2> "$tmpd/e" < /dev/null
}
n=$1
shift
i=0
while [ "$i" -lt "$n" ]; do
  k=$1
  shift
  run_cmd "$k" "$@"
  rc=$?
  shift "$k"
  # An empty stream (most often stderr) costs no process.
  printf 'cmd %d %d ' "$i" "$rc"
  if [ -s "$tmpd/o" ]; then head -c "$CMAX" "$tmpd/o" | base64 -w 0; fi
  printf ' '
  if [ -s "$tmpd/e" ]; then head -c "$CMAX" "$tmpd/e" | base64 -w 0; fi
  echo
  i=$((i+1))
done
echo end
`

// Probe reads, in one round trip, the state of files, services and the
// output of commands on a host: what a resource's Read needs to detect
// drift.
func Probe(ctx context.Context, r remote.Runner, req ProbeRequest) (Snapshot, error) {
	limit := req.MaxContent
	if limit <= 0 {
		limit = DefaultMaxContent
	}
	init := req.Init
	if init == "" {
		if k, ok := cacheKey(r); ok {
			if v, ok := initCache.Load(k); ok {
				init = v.(Init)
			}
		}
	}
	switch init {
	case "", Systemd, SysVinit:
	default:
		return Snapshot{}, fmt.Errorf("unknown service manager %q", string(init))
	}

	// Paths in request order, each once, content wanted or not.
	var paths []string
	want := map[string]bool{}
	add := func(p string, content bool) error {
		if err := ValidateProbePath(p); err != nil {
			return err
		}
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
		want[p] = want[p] || content
		return nil
	}
	for _, p := range req.Paths {
		if err := add(p, false); err != nil {
			return Snapshot{}, err
		}
	}
	for _, p := range req.Content {
		if err := add(p, true); err != nil {
			return Snapshot{}, err
		}
	}
	for _, s := range req.Services {
		if err := ValidateServiceName(s); err != nil {
			return Snapshot{}, err
		}
	}

	cmdLimit := req.CommandMax
	if cmdLimit <= 0 {
		cmdLimit = limit
	}
	timeout := int64(30)
	if req.CommandTimeout > 0 {
		timeout = int64((req.CommandTimeout + time.Second - 1) / time.Second)
	}
	args := []string{string(init), strconv.FormatInt(limit, 10), strconv.FormatInt(timeout, 10), strconv.FormatInt(cmdLimit, 10), strconv.Itoa(len(paths))}
	for _, p := range paths {
		args = append(args, boolArg(want[p]), p)
	}
	args = append(args, strconv.Itoa(len(req.Services)))
	args = append(args, req.Services...)
	args = append(args, strconv.Itoa(len(req.Commands)))
	for _, c := range req.Commands {
		if len(c) == 0 {
			return Snapshot{}, errors.New("probe command with an empty argv")
		}
		if err := validateArgv("probe command", c); err != nil {
			return Snapshot{}, err
		}
		args = append(args, strconv.Itoa(len(c)))
		args = append(args, c...)
	}
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(probeScript, args...)})
	if err != nil {
		return Snapshot{}, fmt.Errorf("probing the host: %w", hostErr(err))
	}
	snap, err := parseProbe(res.Stdout, paths, req.Services, req.Commands)
	if err != nil {
		return Snapshot{}, err
	}
	if snap.Init == Systemd || snap.Init == SysVinit {
		rememberInit(r, snap.Init)
	}
	return snap, nil
}

// ValidateProbePath is the rule for paths Probe reads: absolute, no NUL or
// newline, no ".." component. Unlike ValidatePath it allows the engine's own
// names, so callers can look at backups and originals.
func ValidateProbePath(p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\n") {
		return fmt.Errorf("invalid path %q: must be absolute, without NUL or newline", p)
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return fmt.Errorf("invalid path %q: contains \"..\"", p)
		}
	}
	return nil
}

func parseProbe(out []byte, paths, services []string, cmds [][]string) (Snapshot, error) {
	snap := Snapshot{
		Files:    make(map[string]FileInfo, len(paths)),
		Services: make(map[string]ServiceStatus, len(services)),
		Commands: make([]CommandOutput, len(cmds)),
	}
	bad := func(line string) error { return fmt.Errorf("malformed probe output line %q", truncate(line, 200)) }
	index := func(s string, n int) (int, bool) {
		i, err := strconv.Atoi(s)
		return i, err == nil && i >= 0 && i < n
	}
	gotCmd := make([]bool, len(cmds))
	var header, end bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Split(line, " ")
		switch f[0] {
		case "foobar-probe":
			header = true
		case "end":
			end = true
		case "init":
			if len(f) != 2 {
				return Snapshot{}, bad(line)
			}
			switch Init(f[1]) {
			case Systemd, SysVinit:
				snap.Init = Init(f[1])
			}
		case "os":
			if len(f) != 2 {
				return Snapshot{}, bad(line)
			}
			b, err := base64.StdEncoding.DecodeString(f[1])
			if err != nil {
				return Snapshot{}, bad(line)
			}
			snap.OSRelease = string(b)
		case "file":
			if len(f) < 3 {
				return Snapshot{}, bad(line)
			}
			i, ok := index(f[1], len(paths))
			if !ok {
				return Snapshot{}, bad(line)
			}
			fi := FileInfo{Path: paths[i]}
			if f[2] != "M" {
				if len(f) != 10 {
					return Snapshot{}, bad(line)
				}
				var err error
				fi.Exists = true
				fi.Kind = map[string]FileKind{"F": KindFile, "L": KindSymlink, "D": KindDir, "O": KindOther}[f[2]]
				if fi.Kind == KindMissing {
					return Snapshot{}, bad(line)
				}
				if fi.Size, err = strconv.ParseInt(f[3], 10, 64); err != nil {
					return Snapshot{}, bad(line)
				}
				if fi.Mode, err = parseOctalMode(f[4]); err != nil {
					return Snapshot{}, bad(line)
				}
				if fi.UID, err = strconv.Atoi(f[5]); err != nil {
					return Snapshot{}, bad(line)
				}
				if fi.GID, err = strconv.Atoi(f[6]); err != nil {
					return Snapshot{}, bad(line)
				}
				fi.Owner, fi.Group = f[7], f[8]
				if f[9] != "-" {
					fi.SHA256 = f[9]
				}
			}
			snap.Files[fi.Path] = fi
		case "content", "content-too-large":
			if len(f) < 2 {
				return Snapshot{}, bad(line)
			}
			i, ok := index(f[1], len(paths))
			if !ok {
				return Snapshot{}, bad(line)
			}
			fi, seen := snap.Files[paths[i]]
			if !seen {
				return Snapshot{}, bad(line)
			}
			if f[0] == "content-too-large" {
				fi.ContentTooLarge = true
			} else {
				if len(f) != 3 {
					return Snapshot{}, bad(line)
				}
				b, err := base64.StdEncoding.DecodeString(f[2])
				if err != nil {
					return Snapshot{}, bad(line)
				}
				if fi.Content = b; fi.Content == nil {
					fi.Content = []byte{}
				}
				// The content and the checksum are read separately; when the
				// file changed in between, trust the bytes we hold.
				fi.SHA256 = Checksum(b)
				fi.Size = int64(len(b))
			}
			snap.Files[fi.Path] = fi
		case "service":
			if len(f) != 6 {
				return Snapshot{}, bad(line)
			}
			i, ok := index(f[1], len(services))
			if !ok {
				return Snapshot{}, bad(line)
			}
			pid, err := strconv.Atoi(f[5])
			if err != nil {
				return Snapshot{}, bad(line)
			}
			s := ServiceStatus{Name: services[i], ActiveState: f[2], SubState: dash(f[3]), LoadState: dash(f[4]), MainPID: pid}
			snap.Services[s.Name] = s
		case "cmd":
			if len(f) != 5 {
				return Snapshot{}, bad(line)
			}
			i, ok := index(f[1], len(cmds))
			if !ok {
				return Snapshot{}, bad(line)
			}
			rc, err := strconv.Atoi(f[2])
			if err != nil {
				return Snapshot{}, bad(line)
			}
			o, err1 := base64.StdEncoding.DecodeString(f[3])
			e, err2 := base64.StdEncoding.DecodeString(f[4])
			if err1 != nil || err2 != nil {
				return Snapshot{}, bad(line)
			}
			snap.Commands[i] = CommandOutput{Argv: cmds[i], ExitStatus: rc, Stdout: o, Stderr: e}
			gotCmd[i] = true
		}
	}
	if err := sc.Err(); err != nil {
		return Snapshot{}, err
	}
	if !header || !end {
		return Snapshot{}, fmt.Errorf("incomplete probe output: %q", truncate(string(out), 2048))
	}
	for _, p := range paths {
		if _, ok := snap.Files[p]; !ok {
			return Snapshot{}, fmt.Errorf("probe output lacks %s", p)
		}
	}
	for _, s := range services {
		if _, ok := snap.Services[s]; !ok {
			return Snapshot{}, fmt.Errorf("probe output lacks service %s", s)
		}
	}
	for i, ok := range gotCmd {
		if !ok {
			return Snapshot{}, fmt.Errorf("probe output lacks command %d", i)
		}
	}
	return snap, nil
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
