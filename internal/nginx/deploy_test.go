// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// The host scripts run here through remote.LocalRunner, exactly as a host
// receives them (argv joined with remote.Join, parsed by /bin/sh).

func run(t *testing.T, argv []string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := remote.LocalRunner{}.Run(ctx, remote.Cmd{Argv: argv})
	return string(res.Stdout) + string(res.Stderr), err
}

func exitStatus(err error) int {
	if ee, ok := errors.AsType[*remote.ExitError](err); ok {
		return ee.ExitStatus
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestSeqArgv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		argvs  [][]string
		want   string
		status int
	}{
		{"in order", [][]string{{"echo", "a b"}, {"echo", "c;d"}}, "a b\nc;d\n", 0},
		{"stops at the first failure", [][]string{{"echo", "one"}, {"sh", "-c", "exit 7"}, {"echo", "never"}}, "one\n", 7},
		{"quotes survive", [][]string{{"printf", "%s|", "$HOME", "`x`", "'q'"}}, "$HOME|`x`|'q'|", 0},
		{"nothing", nil, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, SeqArgv(c.argvs...))
			if got := exitStatus(err); got != c.status {
				t.Fatalf("exit status %d, want %d (%v)", got, c.status, err)
			}
			if diff := cmp.Diff(c.want, out); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func readlink(t *testing.T, p string) string {
	t.Helper()
	s, err := os.Readlink(p)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		return "not a link"
	}
	return s
}

func TestLinkedArgv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		targetFile bool
		linkBefore string // "" none, "T" to the target, "other" elsewhere
		blocked    bool   // the rule's Unless path exists
		validate   bool
		cmdFails   bool
		wantLink   string // "" none, "T", "other"
	}{
		{"creates a missing link", true, "", false, true, false, "T"},
		{"keeps an existing link", true, "T", false, true, false, "T"},
		{"removes a dangling link to its target", false, "T", false, false, false, ""},
		{"never touches a link elsewhere", false, "other", false, false, false, "other"},
		{"validate failure undoes a creation", true, "", false, true, true, ""},
		{"validate failure undoes a removal", false, "T", false, true, true, "T"},
		{"reload failure keeps the change", true, "", false, false, true, "T"},
		{"a blocker removes the link", true, "T", true, true, false, ""},
		{"a blocker keeps it away", true, "", true, false, false, ""},
		{"validate failure undoes a blocked removal", true, "T", true, true, true, "T"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			target := filepath.Join(dir, "available", "site.conf")
			link := filepath.Join(dir, "enabled", "site.conf")
			other := filepath.Join(dir, "other.conf")
			for _, d := range []string{filepath.Dir(target), filepath.Dir(link)} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if c.targetFile {
				if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			switch c.linkBefore {
			case "T":
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
			case "other":
				if err := os.Symlink(other, link); err != nil {
					t.Fatal(err)
				}
			}
			cmd := []string{"true"}
			if c.cmdFails {
				cmd = []string{"sh", "-c", "exit 9"}
			}
			blocker := filepath.Join(dir, "available", "ours.conf")
			if c.blocked {
				if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := run(t, LinkedArgv(c.validate, []LinkRule{{Link: Link{Path: link, Target: target}, Unless: blocker}}, cmd))
			if c.cmdFails != (exitStatus(err) == 9) {
				t.Fatalf("exit: %v", err)
			}
			want := map[string]string{"": "", "T": target, "other": other}[c.wantLink]
			if got := readlink(t, link); got != want {
				t.Errorf("link points to %q, want %q", got, want)
			}
		})
	}
}

