// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

// The checks that prove every hop of the www.foobar.com stack behind the
// load balancer runs TLS with the peer verified. `make demo` (through
// lab/stackcheck -tls) and the stack's acceptance test both run them. They
// look at the hosts out of band (docker exec), as an operator on each host
// would: HAProxy's own view of its servers, the replica's status, a client
// on the database host.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
)

// StackTLSTarget says where the stack's TLS hops are.
type StackTLSTarget struct {
	// LB is the address the site answers at, Domain its name (the
	// application's /api/dbtls is asked through them).
	LB     string
	Domain string
	// LBs are the load balancers, whose backend Backend must reach each
	// of its servers over TLS on WebTLSPort, verified.
	LBs        []Host
	Backend    string
	WebTLSPort int
	// Primary and Replica are the database members; ReplicaEndpoint the
	// replica as the application names it (host:port).
	Primary, Replica Host
	ReplicaEndpoint  string
	// AppUser and AppPassword are the application's database account,
	// which must be refused without TLS.
	AppUser, AppPassword string
}

// CheckStackTLS runs the TLS checks: HAProxy -> Nginx (every server of the
// backend UP through its TLS port with the certificate verified), the
// application -> the databases (its sessions on the writer and the reader
// report a TLS cipher; its account is refused without TLS), and
// replication (over TLS with the source's certificate verified).
func CheckStackTLS(t StackTLSTarget) []StackCheck {
	out := make([]StackCheck, 0, 3)
	out = append(out, checkLBTLS(t))
	out = append(out, checkAppDBTLS(t))
	out = append(out, checkReplicationTLS(t))
	return out
}

// checkLBTLS: on each load balancer, every server line of the backend has
// `ssl verify required` (haproxy.cfg) and HAProxy reports each server UP
// over SSL on the TLS port (show servers state: srv_op_state 2,
// srv_use_ssl 1), and its last health check a layer-7 success (show stat:
// check_status L7OK), which over TLS means the handshake verified.
func checkLBTLS(t StackTLSTarget) StackCheck {
	chk := StackCheck{Name: "TLS load balancer -> web servers"}
	var seen []string
	for _, lb := range t.LBs {
		cfg, err := lb.TryExec("cat", "/etc/haproxy/haproxy.cfg")
		if err != nil {
			chk.Detail = fmt.Sprintf("%s: %v", lb.Name, err)
			return chk
		}
		lines, err := backendServerLines(cfg, t.Backend)
		if err != nil {
			chk.Detail = fmt.Sprintf("%s: %v", lb.Name, err)
			return chk
		}
		for _, l := range lines {
			if !strings.Contains(l, " ssl ") || !strings.Contains(l, " verify required ") || !strings.Contains(l, " verifyhost ") {
				chk.Detail = fmt.Sprintf("%s: server line without `ssl verify required ... verifyhost`: %s", lb.Name, l)
				return chk
			}
		}
		state, err := haproxyCmd(lb, "show servers state "+t.Backend)
		if err != nil {
			chk.Detail = fmt.Sprintf("%s: %v", lb.Name, err)
			return chk
		}
		servers, err := parseServersState(state)
		if err != nil {
			chk.Detail = fmt.Sprintf("%s: show servers state %s: %v", lb.Name, t.Backend, err)
			return chk
		}
		stat, err := haproxyCmd(lb, "show stat")
		if err != nil {
			chk.Detail = fmt.Sprintf("%s: %v", lb.Name, err)
			return chk
		}
		checks, err := checkStatusOf(stat, t.Backend)
		if err != nil {
			chk.Detail = fmt.Sprintf("%s: %v", lb.Name, err)
			return chk
		}
		if len(servers) == 0 || len(servers) != len(lines) {
			chk.Detail = fmt.Sprintf("%s: %d servers in HAProxy's state, %d in haproxy.cfg:\n%s", lb.Name, len(servers), len(lines), state)
			return chk
		}
		for _, s := range servers {
			switch {
			case s["srv_op_state"] != "2":
				chk.Detail = fmt.Sprintf("%s: server %s is not UP (srv_op_state %s, check status %s)", lb.Name, s["srv_name"], s["srv_op_state"], checks[s["srv_name"]])
				return chk
			case s["srv_use_ssl"] != "1":
				chk.Detail = fmt.Sprintf("%s: server %s does not use TLS (srv_use_ssl %q)", lb.Name, s["srv_name"], s["srv_use_ssl"])
				return chk
			case s["srv_port"] != strconv.Itoa(t.WebTLSPort):
				chk.Detail = fmt.Sprintf("%s: server %s on port %s, want the TLS port %d", lb.Name, s["srv_name"], s["srv_port"], t.WebTLSPort)
				return chk
			case checks[s["srv_name"]] != "L7OK":
				chk.Detail = fmt.Sprintf("%s: server %s last health check %q, want L7OK", lb.Name, s["srv_name"], checks[s["srv_name"]])
				return chk
			}
			seen = append(seen, fmt.Sprintf("%s->%s:%s", lb.Name, s["srv_name"], s["srv_port"]))
		}
	}
	chk.OK = true
	chk.Detail = "UP over TLS, certificate verified (ssl verify required, verifyhost; check L7OK): " + strings.Join(seen, ", ")
	return chk
}

// haproxyCmd runs one command on HAProxy's admin socket (the command and
// the socket are arguments of the script, never spliced into it).
func haproxyCmd(lb Host, cmd string) (string, error) {
	return lb.TryExec("sh", "-c", `printf '%s\n' "$1" | exec socat -t 2 stdio "UNIX-CONNECT:$2"`, "sh", cmd, haproxy.AdminSocket)
}

