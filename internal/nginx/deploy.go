// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Defaults of the remote steps.
const (
	DefaultHealthTimeout = 60 * time.Second
	DefaultVerifyTimeout = 20 * time.Second
	// SiteLock serialises every change of nginx's configuration on a host
	// (all sites share one nginx -t and one reload).
	SiteLock = "nginx"
	// appLogLines is how much of the application's log an error shows.
	appLogLines = 25
)

// Static file ownership and modes in the document root: readable by the
// nginx workers, writable only by root.
const (
	StaticFileMode fs.FileMode = 0o644
	StaticDirMode  fs.FileMode = 0o755
)

// NginxConfPath is nginx's main configuration file.
func (l Layout) NginxConfPath() string { return path.Join(l.withDefaults().NginxDir, "nginx.conf") }

// NginxPIDFile is where the nginx master writes its PID (Debian: /run/nginx.pid).
func (l Layout) NginxPIDFile() string { return path.Join(l.withDefaults().RunDir, "nginx.pid") }

// DefaultSiteLink is Debian's sites-enabled/default link to
// sites-available/default.
func (l Layout) DefaultSiteLink() Link {
	d := l.withDefaults().NginxDir
	return Link{Path: path.Join(d, "sites-enabled", "default"), Target: path.Join(d, "sites-available", "default")}
}

// Deployment is everything one foobar_web_server puts on a host: the
// nginx site, the static files of its document root, the application
// server and the record Remove and import read back.
type Deployment struct {
	Site Site
	App  App
	// Artifact is the content of App.ArtifactPath.
	Artifact []byte
	// Static, when not nil, is the content the document root must hold
	// (relative path -> bytes): files that differ are sent; files that an
	// earlier Deploy put there and that are no longer in Static are
	// removed; anything else in the document root is left alone
	// (apply.SyncDir with the record StaticRecordPath). Nil leaves the
	// document root alone.
	Static map[string][]byte
	// DisableDefaultSite removes Debian's sites-enabled/default link (put
	// back by Remove, or by a later Deploy without it).
	DisableDefaultSite bool
	// Install installs nginx with apt-get when it is
	// missing (apply.InstallPackages).
	Install bool
	// Drain, when set (with Site.DrainHealthPath), takes the server out of
	// the load balancers' rotation before a running application restarts
	// and puts it back once it is healthy (see drainRestartScript).
	Drain *Drain
	// HealthTimeout bounds the wait for the application's health check
	// after a (re)start; VerifyTimeout the wait for nginx to serve the
	// site after a reload.
	HealthTimeout time.Duration
	VerifyTimeout time.Duration
	Layout        Layout
	// StateDir is the engine's state directory (default /var/lib/foobar).
	StateDir string
	// Host names the host in messages.
	Host string
	// Model is the caller's non-secret configuration, kept in Meta.Model.
	Model []byte
}

// Result is what Deploy did.
type Result struct {
	Init         apply.Init
	NginxVersion string
	// NginxInstalled is true when this Deploy installed nginx.
	NginxInstalled bool
	// AppChanged lists the application files written; AppRestarted says the
	// application was restarted (or started) and passed its health check.
	AppChanged   []string
	AppRestarted bool
	// Drained says the restart was drained (out of rotation first, back
	// when healthy).
	Drained bool
	// Synced is true when the document root was synced; Sync says what it
	// took.
	Synced bool
	Sync   apply.SyncStats
	// SiteChanged lists the site paths written or removed; SiteReloaded
	// says nginx reloaded (or started) and served the site.
	SiteChanged  []string
	SiteReloaded bool
	// RestartDropInChanged says nginx's restart drop-in (RestartDropIn)
	// was written (systemd hosts only).
	RestartDropInChanged bool
	Meta                 Meta
	// Recorded is true once the deployment record is on the host: from
	// then on the host holds something of the deployment that Remove takes
	// off (the record, directories it created, the application's user), so
	// a failed first Deploy is kept in Terraform's state, tainted.
	Recorded bool
	Warnings []string
}

