// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package keepalived

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Packages is keepalived's package (the same name on Debian, Ubuntu and
// the RHEL family).
var Packages = []string{"keepalived"}

// ErrNotInstalled means the keepalived binary is not on the host.
var ErrNotInstalled = errors.New("keepalived is not installed")

// ValidateArgv checks a keepalived configuration file without touching
// the running daemon (keepalived --config-test, 2.0.11 and newer).
func ValidateArgv(path string) []string {
	return []string{"keepalived", "--config-test", "--use-file", path}
}

// statusScript prints, for the virtual address $1 (ADDR/LEN):
//
//	installed 0|1
//	running 0|1      a keepalived process runs
//	vip 0|1          the address is on one of this host's interfaces
//	end
const statusScript = `
vip=$1
if command -v keepalived >/dev/null 2>&1 || [ -x /usr/sbin/keepalived ]; then echo "installed 1"; else echo "installed 0"; fi
r=0
for c in /proc/[0-9]*/comm; do
  if [ "$(cat "$c" 2>/dev/null)" = keepalived ]; then r=1; break; fi
done
echo "running $r"
v=0
addr=${vip%/*}
if command -v ip >/dev/null 2>&1; then
  ip -o addr show 2>/dev/null | awk -v a="$vip" '$4 == a { f = 1 } END { exit !f }' && v=1
elif [ -r /proc/net/fib_trie ]; then
  awk -v a="$addr" '$2 == a { getline; if ($0 ~ /host LOCAL/) f = 1 } END { exit !f }' /proc/net/fib_trie && v=1
fi
echo "vip $v"
echo end
`

// StatusArgv prints the status of keepalived and vip (see ParseStatus).
func StatusArgv(vip netip.Prefix) []string { return remote.Script(statusScript, vip.String()) }

// Status is keepalived on one member as StatusArgv found it.
type Status struct {
	Installed bool
	Running   bool
	// HoldsVIP is set when the virtual address is on this member.
	HoldsVIP bool
}

// ParseStatus parses StatusArgv's output.
func ParseStatus(out string) (Status, error) {
	var s Status
	got := map[string]bool{}
	end := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "end" {
			end = true
			continue
		}
		if len(f) != 2 || (f[1] != "0" && f[1] != "1") {
			return Status{}, fmt.Errorf("malformed keepalived status line %q", sc.Text())
		}
		v := f[1] == "1"
		switch f[0] {
		case "installed":
			s.Installed = v
		case "running":
			s.Running = v
		case "vip":
			s.HoldsVIP = v
		default:
			continue
		}
		got[f[0]] = true
	}
	if !end || len(got) != 3 {
		return Status{}, fmt.Errorf("incomplete keepalived status %q", out)
	}
	return s, nil
}

// VRRP states as the notify helper records them, and Stopped when
// keepalived does not run.
const (
	StateMaster  = "MASTER"
	StateBackup  = "BACKUP"
	StateFault   = "FAULT"
	StateStopped = "STOPPED"
	StateUnknown = "UNKNOWN"
)

// ProbeRequest is what Observe needs, for the caller to merge into its
// own one-round-trip probe of the host.
func ProbeRequest(vip netip.Prefix) apply.ProbeRequest {
	return apply.ProbeRequest{
		Content:  []string{ConfigPath, StatePath, CheckScriptPath},
		Commands: [][]string{StatusArgv(vip)},
	}
}

// Observed is keepalived on one member.
type Observed struct {
	Status
	// ConfigSHA256 is the sha256 of keepalived.conf ("" when missing);
	// ScriptIntact is set when the check helper is as CheckScript.
	ConfigSHA256 string
	ScriptIntact bool
	// State is the VRRP state (StateMaster, StateBackup, StateFault;
	// StateStopped when keepalived does not run; StateUnknown before its
	// first transition).
	State string
}

