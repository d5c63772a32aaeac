// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// InspectRequest says which deployment Inspect reads.
type InspectRequest struct {
	Name     string
	Layout   Layout
	StateDir string
	// ArtifactPath and DocumentRoot come from the caller's state; when
	// empty (import) they are taken from the deployment record.
	ArtifactPath string
	DocumentRoot string
	// Manifest asks for the checksums of the deployment's static files
	// under the document root (Observed.Static).
	Manifest bool
}

// Observed is a deployment as found on the host.
type Observed struct {
	Init         apply.Init
	NginxVersion string // "" when nginx is not installed
	NginxActive  bool
	// SiteConfig is the content of the site file (nil when missing).
	SiteConfig       []byte
	SiteConfigExists bool
	// SiteEnabled: the sites-enabled link points at the site file.
	SiteEnabled        bool
	DefaultSiteEnabled bool
	CertSHA256         string // "" when missing
	KeyExists          bool
	ArtifactPath       string
	ArtifactSHA256     string // "" when missing
	// ServiceFileSHA256 is the checksum of the unit (systemd) or the init
	// script (sysvinit); "" when missing.
	ServiceFileSHA256 string
	// RestartDropInSHA256 is the checksum of nginx's restart drop-in
	// (RestartDropIn), "" when it is missing.
	RestartDropInSHA256 string
	EnvFileExists       bool
	App                 apply.ServiceStatus
	Meta                *Meta
	MetaErr             error
	DocumentRoot        string
	// Static holds relative path -> sha256 of the static files the
	// deployment put into the document root (its sync record; every file
	// of a root synced before records existed) when the manifest was asked
	// for (empty when the root is missing). Files it did not put there are
	// not its business and never show as drift.
	Static           map[string]string
	StaticRootExists bool
}

// Gone reports whether nothing of the deployment is left on the host.
func (o Observed) Gone() bool {
	return !o.SiteConfigExists && o.ServiceFileSHA256 == "" && !o.EnvFileExists && o.Meta == nil && o.MetaErr == nil
}

// Limits on listing the document root inside Inspect's probe: its output
// (NUL-framed lines of sha256 and path, about 100 bytes a file) and its run
// time. The listing was a round trip of its own before, bounded only by
// the caller's context.
const (
	listMax     = 32 << 20
	listTimeout = 15 * time.Minute
)

