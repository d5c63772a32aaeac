// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Removal names the deployment Remove takes off a host. The paths come
// from the caller's state; the deployment record on the host, when there
// is one, decides what was created by the deployment.
type Removal struct {
	Name          string
	Layout        Layout
	StateDir      string
	Host          string
	ArtifactPath  string
	DocumentRoot  string
	WorkingDir    string
	VerifyTimeout time.Duration
}

// RemoveResult says what Remove left in place on purpose.
type RemoveResult struct {
	// DocumentRootKept and WorkingDirKept are true when the directory
	// existed before the deployment (or no record says otherwise).
	DocumentRootKept bool
	WorkingDirKept   bool
	// DefaultSiteRestored is true when Debian's default site was enabled
	// again.
	DefaultSiteRestored bool
	Warnings            []string
}

// rmFilesScript removes files and the engine's leftovers next to them.
const rmFilesScript = `
for p in "$@"; do
  rm -f -- "$p" "$p.foobar-bak" "$p.foobar-bak-none" "$p.foobar-new" "$p.foobar-orig" "$p.foobar-orig-none" || exit 1
done
`

// Remove takes the deployment off the host:
//
//  1. the site (its file, link, certificate and key) through the engine:
//     removed, `nginx -t`, reload, check; Debian's default site is enabled
//     again in the same change when the deployment had disabled it;
//  2. the application: stopped, disabled, its unit or init script,
//     environment file and artifact removed, and its working directory
//     when the deployment created it;
//  3. the static files the deployment put into the document root (its
//     sync record names them; anything else there stays), and the root
//     itself when the deployment created it and it is then empty;
//  4. the deployment record, and nginx's restart drop-in when no other
//     site's record is left on the host.
//
// The application's user and group are kept: files it wrote elsewhere stay
// owned by it, and a deleted uid could later be given to another account.
// nginx stays installed. Logs are kept.
func Remove(ctx context.Context, r remote.Runner, rm Removal) (RemoveResult, error) {
	var res RemoveResult
	if err := ValidateSiteName(rm.Name); err != nil {
		return res, stepErr(StepRemove, err)
	}
	l := rm.Layout.withDefaults()
	host := hostName(rm.Host)
	def := l.DefaultSiteLink()
	enabled := Link{Path: l.SiteEnabledPath(rm.Name), Target: l.SiteConfPath(rm.Name)}
	pre, err := readPreflight(ctx, r, l, rm.StateDir, rm.Name, []string{enabled.Path, def.Path, def.Target})
	if err != nil {
		return res, stepErr(StepRemove, fmt.Errorf("reading %s: %w", host, err))
	}
	meta := pre.meta
	if pre.metaErr != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the deployment record on %s is unreadable (%v): directories are kept", host, pre.metaErr))
	}
	docRoot, workDir, artifact := rm.DocumentRoot, rm.WorkingDir, rm.ArtifactPath
	docCreated, workCreated, restoreDefault := false, false, false
	if meta != nil {
		if meta.DocumentRoot != "" {
			docRoot, docCreated = meta.DocumentRoot, meta.DocumentRootCreated
		}
		if meta.WorkingDir != "" {
			workDir, workCreated = meta.WorkingDir, meta.WorkingDirCreated
		}
		if meta.ArtifactPath != "" {
			artifact = meta.ArtifactPath
		}
		restoreDefault = meta.DefaultSiteDisabled
	}
	res.DocumentRootKept = docRoot != "" && !docCreated
	res.WorkingDirKept = workDir != "" && !workCreated

	// 1. The site.
	tlsDir := l.SiteTLSDir(rm.Name)
	// The sites-enabled links are not the engine's: they follow the site
	// file (see linkScript).
	sitePaths := []string{enabled.Target, path.Join(tlsDir, "cert.pem"), path.Join(tlsDir, "key.pem")}
	if pre.nginxVersion == "" {
		if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(rmFilesScript, append(sitePaths, enabled.Path)...)}); err != nil {
			return res, stepErr(StepRemove, fmt.Errorf("removing the site files on %s: %w", host, scriptErr(err)))
		}
	} else {
		links := []LinkRule{{Link: enabled}}
		if restoreDefault {
			links = append(links, LinkRule{Link: def, Unless: enabled.Target})
		}
		old, err := nginxWorkers(ctx, r, l)
		if err != nil {
			return res, stepErr(StepRemove, fmt.Errorf("reading nginx's workers on %s: %w", host, err))
		}
		timeout := rm.VerifyTimeout
		if timeout <= 0 {
			timeout = DefaultVerifyTimeout
		}
		verify := siteCheck(l, old, nil, timeout)
		change := apply.Change{
			Remove:          sitePaths,
			Validate:        LinkedArgv(true, links, TestArgv()),
			ValidatePrivate: linkDirs(links),
			ValidateFilter:  FilterTestOutput,
			Reload:          LinkedArgv(false, links, pre.init.Argv(apply.ActionReloadOrStart, "nginx")),
			Verify:          verify,
			Lock:            SiteLock,
			Host:            rm.Host,
			StateDir:        rm.StateDir,
		}
		out, err := apply.Apply(ctx, r, change)
		res.Warnings = append(res.Warnings, out.Warnings...)
		if err != nil {
			return res, stepErr(StepRemove, fmt.Errorf("removing the site: %w", shown(err, TestArgv(), pre.init.Argv(apply.ActionReload, "nginx"))))
		}
		if restoreDefault {
			res.DefaultSiteRestored = true
			if len(out.Changed) == 0 && !pre.files[def.Path].Exists && pre.files[def.Target].Exists {
				// The site is long gone but Debian's default site is not
				// enabled again: the engine makes its link, validating the
				// result privately first, and reloads.
				// Only the site file takes part: its directory exists,
				// the TLS directory may not.
				change.Remove, change.Reapply = []string{enabled.Target}, true
				if _, err := apply.Apply(ctx, r, change); err != nil {
					return res, stepErr(StepRemove, fmt.Errorf("enabling Debian's default site again: %w", err))
				}
			}
		}
	}

	// 2. The application.
	svc := ServiceName(rm.Name)
	paths := []string{l.UnitPath(rm.Name), l.InitScriptPath(rm.Name), l.EnvFilePath(rm.Name)}
	if artifact != "" && apply.ValidatePath(artifact) == nil {
		paths = append(paths, artifact)
	}
	if workCreated && workDir != "" && safeToPrune(workDir) {
		paths = append(paths, workDir+"/")
	}
	args := []string{string(pre.init), svc}
	args = append(args, counted(pre.init.Argv(apply.ActionStop, svc), pre.init.Argv(apply.ActionDisable, svc))...)
	if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(removeAppScript, append(args, paths...)...)}); err != nil {
		return res, stepErr(StepRemove, fmt.Errorf("removing the application %s on %s: %w", svc, host, scriptErr(err)))
	}

	// 3. The static files this deployment put into the document root (its
	// sync record says which), whoever created the root; nothing else in
	// it is removed.
	record := StaticRecordPath(rm.StateDir, rm.Name)
	if docRoot != "" && ValidateManagedDir(docRoot) == nil {
		if _, err := apply.SyncDir(ctx, r, apply.SyncSpec{Root: docRoot, Files: map[string][]byte{}, Owner: "root", Group: "root",
			FileMode: StaticFileMode, DirMode: StaticDirMode, Record: record}); err != nil {
			return res, stepErr(StepRemove, fmt.Errorf("removing the static files from the document root %s on %s: %w", docRoot, host, err))
		}
	}

	// 4. Empty directories and the record.
	var dirs []string
	if docCreated && docRoot != "" {
		dirs = append(dirs, docRoot)
	}
	if artifact != "" {
		dirs = append(dirs, path.Dir(artifact))
	}
	dirs = append(dirs, tlsDir, path.Dir(tlsDir))
	if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(rmdirScript, dirs...)}); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not remove empty directories on %s: %v", host, scriptErr(err)))
	}
	metaPath := MetaPath(rm.StateDir, rm.Name)
	if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(rmFilesScript, record, metaPath)}); err != nil {
		return res, stepErr(StepRemove, fmt.Errorf("removing the deployment record on %s: %w", host, scriptErr(err)))
	}
	// nginx's restart drop-in, when this was the host's last site.
	if err := removeRestartDropIn(ctx, r, l, rm.StateDir, pre.init); err != nil {
		return res, stepErr(StepRemove, fmt.Errorf("removing nginx's restart drop-in %s on %s (the site is removed): %w", RestartDropIn(l).Path(), host, scriptErr(err)))
	}
	// The provider's own directories, when nothing else is left in them
	// (rmdir removes only empty ones).
	dirs = []string{path.Dir(metaPath), path.Dir(path.Dir(metaPath)), path.Dir(l.EnvFilePath(rm.Name))}
	if workCreated && workDir != "" {
		dirs = append(dirs, path.Dir(workDir))
	}
	if _, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(rmdirScript, dirs...)}); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not remove %s on %s: %v", path.Dir(metaPath), host, scriptErr(err)))
	}
	return res, nil
}

// safeToPrune refuses to delete a directory recursively unless it is at
// least two levels deep and not a system directory (the record could have
// been edited on the host).
func safeToPrune(dir string) bool {
	if ValidatePath(dir) != nil || strings.Count(dir, "/") < 2 {
		return false
	}
	switch dir {
	case "/usr/local", "/var/lib", "/var/www", "/var/log", "/var/cache", "/usr/share", "/usr/lib", "/home", "/srv", "/opt":
		return false
	}
	return true
}