// The steps of Deploy and Remove (fault.StepError's Step), each with the
// summary the operator sees when it fails.
const (
	StepPrepare = "prepare"
	StepInstall = "install nginx"
	StepApp     = "deploy the application"
	StepStatic  = "sync the static files"
	StepSite    = "apply the nginx site"
	StepRestart = "install nginx's restart policy"
	StepRemove  = "remove"
)

var stepSummary = map[string]string{
	StepInstall: "Install Nginx Error",
	StepApp:     "Deploy Application Error",
	StepStatic:  "Sync Static Files Error",
	StepSite:    "Apply Nginx Site Error",
	StepRestart: "Install Nginx Restart Policy Error",
	StepRemove:  "Remove Web Server Error",
}

// stepErr is the failure of one step; Err says what happened and in what
// state the host was left.
func stepErr(s string, err error) error {
	if err == nil {
		return nil
	}
	return &fault.StepError{Step: s, Summary: stepSummary[s], Err: err}
}

// HealthError says the application did not pass its health check in time,
// with the last lines of its log.
type HealthError struct {
	Service string
	URL     string
	Timeout time.Duration
	// LastStatus is the last HTTP status ("000": no answer; "none": neither
	// curl nor wget on the host).
	LastStatus string
	// Running says whether the service manager reported the service as
	// running at the last attempt.
	Running   bool
	LogSource string
	Log       string
}

func (e *HealthError) Error() string {
	var b strings.Builder
	switch e.LastStatus {
	case "none":
		fmt.Fprintf(&b, "cannot check the health of %s: neither curl nor wget is installed on the host", e.Service)
	default:
		ans := "no answer"
		if e.LastStatus != "000" && e.LastStatus != "" && e.LastStatus != "0" {
			ans = "HTTP " + e.LastStatus
		}
		run := "the service is not running"
		if e.Running {
			run = "the service is running"
		}
		fmt.Fprintf(&b, "%s did not pass its health check GET %s within %s (last answer: %s; %s)", e.Service, e.URL, e.Timeout, ans, run)
	}
	if l := strings.TrimSpace(e.Log); l != "" {
		fmt.Fprintf(&b, ".\nLast lines of its log (%s):\n%s", e.LogSource, l)
	} else {
		fmt.Fprintf(&b, "; its log (%s) is empty", e.LogSource)
	}
	return b.String()
}

func (d Deployment) opts(version string) Options {
	return Options{NginxVersion: version, Layout: d.Layout}
}

func (d Deployment) stateDir() string {
	if d.StateDir == "" {
		return DefaultStateDir
	}
	return d.StateDir
}

// Validate checks the whole deployment before anything is sent.
func (d Deployment) Validate() error {
	var es []error
	if err := d.Site.Validate(); err != nil {
		es = append(es, err)
	}
	if err := d.App.Validate(); err != nil {
		es = append(es, err)
	}
	if d.Drain != nil {
		if err := d.Drain.Validate(); err != nil {
			es = append(es, err)
		}
	}
	if err := CheckPair(d.Site, d.App); err != nil {
		es = append(es, err)
	}
	if err := CheckManagedDirs(d.Site, d.App); err != nil {
		es = append(es, err)
	}
	if d.Site.Name != d.App.Name {
		es = append(es, fmt.Errorf("the site is named %q but the application %q", d.Site.Name, d.App.Name))
	}
	if len(d.Artifact) == 0 {
		es = append(es, errors.New("app.artifact_source: the artifact is empty"))
	}
	for rel := range d.Static {
		if err := ValidateRelPath(rel); err != nil {
			es = append(es, fmt.Errorf("source_dir: %w", err))
		}
	}
	if d.Static != nil {
		if err := apply.ValidatePath(d.Site.DocumentRoot); err != nil {
			es = append(es, fmt.Errorf("document_root: %w", err))
		}
	}
	return errors.Join(es...)
}

