// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// App is the application server behind a Site: one supervised process,
// listening on 127.0.0.1:Port, run by systemd (SystemdUnit) or, on hosts
// without systemd, by a sysvinit script (SysvScript).
//
// Attribute paths in validation errors start with "app." (app.command[0],
// app.environment["DB_DSN"]).
type App struct {
	// Name is used in the service name foobar-<name>, the environment file
	// and the log file. See ValidateSiteName.
	Name string
	// User and Group the process runs as; created if missing (see
	// EnsureUserArgv). Never root.
	User  string
	Group string
	// WorkingDir is the process's working directory, e.g. /opt/foobar/<name>.
	WorkingDir string
	// ArtifactPath is where the deployed artifact lives on the host, e.g.
	// /opt/foobar/<name>/bin/<file>. Usually Command[0], or an argument of it
	// (java -jar ARTIFACT).
	ArtifactPath string
	// Command is the argv of the process. Command[0] is an absolute path.
	// Each element is quoted for systemd in ExecStart and with remote.Quote
	// in the init script; see ValidateArg.
	Command []string
	// Environment holds the process's environment variables. Every value is
	// treated as a secret: it is written only into the root-owned 0600
	// environment file (EnvFile), never into the unit, the init script, an
	// argv or an error message.
	Environment map[string]string
	// Port is the loopback port the application listens on.
	Port int
	// HealthCheckPath is requested on http://127.0.0.1:Port to decide that
	// the application is up, e.g. "/healthz".
	HealthCheckPath string
	Restart         RestartPolicy
	// ReloadSignal, if set (e.g. "HUP"), is sent on reload; otherwise the
	// service has no reload and changes need a restart.
	ReloadSignal string
}

// RestartPolicy says when systemd restarts the application. The sysvinit
// script has no supervisor: there a crashed application stays down until
// someone runs its start action.
type RestartPolicy struct {
	// Mode is "no", "on-failure" or "always"; "" means "on-failure".
	Mode string
	// DelaySeconds is the pause before a restart (RestartSec), 0 to 3600.
	DelaySeconds int
}

func (r RestartPolicy) mode() string {
	if r.Mode == "" {
		return "on-failure"
	}
	return r.Mode
}

// Validate returns every problem with the application (fault.FieldErrors), or
// nil. Environment values are never quoted in messages.
func (a App) Validate() error {
	var c collector
	c.add("app.name", ValidateSiteName(a.Name))
	c.add("app.user", ValidateUserName(a.User))
	c.add("app.group", ValidateUserName(a.Group))
	c.add("app.working_dir", ValidatePath(a.WorkingDir))
	if a.WorkingDir == "/" {
		c.addf("app.working_dir", "path %q: the application needs a directory of its own", a.WorkingDir)
	}
	c.add("app.artifact_path", ValidatePath(a.ArtifactPath))
	if len(a.Command) == 0 {
		c.addf("app.command", "a command is required (its first element is the absolute path of the program)")
	}
	for i, arg := range a.Command {
		p := fmt.Sprintf("app.command[%d]", i)
		if i == 0 {
			// The program path also ends up unquoted in diagnostics and
			// must be absolute for systemd and start-stop-daemon.
			c.add(p, ValidatePath(arg))
			continue
		}
		c.add(p, ValidateArg(arg))
	}
	for _, k := range sortedKeys(a.Environment) {
		p := fmt.Sprintf("app.environment[%q]", k)
		if err := ValidateEnvName(k); err != nil {
			c.add(p, err)
			continue
		}
		c.add(p, ValidateEnvValue(a.Environment[k]))
	}
	c.add("app.port", ValidatePort(a.Port))
	c.add("app.health_check_path", ValidateHealthCheckPath(a.HealthCheckPath))
	switch a.Restart.Mode {
	case "", "no", "on-failure", "always":
	default:
		c.addf("app.restart.mode", "value %q must be \"no\", \"on-failure\" or \"always\"", a.Restart.Mode)
	}
	if a.Restart.DelaySeconds < 0 || a.Restart.DelaySeconds > 3600 {
		c.addf("app.restart.delay_seconds", "delay %d must be between 0 and 3600 seconds", a.Restart.DelaySeconds)
	}
	if a.ReloadSignal != "" {
		c.add("app.reload_signal", ValidateSignal(a.ReloadSignal))
	}
	return c.err()
}