// Observe reads snap (files and the command of ProbeRequest; cmd is the
// output of its one command).
func Observe(files map[string]apply.FileInfo, cmd apply.CommandOutput) (Observed, error) {
	var o Observed
	st, err := ParseStatus(string(cmd.Stdout))
	if err != nil {
		return o, err
	}
	o.Status = st
	if f := files[ConfigPath]; f.Exists && f.Kind == apply.KindFile {
		o.ConfigSHA256 = f.SHA256
	}
	if f := files[CheckScriptPath]; f.Exists && f.Kind == apply.KindFile && string(f.Content) == CheckScript {
		o.ScriptIntact = true
	}
	o.State = StateUnknown
	if f := files[StatePath]; f.Exists {
		switch s := strings.TrimSpace(string(f.Content)); s {
		case StateMaster, StateBackup, StateFault:
			o.State = s
		}
	}
	if !st.Running {
		o.State = StateStopped
	}
	return o, nil
}

// Drift says what differs on the host from the configuration whose
// sha256 is want; "" when nothing does.
func (o Observed) Drift(want string) string {
	switch {
	case !o.Installed:
		return "keepalived is not installed"
	case o.ConfigSHA256 == "":
		return "keepalived.conf is missing"
	case o.ConfigSHA256 != want:
		return "keepalived.conf was changed on the host"
	case !o.ScriptIntact:
		return "the HAProxy check helper was changed on the host"
	case !o.Running:
		return "keepalived is not running"
	}
	return ""
}

// Deployment is keepalived on one member.
type Deployment struct {
	Config Config
	// Install installs keepalived when it is missing.
	Install bool
	// Host names the host in messages.
	Host string
	// SettleTimeout bounds the wait for the VRRP instance to settle in
	// MASTER or BACKUP after the reload (default from the timers).
	SettleTimeout time.Duration
}

// settle is how long a new instance needs at most to leave its initial
// state: the tracked check to rise, then three adverts and the skew.
func (d Deployment) settle() time.Duration {
	if d.SettleTimeout > 0 {
		return d.SettleTimeout
	}
	c := d.Config
	return time.Duration(orInt(c.CheckRise, DefaultCheckRise)+1)*c.checkInterval() + 4*c.advert() + 10*time.Second
}

// verifyScript waits until keepalived runs and the helper recorded MASTER
// or BACKUP (a FAULT means the HAProxy check fails). Arguments: timeout
// in seconds, state file. Output: "result ok|not-running|fault|unsettled
// STATE".
const verifyScript = `
deadline=$(( $(date +%s) + $1 ))
st=
while :; do
  r=0
  for c in /proc/[0-9]*/comm; do
    if [ "$(cat "$c" 2>/dev/null)" = keepalived ]; then r=1; break; fi
  done
  st=$(cat "$2" 2>/dev/null)
  if [ "$r" = 1 ]; then
    case $st in MASTER|BACKUP) echo "result ok $st"; exit 0 ;; esac
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    if [ "$r" = 0 ]; then echo "result not-running -"; exit 0; fi
    if [ "$st" = FAULT ]; then echo "result fault FAULT"; exit 0; fi
    echo "result unsettled ${st:--}"; exit 0
  fi
  sleep 0.2
done
`

// Verifier returns the engine's verification: keepalived runs and its
// instance settled in MASTER or BACKUP.
func Verifier(timeout time.Duration) func(context.Context, remote.Runner) error {
	return func(ctx context.Context, r remote.Runner) error {
		secs := int((timeout + time.Second - 1) / time.Second)
		res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(verifyScript, strconv.Itoa(secs), StatePath)})
		if err != nil {
			return fmt.Errorf("checking keepalived after the reload: %w", err)
		}
		f := strings.Fields(strings.TrimSpace(string(res.Stdout)))
		if len(f) != 3 || f[0] != "result" {
			return fmt.Errorf("unexpected keepalived verification output %q", string(res.Stdout))
		}
		switch f[1] {
		case "ok":
			return nil
		case "not-running":
			return fmt.Errorf("keepalived is not running after the reload (see journalctl -u keepalived)")
		case "fault":
			return fmt.Errorf("keepalived runs but its VRRP instance is in FAULT after %s: the HAProxy check (%s) fails or the interface is down", timeout, CheckScriptPath)
		}
		return fmt.Errorf("keepalived's VRRP instance did not settle in MASTER or BACKUP within %s (state %s)", timeout, f[2])
	}
}