// preflight is what Deploy and Remove read first, in one round trip.
type preflight struct {
	init         apply.Init
	nginxVersion string // "" when nginx is not installed
	files        map[string]apply.FileInfo
	services     map[string]apply.ServiceStatus
	meta         *Meta
	metaErr      error
}

func readPreflight(ctx context.Context, r remote.Runner, l Layout, stateDir, name string, paths []string) (preflight, error) {
	metaPath := MetaPath(stateDir, name)
	conf := l.withDefaults().NginxConfPath()
	snap, err := apply.Probe(ctx, r, apply.ProbeRequest{
		Paths:    append([]string{conf}, paths...),
		Content:  []string{metaPath},
		Services: []string{"nginx", ServiceName(name)},
		Commands: [][]string{VersionArgv()},
	})
	if err != nil {
		return preflight{}, err
	}
	if err := snap.SupportedSystem(); err != nil {
		return preflight{}, err
	}
	p := preflight{init: snap.Init, files: snap.Files, services: snap.Services}
	if p.init == "" {
		return p, errors.New("the host has no supported service manager (neither systemd nor sysvinit)")
	}
	if c := snap.Commands[0]; c.ExitStatus == 0 && snap.Files[conf].Exists {
		if v, err := ParseVersion(string(c.Stderr) + string(c.Stdout)); err == nil {
			p.nginxVersion = v
		}
	}
	if fi := snap.Files[metaPath]; fi.Exists && fi.Content != nil {
		p.meta, p.metaErr = ParseMeta(fi.Content)
	}
	return p, nil
}

