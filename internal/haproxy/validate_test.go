// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

type keyPair struct{ cert, key string }

// otherKeyPair makes a throwaway certificate and key, different from the
// fixed ones in testdata.
func otherKeyPair(t testing.TB) keyPair {
	t.Helper()
	cert, key := testcert.Pair(t, "other.foobar.com")
	return keyPair{cert: cert, key: key}
}

// validatorCase runs one per-kind validator on a list of accepted and
// rejected inputs. A rejection must quote the value (%q) unless the value
// is secret; want, when set, must appear in the message.
type validatorCase[T any] struct {
	name     string
	fn       func(T) error
	accept   []T
	reject   []T
	secret   bool
	quotable func(T) string
}

func (vc validatorCase[T]) run(t *testing.T) {
	t.Run(vc.name, func(t *testing.T) {
		t.Parallel()
		for _, v := range vc.accept {
			if err := vc.fn(v); err != nil {
				t.Errorf("%s(%#v) = %v, want nil", vc.name, v, err)
			}
		}
		for _, v := range vc.reject {
			err := vc.fn(v)
			if err == nil {
				t.Errorf("%s(%#v) = nil, want an error", vc.name, v)
				continue
			}
			if vc.quotable != nil {
				q := vc.quotable(v)
				if vc.secret && q != "" && strings.Contains(err.Error(), q) {
					t.Errorf("%s error leaks the secret value: %v", vc.name, err)
				}
				// An empty value is reported as "must not be empty".
				if !vc.secret && q != `""` && !strings.Contains(err.Error(), q) {
					t.Errorf("%s(%#v) error %q does not quote the value as %s", vc.name, v, err, q)
				}
			}
		}
	})
}

func quoteString(s string) string { return strconv.Quote(s) }

// injections are strings that would add a line, a word, a comment, a
// quoted string, an escape, an inline ACL block or a sample fetch if they
// reached the config unchecked.
var injections = []string{
	"a\nbind :1", "a\rb", "a\x00b", "x#y", "#", "a b", "a\tb", "\"", "'", "\\",
	"{", "}", "a{b", "%[src]", "${HOME}", "a\u00a0b", "é",
}

