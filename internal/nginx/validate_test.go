// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"strings"
	"testing"
)

// injections are refused by every validator whose value reaches a config
// line unquoted.
var injections = []string{
	"a\nb", "a\rb", "a\x00b", "a;b", "a{b", "a}b", "a#b", `a"b`, "a'b", "a$b", `a\b`, "a`b",
}

func TestValidators(t *testing.T) {
	t.Parallel()
	type check struct {
		name string
		fn   func(string) error
		ok   []string
		bad  []string
		// unquoted: the value reaches a config line unquoted, so every
		// injection must be refused.
		unquoted bool
	}
	checks := []check{
		{"ValidateSiteName", ValidateSiteName,
			[]string{"shop", "a", "web-1", "a" + strings.Repeat("b", 62)},
			[]string{"", "Shop", "-shop", "shop-", "sh_op", "sh.op", "a" + strings.Repeat("b", 63), "шоп"}, true},
		{"ValidateServerName", ValidateServerName,
			[]string{"www.foobar.com", "foobar.com", "localhost", "*.foobar.com", "www.foobar.*", "_", "xn--bcher-kva.example", "web-1.internal"},
			[]string{"", "~^www\\.", "a..b", "-a.com", "a-.com", "*.*.com", "www.*.com", "a b", "a,b", "a:80", strings.Repeat("a.", 127) + "com"}, true},
		{"ValidatePath", ValidatePath,
			[]string{"/", "/srv/www/shop", "/var/log/nginx/a.log", "/opt/foo-bar_1.2/x+y@z,w:v=u"},
			[]string{"", "srv/www", "/srv//www", "/srv/www/", "/srv/./www", "/srv/../etc", "/..", "/a b", "/a%b", "/a~b", "/a*b", "/a?b", "/é"}, true},
		{"ValidateURLPrefix", ValidateURLPrefix,
			[]string{"/static/", "/media/uploads/", "/.well-known/", "/a~b_c-d.e/"},
			[]string{"", "/", "static/", "/static", "//", "/a//b/", "/../", "/./", "/a/../", "/a b/", "/a%20b/", "/a?b/", "/a*/", "/~/x/.."}, true},
		{"ValidateSize", ValidateSize,
			[]string{"0", "1", "10m", "512k", "1g", "10M", "512K", "999999999g"},
			[]string{"", "10mb", "1.5m", "-1", "10 m", "m", "1t", "1000000000", "1e6"}, true},
		{"ValidateDuration", ValidateDuration,
			[]string{"0", "30", "30s", "1m", "500ms", "1h", "2d", "1w", "1M", "1y", "31536000s"},
			[]string{"", "30 s", "1.5s", "-1s", "1m30s", "1x", "s", "2y", "31536001s", "9999999999"}, true},
		{"ValidateExpires", ValidateExpires,
			[]string{"off", "max", "epoch", "7d", "1h", "30", "1y"},
			[]string{"", "500ms", "-1", "modified 1h", "@15h", "7 d", "now"}, true},
		{"ValidateHeaderName", ValidateHeaderName,
			[]string{"X-Served-By", "Permissions-Policy", "X1", "a"},
			[]string{"", "X Served", "X_Served", "-X", "X-", "X:Y", "X.Y", strings.Repeat("a", 129)}, true},
		{"ValidateHeaderValue", ValidateHeaderValue,
			[]string{"web1", "default-src 'self'; img-src 'self' data:", "max-age=60, public", "geolocation=()", "a'b", "a;b"},
			[]string{"", " lead", "trail ", "a\nb", "a\rb", "a\x00b", "a\tb", `a"b`, `a\b`, "a$b", "a{b", "a}b", "a#b", "a`b", "é", strings.Repeat("a", 4097)}, false},
		{"ValidateEnvName", ValidateEnvName,
			[]string{"DB_DSN", "_X", "a1", "PATH", "HOME"},
			[]string{"", "1A", "A-B", "A B", "A=B", "IFS", "ENV", "BASH_ENV", "PPID", "UID", strings.Repeat("A", 129)}, true},
		{"ValidateEnvValue", ValidateEnvValue,
			[]string{"", "x", "a b", `"'$\=#;{}` + "`", "héllo ✓"},
			[]string{"a\nb", "a\rb", "a\x00b", "a\tb", "a\x7fb", "\xff", "a\u0085b", strings.Repeat("a", 32769)}, false},
		{"ValidateUserName", ValidateUserName,
			[]string{"shop", "_app", "www-data", "app_1"},
			[]string{"", "root", "Shop", "1app", "-app", "a b", "a.b", strings.Repeat("a", 33)}, true},
		{"ValidateArg", ValidateArg,
			[]string{"", "--port", "a b", `it's "100%" $x; \o/ {} #`, "ünï"},
			[]string{"a\nb", "a\x00b", "a\tb", "\xff", strings.Repeat("a", 4097)}, false},
		{"ValidateMIMEType", ValidateMIMEType,
			[]string{"text/css", "application/json", "image/svg+xml", "application/vnd.ms-fontobject", "text/*"},
			[]string{"", "text", "Text/css", "text/css;q=1", "text/ css", "/css", "text/", "*/*x"}, true},
		{"ValidateHealthCheckPath", ValidateHealthCheckPath,
			[]string{"/", "/healthz", "/api/health?full=1&x=y"},
			[]string{"", "healthz", "/a b", "/a#b", "//a?b?c", "/a%2f"}, true},
		{"ValidateSignal", ValidateSignal,
			[]string{"HUP", "USR1", "USR2"},
			[]string{"", "SIGHUP", "KILL", "hup", "9"}, true},
		{"ValidateRelPath", ValidateRelPath,
			[]string{"index.html", "css/app.css", "a b/c d.txt", ".hidden", "a..b", `we\ird`},
			[]string{"", "/abs", "a/../b", "..", "./a", "a/./b", "a//b", "a/", "a\nb", "a\rb", "a\x00b", "\xff"}, false},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range c.ok {
				if err := c.fn(v); err != nil {
					t.Errorf("%s(%q) = %v, want nil", c.name, v, err)
				}
			}
			bad := c.bad
			if c.unquoted {
				bad = append(append([]string{}, bad...), injections...)
			}
			for _, v := range bad {
				err := c.fn(v)
				if err == nil {
					t.Errorf("%s(%q) = nil, want an error", c.name, v)
					continue
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("%s(%q): error spans lines: %q", c.name, v, err)
				}
			}
		})
	}
}

// TestValidatorMessagesQuoteValues: messages show the offending value with
// %q, except environment values, which may be secrets.
func TestValidatorMessagesQuoteValues(t *testing.T) {
	t.Parallel()
	if err := ValidateServerName("bad;name"); err == nil || !strings.Contains(err.Error(), `"bad;name"`) {
		t.Errorf("server name message: %v", err)
	}
	if err := ValidatePath("rel\npath"); err == nil || !strings.Contains(err.Error(), `"rel\npath"`) {
		t.Errorf("path message: %v", err)
	}
	const secret = "hunter2\n"
	if err := ValidateEnvValue(secret); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("env value message must not contain the value: %v", err)
	}
}

func TestValidatePort(t *testing.T) {
	t.Parallel()
	for _, p := range []int{1, 80, 443, 65535} {
		if err := ValidatePort(p); err != nil {
			t.Errorf("ValidatePort(%d) = %v", p, err)
		}
	}
	for _, p := range []int{-1, 0, 65536, 1 << 20} {
		if err := ValidatePort(p); err == nil {
			t.Errorf("ValidatePort(%d) = nil", p)
		}
	}
}
