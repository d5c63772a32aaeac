// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/golden"
)

// trickyValues exercise the environment-file escaping: spaces, both quote
// kinds, '$' forms, backslashes in every position, '=', '#', ';', '`',
// leading/trailing spaces, non-ASCII, and the empty string.
var trickyValues = map[string]string{
	"PLAIN":       "value",
	"EMPTY":       "",
	"SPACES":      "  two  spaces inside and around  ",
	"DQ":          `say "hi"`,
	"SQ":          `it's`,
	"DOLLAR":      `$HOME ${HOME} $(id) $$ $`,
	"BACKTICK":    "`id`",
	"BACKSLASH":   `a\b\\c\`,
	"BS_DQ":       `\"`,
	"BS_DOLLAR":   `\$HOME`,
	"EQUALS":      "a=b==c",
	"HASH":        "# not a comment ; nor this",
	"DB_DSN":      `user:p@ss w0rd!"'$\@tcp(127.0.0.1:3306)/shop?parseTime=true`,
	"UNICODE":     "héllo wörld ✓",
	"TRAILING_BS": `ends with \`,
	"STAR":        "*",
	"TILDE":       "~root",
}

func sampleApp() App {
	return App{
		Name:            "shop",
		User:            "shop",
		Group:           "shop",
		WorkingDir:      "/opt/foobar/shop",
		ArtifactPath:    "/opt/foobar/shop/bin/shop",
		Command:         []string{"/opt/foobar/shop/bin/shop", "--listen", "127.0.0.1:8080", "--greeting", `it's "100%" $cheap; \o/`},
		Environment:     map[string]string{"DB_DSN": "shop:s3cret@tcp(10.0.0.5:3306)/shop", "APP_ENV": "production", "GREETING": `say "hi" for $5`},
		Port:            8080,
		HealthCheckPath: "/healthz",
		Restart:         RestartPolicy{Mode: "on-failure", DelaySeconds: 5},
		ReloadSignal:    "HUP",
	}
}

func TestAppGolden(t *testing.T) {
	t.Parallel()
	a := sampleApp()
	noReload := sampleApp()
	noReload.ReloadSignal = ""
	noReload.Restart = RestartPolicy{}
	render := map[string]func() ([]byte, error){
		"app.service":          func() ([]byte, error) { return a.SystemdUnit(Options{}) },
		"app.init":             func() ([]byte, error) { return a.SysvScript(Options{}) },
		"app.env":              func() ([]byte, error) { return a.EnvFile() },
		"app_noreload.service": func() ([]byte, error) { return noReload.SystemdUnit(Options{}) },
		"app_noreload.init":    func() ([]byte, error) { return noReload.SysvScript(Options{}) },
	}
	for name, fn := range render {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := fn()
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", name+".golden"), got)
			first := bytes.SplitN(got, []byte("\n"), 3)
			if !bytes.Equal(first[0], []byte(strings.TrimSuffix(Header, "\n"))) && !bytes.Equal(first[1], []byte(strings.TrimSuffix(Header, "\n"))) {
				t.Errorf("no managed header in the first two lines")
			}
		})
	}
}

// TestSecretsStayInTheEnvFile: environment values appear in the env file
// and nowhere else.
func TestSecretsStayInTheEnvFile(t *testing.T) {
	t.Parallel()
	a := sampleApp()
	a.Environment["API_TOKEN"] = "tok-5ecret-XYZ"
	files, err := a.Files(Options{})
	if err != nil {
		t.Fatal(err)
	}
	argv := strings.Join(a.EnsureUserArgv(), " ") + a.ExecStart()
	for _, f := range files {
		has := strings.Contains(string(f.Content), "tok-5ecret-XYZ")
		isEnv := strings.HasSuffix(f.Path, ".env")
		if has != isEnv {
			t.Errorf("%s: contains secret = %v", f.Path, has)
		}
		if isEnv && (f.Mode != 0o600 || f.Owner != "root" || !f.Secret) {
			t.Errorf("env file mode %v owner %s secret %v", f.Mode, f.Owner, f.Secret)
		}
	}
	if strings.Contains(argv, "tok-5ecret") {
		t.Errorf("secret in argv")
	}
}

