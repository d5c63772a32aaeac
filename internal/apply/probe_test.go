// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// TestProbe reads files of every kind, services and commands in one round
// trip, hashing with openssl where the host has it and with sha256sum
// where it does not (the second run hides openssl from the script).
func TestProbe(t *testing.T) {
	t.Parallel()
	t.Run("openssl", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Fatal("openssl is not installed on this machine (tools/deps.sh installs it)")
		}
		testProbe(t, counting())
	})
	t.Run("sha256sum", func(t *testing.T) {
		t.Parallel()
		// A PATH of every command of this machine but openssl.
		bin := t.TempDir()
		for _, dir := range []string{"/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() == "openssl" {
					continue
				}
				_ = os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(bin, e.Name())) // first wins
			}
		}
		r := counting()
		r.hook = func(ctx context.Context, _ int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
			cmd.Argv = append([]string{"env", "PATH=" + bin}, cmd.Argv...)
			return next(ctx, cmd)
		}
		testProbe(t, r)
	})
}

func testProbe(t *testing.T, r *hookRunner) {
	h := newHost(t)
	h.write("with space/a file.cfg", "hello world\n")
	h.write("empty.cfg", "")
	h.write("big.cfg", strings.Repeat("x", 100))
	// Names that sha256sum escapes (a backslash) and that shell field
	// splitting would trim (a trailing space).
	h.write("back\\slash.cfg", "b\n")
	h.write("trailing space ", "t\n")
	must(t, os.Chmod(h.path("with space/a file.cfg"), 0o640))
	must(t, os.Symlink("a file.cfg", h.path("with space/link")))

	snap, err := Probe(context.Background(), r, ProbeRequest{
		Paths:      []string{h.path("with space/a file.cfg"), h.path("missing"), h.path("with space/link"), h.path("with space"), h.path("back\\slash.cfg")},
		Content:    []string{h.path("with space/a file.cfg"), h.path("empty.cfg"), h.path("big.cfg"), h.path("missing"), h.path("trailing space ")},
		MaxContent: 50,
		Services:   []string{"foobar-no-such-service", "foobar-no-such-service-2"},
		Commands: [][]string{
			{"printf", "%s\\n", "two words", "$(id)"},
			{"sh", "-c", "echo to stderr >&2; exit 3"},
			{"head", "-c", "200", "/dev/zero"},
		},
	})
	must(t, err)
	if r.count() != 1 {
		t.Errorf("probe took %d round trips", r.count())
	}
	// The host's os-release comes with every probe (this machine's).
	if mine, err := os.ReadFile("/etc/os-release"); err == nil && snap.OSRelease != string(mine) {
		t.Errorf("OSRelease = %q, want this machine's /etc/os-release %q", snap.OSRelease, mine)
	}

	want := map[string]FileInfo{
		h.path("with space/a file.cfg"): {Path: h.path("with space/a file.cfg"), Exists: true, Kind: KindFile, Size: 12, Mode: 0o640,
			Owner: h.owner, Group: h.group, SHA256: Checksum([]byte("hello world\n")), Content: []byte("hello world\n")},
		h.path("missing"):         {Path: h.path("missing")},
		h.path("with space/link"): {Path: h.path("with space/link"), Exists: true, Kind: KindSymlink, Size: 10, Mode: 0o777, Owner: h.owner, Group: h.group},
		h.path("with space"):      {Path: h.path("with space"), Exists: true, Kind: KindDir, Mode: 0o755, Owner: h.owner, Group: h.group},
		h.path("empty.cfg"): {Path: h.path("empty.cfg"), Exists: true, Kind: KindFile, Mode: 0o640, Owner: h.owner, Group: h.group,
			SHA256: Checksum(nil), Content: []byte{}},
		h.path("big.cfg"): {Path: h.path("big.cfg"), Exists: true, Kind: KindFile, Size: 100, Mode: 0o640, Owner: h.owner, Group: h.group,
			SHA256: Checksum([]byte(strings.Repeat("x", 100))), ContentTooLarge: true},
		h.path("back\\slash.cfg"): {Path: h.path("back\\slash.cfg"), Exists: true, Kind: KindFile, Size: 2, Mode: 0o640, Owner: h.owner, Group: h.group,
			SHA256: Checksum([]byte("b\n"))},
		h.path("trailing space "): {Path: h.path("trailing space "), Exists: true, Kind: KindFile, Size: 2, Mode: 0o640, Owner: h.owner, Group: h.group,
			SHA256: Checksum([]byte("t\n")), Content: []byte("t\n")},
	}
	ignore := cmpopts.IgnoreFields(FileInfo{}, "UID", "GID")
	dirSize := cmpopts.IgnoreFields(FileInfo{}, "Size")
	for p, w := range want {
		opts := cmp.Options{ignore}
		if w.Kind == KindDir {
			opts = append(opts, dirSize)
		}
		if d := cmp.Diff(w, snap.Files[p], opts...); d != "" {
			t.Errorf("%s (-want +got):\n%s", p, d)
		}
	}
	if len(snap.Files) != len(want) {
		t.Errorf("%d files, want %d", len(snap.Files), len(want))
	}

	wantCmds := []CommandOutput{
		{Argv: []string{"printf", "%s\\n", "two words", "$(id)"}, Stdout: []byte("two words\n$(id)\n"), Stderr: []byte{}},
		{Argv: []string{"sh", "-c", "echo to stderr >&2; exit 3"}, ExitStatus: 3, Stdout: []byte{}, Stderr: []byte("to stderr\n")},
		{Argv: []string{"head", "-c", "200", "/dev/zero"}, Stdout: make([]byte, 50), Stderr: []byte{}},
	}
	if d := cmp.Diff(wantCmds, snap.Commands, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}

	if snap.Init != Systemd && snap.Init != SysVinit {
		t.Errorf("init %q", snap.Init)
	}
	for _, name := range []string{"foobar-no-such-service", "foobar-no-such-service-2"} {
		if s := snap.Services[name]; s.Name != name || s.LoadState != "not-found" || s.Active() || s.MainPID != 0 {
			t.Errorf("service %+v", s)
		}
	}
	// The detected manager is remembered for this Runner.
	if got, err := DetectInit(context.Background(), r); err != nil || got != snap.Init || r.count() != 1 {
		t.Errorf("DetectInit after Probe: %q, %v, %d calls", got, err, r.count())
	}
}

