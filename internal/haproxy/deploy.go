// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

// The host-side steps of the load balancer, as argv and parsers over a
// remote.Runner: installing HAProxy, finding the master and worker
// processes, and verifying that a reload really started a new worker whose
// listeners answer. Deploy, Inspect and Remove (deployment.go) compose them
// with the safe-apply engine (internal/apply); nothing here knows about
// Terraform or dials.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Host layout beyond ConfigPath and FilesDir.
const (
	// ServiceName is the service unit (or init script) of HAProxy.
	ServiceName = "haproxy"
	// LockName is the apply engine's lock for everything this package
	// writes, so two applies to the same host never interleave.
	LockName = "haproxy"
	// ConfigOwner and ConfigGroup own ConfigPath: HAProxy reads it as root,
	// the haproxy group may read it (as Debian's package sets it up).
	ConfigOwner = "root"
	ConfigGroup = "haproxy"
	// PIDFile is where Debian's unit tells HAProxy to write
	// the master's pid (-p); it is used when systemd cannot say.
	PIDFile = "/run/haproxy.pid"
	// RecordPath holds the Record of what Deploy wrote (the Config with its
	// secrets, write-only ones excepted, and the sha256 of haproxy.cfg as
	// written), so that Inspect can tell a configuration Deploy wrote from a
	// hand edit and import can take the configuration back. Root only: it
	// holds the same secrets haproxy.cfg and the TLS bundles hold.
	RecordPath = "/var/lib/foobar/haproxy/load_balancer.json"
	// RecordMode is RecordPath's mode (owner root).
	RecordMode fs.FileMode = 0o600
)

// Packages is HAProxy's Debian package.
var Packages = []string{"haproxy"}

// Install installs HAProxy with apt-get (apply.InstallPackages); Debian's
// package enables and starts its service.
func Install(ctx context.Context, r remote.Runner) error {
	return apply.InstallPackages(ctx, r, Packages)
}

// processesScript prints the HAProxy master and its workers:
//
//	master <pid>     (0 when HAProxy does not run)
//	worker <pid>     one line per child of the master that is haproxy
//	end
//
// The master is systemd's MainPID of the service, else the pid in the pid
// file; it counts only when /proc says it is haproxy. Its children come from
// /proc/PID/task/*/children, else ps(1), else a scan of /proc/*/stat, so
// coreutils and /proc are enough. Arguments: service name, pid file.
const processesScript = `
svc=$1 pidfile=$2
m=
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  m=$(systemctl show -p MainPID --value -- "$svc" 2>/dev/null)
fi
case $m in ''|0|*[!0-9]*) m= ;; esac
if [ -z "$m" ] && [ -r "$pidfile" ]; then IFS= read -r m < "$pidfile" || m=; fi
case $m in ''|*[!0-9]*) m=0 ;; esac
comm=
[ "$m" = 0 ] || comm=$(cat "/proc/$m/comm" 2>/dev/null)
if [ "$comm" != haproxy ]; then
  echo "master 0"
  echo end
  exit 0
fi
echo "master $m"
kids=$(cat /proc/"$m"/task/*/children 2>/dev/null)
if [ -z "$kids" ] && command -v ps >/dev/null 2>&1; then
  kids=$(ps -o pid= --ppid "$m" 2>/dev/null)
fi
if [ -z "$kids" ]; then
  for st in /proc/[0-9]*/stat; do
    line=$(cat "$st" 2>/dev/null) || continue
    rest=${line#*) }
    set -- $rest
    [ "$2" = "$m" ] || continue
    k=${st#/proc/}
    kids="$kids ${k%/stat}"
  done
fi
for k in $kids; do
  [ "$(cat "/proc/$k/comm" 2>/dev/null)" = haproxy ] && echo "worker $k"
done
echo end
`

// Processes is HAProxy's master and its worker processes. Master is 0 when
// HAProxy does not run.
type Processes struct {
	Master  int
	Workers []int
}

// Running reports whether a master with at least one worker runs.
func (p Processes) Running() bool { return p.Master > 0 && len(p.Workers) > 0 }

// NewWorkers returns the workers of p that are not in before.
func (p Processes) NewWorkers(before Processes) []int {
	var n []int
	for _, w := range p.Workers {
		if !slices.Contains(before.Workers, w) {
			n = append(n, w)
		}
	}
	return n
}