// Deploy puts the deployment on the host behind r, in this order, each
// step only when something differs:
//
//  1. one round trip reads the host (service manager, nginx version, the
//     deployment record, what exists);
//  2. nginx is installed when missing (Install) and started; on a systemd
//     host its restart drop-in (RestartDropIn) is put in place, so that
//     systemd restarts a nginx that dies;
//  3. the record (Meta) is written, before anything else changes, so that
//     Remove knows what this deployment created even if a later step fails;
//  4. the application: its user and directory are created when missing,
//     then the artifact, environment file and unit (or init script) go
//     through the safe-apply engine; when any changed, the service is
//     restarted and must pass its health check within HealthTimeout,
//     otherwise the previous files are put back, the previous version is
//     restarted and checked again, and the error shows the application's
//     last log lines;
//  5. the document root is synced (only changed files are sent);
//  6. the site (config, certificate, key, and the removal of Debian's
//     default site) goes through the engine: swapped in, `nginx -t` on the
//     whole configuration, reload (or start), and a check that nginx runs
//     new workers and serves the site on its port, otherwise rolled back.
//
// Errors are *fault.StepError; their Err is an apply error (*apply.ValidationError,
// *apply.VerifyError, ...) or a *HealthError, each saying what state the
// host was left in.
func Deploy(ctx context.Context, r remote.Runner, d Deployment) (Result, error) {
	var res Result
	if err := d.Validate(); err != nil {
		return res, stepErr(StepPrepare, err)
	}
	l := d.Layout.withDefaults()
	stateDir := d.stateDir()
	host := d.Host
	enabled := d.Site.EnabledLink(d.opts(""))
	defLink := l.DefaultSiteLink()

	pre, err := readPreflight(ctx, r, l, stateDir, d.Site.Name, []string{
		d.Site.DocumentRoot, d.App.WorkingDir, enabled.Path, defLink.Path, defLink.Target,
	})
	if _, ok := errors.AsType[*apply.UnsupportedSystemError](err); ok {
		return res, stepErr(StepPrepare, fmt.Errorf("%s: %w. Nothing was changed", hostName(host), err))
	}
	if err != nil {
		return res, stepErr(StepPrepare, fmt.Errorf("reading %s: %w", hostName(host), err))
	}
	res.Init = pre.init
	if pre.metaErr != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("ignoring the deployment record on %s: %v", hostName(host), pre.metaErr))
	}

	// 2. nginx.
	// The preflight found nginx's version and its configuration: installed,
	// no need to ask again.
	version := pre.nginxVersion
	if version == "" {
		_, err = r.Run(ctx, remote.Cmd{Argv: remote.Script(installedScript, l.NginxConfPath())})
	}
	if ee, ok := errors.AsType[*remote.ExitError](err); ok && ee.ExitStatus == 3 {
		if !d.Install {
			return res, stepErr(StepInstall, fmt.Errorf("nginx is not installed on %s and install is false: install it, or set install = true", hostName(host)))
		}
		if err = apply.InstallPackages(ctx, r, Packages); err == nil {
			res.NginxInstalled = true
		}
	}
	if err != nil {
		return res, stepErr(StepInstall, fmt.Errorf("installing nginx on %s failed, nothing else was changed: %w", hostName(host), scriptErr(err)))
	}
	if res.NginxInstalled {
		if _, err := r.Run(ctx, remote.Cmd{Argv: SeqArgv(pre.init.Argv(apply.ActionEnable, "nginx"), pre.init.Argv(apply.ActionStart, "nginx"))}); err != nil {
			return res, stepErr(StepInstall, fmt.Errorf("nginx was installed on %s but could not be started: %w", hostName(host), scriptErr(err)))
		}
		version = ""
	}
	if version == "" {
		out, err := r.Run(ctx, remote.Cmd{Argv: VersionArgv()})
		if err != nil {
			return res, stepErr(StepInstall, fmt.Errorf("`nginx -v` fails on %s: %w", hostName(host), scriptErr(err)))
		}
		if version, err = ParseVersion(string(out.Stderr) + string(out.Stdout)); err != nil {
			return res, stepErr(StepInstall, err)
		}
	}
	res.NginxVersion = version
	if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(layoutCheckScript, l.NginxConfPath(),
		path.Dir(l.SiteConfPath(d.Site.Name)), path.Dir(l.SiteEnabledPath(d.Site.Name)))}); err != nil {
		return res, stepErr(StepInstall, fmt.Errorf("nginx on %s does not use the Debian site layout: %w", hostName(host), scriptErr(err)))
	}
	opts := d.opts(version)
	// nginx comes back by itself when it dies (systemd hosts).
	if err := applyRestartDropIn(ctx, r, d, pre.init, &res); err != nil {
		return res, stepErr(StepRestart, err)
	}

	// 3. The record.
	if res.NginxInstalled {
		// The package may have brought Debian's default site along.
		snap, err := apply.Probe(ctx, r, apply.ProbeRequest{Paths: []string{defLink.Path, defLink.Target}, Init: pre.init})
		if err != nil {
			return res, stepErr(StepInstall, fmt.Errorf("reading %s after installing nginx: %w", hostName(host), err))
		}
		pre.files[defLink.Path], pre.files[defLink.Target] = snap.Files[defLink.Path], snap.Files[defLink.Target]
	}
	exists := func(p string) bool { return pre.files[p].Exists }
	old := pre.meta
	meta := Meta{
		Name:         d.Site.Name,
		DocumentRoot: d.Site.DocumentRoot,
		WorkingDir:   d.App.WorkingDir,
		ArtifactPath: d.App.ArtifactPath,
		Init:         string(pre.init),
		Model:        d.Model,
	}
	meta.DocumentRootCreated = created(exists(d.Site.DocumentRoot), old != nil && old.DocumentRoot == d.Site.DocumentRoot, old != nil && old.DocumentRootCreated)
	if d.Static == nil && !exists(d.Site.DocumentRoot) {
		meta.DocumentRootCreated = false // nothing creates it
	}
	meta.WorkingDirCreated = created(exists(d.App.WorkingDir), old != nil && old.WorkingDir == d.App.WorkingDir, old != nil && old.WorkingDirCreated)
	restoreDefault := false
	if d.DisableDefaultSite {
		meta.DefaultSiteDisabled = exists(defLink.Path) || (old != nil && old.DefaultSiteDisabled)
	} else {
		restoreDefault = old != nil && old.DefaultSiteDisabled
	}
	res.Meta = meta
	metaBytes, err := meta.Encode()
	if err != nil {
		return res, stepErr(StepPrepare, err)
	}
	if _, err := apply.Apply(ctx, r, apply.Change{
		Files:    []apply.File{{Path: MetaPath(stateDir, d.Site.Name), Content: metaBytes, Mode: 0o600}},
		Lock:     "foobar-web-" + d.Site.Name,
		Host:     host,
		StateDir: stateDir,
	}); err != nil {
		return res, stepErr(StepPrepare, fmt.Errorf("writing the deployment record on %s: %w", hostName(host), err))
	}
	res.Recorded = true

	// 4. The application.
	if err := deployApp(ctx, r, d, pre, opts, &res); err != nil {
		return res, stepErr(StepApp, err)
	}

	// 5. Static files.
	if d.Static != nil {
		st, err := apply.SyncDir(ctx, r, apply.SyncSpec{Root: d.Site.DocumentRoot, Files: d.Static, Owner: "root", Group: "root",
			FileMode: StaticFileMode, DirMode: StaticDirMode, Record: StaticRecordPath(stateDir, d.Site.Name)})
		if err != nil {
			return res, stepErr(StepStatic, fmt.Errorf("syncing %s on %s failed (the application is deployed; the site was not changed): %w",
				d.Site.DocumentRoot, hostName(host), err))
		}
		res.Synced, res.Sync = true, st
	}

	// 6. The site. Its sites-enabled link follows the site file; Debian's
	// default site is disabled while the site file exists (or enabled
	// again when an earlier deploy had disabled it).
	conf := l.SiteConfPath(d.Site.Name)
	rules := []LinkRule{{Link: enabled}}
	needsLinks := !exists(enabled.Path)
	switch {
	case d.DisableDefaultSite:
		rules = append(rules, LinkRule{Link: defLink, Unless: conf})
		needsLinks = needsLinks || exists(defLink.Path)
	case restoreDefault:
		rules = append(rules, LinkRule{Link: defLink})
		needsLinks = needsLinks || (!exists(defLink.Path) && exists(defLink.Target))
	}
	if err := applySite(ctx, r, d, pre, opts, rules, needsLinks, &res); err != nil {
		return res, stepErr(StepSite, err)
	}
	return res, nil
}

