// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// Traffic through the load balancer for each routing and server feature:
// host and path rules with several backends, cookie stickiness, and backup
// servers. The servers are responders (acctest.StartResponder) on web1 and
// web2, several per host on different ports, each answering with its own
// name, which is also its server name in haproxy.cfg; the tests send GET and
// POST requests from the test process to lb1 and look at who answered.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// lbtBackend is a backend of a traffic test: its servers are responders,
// named as they answer.
type lbtBackend struct {
	name    string
	sticky  string               // sticky_cookie, "" for none
	servers []*acctest.Responder // in order
	backup  map[string]bool      // server names that are backup servers
	check   string               // health_check's attributes; "" for lbtCheck
}

// lbtCheck makes HTTP health checks every 500ms, down after 2 failures, up
// after 1 success.
const lbtCheck = `path = "/healthz", expect_status = 200, interval = "500ms", rise = 1, fall = 2`

// lbtConfig is a load balancer on lb whose frontend "www" listens on port
// 80 with the given rules (HCL list elements) and default backend, the
// backends (with lbtCheck health checks unless they say otherwise), and
// the stats listener of basicLB (which lbWaitStatus reads).
func lbtConfig(inv *acctest.Inventory, lb acctest.Host, rules []string, def string, backends ...lbtBackend) string {
	var b strings.Builder
	for _, be := range backends {
		fmt.Fprintf(&b, "    {\n      name = %q\n", be.name)
		if be.sticky != "" {
			fmt.Fprintf(&b, "      sticky_cookie = %q\n", be.sticky)
		}
		b.WriteString("      servers = [\n")
		for _, s := range be.servers {
			fmt.Fprintf(&b, "        { name = %q, address = %q, port = %d, backup = %t },\n", s.Name, s.Host.Address, s.Port, be.backup[s.Name])
		}
		check := be.check
		if check == "" {
			check = lbtCheck
		}
		fmt.Fprintf(&b, "      ]\n      health_check = { %s }\n    },\n", check)
	}
	rulesHCL := ""
	if len(rules) > 0 {
		rulesHCL = "rules = [\n      " + strings.Join(rules, ",\n      ") + ",\n    ]"
	}
	return inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_load_balancer" "lb" {
  %s
  frontends = [{
    name            = "www"
    port            = 80
    default_backend = %q
    %s
  }]
  backends = [
%s  ]
  stats = {
    bind_address = "0.0.0.0"
    user         = "admin"
    password     = "s3cret-Pw"
  }
}
`, lb.ConnectionHCL(), def, rulesHCL, b.String())
}

// lbtPayload is the body of the POST requests.
var lbtPayload = []byte(`{"body":"through the load balancer"}`)

// lbtAsk sends one request to base+path (with host as the Host header when
// set) and returns who answered. Anything but a 200 answer from a
// responder that saw the same method and path is an error.
func lbtAsk(c *http.Client, base, host, method, path string) (acctest.Answer, error) {
	req := acctest.Request{Method: method, URL: base + path, Host: host}
	if method == http.MethodPost {
		req.JSON = lbtPayload
	}
	what := method + " " + path
	if host != "" {
		what += " (Host: " + host + ")"
	}
	r, err := acctest.Fetch(context.Background(), c, req)
	if err != nil {
		return acctest.Answer{}, fmt.Errorf("%s: %w", what, err)
	}
	if r.Status != http.StatusOK {
		return acctest.Answer{}, fmt.Errorf("%s: status %d: %.200s", what, r.Status, strings.TrimSpace(r.Body))
	}
	a, err := acctest.ParseAnswer(r.Body)
	if err != nil {
		return acctest.Answer{}, fmt.Errorf("%s: %w", what, err)
	}
	if a.Method != method || a.Path != path {
		return a, fmt.Errorf("%s: %s saw %s %s", what, a.Name, a.Method, a.Path)
	}
	return a, nil
}

// lbtRound sends n requests, GET and POST in turn, and returns how many
// each server answered; an answer from a server not in allowed is an
// error.
func lbtRound(c *http.Client, base, host, path string, n int, allowed ...string) (map[string]int, error) {
	seen := map[string]int{}
	for i := range n {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodPost
		}
		a, err := lbtAsk(c, base, host, method, path)
		if err != nil {
			return seen, fmt.Errorf("request %d of %d: %w", i+1, n, err)
		}
		seen[a.Name]++
		if !slices.Contains(allowed, a.Name) {
			return seen, fmt.Errorf("request %d of %d, %s %s (Host %q): answered by %s, want one of %v (answers so far: %v)", i+1, n, method, path, host, a.Name, allowed, seen)
		}
	}
	return seen, nil
}

// lbtNames are the names of responders.
func lbtNames(rs ...*acctest.Responder) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// lbtAllSeen is an error unless every name in want answered.
func lbtAllSeen(seen map[string]int, want ...string) error {
	for _, w := range want {
		if seen[w] == 0 {
			return fmt.Errorf("%s answered none of the requests: %v", w, seen)
		}
	}
	return nil
}

// TestAccLoadBalancer_routing: one frontend with a host rule, a host and
// path rule and a path rule in front of four backends (two of them with two
// servers). Every request, GET and POST, reaches exactly the backend the
// first matching rule names, and the default backend gets the rest: a host
// is matched exactly (case-insensitive, port ignored), a rule with host and
// path needs both, and a path rule matches by prefix only.
func TestAccLoadBalancer_routing(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	acctest.InstallResponders(t, web1, web2)
	web := []*acctest.Responder{acctest.StartResponder(t, web1, 8080, "www1"), acctest.StartResponder(t, web2, 8080, "www2")}
	api := []*acctest.Responder{acctest.StartResponder(t, web1, 8081, "api1"), acctest.StartResponder(t, web2, 8081, "api2")}
	admin := []*acctest.Responder{acctest.StartResponder(t, web1, 8083, "admin1")}
	static := []*acctest.Responder{acctest.StartResponder(t, web2, 8082, "static1")}
	config := lbtConfig(inv, lb.Host, []string{
		`{ host = "api.acc.test", backend = "api" }`,
		`{ host = "admin.acc.test", path_prefix = "/admin/", backend = "admin" }`,
		`{ path_prefix = "/static/", backend = "static" }`,
	}, "web",
		lbtBackend{name: "web", servers: web},
		lbtBackend{name: "api", servers: api},
		lbtBackend{name: "admin", servers: admin},
		lbtBackend{name: "static", servers: static},
	)
	servers := map[string][]string{"web": lbtNames(web...), "api": lbtNames(api...), "admin": lbtNames(admin...), "static": lbtNames(static...)}
	cases := []struct {
		host, path, backend string
	}{
		{"api.acc.test", "/", "api"},
		{"api.acc.test", "/v1/records", "api"},
		{"API.Acc.Test:80", "/v1/records", "api"},     // case and port ignored
		{"api.acc.test", "/static/app.css", "api"},    // the first matching rule wins
		{"api.acc.test", "/admin/users", "api"},       // likewise
		{"api.acc.test.example", "/", "web"},          // exact host, not a prefix
		{"www.api.acc.test", "/", "web"},              // nor a suffix
		{"admin.acc.test", "/admin/users", "admin"},   // host and path
		{"Admin.Acc.Test:80", "/admin/", "admin"},     // host and path, case and port ignored
		{"admin.acc.test", "/public", "web"},          // host alone is not enough
		{"admin.acc.test", "/administrator", "web"},   // the prefix is /admin/
		{"www.acc.test", "/admin/users", "web"},       // path alone is not enough
		{"www.acc.test", "/static/app.css", "static"}, // path rule, any host
		{"admin.acc.test", "/static/app.css", "static"},
		{"", "/static/img/logo.png", "static"}, // no virtual host: the address
		{"www.acc.test", "/static", "web"},     // the prefix is /static/
		{"www.acc.test", "/app/static/x", "web"},
		{"www.acc.test", "/", "web"},
		{"", "/", "web"},
	}
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
	base := "http://" + lb.Address

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				lb.checkHostMatchesState(t),
				func(*terraform.State) error {
					total := map[string]map[string]int{}
					for _, tc := range cases {
						// Four requests (GET, POST, GET, POST) per case; each
						// must be answered by a server of the case's backend.
						seen, err := lbtRound(c, base, tc.host, tc.path, 4, servers[tc.backend]...)
						if err != nil {
							return fmt.Errorf("want backend %s: %w", tc.backend, err)
						}
						if total[tc.backend] == nil {
							total[tc.backend] = map[string]int{}
						}
						for k, v := range seen {
							total[tc.backend][k] += v
						}
					}
					// Every server of every backend took its share (round
					// robin within a backend).
					for be, names := range servers {
						if err := lbtAllSeen(total[be], names...); err != nil {
							return fmt.Errorf("backend %s: %w", be, err)
						}
					}
					t.Logf("answers by backend: %v", total)
					return nil
				},
			),
		}},
	})
}

// lbtCookieClient is a client with a cookie jar of its own, like a browser.
func lbtCookieClient(t *testing.T) *http.Client {
	t.Helper()
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar
	return c
}

// lbtCookie is the value of the cookie name that c holds for base.
func lbtCookie(t *testing.T, c *http.Client, base, name string) string {
	t.Helper()
	u, err := url.Parse(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// lbtStickyCookie is the sticky_cookie of TestAccLoadBalancer_sticky.
const lbtStickyCookie = "SRVID"

// lbtSticky sends n requests (GET and POST in turn) with c and wants every
// one answered by server, and c's cookie (lbtStickyCookie) naming it.
func lbtSticky(t *testing.T, c *http.Client, base, server string, n int) error {
	t.Helper()
	const cookie = lbtStickyCookie
	if _, err := lbtRound(c, base, "", "/cart", n, server); err != nil {
		return fmt.Errorf("a client that should stay on %s: %w", server, err)
	}
	if got := lbtCookie(t, c, base, cookie); got != server {
		return fmt.Errorf("after %d requests answered by %s the client's cookie %s is %q, want %q", n, server, cookie, got, server)
	}
	return nil
}

// lbtOther is the name in names that is not name.
func lbtOther(names []string, name string) string {
	for _, n := range names {
		if n != name {
			return n
		}
	}
	return ""
}

// TestAccLoadBalancer_sticky: a backend of two servers with a sticky
// cookie. A client without the cookie is balanced over both; a client with
// it stays on its server for every request, GET and POST, and two clients
// stay on two different servers side by side. When a client's server is
// killed (SIGKILL), the client's requests keep being answered, by the
// other server, and its cookie moves there; when the server comes back the
// client stays where it is and new clients reach both servers again.
func TestAccLoadBalancer_sticky(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	acctest.InstallResponders(t, web1, web2)
	rs := map[string]*acctest.Responder{"s1": acctest.StartResponder(t, web1, 8080, "s1"), "s2": acctest.StartResponder(t, web2, 8080, "s2")}
	names := []string{"s1", "s2"}
	const cookie = lbtStickyCookie
	// Checks every second, down after 3 failures: HAProxy takes a few
	// seconds to notice the crash, and the requests sent meanwhile, with a
	// cookie naming a dead server that is still UP, must be answered too.
	config := lbtConfig(inv, lb.Host, nil, "web", lbtBackend{
		name: "web", sticky: cookie, servers: []*acctest.Responder{rs["s1"], rs["s2"]},
		check: `path = "/healthz", expect_status = 200, interval = "1s", rise = 1, fall = 3`,
	})
	base := "http://" + lb.Address
	stats := base + ":8404"
	plain := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
	const n = 20

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				lb.checkHostMatchesState(t),
				func(*terraform.State) error {
					// Without the cookie: both servers answer.
					seen, err := lbtRound(plain, base, "", "/cart", 6, names...)
					if err == nil {
						err = lbtAllSeen(seen, names...)
					}
					if err != nil {
						return fmt.Errorf("a client without the cookie: %w", err)
					}

					// Client A gets a cookie naming the server that answered
					// it first, and stays there.
					a := lbtCookieClient(t)
					first, err := lbtAsk(a, base, "", http.MethodGet, "/cart")
					if err != nil {
						return err
					}
					home := first.Name
					if got := lbtCookie(t, a, base, cookie); got != home {
						return fmt.Errorf("the first answer, from %s, left the client's cookie %s = %q, want %q", home, cookie, got, home)
					}
					if err := lbtSticky(t, a, base, home, n); err != nil {
						return err
					}
					// Client B lands on the other server (a few new clients
					// at most, round robin) and stays there too, while A's
					// requests go on in between.
					away := lbtOther(names, home)
					var b *http.Client
					for range 4 {
						b = lbtCookieClient(t)
						ans, err := lbtAsk(b, base, "", http.MethodGet, "/cart")
						if err != nil {
							return err
						}
						if ans.Name == away {
							break
						}
						b = nil
					}
					if b == nil {
						return fmt.Errorf("4 new clients all landed on %s; want one on %s", home, away)
					}
					for range n / 2 {
						if err := lbtSticky(t, a, base, home, 1); err != nil {
							return err
						}
						if err := lbtSticky(t, b, base, away, 1); err != nil {
							return err
						}
					}

					// A's server crashes. A's requests keep being answered,
					// by the other server, while HAProxy notices.
					rs[home].Kill(t)
					var got []string
					deadline := time.Now().Add(20 * time.Second)
					for {
						ans, err := lbtAsk(a, base, "", http.MethodGet, "/cart")
						if err != nil {
							return fmt.Errorf("%s killed, request %d of client A: %w (answers so far: %v)", home, len(got)+1, err, got)
						}
						if ans.Name != away {
							return fmt.Errorf("%s killed: client A answered by %s", home, ans.Name)
						}
						status := lbServerStatus(t, plain, stats, home)
						got = append(got, ans.Name+" ("+home+" "+status+")")
						if strings.HasPrefix(status, "DOWN") {
							break
						}
						if time.Now().After(deadline) {
							return fmt.Errorf("%s killed: HAProxy did not mark it DOWN within 20s", home)
						}
						time.Sleep(50 * time.Millisecond)
					}
					t.Logf("%s killed: client A's requests until HAProxy marked it DOWN, answered by (status of %s after each): %v", home, home, got)
					// The cookie followed: A now stays on the other server.
					if err := lbtSticky(t, a, base, away, n); err != nil {
						return fmt.Errorf("%s down: %w", home, err)
					}

					// The server comes back: A stays where its cookie says,
					// and a client without the cookie reaches both again.
					rs[home].Start(t)
					if _, err := lbWaitStatus(t, plain, stats, home, func(s string) bool { return s == "UP" }, 20*time.Second); err != nil {
						return err
					}
					if err := lbtSticky(t, a, base, away, n); err != nil {
						return fmt.Errorf("%s back up: %w", home, err)
					}
					seen, err = lbtRound(plain, base, "", "/cart", 6, names...)
					if err == nil {
						err = lbtAllSeen(seen, names...)
					}
					if err != nil {
						return fmt.Errorf("%s back up, a client without the cookie: %w", home, err)
					}
					return nil
				},
			),
		}},
	})
}

// lbtPhaseRequests is how many requests lbtPhase sends.
const lbtPhaseRequests = 20

// lbtPhase sends lbtPhaseRequests requests (GET and POST in turn) and wants
// them answered only by servers in want, each of them at least once.
func lbtPhase(c *http.Client, base, what string, want ...string) error {
	seen, err := lbtRound(c, base, "", "/", lbtPhaseRequests, want...)
	if err == nil {
		err = lbtAllSeen(seen, want...)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// lbtWaitAll waits until every server has a status that want accepts.
func lbtWaitAll(t *testing.T, c *http.Client, stats string, want func(string) bool, servers ...string) error {
	t.Helper()
	for _, s := range servers {
		if _, err := lbWaitStatus(t, c, stats, s, want, 20*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// TestAccLoadBalancer_backup: two primary servers and a backup server. The
// backup, healthy, takes no request while a primary is up (both, then one
// of them); it takes every request when both primaries are down (one
// stopped, one killed); and it gives the traffic back when they return.
func TestAccLoadBalancer_backup(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb := prepareLB(t, inv.Host(t, "lb1"))
	web1, web2 := lbWebServers(inv, t)
	acctest.InstallResponders(t, web1, web2)
	p1 := acctest.StartResponder(t, web1, 8080, "primary1")
	p2 := acctest.StartResponder(t, web2, 8080, "primary2")
	bk := acctest.StartResponder(t, web2, 8090, "backup1")
	config := lbtConfig(inv, lb.Host, nil, "web", lbtBackend{name: "web", servers: []*acctest.Responder{p1, p2, bk}, backup: map[string]bool{bk.Name: true}})
	base := "http://" + lb.Address
	stats := base + ":8404"
	c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
	up := func(s string) bool { return s == "UP" }
	down := func(s string) bool { return strings.HasPrefix(s, "DOWN") }

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lb.checkRestored,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				lb.checkHostMatchesState(t),
				func(*terraform.State) error {
					// All three healthy: the backup is UP and idle.
					if err := lbtWaitAll(t, c, stats, up, p1.Name, p2.Name, bk.Name); err != nil {
						return err
					}
					if err := lbtPhase(c, base, "both primaries up", p1.Name, p2.Name); err != nil {
						return err
					}
					// One primary down: the other takes everything, the
					// backup still nothing.
					p1.Stop(t)
					if err := lbtWaitAll(t, c, stats, down, p1.Name); err != nil {
						return err
					}
					if err := lbtPhase(c, base, p1.Name+" down", p2.Name); err != nil {
						return err
					}
					// Both down: the backup takes every request.
					p2.Kill(t)
					if err := lbtWaitAll(t, c, stats, down, p2.Name); err != nil {
						return err
					}
					if err := lbtPhase(c, base, "both primaries down", bk.Name); err != nil {
						return err
					}
					// Both back: the backup gives the traffic back.
					p1.Start(t)
					p2.Start(t)
					if err := lbtWaitAll(t, c, stats, up, p1.Name, p2.Name); err != nil {
						return err
					}
					if err := lbtPhase(c, base, "primaries back up", p1.Name, p2.Name); err != nil {
						return err
					}
					return nil
				},
			),
		}},
	})
}
