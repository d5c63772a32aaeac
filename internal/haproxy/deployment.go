// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// DefaultInstallTimeout bounds a package installation.
const DefaultInstallTimeout = 10 * time.Minute

// Deployment is everything one load balancer puts on a host: haproxy.cfg
// rendered from Config, the support files it names, and the Record that
// Inspect reads back.
type Deployment struct {
	Config Config
	// Install (`install`) installs HAProxy with the host's package manager
	// when it is missing. Without it, a host without HAProxy is an error
	// (ErrNotInstalled).
	Install bool
	// WriteOnly names the secrets of Config that the Record leaves out.
	WriteOnly WriteOnly
	// Host names the host in messages.
	Host string
	// InstallTimeout bounds the installation (DefaultInstallTimeout when
	// zero).
	InstallTimeout time.Duration
	// Log receives progress messages (never secrets). Nil discards them.
	Log func(msg string, fields map[string]any)
}

func (d Deployment) log(msg string, fields map[string]any) {
	if d.Log != nil {
		d.Log(msg, fields)
	}
}

// Result is what Deploy did.
type Result struct {
	// Version is HAProxy's version on the host.
	Version string
	// View is haproxy.cfg as written, with its secrets redacted (Redact):
	// what may be shown.
	View []byte
	// Installed is set when Deploy installed HAProxy.
	Installed bool
	// Outcome is the engine's (files changed, reloaded, resumed).
	Outcome apply.Outcome
	// Warnings did not make Deploy fail; they are returned with an error
	// too.
	Warnings []string
}

// The steps of Deploy, Inspect and Remove (fault.StepError's Step).
const (
	// StepRender: Config.Render refused the configuration; Err is its
	// fault.FieldErrors. Nothing was sent to the host.
	StepRender = "render"
	// StepInspect: reading the host before any change failed, or the host
	// is not a system the provider changes (Err is an
	// *apply.UnsupportedSystemError).
	StepInspect = "inspect"
	// StepInstall: HAProxy is missing and may not be installed (Err is
	// ErrNotInstalled), or the installation failed.
	StepInstall = "install"
	// StepCheck: the HAProxy on the host cannot run the configuration: too
	// old (CheckVersion), or built without the Prometheus exporter the
	// configuration asks for (ErrNoPrometheusExporter).
	StepCheck = "check"
	// StepApply: the safe apply failed; Err is the engine's error, which
	// says what was rolled back and what is serving.
	StepApply = "apply"
	// StepRestore: Remove could not give back the original configuration;
	// Err is the engine's error.
	StepRestore = "restore"
)

// stepError is the failure of one step of Deploy, Inspect or Remove, with
// the summary the operator sees for it when the step has one of its own
// (otherwise the caller's, such as "Apply HAProxy Config Error").
func stepError(step, attr string, err error, msg string) *fault.StepError {
	var summary string
	switch {
	case step == StepRender:
		summary = "Invalid Load Balancer Configuration"
	case errors.Is(err, ErrNotInstalled):
		summary = "HAProxy Not Installed"
	case step == StepInstall:
		summary = "Install HAProxy Error"
	case errors.Is(err, ErrNoPrometheusExporter):
		summary = "Prometheus Exporter Not Available"
	case step == StepCheck:
		summary = "Unsupported HAProxy Version"
	}
	return &fault.StepError{Step: step, Summary: summary, Path: attr, Err: err, Msg: msg}
}

// hostProbe is what Deploy and Remove read first, in one round trip.
type hostProbe struct {
	init      apply.Init
	version   string
	buildInfo string
	procs     Processes
	listing   string
	// config is the haproxy.cfg found on the host (nil when missing).
	config []byte
	// missing is set when the haproxy binary is not installed.
	missing bool
}

func probeHost(ctx context.Context, r remote.Runner) (hostProbe, error) {
	snap, err := apply.Probe(ctx, r, apply.ProbeRequest{
		Content:  []string{ConfigPath},
		Commands: [][]string{BuildInfoArgv(), ProcessesArgv(), ListFilesArgv()},
	})
	if err != nil {
		return hostProbe{}, err
	}
	if err := snap.SupportedSystem(); err != nil {
		return hostProbe{}, err
	}
	hp := hostProbe{init: snap.Init, config: snap.Files[ConfigPath].Content}
	bi := snap.Commands[0]
	hp.buildInfo = string(bi.Stdout)
	hp.version, err = ParseVersionOutput(bi.ExitStatus, string(bi.Stdout), string(bi.Stderr))
	switch {
	case errors.Is(err, ErrNotInstalled):
		hp.missing = true
	case err != nil:
		return hostProbe{}, err
	}
	pc := snap.Commands[1]
	if pc.ExitStatus != 0 {
		return hostProbe{}, fmt.Errorf("reading HAProxy's processes exited with status %d: %s", pc.ExitStatus, strings.TrimSpace(string(pc.Stderr)))
	}
	if hp.procs, err = ParseProcesses(string(pc.Stdout)); err != nil {
		return hostProbe{}, err
	}
	hp.listing = string(snap.Commands[2].Stdout)
	return hp, nil
}