// shown replaces, in the engine's errors, the wrapper scripts this package
// runs as validate and reload commands (the link handling, reload-or-start,
// daemon-reload) by the command an operator knows them as.
func shown(err error, validate, reload []string) error {
	if ve, ok := errors.AsType[*apply.ValidationError](err); ok {
		c := *ve
		c.Argv = validate
		return &c
	}
	if re, ok := errors.AsType[*apply.ReloadError](err); ok {
		c := *re
		c.Argv = reload
		return &c
	}
	return err
}

// created decides whether a directory counts as created by the
// deployment: one that is missing now will be created; one that exists
// keeps what the record says when the record is about the same path, and
// otherwise existed before.
func created(existsNow, samePath, recordSaysCreated bool) bool {
	if !existsNow {
		return true
	}
	return samePath && recordSaysCreated
}

func hostName(h string) string {
	if h == "" {
		return "the host"
	}
	return h
}

// scriptErr shortens the error of one of this package's scripts to what
// the host said.
func scriptErr(err error) error {
	if ee, ok := errors.AsType[*remote.ExitError](err); ok {
		if msg := strings.TrimSpace(ee.Stderr); msg != "" {
			return fmt.Errorf("%s (exit status %d)", msg, ee.ExitStatus)
		}
		return fmt.Errorf("exit status %d", ee.ExitStatus)
	}
	return err
}

