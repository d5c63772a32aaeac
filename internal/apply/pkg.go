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
	"slices"
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

// PackageManager is the tool InstallPackages installed packages with.
type PackageManager string

// The package managers InstallPackages uses, in the order it looks for
// them.
const (
	APT PackageManager = "apt-get"
	DNF PackageManager = "dnf"
	YUM PackageManager = "yum"
)

// installScript installs packages with apt-get (Debian family), else dnf,
// else yum (RHEL family). Arguments: the number N of apt package names,
// those N names, then the dnf/yum names.
//
// apt-get runs without questions and keeps a configuration file the host
// already has (--force-confdef --force-confold); when it fails (stale
// package lists: the package is unknown or a download 404s) the lists are
// refreshed once and the install is tried again. Output protocol: on a host
// without a package manager for these packages, "unsupported <manager|->"
// and the os-release content, exit 0; otherwise "manager <name>" and, on
// success, "installed"; on failure the last lines of the package manager's
// output on stderr and exit 1.
const installScript = remote.ShRunFirst + osReleaseFunc + `
na=$1
shift
pm=
for m in apt-get dnf yum; do
  if command -v "$m" >/dev/null 2>&1; then pm=$m; break; fi
done
# The names for pm: the first na words (apt), or the rest (dnf, yum).
if [ "$pm" != apt-get ]; then shift "$na"; na=$#; fi
if [ -z "$pm" ] || [ "$na" -eq 0 ]; then
  echo "unsupported ${pm:--}"
  os_release /etc/os-release
  exit 0
fi
echo "manager $pm"
log=$(mktemp) || exit 1
trap 'rm -f -- "$log"' 0
if [ "$pm" = apt-get ]; then
  export DEBIAN_FRONTEND=noninteractive
  inst() {
    all=$#
    set -- apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
    run_first "$(($# - all + na))" "$@" </dev/null
  }
  if inst "$@" >"$log" 2>&1; then echo installed; exit 0; fi
  echo "foobar: apt-get install failed; refreshing the package lists and trying again" >>"$log"
  apt-get update -q </dev/null >>"$log" 2>&1
  if inst "$@" >>"$log" 2>&1; then echo installed; exit 0; fi
else
  if "$pm" install -y -q "$@" </dev/null >"$log" 2>&1; then echo installed; exit 0; fi
fi
tail -n 20 -- "$log" >&2
exit 1
`

// packageRE is what InstallPackages accepts as a package name: Debian's
// and RPM's names (with an optional version or architecture suffix), never
// an option.
var packageRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+:~@-]*$`)

// UnsupportedSystemError means InstallPackages found no package manager
// it can install the packages with. Nothing was changed.
type UnsupportedSystemError struct {
	// System names the host's distribution (os-release PRETTY_NAME or
	// ID); empty when the host has no os-release.
	System string
	// Manager is the package manager the host has when the caller named no
	// packages for it; empty when the host has none InstallPackages knows.
	Manager PackageManager
	// Packages are the package names the caller gave (the apt names when
	// there are any).
	Packages []string
	// Supported are the package managers the caller named packages for
	// (APT stands for apt-get, DNF for dnf and yum).
	Supported []PackageManager
}

func (e *UnsupportedSystemError) Error() string {
	sys := e.System
	if sys == "" {
		sys = "an unidentified system (no " + OSReleasePath + ")"
	}
	var how []string
	if slices.Contains(e.Supported, APT) {
		how = append(how, "apt-get (Debian, Ubuntu)")
	}
	if slices.Contains(e.Supported, DNF) {
		how = append(how, "dnf or yum (RHEL family)")
	}
	verb := "is"
	if len(how) > 1 {
		verb = "are"
	}
	msg := fmt.Sprintf("cannot install %s on %s: only %s %s supported", strings.Join(e.Packages, " "), sys, strings.Join(how, " and "), verb)
	if e.Manager != "" {
		msg += ", and this host has " + string(e.Manager)
	}
	return msg
}

// InstallError means the package manager ran and failed. What it may have
// changed is up to it (apt and dnf install all or nothing of a set).
type InstallError struct {
	Manager  PackageManager
	Packages []string
	// Output is the last lines the package manager printed.
	Output string
}

func (e *InstallError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s install %s failed", e.Manager, strings.Join(e.Packages, " "))
	writeOutput(&b, truncate(e.Output, 4096))
	return b.String()
}

// InstallPackages installs packages with the host's package manager: the
// apt names with apt-get (Debian, Ubuntu), else the dnf names with dnf or
// yum (RHEL family). An empty list means the packages cannot be installed
// with that family: the host is then an *UnsupportedSystemError, as is a
// host with none of these package managers. A failed installation is an
// *InstallError with the package manager's last lines. It returns the
// package manager it used.
//
// Installing takes as long as the package manager does: callers bound it
// with ctx.
func InstallPackages(ctx context.Context, r remote.Runner, apt, dnf []string) (PackageManager, error) {
	if len(apt) == 0 && len(dnf) == 0 {
		return "", errors.New("no package to install")
	}
	for _, p := range append(append([]string(nil), apt...), dnf...) {
		if !packageRE.MatchString(p) {
			return "", fmt.Errorf("invalid package name %q", p)
		}
	}
	named := apt // what errors name before the package manager is known
	if len(named) == 0 {
		named = dnf
	}
	args := append([]string{strconv.Itoa(len(apt))}, apt...)
	args = append(args, dnf...)
	res, err := r.Run(ctx, remote.Cmd{Argv: remote.Script(installScript, args...)})
	out := string(res.Stdout)
	first, rest, _ := strings.Cut(out, "\n")
	if err == nil {
		if m, ok := strings.CutPrefix(first, "unsupported "); ok {
			e := &UnsupportedSystemError{System: osName(rest), Packages: named}
			if m != "-" {
				e.Manager = PackageManager(m)
			}
			if len(apt) > 0 {
				e.Supported = append(e.Supported, APT)
			}
			if len(dnf) > 0 {
				e.Supported = append(e.Supported, DNF)
			}
			return "", e
		}
	}
	m, ok := strings.CutPrefix(first, "manager ")
	if !ok {
		if err != nil {
			return "", fmt.Errorf("installing %s: %w", strings.Join(named, " "), hostErr(err))
		}
		return "", fmt.Errorf("installing packages: unexpected output %q", truncate(out, 200))
	}
	pm := PackageManager(m)
	pkgs := apt
	if pm != APT {
		pkgs = dnf
	}
	if err != nil {
		var ee *remote.ExitError
		if errors.As(err, &ee) {
			return pm, &InstallError{Manager: pm, Packages: pkgs, Output: strings.TrimSpace(ee.Stderr)}
		}
		return pm, fmt.Errorf("installing %s with %s: %w", strings.Join(pkgs, " "), pm, err)
	}
	if strings.TrimSpace(rest) != "installed" {
		return pm, fmt.Errorf("installing %s with %s: unexpected output %q", strings.Join(pkgs, " "), pm, truncate(out, 200))
	}
	return pm, nil
}