// Deploy renders d's configuration and the check helper and applies them
// through the engine: candidates next to the live files, keepalived
// --config-test with both in place (in a private mount namespace, before
// any live change), backup, atomic swap, reload (SIGHUP: the address
// stays where it is), verification (keepalived runs and settles in MASTER
// or BACKUP), rollback on failure. keepalived is installed first when it
// is missing and d.Install allows it. A stopped keepalived with unchanged
// files is started (Reapply).
func Deploy(ctx context.Context, r remote.Runner, d Deployment) (apply.Outcome, error) {
	rendered, err := d.Config.Render()
	if err != nil {
		return apply.Outcome{}, err
	}
	snap, err := apply.Probe(ctx, r, apply.ProbeRequest{Commands: [][]string{StatusArgv(d.Config.VirtualIP)}})
	if err != nil {
		return apply.Outcome{}, fmt.Errorf("could not inspect %s before applying keepalived: %w; nothing was changed", d.Host, err)
	}
	if err := snap.SupportedSystem(); err != nil {
		return apply.Outcome{}, fmt.Errorf("%s: %w; nothing was changed", d.Host, err)
	}
	st, err := ParseStatus(string(snap.Commands[0].Stdout))
	if err != nil {
		return apply.Outcome{}, err
	}
	if !st.Installed {
		if !d.Install {
			return apply.Outcome{}, fmt.Errorf("%w on %s and install = false; install it (apt-get install keepalived) or set install = true; nothing was changed", ErrNotInstalled, d.Host)
		}
		if err := apply.InstallPackages(ctx, r, Packages); err != nil {
			return apply.Outcome{}, fmt.Errorf("installing keepalived on %s failed: %w; keepalived's configuration was not changed", d.Host, err)
		}
	}
	init := snap.Init
	if init != apply.SysVinit {
		init = apply.Systemd
	}
	out, err := apply.Apply(ctx, r, apply.Change{
		Files: []apply.File{
			{Path: CheckScriptPath, Content: []byte(CheckScript), Owner: "root", Group: "root", Mode: CheckScriptMode},
			{Path: ConfigPath, Content: rendered, Owner: "root", Group: "root", Mode: ConfigMode},
		},
		Validate:     ValidateArgv(ConfigPath),
		Reload:       init.Argv(apply.ActionReloadOrStart, ServiceName),
		Verify:       Verifier(d.settle()),
		Reapply:      !st.Running,
		KeepOriginal: true,
		Lock:         LockName,
		Host:         d.Host,
	})
	if err != nil {
		return out, err
	}
	// Started again after a reboot (Debian enables the unit on install,
	// a host set up otherwise may not have).
	if _, err := r.Run(ctx, remote.Cmd{Argv: init.Argv(apply.ActionEnable, ServiceName)}); err != nil {
		out.Warnings = append(out.Warnings, fmt.Sprintf("keepalived runs the new configuration on %s, but enabling its service (so it starts at boot) failed: %s", d.Host, err))
	}
	return out, nil
}

// Remove gives the host back the files found before the first Deploy
// and stops keepalived when no configuration was there before (the
// address leaves this member; a peer takes it). When there was one, a
// running keepalived reloads it and a stopped one is not started.
func Remove(ctx context.Context, r remote.Runner, host string) error {
	snap, err := apply.Probe(ctx, r, apply.ProbeRequest{Paths: []string{ConfigPath + ".foobar-orig-none"}})
	if err != nil {
		return err
	}
	init := snap.Init
	if init != apply.SysVinit {
		init = apply.Systemd
	}
	// The host's own configuration comes back: a running keepalived
	// loads it, a stopped one (stopped by the operator) stays stopped.
	reload := init.Argv(apply.ActionReloadIfRunning, ServiceName)
	none := snap.Files[ConfigPath+".foobar-orig-none"].Exists
	if none {
		reload = init.Argv(apply.ActionStop, ServiceName)
	}
	if err := apply.RestoreOriginal(ctx, r, apply.Restore{
		Paths:  []string{ConfigPath, CheckScriptPath},
		Reload: reload,
		Lock:   LockName,
		Host:   host,
	}); err != nil {
		return err
	}
	if none {
		if _, err := r.Run(ctx, remote.Cmd{Argv: init.Argv(apply.ActionDisable, ServiceName)}); err != nil {
			return fmt.Errorf("keepalived's files were restored and it was stopped on %s, but disabling its service failed: %w", host, err)
		}
	}
	return nil
}
