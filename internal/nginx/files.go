// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"io/fs"
	"path"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// Header is the first comment line of every file this package renders.
const Header = "# Managed by terraform-provider-foobar; manual changes will be reverted\n"

// CandidateSuffix is appended to a target path to name the candidate file
// that the apply engine uploads next to it (same directory, so the final
// rename is atomic).
//
// For the site file this means /etc/nginx/sites-available/foobar-<name>.conf.foobar-new.
// Debian's nginx.conf includes only sites-enabled/* (and conf.d/*.conf), and
// the candidate lives in sites-available, so nginx never loads a candidate by
// accident, not even on an unrelated reload. The flip side is that `nginx -t`
// with the stock nginx.conf does not see the candidate either: to validate it
// "in place", the apply step must rename it over the target (keeping a backup),
// run TestArgv, and restore the backup before any reload if the test fails.
const CandidateSuffix = ".foobar-new"

// File is one file this package wants on a host, with explicit ownership and
// mode. The apply engine writes Content to CandidatePath, then renames it to
// Path. Mode and ownership apply to the candidate from the moment it is
// created (a 0600 key must never exist with a wider mode, even briefly).
type File struct {
	Path    string
	Content []byte
	Mode    fs.FileMode
	Owner   string
	Group   string
	// Secret marks content that must never be logged, shown in a diff or
	// echoed in an error (TLS private keys, environment files).
	Secret bool
}

// CandidatePath is where the candidate is staged: next to Path.
func (f File) CandidatePath() string { return f.Path + CandidateSuffix }

// SHA256 is the lower-case hex sha256 of Content: the checksum used for
// change and drift detection.
func (f File) SHA256() string { return apply.Checksum(f.Content) }

// Link is a symbolic link this package wants on a host (Path -> Target).
type Link struct {
	Path   string
	Target string
}

// Layout says where things live on a host. The zero value means the Debian
// layout (see DebianLayout); tests point it at a temporary directory.
type Layout struct {
	NginxDir    string // /etc/nginx: sites-available/, sites-enabled/, foobar/<name>/
	NginxLogDir string // /var/log/nginx
	SystemdDir  string // /etc/systemd/system
	InitDir     string // /etc/init.d
	EnvDir      string // /etc/foobar
	AppLogDir   string // /var/log/foobar
	RunDir      string // /run
}

// DebianLayout is the layout of Debian and Ubuntu hosts.
var DebianLayout = Layout{
	NginxDir:    "/etc/nginx",
	NginxLogDir: "/var/log/nginx",
	SystemdDir:  "/etc/systemd/system",
	InitDir:     "/etc/init.d",
	EnvDir:      "/etc/foobar",
	AppLogDir:   "/var/log/foobar",
	RunDir:      "/run",
}

func (l Layout) withDefaults() Layout {
	d := DebianLayout
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&d.NginxDir, l.NginxDir)
	set(&d.NginxLogDir, l.NginxLogDir)
	set(&d.SystemdDir, l.SystemdDir)
	set(&d.InitDir, l.InitDir)
	set(&d.EnvDir, l.EnvDir)
	set(&d.AppLogDir, l.AppLogDir)
	set(&d.RunDir, l.RunDir)
	return d
}

// Options are the facts about the target host that rendering depends on.
// Rendering is a pure function of the model and Options.
type Options struct {
	// NginxVersion is what ParseVersion returned for the host, or "" when
	// unknown. It selects the HTTP/2 syntax: "listen ... ssl http2" before
	// 1.25.1 (and when unknown; newer versions accept it with a warning),
	// "http2 on;" from 1.25.1.
	NginxVersion string
	Layout       Layout
}

func (o Options) layout() Layout { return o.Layout.withDefaults() }

// SiteConfPath is the site file: <nginx>/sites-available/foobar-<name>.conf.
func (l Layout) SiteConfPath(name string) string {
	return path.Join(l.withDefaults().NginxDir, "sites-available", "foobar-"+name+".conf")
}

// SiteEnabledPath is the symlink in sites-enabled that points at SiteConfPath.
func (l Layout) SiteEnabledPath(name string) string {
	return path.Join(l.withDefaults().NginxDir, "sites-enabled", "foobar-"+name+".conf")
}

// SiteTLSDir holds a site's certificate and key: <nginx>/foobar/<name>.
func (l Layout) SiteTLSDir(name string) string {
	return path.Join(l.withDefaults().NginxDir, "foobar", name)
}

// UnitPath is the systemd unit of an application.
func (l Layout) UnitPath(name string) string {
	return path.Join(l.withDefaults().SystemdDir, ServiceName(name)+".service")
}

// InitScriptPath is the sysvinit script of an application.
func (l Layout) InitScriptPath(name string) string {
	return path.Join(l.withDefaults().InitDir, ServiceName(name))
}

// EnvFilePath is the root-owned 0600 environment file of an application.
func (l Layout) EnvFilePath(name string) string {
	return path.Join(l.withDefaults().EnvDir, name+".env")
}

// AppLogPath is where the sysvinit script sends the application's output
// (under systemd it goes to the journal).
func (l Layout) AppLogPath(name string) string {
	return path.Join(l.withDefaults().AppLogDir, name+".log")
}

// PIDFilePath is the sysvinit script's pid file.
func (l Layout) PIDFilePath(name string) string {
	return path.Join(l.withDefaults().RunDir, ServiceName(name)+".pid")
}

// ServiceName is the service (unit and init script) name of an application.
func ServiceName(name string) string { return "foobar-" + name }