// CheckPair checks what a Site and its App must agree on.
func CheckPair(s Site, a App) error {
	var c collector
	if s.AppPort != a.Port {
		c.addf("app.port", "the site proxies to port %d but the application listens on %d", s.AppPort, a.Port)
	}
	return c.err()
}

// HealthCheckURL is the URL the health check requests on the host.
func (a App) HealthCheckURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(a.Port) + a.HealthCheckPath
}

// Files returns the application's files, validated and rendered: the
// environment file (root:root 0600, Secret), the systemd unit and the
// sysvinit script. The apply step installs the unit or the script depending
// on the host's service manager, and the environment file in both cases.
func (a App) Files(o Options) ([]File, error) {
	env, err := a.EnvFile()
	if err != nil {
		return nil, err
	}
	unit, err := a.SystemdUnit(o)
	if err != nil {
		return nil, err
	}
	script, err := a.SysvScript(o)
	if err != nil {
		return nil, err
	}
	l := o.layout()
	return []File{
		{Path: l.EnvFilePath(a.Name), Content: env, Mode: 0o600, Owner: "root", Group: "root", Secret: true},
		{Path: l.UnitPath(a.Name), Content: unit, Mode: 0o644, Owner: "root", Group: "root"},
		{Path: l.InitScriptPath(a.Name), Content: script, Mode: 0o755, Owner: "root", Group: "root"},
	}, nil
}

// EnvFile renders the environment file, sorted by name. Each value is
// written as NAME="..." with '\\', '"', '$' and '`' escaped by a backslash.
// That is read identically by systemd's EnvironmentFile= parser (inside
// double quotes it removes the backslash before exactly these characters,
// and has since v240; older versions removed it before any character, which
// for these four gives the same result) and by a POSIX shell sourcing the
// file (double-quote rules: the same four characters, no expansion left).
// Values cannot contain newlines or other control characters (ValidateEnvValue).
func (a App) EnvFile() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(Header)
	// The comment is kept as it was (sourced with set -a, now by the
	// application's shell): changing it would restart every application.
	b.WriteString("# Environment of " + ServiceName(a.Name) + ". Read by systemd (EnvironmentFile=) and sourced by\n")
	b.WriteString("# the init script with set -a. Root only: values may be secrets.\n")
	for _, k := range sortedKeys(a.Environment) {
		b.WriteString(k + "=" + envQuote(a.Environment[k]) + "\n")
	}
	return b.Bytes(), nil
}

