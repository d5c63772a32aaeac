// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
)

// statusChange is a server's status in HAProxy's stats, from the poll that
// first saw it: seen is when that poll's answer came back, after is when
// the previous poll (which still saw the old status) had come back. The
// change happened in between.
type statusChange struct {
	status      string
	after, seen time.Time
}

// statusMonitor polls HAProxy's stats CSV every 25 ms in the background
// and records every change of one server's status.
type statusMonitor struct {
	mu      sync.Mutex
	changes []statusChange
	errs    int
	cancel  context.CancelFunc
	done    chan struct{}
}

func startStatusMonitor(stats, backend, server string) *statusMonitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &statusMonitor{cancel: cancel, done: make(chan struct{})}
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true, Timeout: 2 * time.Second})
	go func() {
		defer close(m.done)
		last, lastSeen := "", time.Now()
		for ctx.Err() == nil {
			r, err := acctest.Fetch(ctx, c, acctest.Request{URL: stats + "/stats;csv", User: "admin", Password: "s3cret-Pw"})
			now := time.Now()
			status := ""
			if err == nil {
				if servers, perr := haproxy.ParseStat(r.Body); perr == nil {
					for _, s := range servers {
						if s.Backend == backend && s.Server == server {
							status = s.Status
						}
					}
				}
			}
			m.mu.Lock()
			switch {
			case status == "":
				m.errs++
			case status != last:
				m.changes = append(m.changes, statusChange{status: status, after: lastSeen, seen: now})
				last = status
			}
			if status != "" {
				lastSeen = now
			}
			m.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()
	return m
}

// waitFor waits until a change after since has a status that want accepts
// and returns it.
func (m *statusMonitor) waitFor(since time.Time, want func(string) bool, limit time.Duration) (statusChange, error) {
	deadline := time.Now().Add(limit)
	for {
		m.mu.Lock()
		var seen []string
		for _, c := range m.changes {
			if c.seen.After(since) {
				seen = append(seen, c.status)
				if want(c.status) {
					m.mu.Unlock()
					return c, nil
				}
			}
		}
		m.mu.Unlock()
		if time.Now().After(deadline) {
			return statusChange{}, fmt.Errorf("HAProxy's status of the server after %s: %q", limit, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *statusMonitor) stop() {
	m.cancel()
	<-m.done
}

func isDown(s string) bool { return strings.HasPrefix(s, "DOWN") }
func isUp(s string) bool   { return strings.HasPrefix(s, "UP") }

// hardFault is one hard fault injected on web1 under load, with what HAProxy
// and the clients saw of it.
type hardFault struct {
	name string
	// inject breaks web1; restore (nil: nothing to do, the service comes
	// back by itself) is called once HAProxy marked web1 DOWN.
	inject, restore func() error
	// back, when set, checks web1 once it is back in rotation.
	back     func() error
	start    time.Time     // the fault was injected
	down, up statusChange  // HAProxy marked web1 DOWN, then UP again
	held     time.Duration // how long restore waited after DOWN
}

// faultFigures is what the clients saw of one fault: every request that
// ended from the fault's injection until the next fault's.
type faultFigures struct {
	gets, getFails                   int
	posts, postFailsIn, postFailsOut int
	// longestGet is the slowest successful GET; gap the longest time with
	// no request (GET or POST) answered successfully.
	longestGet, gap time.Duration
	// web1Back is when web1 answered a request again, after DOWN.
	web1Back time.Time
	errors   []string
}

func figures(f hardFault, until time.Time, gets, posts []acctest.Traced, web1 string) faultFigures {
	var out faultFigures
	var ends []time.Time
	in := func(s acctest.Traced) bool { return !s.End().Before(f.start) && s.End().Before(until) }
	for _, s := range gets {
		if !in(s) {
			continue
		}
		out.gets++
		if !s.OK {
			out.getFails++
			out.errors = append(out.errors, fmt.Sprintf("GET started %s: %s", s.Start.Format("15:04:05.000"), shortErr(s.Err)))
			continue
		}
		ends = append(ends, s.End())
		out.longestGet = max(out.longestGet, s.Took)
		if out.web1Back.IsZero() && s.Start.After(f.down.seen) && strings.Contains(s.Body, `"`+web1+`"`) {
			out.web1Back = s.End()
		}
	}
	for _, s := range posts {
		if !in(s) {
			continue
		}
		out.posts++
		switch {
		case s.OK:
			ends = append(ends, s.End())
		case s.Start.Before(f.down.seen):
			out.postFailsIn++
		default:
			out.postFailsOut++
			out.errors = append(out.errors, fmt.Sprintf("POST started %s (after DOWN): %s", s.Start.Format("15:04:05.000"), shortErr(s.Err)))
		}
	}
	prev := f.start
	for _, e := range sortedTimes(ends) {
		out.gap = max(out.gap, e.Sub(prev))
		prev = e
	}
	return out
}

// shortErr is the first 80 characters of a failure on one line (a 502's
// HTML body says nothing more).
func shortErr(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// dockerCmd runs docker without waiting for anything else (Host.Kill and
// Host.Start fail the test and wait for sshd; here the clients measure).
func dockerCmd(args ...string) error {
	if out, err := osexec.Command("docker", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func sortedTimes(ts []time.Time) []time.Time {
	out := append([]time.Time(nil), ts...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Before(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestAccWebServer_hardFaults (issue 14.2, hard faults under load): web1 and
// web2 behind HAProxy on lb1, a client sending about 100 GET/s and 20
// POST/s through the load balancer, and one after the other on web1:
//
//	(a) the application killed with SIGKILL (nginx still answers: 502);
//	(b) the container killed (docker kill), then started again;
//	(c) the host cut from the network: every packet dropped by nftables
//	    inside the container, so connections hang rather than being
//	    refused, then let through again.
//
// For each: no GET fails (HAProxy retries idempotent requests on the other
// server: connection failures, timeouts, 502/503/504); no POST that started
// after HAProxy marked web1 DOWN fails (those in flight before are
// reported); and web1 is back in rotation without any apply (systemd
// restarts the application; a restarted container starts nginx and the
// application). The health check's error_limit (2) takes web1 out after two
// errors on live traffic, before fall × interval. The load balancer's server timeouts are short (connect 1s,
// server 3s) so that a request stuck on the dead server is retried well
// within the client's 10 s.
func TestAccWebServer_hardFaults(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{"index.html": "<h1>faults</h1>\n"})
	art := acctest.BuildTestApp(t, filepath.Join(tmp, "v1"), "testapp", "v1", true)
	for _, h := range []acctest.Host{web1, web2} {
		forget(t, h, "flt")
		cleanupUser(t, h, "acc-flt")
	}
	const cutTable = "foobar_fault_cut"
	t.Cleanup(func() {
		// Whatever a failed run left broken on web1.
		if _, err := web1.TryExec("true"); err != nil {
			web1.Start(t)
		}
		_, _ = web1.TryExec("nft", "delete", "table", "inet", cutTable)
	})
	web := func(h acctest.Host, label string) string {
		// The application restarts 2 s after it died, so that HAProxy's
		// checks (500ms, fall 2) see it down before it is back.
		c := webConfig{host: h, name: "flt", serverName: "www.flt.test", port: 80, appPort: 8088,
			docRoot: "/srv/www/flt", sourceDir: src, artifact: art, extra: "  default_server       = true\n  disable_default_site = true",
			appExtra: "    restart = { mode = \"on-failure\", delay_seconds = 2 }"}
		return strings.Replace(strings.TrimPrefix(c.hcl(inv), inv.ProviderHCL()), `resource "foobar_web_server" "flt"`, `resource "foobar_web_server" "`+label+`"`, 1)
	}
	config := inv.ProviderHCL() + web(web1, "flt1") + web(web2, "flt2") + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %s
  frontends = [{
    name            = "www"
    port            = 80
    default_backend = "web"
  }]
  backends = [{
    name     = "web"
    timeouts = { connect = "1s", server = "3s" }
    servers = [
      { name = "web1", address = %q, port = 80 },
      { name = "web2", address = %q, port = 80 },
    ]
    health_check = {
      path          = "/healthz"
      host          = "www.flt.test"
      expect_status = 200
      interval      = "500ms"
      rise          = 1
      fall          = 2
      error_limit   = 2
    }
  }]
  stats = {
    bind_address = "0.0.0.0"
    user         = "admin"
    password     = "s3cret-Pw"
  }
  depends_on = [foobar_web_server.flt1, foobar_web_server.flt2]
}
`, lb.ConnectionHCL(), web1.Address, web2.Address)

	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true, Timeout: 10 * time.Second})
	url := "http://" + lb.Address + "/api/orders"
	stats := "http://" + lb.Address + ":8404"
	accept := func(method string) func(string) error {
		return func(body string) error {
			var a struct{ Hostname, Method string }
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				return fmt.Errorf("not the application's answer: %.100q", body)
			}
			if a.Method != method || (a.Hostname != web1.Name && a.Hostname != web2.Name) {
				return fmt.Errorf("unexpected answer %q", body)
			}
			return nil
		}
	}
	const unit = "foobar-flt"
	var restartsBefore int
	faults := []*hardFault{
		{
			name: "(a) the application on web1 killed with SIGKILL",
			inject: func() error {
				restartsBefore = nRestarts(t, web1, unit)
				_, err := web1.TryExec("pkill", "-KILL", "-x", "testapp")
				return err
			},
			back: func() error {
				if after := nRestarts(t, web1, unit); after <= restartsBefore {
					return fmt.Errorf("web1: %s answers, but systemd did not restart it after the SIGKILL (NRestarts %d -> %d)", unit, restartsBefore, after)
				}
				return nil
			},
		},
		{
			name: "(b) web1's container killed (docker kill), then started",
			inject: func() error {
				err := dockerCmd("kill", "--signal", "KILL", web1.Container)
				return err
			},
			restore: func() error {
				err := dockerCmd("start", web1.Container)
				return err
			},
		},
		{
			name: "(c) web1 cut from the network (nftables drops every packet), then let through",
			inject: func() error {
				_, err := web1.TryExec("nft", "add table inet "+cutTable+
					" { chain in { type filter hook input priority -400; policy drop; iif lo accept; };"+
					" chain out { type filter hook output priority -400; policy drop; oif lo accept; }; }")
				return err
			},
			restore: func() error {
				_, err := web1.TryExec("nft", "delete", "table", "inet", cutTable)
				return err
			},
		},
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{{
			Config: config,
			Check: hostCheck(func() error {
				if err := lbtWaitAll(t, c, stats, func(s string) bool { return s == "UP" }, "web1", "web2"); err != nil {
					return err
				}
				mon := startStatusMonitor(stats, "web", "web1")
				defer mon.stop()
				gets := acctest.StartLoad(c, url, acctest.LoadOptions{Workers: 5, Pause: 30 * time.Millisecond, MaxDuration: 5 * time.Minute,
					Accept: accept(http.MethodGet), Trace: true})
				posts := acctest.StartLoad(c, url, acctest.LoadOptions{Workers: 1, Pause: 30 * time.Millisecond, MaxDuration: 5 * time.Minute,
					Method: http.MethodPost, JSON: []byte(`{"order":1}`), Accept: accept(http.MethodPost), Trace: true})
				defer gets.Stop()
				defer posts.Stop()
				time.Sleep(2 * time.Second) // traffic on both servers first
				for _, f := range faults {
					f.start = time.Now()
					if err := f.inject(); err != nil {
						return fmt.Errorf("%s: injecting: %w", f.name, err)
					}
					var err error
					if f.down, err = mon.waitFor(f.start, isDown, 15*time.Second); err != nil {
						return fmt.Errorf("%s: HAProxy did not mark web1 DOWN: %w", f.name, err)
					}
					if f.restore != nil {
						time.Sleep(2 * time.Second) // out of rotation for a while: in-flight requests time out
						f.held = time.Since(f.down.seen)
						if err := f.restore(); err != nil {
							return fmt.Errorf("%s: restoring: %w", f.name, err)
						}
					}
					// Back by itself, no apply: up to a minute for a
					// container's boot.
					if f.up, err = mon.waitFor(f.down.seen, isUp, 60*time.Second); err != nil {
						return fmt.Errorf("%s: web1 not back in rotation without an apply: %w", f.name, err)
					}
					if f.back != nil {
						if err := f.back(); err != nil {
							return err
						}
					}
					time.Sleep(2 * time.Second) // traffic on both servers again
				}
				g, p := gets.Stop(), posts.Stop()
				mon.stop()

				var errs []string
				totalGetFails, totalPostOut := 0, 0
				for i, f := range faults {
					until := time.Now()
					if i+1 < len(faults) {
						until = faults[i+1].start
					}
					fg := figures(*f, until, g.Trace, p.Trace, web1.Name)
					back := "web1 answered no request after DOWN"
					if !fg.web1Back.IsZero() {
						back = fmt.Sprintf("web1 answered again %.2f s after the fault", fg.web1Back.Sub(f.start).Seconds())
					}
					restored := "came back by itself"
					if f.restore != nil {
						restored = fmt.Sprintf("restored %.2f s after DOWN", f.held.Seconds())
					}
					acctest.Report("%s: GET %d of %d failed; POST %d of %d failed (%d in flight, started before HAProxy marked web1 DOWN; %d started after); "+
						"DOWN %.2f s after the fault (seen within %.0f ms); slowest GET %.2f s, longest pause between successful answers %.2f s; "+
						"UP again %.2f s after the fault (%s), %s, no apply",
						f.name, fg.getFails, fg.gets, fg.postFailsIn+fg.postFailsOut, fg.posts, fg.postFailsIn, fg.postFailsOut,
						f.down.seen.Sub(f.start).Seconds(), float64(f.down.seen.Sub(f.down.after).Milliseconds()),
						fg.longestGet.Seconds(), fg.gap.Seconds(), f.up.seen.Sub(f.start).Seconds(), restored, back)
					totalGetFails += fg.getFails
					totalPostOut += fg.postFailsOut
					if fg.web1Back.IsZero() {
						errs = append(errs, f.name+": web1 answered no request after it was marked DOWN")
					}
					if len(fg.errors) > 0 {
						errs = append(errs, f.name+": "+strings.Join(fg.errors[:min(len(fg.errors), 10)], "; "))
					}
				}
				acctest.Report("hard faults on web1 through HAProxy: GET %d requests, %d failed (%.0f/s); POST %d requests, %d failed (%.0f/s)",
					g.Requests, g.Failures, g.RPS(), p.Requests, p.Failures, p.RPS())
				if g.Requests < 1000 || p.Requests < 200 {
					errs = append(errs, fmt.Sprintf("too little traffic to say anything: GET %d, POST %d", g.Requests, p.Requests))
				}
				if totalGetFails > 0 || g.Failures > 0 || totalPostOut > 0 {
					errs = append(errs, fmt.Sprintf("GET failures %d (all: %q), POST failures after DOWN %d", g.Failures, g.Errors, totalPostOut))
				}
				if len(errs) > 0 {
					return fmt.Errorf("%s", strings.Join(errs, "\n"))
				}
				return nil
			}),
		}},
	})
}