// reloadArgv reloads HAProxy when it runs and starts it when it does not
// (master-worker: the listening sockets pass to the new worker). A host
// whose service manager was not recognised is taken as systemd, which
// every distribution Install supports uses.
func (hp hostProbe) reloadArgv() []string {
	init := hp.init
	if init != apply.SysVinit {
		init = apply.Systemd
	}
	return init.Argv(apply.ActionReloadOrStart, ServiceName)
}

// Deploy puts d on the host behind r:
//
//  1. renders haproxy.cfg, its support files and the Record;
//  2. reads the host in one round trip (service manager, haproxy -vv,
//     processes, support files of earlier configurations);
//  3. installs HAProxy when it is missing and d.Install allows it;
//  4. checks the version and, when asked for, the Prometheus exporter;
//  5. applies everything through the engine: candidates, haproxy -c with
//     everything in place, backup, atomic swap, reload (or start),
//     Verifier (a new worker, every listener answering), rollback on
//     failure; stale support files are removed and the file found before
//     the first Deploy is kept for Remove. Nothing changed: nothing is
//     written or reloaded.
//
// Errors are *StepError.
func Deploy(ctx context.Context, r remote.Runner, d Deployment) (Result, error) {
	var res Result
	host := d.Host
	rendered, err := d.Config.Render()
	if err != nil {
		return res, stepError(StepRender, "", err, "")
	}
	record, err := d.Record(apply.Checksum(rendered)).Encode()
	if err != nil {
		return res, stepError(StepApply, "", err, "Could not encode the load balancer record: "+err.Error())
	}

	hp, err := probeHost(ctx, r)
	if _, ok := errors.AsType[*apply.UnsupportedSystemError](err); ok {
		return res, stepError(StepInspect, "", err, fmt.Sprintf("%s: %s. Nothing was changed.", host, err))
	}
	if err != nil {
		return res, stepError(StepInspect, "", err, fmt.Sprintf("Could not inspect %s before applying: %s. Nothing was changed.", host, err))
	}
	if hp.missing {
		if !d.Install {
			return res, stepError(StepInstall, "install", ErrNotInstalled, fmt.Sprintf(
				"HAProxy is not installed on %s and install = false. Install it (apt-get install haproxy) or set install = true. Nothing was changed.", host))
		}
		d.log("installing HAProxy", map[string]any{"host": host})
		timeout := d.InstallTimeout
		if timeout <= 0 {
			timeout = DefaultInstallTimeout
		}
		ictx, cancel := context.WithTimeout(ctx, timeout)
		err := Install(ictx, r)
		cancel()
		if err != nil {
			return res, stepError(StepInstall, "", err, fmt.Sprintf(
				"Installing HAProxy on %s failed: %s. The HAProxy configuration was not changed.", host, err))
		}
		res.Installed = true
		d.log("installed HAProxy", map[string]any{"host": host})
		if hp, err = probeHost(ctx, r); err != nil || hp.missing {
			if err == nil {
				err = errors.New("haproxy is still not found after the installation")
			}
			return res, stepError(StepInstall, "", err, fmt.Sprintf("HAProxy was installed on %s but cannot be inspected: %s", host, err))
		}
	}
	if err := CheckVersion(hp.version); err != nil {
		return res, stepError(StepCheck, "", err, fmt.Sprintf("%s: %s. Nothing was changed.", host, err))
	}
	if err := d.Config.CheckPrometheusExporter(hp.buildInfo); err != nil {
		return res, stepError(StepCheck, "stats.prometheus", err, fmt.Sprintf("%s: %s. Nothing was changed.", host, err))
	}
	res.Version = hp.version

	files := []apply.File{{Path: ConfigPath, Content: rendered, Owner: ConfigOwner, Group: ConfigGroup, Mode: ConfigMode}}
	var keep []string
	for _, f := range d.Config.Files() {
		files = append(files, apply.File{Path: f.Path, Content: f.Content, Owner: "root", Group: "root", Mode: f.Mode})
		keep = append(keep, f.Path)
	}
	files = append(files, apply.File{Path: RecordPath, Content: record, Owner: "root", Group: "root", Mode: RecordMode})

	start := time.Now()
	out, err := apply.Apply(ctx, r, apply.Change{
		Files:          files,
		Remove:         StaleFiles(hp.listing, keep),
		Validate:       ValidateArgv(ConfigPath),
		ValidateFilter: FilterCheckOutput,
		Reload:         hp.reloadArgv(),
		Verify:         Verifier(hp.procs, d.Config.Endpoints(), EndpointsFromConfig(hp.config), 0),
		KeepOriginal:   true,
		Lock:           LockName,
		Host:           host,
	})
	res.Outcome, res.Warnings = out, out.Warnings
	if err != nil {
		return res, stepError(StepApply, "", err, "")
	}
	d.log("applied HAProxy configuration", map[string]any{
		"host": host, "changed": out.Changed, "reloaded": out.Reloaded, "resumed": out.Resumed,
		"duration": time.Since(start).String(),
	})
	res.View = Redact(rendered)
	return res, nil
}
