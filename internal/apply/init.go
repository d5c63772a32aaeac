// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Init is a host's service manager.
type Init string

// The service managers the engine knows.
const (
	Systemd  Init = "systemd"
	SysVinit Init = "sysvinit"
)

// Action is something a service manager does to a service.
type Action string

// Actions supported by Init.Argv.
const (
	ActionReload  Action = "reload"
	ActionRestart Action = "restart"
	ActionStart   Action = "start"
	ActionStop    Action = "stop"
	ActionEnable  Action = "enable"
	ActionDisable Action = "disable"
	// ActionStatus exits 0 when the service is running (systemctl
	// is-active, service NAME status).
	ActionStatus Action = "status"
	// ActionReloadOrStart makes a service load its current configuration
	// without a restart: a running service is reloaded (HAProxy and nginx
	// keep their listening sockets and open connections), a stopped one is
	// started (a reload of a stopped service fails, and a freshly installed
	// or stopped service must come up with the new configuration). systemd:
	// systemctl reload-or-restart; sysvinit: the init script's status, then
	// reload or start.
	ActionReloadOrStart Action = "reload-or-start"
	// ActionReloadIfRunning reloads a running service and leaves a stopped
	// one stopped (for giving a host back its own configuration: a service
	// the operator had stopped is not started by the provider). systemd:
	// systemctl try-reload-or-restart; sysvinit: the init script's status,
	// then reload or nothing.
	ActionReloadIfRunning Action = "reload-if-running"
)

var serviceRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9:_.@\\-]{0,254}$`)

// ValidateServiceName reports whether name can be handed to systemctl and
// service(8) as one service: no path separators, no leading '-', no spaces.
func ValidateServiceName(name string) error {
	if !serviceRE.MatchString(name) {
		return fmt.Errorf("invalid service name %q", name)
	}
	return nil
}

const failScript = `printf 'foobar: %s\n' "$1" >&2; exit 2`

// sysvEnableScript enables or disables a SysV service with whichever tool
// the distribution has. Arguments: service, enable|disable.
const sysvEnableScript = `
svc=$1 act=$2
if command -v update-rc.d >/dev/null 2>&1; then
  if [ "$act" = enable ]; then
    update-rc.d "$svc" defaults >/dev/null && exec update-rc.d "$svc" enable
    exit 1
  fi
  exec update-rc.d "$svc" disable
fi
if command -v chkconfig >/dev/null 2>&1; then
  if [ "$act" = enable ]; then exec chkconfig "$svc" on; fi
  exec chkconfig "$svc" off
fi
echo "foobar: neither update-rc.d nor chkconfig is installed; cannot $act $svc" >&2
exit 1
`

// reloadOrStartScript runs the reload command when the status command
// succeeds, the start command otherwise. Arguments: the status, reload and
// start argv, each as its word count followed by its words.
const reloadOrStartScript = remote.ShRunFirst + `
ns=$1
shift
if run_first "$ns" "$@" >/dev/null 2>&1; then active=1; else active=0; fi
shift "$ns"
nr=$1
shift
if [ "$active" = 1 ]; then run_first "$nr" "$@"; exit $?; fi
shift "$nr"
n=$1
shift
run_first "$n" "$@"
`

// reloadOrStartArgv runs reload when status succeeds, start otherwise (see
// reloadOrStartScript).
func reloadOrStartArgv(status, reload, start []string) []string {
	var args []string
	for _, a := range [][]string{status, reload, start} {
		args = append(args, strconv.Itoa(len(a)))
		args = append(args, a...)
	}
	return remote.Script(reloadOrStartScript, args...)
}

// Argv returns the command that performs action on service under this
// service manager. The service name must pass ValidateServiceName, the
// manager and action must be known; otherwise the returned command fails on
// the host with a message saying why (so callers can build argv without an
// error path and still never run something unintended).
func (i Init) Argv(action Action, service string) []string {
	if err := ValidateServiceName(service); err != nil {
		return remote.Script(failScript, err.Error())
	}
	switch i {
	case Systemd:
		switch action {
		case ActionReload, ActionRestart, ActionStart, ActionStop, ActionEnable, ActionDisable:
			return []string{"systemctl", string(action), "--", service}
		case ActionStatus:
			return []string{"systemctl", "is-active", "--quiet", "--", service}
		case ActionReloadOrStart:
			// A reload when the unit runs, a start when it does not.
			return []string{"systemctl", "reload-or-restart", "--", service}
		case ActionReloadIfRunning:
			return []string{"systemctl", "try-reload-or-restart", "--", service}
		}
	case SysVinit:
		switch action {
		case ActionReload, ActionRestart, ActionStart, ActionStop, ActionStatus:
			return []string{"service", service, string(action)}
		case ActionEnable, ActionDisable:
			return remote.Script(sysvEnableScript, service, string(action))
		case ActionReloadOrStart:
			return reloadOrStartArgv(i.Argv(ActionStatus, service), i.Argv(ActionReload, service), i.Argv(ActionStart, service))
		case ActionReloadIfRunning:
			return reloadOrStartArgv(i.Argv(ActionStatus, service), i.Argv(ActionReload, service), []string{"true"})
		}
	default:
		return remote.Script(failScript, fmt.Sprintf("unknown service manager %q", string(i)))
	}
	return remote.Script(failScript, fmt.Sprintf("unknown service action %q", string(action)))
}

// detectScript prints systemd, sysvinit or unknown. Arguments: the systemd
// runtime directory, the init.d directory, the systemctl and service
// commands (parameters so that tests can point them at fakes).
const detectScript = `
if [ -d "$1" ] && command -v "$3" >/dev/null 2>&1 && "$3" show -p Version >/dev/null 2>&1; then
  echo systemd
elif command -v "$4" >/dev/null 2>&1 || [ -d "$2" ]; then
  echo sysvinit
else
  echo unknown
fi
`

var defaultDetectArgs = []string{"/run/systemd/system", "/etc/init.d", "systemctl", "service"}

// initCache maps a Runner (when its dynamic value is comparable) to the Init
// detected on its host.
var initCache sync.Map

func cacheKey(r remote.Runner) (any, bool) {
	if r == nil {
		return nil, false
	}
	if !reflect.ValueOf(r).Comparable() {
		return nil, false
	}
	return r, true
}

func rememberInit(r remote.Runner, i Init) {
	if k, ok := cacheKey(r); ok {
		initCache.Store(k, i)
	}
}

// DetectInit returns the host's service manager: systemd when
// /run/systemd/system exists and systemctl can talk to it, otherwise
// sysvinit when service(8) or /etc/init.d exists. The answer is cached per
// Runner value (a Runner whose dynamic value is not comparable is asked
// every time); failures are not cached.
func DetectInit(ctx context.Context, r remote.Runner) (Init, error) {
	return detectInit(ctx, r, defaultDetectArgs)
}

func detectInit(ctx context.Context, r remote.Runner, args []string) (Init, error) {
	k, cacheable := cacheKey(r)
	if cacheable {
		if v, ok := initCache.Load(k); ok {
			return v.(Init), nil
		}
	}
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(detectScript, args...)})
	if err != nil {
		return "", fmt.Errorf("detecting the service manager: %w", hostErr(err))
	}
	var i Init
	switch out := strings.TrimSpace(string(res.Stdout)); out {
	case string(Systemd):
		i = Systemd
	case string(SysVinit):
		i = SysVinit
	default:
		return "", fmt.Errorf("no supported service manager on the host (neither systemd nor service/init.d): %q", out)
	}
	if cacheable {
		initCache.Store(k, i)
	}
	return i, nil
}
