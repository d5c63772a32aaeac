// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// scriptedRunner answers the package install script with a canned
// report and records every other command.
type scriptedRunner struct {
	install string
	ran     [][]string
}

func (s *scriptedRunner) Run(_ context.Context, cmd remote.Cmd) (remote.Result, error) {
	if len(cmd.Argv) > 2 && strings.Contains(cmd.Argv[2], "Dpkg::Options") {
		return remote.Result{Stdout: []byte(s.install)}, nil
	}
	s.ran = append(s.ran, cmd.Argv)
	return remote.Result{}, nil
}

// Install is apt-get and nothing after it: Debian's package enables and
// starts the service.
func TestInstall(t *testing.T) {
	t.Parallel()
	r := &scriptedRunner{install: "installed\n"}
	if err := Install(context.Background(), r); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if len(r.ran) != 0 {
		t.Errorf("commands after the install: %q, want none", r.ran)
	}
	r = &scriptedRunner{install: "no-apt-get\n"}
	if err := Install(context.Background(), r); err == nil || !strings.Contains(err.Error(), "no apt-get") {
		t.Errorf("a host without apt-get: got %v", err)
	}
}

func TestParseProcesses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, out string
		want      Processes
		err       bool
	}{
		{"running", "master 152\nworker 300\nworker 154\nend\n", Processes{Master: 152, Workers: []int{154, 300}}, false},
		{"stopped", "master 0\nend\n", Processes{}, false},
		{"no end", "master 1\nworker 2\n", Processes{}, true},
		{"no master", "worker 2\nend\n", Processes{}, true},
		{"garbage pid", "master x\nend\n", Processes{}, true},
		{"extra field", "master 1 2\nend\n", Processes{}, true},
	}
	for _, c := range cases {
		got, err := ParseProcesses(c.out)
		if (err != nil) != c.err {
			t.Errorf("%s: err = %v", c.name, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); !c.err && diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	p := Processes{Master: 1, Workers: []int{5, 7}}
	if n := p.NewWorkers(Processes{Master: 1, Workers: []int{5}}); !cmp.Equal(n, []int{7}) {
		t.Errorf("NewWorkers = %v", n)
	}
	if !p.Running() || (Processes{}).Running() {
		t.Error("Running")
	}
}

// fakeHAProxy starts a process tree that looks like HAProxy's master and
// workers to /proc (every process is a script named haproxy): the master
// writes its pid file, starts two workers, and starts one more on SIGUSR2,
// like a reload.
func fakeHAProxy(t *testing.T) (pidFile string, master int) {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "haproxy")
	script := `#!/bin/sh
if [ "$1" = worker ]; then
  while :; do sleep 1; done
fi
trap '"$0" worker &' USR2
echo $$ > "$2.tmp" && mv "$2.tmp" "$2"
"$0" worker &
"$0" worker &
# wait, not a sleep loop: a child forked for sleep is a copy of this
# script until it execs, and the processes script would count it as a
# worker if it looked in that window (it did, under load).
while :; do wait; done
`
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	pidFile = filepath.Join(dir, "haproxy.pid")
	cmd := exec.Command(exe, "master", pidFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A parallel test's fork may briefly hold the script open for writing
	// (ETXTBSY, golang.org/issue/22315): retry for a while.
	for try := 0; ; try++ {
		err := cmd.Start()
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.ETXTBSY) || try == 100 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		cmd = exec.Command(exe, "master", pidFile)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p := readFakeProcesses(t, pidFile)
		if len(p.Workers) == 2 {
			return pidFile, cmd.Process.Pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the fake HAProxy did not start two workers")
	return "", 0
}

// reloadFake reloads the fake HAProxy and waits until its new worker
// runs, so that a verifier with a short window is tested on its logic (which
// workers count as new), not on how fast a loaded machine forks a shell.
func reloadFake(t *testing.T, pidFile string, master int) {
	t.Helper()
	want := len(readFakeProcesses(t, pidFile).Workers) + 1
	if err := syscall.Kill(master, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(readFakeProcesses(t, pidFile).Workers) >= want {
			return
		}
	}
	t.Fatalf("the fake HAProxy started no new worker within 30s of SIGUSR2")
}

func readFakeProcesses(t *testing.T, pidFile string) Processes {
	t.Helper()
	res, err := (remote.LocalRunner{}).Run(context.Background(), remote.Cmd{Argv: remote.Script(processesScript, "foobar-test-no-such-service", pidFile)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProcesses(string(res.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProcessesScriptFindsMasterAndWorkers(t *testing.T) {
	t.Parallel()
	pidFile, master := fakeHAProxy(t)
	p := readFakeProcesses(t, pidFile)
	if p.Master != master || len(p.Workers) != 2 {
		t.Fatalf("got %s, want master %d with two workers", p, master)
	}
	// A pid file naming a process that is not haproxy means not running.
	other := filepath.Join(t.TempDir(), "pid")
	if err := os.WriteFile(other, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p := readFakeProcesses(t, other); p.Master != 0 {
		t.Fatalf("a non-haproxy pid counted as the master: %s", p)
	}
	if p := readFakeProcesses(t, filepath.Join(t.TempDir(), "missing")); p.Master != 0 {
		t.Fatalf("no pid file: %s", p)
	}
}

// badRequestServer answers like HAProxy does to the verification request
// (Go's server refuses the invalid header name with 400 by itself).
func badRequestServer(t *testing.T) (host string, port int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "a backend must never see the verification request", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	h, p, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestVerifyWaitsForANewWorker(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	t.Parallel()
	pidFile, master := fakeHAProxy(t)
	host, port := badRequestServer(t)
	ep := []Endpoint{{Scheme: "http", Host: host, Port: port, Name: "www"}}
	ctx := context.Background()
	r := remote.LocalRunner{}
	before := readFakeProcesses(t, pidFile)

	// No reload: no new worker, the previous configuration still runs.
	_, err := verify(ctx, r, "foobar-test-no-such-service", pidFile, before, ep, time.Second)
	if err == nil || !strings.Contains(err.Error(), "no new HAProxy worker") || !strings.Contains(err.Error(), "previous configuration") {
		t.Fatalf("want a no-new-worker error, got %v", err)
	}

	// A reload starts a worker: verified, and the listener answers.
	if err := syscall.Kill(master, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	vr, err := verify(ctx, r, "foobar-test-no-such-service", pidFile, before, ep, 20*time.Second) // returns as soon as the worker is seen
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.New) != 1 || vr.After.Master != master || len(vr.After.Workers) != 3 {
		t.Fatalf("after the reload: %+v", vr)
	}

	// A listener that does not answer fails verification and is named.
	dead := Endpoint{Scheme: "http", Host: "127.0.0.1", Port: closedPort(t), Name: "internal"}
	_, err = verify(ctx, r, "foobar-test-no-such-service", pidFile, before, append(ep, dead), time.Second)
	if err == nil || !strings.Contains(err.Error(), dead.URL()) || !strings.Contains(err.Error(), "frontend internal") || strings.Contains(err.Error(), ep[0].URL()) {
		t.Fatalf("want only %s reported, got %v", dead.URL(), err)
	}

	// tcp endpoints need only a listening socket.
	if _, err := verify(ctx, r, "foobar-test-no-such-service", pidFile, before, []Endpoint{{Scheme: "tcp", Host: host, Port: port}}, time.Second); err != nil {
		t.Fatalf("tcp endpoint: %v", err)
	}

	// HAProxy not running at all.
	_, err = verify(ctx, r, "foobar-test-no-such-service", filepath.Join(t.TempDir(), "none"), before, ep, time.Second)
	if err == nil || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("want not running, got %v", err)
	}
}

// Verifier's second call (after the engine rolled back) checks the
// previous configuration's listeners and needs a worker newer than every
// worker seen so far.
func TestVerifierAfterRollback(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	t.Parallel()
	pidFile, master := fakeHAProxy(t)
	host, port := badRequestServer(t)
	before := readFakeProcesses(t, pidFile)
	dead := []Endpoint{{Scheme: "http", Host: "127.0.0.1", Port: closedPort(t), Name: "new"}}
	prev := []Endpoint{{Scheme: "tcp", Host: host, Port: port, Name: "old"}}
	f := verifierWith("foobar-test-no-such-service", pidFile, before, dead, prev, time.Second)
	reloadFake(t, pidFile, master)
	if err := f(context.Background(), remote.LocalRunner{}); err == nil || !strings.Contains(err.Error(), "do not answer") {
		t.Fatalf("first call: want the new listener to fail, got %v", err)
	}
	// Without another reload the rollback is not proven.
	if err := f(context.Background(), remote.LocalRunner{}); err == nil || !strings.Contains(err.Error(), "no new HAProxy worker") {
		t.Fatalf("second call without a reload: got %v", err)
	}
	reloadFake(t, pidFile, master)
	if err := f(context.Background(), remote.LocalRunner{}); err != nil {
		t.Fatalf("after the rollback's reload: %v", err)
	}
}

func TestParseVerifyRejectsMalformed(t *testing.T) {
	t.Parallel()
	eps := []Endpoint{{Scheme: "http", Host: "127.0.0.1", Port: 80}}
	for _, out := range []string{
		"",
		"master 1\nworker 2\nresult ok\n",
		"master 1\nendpoint 5 ok 400\nresult ok\nend\n",
		"master 1\nnew x\nresult ok\nend\n",
		"worker 2\nresult ok\nend\n",
	} {
		if _, _, err := parseVerify(out, eps); err == nil {
			t.Errorf("parseVerify(%q) accepted malformed output", out)
		}
	}
	vr, res, err := parseVerify("master 1\nworker 3\nnew 3\nendpoint 0 fail 000\nresult endpoint\nend\n", eps)
	if err != nil || res != "endpoint" || len(vr.Failed) != 1 || vr.Failed[0].Status != "000" || !cmp.Equal(vr.New, []int{3}) {
		t.Fatalf("got %+v %q %v", vr, res, err)
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	c := fullConfig(t)
	got := c.Endpoints()
	want := []Endpoint{
		{Scheme: "http", Host: "127.0.0.1", Port: 80, Name: "www"},
		{Scheme: "https", Host: "127.0.0.1", Port: 443, Name: "www"},
		{Scheme: "http", Host: "10.0.0.10", Port: 8080, Name: "internal"},
		{Scheme: "http", Host: "127.0.0.1", Port: 8404, Name: "stats"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if h := localHost("2001:db8::1"); h != "[2001:db8::1]" {
		t.Errorf("IPv6 host %q", h)
	}
	if h := localHost("::ffff:10.0.0.1"); h != "10.0.0.1" {
		t.Errorf("IPv4-mapped host %q", h)
	}
}

func TestEndpointsFromConfig(t *testing.T) {
	t.Parallel()
	cfg := `global
	stats socket /run/haproxy/admin.sock mode 660
	bind :1
defaults
	mode http

frontend a
	bind :80
	bind *:81,10.0.0.1:82
	bind [::]:443 v4v6 ssl crt /x.pem
	bind unix@/run/x.sock
	bind ipv4@127.0.0.2:8080-8090
listen b
	bind 192.0.2.300:9
	bind 127.0.0.1:9000 # comment
backend c
	bind :99
`
	got := EndpointsFromConfig([]byte(cfg))
	want := []Endpoint{
		{Scheme: "tcp", Host: "127.0.0.1", Port: 80, Name: "a"},
		{Scheme: "tcp", Host: "127.0.0.1", Port: 81, Name: "a"},
		{Scheme: "tcp", Host: "10.0.0.1", Port: 82, Name: "a"},
		{Scheme: "tcp", Host: "127.0.0.1", Port: 443, Name: "a"},
		{Scheme: "tcp", Host: "127.0.0.2", Port: 8080, Name: "a"},
		{Scheme: "tcp", Host: "127.0.0.1", Port: 9000, Name: "b"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A rendered configuration lists the same ports as Endpoints.
	c := fullConfig(t)
	b, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	var ports, ports2 []int
	for _, e := range EndpointsFromConfig(b) {
		ports = append(ports, e.Port)
	}
	for _, e := range c.Endpoints() {
		ports2 = append(ports2, e.Port)
	}
	if !cmp.Equal(ports, ports2) {
		t.Errorf("ports from the rendered file %v, from the model %v", ports, ports2)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"no secret", "global\n\tdaemon\n", "global\n\tdaemon\n"},
		{"stats auth", "frontend stats\n\tstats auth admin:s3cr3t:with$odd&chars\n\tstats uri /\n", "frontend stats\n\tstats auth admin:" + Redacted + "\n\tstats uri /\n"},
		{"spacing kept", "  stats   auth  u:p   # note\n", "  stats   auth  u:" + Redacted + "   # note\n"},
		{"userlist", "userlist L\n\tuser bob password $6$abc groups g\n\tuser eve insecure-password pw\n", "userlist L\n\tuser bob password " + Redacted + " groups g\n\tuser eve insecure-password " + Redacted + "\n"},
		{"commented", "#\tstats auth admin:pw\n", "#\tstats auth admin:pw\n"},
		{"no password part", "\tstats auth admin\n", "\tstats auth admin\n"},
		{"crlf", "\tstats auth a:b\r\n", "\tstats auth a:" + Redacted + "\r\n"},
		{"no final newline", "\tstats auth a:b", "\tstats auth a:" + Redacted},
	}
	for _, c := range cases {
		got := string(Redact([]byte(c.in)))
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
		if HasSecrets([]byte(c.in)) != (c.in != c.want) {
			t.Errorf("%s: HasSecrets disagrees with Redact", c.name)
		}
	}
	// The rendered stats password never survives.
	b, err := fullConfig(t).Render()
	if err != nil {
		t.Fatal(err)
	}
	if r := string(Redact(b)); strings.Contains(r, "s3cr3t") || !strings.Contains(r, "stats auth admin:"+Redacted+"\n") {
		t.Errorf("rendered password not redacted:\n%s", r)
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("\tstats auth a:b\n")
	f.Add("userlist x\n user u password p\n")
	f.Add("global\n")
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact([]byte(s))
		if strings.Count(string(r), "\n") != strings.Count(s, "\n") {
			t.Fatalf("Redact changed the number of lines: %q -> %q", s, r)
		}
		if rr := Redact(r); string(rr) != string(r) {
			t.Fatalf("Redact is not idempotent: %q -> %q -> %q", s, r, rr)
		}
	})
}

func TestSupportFiles(t *testing.T) {
	t.Parallel()
	c := fullConfig(t)
	b, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	files := c.Files()
	if len(files) != 1 {
		t.Fatalf("want one bundle, got %d", len(files))
	}
	bundle := files[0]
	if got := ReferencedFiles(b); !cmp.Equal(got, []string{bundle.Path}) {
		t.Errorf("ReferencedFiles = %v, want %v", got, bundle.Path)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(bundle.Content))
	if !BundleIntact(bundle.Path, sum) {
		t.Error("BundleIntact refuses the bundle's own content")
	}
	if BundleIntact(bundle.Path, fmt.Sprintf("%x", sha256.Sum256([]byte("replaced")))) || BundleIntact(ConfigPath, sum) {
		t.Error("BundleIntact accepts other content or a non-bundle path")
	}
	base := filepath.Base(bundle.Path)
	listing := strings.Join([]string{
		base,
		"www.0123456789abcdef.pem", // an older bundle: stale
		base + ".foobar-orig-none", // the engine's marker
		".www.0123456789abcdef.pem.foobar-tmp.42", // an upload in progress
		"notes.txt",
		"www.0123.pem",
		"bad name.0123456789abcdef.pem",
		"",
	}, "\n")
	got := StaleFiles(listing, []string{bundle.Path})
	want := []string{FilesDir + "/www.0123456789abcdef.pem"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StaleFiles (-want +got):\n%s", diff)
	}
}

func TestListFilesScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, n := range []string{"a.pem", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.pem", filepath.Join(dir, "link.pem")); err != nil {
		t.Fatal(err)
	}
	res, err := (remote.LocalRunner{}).Run(context.Background(), remote.Cmd{Argv: remote.Script(listFilesScript, dir)})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Stdout); got != "a.pem\n.hidden\n" {
		t.Errorf("listing %q", got)
	}
	res, err = (remote.LocalRunner{}).Run(context.Background(), remote.Cmd{Argv: remote.Script(listFilesScript, filepath.Join(dir, "missing"))})
	if err != nil || len(res.Stdout) != 0 {
		t.Errorf("missing directory: %q %v", res.Stdout, err)
	}
}

func TestParseVersionOutput(t *testing.T) {
	t.Parallel()
	if _, err := ParseVersionOutput(127, "", "sh: haproxy: not found"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("exit 127: %v", err)
	}
	v, err := ParseVersionOutput(0, readTestdata(t, "haproxy-2.6-vv.txt"), "")
	if err != nil || !strings.HasPrefix(v, "2.6.") {
		t.Errorf("got %q %v", v, err)
	}
	if _, err := ParseVersionOutput(1, "", "segfault"); err == nil || !strings.Contains(err.Error(), "segfault") {
		t.Errorf("exit 1: %v", err)
	}
}

func TestCleanupScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, rec := filepath.Join(dir, "foobar"), filepath.Join(dir, "lib", "haproxy")
	for _, d := range []string{files, rec} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(files, "x.pem.foobar-orig-none"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (remote.LocalRunner{}).Run(context.Background(), remote.Cmd{Argv: remote.Script(cleanupScript, files, rec)}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{files, rec} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists", d)
		}
	}
	argv := CleanupArgv()
	if argv[len(argv)-2] != FilesDir || argv[len(argv)-1] != filepath.Dir(RecordPath) {
		t.Errorf("CleanupArgv %q", argv)
	}
}
