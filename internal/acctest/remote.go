// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

// Helpers for the acceptance tests of the remote layer (internal/ssh and
// internal/apply), which drive the transport and the engine directly instead
// of through Terraform.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// Timeouts of the SSH configs built by SSHConfig: short, so that a test that
// cuts a host off sees the failure quickly. KeepaliveBound is the longest a
// silent connection may stay open.
const (
	ConnectTimeout     = 5 * time.Second
	KeepaliveInterval  = 1 * time.Second
	KeepaliveMaxMissed = 3
	KeepaliveBound     = KeepaliveInterval * KeepaliveMaxMissed
)

// RemoteLab is Lab for tests that drive internal/ssh and internal/apply
// without Terraform: it skips unless TF_ACC is set (like resource.Test, so
// that `make unit` leaves them out) and fails, never skips, when TF_ACC is
// set and the lab is missing.
func RemoteLab(t testing.TB) *Inventory {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and start the lab (make lab-up)")
	}
	inv := Lab(t)
	holdLab(t)
	return inv
}

// labHold is this process's hold on the lab lock.
var labHold struct {
	sync.Mutex
	f *os.File
	n int
}

// holdLab takes the lab lock (flock on lab.lock next to the inventory) for
// the rest of the test. These tests cut hosts off, freeze them and take
// over haproxy.cfg; go test runs packages in parallel, so without the lock
// the tests of internal/ssh would freeze web1 while those of internal/apply
// verify an HAProxy whose backend it is. The hold is reentrant within the
// process (tests of one package run one after the other).
func holdLab(t testing.TB) {
	t.Helper()
	labHold.Lock()
	defer labHold.Unlock()
	if labHold.n == 0 {
		p := filepath.Join(filepath.Dir(InventoryPath()), "lab.lock")
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatalf("lab lock: %v", err)
		}
		start := time.Now()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("lab lock %s: %v", p, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Logf("waited %s for the lab lock (held by another test package)", d.Round(time.Second))
		}
		labHold.f = f
	}
	labHold.n++
	t.Cleanup(func() {
		labHold.Lock()
		defer labHold.Unlock()
		labHold.n--
		if labHold.n == 0 {
			labHold.f.Close() // releases the flock
			labHold.f = nil
		}
	})
}

// SSHConfig reaches h the way the provider does: the deploy user with the
// lab's key, strict host key checking against the lab's known_hosts, sudo
// (with the host's password when it needs one), and the short timeouts
// above. No agent.
func (inv *Inventory) SSHConfig(h Host) ssh.Config {
	return ssh.Config{
		Host:               h.Address,
		Port:               h.Port,
		User:               inv.User,
		PrivateKeyFile:     inv.PrivateKeyFile,
		KnownHostsFile:     inv.KnownHostsFile,
		Sudo:               true,
		SudoPassword:       h.SudoPassword,
		ConnectTimeout:     ConnectTimeout,
		KeepaliveInterval:  KeepaliveInterval,
		KeepaliveMaxMissed: KeepaliveMaxMissed,
	}
}

