// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

const sudoPassword = "s3cret pass'word"

// newSudoFixture starts a server whose commands find testdata/fake-sudo
// first on PATH as `sudo`, in the given mode (see the script).
func newSudoFixture(t *testing.T, mode string) *fixture {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "fake-sudo"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "sudo"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, sshtest.Options{
		HostKeys: hostKeys(t, "ed25519"),
		Env:      []string{"PATH=" + bin + ":/usr/bin:/bin", "FAKESUDO_MODE=" + mode, "FAKESUDO_PASSWORD=" + sudoPassword},
	})
	f.cfg.Sudo = true
	return f
}

// asRoot prints whether the command ran through (fake) sudo, then its stdin.
var asRoot = remote.Script(`printf 'root=%s stdin=' "${FAKESUDO_AS_ROOT:-no}"; cat`)

func TestSudo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		mode     string
		user     string
		password string
		// wantLine is how the privileged command line starts.
		wantLine string
		wantRoot string
	}{
		{"passwordless", "nopasswd", "deploy", "", "sudo -n -- env 'LC_ALL=C' /bin/sh -c ", "1"},
		{"passwordless, password configured anyway", "nopasswd", "deploy", "unused", "sudo -n -- env 'LC_ALL=C' /bin/sh -c ", "1"},
		{"with password", "password", "deploy", sudoPassword, "sudo -k -S -p '[sudo:", "1"},
		{"root needs no sudo", "password", "root", "", "env 'LC_ALL=C' /bin/sh -c ", "no"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSudoFixture(t, tc.mode)
			cfg := f.cfg
			cfg.User = tc.user
			cfg.SudoPassword = tc.password
			c := mustDial(t, cfg)
			for i := range 2 {
				res, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: asRoot, Stdin: strings.NewReader("payload\n")})
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				// The password line never reaches the command's stdin, and the
				// prompt never reaches stderr.
				if got, want := string(res.Stdout), "root="+tc.wantRoot+" stdin=payload\n"; got != want {
					t.Errorf("run %d: stdout %q, want %q", i, got, want)
				}
				if len(res.Stderr) != 0 {
					t.Errorf("run %d: stderr %q", i, res.Stderr)
				}
			}
			// Unprivileged commands skip sudo.
			res, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: asRoot, Unprivileged: true})
			if err != nil || string(res.Stdout) != "root=no stdin=" {
				t.Errorf("unprivileged: %q, %v", res.Stdout, err)
			}

			execs := f.srv.Execs()
			var commands []string
			probes := 0
			for _, e := range execs {
				if tc.password != "" && strings.Contains(e, tc.password) {
					t.Errorf("the password appears in a command line: %q", e)
				}
				switch {
				case strings.Contains(e, "sudo -n true"), strings.Contains(e, "sudo -k -S -v"):
					probes++
				default:
					commands = append(commands, e)
				}
			}
			if len(commands) != 3 {
				t.Fatalf("commands %q", commands)
			}
			for _, cmd := range commands[:2] {
				if !strings.HasPrefix(cmd, tc.wantLine) {
					t.Errorf("command line %q does not start with %q", cmd, tc.wantLine)
				}
			}
			// Detection happens once per connection (probe, plus the
			// password check when one is needed).
			wantProbes := map[string]int{"nopasswd": 1, "password": 2}[tc.mode]
			if tc.user == "root" {
				wantProbes = 0
			}
			if probes != wantProbes {
				t.Errorf("%d detection commands, want %d: %q", probes, wantProbes, execs)
			}
		})
	}
}

func TestSudoErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		mode     string
		password string
		kind     SudoErrorKind
		want     string
	}{
		{"password required, none set", "password", "", SudoPasswordRequired, "sudo on 127.0.0.1 requires a password for user deploy: set sudo_password"},
		{"wrong password", "password", "wrong", SudoPasswordRejected, "sudo on 127.0.0.1 rejected the password for user deploy"},
		{"not in sudoers", "notsudoer", sudoPassword, SudoNotAllowed, "user deploy is not allowed to run commands as root with sudo on 127.0.0.1 (check /etc/sudoers): deploy is not in the sudoers file."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSudoFixture(t, tc.mode)
			cfg := f.cfg
			cfg.SudoPassword = tc.password
			c := mustDial(t, cfg)
			for i := range 2 {
				_, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: []string{"touch", "/tmp/must-not-run"}, Stdin: strings.NewReader("data\n")})
				var se *SudoError
				if !errors.As(err, &se) || se.Kind != tc.kind {
					t.Fatalf("run %d: want *SudoError kind %d, got %T: %v", i, tc.kind, err, err)
				}
				if err.Error() != tc.want {
					t.Errorf("message\n got %q\nwant %q", err, tc.want)
				}
			}
			// The command never ran, and a wrong password was tried only
			// once (on a real host, retries could lock the account).
			validations := 0
			for _, e := range f.srv.Execs() {
				if strings.Contains(e, "touch") {
					t.Errorf("the command ran: %q", e)
				}
				if strings.Contains(e, "sudo -k -S -v") {
					validations++
				}
			}
			if tc.password != "" && validations != 1 {
				t.Errorf("password validated %d times, want once", validations)
			}
		})
	}
}