// String describes p for an operator.
func (p Processes) String() string {
	if p.Master == 0 {
		return "HAProxy is not running"
	}
	return fmt.Sprintf("master %d, workers %s", p.Master, pidList(p.Workers))
}

func pidList(pids []int) string {
	if len(pids) == 0 {
		return "none"
	}
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, " ")
}

// ProcessesArgv prints HAProxy's processes (see ParseProcesses). It needs
// no privileges beyond reading /proc.
func ProcessesArgv() []string {
	return remote.Script(processesScript, ServiceName, PIDFile)
}

// ParseProcesses parses the output of ProcessesArgv.
func ParseProcesses(out string) (Processes, error) {
	var p Processes
	master, end := false, false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "master", "worker":
			if len(f) != 2 {
				return Processes{}, fmt.Errorf("malformed process line %q", sc.Text())
			}
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 0 {
				return Processes{}, fmt.Errorf("malformed process line %q", sc.Text())
			}
			if f[0] == "master" {
				p.Master, master = n, true
			} else if n > 0 {
				p.Workers = append(p.Workers, n)
			}
		case "end":
			end = true
		}
	}
	if !master || !end {
		return Processes{}, fmt.Errorf("incomplete process report %q", truncate(out, 200))
	}
	sort.Ints(p.Workers)
	return p, nil
}

// ReadProcesses runs ProcessesArgv on r.
func ReadProcesses(ctx context.Context, r remote.Runner) (Processes, error) {
	res, err := r.Run(ctx, remote.Cmd{Argv: ProcessesArgv()})
	if err != nil {
		return Processes{}, fmt.Errorf("reading HAProxy's processes: %w", err)
	}
	return ParseProcesses(string(res.Stdout))
}

// Endpoint is a listener to check after a reload, as the host itself
// reaches it.
type Endpoint struct {
	// Scheme is http or https (HAProxy must answer an HTTP request), or tcp
	// (the port must be listening).
	Scheme string
	// Host is an address for a URL: an IPv4 address or a bracketed IPv6
	// address. Wildcard binds are reached on 127.0.0.1.
	Host string
	Port int
	// Name says which frontend the listener belongs to.
	Name string
}

// URL is the endpoint's base URL.
func (e Endpoint) URL() string {
	return e.Scheme + "://" + e.Host + ":" + strconv.Itoa(e.Port) + "/"
}

// Endpoints lists every listener of c (plain and TLS listeners of each
// frontend, and the stats listener), as the load balancer host reaches
// them. Call Validate first.
func (c Config) Endpoints() []Endpoint {
	var eps []Endpoint
	for _, f := range c.Frontends {
		if f.Port != 0 {
			eps = append(eps, Endpoint{Scheme: "http", Host: localHost(f.BindAddress), Port: f.Port, Name: f.Name})
		}
		if f.TLS != nil {
			eps = append(eps, Endpoint{Scheme: "https", Host: localHost(f.BindAddress), Port: orInt(f.TLS.Port, DefaultTLSPort), Name: f.Name})
		}
	}
	if c.Stats != nil {
		eps = append(eps, Endpoint{Scheme: "http", Host: localHost(or(c.Stats.BindAddress, DefaultStatsBind)), Port: orInt(c.Stats.Port, DefaultStatsPort), Name: StatsFrontendName})
	}
	return eps
}

// localHost is the URL host that reaches a bind address from the host.
func localHost(bind string) string {
	a, err := netip.ParseAddr(bind)
	switch {
	case bind == "", err != nil, a.IsUnspecified():
		return "127.0.0.1"
	case a.Is4() || a.Is4In6():
		return a.Unmap().String()
	default:
		return "[" + a.String() + "]"
	}
}

