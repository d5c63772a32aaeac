// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValidateManagedDir: directories of the system and of other services
// are refused with the reason; sites' and add-on software's places are
// accepted.
func TestValidateManagedDir(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dir  string
		want string // "" accepted, else a part of the error
	}{
		{"/srv/www/shop", ""},
		{"/srv/shop", ""},
		{"/var/www/html", ""},
		{"/var/www/shop/public", ""},
		{"/opt/shop", ""},
		{"/opt/foobar/shop", ""},
		{"/home/alice/www", ""},
		{"/", "the system"},
		{"/etc", "the system's configuration"},
		{"/etc/ssh", "the system's configuration"},
		{"/etc/nginx/sites-enabled", "the system's configuration"},
		{"/usr/bin", "installed software"},
		{"/usr/local/bin", "installed software"},
		{"/bin", "installed programs"},
		{"/sbin", "installed programs"},
		{"/lib/systemd", "system libraries"},
		{"/boot", "the kernel and the boot loader"},
		{"/dev/shm", "device files"},
		{"/proc/1", "process information"},
		{"/sys/fs", "driver information"},
		{"/run/foobar", "runtime state"},
		{"/root/.ssh", "hidden element"},
		{"/root/site", "the root account's home"},
		{"/tmp/www", "temporary files"},
		{"/var/lib/mysql", "databases"},
		{"/var/lib/foobar", "databases"},
		{"/var/log", "logs"},
		{"/var/log/nginx", "logs"},
		{"/var/spool/cron", "queued mail and jobs"},
		{"/var", "the services' data"},
		{"/var/www", "shared by every site"},
		{"/srv", "shared by every site"},
		{"/opt", "shared by every site"},
		{"/opt/foobar", "every application's working directory"},
		{"/home", "shared by every site"},
		{"/home/alice", "a user's home directory"},
		{"/home/alice/.ssh", "hidden element"},
		{"/srv/www/.git", "hidden element"},
		{"/data/www", "outside the directories the provider manages"},
		{"/srv/../etc", "must not contain"},
		{"/srv/www/", "not normalized"},
		{"srv/www", "must be absolute"},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			err := ValidateManagedDir(tc.dir)
			got := ""
			if err != nil {
				got = err.Error()
				if !strings.Contains(got, tc.want) || tc.want == "" {
					t.Errorf("ValidateManagedDir(%q) = %v, want an error containing %q", tc.dir, err, tc.want)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ValidateManagedDir(%q) accepted it (-want +got):\n%s", tc.dir, diff)
			}
		})
	}
}

// TestCheckManagedDirs: each managed directory of a deployment is checked
// and named by its attribute; Deployment.Validate (and so Deploy) refuses
// them before anything is sent.
func TestCheckManagedDirs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*Site, *App)
		want   []string
	}{
		{"sample", func(*Site, *App) {}, nil},
		{"document root /etc", func(s *Site, _ *App) { s.DocumentRoot = "/etc" }, []string{`document_root: path "/etc" belongs to the system`}},
		{"working dir /etc", func(_ *Site, a *App) { a.WorkingDir = "/etc" }, []string{`app.working_dir: path "/etc" belongs to the system`}},
		{"artifact over a system program", func(_ *Site, a *App) { a.ArtifactPath = "/usr/bin/ls" }, []string{`app.artifact_path: the artifact's directory: path "/usr/bin"`}},
		{"all three", func(s *Site, a *App) {
			s.DocumentRoot, a.WorkingDir, a.ArtifactPath = "/var/lib/mysql", "/root", "/boot/x"
		}, []string{
			`document_root: path "/var/lib/mysql"`, `app.working_dir: path "/root"`, `app.artifact_path: the artifact's directory: path "/boot"`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, a := plainSite(), sampleApp()
			tc.mutate(&s, &a)
			var got []string
			for _, err := range []error{CheckManagedDirs(s, a), Deployment{Site: s, App: a, Artifact: []byte("x")}.Validate()} {
				if err == nil {
					continue
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				got = append(got, err.Error())
			}
			if (len(got) == 0) != (len(tc.want) == 0) {
				t.Errorf("errors %q, want ones containing %q", got, tc.want)
			}
		})
	}
}
