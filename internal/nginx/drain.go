// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// DrainStatusPath is the loopback-only stub_status location of a drained
// site: nginx's requests in flight ("Writing").
const DrainStatusPath = "/.foobar-drain-status"

// DrainFlagPath is the flag file that makes a site's health check answer
// 503: <run dir>/foobar-drain/<name> (on tmpfs: a reboot clears it). Its
// directory is world-searchable (0755), for nginx's workers to stat the
// flag; it is not under /run/foobar, which the firewall keeps 0700.
func DrainFlagPath(l Layout, name string) string {
	return path.Join(l.withDefaults().RunDir, "foobar-drain", name)
}

// DrainLogPath is the log of the health checks a drained site answered
// with 503: "ADDRESS STATUS" per check, written only while drained (in
// nginx's log directory, which exists when nginx starts and which
// logrotate rotates).
func DrainLogPath(l Layout, name string) string {
	return path.Join(l.withDefaults().NginxLogDir, "foobar-"+name+".drain.log")
}

// DrainLogFormat is the name of the site's log_format for DrainLogPath
// (one per site: nginx refuses a name defined twice).
func DrainLogFormat(name string) string { return "foobar_drain_" + name }

// Drain is how a restart of the application leaves the load balancers'
// rotation first and comes back only when healthy. The load balancers
// check the application's health check path through nginx every Interval;
// Fall failed checks take the server out, Rise passed checks put it back.
type Drain struct {
	Interval   time.Duration
	Fall, Rise int
	// InFlightTimeout bounds the wait for requests in flight once the
	// server is out of rotation.
	InFlightTimeout time.Duration
}

// OutWait is how long the health check answers 503 before the load
// balancers have surely taken the server out: Fall checks, plus one
// interval because the checks are not aligned with the start of the drain.
func (d Drain) OutWait() time.Duration { return d.Interval * time.Duration(d.Fall+1) }

// InWait is how long after the flag is removed the load balancers have
// surely put the server back: Rise checks plus one interval.
func (d Drain) InWait() time.Duration { return d.Interval * time.Duration(d.Rise+1) }