func TestEnvFileDeterministic(t *testing.T) {
	t.Parallel()
	a := sampleApp()
	a.Environment = trickyValues
	first, err := a.EnvFile()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		again, _ := a.EnvFile()
		if !bytes.Equal(first, again) {
			t.Fatalf("env file differs on render %d", i)
		}
	}
	u1, _ := a.SystemdUnit(Options{})
	s1, _ := a.SysvScript(Options{})
	for i := 0; i < 20; i++ {
		u2, _ := a.SystemdUnit(Options{})
		s2, _ := a.SysvScript(Options{})
		if !bytes.Equal(u1, u2) || !bytes.Equal(s1, s2) {
			t.Fatal("unit or script differs between renders")
		}
	}
}

// TestEnvFileRoundTripSh sources the rendered file with /bin/sh (set -a; .)
// and compares what the shell exported with the model. Each shell that is
// installed is tried (dash is /bin/sh on Debian; bash as sh elsewhere).
func TestEnvFileRoundTripSh(t *testing.T) {
	t.Parallel()
	a := sampleApp()
	a.Environment = trickyValues
	content, err := a.EnvFile()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "app.env")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	shells := []string{"/bin/sh"}
	for _, s := range []string{"/bin/bash", "/bin/dash", "/bin/busybox"} {
		if _, err := os.Stat(s); err == nil {
			shells = append(shells, s)
		}
	}
	for _, sh := range shells {
		t.Run(filepath.Base(sh), func(t *testing.T) {
			t.Parallel()
			for key, want := range trickyValues {
				argv := []string{sh, "-c", `set -a; . "$1"; printf %s "$(printenv "$2")"`, "sh", file, key}
				if sh == "/bin/busybox" {
					argv = append([]string{sh, "sh"}, argv[1:]...)
				}
				res, err := remote.LocalRunner{}.Run(context.Background(), remote.Cmd{Argv: argv})
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				// $(...) strips trailing newlines only; values have none.
				if got := string(res.Stdout); got != want {
					t.Errorf("%s: sh read %q, want %q", key, got, want)
				}
			}
		})
	}
}

// TestEnvFileRoundTripSystemd parses the rendered file with a transcription
// of systemd's EnvironmentFile= parser.
func TestEnvFileRoundTripSystemd(t *testing.T) {
	t.Parallel()
	a := sampleApp()
	a.Environment = trickyValues
	content, err := a.EnvFile()
	if err != nil {
		t.Fatal(err)
	}
	got := parseSystemdEnvFile(string(content))
	if diff := cmp.Diff(trickyValues, got); diff != "" {
		t.Errorf("systemd reads (-want +got):\n%s", diff)
	}
}

