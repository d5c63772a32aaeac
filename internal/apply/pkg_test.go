// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

func TestParseOSRelease(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, content string
		want          map[string]string
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
			map[string]string{"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux", "VERSION_ID": "12", "ID": "debian"}},
		{"id_like list", "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", map[string]string{"ID": "linuxmint", "ID_LIKE": "ubuntu debian"}},
		{"single quotes", "ID='almalinux'\n", map[string]string{"ID": "almalinux"}},
		{"escapes in double quotes", `NAME="say \"hi\" \\ bye"` + "\n", map[string]string{"NAME": `say "hi" \ bye`}},
		{"comments, blanks, white space", "# comment\n\n  ID=debian  \nnot a pair\n", map[string]string{"ID": "debian"}},
		{"empty", "", map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(c.want, ParseOSRelease(c.content)); diff != "" {
				t.Errorf("ParseOSRelease (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOSReleaseArgvFollowsSymlink(t *testing.T) {
	t.Parallel()
	argv := OSReleaseArgv()
	if argv[len(argv)-1] != OSReleasePath {
		t.Fatalf("argv %q", argv)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "real"), []byte("ID=debian\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "os-release")); err != nil {
		t.Fatal(err)
	}
	argv[len(argv)-1] = filepath.Join(dir, "os-release")
	res, err := (remote.LocalRunner{}).Run(context.Background(), remote.Cmd{Argv: argv})
	if err != nil || string(res.Stdout) != "ID=debian\n" {
		t.Fatalf("got %q %v", res.Stdout, err)
	}
}

// pathRunner runs commands locally in an empty environment whose PATH
// holds exactly its directories, so that a test decides which package
// managers "exist" (fakes that log their arguments; nothing is installed
// on this machine).
type pathRunner struct{ path string }

func (p pathRunner) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	cmd.Argv = append([]string{"env", "-i", "PATH=" + p.path}, cmd.Argv...)
	return remote.LocalRunner{}.Run(ctx, cmd)
}

// fakeHost returns a runner whose PATH holds the given fake tools (sh
// script bodies) and the few real tools the install script needs, and the
// directory of the fakes (where they may leave files).
func fakeHost(t *testing.T, tools map[string]string) (pathRunner, string) {
	t.Helper()
	fakes, coreutils := t.TempDir(), t.TempDir()
	for name, body := range tools {
		if err := os.WriteFile(filepath.Join(fakes, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"cat", "dirname", "mktemp", "rm", "tail", "touch"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(coreutils, name)); err != nil {
			t.Fatal(err)
		}
	}
	return pathRunner{path: fakes + string(os.PathListSeparator) + coreutils}, fakes
}

// logging is a fake package manager body that appends
// "$DEBIAN_FRONTEND $*" to the file log in its directory, then runs rest.
func logging(rest string) string {
	return `echo "$DEBIAN_FRONTEND $*" >> "$(dirname "$0")/log"` + "\n" + rest
}

func readLog(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

const aptOpts = "-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

func TestInstallPackages(t *testing.T) {
	t.Parallel()
	// staleLists fails to find any package until "apt-get update" ran.
	staleLists := logging(`case "$1" in
update) touch "$(dirname "$0")/updated" ;;
install) [ -e "$(dirname "$0")/updated" ] || { echo "E: Unable to locate package haproxy" >&2; exit 100; } ;;
esac
exit 0
`)
	cases := []struct {
		name    string
		tools   map[string]string
		pkgs    []string
		wantLog string
		wantErr string // substring of the error; "" for success
	}{
		{
			// Stale package lists are refreshed once, non-interactively;
			// a configuration file the host already has is kept.
			name: "apt retries after update", tools: map[string]string{"apt-get": staleLists},
			pkgs:    []string{"haproxy"},
			wantLog: "noninteractive install " + aptOpts + " -- haproxy\nnoninteractive update -q -o DPkg::Lock::Timeout=300\nnoninteractive install " + aptOpts + " -- haproxy\n",
		},
		{
			name: "apt first try, several packages", tools: map[string]string{"apt-get": logging("exit 0\n"), "dnf": logging("exit 0\n")},
			pkgs:    []string{"nginx", "nginx-common"},
			wantLog: "noninteractive install " + aptOpts + " -- nginx nginx-common\n",
		},
		{
			name: "apt fails with its last lines", tools: map[string]string{"apt-get": logging("echo 'E: no network' >&2; exit 100\n")},
			pkgs:    []string{"haproxy"},
			wantLog: "noninteractive install " + aptOpts + " -- haproxy\nnoninteractive update -q -o DPkg::Lock::Timeout=300\nnoninteractive install " + aptOpts + " -- haproxy\n",
			wantErr: "apt-get install haproxy failed:\n",
		},
		{
			// dnf and yum are never used: the provider changes only
			// Debian-family hosts (SupportedSystem refuses the others
			// before any install).
			name: "dnf and yum are not used", tools: map[string]string{"dnf": logging("exit 0\n"), "yum": logging("exit 0\n")},
			pkgs:    []string{"mariadb-server"},
			wantErr: "cannot install mariadb-server: the host has no apt-get",
		},
		{
			name: "no package manager", tools: map[string]string{},
			pkgs:    []string{"haproxy"},
			wantErr: "cannot install haproxy: the host has no apt-get",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, dir := fakeHost(t, c.tools)
			err := InstallPackages(context.Background(), r, c.pkgs)
			if c.wantErr == "" && err != nil {
				t.Fatalf("InstallPackages: %v", err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
			}
			if diff := cmp.Diff(c.wantLog, readLog(t, dir)); diff != "" {
				t.Errorf("package manager calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInstallPackagesErrorTypes(t *testing.T) {
	t.Parallel()
	r, _ := fakeHost(t, map[string]string{"apt-get": "echo 'E: no network' >&2; exit 100\n"})
	err := InstallPackages(context.Background(), r, []string{"haproxy"})
	var ie *InstallError
	if !errors.As(err, &ie) || !cmp.Equal(ie.Packages, []string{"haproxy"}) || !strings.Contains(ie.Output, "no network") ||
		!strings.Contains(ie.Output, "refreshing the package lists") {
		t.Errorf("want an *InstallError with apt-get's output, got %#v", err)
	}
}

func TestInstallPackagesRefusesBadNames(t *testing.T) {
	t.Parallel()
	for _, bad := range [][]string{{"-oDebug=1"}, {"two words"}, {""}, {"a;b"}, {"$(id)"}} {
		r := counting()
		if err := InstallPackages(context.Background(), r, bad); err == nil || r.count() != 0 {
			t.Errorf("%q: err %v after %d commands; want a refusal before anything runs", bad, err, r.count())
		}
	}
	if err := InstallPackages(context.Background(), counting(), nil); err == nil {
		t.Error("nothing to install must be an error")
	}
}
