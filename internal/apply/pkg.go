// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

// What a host is (/etc/os-release) and how a service's packages get onto
// it: the one implementation of "install it when it is missing" that the
// service packages share. Each service keeps only its package names and
// its own test of whether it is installed.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// OSReleasePath identifies the distribution (ID, ID_LIKE, PRETTY_NAME); it
// is often a symlink to /usr/lib/os-release.
const OSReleasePath = "/etc/os-release"

// osReleaseFunc defines os_release PATH: print PATH (following a symlink),
// or /usr/lib/os-release when PATH cannot be read.
const osReleaseFunc = `
os_release() { cat -- "$1" 2>/dev/null || cat -- /usr/lib/os-release 2>/dev/null; }
`

// OSReleaseArgv prints OSReleasePath, or /usr/lib/os-release; it exits 0
// and prints nothing when neither exists.
func OSReleaseArgv() []string {
	return remote.Script(osReleaseFunc+`os_release "$1"; exit 0`, OSReleasePath)
}

// ParseOSRelease returns the KEY=value pairs of os-release(5) content with
// the quotes around values removed (a double-quoted value has its
// backslash escapes undone). Blank lines and comments are skipped.
func ParseOSRelease(content string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
			v = uq
		} else {
			v = strings.Trim(v, `'"`)
		}
		m[k] = v
	}
	return m
}

// osName is how an error names a host's system: PRETTY_NAME, else ID.
func osName(osRelease string) string {
	kv := ParseOSRelease(osRelease)
	if n := kv["PRETTY_NAME"]; n != "" {
		return n
	}
	return kv["ID"]
}

// installScript installs packages with apt-get. Arguments: the package
// names.
//
// apt-get runs without questions and keeps a configuration file the host
// already has (--force-confdef --force-confold); when it fails (stale
// package lists: the package is unknown or a download 404s) the lists are
// refreshed once and the install is tried again. Output protocol: on a host
// without apt-get, "no-apt-get" and exit 0; on success "installed"; on
// failure the last lines of apt-get's output on stderr and exit 1.
//
// apt-get waits up to five minutes for dpkg's lock (DPkg::Lock::Timeout,
// apt 1.9.11 and later) instead of failing at once: another resource's
// install on the same host in the same apply (Terraform runs independent
// resources in parallel) or unattended-upgrades may hold it.
const installScript = `
if ! command -v apt-get >/dev/null 2>&1; then echo no-apt-get; exit 0; fi
log=$(mktemp) || exit 1
trap 'rm -f -- "$log"' 0
export DEBIAN_FRONTEND=noninteractive
inst() {
  apt-get install -y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -- "$@" </dev/null
}
if inst "$@" >"$log" 2>&1; then echo installed; exit 0; fi
echo "foobar: apt-get install failed; refreshing the package lists and trying again" >>"$log"
apt-get update -q -o DPkg::Lock::Timeout=300 </dev/null >>"$log" 2>&1
if inst "$@" >>"$log" 2>&1; then echo installed; exit 0; fi
tail -n 20 -- "$log" >&2
exit 1
`

// packageRE is what InstallPackages accepts as a package name: Debian's
// names (with an optional version or architecture suffix), never
// an option.
var packageRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+:~@-]*$`)

// InstallError means the package manager ran and failed. What it may have
// changed is up to it (apt-get installs all or nothing of a set).
type InstallError struct {
	Packages []string
	// Output is the last lines the package manager printed.
	Output string
}

func (e *InstallError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apt-get install %s failed", strings.Join(e.Packages, " "))
	writeOutput(&b, truncate(e.Output, 4096))
	return b.String()
}

// InstallPackages installs packages with apt-get (the provider changes
// only Debian-family hosts: SupportedSystem). A host without apt-get is an
// error that says so; a failed installation is an *InstallError with
// apt-get's last lines.
//
// Installing takes as long as apt-get does: callers bound it with ctx.
func InstallPackages(ctx context.Context, r remote.Runner, pkgs []string) error {
	if len(pkgs) == 0 {
		return errors.New("no package to install")
	}
	for _, p := range pkgs {
		if !packageRE.MatchString(p) {
			return fmt.Errorf("invalid package name %q", p)
		}
	}
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(installScript, pkgs...)})
	out := strings.TrimSpace(string(res.Stdout))
	if err != nil {
		var ee *remote.ExitError
		if errors.As(err, &ee) {
			return &InstallError{Packages: pkgs, Output: strings.TrimSpace(ee.Stderr)}
		}
		return fmt.Errorf("installing %s: %w", strings.Join(pkgs, " "), hostErr(err))
	}
	switch out {
	case "installed":
		return nil
	case "no-apt-get":
		return fmt.Errorf("cannot install %s: the host has no apt-get", strings.Join(pkgs, " "))
	}
	return fmt.Errorf("installing %s: unexpected output %q", strings.Join(pkgs, " "), truncate(out, 200))
}
