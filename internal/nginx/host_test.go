// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTestArgv(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff([]string{"nginx", "-t"}, TestArgv()); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"nginx", "-v"}, VersionArgv()); diff != "" {
		t.Error(diff)
	}
}

func TestFilterTestOutput(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"ok", "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n", ""},
		{"emerg",
			"nginx: [emerg] unknown directive \"bogus\" in /etc/nginx/sites-enabled/foobar-shop.conf:12\nnginx: configuration file /etc/nginx/nginx.conf test failed\n",
			"nginx: [emerg] unknown directive \"bogus\" in /etc/nginx/sites-enabled/foobar-shop.conf:12"},
		{"warn and emerg",
			"nginx: [warn] the \"listen ... http2\" directive is deprecated\nnginx: [emerg] cannot load certificate \"/x\"\nnginx: [crit] SSL_CTX_use_PrivateKey failed\nnginx: configuration file /etc/nginx/nginx.conf test failed\n",
			"nginx: [emerg] cannot load certificate \"/x\"\nnginx: [crit] SSL_CTX_use_PrivateKey failed"},
		{"only other lines", "  nginx: [warn] something odd \n\nnginx: configuration file /etc/nginx/nginx.conf test failed\n", "nginx: [warn] something odd"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		if got := FilterTestOutput(c.in); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"nginx version: nginx/1.22.1\n", "1.22.1"},
		{"nginx version: nginx/1.18.0 (Ubuntu)\n", "1.18.0"},
		{"nginx version: openresty/1.21.4.1\n", "1.21.4.1"},
		{"nginx version: nginx/1.25.1\nbuilt by gcc 12.2.0\n", "1.25.1"},
	}
	for _, c := range cases {
		got, err := ParseVersion(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "nginx: command not found", "nginx version: nginx/", "nginx version: nginx/1"} {
		if v, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) = %q, want an error", bad, v)
		}
	}
}

// TestParseVersionOfHostNginx reads the version of the installed nginx.
func TestParseVersionOfHostNginx(t *testing.T) {
	t.Parallel()
	bin := lookBinary(t, "nginx")
	out, err := execOutput(bin, "-v")
	if err != nil {
		t.Fatalf("nginx -v: %v: %s", err, out)
	}
	if _, err := ParseVersion(out); err != nil {
		t.Error(err)
	}
}