// TestSystemdEnvParser checks the transcription against examples from
// systemd's own documentation and tests, so that the round trip above is
// not a parser agreeing with itself.
func TestSystemdEnvParser(t *testing.T) {
	t.Parallel()
	src := "# comment\n; also comment\nA=plain\nB = spaced value  \nC=\"double \\\"q\\\" \\$x \\\\ \\n kept\"\nD='single \\ literal'\nE=un\\\"quoted\nexport_not=1\n"
	want := map[string]string{
		"A":          "plain",
		"B":          "spaced value",
		"C":          `double "q" $x \ \n kept`,
		"D":          `single \ literal`,
		"E":          `un"quoted`,
		"export_not": "1",
	}
	if diff := cmp.Diff(want, parseSystemdEnvFile(src)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExecStartRoundTrip(t *testing.T) {
	t.Parallel()
	cases := [][]string{
		{"/usr/bin/app"},
		{"/usr/bin/app", "--port", "8080"},
		{"/usr/bin/app", "", "two words", `"dq"`, "it's", "100%", "%n", "$HOME", "${X}", "$$", ";", "a;b", `back\slash`, `\`, "tab-free", "ünï", "-", "@x", "=", "'", "\"'\""},
	}
	for _, argv := range cases {
		a := sampleApp()
		a.Command = argv
		line := a.ExecStart()
		got, err := parseSystemdExec(line)
		if err != nil {
			t.Errorf("ExecStart=%s: %v", line, err)
			continue
		}
		if diff := cmp.Diff(argv, got); diff != "" {
			t.Errorf("ExecStart=%s (-want +got):\n%s", line, diff)
		}
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on the rendered unit
// (with a program that exists here) and fails on any complaint.
func TestSystemdAnalyzeVerify(t *testing.T) {
	t.Parallel()
	bin := lookBinary(t, "systemd-analyze")
	a := sampleApp()
	a.User, a.Group = "foobar-test", "foobar-test"
	a.Command = append([]string{"/bin/sleep"}, "10", "it's \"100%\" $cheap; \\o/", ";", "")
	for _, reload := range []string{"HUP", ""} {
		a.ReloadSignal = reload
		unit, err := a.SystemdUnit(Options{})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		p := filepath.Join(dir, ServiceName(a.Name)+".service")
		if err := os.WriteFile(p, unit, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "verify", p).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("systemd-analyze verify (reload %q): err=%v\n%s\n%s", reload, err, out, unit)
		}
	}
	// The check can fail: a broken unit is reported.
	bad := filepath.Join(t.TempDir(), "foobar-bad.service")
	if err := os.WriteFile(bad, []byte("[Service]\nExecStart=/bin/sleep \"unbalanced\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "verify", bad).CombinedOutput(); err == nil {
		t.Errorf("systemd-analyze verify accepted a broken unit: %s", out)
	}
}

func TestAppValidateNamesAttributes(t *testing.T) {
	t.Parallel()
	const secret = "sup3r-s3cret-value"
	cases := []struct {
		name   string
		mutate func(*App)
		want   []string
	}{
		{"valid", func(*App) {}, nil},
		{"names", func(a *App) { a.Name = ""; a.User = "root"; a.Group = "Shop" }, []string{`app.name: name ""`, `app.user: user or group name "root"`, `app.group: user or group name "Shop"`}},
		{"dirs", func(a *App) { a.WorkingDir = "/"; a.ArtifactPath = "bin/shop" }, []string{`app.working_dir: path "/": the application needs a directory of its own`, `app.artifact_path: path "bin/shop" must be absolute`}},
		{"command", func(a *App) { a.Command = []string{"shop", "ok", "new\nline"} }, []string{`app.command[0]: path "shop" must be absolute`, `app.command[2]: argument "new\nline" contains a control character`}},
		{"no command", func(a *App) { a.Command = nil }, []string{"app.command: a command is required"}},
		{"env", func(a *App) {
			a.Environment = map[string]string{"DB_DSN": secret + "\n", "1BAD": "x", "IFS": "x", "OK": secret}
		}, []string{`app.environment["1BAD"]: environment variable name "1BAD"`, `app.environment["DB_DSN"]: environment variable value contains a control character`, `app.environment["IFS"]: environment variable name "IFS" is reserved`}},
		{"misc", func(a *App) {
			a.Port = 0
			a.HealthCheckPath = "healthz"
			a.Restart = RestartPolicy{Mode: "sometimes", DelaySeconds: -1}
			a.ReloadSignal = "KILL"
		}, []string{"app.port: port 0", `app.health_check_path: health check path "healthz"`, `app.restart.mode: value "sometimes"`, "app.restart.delay_seconds: delay -1", `app.reload_signal: signal "KILL"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := sampleApp()
			tc.mutate(&a)
			err := a.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var es fault.FieldErrors
			if !errors.As(err, &es) {
				t.Fatalf("want fault.FieldErrors, got %v", err)
			}
			if len(es) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(es), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.Contains(es[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, es[i].Error(), w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks an environment value: %v", err)
			}
			for _, fn := range []func() ([]byte, error){a.EnvFile, func() ([]byte, error) { return a.SystemdUnit(Options{}) }, func() ([]byte, error) { return a.SysvScript(Options{}) }} {
				if _, rerr := fn(); rerr == nil {
					t.Errorf("a renderer accepted an app that Validate refused")
				}
			}
		})
	}
}

func TestCheckPairAndHealthURL(t *testing.T) {
	t.Parallel()
	s, a := plainSite(), sampleApp()
	if err := CheckPair(s, a); err != nil {
		t.Errorf("matching pair: %v", err)
	}
	s.AppPort = 9090
	if err := CheckPair(s, a); err == nil || !strings.Contains(err.Error(), "app.port") {
		t.Errorf("mismatched ports: %v", err)
	}
	if got := a.HealthCheckURL(); got != "http://127.0.0.1:8080/healthz" {
		t.Errorf("health URL %q", got)
	}
}

// TestEnsureUserArgv checks the argv shape: a constant script, with the
// user values as positional arguments.
func TestEnsureUserArgv(t *testing.T) {
	t.Parallel()
	got := sampleApp().EnsureUserArgv()
	want := []string{"/bin/sh", "-c", ensureUserScript, "sh", "shop", "shop", "/opt/foobar/shop"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestSysvScriptLifecycle runs the rendered init script for real: start an
// application through start-stop-daemon as an unprivileged user, check that
// it received its argv and environment (secrets included) and logs to the
// log file, then status, reload, stop. Needs root and start-stop-daemon.
func TestSysvScriptLifecycle(t *testing.T) {
	t.Parallel()
	lookBinary(t, "start-stop-daemon")
	if os.Geteuid() != 0 {
		if os.Getenv("FOOBAR_REQUIRE_BINARIES") == "1" {
			t.Fatal("this test needs root (start-stop-daemon --chuid)")
		}
		t.Skip("needs root (start-stop-daemon --chuid)")
	}
	dir := t.TempDir()
	// The application runs as nobody: it must reach its working directory
	// and log file, so open up the temporary directory and its parent.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l := Layout{InitDir: dir + "/init.d", EnvDir: dir + "/env", AppLogDir: dir + "/log", RunDir: dir + "/run"}
	work := filepath.Join(dir, "work")
	for _, d := range []string{l.InitDir, l.EnvDir, l.RunDir, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := sampleApp()
	a.Name = "lifecycle-test"
	a.User, a.Group = "nobody", "nogroup"
	a.WorkingDir = work
	a.Environment = trickyValues
	// The "application": prints its argv and two variables, then waits,
	// reopening nothing; the reload signal is trapped and logged to prove
	// reload works. The trap is set before anything is printed: the test
	// reloads as soon as the output is complete, and a signal before the
	// trap would kill it. USR1, not HUP: under nohup (or any parent that
	// ignores HUP) the shell inherits HUP ignored and may not trap it.
	a.Command = []string{"/bin/sh", "-c", `trap 'echo reloaded' USR1; printf 'arg=[%s]\n' "$@"; printf 'dsn=[%s]\nbs=[%s]\npwd=[%s]\nuser=[%s]\n' "$DB_DSN" "$BACKSLASH" "$(pwd)" "$(id -un)"; while :; do sleep 1; done`, "app", "two words", "it's \"q\" $HOME;"}
	a.ReloadSignal = "USR1"
	o := Options{Layout: l}
	files, err := a.Files(o)
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".service") {
			continue
		}
		if err := os.WriteFile(f.Path, f.Content, f.Mode); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(f.Path, "init.d") {
			script = f.Path
		}
	}
	run := func(action string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := remote.LocalRunner{}.Run(ctx, remote.Cmd{Argv: []string{script, action}})
		var ee *remote.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s: %v", action, err)
		}
		return string(res.Stdout) + string(res.Stderr), res.ExitStatus
	}
	t.Cleanup(func() { run("stop") })

	if out, rc := run("status"); rc != 3 {
		t.Fatalf("status before start: rc %d, %s", rc, out)
	}
	if out, rc := run("start"); rc != 0 {
		t.Fatalf("start: rc %d, %s", rc, out)
	}
	logPath := l.AppLogPath(a.Name)
	want := "arg=[two words]\narg=[it's \"q\" $HOME;]\ndsn=[" + trickyValues["DB_DSN"] + "]\nbs=[" + trickyValues["BACKSLASH"] + "]\npwd=[" + work + "]\nuser=[nobody]\n"
	waitFor(t, func() bool { b, _ := os.ReadFile(logPath); return string(b) == want }, func() string { b, _ := os.ReadFile(logPath); return string(b) })
	if out, rc := run("status"); rc != 0 || !strings.Contains(out, "is running") {
		t.Fatalf("status after start: rc %d, %s", rc, out)
	}
	if out, rc := run("start"); rc != 0 {
		t.Fatalf("second start (idempotent): rc %d, %s", rc, out)
	}
	if out, rc := run("reload"); rc != 0 {
		t.Fatalf("reload: rc %d, %s", rc, out)
	}
	waitFor(t, func() bool { b, _ := os.ReadFile(logPath); return strings.HasSuffix(string(b), "reloaded\n") }, func() string { b, _ := os.ReadFile(logPath); return string(b) })
	if out, rc := run("stop"); rc != 0 {
		t.Fatalf("stop: rc %d, %s", rc, out)
	}
	if out, rc := run("status"); rc != 3 {
		t.Fatalf("status after stop: rc %d, %s", rc, out)
	}
	if _, err := os.Stat(l.PIDFilePath(a.Name)); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if out, rc := run("bogus"); rc != 2 {
		t.Errorf("unknown action: rc %d, %s", rc, out)
	}
}

func waitFor(t *testing.T, cond func() bool, show func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; have:\n%s", show())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uidLogger is acctest.UIDLogger: the acceptance test on a lab host
// (TestAccWebServer_sysvEnvironmentNeverRoot) loads the same library.
const uidLogger = acctest.UIDLogger

// TestSysvScriptEnvironmentNeverRoot runs the rendered init script for real
// with app.environment = { LD_PRELOAD = <a library that logs its uid> }:
// the library must be loaded into the application (as its user) and into
// no process that runs as root (issue 13.3). Needs root, start-stop-daemon
// and a C compiler.
func TestSysvScriptEnvironmentNeverRoot(t *testing.T) {
	t.Parallel()
	lookBinary(t, "start-stop-daemon")
	cc := lookBinary(t, "gcc")
	if os.Geteuid() != 0 {
		if os.Getenv("FOOBAR_REQUIRE_BINARIES") == "1" {
			t.Fatal("this test needs root (start-stop-daemon --chuid)")
		}
		t.Skip("needs root (start-stop-daemon --chuid)")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, lib, uidLog := filepath.Join(dir, "uidlog.c"), filepath.Join(dir, "uidlog.so"), filepath.Join(dir, "uid.log")
	if err := os.WriteFile(src, []byte(uidLogger), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("compiling the preload library: %v\n%s", err, out)
	}
	if err := os.WriteFile(uidLog, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(uidLog, 0o666); err != nil {
		t.Fatal(err)
	}
	l := Layout{InitDir: dir + "/init.d", EnvDir: dir + "/env", AppLogDir: dir + "/log", RunDir: dir + "/run"}
	work := filepath.Join(dir, "work")
	for _, d := range []string{l.InitDir, l.EnvDir, l.RunDir, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := sampleApp()
	a.Name = "preload-test"
	a.User, a.Group = "nobody", "nogroup"
	a.WorkingDir = work
	a.Environment = map[string]string{"LD_PRELOAD": lib, "FOOBAR_UID_LOG": uidLog, "SECRET": "s3cr3t"}
	a.Command = []string{"/bin/sh", "-c", `echo "secret=[$SECRET]"; exec sleep 600`}
	a.ReloadSignal = "USR1"
	files, err := a.Files(Options{Layout: l})
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".service") {
			continue
		}
		if err := os.WriteFile(f.Path, f.Content, f.Mode); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(f.Path, "init.d") {
			script = f.Path
		}
	}
	run := func(action string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if res, err := (remote.LocalRunner{}).Run(ctx, remote.Cmd{Argv: []string{script, action}}); err != nil {
			t.Fatalf("%s: %v: %s%s", action, err, res.Stdout, res.Stderr)
		}
	}
	t.Cleanup(func() {
		_, _ = (remote.LocalRunner{}).Run(context.Background(), remote.Cmd{Argv: []string{script, "stop"}})
	})
	run("start")
	logPath := l.AppLogPath(a.Name)
	waitFor(t, func() bool { b, _ := os.ReadFile(logPath); return string(b) == "secret=[s3cr3t]\n" }, func() string { b, _ := os.ReadFile(logPath); return string(b) })
	run("reload")
	run("status")
	run("stop")

	b, err := os.ReadFile(uidLog)
	if err != nil {
		t.Fatal(err)
	}
	nobody := fmt.Sprintf("uid=65534 euid=65534 exe=%s", "/usr/bin/sleep")
	var root, app []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		switch {
		case strings.HasPrefix(line, "uid=0 ") || strings.Contains(line, " euid=0 "):
			root = append(root, line)
		case strings.HasPrefix(line, nobody):
			app = append(app, line)
		}
	}
	if len(root) > 0 {
		t.Errorf("the application's LD_PRELOAD was loaded into root processes:\n%s", strings.Join(root, "\n"))
	}
	if len(app) == 0 {
		t.Errorf("the library was never loaded into the application (as nobody); log:\n%s", b)
	}
}