// Validate checks the settings.
func (d Drain) Validate() error {
	var c collector
	if d.Interval < 100*time.Millisecond || d.Interval > time.Minute {
		c.addf("drain.health_check_interval", "interval %s must be between 100ms and 1m", d.Interval)
	}
	if d.Fall < 1 || d.Fall > 100 {
		c.addf("drain.fall", "fall %d must be between 1 and 100", d.Fall)
	}
	if d.Rise < 1 || d.Rise > 100 {
		c.addf("drain.rise", "rise %d must be between 1 and 100", d.Rise)
	}
	if d.InFlightTimeout < 0 || d.InFlightTimeout > time.Hour {
		c.addf("drain.in_flight_timeout", "timeout %s must be between 0s and 1h", d.InFlightTimeout)
	}
	return c.err()
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// drainRestartScript drains the site, then runs the restart command: it
// creates the flag (the health check answers 503 and is logged to the
// drain log), waits at least OutWait, and then until every address that
// checked the site since the flag was created has been answered 503 Fall
// times (each load balancer has then taken the server out, whatever its
// checks' delays; a checker slower than OutWait is waited for instead of
// guessed), bounded by the cap; then until nginx has no request in
// flight but the status request itself (bounded), then execs the
// command. Arguments: flag, out wait (s), in-flight limit (s), status
// URL, Host header, drain log, fall, cap (s), then the restart argv.
const drainRestartScript = `
flag=$1 out=$2 limit=$3 url=$4 host=$5 log=$6 fall=$7 cap=$8
shift 8
off=$(wc -c < "$log" 2>/dev/null) || off=0
d=$(dirname -- "$flag")
mkdir -p -- "$d" && chmod 755 -- "$d" && : > "$flag" || { echo "foobar: cannot create the drain flag $flag" >&2; exit 1; }
sleep "$out"
end=$(( $(date +%s) + ${cap%.*} ))
while :; do
  seen=$(tail -c +$((off + 1)) "$log" 2>/dev/null | awk -v f="$fall" '
    $2 == 503 { c[$1]++ }
    END { n = 0; ok = 1; for (a in c) { n++; if (c[a] < f) ok = 0 }; if (n == 0) print "none"; else if (ok) print "out"; else print "wait" }')
  [ "$seen" = out ] && break
  if [ "$(date +%s)" -ge "$end" ]; then
    if [ "$seen" = none ]; then echo "foobar: no load balancer checked the site during the drain; restarting" >&2
    else echo "foobar: not every load balancer saw $fall failed checks within ${cap}s more; restarting anyway" >&2; fi
    break
  fi
  sleep 0.1
done
end=$(( $(date +%s) + ${limit%.*} ))
while :; do
  if command -v curl >/dev/null 2>&1; then
    st=$(curl -s -k -m 2 -H "Host: $host" "$url")
  else
    st=$(wget -q -T 2 -O - --no-check-certificate --header "Host: $host" "$url")
  fi
  w=$(printf '%s\n' "$st" | sed -n 's/.*Writing: \([0-9]*\).*/\1/p')
  if [ -z "$w" ]; then echo "foobar: cannot read nginx's status at $url; not waiting for requests in flight" >&2; break; fi
  [ "$w" -le 1 ] && break
  if [ "$(date +%s)" -ge "$end" ]; then echo "foobar: $((w-1)) requests still in flight after ${limit}s; restarting anyway" >&2; break; fi
  sleep 0.05
done
exec "$@"
`

// OutCap bounds the wait, after OutWait, for every checker to have seen
// Fall failed checks: twice OutWait and 5 s (a site that no load
// balancer checks waits that long).
func (d Drain) OutCap() time.Duration { return 2*d.OutWait() + 5*time.Second }

// siteBase is where the drain reaches the site's main server block on the
// host: its plain port, or its TLS port when plain HTTP only redirects.
func siteBase(s Site) string {
	if s.TLS != nil && s.TLS.RedirectHTTP {
		return "https://127.0.0.1:" + strconv.Itoa(s.TLS.Port)
	}
	return "http://127.0.0.1:" + strconv.Itoa(s.ListenPort)
}

// drainRestartArgv wraps restart in the drain.
func drainRestartArgv(d Drain, s Site, l Layout, restart []string) []string {
	url := siteBase(s) + DrainStatusPath
	args := []string{DrainFlagPath(l, s.Name), secs(d.OutWait()), secs(d.InFlightTimeout), url, VerifyHostName(s.ServerNames),
		DrainLogPath(l, s.Name), strconv.Itoa(d.Fall), secs(d.OutCap())}
	return remote.Script(drainRestartScript, append(args, restart...)...)
}

// undrainScript removes the flag; when it existed, waits until the health
// check answers 200 through nginx (bounded), then InWait for the load
// balancers to put the server back. Arguments: flag, health URL, Host
// header, in wait (s), limit (s).
const undrainScript = httpStatusFunc + `
flag=$1 url=$2 host=$3 in=$4 limit=$5
[ -e "$flag" ] || exit 0
rm -f -- "$flag" || exit 1
end=$(( $(date +%s) + ${limit%.*} ))
while :; do
  code=$(status "$url" "$host")
  case "$code" in 2??) break ;; esac
  if [ "$(date +%s)" -ge "$end" ]; then echo "foobar: the health check $url answers $code after the drain ended; the load balancers keep the server out" >&2; exit 1; fi
  sleep 0.1
done
sleep "$in"
`

// undrain puts the site back into rotation (see undrainScript).
func undrain(ctx context.Context, r remote.Runner, d Drain, s Site, hp string, l Layout, limit time.Duration) error {
	url := siteBase(s) + hp
	_, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(undrainScript, DrainFlagPath(l, s.Name), url, VerifyHostName(s.ServerNames), secs(d.InWait()), secs(limit))})
	if err != nil {
		return fmt.Errorf("ending the drain of %s: %w", s.Name, scriptErr(err))
	}
	return nil
}

// drainedRestart is the application's restart command for Deploy: the
// drain around it when the deployment has one, the site drains, and the
// application runs (a stopped one has nothing to drain).
func drainedRestart(d Deployment, init apply.Init, running bool) ([]string, bool) {
	restart := AppRestartArgv(init, d.App.Name, d.Layout)
	if d.Drain == nil || d.Site.DrainHealthPath == "" || !running {
		return restart, false
	}
	return drainRestartArgv(*d.Drain, d.Site, d.Layout, restart), true
}