// Connect gets a client for cfg from a new pool that is closed when the
// test ends.
func Connect(t testing.TB, cfg ssh.Config) *ssh.Client {
	t.Helper()
	pool := ssh.NewPool()
	t.Cleanup(func() { _ = pool.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pool.Get(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to %s: %v", cfg.Host, err)
	}
	return c
}

// Sha256 is the sha256 of a file on the host, read out of band; "" when
// the file does not exist.
func (h Host) Sha256(t testing.TB, path string) string {
	t.Helper()
	out := h.Exec(t, "sh", "-c", `if [ -f "$1" ]; then sha256sum < "$1"; fi`, "sh", path)
	s, _, _ := strings.Cut(strings.TrimSpace(out), " ")
	return s
}

// FileStat is what stat(1) says about a file on the host.
type FileStat struct {
	Inode, MtimeNS, Mode, Owner, Group string
}

// Stat reads a file's inode, mtime (nanoseconds), mode and owner out of
// band.
func (h Host) Stat(t testing.TB, path string) FileStat {
	t.Helper()
	out := strings.Fields(h.Exec(t, "stat", "-c", "%i %.9Y %a %U %G", "--", path))
	if len(out) != 5 {
		t.Fatalf("%s: stat %s: unexpected output %q", h.Name, path, out)
	}
	return FileStat{Inode: out[0], MtimeNS: out[1], Mode: out[2], Owner: out[3], Group: out[4]}
}

// Leftovers lists the files the engine keeps next to path (candidates,
// backups, upload temporaries), read out of band. It does not list the
// saved originals (.foobar-orig), which live as long as the takeover.
func (h Host) Leftovers(t testing.TB, path string) []string {
	t.Helper()
	dir, base := filepath.Dir(path), filepath.Base(path)
	out := h.Exec(t, "sh", "-c", `cd "$1" && for f in "$2".foobar-new "$2".foobar-bak "$2".foobar-bak-none ."$2".foobar-tmp.*; do if [ -e "$f" ]; then echo "$f"; fi; done`, "sh", dir, base)
	return strings.Fields(out)
}

// HAProxy drives the engine against the HAProxy of one lab host, the way
// the load balancer resource will: haproxy.cfg rendered by internal/haproxy,
// validated with haproxy -c, reloaded through the detected service manager,
// and verified by asking HAProxy which worker serves and by requesting its
// frontend from the test process.
type HAProxy struct {
	Host Host
	// Port is the frontend port the configs listen on and Verify requests.
	Port int
	// Validate, when set, replaces haproxy -c -f haproxy.cfg (for example
	// with a slower one, to cut the connection while it runs).
	Validate []string
	// VerifyWithin bounds how long Verify waits for the new worker and a
	// good answer. Default 10s.
	VerifyWithin time.Duration
}

// Config renders a small valid haproxy.cfg: one frontend on x.Port whose
// only backend is server addr:port. The mods change the model before it is
// validated (by internal/haproxy) and rendered.
func (x HAProxy) Config(t testing.TB, addr string, port int, mods ...func(*haproxy.Config)) []byte {
	t.Helper()
	c := haproxy.Config{
		Frontends: []haproxy.Frontend{{
			Name: "acc", Port: x.Port, ForwardFor: true, ForwardedProto: true, DefaultBackend: "web",
		}},
		Backends: []haproxy.Backend{{
			Name:    "web",
			Servers: []haproxy.Server{{Name: "web", Address: addr, Port: port}},
		}},
	}
	for _, m := range mods {
		m(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("haproxy config: %v", err)
	}
	b, err := c.Render()
	if err != nil {
		t.Fatalf("rendering haproxy config: %v", err)
	}
	return b
}

// URL is the frontend's address as seen from the test process.
func (x HAProxy) URL() string {
	return fmt.Sprintf("http://%s/", joinHostPort(x.Host.Address, x.Port))
}

func joinHostPort(h string, p int) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + strconv.Itoa(p)
	}
	return h + ":" + strconv.Itoa(p)
}

// showInfoArgv asks the serving worker about itself on the admin socket.
var showInfoArgv = remote.Script(`printf 'show info\n' | exec socat -t 2 stdio "UNIX-CONNECT:$1"`, haproxy.AdminSocket)

// WorkerInfo asks HAProxy, through r, which worker serves (show info on
// the admin socket).
func WorkerInfo(ctx context.Context, r remote.Runner) (haproxy.Info, error) {
	res, err := r.Run(ctx, remote.Cmd{Argv: showInfoArgv})
	if err != nil {
		return haproxy.Info{}, fmt.Errorf("show info on %s: %w", haproxy.AdminSocket, err)
	}
	return haproxy.ParseInfo(string(res.Stdout))
}

// Change builds the apply.Change that puts cfg in place as haproxy.cfg.
// Verify wants, within VerifyWithin, a worker other than the one serving
// now (the reload really happened) and a 200 answer on the frontend whose
// body contains want.
func (x HAProxy) Change(t testing.TB, r remote.Runner, cfg []byte, want string) apply.Change {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	init, err := apply.DetectInit(ctx, r)
	if err != nil {
		t.Fatalf("%s: %v", x.Host.Name, err)
	}
	before, err := WorkerInfo(ctx, r)
	if err != nil {
		t.Fatalf("%s: HAProxy does not answer before the apply: %v", x.Host.Name, err)
	}
	validate := x.Validate
	if validate == nil {
		validate = haproxy.ValidateArgv(haproxy.ConfigPath)
	}
	within := x.VerifyWithin
	if within == 0 {
		within = 10 * time.Second
	}
	return apply.Change{
		Files: []apply.File{{
			Path: haproxy.ConfigPath, Content: cfg, Owner: "root", Group: "haproxy", Mode: haproxy.ConfigMode,
		}},
		Validate:       validate,
		ValidateFilter: haproxy.FilterCheckOutput,
		Reload:         init.Argv(apply.ActionReload, "haproxy"),
		Verify:         x.verify(before, want, within),
		KeepOriginal:   true,
		Lock:           "haproxy",
		Host:           x.Host.Name,
	}
}

func (x HAProxy) verify(before haproxy.Info, want string, within time.Duration) func(context.Context, remote.Runner) error {
	return func(ctx context.Context, r remote.Runner) error {
		ctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		var last error
		for {
			err := x.check(ctx, r, before, want)
			if err == nil {
				return nil
			}
			// A check cut short by the deadline says less than the
			// failure seen before it (on a loaded machine the last
			// attempt is often the one the deadline interrupts).
			if last == nil || ctx.Err() == nil {
				last = err
			}
			select {
			case <-ctx.Done():
				return last
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
}

func (x HAProxy) check(ctx context.Context, r remote.Runner, before haproxy.Info, want string) error {
	after, err := WorkerInfo(ctx, r)
	if err != nil {
		return err
	}
	if !haproxy.Reloaded(before, after) {
		return fmt.Errorf("HAProxy still runs worker %d: the reload did not take effect", after.PID)
	}
	resp, err := Fetch(ctx, HTTPClient(ClientOptions{Timeout: 3 * time.Second}), Request{URL: x.URL()})
	if err != nil {
		return fmt.Errorf("HAProxy does not answer on %s: %w", x.URL(), err)
	}
	if resp.Status != http.StatusOK || !strings.Contains(resp.Body, want) {
		return fmt.Errorf("HAProxy answered %s with status %d and %q, want status 200 and %q", x.URL(), resp.Status, truncate(resp.Body, 80), want)
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Restore gives the host back its own haproxy.cfg (apply.RestoreOriginal)
// and checks out of band that the file is the one found before and that
// HAProxy runs.
func (x HAProxy) Restore(t testing.TB, r remote.Runner, wantSha string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	init, err := apply.DetectInit(ctx, r)
	if err != nil {
		t.Errorf("%s: restoring haproxy.cfg: %v", x.Host.Name, err)
		return
	}
	err = apply.RestoreOriginal(ctx, r, apply.Restore{
		Paths:          []string{haproxy.ConfigPath},
		Validate:       haproxy.ValidateArgv(haproxy.ConfigPath),
		ValidateFilter: haproxy.FilterCheckOutput,
		Reload:         init.Argv(apply.ActionReload, "haproxy"),
		Lock:           "haproxy",
		Host:           x.Host.Name,
	})
	if err != nil {
		t.Errorf("%s: restoring haproxy.cfg: %v", x.Host.Name, err)
		return
	}
	if got := x.Host.Sha256(t, haproxy.ConfigPath); got != wantSha {
		t.Errorf("%s: haproxy.cfg after the restore has sha256 %s, want the original %s", x.Host.Name, got, wantSha)
	}
	if l := x.Host.Leftovers(t, haproxy.ConfigPath); len(l) > 0 {
		t.Errorf("%s: leftovers next to haproxy.cfg after the restore: %v", x.Host.Name, l)
	}
	if _, err := x.Host.TryExec("sh", "-c", `test ! -e "$1.foobar-orig" && test ! -e "$1.foobar-orig-none"`, "sh", haproxy.ConfigPath); err != nil {
		t.Errorf("%s: the saved original of haproxy.cfg is still there after the restore", x.Host.Name)
	}
	if _, err := x.Host.TryExec("systemctl", "is-active", "--quiet", "haproxy"); err != nil {
		t.Errorf("%s: haproxy is not active after the restore", x.Host.Name)
	}
}

// HAProxyPIDs returns, read out of band, the pid of the HAProxy master
// (/run/haproxy.pid) and of the worker that serves (show info on the admin
// socket). A reload keeps the master and starts a new worker; a restart
// replaces both.
func (h Host) HAProxyPIDs(t testing.TB) (master, worker int) {
	t.Helper()
	m, err := strconv.Atoi(strings.TrimSpace(h.Exec(t, "cat", "/run/haproxy.pid")))
	if err != nil {
		t.Fatalf("%s: /run/haproxy.pid: %v", h.Name, err)
	}
	info, err := haproxy.ParseInfo(h.ExecInput(t, "show info\n", "socat", "-t", "2", "stdio", "UNIX-CONNECT:"+haproxy.AdminSocket))
	if err != nil {
		t.Fatalf("%s: show info: %v", h.Name, err)
	}
	return m, info.PID
}

// HookRunner wraps a Runner and passes each command through Hook before it
// runs it, so a test can break the host at a chosen step or wrap the
// command's stdin. Hook runs in the caller's goroutine; start a goroutine
// there to act while the command runs.
type HookRunner struct {
	remote.Runner
	Hook func(cmd remote.Cmd) remote.Cmd
}

// Run calls Hook, then runs the command it returns.
func (h *HookRunner) Run(ctx context.Context, cmd remote.Cmd) (remote.Result, error) {
	if h.Hook != nil {
		cmd = h.Hook(cmd)
	}
	return h.Runner.Run(ctx, cmd)
}

// IsCommit reports whether cmd is the engine's commit step (its launcher
// starts the detached worker in mode "commit").
func IsCommit(cmd remote.Cmd) bool {
	return cmdHas(cmd, "foobar-worker") && cmdHasArg(cmd, "commit")
}

// IsUpload reports whether cmd is the engine's upload step.
func IsUpload(cmd remote.Cmd) bool {
	return cmd.Stdin != nil && cmdHas(cmd, "foobar-tmp")
}

func cmdHas(cmd remote.Cmd, s string) bool {
	for _, a := range cmd.Argv {
		if strings.Contains(a, s) {
			return true
		}
	}
	return false
}

func cmdHasArg(cmd remote.Cmd, s string) bool {
	for _, a := range cmd.Argv {
		if a == s {
			return true
		}
	}
	return false
}

// SignalReader passes reads through to R; once N bytes have been read it
// closes Reached (once), and from then on it delays each read by Delay,
// so that a test can act while the rest of the stream is in flight.
type SignalReader struct {
	R       io.Reader
	N       int64
	Delay   time.Duration
	Reached chan struct{}

	read int64
	once sync.Once
}

// Read implements io.Reader.
func (s *SignalReader) Read(p []byte) (int, error) {
	if s.read >= s.N {
		s.once.Do(func() { close(s.Reached) })
		time.Sleep(s.Delay)
		if len(p) > 32<<10 {
			p = p[:32<<10]
		}
	}
	n, err := s.R.Read(p)
	s.read += int64(n)
	return n, err
}

// WaitFor polls cond until it holds or d passes, and fails the test then.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(d, cond) {
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
}

// Poll polls cond every 100ms until it holds (true) or d passes (false). It
// does not touch the test, so goroutines may use it.
func Poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// TryDisconnect is Disconnect for goroutines: it returns the error instead
// of failing the test.
func (h Host) TryDisconnect(network string) error {
	h.restoreDockerIfName()
	_, err := docker("network", "disconnect", "--force", network, h.Container)
	return err
}

// ifNameFile records, on the host, the name Docker gave the lab
// interface that Connect renamed to eth0.
const ifNameFile = "/run/foobar-lab-ifname"

// restoreDockerIfName gives the lab interface back the name Docker knows
// it by (see Connect) before Docker removes it: Docker finds it by that
// name. Best effort: the host may not answer.
func (h Host) restoreDockerIfName() {
	const script = `n=$(cat "$1" 2>/dev/null) || exit 0
[ -n "$n" ] && [ "$n" != eth0 ] || exit 0
ip link set eth0 down && ip link set eth0 name "$n" && rm -f "$1"`
	_, _ = docker("exec", h.Container, "sh", "-c", script, "sh", ifNameFile)
}

// ErrText is err's message, or "<nil>".
func ErrText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// As is errors.As for tests: it fails the test when err is not a T.
func As[T error](t testing.TB, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error is not a %T: %v", target, ErrText(err))
	}
	return target
}

// TryDocker runs the Docker CLI (for goroutines and cleanups, which must
// not fail the test from outside its goroutine). Use it only on this lab's
// containers.
func TryDocker(args ...string) (string, error) {
	return docker(args...)
}

// LocalPorts returns the local TCP ports of this process's established
// IPv4 connections to addr:port (Linux: /proc/self/fd and /proc/net/tcp),
// so that a test can single out its own SSH connection on the host side.
func LocalPorts(addr string, port int) ([]int, error) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	ip := net.ParseIP(addr).To4()
	if ip == nil {
		return nil, fmt.Errorf("%s is not an IPv4 address", addr)
	}
	// /proc/net/tcp writes an IPv4 address as the hex of its bytes in host
	// (little-endian) order.
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], port)
	b, err := os.ReadFile("/proc/self/net/tcp")
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[2] != want || f[3] != "01" || !inodes[f[9]] {
			continue
		}
		_, hexPort, _ := strings.Cut(f[1], ":")
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return nil, err
		}
		ports = append(ports, int(p))
	}
	return ports, nil
}