func TestProbeRejects(t *testing.T) {
	t.Parallel()
	for name, req := range map[string]ProbeRequest{
		"relative":      {Paths: []string{"etc/x"}},
		"dotdot":        {Content: []string{"/etc/../shadow"}},
		"newline":       {Paths: []string{"/etc/x\n"}},
		"service":       {Services: []string{"-x"}},
		"service slash": {Services: []string{"a/b"}},
		"empty command": {Commands: [][]string{{}}},
		"init":          {Init: "upstart"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := counting()
			if _, err := Probe(context.Background(), r, req); err == nil || r.count() != 0 {
				t.Errorf("err %v after %d calls", err, r.count())
			}
		})
	}
}

func TestParseProbe(t *testing.T) {
	t.Parallel()
	paths := []string{"/a b", "/c"}
	svcs := []string{"haproxy"}
	cmds := [][]string{{"haproxy", "-v"}}
	good := "foobar-probe 1\ninit systemd\n" +
		"file 0 F 5 644 0 0 root root " + Checksum([]byte("hello")) + "\n" +
		"content 0 aGVsbG8=\n" +
		"file 1 M\n" +
		"service 0 active running loaded 1234\n" +
		"cmd 0 0 SEFQcm94eQ== \n" +
		"end\n"
	snap, err := parseProbe([]byte(good), paths, svcs, cmds)
	must(t, err)
	want := Snapshot{
		Init: Systemd,
		Files: map[string]FileInfo{
			"/a b": {Path: "/a b", Exists: true, Kind: KindFile, Size: 5, Mode: 0o644, Owner: "root", Group: "root", SHA256: Checksum([]byte("hello")), Content: []byte("hello")},
			"/c":   {Path: "/c"},
		},
		Services: map[string]ServiceStatus{"haproxy": {Name: "haproxy", ActiveState: "active", SubState: "running", LoadState: "loaded", MainPID: 1234}},
		Commands: []CommandOutput{{Argv: []string{"haproxy", "-v"}, Stdout: []byte("HAProxy"), Stderr: []byte{}}},
	}
	if d := cmp.Diff(want, snap); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	for name, bad := range map[string]string{
		"no end":          strings.TrimSuffix(good, "end\n"),
		"no header":       strings.TrimPrefix(good, "foobar-probe 1\n"),
		"missing file":    strings.Replace(good, "file 1 M\n", "", 1),
		"missing service": strings.Replace(good, "service 0 active running loaded 1234\n", "", 1),
		"missing command": strings.Replace(good, "cmd 0 0 SEFQcm94eQ== \n", "", 1),
		"index range":     strings.Replace(good, "file 1 M", "file 2 M", 1),
		"bad mode":        strings.Replace(good, " 644 ", " 9x ", 1),
		"bad base64":      strings.Replace(good, "aGVsbG8=", "!!", 1),
		"short file":      strings.Replace(good, "file 1 M", "file 1 F 5", 1),
		"bad kind":        strings.Replace(good, "file 0 F", "file 0 Q", 1),
		"bad pid":         strings.Replace(good, "1234", "x", 1),
		"content first":   strings.Replace(good, "file 1 M\n", "content 1 aGVsbG8=\nfile 1 M\n", 1),
	} {
		if _, err := parseProbe([]byte(bad), paths, svcs, cmds); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseProbe(f *testing.F) {
	f.Add("foobar-probe 1\ninit systemd\nfile 0 F 5 644 0 0 root root x\ncontent 0 aGVsbG8=\nservice 0 a b c 1\ncmd 0 0  \nend\n")
	f.Add("foobar-probe 1\ncontent-too-large 0\nfile 0 M\nend\n")
	f.Fuzz(func(t *testing.T, out string) {
		// Must never panic, whatever the host prints.
		_, _ = parseProbe([]byte(out), []string{"/a"}, []string{"s"}, [][]string{{"x"}})
		_, _ = parseReport([]byte(out))
		_, _, _ = parseState([]byte(out), 1)
	})
}

func TestDetectInit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	systemdDir, initd := dir+"/run-systemd", dir+"/init.d"
	must(t, os.Mkdir(systemdDir, 0o755))
	must(t, os.Mkdir(initd, 0o755))
	fake := func(name string, rc int) string {
		p := dir + "/" + name
		must(t, os.WriteFile(p, []byte("#!/bin/sh\nexit "+string(rune('0'+rc))+"\n"), 0o755))
		return p
	}
	working, broken := fake("systemctl-ok", 0), fake("systemctl-broken", 1)
	service := fake("service", 0)
	none := dir + "/absent"
	cases := []struct {
		name string
		args []string
		want Init
	}{
		{"systemd running", []string{systemdDir, initd, working, service}, Systemd},
		{"systemctl installed, systemd not pid 1", []string{none, initd, working, service}, SysVinit},
		{"systemd dir but systemctl cannot talk to it", []string{systemdDir, initd, broken, none}, SysVinit},
		{"only service(8)", []string{none, none, none, service}, SysVinit},
		{"only /etc/init.d", []string{none, initd, none, none}, SysVinit},
		{"nothing", []string{none, none, none, none}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := counting() // a fresh Runner value: no cached answer
			got, err := detectInit(context.Background(), r, tc.args)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("detected %q on a host with no service manager", got)
				}
				return
			}
			must(t, err)
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			// Cached per Runner: no second round trip.
			again, err := detectInit(context.Background(), r, tc.args)
			if err != nil || again != got || r.count() != 1 {
				t.Fatalf("second detection %q, %v after %d calls", again, err, r.count())
			}
		})
	}
}

