// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package exporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// verifyScript fetches $1 until a line starts with $2, for up to $3
// seconds (an exporter takes a moment to bind after a restart). It prints
// the last error when it gives up.
const verifyScript = `
url=$1 want=$2 tries=$3
i=0
while [ "$i" -lt "$tries" ]; do
  if command -v curl >/dev/null 2>&1; then
    out=$(curl -fsS --max-time 3 "$url" 2>&1)
  else
    out=$(wget -q -T 3 -O - "$url" 2>&1)
  fi
  rc=$?
  if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q "^$want"; then exit 0; fi
  i=$((i+1))
  sleep 1
done
if [ "$rc" = 0 ]; then
  echo "$url answers, but without a line starting with \"$want\"" >&2
else
  printf '%s\n' "$out" | tail -n 3 >&2
fi
exit 1
`

// VerifyArgv checks, on the host, that the exporter answers with its
// ready metric.
func (c Config) VerifyArgv() []string {
	return remote.Script(verifyScript, c.MetricsURL(), c.ReadyMetric(), "15")
}

// Deployment is one exporter to set up on one host.
type Deployment struct {
	Host   string
	Config Config
	// StateDir overrides apply's state directory (tests).
	StateDir string
}

// Result is what Deploy left on the host.
type Result struct {
	// Checksums are the sha256 of the managed files by path.
	Checksums map[string]string
	Warnings  []string
}

func stepErr(step, summary string, err error, msg string) error {
	return &fault.StepError{Step: step, Summary: summary, Err: err, Msg: msg}
}

func (c Config) probeRequest() apply.ProbeRequest {
	req := apply.ProbeRequest{Services: []string{c.Service()}}
	for _, f := range c.Files() {
		req.Paths = append(req.Paths, f.Path)
	}
	if c.Kind == KindNginx {
		req.Paths = append(req.Paths, StubStatusConf)
		req.Services = append(req.Services, "nginx")
	}
	return req
}

func (c Config) verify(ctx context.Context, r remote.Runner) error {
	if _, err := r.Run(ctx, remote.Cmd{Argv: c.VerifyArgv()}); err != nil {
		return fmt.Errorf("%s does not answer at %s: %w", c.Package(), c.MetricsURL(), err)
	}
	return nil
}