// AppFiles are the application's files for a service manager: the
// artifact (root-owned, 0755), the environment file and the unit (systemd)
// or the init script (sysvinit).
func AppFiles(a App, artifact []byte, init apply.Init, o Options) ([]File, error) {
	all, err := a.Files(o)
	if err != nil {
		return nil, err
	}
	l := o.layout()
	files := []File{{Path: a.ArtifactPath, Content: artifact, Mode: 0o755, Owner: "root", Group: "root"}}
	for _, f := range all {
		switch {
		case f.Path == l.UnitPath(a.Name) && init != apply.Systemd,
			f.Path == l.InitScriptPath(a.Name) && init != apply.SysVinit:
			continue
		}
		files = append(files, f)
	}
	return files, nil
}

func engineFiles(fs []File) []apply.File {
	out := make([]apply.File, len(fs))
	for i, f := range fs {
		out[i] = apply.File{Path: f.Path, Content: f.Content, Owner: f.Owner, Group: f.Group, Mode: f.Mode}
	}
	return out
}

// AppRestartArgv is what makes the service manager run the application's
// current files: reread units, enable at boot, restart. The apply engine
// also runs it after a rollback, and the rollback of a first install
// removes the unit (or init script): then there is nothing to restart, and
// it stops the application the failed apply started and removes its boot
// links instead (appGoneScript), so that nothing of it is left running.
func AppRestartArgv(init apply.Init, name string, l Layout) []string {
	svc := ServiceName(name)
	var steps [][]string
	file := l.InitScriptPath(name)
	if init == apply.Systemd {
		steps = append(steps, []string{"systemctl", "daemon-reload"})
		file = l.UnitPath(name)
	}
	steps = append(steps, init.Argv(apply.ActionEnable, svc), init.Argv(apply.ActionRestart, svc))
	restart := SeqArgv(steps...)
	return remote.Script(appGoneScript, append([]string{file, string(init), svc, l.PIDFilePath(name), l.withDefaults().SystemdDir}, restart...)...)
}

func deployApp(ctx context.Context, r remote.Runner, d Deployment, pre preflight, o Options, res *Result) error {
	a := d.App
	host := hostName(d.Host)
	// A working directory that the preflight saw as the user's and group's
	// with mode 0750 means the user and group exist and the directory is as
	// EnsureUserArgv would leave it: no round trip.
	if wd := pre.files[a.WorkingDir]; wd.Kind != apply.KindDir || wd.Owner != a.User || wd.Group != a.Group || wd.Mode != 0o750 {
		if _, err := r.Run(ctx, remote.Cmd{Argv: a.EnsureUserArgv()}); err != nil {
			return fmt.Errorf("creating the user %s and the directory %s on %s failed: %w", a.User, a.WorkingDir, host, scriptErr(err))
		}
	}
	files, err := AppFiles(a, d.Artifact, pre.init, o)
	if err != nil {
		return err
	}
	timeout := d.HealthTimeout
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	check := HealthCheck(pre.init, a, o.Layout, timeout)
	restart, drained := drainedRestart(d, pre.init, pre.services[ServiceName(a.Name)].Active())
	out, err := apply.Apply(ctx, r, apply.Change{
		Files:    engineFiles(files),
		Reload:   restart,
		Verify:   check,
		Lock:     "foobar-app-" + a.Name,
		Host:     d.Host,
		StateDir: d.StateDir,
	})
	res.Warnings = append(res.Warnings, out.Warnings...)
	if drained {
		// The flag goes whatever happened: the application that runs now
		// (the new one, or the previous one put back) serves again once
		// its health check passes.
		if uerr := undrain(ctx, r, *d.Drain, d.Site, a.HealthCheckPath, o.Layout, timeout); uerr != nil {
			if err == nil {
				return uerr
			}
			res.Warnings = append(res.Warnings, uerr.Error())
		}
		res.Drained = err == nil && len(out.Changed) > 0
	}
	if err != nil {
		return shown(err, nil, pre.init.Argv(apply.ActionRestart, ServiceName(a.Name)))
	}
	res.AppChanged = out.Changed
	if len(out.Changed) > 0 || len(out.Resumed) > 0 {
		res.AppRestarted = true
		return nil
	}
	// Nothing changed, but the service may have been stopped by hand.
	if s := pre.services[ServiceName(a.Name)]; s.Active() {
		return nil
	}
	svc := ServiceName(a.Name)
	if _, err := r.Run(ctx, remote.Cmd{Argv: SeqArgv(pre.init.Argv(apply.ActionEnable, svc), pre.init.Argv(apply.ActionStart, svc))}); err != nil {
		return fmt.Errorf("starting %s on %s failed: %w", svc, host, scriptErr(err))
	}
	if err := check(ctx, r); err != nil {
		return fmt.Errorf("%s was not running on %s and was started, but: %w", svc, host, err)
	}
	res.AppRestarted = true
	return nil
}

