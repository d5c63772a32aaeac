// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seen is what the test server saw of a request.
type seen struct {
	Method, Host, SNI, Auth, ContentType, Body string
}

func recorder(w http.ResponseWriter, r *http.Request) {
	s := seen{Method: r.Method, Host: r.Host, ContentType: r.Header.Get("Content-Type")}
	if r.TLS != nil {
		s.SNI = r.TLS.ServerName
	}
	if u, p, ok := r.BasicAuth(); ok {
		s.Auth = u + ":" + p
	}
	b, _ := io.ReadAll(r.Body)
	s.Body = string(b)
	if r.URL.Path == "/redirect" {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
		return
	}
	_ = json.NewEncoder(w).Encode(s)
}

// TestHTTPClientAndFetch checks the options of the one client constructor
// and the one request helper against local test servers.
func TestHTTPClientAndFetch(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.HandlerFunc(recorder))
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(http.HandlerFunc(recorder))
	secure.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	secure.StartTLS()
	t.Cleanup(secure.Close)
	pu, _ := url.Parse(plain.URL)
	su, _ := url.Parse(secure.URL)
	_, plainPort, _ := net.SplitHostPort(pu.Host)

	cases := []struct {
		name   string
		opts   ClientOptions
		req    Request
		status int
		want   *seen // nil: only the status is checked
		err    bool
	}{
		{name: "GET", req: Request{URL: plain.URL + "/x"}, status: 200, want: &seen{Method: "GET", Host: pu.Host}},
		{
			name: "POST JSON with basic auth", req: Request{Method: http.MethodPost, URL: plain.URL, JSON: []byte(`{"a":1}`), User: "admin", Password: "pw"},
			status: 200, want: &seen{Method: "POST", Host: pu.Host, Auth: "admin:pw", ContentType: "application/json", Body: `{"a":1}`},
		},
		{name: "redirects are not followed", req: Request{URL: plain.URL + "/redirect"}, status: http.StatusFound},
		{name: "virtual host over HTTP", opts: ClientOptions{Host: "www.example.test"}, req: Request{URL: plain.URL}, status: 200, want: &seen{Method: "GET", Host: "www.example.test"}},
		{
			name: "virtual host over TLS: Host header and server name", opts: ClientOptions{Insecure: true, Host: "www.example.test"},
			req: Request{URL: secure.URL}, status: 200, want: &seen{Method: "GET", Host: "www.example.test", SNI: "www.example.test"},
		},
		{name: "the test server's CA", opts: ClientOptions{Roots: poolOf(secure)}, req: Request{URL: secure.URL}, status: 200, want: &seen{Method: "GET", Host: su.Host}},
		{name: "an untrusted certificate is refused", req: Request{URL: secure.URL}, err: true},
		{
			name: "DialTo sends a name to an address", opts: ClientOptions{DialTo: "127.0.0.1"},
			req: Request{URL: "http://www.example.test:" + plainPort + "/"}, status: 200, want: &seen{Method: "GET", Host: "www.example.test:" + plainPort},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := Fetch(context.Background(), HTTPClient(c.opts), c.req)
			if c.err {
				if err == nil {
					t.Fatalf("want an error, got status %d", r.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if c.want == nil {
				return
			}
			var got seen
			if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
				t.Fatalf("%v: %s", err, r.Body)
			}
			if diff := cmp.Diff(*c.want, got); diff != "" {
				t.Errorf("the server saw (-want +got):\n%s", diff)
			}
		})
	}
}

func poolOf(s *httptest.Server) *x509.CertPool {
	return s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}