// TestSudoStripsPromptAndKeepsExitStatus: a failing privileged command is
// the command's failure, not sudo's, and its stderr holds no prompt.
func TestSudoStripsPromptAndKeepsExitStatus(t *testing.T) {
	t.Parallel()
	f := newSudoFixture(t, "password")
	cfg := f.cfg
	cfg.SudoPassword = sudoPassword
	c := mustDial(t, cfg)
	res, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: remote.Script("echo 'it failed' >&2; exit 1")})
	var ee *remote.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus != 1 {
		t.Fatalf("want *remote.ExitError status 1, got %v", err)
	}
	if string(res.Stderr) != "it failed\n" || ee.Stderr != "it failed\n" {
		t.Errorf("stderr %q / %q, want only the command's", res.Stderr, ee.Stderr)
	}
}

func TestSudoNotInstalled(t *testing.T) {
	t.Parallel()
	// PATH has env but no sudo.
	bin := t.TempDir()
	envPath, err := exec.LookPath("env")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(envPath, filepath.Join(bin, "env")); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519"), Env: []string{"PATH=" + bin}})
	cfg := f.cfg
	cfg.Sudo = true
	c := mustDial(t, cfg)
	_, err = c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: []string{"true"}})
	var se *SudoError
	if !errors.As(err, &se) || se.Kind != SudoNotInstalled {
		t.Fatalf("want SudoNotInstalled, got %v", err)
	}
}

// TestSudoPasswordOnlyToSudoThatAsks: with sudo_password set, the password
// is written only after sudo prompts for it. Where the sudoers policy asks
// a password for the detection commands but none for the command itself
// (mode mixed), sudo reads nothing, and the command's stdin must still be
// exactly what the caller sent: the password line must not come first.
func TestSudoPasswordOnlyToSudoThatAsks(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB, beyond any channel window
	cases := []struct {
		name  string
		mode  string
		stdin *string
	}{
		{"mixed policy, payload", "mixed", ptr("SELECT 1;\n")},
		{"mixed policy, no stdin", "mixed", nil},
		{"mixed policy, large payload", "mixed", &big},
		{"password asked, payload", "password", ptr("SELECT 1;\n")},
		{"password asked, no stdin", "password", nil},
		{"password asked, large payload", "password", &big},
		{"passwordless, payload", "nopasswd", ptr("SELECT 1;\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSudoFixture(t, tc.mode)
			cfg := f.cfg
			cfg.SudoPassword = sudoPassword
			c := mustDial(t, cfg)
			for i := range 2 {
				cmd := remote.Cmd{Argv: asRoot}
				want := "root=1 stdin="
				if tc.stdin != nil {
					cmd.Stdin = strings.NewReader(*tc.stdin)
					want += *tc.stdin
				}
				res, err := c.Run(testCtx(t, 20*time.Second), cmd)
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				if got := string(res.Stdout); got != want {
					if strings.Contains(got, sudoPassword) {
						t.Errorf("run %d: the sudo password reached the command's stdin", i)
					}
					t.Fatalf("run %d: stdout (%d bytes) starts %q, want (%d bytes) %.40q", i, len(got), got[:min(len(got), 60)], len(want), want)
				}
				if len(res.Stderr) != 0 {
					t.Errorf("run %d: stderr %q", i, res.Stderr)
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestSudoErrorsNeverShowSecrets: whatever a failing command prints, the
// errors and the result the transport returns hold none of the
// connection's secrets.
func TestSudoErrorsNeverShowSecrets(t *testing.T) {
	t.Parallel()
	f := newSudoFixture(t, "nopasswd")
	cfg := f.cfg
	cfg.SudoPassword = sudoPassword
	c := mustDial(t, cfg)
	// The command prints the password itself (as a client would echo a
	// statement it could not parse).
	res, err := c.Run(testCtx(t, 10*time.Second), remote.Cmd{Argv: remote.Script(`cat >&2; exit 1`),
		Stdin: strings.NewReader(`near "` + sudoPassword + `": syntax error` + "\n")})
	var ee *remote.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus != 1 {
		t.Fatalf("want *remote.ExitError status 1, got %v", err)
	}
	for what, text := range map[string]string{"error": err.Error(), "ExitError.Stderr": ee.Stderr, "Result.Stderr": string(res.Stderr)} {
		if strings.Contains(text, sudoPassword) {
			t.Errorf("the %s shows the sudo password: %q", what, text)
		}
		if !strings.Contains(text, `near "***": syntax error`) {
			t.Errorf("the %s lost the message: %q", what, text)
		}
	}
}
