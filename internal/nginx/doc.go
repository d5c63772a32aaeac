// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package nginx models what the foobar_web_server resource puts on one web
// host: an nginx site (Site: static files from a document root, everything
// else reverse-proxied to the application on the loopback interface) and the
// application server it proxies to (App: a systemd unit or, without systemd,
// a sysvinit script, plus a root-only environment file).
//
// This part of the package is pure: it validates models, renders files
// (deterministically: same model and Options, same bytes, same SHA256),
// compares static file trees and parses nginx's output. It never dials and
// never imports Terraform packages.
//
// Fitting the remote steps in. The steps that act on a host (install nginx,
// create the user, deploy through the safe-apply engine, restart the
// application, wait for its health check) take a remote.Runner and use only
// what this package already exposes:
//
//   - Site.Files and App.Files give every file with path, mode, owner, group
//     and a Secret flag; File.CandidatePath is where the engine stages it
//     (see CandidateSuffix for why a site candidate is invisible to nginx).
//   - Site.EnabledLink is the sites-enabled symlink.
//   - TestArgv, VersionArgv, ParseVersion and FilterTestOutput validate the
//     config and turn nginx's stderr into a short error.
//   - App.EnsureUserArgv creates the user; ServiceName names the service for
//     systemctl or /etc/init.d; App.HealthCheckURL is what to poll.
//   - WalkStatic, Hashes and Diff decide which static files to send and
//     which to remove.
package nginx