// HealthCheck returns the check Deploy runs after (re)starting the
// application: it polls App.HealthCheckURL on the host until it answers 2xx
// while the service runs, for at most timeout, and otherwise returns a
// *HealthError with the last lines of the application's log.
func HealthCheck(init apply.Init, a App, l Layout, timeout time.Duration) func(context.Context, remote.Runner) error {
	svc := ServiceName(a.Name)
	return func(ctx context.Context, r remote.Runner) error {
		secs := strconv.Itoa(int((timeout + time.Second - 1) / time.Second))
		argv := remote.Script(healthScript, append([]string{a.HealthCheckURL(), secs}, init.Argv(apply.ActionStatus, svc)...)...)
		res, err := r.Run(ctx, remote.Cmd{Argv: argv})
		if err == nil {
			return nil
		}
		if _, ok := errors.AsType[*remote.ExitError](err); !ok {
			return fmt.Errorf("checking the health of %s: %w", svc, err)
		}
		he := &HealthError{Service: svc, URL: a.HealthCheckURL(), Timeout: timeout}
		if f := strings.Fields(string(res.Stdout)); len(f) >= 2 && f[0] == "fail" {
			he.LastStatus = f[1]
			he.Running = len(f) >= 3 && f[2] == "1"
		}
		he.LogSource, he.Log = AppLog(ctx, r, init, a.Name, l, appLogLines)
		return he
	}
}

// AppLog returns where the application's log is read from and its last n
// lines (journalctl under systemd, the log file of the init script
// otherwise). A failure to read it is returned as the text.
func AppLog(ctx context.Context, r remote.Runner, init apply.Init, name string, l Layout, n int) (source, text string) {
	svc := ServiceName(name)
	logFile := l.AppLogPath(name)
	source = "journalctl -u " + svc
	if init != apply.Systemd {
		source = logFile
	}
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(appLogScript, string(init), svc, logFile, strconv.Itoa(n))})
	if err != nil {
		return source, fmt.Sprintf("(could not read it: %v)", scriptErr(err))
	}
	return source, strings.TrimRight(string(res.Stdout), "\n")
}

// checkTarget is one URL the site check requests on the host.
type checkTarget struct {
	url, host, resolve string
	class              string // "2" or "3"
}

// VerifyHostName is the Host header the checks send: the first server
// name that is a plain host name, a wildcard name made concrete, or
// "localhost" when the site has only "_".
func VerifyHostName(names []string) string {
	for _, n := range names {
		if n != "_" && !strings.Contains(n, "*") {
			return n
		}
	}
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "*."):
			return "foobar-check." + n[2:]
		case strings.HasSuffix(n, ".*"):
			return n[:len(n)-2] + ".invalid"
		}
	}
	return "localhost"
}

// siteTargets are the requests that prove the site is served: the
// application's health check through nginx on the plain port (a redirect
// when plain HTTP only redirects) and on the TLS port.
func siteTargets(s Site, healthPath string) []checkTarget {
	h := VerifyHostName(s.ServerNames)
	var ts []checkTarget
	plain := checkTarget{url: "http://127.0.0.1:" + strconv.Itoa(s.ListenPort) + healthPath, host: h, class: "2"}
	if s.TLS != nil && s.TLS.RedirectHTTP {
		plain.class = "3"
	}
	ts = append(ts, plain)
	if s.TLS != nil {
		port := strconv.Itoa(s.TLS.Port)
		ts = append(ts, checkTarget{url: "https://" + h + ":" + port + healthPath, host: h, resolve: h + ":" + port + ":127.0.0.1", class: "2"})
	}
	return ts
}