// Deploy writes the exporter's configuration through the apply engine,
// enables its unit and (re)starts it when the configuration changed or it
// does not run, and verifies that it answers. For Nginx, the loopback
// stub_status server is applied first (validated with nginx -t, nginx
// reloaded, the status page checked).
func Deploy(ctx context.Context, r remote.Runner, d Deployment) (Result, error) {
	c := d.Config
	var res Result
	if err := c.Validate(); err != nil {
		return res, err
	}
	snap, err := apply.Probe(ctx, r, c.probeRequest())
	if err != nil {
		return res, stepErr("probe", "Exporter Error", err, fmt.Sprintf("could not inspect %s: %v. Nothing was changed.", d.Host, err))
	}
	if err := snap.SupportedSystem(); err != nil {
		return res, stepErr("probe", "Unsupported System", err, fmt.Sprintf("%s: %v. Nothing was changed.", d.Host, err))
	}
	svc := snap.Services[c.Service()]
	if svc.LoadState != "loaded" {
		return res, stepErr("probe", "Exporter Not Installed", errors.New(c.Package()+" is not installed"), fmt.Sprintf(
			"%s has no %s service: install the distribution's package (apt-get install %s). Nothing was changed.", d.Host, c.Service(), c.Package()))
	}
	res.Checksums = map[string]string{}
	if c.Kind == KindNginx {
		if !snap.Services["nginx"].Active() {
			return res, stepErr("probe", "Exporter Error", errors.New("nginx is not running"), fmt.Sprintf(
				"nginx does not run on %s: the nginx exporter reads its stub_status. Nothing was changed.", d.Host))
		}
		out, err := apply.Apply(ctx, r, apply.Change{
			Files:          []apply.File{{Path: StubStatusConf, Content: c.RenderStubStatus(), Owner: "root", Group: "root", Mode: 0o644}},
			Validate:       nginx.TestArgv(),
			ValidateFilter: nginx.FilterTestOutput,
			Reload:         snap.Init.Argv(apply.ActionReload, "nginx"),
			Verify: func(ctx context.Context, r remote.Runner) error {
				if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(verifyScript, c.StubStatusURL(), "Active connections", "10")}); err != nil {
					return fmt.Errorf("nginx's stub_status does not answer at %s: %w", c.StubStatusURL(), err)
				}
				return nil
			},
			Lock:     nginx.SiteLock,
			Host:     d.Host,
			StateDir: d.StateDir,
		})
		res.Warnings = append(res.Warnings, out.Warnings...)
		if err != nil {
			return res, err
		}
		maps.Copy(res.Checksums, out.Checksums)
	}
	if c.Kind == KindMySQL {
		if err := mysqlAccount(ctx, r, d.Host, c, false); err != nil {
			return res, err
		}
	}
	if _, err := r.Run(ctx, remote.Cmd{Argv: snap.Init.Argv(apply.ActionEnable, c.Service())}); err != nil {
		return res, stepErr("enable", "Exporter Error", err, fmt.Sprintf("enabling %s on %s failed: %v", c.Service(), d.Host, err))
	}
	out, err := apply.Apply(ctx, r, apply.Change{
		Files:        c.Files(),
		KeepOriginal: true,
		Reapply:      !svc.Active(),
		Reload:       snap.Init.Argv(apply.ActionRestart, c.Service()),
		Verify:       c.verify,
		Lock:         c.lock(),
		Host:         d.Host,
		StateDir:     d.StateDir,
	})
	res.Warnings = append(res.Warnings, out.Warnings...)
	if err != nil {
		if !svc.Active() {
			// It did not run before this apply: leave it stopped and
			// disabled, as it was, rather than running on the package's
			// defaults (the engine has put the previous file back).
			for _, a := range []apply.Action{apply.ActionStop, apply.ActionDisable} {
				_, _ = r.Run(ctx, remote.Cmd{Argv: snap.Init.Argv(a, c.Service())})
			}
			resetFailed(ctx, r, snap.Init, c.Service())
		}
		return res, err
	}
	maps.Copy(res.Checksums, out.Checksums)
	return res, nil
}

// lock is the host lock of this kind's files (apply.Change.Lock).
func (c Config) lock() string { return "foobar-exporter-" + c.Kind }

// resetFailed clears systemd's "failed" state that some exporters leave by
// exiting non-zero on SIGTERM: the stop was asked for.
func resetFailed(ctx context.Context, r remote.Runner, i apply.Init, service string) {
	if i == apply.Systemd {
		_, _ = r.Run(ctx, remote.Cmd{Argv: []string{"systemctl", "reset-failed", "--", service}})
	}
}

// Inspection is the exporter as Inspect found it.
type Inspection struct {
	// Installed is false when the package's unit is missing.
	Installed bool
	// Running is set when the unit is active.
	Running bool
	// Checksums are the sha256 of the managed files that exist.
	Checksums map[string]string
}

// Inspect reads the managed files and the unit in one round trip.
func Inspect(ctx context.Context, r remote.Runner, host string, c Config) (Inspection, error) {
	snap, err := apply.Probe(ctx, r, c.probeRequest())
	if err != nil {
		return Inspection{}, stepErr("inspect", "Read Exporter Error", err, fmt.Sprintf("inspecting %s on %s: %v", c.Package(), host, err))
	}
	svc := snap.Services[c.Service()]
	ins := Inspection{Installed: svc.LoadState == "loaded", Running: svc.Active(), Checksums: map[string]string{}}
	for p, f := range snap.Files {
		if f.Exists && f.Kind == apply.KindFile {
			ins.Checksums[p] = f.SHA256
		}
	}
	return ins, nil
}