// verifyScript waits until HAProxy runs a worker that was not running
// before the reload, then until every endpoint answers; it gives up at the
// deadline. An http or https listener answers when HAProxy itself returns
// 400 to an HTTP/1.1 request with an invalid header name (so no backend is
// involved and a slow or dead server cannot make a good configuration look
// broken); for a tcp endpoint, or without curl, the port must be in LISTEN
// state in /proc/net/tcp{,6}.
//
// Arguments: service, pid file, timeout in seconds, the old worker pids
// (space separated), then scheme host port triples. Output: the processes
// as processesScript prints them (without end), "new <pid>" lines,
// "endpoint <i> <ok|fail> <status>" lines, "result <word>", "end".
const verifyScript = `
svc=$1 pidfile=$2 timeout=$3 old=" $4 "
shift 4
now() { date +%s; }
deadline=$(( $(now) + timeout ))
procs() {
  out=$(sh -c "$PROCS" sh "$svc" "$pidfile") || return 1
  m=$(printf '%s\n' "$out" | sed -n 's/^master //p')
  ws=$(printf '%s\n' "$out" | sed -n 's/^worker //p')
}
new=
while :; do
  procs
  new=
  for w in $ws; do
    case $old in *" $w "*) ;; *) new="$new $w" ;; esac
  done
  if [ "${m:-0}" != 0 ] && [ -n "$new" ]; then break; fi
  if [ "$(now)" -ge "$deadline" ]; then break; fi
  sleep 0.2
done
echo "master ${m:-0}"
for w in $ws; do echo "worker $w"; done
for w in $new; do echo "new $w"; done
if [ "${m:-0}" = 0 ]; then echo "result not-running"; echo end; exit 0; fi
if [ -z "$new" ]; then echo "result no-new-worker"; echo end; exit 0; fi

HAVECURL=0
command -v curl >/dev/null 2>&1 && HAVECURL=1
check() {
  if [ "$HAVECURL" = 1 ] && [ "$1" != tcp ]; then
    code=$(curl --http1.1 -s -k --noproxy '*' -o /dev/null -m 3 -w '%{http_code}' -H 'Foobar Verify: 1' "$1://$2:$3/" 2>/dev/null)
    [ -n "$code" ] || code=000
    [ "$code" = 400 ]
    return
  fi
  code=listen
  p=$(printf '%04X' "$3")
  awk -v p="$p" '$4 == "0A" { n = split($2, a, ":"); if (a[n] == p) f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
i=0
res=ok
while [ "$#" -ge 3 ]; do
  while :; do
    if check "$1" "$2" "$3"; then echo "endpoint $i ok $code"; break; fi
    if [ "$(now)" -ge "$deadline" ]; then echo "endpoint $i fail $code"; res=endpoint; break; fi
    sleep 0.2
  done
  shift 3
  i=$((i+1))
done
echo "result $res"
echo end
`

// VerifyResult is what Verify found.
type VerifyResult struct {
	After Processes
	// New are the workers that were not running before.
	New []int
	// Failed are the endpoints that did not answer, with the HTTP status
	// the host saw ("000": no answer; "listen": no listening socket).
	Failed []EndpointFailure
}

// EndpointFailure is one endpoint that did not answer.
type EndpointFailure struct {
	Endpoint Endpoint
	Status   string
}

// DefaultVerifyTimeout bounds how long Verify waits for the new worker and
// its listeners.
const DefaultVerifyTimeout = 20 * time.Second

// Verify checks on the host that HAProxy runs a worker that is not in
// before.Workers (a reload starts a new worker; systemctl's exit status
// alone does not prove that the new configuration was loaded: a master that
// fails to load it keeps the old workers and reports nothing), and that
// every endpoint answers. It polls on the host, in one round trip, until
// timeout (DefaultVerifyTimeout when zero).
func Verify(ctx context.Context, r remote.Runner, before Processes, endpoints []Endpoint, timeout time.Duration) (VerifyResult, error) {
	return verify(ctx, r, ServiceName, PIDFile, before, endpoints, timeout)
}