// envQuote double-quotes v for systemd's EnvironmentFile= and for sh.
func envQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		if strings.ContainsRune("\\\"$`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// systemdQuote renders one ExecStart word by systemd's rules
// (systemd.service(5) "Command lines", systemd.syntax(7) "Quoting"): a word
// of safe characters is written as is; any other word is double-quoted with
// '\\' and '"' backslash-escaped (C-style unescaping inside quotes), '%'
// doubled (specifier expansion happens regardless of quoting) and '$'
// doubled (environment substitution, also regardless of quoting). A quoted
// ";" is an argument, never the command separator.
func systemdQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+,=", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '%':
			b.WriteString("%%")
		case '$':
			b.WriteString("$$")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ExecStart renders Command for systemd's ExecStart=.
func (a App) ExecStart() string {
	words := make([]string, len(a.Command))
	for i, w := range a.Command {
		words[i] = systemdQuote(w)
	}
	return strings.Join(words, " ")
}

// hardening is the sandboxing the unit applies. Each of these needs at
// most a private mount namespace and a seccomp filter, which systemd can set
// up inside a Docker container that has CAP_SYS_ADMIN (our lab) as on a
// normal host. Left out on purpose: PrivateDevices= and ProtectClock= (they
// need device nodes or a device cgroup policy a container may not allow),
// PrivateUsers= and ProtectHostname= (user/UTS namespaces, often blocked by
// the container's seccomp profile), MemoryDenyWriteExecute= (breaks JIT
// runtimes such as Java and Node.js), SystemCallFilter= (depends on the
// application) and DynamicUser= (the user is managed explicitly).
var hardening = []string{
	"NoNewPrivileges=yes",
	"PrivateTmp=yes",
	"ProtectSystem=full",
	"ProtectHome=read-only",
	"ProtectKernelTunables=yes",
	"ProtectKernelModules=yes",
	"ProtectControlGroups=yes",
	"RestrictSUIDSGID=yes",
	"RestrictRealtime=yes",
	"LockPersonality=yes",
	"UMask=0027",
}

// SystemdUnit renders the service unit foobar-<name>.service.
func (a App) SystemdUnit(o Options) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	l := o.layout()
	var b bytes.Buffer
	b.WriteString(Header)
	b.WriteString("[Unit]\n")
	b.WriteString("Description=foobar application server " + a.Name + "\n")
	b.WriteString("After=network.target\n\n")
	b.WriteString("[Service]\n")
	b.WriteString("Type=simple\n")
	b.WriteString("User=" + a.User + "\n")
	b.WriteString("Group=" + a.Group + "\n")
	b.WriteString("WorkingDirectory=" + a.WorkingDir + "\n")
	b.WriteString("EnvironmentFile=" + l.EnvFilePath(a.Name) + "\n")
	b.WriteString("ExecStart=" + a.ExecStart() + "\n")
	if a.ReloadSignal != "" {
		b.WriteString("ExecReload=/bin/kill -s " + a.ReloadSignal + " $MAINPID\n")
	}
	b.WriteString("Restart=" + a.Restart.mode() + "\n")
	b.WriteString("RestartSec=" + strconv.Itoa(a.Restart.DelaySeconds) + "\n")
	b.WriteString("# Hardening that works on hosts and in containers with CAP_SYS_ADMIN.\n")
	for _, h := range hardening {
		b.WriteString(h + "\n")
	}
	b.WriteString("\n[Install]\n")
	b.WriteString("WantedBy=multi-user.target\n")
	return b.Bytes(), nil
}