// Remove stops and disables the exporter, gives the package's own
// /etc/default file back, and removes the nginx status server.
func Remove(ctx context.Context, r remote.Runner, d Deployment) error {
	c := d.Config
	snap, err := apply.Probe(ctx, r, c.probeRequest())
	if err != nil {
		return stepErr("probe", "Remove Exporter Error", err, fmt.Sprintf("could not inspect %s: %v", d.Host, err))
	}
	if snap.Services[c.Service()].LoadState == "loaded" {
		for _, a := range []apply.Action{apply.ActionStop, apply.ActionDisable} {
			if _, err := r.Run(ctx, remote.Cmd{Argv: snap.Init.Argv(a, c.Service())}); err != nil {
				return stepErr("remove", "Remove Exporter Error", err, fmt.Sprintf("%s %s on %s failed: %v", a, c.Service(), d.Host, err))
			}
		}
		resetFailed(ctx, r, snap.Init, c.Service())
	}
	if c.Kind == KindMySQL {
		ch := apply.Change{Remove: []string{MySQLCnfPath}, Lock: c.lock(), Host: d.Host, StateDir: d.StateDir}
		if _, err := apply.Apply(ctx, r, ch); err != nil {
			return err
		}
		if err := mysqlAccount(ctx, r, d.Host, c, true); err != nil {
			return err
		}
	}
	if err := apply.RestoreOriginal(ctx, r, apply.Restore{
		Paths: []string{c.DefaultsPath()}, Lock: c.lock(), Host: d.Host, StateDir: d.StateDir,
	}); err != nil {
		return err
	}
	if c.Kind == KindNginx {
		ch := apply.Change{Remove: []string{StubStatusConf}, Lock: nginx.SiteLock, Host: d.Host, StateDir: d.StateDir}
		if snap.Services["nginx"].Active() {
			ch.Validate, ch.ValidateFilter = nginx.TestArgv(), nginx.FilterTestOutput
			ch.Reload = snap.Init.Argv(apply.ActionReload, "nginx")
		}
		if _, err := apply.Apply(ctx, r, ch); err != nil {
			return err
		}
	}
	return nil
}

// Drift lists what differs on the host from the recorded checksums, for
// the plan: empty when nothing does.
func (ins Inspection) Drift(c Config, recorded map[string]string) []string {
	var out []string
	if !ins.Installed {
		return []string{c.Package() + " is not installed"}
	}
	if !ins.Running {
		out = append(out, c.Service()+" is not running")
	}
	for p, want := range recorded {
		got, ok := ins.Checksums[p]
		switch {
		case !ok:
			out = append(out, p+" is missing")
		case got != want:
			out = append(out, p+" was changed outside Terraform")
		}
	}
	sort.Strings(out)
	return out
}

// mysqlAccount creates (or, with drop, removes) the mysqld exporter's
// account on the host's own server, outside the binary log: each member of
// a cluster gets its own, and a replica gains no transaction of its own.
// The SQL, password included, goes on the client's stdin.
func mysqlAccount(ctx context.Context, r remote.Runner, host string, c Config, drop bool) error {
	srv, err := mysql.DetectServer(ctx, r)
	if err != nil {
		return stepErr("account", "Exporter Error", err, fmt.Sprintf("could not reach the MySQL server on %s for the exporter's account: %v", host, err))
	}
	d, err := mysql.NewDialect(srv.Flavor, srv.Version)
	if err != nil {
		return stepErr("account", "Exporter Error", err, fmt.Sprintf("%s: %v", host, err))
	}
	a := mysql.Account{User: c.User(), Host: "localhost"}
	stmts := d.ExporterAccount(a, c.MySQLPassword)
	if drop {
		stmts = d.DropExporterAccount(a)
	}
	// On MySQL the statements lift super_read_only for themselves when it
	// is ON (a replica) and put it back in the same session, even after a
	// failure (mysql.LiftSuperReadOnly). Node.Exec scrubs the secret
	// statements' password from the error.
	n := mysql.Node{Host: host, Runner: r, Dialect: d}
	if err := n.Exec(ctx, d.ExporterScriptOptions(), stmts...); err != nil {
		what := "setting up"
		if drop {
			what = "dropping"
		}
		msg := fmt.Sprintf("%s the exporter's account %s on %s failed: %v", what, a, host, err)
		if n.SuperReadOnlyLeftOff(ctx) {
			msg += fmt.Sprintf(". super_read_only is OFF on %s while read_only is ON: putting it back failed too. "+
				"Turn it on (SET GLOBAL super_read_only = ON) if %s is a replica", host, host)
		}
		return stepErr("account", "Exporter Error", err, msg)
	}
	return nil
}