// verify is Verify for a given service name and pid file (tests use fakes).
func verify(ctx context.Context, r remote.Runner, svc, pidFile string, before Processes, endpoints []Endpoint, timeout time.Duration) (VerifyResult, error) {
	if timeout <= 0 {
		timeout = DefaultVerifyTimeout
	}
	secs := int((timeout + time.Second - 1) / time.Second)
	args := []string{svc, pidFile, strconv.Itoa(secs), pidList(before.Workers)}
	if len(before.Workers) == 0 {
		args[3] = ""
	}
	for _, e := range endpoints {
		args = append(args, e.Scheme, e.Host, strconv.Itoa(e.Port))
	}
	argv := remote.Script("PROCS="+shellSingleQuoted(processesScript)+"\n"+verifyScript, args...)
	res, err := r.Run(ctx, remote.Cmd{Argv: argv})
	if err != nil {
		return VerifyResult{}, fmt.Errorf("checking HAProxy after the reload: %w", err)
	}
	vr, result, err := parseVerify(string(res.Stdout), endpoints)
	if err != nil {
		return VerifyResult{}, err
	}
	switch result {
	case "ok":
		return vr, nil
	case "not-running":
		return vr, fmt.Errorf("HAProxy is not running after the reload (no master process within %s)", timeout)
	case "no-new-worker":
		return vr, fmt.Errorf("the reload did not take effect: no new HAProxy worker started within %s (%s; before: workers %s), "+
			"so HAProxy still runs the previous configuration (it probably failed to load the new one: see journalctl -u haproxy)",
			timeout, vr.After, pidList(before.Workers))
	case "endpoint":
		var parts []string
		for _, f := range vr.Failed {
			parts = append(parts, fmt.Sprintf("%s (frontend %s): %s", f.Endpoint.URL(), f.Endpoint.Name, describeStatus(f.Status)))
		}
		return vr, fmt.Errorf("HAProxy reloaded (new worker %s) but these listeners do not answer: %s", pidList(vr.New), strings.Join(parts, "; "))
	}
	return vr, fmt.Errorf("unexpected verification result %q", result)
}

func describeStatus(s string) string {
	switch s {
	case "000":
		return "no HTTP answer"
	case "listen":
		return "no listening socket"
	}
	return "HTTP status " + s + " instead of HAProxy's own 400 for a malformed request"
}

// Verifier returns the callback the apply engine calls after a reload.
// Its first call verifies the new configuration: a worker that is not in
// before, and every endpoint answering. The engine calls it again after a
// rollback; that call verifies the previous configuration: a worker newer
// than any seen so far, and the previous endpoints listening.
func Verifier(before Processes, endpoints, previous []Endpoint, timeout time.Duration) func(context.Context, remote.Runner) error {
	return verifierWith(ServiceName, PIDFile, before, endpoints, previous, timeout)
}

func verifierWith(svc, pidFile string, before Processes, endpoints, previous []Endpoint, timeout time.Duration) func(context.Context, remote.Runner) error {
	seen := before
	calls := 0
	return func(ctx context.Context, r remote.Runner) error {
		eps := endpoints
		if calls > 0 {
			eps = previous
		}
		calls++
		res, err := verify(ctx, r, svc, pidFile, seen, eps, timeout)
		for _, w := range res.After.Workers {
			if !slices.Contains(seen.Workers, w) {
				seen.Workers = append(seen.Workers, w)
			}
		}
		return err
	}
}

// EndpointsFromConfig lists the listeners of any haproxy.cfg (bind lines of
// frontend and listen sections with an IP address or a wildcard and a
// port) as tcp endpoints: the port must be listening. It is how the
// configuration a rollback restores, which this package may not have
// written, is checked.
func EndpointsFromConfig(cfg []byte) []Endpoint {
	var eps []Endpoint
	section := ""
	name := ""
	for _, line := range strings.Split(string(cfg), "\n") {
		words, _ := wordSpans(line)
		if len(words) == 0 {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			section = words[0]
			name = ""
			if len(words) > 1 {
				name = words[1]
			}
			continue
		}
		if (section != "frontend" && section != "listen") || words[0] != "bind" || len(words) < 2 {
			continue
		}
		for _, addr := range strings.Split(words[1], ",") {
			if e, ok := bindEndpoint(addr); ok {
				e.Name = name
				eps = append(eps, e)
			}
		}
	}
	return eps
}