func TestDetectInitOnThisMachine(t *testing.T) {
	t.Parallel()
	got, err := DetectInit(context.Background(), counting())
	must(t, err)
	_, statErr := os.Stat("/run/systemd/system")
	if (got == Systemd) != (statErr == nil) {
		t.Errorf("detected %q, /run/systemd/system: %v", got, statErr)
	}
}

// uncomparable is a Runner that cannot be a map key: DetectInit must not
// panic and must not cache.
type uncomparable struct {
	r *hookRunner
	_ []string // a slice field makes the type uncomparable
}

func (u uncomparable) Run(ctx context.Context, c remote.Cmd) (remote.Result, error) {
	return u.r.Run(ctx, c)
}

func TestDetectInitUncomparableRunner(t *testing.T) {
	t.Parallel()
	u := uncomparable{r: counting()}
	for range 2 {
		if _, err := DetectInit(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	if u.r.count() != 2 {
		t.Errorf("%d calls, want 2 (no cache)", u.r.count())
	}
}

func TestInitArgv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		init   Init
		action Action
		want   []string
	}{
		{Systemd, ActionReload, []string{"systemctl", "reload", "--", "haproxy"}},
		{Systemd, ActionRestart, []string{"systemctl", "restart", "--", "haproxy"}},
		{Systemd, ActionStart, []string{"systemctl", "start", "--", "haproxy"}},
		{Systemd, ActionStop, []string{"systemctl", "stop", "--", "haproxy"}},
		{Systemd, ActionEnable, []string{"systemctl", "enable", "--", "haproxy"}},
		{Systemd, ActionDisable, []string{"systemctl", "disable", "--", "haproxy"}},
		{Systemd, ActionStatus, []string{"systemctl", "is-active", "--quiet", "--", "haproxy"}},
		{Systemd, ActionReloadOrStart, []string{"systemctl", "reload-or-restart", "--", "haproxy"}},
		{Systemd, ActionReloadIfRunning, []string{"systemctl", "try-reload-or-restart", "--", "haproxy"}},
		{SysVinit, ActionReload, []string{"service", "haproxy", "reload"}},
		{SysVinit, ActionRestart, []string{"service", "haproxy", "restart"}},
		{SysVinit, ActionStart, []string{"service", "haproxy", "start"}},
		{SysVinit, ActionStop, []string{"service", "haproxy", "stop"}},
		{SysVinit, ActionStatus, []string{"service", "haproxy", "status"}},
		{SysVinit, ActionEnable, remote.Script(sysvEnableScript, "haproxy", "enable")},
		{SysVinit, ActionDisable, remote.Script(sysvEnableScript, "haproxy", "disable")},
		{SysVinit, ActionReloadOrStart, reloadOrStartArgv(
			[]string{"service", "haproxy", "status"}, []string{"service", "haproxy", "reload"}, []string{"service", "haproxy", "start"})},
		{SysVinit, ActionReloadIfRunning, reloadOrStartArgv(
			[]string{"service", "haproxy", "status"}, []string{"service", "haproxy", "reload"}, []string{"true"})},
	}
	for _, tc := range cases {
		if d := cmp.Diff(tc.want, tc.init.Argv(tc.action, "haproxy")); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", tc.init, tc.action, d)
		}
	}
}

