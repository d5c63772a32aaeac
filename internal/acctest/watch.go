// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// watchScript runs inside a lab container until the stop file exists: one
// loop reads the sha256 of the live path as fast as it can and prints each
// new value; a second loop runs the check argv (the service's own validator
// on the live configuration: what a reload by an operator, logrotate or the
// init system would load) over and over and prints every failure.
// Arguments: the path, the stop file, then the check argv.
const watchScript = `
P=$1 STOP=$2
shift 2
rm -f -- "$STOP"
sum() { s=$(sha256sum < "$P" 2>/dev/null) || s=missing; printf '%s' "${s%% *}"; }
last=$(sum)
echo "start $last"
(
  c=0
  while [ ! -e "$STOP" ]; do
    if ! out=$("$@" 2>&1); then echo "checkfail $(printf '%s' "$out" | tr '\n' ' ' | head -c 400)"; fi
    c=$((c+1))
  done
  echo "checks $c"
) &
n=0
while [ ! -e "$STOP" ]; do
  s=$(sum)
  if [ "$s" != "$last" ]; then echo "sha $s"; last=$s; fi
  n=$((n+1))
done
wait
echo "samples $n"
rm -f -- "$STOP"
`

// Watch is a watcher of one live path on a lab host, started by WatchLive.
type Watch struct {
	h    Host
	stop string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  []string
	done chan struct{}
}

// WatchResult is what a Watch saw: the checksum the path had when the
// watch started, every other checksum it took afterwards (in order), the
// failures of the check command, and how many times each loop ran.
type WatchResult struct {
	Start    string
	Changes  []string
	Failures []string
	Samples  int
	Checks   int
}

// WatchLive starts watching path on h out of band (docker exec) and
// returns once the watcher runs. check is an argv run over and over on the
// live configuration (for example haproxy -c -f <path>, nginx -t); nil runs
// "true". Stop it with Stop.
func (h Host) WatchLive(t testing.TB, path string, check ...string) *Watch {
	t.Helper()
	if len(check) == 0 {
		check = []string{"true"}
	}
	stop := fmt.Sprintf("/run/foobar-watch-stop.%d", time.Now().UnixNano())
	args := append([]string{"exec", h.Container, "sh", "-c", watchScript, "sh", path, stop}, check...)
	w := &Watch{h: h, stop: stop, cmd: exec.Command("docker", args...), done: make(chan struct{})}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("%s: starting the watcher: %v", h.Name, err)
	}
	started := make(chan struct{})
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			w.mu.Lock()
			w.out = append(w.out, sc.Text())
			w.mu.Unlock()
			if strings.HasPrefix(sc.Text(), "start ") {
				once.Do(func() { close(started) })
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-started:
	case <-w.done:
		t.Fatalf("%s: the watcher ended before it started: %v", h.Name, w.lines())
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the watcher did not start", h.Name)
	}
	t.Cleanup(func() { _, _ = h.TryExec("touch", stop) })
	return w
}

func (w *Watch) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.out...)
}

// Stop ends the watch and returns what it saw.
func (w *Watch) Stop(t testing.TB) WatchResult {
	t.Helper()
	if _, err := w.h.TryExec("touch", w.stop); err != nil {
		t.Fatalf("%s: stopping the watcher: %v", w.h.Name, err)
	}
	select {
	case <-w.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: the watcher did not stop", w.h.Name)
	}
	_ = w.cmd.Wait()
	var r WatchResult
	for _, l := range w.lines() {
		k, v, _ := strings.Cut(l, " ")
		switch k {
		case "start":
			r.Start = v
		case "sha":
			r.Changes = append(r.Changes, v)
		case "checkfail":
			r.Failures = append(r.Failures, v)
		case "samples":
			r.Samples, _ = strconv.Atoi(v)
		case "checks":
			r.Checks, _ = strconv.Atoi(v)
		}
	}
	return r
}