func TestValidators(t *testing.T) {
	t.Parallel()
	q := quoteString
	validatorCase[string]{
		name: "ValidateName", fn: ValidateName, quotable: q,
		accept: []string{"www", "web-1", "web_1", "a.b:c", "_x", "0", "A" + strings.Repeat("b", 63)},
		reject: append([]string{"", "-x", ".x", ":x", "a/b", "a@b", "a,b", "a(b)", "A" + strings.Repeat("b", 64)}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateDuration", fn: ValidateDuration, quotable: q,
		accept: []string{"100ms", "5s", "1m", "1h", "1d", "5000", "1", "24d", "2147483647", "2147483s", "35791m", "596h"},
		reject: append([]string{"", "0", "0s", "s", "5 s", "5S", "5sec", "1.5s", "-1s", "+1s", "5us", "25d", "2147483648",
			"99999999999999999999", "596523h", "1w", "5s ", " 5s"}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateBindAddress", fn: ValidateBindAddress, quotable: q,
		accept: []string{"", "0.0.0.0", "10.0.0.10", "::", "::1", "2001:db8::1", "::ffff:10.0.0.1"},
		reject: append([]string{"localhost", "*", "10.0.0.300", "010.0.0.1", "[::1]", "fe80::1%eth0", "10.0.0.1:80", " 10.0.0.1"}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateAddress", fn: ValidateAddress, quotable: q,
		accept: []string{"10.0.0.11", "2001:db8::21", "::1", "web1", "web1.internal", "localhost", "a-b.example.com", "xn--bcher-kva.example"},
		reject: append([]string{"", "10.0.0.300", "1.2.3", "010.0.0.1", "[::1]", "fe80::1%eth0", "web1:80", "-web", "web-", "a..b",
			"web_1", "ipv4@10.0.0.1", "unix@/x", "web.", strings.Repeat("a", 64) + ".com", "*.example.com"}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateHostname", fn: ValidateHostname, quotable: q,
		accept: []string{"www.foobar.com", "localhost", "API.Foobar.COM", "a1", "1a", "x.y1"},
		reject: append([]string{"", "1.2.3.4", "123", "a.-b", "www.foobar.com.", "www.foobar.com:80", "*.foobar.com",
			"a_b", strings.Repeat("a.", 127) + "com"}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidatePath", fn: ValidatePath, quotable: q,
		accept: []string{"/", "/api/", "/static", "/a-b_c.d~e", "/%20x", "/a:b@c!d&e(f)*g+h,i;j=k", "/%C3%A9"},
		reject: append([]string{"", "api", "/a?b", "/a b", "/%", "/%2", "/%zz", "/a%[src]", "/a$b", "/a'b", "/a<b", "/a|b",
			"/a`b", "/a^b", "/a[b]", "/" + strings.Repeat("a", 1024)}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateRequestURI", fn: ValidateRequestURI, quotable: q,
		accept: []string{"/", "/health", "/healthz?full=1", "/haproxy?stats", "/a?b=c&d=e"},
		reject: append([]string{"", "health", "/a b", "/a?b c", "/a?%", "/a#frag"}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateHeaderName", fn: ValidateHeaderName, quotable: q,
		accept: []string{"X-User-Id", "Host", "x_y", "A1"},
		reject: append([]string{"", "-X", "X.Y", "X:Y", "X(Y)", "X,Y", strings.Repeat("X", 65)}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateCookieName", fn: ValidateCookieName, quotable: q,
		accept: []string{"SRVID", "srv_id", "srv.id", "srv-id"},
		reject: append([]string{"", "_x", "a=b", "a;b", "a,b", "a:b"}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidateUser", fn: ValidateUser, quotable: q,
		accept: []string{"admin", "ops.team", "a-b_c"},
		reject: append([]string{"", "a:b", "-a"}, injections...),
	}.run(t)
	validatorCase[string]{
		name: "ValidatePassword", fn: ValidatePassword, secret: true, quotable: q,
		accept: []string{"s3cr3t", "a:b:c", "p$HOME", "!@%^&*()[]{}<>|;,.?/~`=+-_", strings.Repeat("x", 128)},
		reject: []string{"", "a b", "a\nb", "a\"b", "a'b", "a\\b", "a#b", "é", "a\x00b", "a\tb", strings.Repeat("x", 129)},
	}.run(t)
	validatorCase[string]{
		name: "ValidateBalance", fn: ValidateBalance, quotable: q,
		accept: []string{"roundrobin", "static-rr", "leastconn", "first", "source", "uri", "random", "rdp-cookie",
			"url_param userid", "hdr(X-User)", "rdp-cookie(mstshash)"},
		reject: append([]string{"", "RoundRobin", "round robin", "url_param", "url_param ", "url_param a b", "url_param  a",
			"hdr()", "hdr(a b)", "hdr(X)(Y)", "hdr(X", "hdr(x)\nbind :1", "rdp-cookie()", "random(2)", "uri whole",
			"roundrobin ", "leastconn\n"}, injections...),
	}.run(t)
	quoteInt := strconv.Itoa
	validatorCase[int]{
		name: "ValidatePort", fn: ValidatePort, quotable: quoteInt,
		accept: []int{1, 80, 443, 65535},
		reject: []int{0, -1, 65536, 1 << 40},
	}.run(t)
	validatorCase[int]{
		name: "ValidateWeight", fn: ValidateWeight, quotable: quoteInt,
		accept: []int{0, 1, 100, 256},
		reject: []int{-1, 257, 1000},
	}.run(t)
	validatorCase[int]{
		name: "ValidateStatusCode", fn: ValidateStatusCode, quotable: quoteInt,
		accept: []int{100, 200, 204, 301, 599},
		reject: []int{0, 99, 600, 2000, -200},
	}.run(t)
}

// TestValidateFrontendCertificate: the frontend's certificate and key are
// checked each on its own attribute (internal/pemcheck), then as a pair;
// no message carries key material.
func TestValidateFrontendCertificate(t *testing.T) {
	t.Parallel()
	cert, key := readTestdata(t, "test-cert.pem"), readTestdata(t, "test-key.pem")
	other := otherKeyPair(t)
	const (
		certAttr = "frontends[0].tls.certificate_pem: "
		keyAttr  = "frontends[0].tls.private_key_pem: "
	)
	tests := []struct {
		name      string
		cert, key string
		want      []string
	}{
		{"fixed pair", cert, key, nil},
		{"generated pair", other.cert, other.key, nil},
		{"chain after leaf", cert + other.cert, key, nil},
		{"mismatched key", cert, other.key, []string{keyAttr + "is not the private key of the certificate"}},
		{"empty cert", "", key, []string{certAttr + "is empty"}},
		{"empty key", cert, " \n", []string{keyAttr + "is empty"}},
		{"garbage", "not a pem", "not a pem", []string{certAttr + `"not a pem" holds no PEM certificate`, keyAttr + "holds no PEM private key"}},
		{"key in cert field", key, key, []string{certAttr + `PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`}},
		{"certificate in key field", cert, cert, []string{keyAttr + `PEM block 1 is a "CERTIFICATE", not a private key`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := seedConfig()
			c.Frontends[0].TLS = &TLS{CertificatePEM: tt.cert, PrivateKeyPEM: tt.key}
			got := fieldErrors(t, c)
			if len(got) != len(tt.want) {
				t.Fatalf("Validate() = %q, want %d problems starting with %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
				for _, k := range []string{key, other.key} {
					if strings.Contains(got[i], strings.Split(k, "\n")[1]) {
						t.Errorf("problem %d leaks key material: %q", i, got[i])
					}
				}
			}
		})
	}
}

// fieldErrors returns the path and message of each problem Validate found.
func fieldErrors(t *testing.T, c Config) []string {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return nil
	}
	var fes fault.FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("Validate returned %T, want fault.FieldErrors: %v", err, err)
	}
	var out []string
	for _, fe := range fes {
		out = append(out, fe.Path+": "+fe.Err.Error())
	}
	return out
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		// want holds "path: substring" for every expected problem, in order.
		want []string
	}{
		{"seed is valid", func(*Config) {}, nil},
		{"full is valid", func(c *Config) { *c = fullConfig(t) }, nil},
		{"weights is valid", func(c *Config) { *c = weightsConfig() }, nil},
		{"backend tls is valid", func(c *Config) { *c = backendTLSConfig(t) }, nil},
		{"backend tls: not a PEM, no name", func(c *Config) {
			c.Backends[0].TLS = &BackendTLS{CAPEM: "my-ca.crt"}
		}, []string{`backends[0].tls.ca_pem: "my-ca.crt" holds no PEM certificate`, `backends[0].tls.server_name: is required`}},
		{"backend tls: a key is not a CA, bad name", func(c *Config) {
			c.Backends[0].TLS = &BackendTLS{CAPEM: otherKeyPair(t).key, ServerName: "web backend"}
		}, []string{`backends[0].tls.ca_pem: PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`, `backends[0].tls.server_name: "web backend" is not a valid hostname`}},
		{"backend tls: garbage after the CA", func(c *Config) {
			c.Backends[0].TLS = &BackendTLS{CAPEM: otherKeyPair(t).cert + "junk", ServerName: "web.internal"}
		}, []string{`backends[0].tls.ca_pem: unexpected data after PEM certificate 1: "junk"`}},
		{"backend tls: a corrupt certificate", func(c *Config) {
			c.Backends[0].TLS = &BackendTLS{CAPEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", ServerName: "web.internal"}
		}, []string{`backends[0].tls.ca_pem: PEM block 1 is not an X.509 certificate`}},
		{"no frontends", func(c *Config) { c.Frontends = nil }, []string{"frontends: at least one frontend"}},
		{"bad server address quoted", func(c *Config) { c.Backends[0].Servers[1].Address = "10.0.0.12 backup" },
			[]string{`backends[0].servers[1].address: "10.0.0.12 backup" is neither`}},
		{"duplicate server", func(c *Config) { c.Backends[0].Servers[1].Name = "web1" },
			[]string{`backends[0].servers[1].name: duplicate server name "web1"`}},
		{"duplicate backend", func(c *Config) { c.Backends = append(c.Backends, c.Backends[0]) },
			[]string{`backends[1].name: duplicate backend name "web"`}},
		{"duplicate frontend and same bind", func(c *Config) { c.Frontends = append(c.Frontends, c.Frontends[0]) },
			[]string{`frontends[1].name: duplicate frontend name "www"`, `frontends[1].port: "*:80" overlaps "*:80"`}},
		{"reserved frontend name", func(c *Config) { c.Frontends[0].Name = "stats" },
			[]string{`frontends[0].name: "stats" is reserved`}},
		{"unknown default backend", func(c *Config) { c.Frontends[0].DefaultBackend = "nope" },
			[]string{`frontends[0].default_backend: no backend named "nope"`}},
		{"no default backend and no rules", func(c *Config) { c.Frontends[0].DefaultBackend = "" },
			[]string{`frontends[0].default_backend: is required`}},
		{"rule to unknown backend", func(c *Config) {
			c.Frontends[0].Rules = []Rule{{Host: "a.example", Backend: "web"}, {PathPrefix: "/x", Backend: "api"}}
		}, []string{`frontends[0].rules[1].backend: no backend named "api"`}},
		{"empty rule", func(c *Config) { c.Frontends[0].Rules = []Rule{{Backend: "web"}} },
			[]string{`frontends[0].rules[0]: needs host, path_prefix or both`}},
		{"rule injection", func(c *Config) {
			c.Frontends[0].Rules = []Rule{{Host: "a } or { always_true", PathPrefix: "/a\nbind :1", Backend: "web\n"}}
		}, []string{
			`frontends[0].rules[0].host: "a } or { always_true" is not a valid hostname`,
			`frontends[0].rules[0].path_prefix: "/a\nbind :1" contains a newline`,
			`frontends[0].rules[0].backend: "web\n" contains a newline`,
		}},
		{"bind conflict with wildcard", func(c *Config) {
			c.Frontends = append(c.Frontends, Frontend{Name: "other", BindAddress: "10.0.0.10", Port: 80, DefaultBackend: "web"})
		}, []string{`frontends[1].port: "10.0.0.10:80" overlaps "*:80" (frontends[0].port)`}},
		{"same port different addresses is fine", func(c *Config) {
			c.Frontends[0].BindAddress = "10.0.0.10"
			c.Frontends = append(c.Frontends, Frontend{Name: "other", BindAddress: "10.0.0.11", Port: 80, DefaultBackend: "web"})
		}, nil},
		{"ipv6 spellings conflict", func(c *Config) {
			c.Frontends[0].BindAddress = "2001:db8::1"
			c.Frontends = append(c.Frontends, Frontend{Name: "other", BindAddress: "2001:db8:0::1", Port: 80, DefaultBackend: "web"})
		}, []string{`frontends[1].port: "[2001:db8::1]:80" overlaps`}},
		{"stats conflicts with frontend", func(c *Config) { c.Stats = &Stats{Port: 80} },
			[]string{`stats.port: "127.0.0.1:80" overlaps "*:80" (frontends[0].port)`}},
		{"tls port conflicts", func(c *Config) {
			f := fullConfig(t).Frontends[0]
			f.Name, f.BindAddress = "tls", ""
			f.Port, f.RedirectToHTTPS = 0, false
			f.TLS.Port = 80
			c.Frontends = append(c.Frontends, f)
			c.Frontends[1].Rules = nil
			c.Frontends[1].DefaultBackend = "web"
		}, []string{`frontends[1].tls.port: "*:80" overlaps "*:80"`}},
		{"port required without tls", func(c *Config) { c.Frontends[0].Port = 0 },
			[]string{`frontends[0].port: is required unless tls is set`}},
		{"redirect and hsts need tls", func(c *Config) {
			c.Frontends[0].RedirectToHTTPS = true
			c.Frontends[0].HSTSMaxAge = 60
		}, []string{`frontends[0].redirect_to_https: requires tls`, `frontends[0].hsts_max_age: requires tls`}},
		{"redirect needs a plain port", func(c *Config) {
			c.Frontends[0] = fullConfig(t).Frontends[0]
			c.Frontends[0].Port = 0
			c.Frontends[0].Rules = nil
		}, []string{`frontends[0].redirect_to_https: requires port`}},
		{"bad certificate", func(c *Config) {
			c.Frontends[0].TLS = &TLS{CertificatePEM: readTestdata(t, "test-cert.pem"), PrivateKeyPEM: otherKeyPair(t).key}
		}, []string{`frontends[0].tls.private_key_pem: is not the private key of the certificate`}},
		{"durations", func(c *Config) {
			c.HardStopAfter = "forever"
			c.Timeouts.Client = "30 s"
			c.Frontends[0].Timeouts.HTTPRequest = "0"
			c.Backends[0].Timeouts.Queue = "30d"
			c.Backends[0].HealthCheck.Interval = "2x"
		}, []string{
			`hard_stop_after: "forever" is not an HAProxy time`,
			`timeouts.client: "30 s" is not an HAProxy time`,
			`backends[0].health_check.interval: "2x" is not an HAProxy time`,
			`backends[0].timeouts.queue: "30d" is too large`,
			`frontends[0].timeouts.http_request: "0" must be greater than zero`,
		}},
		{"numbers out of range", func(c *Config) {
			c.MaxConn, c.NbThread = -1, 5000
			c.Frontends[0].MaxConn = -5
			c.Frontends[0].HSTSMaxAge = -1
			c.Backends[0].Servers[0].Weight = intp(257)
			c.Backends[0].Servers[0].Port = 0
			c.Backends[0].Servers[1].MaxConn = -1
			c.Backends[0].HealthCheck.ExpectStatus = 42
			c.Backends[0].HealthCheck.Rise = -1
			c.Backends[0].HealthCheck.Fall = 1000
			c.Backends[0].HealthCheck.ErrorLimit = 101
		}, []string{
			"maxconn: -1 is out of range", "nbthread: 5000 is out of range",
			"backends[0].servers[0].port: 0 is not a valid port", "backends[0].servers[0].weight: 257 is out of range",
			"backends[0].servers[1].maxconn: -1 is out of range",
			"backends[0].health_check.expect_status: 42 is not an HTTP status code",
			"backends[0].health_check.rise: -1 is out of range", "backends[0].health_check.fall: 1000 is out of range",
			"backends[0].health_check.error_limit: 101 is out of range",
			"frontends[0].maxconn: -5 is out of range", "frontends[0].hsts_max_age: -1 is out of range",
		}},
		{"backend without servers", func(c *Config) { c.Backends[0].Servers = nil },
			[]string{"backends[0].servers: at least one server is required"}},
		{"balance, cookie and health check strings", func(c *Config) {
			c.Backends[0].Balance = "hdr(X Y)"
			c.Backends[0].StickyCookie = "a b"
			c.Backends[0].HealthCheck.Path = "/health check"
			c.Backends[0].HealthCheck.Host = "#host"
		}, []string{
			`backends[0].balance: "hdr(X Y)": header name "X Y" contains a space`,
			`backends[0].health_check.path: "/health check" contains a space`,
			`backends[0].health_check.host: "#host" is not a valid hostname`,
			`backends[0].sticky_cookie: cookie name "a b" contains a space`,
		}},
		{"stats auth pairs and secret not quoted", func(c *Config) {
			c.Stats = &Stats{User: "admin", Password: "pass word", URI: "/metrics", Prometheus: true, BindAddress: "localhost"}
		}, []string{
			`stats.bind_address: "localhost" is not an IPv4 or IPv6 address`,
			`stats.uri: "/metrics" is the Prometheus exporter's path`,
			`stats.password: contains a character that is not allowed`,
		}},
		{"stats user without password", func(c *Config) { c.Stats = &Stats{User: "admin"} },
			[]string{"stats.password: is required when stats.user is set"}},
		{"stats password without user", func(c *Config) { c.Stats = &Stats{Password: "x"} },
			[]string{"stats.user: is required when stats.password is set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := seedConfig()
			tt.mutate(&c)
			got := fieldErrors(t, c)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				path, sub, _ := strings.Cut(tt.want[i], ": ")
				if !strings.HasPrefix(got[i], path+": ") || !strings.Contains(got[i], sub) {
					t.Errorf("problem %d = %q, want path %q containing %q", i, got[i], path, sub)
				}
			}
			if strings.Contains(strings.Join(got, "\n"), "pass word") {
				t.Errorf("a problem quotes the stats password")
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	c := seedConfig()
	c.Backends[0].Servers[0].Address = "a b"
	c.Backends[0].Servers[1].Port = 0
	err := c.Validate()
	want := `backends[0].servers[0].address: "a b" is neither an IPv4/IPv6 address nor a hostname: it contains a space (allowed: letters, digits, '-' and '.')` + "\n" +
		"backends[0].servers[1].port: 0 is not a valid port (1-65535)"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	var fes fault.FieldErrors
	if !errors.As(err, &fes) || len(fes) != 2 {
		t.Fatalf("errors.As(fault.FieldErrors) failed or wrong count: %v", err)
	}
	var fe *fault.FieldError
	if !errors.As(fes[1], &fe) || fe.Path != "backends[0].servers[1].port" || !errors.Is(fe, fe.Err) {
		t.Errorf("second problem = %#v", fes[1])
	}
}
