// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"strings"
	"testing"
)

// HAProxy 2.6/3.0's answers on the lab (lb1 of the stack, abridged).
const (
	sampleServersState = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
4 web 1 web1 172.30.81.21 2 0 1 1 83 15 3 3 6 0 0 0 - 443 - 1 0 - - 0
4 web 2 web2 172.30.81.22 0 0 1 1 83 15 3 3 6 0 0 0 - 80 - 0 0 - - 0
`
	sampleStat = `# pxname,svname,qcur,status,check_status,check_code
www,FRONTEND,,OPEN,,
web,web1,0,UP,L7OK,200
web,web2,0,DOWN,L4CON,
web,BACKEND,0,UP,,
`
	sampleCfg = `global
	log /dev/log local0

backend other
	server x 10.0.0.1:80 check

backend web
	balance roundrobin
	server web1 172.30.81.21:443 check ssl verify required ca-file /etc/haproxy/foobar/ca-web.pem sni str(web.foobar.internal) check-sni web.foobar.internal verifyhost web.foobar.internal
	server web2 172.30.81.22:80 check

frontend www
	bind :80
`
)

func TestParseServersState(t *testing.T) {
	got, err := parseServersState(sampleServersState)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d servers, want 2: %v", len(got), got)
	}
	for i, want := range []map[string]string{
		{"srv_name": "web1", "srv_op_state": "2", "srv_use_ssl": "1", "srv_port": "443"},
		{"srv_name": "web2", "srv_op_state": "0", "srv_use_ssl": "0", "srv_port": "80"},
	} {
		for k, v := range want {
			if got[i][k] != v {
				t.Errorf("server %d: %s = %q, want %q", i, k, got[i][k], v)
			}
		}
	}
	if _, err := parseServersState("1\n"); err == nil {
		t.Error("an answer without a header line must be an error")
	}
}

func TestCheckStatusOf(t *testing.T) {
	got, err := checkStatusOf(sampleStat, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["web1"] != "L7OK" || got["web2"] != "L4CON" {
		t.Errorf("got %v, want web1 L7OK, web2 L4CON", got)
	}
}

func TestBackendServerLines(t *testing.T) {
	got, err := backendServerLines(sampleCfg, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "server web1 ") || !strings.Contains(got[0], " verify required ") || !strings.HasPrefix(got[1], "server web2 ") {
		t.Errorf("got %q", got)
	}
	if _, err := backendServerLines(sampleCfg, "missing"); err == nil {
		t.Error("a backend without server lines must be an error")
	}
}