// nginxWorkers reads the PIDs of nginx's workers.
func nginxWorkers(ctx context.Context, r remote.Runner, l Layout) ([]string, error) {
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(workersScript, l.NginxPIDFile())})
	if err != nil {
		return nil, scriptErr(err)
	}
	var pids []string
	sc := bufio.NewScanner(strings.NewReader(string(res.Stdout)))
	for sc.Scan() {
		if p := strings.TrimSpace(sc.Text()); p != "" {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// SiteCheck returns the Verify step of a site change: nginx must run
// workers that were not there before (the reload really happened) and the
// targets must answer as expected, within timeout.
func siteCheck(l Layout, oldWorkers []string, targets []checkTarget, timeout time.Duration) func(context.Context, remote.Runner) error {
	return func(ctx context.Context, r remote.Runner) error {
		args := []string{l.NginxPIDFile(), strconv.Itoa(int((timeout + time.Second - 1) / time.Second)), strings.Join(oldWorkers, " ")}
		for _, t := range targets {
			res := t.resolve
			if res == "" {
				res = "-"
			}
			args = append(args, t.url, t.host, res, t.class)
		}
		out, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(siteCheckScript, args...)})
		if err == nil {
			return nil
		}
		if _, ok := errors.AsType[*remote.ExitError](err); ok {
			msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out.Stdout)), "fail"))
			if msg == "" {
				msg = scriptErr(err).Error()
			}
			return fmt.Errorf("nginx did not serve the site within %s: %s", timeout, msg)
		}
		return err
	}
}

func applySite(ctx context.Context, r remote.Runner, d Deployment, pre preflight, o Options, links []LinkRule, needsLinks bool, res *Result) error {
	l := o.layout()
	files, err := d.Site.Files(o)
	if err != nil {
		return err
	}
	old, err := nginxWorkers(ctx, r, l)
	if err != nil {
		return fmt.Errorf("reading nginx's workers on %s: %w", hostName(d.Host), err)
	}
	timeout := d.VerifyTimeout
	if timeout <= 0 {
		timeout = DefaultVerifyTimeout
	}
	verify := siteCheck(l, old, siteTargets(d.Site, d.App.HealthCheckPath), timeout)
	validate := LinkedArgv(true, links, TestArgv())
	reload := LinkedArgv(false, links, pre.init.Argv(apply.ActionReloadOrStart, "nginx"))
	out, err := apply.Apply(ctx, r, apply.Change{
		Files: engineFiles(files),
		// Files already in place still need the links made and nginx
		// (re)loaded when the links or the running nginx are not as they
		// must be (removed or stopped by hand): the engine validates the
		// linked configuration privately before any link goes live.
		Reapply:         needsLinks || !pre.services["nginx"].Active(),
		Validate:        validate,
		ValidatePrivate: linkDirs(links),
		ValidateFilter:  FilterTestOutput,
		Reload:          reload,
		Verify:          verify,
		Lock:            SiteLock,
		Host:            d.Host,
		StateDir:        d.StateDir,
	})
	res.Warnings = append(res.Warnings, out.Warnings...)
	if err != nil {
		return shown(err, TestArgv(), pre.init.Argv(apply.ActionReload, "nginx"))
	}
	res.SiteChanged = out.Changed
	res.SiteReloaded = out.Reloaded
	return nil
}

// linkDirs are the directories of the links: the link handling of the
// validate step changes them, so the engine gives the validator private
// copies of them (apply.Change.ValidatePrivate) and a refused configuration
// never shows in the live sites-enabled.
func linkDirs(links []LinkRule) []string {
	var dirs []string
	for _, l := range links {
		if d := path.Dir(l.Path); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}