// nftTable is the table BlackholeTCP adds on a host.
const nftTable = "foobar_acc"

// BlackholeTCP makes the host silently drop every packet of the TCP
// connection from the test machine's port (nftables inside the container):
// unlike Disconnect, the host never learns that the connection is gone,
// like a client that vanished behind a NAT. Heal removes the rules.
func (h Host) BlackholeTCP(port int) error {
	script := `set -e
nft add table inet "$1"
nft add chain inet "$1" in '{ type filter hook input priority -10 ; }'
nft add chain inet "$1" out '{ type filter hook output priority -10 ; }'
nft add rule inet "$1" in tcp sport "$2" drop
nft add rule inet "$1" out tcp dport "$2" drop`
	_, err := h.TryExec("sh", "-c", script, "sh", nftTable, strconv.Itoa(port))
	return err
}

// Heal removes what BlackholeTCP added.
func (h Host) Heal(t testing.TB) {
	t.Helper()
	if out, err := h.TryExec("sh", "-c", `if nft list table inet "$1" >/dev/null 2>&1; then nft delete table inet "$1"; fi`, "sh", nftTable); err != nil {
		t.Errorf("%s: removing the nftables table %s: %v: %s", h.Name, nftTable, err, out)
	}
}

// StartSysVHost starts, for one test, a host without systemd: a container
// of a lab host's image (flavor bookworm) whose PID 1 is a shell that
// starts sshd and HAProxy with service(8) (their SysV init scripts), on
// this lab's network with a dynamic address and this lab's label, removed
// when the test ends. It is provisioned like a lab host (deploy's key,
// passwordless sudo), and its host keys, read out of band, go into a
// known_hosts file of its own; the returned config reaches it.
func (inv *Inventory) StartSysVHost(t testing.TB) (Host, ssh.Config) {
	t.Helper()
	var image string
	for _, h := range inv.Hosts {
		if h.Flavor == "bookworm" {
			image = h.Image
			break
		}
	}
	if image == "" {
		t.Fatal("the lab runs no bookworm host whose image a SysV host could use")
	}
	h := Host{Name: "sysv", Port: 22, Container: inv.Name + "-sysv", Image: image, Flavor: "bookworm", Role: "lb", Service: "haproxy"}
	_, _ = docker("rm", "-f", h.Container) // left over by an earlier run that was killed
	t.Cleanup(func() {
		if out, err := docker("rm", "-f", h.Container); err != nil {
			t.Errorf("removing %s: %v: %s", h.Container, err, out)
		}
	})
	if _, err := docker("run", "-d", "--name", h.Container, "--hostname", h.Name, "--label", "foobar.lab="+inv.Name,
		"--network", inv.Network, "--init", "--entrypoint", "/bin/sh", image,
		"-c", "ssh-keygen -A >/dev/null && service ssh start && service haproxy start; exec sleep infinity"); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(inv.PrivateKeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	h.ExecInput(t, string(key), "sh", "-c", `umask 077; mkdir -p /home/deploy/.ssh; cat > /home/deploy/.ssh/authorized_keys; chown -R deploy:deploy /home/deploy/.ssh
echo "deploy ALL=(ALL:ALL) NOPASSWD: ALL" > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy`)
	WaitFor(t, 30*time.Second, "sshd and haproxy on the SysV host", func() bool {
		_, err := h.TryExec("sh", "-c", "service ssh status && service haproxy status")
		return err == nil
	})
	addr, err := docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", h.Container)
	if err != nil {
		t.Fatal(err)
	}
	h.Address = strings.TrimSpace(addr)
	var kh strings.Builder
	for _, l := range strings.Split(h.Exec(t, "sh", "-c", "cat /etc/ssh/ssh_host_*_key.pub"), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			fmt.Fprintf(&kh, "%s %s %s\n", h.Address, f[0], f[1])
		}
	}
	khFile := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(khFile, []byte(kh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := inv.SSHConfig(h)
	cfg.KnownHostsFile = khFile
	return h, cfg
}