// Inspect reads a deployment in one round trip: files, services, nginx's
// version, the site link and, when asked for, the document root's manifest.
// On import, when the deployment record names paths the caller did not
// know (artifact, document root), they are read in a second round trip.
func Inspect(ctx context.Context, r remote.Runner, req InspectRequest) (Observed, error) {
	if err := ValidateSiteName(req.Name); err != nil {
		return Observed{}, err
	}
	l := req.Layout.withDefaults()
	o := Observed{ArtifactPath: req.ArtifactPath, DocumentRoot: req.DocumentRoot}
	metaPath := MetaPath(req.StateDir, req.Name)
	svc := ServiceName(req.Name)
	conf := l.SiteConfPath(req.Name)
	link := l.SiteEnabledPath(req.Name)
	def := l.DefaultSiteLink()
	tlsDir := l.SiteTLSDir(req.Name)
	record := StaticRecordPath(req.StateDir, req.Name)
	paths := []string{l.NginxConfPath(), link, def.Path, tlsDir + "/cert.pem", tlsDir + "/key.pem", l.UnitPath(req.Name), l.InitScriptPath(req.Name), l.EnvFilePath(req.Name), RestartDropIn(l).Path()}
	// listErr is why the document root cannot be listed (a root SyncDir
	// refuses); it matters only when the root is a directory.
	var listErr error
	probe := func(extra []string, root string) (apply.Snapshot, error) {
		pr := apply.ProbeRequest{
			Paths:    append(append([]string{}, paths...), extra...),
			Content:  []string{conf, metaPath},
			Services: []string{"nginx", svc},
			Commands: [][]string{VersionArgv(), remote.Script(linkTargetScript, link)},
		}
		listErr = nil
		if req.Manifest && root != "" {
			argv, err := apply.ListArgv(root, record)
			if err != nil {
				listErr = err
			} else {
				pr.Commands = append(pr.Commands, argv)
				pr.CommandMax, pr.CommandTimeout = listMax, listTimeout
			}
		}
		return apply.Probe(ctx, r, pr)
	}
	var extra []string
	for _, p := range []string{req.ArtifactPath, req.DocumentRoot} {
		if p != "" {
			extra = append(extra, p)
		}
	}
	snap, err := probe(extra, req.DocumentRoot)
	if err != nil {
		return o, err
	}
	if fi := snap.Files[metaPath]; fi.Exists && fi.Content != nil {
		o.Meta, o.MetaErr = ParseMeta(fi.Content)
	}
	if o.Meta != nil && (o.ArtifactPath == "" || o.DocumentRoot == "") {
		if o.ArtifactPath == "" {
			o.ArtifactPath = o.Meta.ArtifactPath
		}
		if o.DocumentRoot == "" {
			o.DocumentRoot = o.Meta.DocumentRoot
		}
		var more []string
		for _, p := range []string{o.ArtifactPath, o.DocumentRoot} {
			if p != "" && apply.ValidateProbePath(p) == nil {
				more = append(more, p)
			}
		}
		if len(more) > 0 {
			root := ""
			if apply.ValidateProbePath(o.DocumentRoot) == nil {
				root = o.DocumentRoot
			}
			if snap, err = probe(more, root); err != nil {
				return o, err
			}
		}
	}
	o.Init = snap.Init
	// A binary without its configuration (a removed package) is not an
	// installation.
	if c := snap.Commands[0]; c.ExitStatus == 0 && snap.Files[l.NginxConfPath()].Exists {
		if v, err := ParseVersion(string(c.Stderr) + string(c.Stdout)); err == nil {
			o.NginxVersion = v
		}
	}
	o.NginxActive = snap.Services["nginx"].Active()
	if fi := snap.Files[conf]; fi.Exists && fi.Kind == apply.KindFile {
		o.SiteConfigExists = true
		o.SiteConfig = fi.Content
	}
	o.SiteEnabled = snap.Files[link].Kind == apply.KindSymlink && strings.TrimSpace(string(snap.Commands[1].Stdout)) == conf
	o.DefaultSiteEnabled = snap.Files[def.Path].Exists
	o.CertSHA256 = snap.Files[tlsDir+"/cert.pem"].SHA256
	o.KeyExists = snap.Files[tlsDir+"/key.pem"].Exists
	if o.ArtifactPath != "" {
		o.ArtifactSHA256 = snap.Files[o.ArtifactPath].SHA256
	}
	switch snap.Init {
	case apply.Systemd:
		o.ServiceFileSHA256 = snap.Files[l.UnitPath(req.Name)].SHA256
	default:
		o.ServiceFileSHA256 = snap.Files[l.InitScriptPath(req.Name)].SHA256
	}
	o.EnvFileExists = snap.Files[l.EnvFilePath(req.Name)].Exists
	o.RestartDropInSHA256 = snap.Files[RestartDropIn(l).Path()].SHA256
	o.App = snap.Services[svc]
	if req.Manifest && o.DocumentRoot != "" {
		fi := snap.Files[o.DocumentRoot]
		o.StaticRootExists = fi.Kind == apply.KindDir
		o.Static = map[string]string{}
		if o.StaticRootExists {
			if listErr != nil {
				return o, listErr
			}
			if len(snap.Commands) < 3 {
				return o, fmt.Errorf("the document root %s was not listed", o.DocumentRoot)
			}
			c := snap.Commands[2]
			if err := c.Err(); err != nil {
				return o, fmt.Errorf("listing %s: %w", o.DocumentRoot, err)
			}
			l, err := apply.ParseListing(c.Stdout, o.DocumentRoot, record)
			if err != nil {
				return o, err
			}
			o.Static = l.Synced()
		}
	}
	return o, nil
}

// linkTargetScript prints where a symlink points (nothing when it is not
// one). Argument: the link.
const linkTargetScript = `
if [ -L "$1" ]; then readlink -- "$1"; fi
exit 0
`

// ManifestDigest is one checksum for a whole static tree (relative path ->
// sha256): the sha256 of its sorted "<sha256>  <path>\n" lines, what
// sha256sum would print. Equal trees give equal digests.
func ManifestDigest(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s  %s\n", m[k], k)
	}
	return apply.Checksum([]byte(b.String()))
}

// StaticDrift describes how the host's tree differs from the wanted one,
// for an operator ("" when they are equal).
func StaticDrift(want, host map[string]string) string {
	send, remove := Diff(want, host)
	if len(send) == 0 && len(remove) == 0 {
		return ""
	}
	var missing, changed int
	for _, p := range send {
		if _, ok := host[p]; ok {
			changed++
		} else {
			missing++
		}
	}
	return fmt.Sprintf("%d changed, %d missing, %d extra", changed, missing, len(remove))
}