// bindEndpoint parses one address of a bind line: [ipv4@|ipv6@]ADDR:PORT,
// ":PORT", "*:PORT", "[V6]:PORT"; a port range counts by its first port.
// Unix sockets and other families are skipped.
func bindEndpoint(addr string) (Endpoint, bool) {
	if i := strings.Index(addr, "@"); i >= 0 {
		switch addr[:i] {
		case "ipv4", "ipv6", "tcp", "tcp4", "tcp6":
			addr = addr[i+1:]
		default:
			return Endpoint{}, false
		}
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return Endpoint{}, false
	}
	host, ports := addr[:i], addr[i+1:]
	if p, _, ok := strings.Cut(ports, "-"); ok {
		ports = p
	}
	port, err := strconv.Atoi(ports)
	if err != nil || port < 1 || port > 65535 {
		return Endpoint{}, false
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "*" {
		host = ""
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return Endpoint{}, false
		}
	}
	return Endpoint{Scheme: "tcp", Host: localHost(host), Port: port}, true
}

// shellSingleQuoted quotes a constant script for embedding in another
// constant script. It is remote.Quote, applied to a constant of this
// package (never to user input).
func shellSingleQuoted(s string) string { return remote.Quote(s) }

func parseVerify(out string, endpoints []Endpoint) (VerifyResult, string, error) {
	var vr VerifyResult
	var procs strings.Builder
	result, end := "", false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := fmt.Errorf("malformed verification line %q", truncate(line, 200))
		switch f[0] {
		case "master", "worker":
			procs.WriteString(line + "\n")
		case "new":
			if len(f) != 2 {
				return vr, "", bad
			}
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return vr, "", bad
			}
			vr.New = append(vr.New, n)
		case "endpoint":
			if len(f) != 4 {
				return vr, "", bad
			}
			i, err := strconv.Atoi(f[1])
			if err != nil || i < 0 || i >= len(endpoints) {
				return vr, "", bad
			}
			if f[2] != "ok" {
				vr.Failed = append(vr.Failed, EndpointFailure{Endpoint: endpoints[i], Status: f[3]})
			}
		case "result":
			if len(f) != 2 {
				return vr, "", bad
			}
			result = f[1]
		case "end":
			end = true
		}
	}
	if !end || result == "" {
		return vr, "", fmt.Errorf("incomplete verification report %q", truncate(out, 500))
	}
	p, err := ParseProcesses(procs.String() + "end\n")
	if err != nil {
		return vr, "", err
	}
	vr.After = p
	sort.Ints(vr.New)
	return vr, result, nil
}

// listFilesScript lists the regular files in FilesDir (one name per line;
// nothing when it does not exist).
const listFilesScript = `
[ -d "$1" ] || exit 0
for f in "$1"/* "$1"/.[!.]*; do
  [ -f "$f" ] && [ ! -L "$f" ] && printf '%s\n' "${f##*/}"
done
exit 0
`

// ListFilesArgv lists the names of the files in FilesDir (see
// StaleFiles).
func ListFilesArgv() []string { return remote.Script(listFilesScript, FilesDir) }

// StaleFiles returns the paths under FilesDir that ListFilesArgv listed and
// that are support files of an earlier configuration (TLS bundles whose
// names follow Files' pattern), minus keep. The apply engine's own files
// next to them (candidates, backups, saved originals) are never listed.
func StaleFiles(listing string, keep []string) []string {
	var stale []string
	for _, name := range strings.Split(listing, "\n") {
		name = strings.TrimSpace(name)
		if !isBundleName(name) {
			continue
		}
		p := FilesDir + "/" + name
		if !slices.Contains(keep, p) {
			stale = append(stale, p)
		}
	}
	sort.Strings(stale)
	return stale
}

// isBundleName matches "<frontend>.<16 hex>.pem" as tlsBundlePath names it.
func isBundleName(name string) bool {
	if strings.Contains(name, ".foobar-") || !strings.HasSuffix(name, ".pem") {
		return false
	}
	stem := strings.TrimSuffix(name, ".pem")
	i := strings.LastIndexByte(stem, '.')
	if i < 1 || len(stem)-i-1 != 16 {
		return false
	}
	for _, c := range stem[i+1:] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return ValidateName(stem[:i]) == nil
}