var serverLine = regexp.MustCompile(`^\s*server\s`)

// backendServerLines are the `server` lines of backend name in cfg.
func backendServerLines(cfg, name string) ([]string, error) {
	var out []string
	in := false
	for _, l := range strings.Split(cfg, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
			in = len(f) >= 2 && f[0] == "backend" && f[1] == name
			continue
		}
		if in && serverLine.MatchString(l) {
			out = append(out, strings.TrimSpace(l)+" ")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("haproxy.cfg has no server line in backend %s", name)
	}
	return out, nil
}

// parseServersState parses `show servers state` (version line, "# " header
// of field names, one line per server) into one map per server.
func parseServersState(s string) ([]map[string]string, error) {
	var names []string
	var out []map[string]string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		switch {
		case strings.HasPrefix(l, "# "):
			names = strings.Fields(strings.TrimPrefix(l, "# "))
		case names == nil || strings.TrimSpace(l) == "":
			continue
		default:
			f := strings.Fields(l)
			m := map[string]string{}
			for i, n := range names {
				if i < len(f) {
					m[n] = f[i]
				}
			}
			out = append(out, m)
		}
	}
	if names == nil {
		return nil, fmt.Errorf("no header line: %q", s)
	}
	return out, nil
}

// checkStatusOf is the last health check's result (check_status) of each
// server of backend in `show stat` (haproxy.ParseStat).
func checkStatusOf(stat, backend string) (map[string]string, error) {
	servers, err := haproxy.ParseStat(stat)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range servers {
		if s.Backend == backend {
			out[s.Server] = s.CheckStatus
		}
	}
	return out, nil
}

// checkAppDBTLS: through the load balancer, the application's sessions on
// the writer and on the replica report a TLS cipher (GET /api/dbtls), and
// the application's account is refused without TLS (REQUIRE SSL: error
// 1045), tried on the primary from its own address.
func checkAppDBTLS(t StackTLSTarget) StackCheck {
	chk := StackCheck{Name: "TLS application -> databases"}
	c := HTTPClient(ClientOptions{DialTo: t.LB})
	// Each web server's application has its own sessions: ask twice, so
	// that round robin reaches both.
	var got []string
	for range 2 {
		r, err := Fetch(context.Background(), c, Request{URL: "http://" + t.Domain + "/api/dbtls"})
		if err == nil && r.Status != http.StatusOK {
			err = fmt.Errorf("status %d: %s", r.Status, strings.TrimSpace(r.Body))
		}
		var ciphers map[string]string
		if err == nil {
			err = json.Unmarshal([]byte(r.Body), &ciphers)
		}
		if err != nil {
			chk.Detail = fmt.Sprintf("GET /api/dbtls: %v", err)
			return chk
		}
		for _, k := range []string{"writer", "reader " + t.ReplicaEndpoint} {
			if ciphers[k] == "" {
				chk.Detail = fmt.Sprintf("the application's %s session is not TLS (no cipher): %v (from %s)", k, ciphers, r.Header.Get("X-Served-By"))
				return chk
			}
		}
		got = append(got, fmt.Sprintf("%s: writer %s, reader %s", r.Header.Get("X-Served-By"), ciphers["writer"], ciphers["reader "+t.ReplicaEndpoint]))
	}
	sort.Strings(got)
	got = slices.Compact(got)
	out, err := t.Primary.SQLAsTLS(t.AppUser, t.AppPassword, "", "SELECT 1", "")
	if err == nil || !strings.Contains(out, "1045") {
		chk.Detail = fmt.Sprintf("%s: %s connected without TLS, or was refused for another reason than REQUIRE SSL: %v (output %q)", t.Primary.Name, t.AppUser, err, strings.TrimSpace(out))
		return chk
	}
	chk.OK = true
	chk.Detail = fmt.Sprintf("sessions over TLS (%s); %s without TLS refused (1045)", strings.Join(got, "; "), t.AppUser)
	return chk
}

// checkReplicationTLS: the replica's connection to the source runs TLS
// (Master_SSL_Allowed / Source_SSL_Allowed Yes) with the source's
// certificate verified by name (..._SSL_Verify_Server_Cert Yes), and the
// replica replicates (both threads running).
func checkReplicationTLS(t StackTLSTarget) StackCheck {
	chk := StackCheck{Name: "TLS replication"}
	f, err := t.Replica.TryReplicaStatus()
	if err != nil {
		chk.Detail = err.Error()
		return chk
	}
	prefix, io, sqlT := "Source_", "Replica_IO_Running", "Replica_SQL_Running"
	if t.Replica.Service == "mariadb" {
		prefix, io, sqlT = "Master_", "Slave_IO_Running", "Slave_SQL_Running"
	}
	allowed, verify := f[prefix+"SSL_Allowed"], f[prefix+"SSL_Verify_Server_Cert"]
	if allowed != "Yes" || verify != "Yes" || f[io] != "Yes" || f[sqlT] != "Yes" {
		chk.Detail = fmt.Sprintf("%s: %sSSL_Allowed %q, %sSSL_Verify_Server_Cert %q, %s %q, %s %q", t.Replica.Name, prefix, allowed, prefix, verify, io, f[io], sqlT, f[sqlT])
		return chk
	}
	chk.OK = true
	chk.Detail = fmt.Sprintf("%s replicates from %s over TLS, the source's certificate verified (%sSSL_Allowed Yes, %sSSL_Verify_Server_Cert Yes)", t.Replica.Name, f[prefix+"Host"], prefix, prefix)
	return chk
}