// sysvTemplate is the init script. Placeholders @NAME@ etc. are replaced by
// values quoted with remote.Quote. The environment file is read only by
// the application's own shell, after start-stop-daemon has dropped to the
// application's user: its variables reach no root process, and cannot
// redirect the pid file, the user or the command.
const sysvTemplate = `#!/bin/sh
@HEADER@### BEGIN INIT INFO
# Provides:          @SERVICE@
# Required-Start:    $remote_fs $network $syslog
# Required-Stop:     $remote_fs $network $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: foobar application server @NAME@
# Description:       Runs @NAME@ as @USER@:@GROUP@ in the background. No
#                    supervision: unlike under systemd, a crashed process
#                    is not restarted. Output goes to @LOG@.
### END INIT INFO

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

do_start() {
	install -d -m 0755 @LOGDIR@ || return 1
	if [ ! -e @LOG@ ]; then
		install -m 0640 -o @USER@ -g @GROUP@ /dev/null @LOG@ || return 1
	fi
	# The environment file may hold secrets and stays root's (0600). Root
	# only opens it, as the standard input of start-stop-daemon, which
	# keeps it open (--no-close) through --chuid; the application's shell,
	# already running as @USER@, reads the variables from that descriptor
	# (eval, every assignment exported) and execs the application. No root
	# process ever runs with them (LD_PRELOAD, PATH ...), no argv shows them.
	/sbin/start-stop-daemon --start --quiet --oknodo --background --no-close \
		--make-pidfile --pidfile @PIDFILE@ --user @USER@ \
		--chuid @USER@:@GROUP@ --chdir @WORKDIR@ \
		--startas /bin/sh -- -c 'set -a; eval "$(cat)"; set +a; exec "$@" </dev/null >>"$0" 2>&1' @LOG@ \
		@ARGV@ <@ENVFILE@ >/dev/null
}

do_stop() {
	/sbin/start-stop-daemon --stop --quiet --oknodo --retry=TERM/30/KILL/5 \
		--pidfile @PIDFILE@ --user @USER@ --remove-pidfile
}

do_status() {
	/sbin/start-stop-daemon --status --pidfile @PIDFILE@ --user @USER@
}

case "$1" in
start)
	do_start || { echo "@SERVICE@: start failed" >&2; exit 1; }
	;;
stop)
	do_stop || { echo "@SERVICE@: stop failed" >&2; exit 1; }
	;;
restart|force-reload)
	do_stop || { echo "@SERVICE@: stop failed" >&2; exit 1; }
	do_start || { echo "@SERVICE@: start failed" >&2; exit 1; }
	;;
reload)
@RELOAD@	;;
status)
	do_status
	rc=$?
	case $rc in
	0) echo "@SERVICE@ is running" ;;
	1|3) echo "@SERVICE@ is not running" ;;
	*) echo "@SERVICE@: status unknown" ;;
	esac
	exit $rc
	;;
*)
	echo "Usage: $0 {start|stop|restart|force-reload|reload|status}" >&2
	exit 2
	;;
esac
exit 0
`

const sysvReloadSignal = `	/sbin/start-stop-daemon --stop --quiet --signal @SIGNAL@ --pidfile @PIDFILE@ --user @USER@ \
		|| { echo "@SERVICE@: not running" >&2; exit 7; }
`

const sysvReloadUnsupported = `	echo "@SERVICE@: reload is not supported; use restart" >&2
	exit 3
`

// SysvScript renders the sysvinit script /etc/init.d/foobar-<name> for hosts
// without systemd (start-stop-daemon from dpkg is required).
func (a App) SysvScript(o Options) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	l := o.layout()
	reload := sysvReloadUnsupported
	if a.ReloadSignal != "" {
		reload = sysvReloadSignal
	}
	script := strings.Replace(sysvTemplate, "@RELOAD@", reload, 1)
	logPath := l.AppLogPath(a.Name)
	r := strings.NewReplacer(
		"@HEADER@", Header,
		"@SERVICE@", ServiceName(a.Name),
		"@NAME@", a.Name,
		"@USER@", remote.Quote(a.User),
		"@GROUP@", remote.Quote(a.Group),
		"@LOGDIR@", remote.Quote(path.Dir(logPath)),
		"@LOG@", remote.Quote(logPath),
		"@ENVFILE@", remote.Quote(l.EnvFilePath(a.Name)),
		"@PIDFILE@", remote.Quote(l.PIDFilePath(a.Name)),
		"@WORKDIR@", remote.Quote(a.WorkingDir),
		"@SIGNAL@", a.ReloadSignal,
		"@ARGV@", remote.Join(a.Command),
	)
	return []byte(r.Replace(script)), nil
}

// ensureUserScript creates the group and the system user if missing. $1 is
// the user, $2 the group, $3 the home (working) directory.
const ensureUserScript = `set -e
getent group "$2" >/dev/null || groupadd --system "$2"
if ! getent passwd "$1" >/dev/null; then
	useradd --system --gid "$2" --home-dir "$3" --no-create-home --shell /usr/sbin/nologin "$1"
fi
install -d -o "$1" -g "$2" -m 0750 "$3"
`

// EnsureUserArgv returns the argv (run as root) that creates the
// application's group and user when missing and its working directory.
func (a App) EnsureUserArgv() []string {
	return remote.Script(ensureUserScript, a.User, a.Group, a.WorkingDir)
}