func TestHealthScript(t *testing.T) {
	t.Parallel()
	lookBinary(t, "curl")
	var healthy = make(chan bool, 1)
	healthy <- false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := <-healthy
		healthy <- ok
		if !ok {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	url := srv.URL + "/healthz"

	// Unhealthy for the whole timeout: fails with the last status.
	out, err := run(t, remote.Script(healthScript, url, "1", "true"))
	if err == nil || !strings.HasPrefix(out, "fail 503 1") {
		t.Fatalf("want fail 503 1, got %q (%v)", out, err)
	}
	// Service reported down: fails even though HTTP answers.
	<-healthy
	healthy <- true
	out, err = run(t, remote.Script(healthScript, url, "1", "false"))
	if err == nil || !strings.HasPrefix(out, "fail 200 0") {
		t.Fatalf("want fail 200 0, got %q (%v)", out, err)
	}
	// Healthy and running.
	out, err = run(t, remote.Script(healthScript, url, "5", "true"))
	if err != nil || !strings.HasPrefix(out, "ok 200") {
		t.Fatalf("want ok 200, got %q (%v)", out, err)
	}
	// Nobody listening.
	out, err = run(t, remote.Script(healthScript, "http://127.0.0.1:1/healthz", "1", "true"))
	if err == nil || !strings.HasPrefix(out, "fail 000") {
		t.Fatalf("want fail 000, got %q (%v)", out, err)
	}

	// Without curl and wget: bash's /dev/tcp.
	bin := t.TempDir()
	for _, name := range []string{"bash", "timeout", "date", "sleep", "true"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("%s: %v", name, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	noCurl := append([]string{"env", "PATH=" + bin}, remote.Script(healthScript, url, "5", "true")...)
	out, err = run(t, noCurl)
	if err != nil || !strings.HasPrefix(out, "ok 200") {
		t.Fatalf("bash fallback: want ok 200, got %q (%v)", out, err)
	}
}

// fakeMaster starts a process with two children (the "workers") and
// writes its PID to a pid file.
func fakeMaster(t *testing.T) (pidFile string, workers []string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 60 & sleep 60 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("pkill", "-P", strconv.Itoa(cmd.Process.Pid)).Run()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	pidFile = filepath.Join(t.TempDir(), "nginx.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := run(t, remote.Script(workersScript, pidFile))
		if workers = strings.Fields(out); len(workers) == 2 {
			return pidFile, workers
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("fake master has workers %v", workers)
	return "", nil
}

func TestSiteCheck(t *testing.T) {
	t.Parallel()
	lookBinary(t, "curl")
	pidFile, workers := fakeMaster(t)
	l := Layout{RunDir: filepath.Dir(pidFile)}
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "www.example.com" {
			http.Error(w, "wrong host "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	target := []checkTarget{{url: srv.URL + "/healthz", host: "www.example.com", class: "2"}}
	ctx := context.Background()

	if err := siteCheck(l, nil, target, 2*time.Second)(ctx, remote.LocalRunner{}); err != nil {
		t.Errorf("new workers and HTTP 200: %v", err)
	}
	err := siteCheck(l, workers, target, time.Second)(ctx, remote.LocalRunner{})
	if err == nil || !strings.Contains(err.Error(), "reload did not take") {
		t.Errorf("only the old workers: want a reload error, got %v", err)
	}
	status = http.StatusBadGateway
	err = siteCheck(l, nil, target, time.Second)(ctx, remote.LocalRunner{})
	if err == nil || !strings.Contains(err.Error(), "answered HTTP 502") {
		t.Errorf("HTTP 502: want an error naming it, got %v", err)
	}
	err = siteCheck(Layout{RunDir: t.TempDir()}, nil, nil, time.Second)(ctx, remote.LocalRunner{})
	if err == nil || !strings.Contains(err.Error(), "nginx is not running") {
		t.Errorf("no pid file: got %v", err)
	}
}

func TestVerifyHostName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		names []string
		want  string
	}{
		{[]string{"www.example.com", "example.com"}, "www.example.com"},
		{[]string{"*.example.com", "shop.example.com"}, "shop.example.com"},
		{[]string{"*.example.com"}, "foobar-check.example.com"},
		{[]string{"www.example.*"}, "www.example.invalid"},
		{[]string{"_"}, "localhost"},
	}
	for _, c := range cases {
		if got := VerifyHostName(c.names); got != c.want {
			t.Errorf("VerifyHostName(%v) = %q, want %q", c.names, got, c.want)
		}
	}
}

func TestSiteTargets(t *testing.T) {
	t.Parallel()
	s := plainSite()
	got := siteTargets(s, "/healthz")
	want := []checkTarget{{url: "http://127.0.0.1:80/healthz", host: s.ServerNames[0], class: "2"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(checkTarget{})); diff != "" {
		t.Errorf("plain (-want +got):\n%s", diff)
	}
	s = tlsSite(t)
	s.TLS.RedirectHTTP = true
	got = siteTargets(s, "/h")
	h := s.ServerNames[0]
	want = []checkTarget{
		{url: "http://127.0.0.1:80/h", host: h, class: "3"},
		{url: "https://" + h + ":443/h", host: h, resolve: h + ":443:127.0.0.1", class: "2"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(checkTarget{})); diff != "" {
		t.Errorf("tls redirect (-want +got):\n%s", diff)
	}
}

func TestCreatedDirectories(t *testing.T) {
	t.Parallel()
	cases := []struct {
		exists, same, recorded, want bool
	}{
		{false, false, false, true}, // missing now: this deployment creates it
		{false, true, false, true},  // removed by hand since: created again
		{true, false, false, false}, // exists, never recorded: pre-existing
		{true, false, true, false},  // exists, the record is about another path
		{true, true, true, true},    // we created it earlier
		{true, true, false, false},  // it pre-existed earlier
	}
	for _, c := range cases {
		if got := created(c.exists, c.same, c.recorded); got != c.want {
			t.Errorf("created(%v, %v, %v) = %v, want %v", c.exists, c.same, c.recorded, got, c.want)
		}
	}
}

func TestMetaRoundTrip(t *testing.T) {
	t.Parallel()
	m := Meta{Name: "shop", DocumentRoot: "/srv/www/shop", DocumentRootCreated: true, WorkingDir: "/opt/foobar/shop",
		ArtifactPath: "/opt/foobar/shop/bin/app", DefaultSiteDisabled: true, Init: "systemd", Model: []byte(`{"a":1}`)}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := m.Encode()
	if string(b) != string(b2) {
		t.Error("Encode is not deterministic")
	}
	got, err := ParseMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = metaVersion
	if diff := cmp.Diff(&m, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := ParseMeta([]byte(`{"version": 99}`)); err == nil {
		t.Error("an unknown version must be refused")
	}
	if MetaPath("", "shop") != "/var/lib/foobar/web/shop/meta.json" {
		t.Errorf("MetaPath = %s", MetaPath("", "shop"))
	}
}

func TestManifestDigest(t *testing.T) {
	t.Parallel()
	a := map[string]string{"index.html": sum("a"), "css/app.css": sum("b")}
	b := map[string]string{"css/app.css": sum("b"), "index.html": sum("a")}
	if ManifestDigest(a) != ManifestDigest(b) {
		t.Error("digest depends on map order")
	}
	c := map[string]string{"index.html": sum("a"), "css/app.css": sum("c")}
	if ManifestDigest(a) == ManifestDigest(c) {
		t.Error("digest ignores content")
	}
	d := map[string]string{"index.htm": sum("a"), "css/app.css": sum("b")}
	if ManifestDigest(a) == ManifestDigest(d) {
		t.Error("digest ignores names")
	}
	if ManifestDigest(nil) != apply.Checksum(nil) {
		t.Error("empty tree digest")
	}
	if got := StaticDrift(a, c); got != "1 changed, 0 missing, 0 extra" {
		t.Errorf("StaticDrift = %q", got)
	}
	if got := StaticDrift(a, map[string]string{"x": "y"}); got != "0 changed, 2 missing, 1 extra" {
		t.Errorf("StaticDrift = %q", got)
	}
	if got := StaticDrift(a, b); got != "" {
		t.Errorf("StaticDrift of equal trees = %q", got)
	}
}

func TestAppFilesByInit(t *testing.T) {
	t.Parallel()
	a := sampleApp()
	l := DebianLayout
	for _, c := range []struct {
		init apply.Init
		want []string
	}{
		{apply.Systemd, []string{a.ArtifactPath, l.EnvFilePath(a.Name), l.UnitPath(a.Name)}},
		{apply.SysVinit, []string{a.ArtifactPath, l.EnvFilePath(a.Name), l.InitScriptPath(a.Name)}},
	} {
		files, err := AppFiles(a, []byte("binary"), c.init, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.Path)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.init, diff)
		}
		if files[0].Mode != 0o755 || files[0].Owner != "root" {
			t.Errorf("artifact mode %v owner %s", files[0].Mode, files[0].Owner)
		}
	}
}

func TestHealthErrorShowsLog(t *testing.T) {
	t.Parallel()
	e := &HealthError{Service: "foobar-shop", URL: "http://127.0.0.1:8081/healthz", Timeout: 10 * time.Second,
		LastStatus: "503", Running: true, LogSource: "journalctl -u foobar-shop", Log: "line 1\nline 2"}
	want := "foobar-shop did not pass its health check GET http://127.0.0.1:8081/healthz within 10s (last answer: HTTP 503; the service is running).\nLast lines of its log (journalctl -u foobar-shop):\nline 1\nline 2"
	if got := e.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	e.LastStatus, e.Running, e.Log = "000", false, ""
	if got := e.Error(); !strings.Contains(got, "no answer; the service is not running") || !strings.Contains(got, "is empty") {
		t.Errorf("got %s", got)
	}
}

func TestFieldErrorSingle(t *testing.T) {
	t.Parallel()
	s := plainSite()
	s.ServerNames = []string{"bad;name"}
	s.AppPort = s.ListenPort
	err := s.Validate()
	var fes fault.FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("want fault.FieldErrors, got %v", err)
	}
	got := map[string]bool{}
	for _, fe := range fes {
		got[fe.Path] = fe.Single
	}
	want := map[string]bool{"server_names[0]": true, "app.port": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Single by path (-want +got):\n%s", diff)
	}
}
