// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

// The checks that prove the www.foobar.com stack works, from outside, as a
// visitor would see it. `make demo` (through lab/stackcheck) and the stack's
// acceptance test both run exactly these.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// StackTarget says where the stack is: the load balancer's address (what
// the DNS record points at), the site's name, and the replica the
// application reads from.
type StackTarget struct {
	LB      string
	Domain  string
	Replica string // host:port, as the application names it
	// Web are the web servers' host names as the application reports
	// them; web1 and web2 (the demo's hosts) when empty.
	Web []string
}

// StackCheck is the outcome of one check.
type StackCheck struct {
	Name   string
	OK     bool
	Detail string
}

func (c StackCheck) String() string {
	verdict := "PASS"
	if !c.OK {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s  %s: %s", verdict, c.Name, c.Detail)
}

// CheckStack runs the checks in order: round robin over both web servers,
// a static file from Nginx, a dynamic request from the application, and a
// record written through the site and read back from the replica.
func CheckStack(t StackTarget) []StackCheck {
	// Every request for the domain goes to the load balancer, as if DNS
	// resolved the name to it.
	c := HTTPClient(ClientOptions{DialTo: t.LB})
	ctx := context.Background()
	base := "http://" + t.Domain
	var out []StackCheck

	// Round robin: consecutive requests alternate between the two servers.
	var servers []string
	var rrErr error
	for range 6 {
		r, err := Fetch(ctx, c, Request{URL: base + "/api/whoami"})
		var who struct{ Server string }
		if err == nil && r.Status == http.StatusOK {
			err = json.Unmarshal([]byte(r.Body), &who)
		} else if err == nil {
			err = fmt.Errorf("status %d: %s", r.Status, strings.TrimSpace(r.Body))
		}
		if err != nil {
			rrErr = err
			break
		}
		servers = append(servers, who.Server)
	}
	rr := StackCheck{Name: "round robin", Detail: fmt.Sprintf("6 requests answered by %s", strings.Join(servers, " "))}
	if rrErr != nil {
		rr.Detail = fmt.Sprintf("GET /api/whoami: %v", rrErr)
	} else {
		seen := map[string]bool{}
		alternates := true
		for i, s := range servers {
			seen[s] = true
			if i > 0 && servers[i-1] == s {
				alternates = false
			}
		}
		web := t.Web
		if len(web) == 0 {
			web = []string{"web1", "web2"}
		}
		rr.OK = alternates && len(seen) == len(web)
		for _, w := range web {
			rr.OK = rr.OK && seen[w]
		}
	}
	out = append(out, rr)

	// A static file comes from Nginx (no application header, cache headers).
	r, err := Fetch(ctx, c, Request{URL: base + "/static/style.css"})
	code, h := r.Status, r.Header
	static := StackCheck{Name: "static file"}
	switch {
	case err != nil:
		static.Detail = fmt.Sprintf("GET /static/style.css: %v", err)
	case code == http.StatusOK && strings.HasPrefix(h.Get("Server"), "nginx") && h.Get("X-Served-By") == "" && strings.Contains(h.Get("Cache-Control"), "max-age"):
		static.OK, static.Detail = true, "/static/style.css served by Nginx from disk, with cache headers"
	default:
		static.Detail = fmt.Sprintf("/static/style.css: status %d, Server %q, X-Served-By %q, Cache-Control %q", code, h.Get("Server"), h.Get("X-Served-By"), h.Get("Cache-Control"))
	}
	out = append(out, static)

	// A dynamic request is answered by the application.
	r, err = Fetch(ctx, c, Request{URL: base + "/api/whoami"})
	code, h = r.Status, r.Header
	dyn := StackCheck{Name: "dynamic request"}
	switch {
	case err != nil:
		dyn.Detail = fmt.Sprintf("GET /api/whoami: %v", err)
	case code == http.StatusOK && h.Get("X-Served-By") != "":
		dyn.OK, dyn.Detail = true, "/api/whoami answered by the application on "+h.Get("X-Served-By")
	default:
		dyn.Detail = fmt.Sprintf("/api/whoami: status %d, no X-Served-By header", code)
	}
	out = append(out, dyn)

	// Write through the site (to the primary), read back from the replica.
	out = append(out, checkRecord(ctx, c, base, t.Replica))
	return out
}

func checkRecord(ctx context.Context, c *http.Client, base, replica string) StackCheck {
	chk := StackCheck{Name: "write, then read from the replica"}
	text := "stack check " + time.Now().UTC().Format(time.RFC3339Nano)
	payload, _ := json.Marshal(map[string]string{"body": text})
	r, err := Fetch(ctx, c, Request{Method: http.MethodPost, URL: base + "/api/records", JSON: payload})
	var created struct {
		ID        int64  `json:"id"`
		WrittenBy string `json:"written_by"`
	}
	if err == nil && r.Status != http.StatusCreated {
		err = fmt.Errorf("status %d: %s", r.Status, strings.TrimSpace(r.Body))
	}
	if err == nil {
		err = json.Unmarshal([]byte(r.Body), &created)
	}
	if err != nil {
		chk.Detail = fmt.Sprintf("POST /api/records: %v", err)
		return chk
	}
	var got struct {
		Body     string `json:"body"`
		ReadFrom string `json:"read_from"`
		Served   string `json:"served_by"`
	}
	last := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		r, err = Fetch(ctx, c, Request{URL: fmt.Sprintf("%s/api/records/%d", base, created.ID)})
		if err != nil {
			last = err.Error()
			continue
		}
		last = fmt.Sprintf("status %d: %s", r.Status, strings.TrimSpace(r.Body))
		if r.Status == http.StatusOK && json.Unmarshal([]byte(r.Body), &got) == nil && got.Body == text {
			break
		}
	}
	if got.Body != text {
		chk.Detail = fmt.Sprintf("record %d written by %s, not read back: %s", created.ID, created.WrittenBy, last)
		return chk
	}
	if got.ReadFrom != replica {
		chk.Detail = fmt.Sprintf("record %d read from %s, want the replica %s", created.ID, got.ReadFrom, replica)
		return chk
	}
	chk.OK = true
	chk.Detail = fmt.Sprintf("record %d written by %s to the primary, read back from %s by %s", created.ID, created.WrittenBy, got.ReadFrom, got.Served)
	return chk
}