// ReferencedFiles returns the support files under FilesDir that a
// configuration names (crt arguments of bind lines), in order of
// appearance, each once.
func ReferencedFiles(cfg []byte) []string {
	var out []string
	for _, line := range strings.Split(string(cfg), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "bind" {
			continue
		}
		for i := 1; i+1 < len(f); i++ {
			if f[i] == "crt" {
				p := path.Clean(f[i+1])
				if strings.HasPrefix(p, FilesDir+"/") && !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// BundleIntact reports whether the content hash a support file's name
// carries matches sha256hex, the checksum of the file found on the host:
// a bundle replaced by hand no longer matches its name.
func BundleIntact(p, sha256hex string) bool {
	name := path.Base(p)
	if !isBundleName(name) || len(sha256hex) < 16 {
		return false
	}
	stem := strings.TrimSuffix(name, ".pem")
	return stem[strings.LastIndexByte(stem, '.')+1:] == sha256hex[:16]
}

// Redacted is what Redact puts in place of a secret.
const Redacted = "<sensitive>"

// Redact returns cfg with every secret HAProxy can hold in the file
// replaced by Redacted: the password of "stats auth USER:PASSWORD" and the
// passwords of userlist "user NAME password|insecure-password X" lines.
// Everything else, including white space, is kept byte for byte, so a
// redacted view diffs line by line like the file. The result for a
// configuration without secrets is cfg itself.
func Redact(cfg []byte) []byte {
	lines := strings.SplitAfter(string(cfg), "\n")
	changed := false
	for i, line := range lines {
		if r, ok := redactLine(line); ok {
			lines[i], changed = r, true
		}
	}
	if !changed {
		return cfg
	}
	return []byte(strings.Join(lines, ""))
}

// redactLine replaces the secret word of one line, keeping the rest.
func redactLine(line string) (string, bool) {
	words, spans := wordSpans(line)
	if len(words) == 0 {
		return line, false
	}
	switch {
	case len(words) >= 3 && words[0] == "stats" && words[1] == "auth":
		s := spans[2]
		w := words[2]
		_, pw, ok := strings.Cut(w, ":")
		if !ok || pw == "" {
			return line, false
		}
		start := s[0] + strings.IndexByte(w, ':') + 1
		return line[:start] + Redacted + line[s[1]:], true
	case len(words) >= 2 && words[0] == "user":
		for i := 2; i+1 < len(words); i++ {
			if words[i] == "password" || words[i] == "insecure-password" {
				s := spans[i+1]
				return line[:s[0]] + Redacted + line[s[1]:], true
			}
		}
	}
	return line, false
}

// wordSpans splits a line at blanks (stopping at a '#' that starts a word)
// and returns each word with its byte span.
func wordSpans(line string) ([]string, [][2]int) {
	var words []string
	var spans [][2]int
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n') {
			i++
		}
		if i >= len(line) || line[i] == '#' {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' && line[j] != '\n' {
			j++
		}
		words = append(words, line[i:j])
		spans = append(spans, [2]int{i, j})
		i = j
	}
	return words, spans
}

// HasSecrets reports whether Redact would change cfg.
func HasSecrets(cfg []byte) bool {
	for _, line := range strings.SplitAfter(string(cfg), "\n") {
		if _, ok := redactLine(line); ok {
			return true
		}
	}
	return false
}

// ErrNotInstalled means the haproxy binary is not on the host.
var ErrNotInstalled = errors.New("HAProxy is not installed")

// ParseVersionOutput interprets the exit status and output of VersionArgv
// or BuildInfoArgv: ErrNotInstalled for exit status 127 (command not
// found), the version otherwise.
func ParseVersionOutput(exitStatus int, stdout, stderr string) (string, error) {
	if exitStatus == 127 {
		return "", ErrNotInstalled
	}
	v, err := ParseVersion(stdout)
	if err != nil {
		if exitStatus != 0 {
			return "", fmt.Errorf("haproxy -v exited with status %d: %s", exitStatus, truncate(strings.TrimSpace(stderr+stdout), 300))
		}
		return "", err
	}
	return v, nil
}

// cleanupScript removes the support file directory (everything in it
// belongs to the resource) and the record's directory when it is empty.
const cleanupScript = `
rm -rf -- "$1" || exit 1
rmdir -- "$2" 2>/dev/null
exit 0
`

// CleanupArgv removes FilesDir and the record's directory (when empty),
// for after the original configuration was restored: nothing the restored
// configuration uses lives there.
func CleanupArgv() []string {
	return remote.Script(cleanupScript, FilesDir, path.Dir(RecordPath))
}
