// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"fmt"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// Expected is what a deployment should look like on its host: the
// configuration and what the last apply left there.
type Expected struct {
	// Site is the configured site (its TLS key is not needed).
	Site Site
	// App is the configured application (its environment is not needed);
	// nil when some of its values are unknown: the service file is then
	// not compared.
	App *App
	// DisableDefaultSite: Debian's default site must stay disabled.
	DisableDefaultSite bool
	// SiteSHA256 and ArtifactSHA256 are the checksums the last apply left;
	// "" when unknown (import), which compares nothing.
	SiteSHA256     string
	ArtifactSHA256 string
	// Init is the service manager known from before; Status.Init keeps it
	// when the host's cannot be told.
	Init apply.Init
	// SourceDir is the local directory the document root mirrors (home
	// already expanded); "" when the document root's content is not
	// managed.
	SourceDir string
}

// Status is a deployment as Observe found it: the values a caller keeps
// and the drift.
type Status struct {
	NginxVersion string
	Init         apply.Init
	// SiteConfig is the site file on the host; SiteSHA256 its checksum,
	// "" when it is missing.
	SiteConfig []byte
	SiteSHA256 string
	// ArtifactSHA256 is "" when the artifact is missing.
	ArtifactSHA256 string
	// StaticSHA256 is the ManifestDigest of the document root, "" when it
	// was not read; only meaningful with Expected.SourceDir.
	StaticSHA256 string
	// AppState is the application service's state ("unknown" when it
	// could not be told); AppPID its main PID, 0 when not running.
	AppState string
	AppPID   int
	// Drift lists every difference from Expected, worded for an
	// operator; empty when the deployment is as expected.
	Drift []string
}

// Observe compares what Inspect found with what is expected: nginx
// installed and running, the site file and its link, Debian's default
// site, the TLS files, the artifact, the service and environment files,
// the application's state, and with a SourceDir the document root against
// the local tree (a local tree that cannot be read is not drift).
func Observe(want Expected, o Observed) Status {
	st := Status{NginxVersion: o.NginxVersion, Init: want.Init, SiteConfig: o.SiteConfig, ArtifactSHA256: o.ArtifactSHA256}
	if o.Init != "" {
		st.Init = o.Init
	}
	add := func(s string) { st.Drift = append(st.Drift, s) }
	if o.NginxVersion == "" {
		add("nginx is not installed")
	} else if !o.NginxActive {
		add("nginx is not running")
	}
	if o.NginxVersion != "" && st.Init == apply.Systemd {
		di := RestartDropIn(Layout{})
		switch o.RestartDropInSHA256 {
		case RestartDropInSHA256(Layout{}):
		case "":
			add("nginx's restart drop-in " + di.Path() + " is missing (systemd would not restart a crashed nginx)")
		default:
			add("nginx's restart drop-in " + di.Path() + " differs from the provider's")
		}
	}
	if o.SiteConfigExists {
		st.SiteSHA256 = apply.Checksum(o.SiteConfig)
		if want.SiteSHA256 != "" && want.SiteSHA256 != st.SiteSHA256 {
			add("the site file differs from the one deployed")
		}
	} else {
		add("the site file is missing")
	}
	if o.SiteConfigExists && !o.SiteEnabled {
		add("the site is not enabled (its sites-enabled link is missing)")
	}
	if want.DisableDefaultSite && o.DefaultSiteEnabled {
		add("Debian's default site is enabled")
	}
	if t := want.Site.TLS; t != nil {
		if o.CertSHA256 != apply.Checksum([]byte(pemText(t.CertificatePEM))) {
			add("the TLS certificate file differs from the configuration")
		}
		if !o.KeyExists {
			add("the TLS key file is missing")
		}
	}
	switch {
	case o.ArtifactSHA256 == "":
		add("the artifact is missing")
	case want.ArtifactSHA256 != "" && want.ArtifactSHA256 != o.ArtifactSHA256:
		add("the artifact differs from the one deployed")
	}
	if want.App != nil {
		if sum, ok := ServiceFileChecksum(*want.App, o.Init); ok && sum != o.ServiceFileSHA256 {
			if o.ServiceFileSHA256 == "" {
				add("the service file is missing")
			} else {
				add("the service file differs from the configuration")
			}
		}
	}
	if !o.EnvFileExists {
		add("the environment file is missing")
	}
	st.AppState = o.App.ActiveState
	if st.AppState == "" {
		st.AppState = "unknown"
	}
	st.AppPID = o.App.MainPID
	if !o.App.Active() {
		add(fmt.Sprintf("the application service is %s", st.AppState))
	}
	// A manifest of another root than the configured one (an import whose
	// record names another root than the configuration) says nothing.
	if want.SourceDir != "" && o.Static != nil && o.DocumentRoot == want.Site.DocumentRoot {
		st.StaticSHA256 = ManifestDigest(o.Static)
		if !o.StaticRootExists {
			add("the document root is missing")
		}
		if files, _, err := WalkStatic(want.SourceDir); err == nil {
			if s := StaticDrift(Hashes(files), o.Static); s != "" {
				add("static files differ from source_dir: " + s)
			}
		}
	}
	return st
}

// ServiceFileChecksum is the checksum the unit (systemd) or the init script
// (sysvinit) of a must have; false for another service manager or an App
// that does not render.
func ServiceFileChecksum(a App, init apply.Init) (string, bool) {
	var b []byte
	var err error
	switch init {
	case apply.Systemd:
		b, err = a.SystemdUnit(Options{})
	case apply.SysVinit:
		b, err = a.SysvScript(Options{})
	default:
		return "", false
	}
	if err != nil {
		return "", false
	}
	return apply.Checksum(b), true
}
