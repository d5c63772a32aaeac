// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package acctest connects acceptance tests to the lab (lab/lab.sh): it reads
// the lab inventory, writes provider and connection HCL for a lab host, and
// breaks hosts on purpose (stop, start, pause, cut from the network) through
// the Docker CLI. It is used only by tests.
package acctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Host is one lab host as the inventory lists it.
type Host struct {
	Name         string `json:"name"`
	Address      string `json:"address"`
	Port         int    `json:"port"`
	Container    string `json:"container"`
	Image        string `json:"image"`
	Flavor       string `json:"flavor"`
	Role         string `json:"role"`
	Service      string `json:"service"`
	SudoPassword string `json:"sudo_password"`
}

// Inventory is lab/.state/<lab>/inventory.json.
type Inventory struct {
	Name           string `json:"name"`
	Network        string `json:"network"`
	Subnet         string `json:"subnet"`
	User           string `json:"user"`
	PrivateKeyFile string `json:"private_key_file"`
	KnownHostsFile string `json:"known_hosts_file"`
	Hosts          []Host `json:"hosts"`
}

var (
	loadOnce sync.Once
	loaded   *Inventory
	loadErr  error
)

// InventoryPath is $FOOBAR_LAB_INVENTORY, or the default lab's inventory in
// this repository.
func InventoryPath() string {
	if p := os.Getenv("FOOBAR_LAB_INVENTORY"); p != "" {
		return p
	}
	name := os.Getenv("LAB_NAME")
	if name == "" {
		name = "foobar-lab"
	}
	return filepath.Join(RepoRoot(), "lab", ".state", name, "inventory.json")
}

// RepoRoot is the directory holding go.mod, found from the working directory.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Load reads the inventory once.
func Load() (*Inventory, error) {
	loadOnce.Do(func() {
		p := InventoryPath()
		b, err := os.ReadFile(p)
		if err != nil {
			loadErr = fmt.Errorf("lab inventory %s: %w (start the lab with `make lab-up`)", p, err)
			return
		}
		var inv Inventory
		if err := json.Unmarshal(b, &inv); err != nil {
			loadErr = fmt.Errorf("lab inventory %s: %w", p, err)
			return
		}
		loaded = &inv
	})
	return loaded, loadErr
}

// Lab returns the inventory or fails the test: acceptance tests never skip
// because the lab is missing. Like terraform-plugin-testing, it skips only
// when TF_ACC is unset (a plain `go test`); `make test` sets it.
func Lab(t testing.TB) *Inventory {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and start the lab (make lab-up)")
	}
	inv, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// Host returns the named host or fails the test.
func (inv *Inventory) Host(t testing.TB, name string) Host {
	t.Helper()
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("lab host %q is not in the inventory (is it in LAB_HOSTS?)", name)
	return Host{}
}

// ProviderHCL is a provider block that reaches the lab with strict host key
// checking through the lab's known_hosts file.
func (inv *Inventory) ProviderHCL() string {
	return fmt.Sprintf(`
provider "foobar" {
  user             = %q
  private_key_file = %q
  known_hosts_file = %q
  agent            = false
  connect_timeout  = "10s"
}
`, inv.User, inv.PrivateKeyFile, inv.KnownHostsFile)
}

// ConnectionHCL is the `ssh = {...}` attribute for a host, with its
// sudo password when it has one.
func (h Host) ConnectionHCL(extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ssh = {\n    host = %q\n", h.Address)
	if h.SudoPassword != "" {
		fmt.Fprintf(&b, "    sudo_password = %q\n", h.SudoPassword)
	}
	for _, e := range extra {
		fmt.Fprintf(&b, "    %s\n", e)
	}
	b.WriteString("  }")
	return b.String()
}

// docker runs the Docker CLI and returns its combined output.
func docker(args ...string) (string, error) {
	cmd := exec.Command("docker", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Exec runs argv inside the host's container as root (out of band: not
// through the provider's SSH path) and returns stdout and stderr combined.
func (h Host) Exec(t testing.TB, argv ...string) string {
	t.Helper()
	out, err := docker(append([]string{"exec", h.Container}, argv...)...)
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	return out
}

// ExecInput is Exec with stdin.
func (h Host) ExecInput(t testing.TB, stdin string, argv ...string) string {
	t.Helper()
	cmd := exec.Command("docker", append([]string{"exec", "-i", h.Container}, argv...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: docker exec %v: %v: %s", h.Name, argv, err, out)
	}
	return string(out)
}

// TryExec is Exec that returns the error instead of failing the test.
func (h Host) TryExec(argv ...string) (string, error) {
	return docker(append([]string{"exec", h.Container}, argv...)...)
}

// Stop stops the host's container (like pulling the power cord, after
// systemd's orderly shutdown).
func (h Host) Stop(t testing.TB) {
	t.Helper()
	if _, err := docker("stop", "-t", "20", h.Container); err != nil {
		t.Fatal(err)
	}
}

// Kill kills the host's container with SIGKILL: no orderly shutdown, the
// server's last writes are wherever they were (a crashed machine).
func (h Host) Kill(t testing.TB) {
	t.Helper()
	if _, err := docker("kill", "--signal", "KILL", h.Container); err != nil {
		t.Fatal(err)
	}
}

// Start starts a stopped host and waits until sshd answers.
func (h Host) Start(t testing.TB) {
	t.Helper()
	if _, err := docker("start", h.Container); err != nil {
		t.Fatal(err)
	}
	h.WaitSSH(t, 60*time.Second)
}

// Pause freezes every process of the host: TCP still connects (the kernel
// answers) but sshd never speaks, like a hung server.
func (h Host) Pause(t testing.TB) {
	t.Helper()
	if _, err := docker("pause", h.Container); err != nil {
		t.Fatal(err)
	}
}

// Unpause resumes a paused host.
func (h Host) Unpause(t testing.TB) {
	t.Helper()
	if _, err := docker("unpause", h.Container); err != nil {
		t.Fatal(err)
	}
}

// Disconnect cuts the host from the lab network: its address stops
// answering at all.
func (h Host) Disconnect(t testing.TB, network string) {
	t.Helper()
	h.restoreDockerIfName()
	if _, err := docker("network", "disconnect", "--force", network, h.Container); err != nil {
		t.Fatal(err)
	}
}

// Connect puts a disconnected host back on the lab network at its address,
// on the interface it had (eth0): Docker names a reconnected interface
// eth1, which a real server's cable coming back would not do, and
// configurations that name the interface (keepalived's) must find it.
func (h Host) Connect(t testing.TB, network string) {
	t.Helper()
	if _, err := docker("network", "connect", "--ip", h.Address, network, h.Container); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	// Docker finds the interface by its own name when it disconnects it
	// again: restoreDockerIfName puts that name back first.
	const rename = `i=$(ip -o -4 addr show | awk -v a="$1/" 'index($4, a) == 1 {print $2; exit}')
[ -n "$i" ] || { echo "no interface has $1" >&2; exit 1; }
i=${i%%@*}
[ "$i" = eth0 ] && exit 0
ip link set "$i" down && ip link set "$i" name eth0 && ip link set eth0 up && echo "$i" > "$2"`
	if _, err := docker("exec", h.Container, "sh", "-c", rename, "sh", h.Address, ifNameFile); err != nil {
		t.Fatalf("%s: giving the reconnected interface its name eth0 back: %v", h.Name, err)
	}
}

// WaitSSH waits until the host's sshd accepts connections and systemd has
// started it.
func (h Host) WaitSSH(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := h.TryExec("systemctl", "is-active", "--quiet", "ssh"); err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: sshd did not come back within %s", h.Name, timeout)
}
