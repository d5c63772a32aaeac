// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

// Responders: the test application (internal/acctest/testapp) started out of
// band on a lab host as a bare HTTP server that answers every request with
// its own name, so that a test sending traffic through a load balancer sees
// which server answered. Several run on one host on different ports; each is
// a transient systemd unit a test can stop, kill and start again.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// responderDir is where InstallResponders puts the test application on a
// host; it is removed when the test ends.
const responderDir = "/usr/local/lib/foobar-acc"

// Responder is one instance of the test application on a lab host: it
// listens on every address at Port and answers every path, whatever the
// method, with JSON that holds Name (see Answer). /healthz answers 200 "ok".
type Responder struct {
	Host Host
	Port int
	Name string
}

// InstallResponders builds the test application once and copies it to each
// host; the copies are removed when the test ends. Call it before
// StartResponder.
func InstallResponders(t testing.TB, hosts ...Host) {
	t.Helper()
	dir := t.TempDir()
	BuildTestApp(t, dir, "testapp", "responder", true)
	for _, h := range hosts {
		h.CopyDir(t, dir, responderDir)
		t.Cleanup(func() {
			if out, err := h.TryExec("rm", "-rf", "--", responderDir); err != nil {
				t.Errorf("%s: removing %s: %v: %s", h.Name, responderDir, err, out)
			}
		})
	}
}

// StartResponder starts a responder named name on h at port (the host must
// have had InstallResponders) and waits until it answers on the host. It is
// stopped when the test ends.
func StartResponder(t testing.TB, h Host, port int, name string) *Responder {
	t.Helper()
	r := &Responder{Host: h, Port: port, Name: name}
	t.Cleanup(func() {
		if out, err := h.TryExec("sh", "-c", `systemctl stop "$1" 2>/dev/null; systemctl reset-failed "$1" 2>/dev/null; true`, "sh", r.unit()); err != nil {
			t.Errorf("%s: stopping responder %s: %v: %s", h.Name, r.Name, err, out)
		}
	})
	r.Start(t)
	return r
}

func (r *Responder) unit() string { return "foobar-acc-responder-" + strconv.Itoa(r.Port) }

// Addr is host:port of the responder on the lab network.
func (r *Responder) Addr() string { return joinHostPort(r.Host.Address, r.Port) }

// Start (re)starts the responder after Stop or Kill and waits until it
// answers on the host.
func (r *Responder) Start(t testing.TB) {
	t.Helper()
	// A unit killed earlier may linger as failed; --collect unloads it when
	// it stops, reset-failed covers older systemd.
	r.Host.Exec(t, "sh", "-c", `systemctl reset-failed "$1" 2>/dev/null; exec systemd-run --quiet --collect --unit="$1" -p Restart=no -- "$2" -listen "0.0.0.0:$3" -name "$4"`,
		"sh", r.unit(), filepath.Join(responderDir, "testapp"), strconv.Itoa(r.Port), r.Name)
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", r.Port)
	if !Poll(15*time.Second, func() bool {
		_, err := r.Host.TryExec("curl", "-fsS", "-o", "/dev/null", "--max-time", "2", url)
		return err == nil
	}) {
		out, _ := r.Host.TryExec("journalctl", "-u", r.unit(), "--no-pager", "-n", "20")
		t.Fatalf("%s: responder %s does not answer on port %d within 15s:\n%s", r.Host.Name, r.Name, r.Port, out)
	}
}

// Stop stops the responder in an orderly way (SIGTERM) and waits until its
// port is closed.
func (r *Responder) Stop(t testing.TB) {
	t.Helper()
	r.Host.Exec(t, "systemctl", "stop", r.unit())
	r.waitClosed(t)
}

// Kill kills the responder with SIGKILL, like a crash, and waits until its
// port is closed.
func (r *Responder) Kill(t testing.TB) {
	t.Helper()
	r.Host.Exec(t, "systemctl", "kill", "--signal=KILL", r.unit())
	r.waitClosed(t)
}

func (r *Responder) waitClosed(t testing.TB) {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", r.Port)
	WaitFor(t, 15*time.Second, fmt.Sprintf("responder %s on %s to stop answering", r.Name, r.Host.Name), func() bool {
		_, err := r.Host.TryExec("curl", "-fsS", "-o", "/dev/null", "--max-time", "2", url)
		return err != nil
	})
}

// Answer is what a responder (or the test application) says about itself
// and the request it got.
type Answer struct {
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
	Method   string `json:"method"`
	Path     string `json:"path"`
}

// ParseAnswer reads a responder's answer from a response body.
func ParseAnswer(body string) (Answer, error) {
	var a Answer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		return Answer{}, fmt.Errorf("not an answer of the test application: %w: %q", err, truncate(strings.TrimSpace(body), 200))
	}
	if a.Name == "" {
		return Answer{}, fmt.Errorf("the answer names no server: %q", truncate(strings.TrimSpace(body), 200))
	}
	return a, nil
}
