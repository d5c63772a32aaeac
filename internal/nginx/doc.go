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
// The remote steps. Deploy, Inspect and Remove (deploy.go, inspect.go,
// remove.go) act on a host through a remote.Runner and the safe-apply
// engine (internal/apply); their host-side scripts are constants in
// scripts.go, run with remote.Script. They still never dial and never
// import Terraform packages.
//
//   - Deploy installs nginx when missing, writes the deployment record
//     (Meta, <state dir>/web/<name>/meta.json: what the deployment created,
//     and the caller's non-secret configuration for import), deploys the
//     application through the engine (its restart is the engine's reload,
//     its health check the engine's verify, so a version that never gets
//     healthy is rolled back to the previous files and restarted), syncs the
//     document root with apply.SyncDir, and applies the site through the
//     engine (swap, nginx -t on the whole configuration, reload or start, a
//     check that nginx runs new workers and serves the site, rollback).
//   - Inspect reads everything Read needs in one round trip (two with the
//     document root's manifest).
//   - Remove takes the deployment off and gives back what it took.
//
// Links in sites-enabled are never managed by the engine: nginx includes
// sites-enabled/*, so the engine's backups and markers next to such a path
// would be loaded. Instead the validate and reload commands are wrapped in
// linkScript, which makes the site's link follow the site file (and keeps
// Debian's default site disabled while the site file exists), under the
// engine's lock, undoing its changes when nginx -t fails.
//
// The pure building blocks remain usable on their own:
//
//   - Site.Files and App.Files give every file with path, mode, owner, group
//     and a Secret flag; File.CandidatePath is where the engine stages it
//     (see CandidateSuffix for why a site candidate is invisible to nginx).
//   - Site.EnabledLink is the sites-enabled symlink.
//   - TestArgv, VersionArgv, ParseVersion and FilterTestOutput validate the
//     config and turn nginx's stderr into a short error.
//   - App.EnsureUserArgv creates the user; ServiceName names the service for
//     systemctl or /etc/init.d; App.HealthCheckURL is what to poll.
//   - WalkStatic, Hashes, Diff and ManifestDigest decide which static files
//     to send and which to remove, and summarize a tree in one checksum.
package nginx