// The sysvinit form of ActionReloadOrStart, with fakes for the init
// script's status, reload and start.
func TestReloadOrStartArgv(t *testing.T) {
	t.Parallel()
	run := func(argv []string) (string, int, error) {
		res, err := remote.LocalRunner{}.Run(context.Background(), remote.Cmd{Argv: argv})
		return string(res.Stdout), res.ExitStatus, err
	}
	for _, c := range []struct {
		name, status, want string
	}{
		{"running: reload", "true", "reload\n"},
		{"stopped: start", "false", "start\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := run(reloadOrStartArgv([]string{c.status}, []string{"echo", "reload"}, []string{"echo", "start"}))
			if err != nil {
				t.Fatal(err)
			}
			if out != c.want {
				t.Errorf("got %q, want %q", out, c.want)
			}
		})
	}
	if _, status, err := run(reloadOrStartArgv([]string{"true"}, []string{"sh", "-c", "exit 4"}, []string{"true"})); err == nil || status != 4 {
		t.Errorf("a failing reload must fail with its status, got %d, %v", status, err)
	}
}

func TestInitArgvFailsSafely(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		init    Init
		action  Action
		service string
		msg     string
	}{
		{Systemd, ActionReload, "--all", "invalid service name"},
		{SysVinit, ActionReload, "../../bin/sh", "invalid service name"},
		{Systemd, ActionReload, "a b", "invalid service name"},
		{Systemd, "explode", "haproxy", "unknown service action"},
		{"upstart", ActionReload, "haproxy", "unknown service manager"},
	} {
		res, err := remote.LocalRunner{}.Run(context.Background(), remote.Cmd{Argv: tc.init.Argv(tc.action, tc.service)})
		if err == nil || res.ExitStatus != 2 || !strings.Contains(string(res.Stderr), tc.msg) {
			t.Errorf("%s %s %q: err %v, stderr %q", tc.init, tc.action, tc.service, err, res.Stderr)
		}
	}
}
