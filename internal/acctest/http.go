// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

// HTTP helpers for acceptance tests and benchmarks: the one client
// constructor (HTTPClient) and request helper (Fetch), sequences of requests that record which backend answered, a load
// generator that records every failed request, and a throwaway CA.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

// ClientOptions adjust HTTPClient. The zero value is a client for plain
// lab traffic.
type ClientOptions struct {
	// Roots, when set, are the only CAs TLS trusts (and HTTP/2 is tried).
	Roots *x509.CertPool
	// KeepAlive reuses connections; false opens a new connection for every
	// request (nothing survives a reload).
	KeepAlive bool
	// Insecure accepts any server certificate (lab hosts with throwaway
	// certificates when the test is not about TLS).
	Insecure bool
	// Host, when set, is every request's Host header and the TLS server
	// name: a virtual host reached at the URL's address.
	Host string
	// DialTo, when set, receives every connection (on the URL's port), as
	// if DNS resolved every name to it.
	DialTo string
	// Timeout bounds each request; default 5 s.
	Timeout time.Duration
}

// HTTPClient returns a client for lab traffic: no proxy from the
// environment, a 3 s dial timeout, a per-request timeout (o.Timeout,
// default 5 s), redirects not followed (tests look at them), and TLS as o
// says. It is the one HTTP client constructor of the acceptance tests.
func HTTPClient(o ClientOptions) *http.Client {
	dialer := &net.Dialer{Timeout: 3 * time.Second}
	dial := dialer.DialContext
	if o.DialTo != "" {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(o.DialTo, port))
		}
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         dial,
		DisableKeepAlives:   !o.KeepAlive,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
		TLSClientConfig: &tls.Config{
			RootCAs: o.Roots, ServerName: o.Host, MinVersion: tls.VersionTLS12,
			InsecureSkipVerify: o.Insecure, //nolint:gosec // lab hosts with test certificates, on request
		},
		ForceAttemptHTTP2: o.Roots != nil,
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var rt http.RoundTripper = tr
	if o.Host != "" {
		rt = hostTransport{rt: tr, host: o.Host}
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hostTransport sends every request with its Host header.
type hostTransport struct {
	rt   http.RoundTripper
	host string
}

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return h.rt.RoundTrip(r)
}

// Request is one request for Fetch.
type Request struct {
	// Method is GET when empty.
	Method string
	URL    string
	// Host, when set, is this request's Host header (a virtual host reached
	// at the URL's address). A client made with ClientOptions.Host sends
	// that one instead.
	Host string
	// User and Password are sent as basic authentication when User is set.
	User, Password string
	// JSON, when set, is the body, sent as application/json.
	JSON []byte
}

func (r Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// Response is what Fetch got.
type Response struct {
	Status int
	// Proto is the protocol the response came in ("HTTP/1.1", "HTTP/2.0").
	Proto  string
	Header http.Header
	Body   string
}

// Fetch sends one request with c (see HTTPClient) and returns the response
// (the body up to 4 MiB). It is the one request helper of the acceptance
// tests.
func Fetch(ctx context.Context, c *http.Client, r Request) (Response, error) {
	var body io.Reader
	if r.JSON != nil {
		body = bytes.NewReader(r.JSON)
	}
	req, err := http.NewRequestWithContext(ctx, r.method(), r.URL, body)
	if err != nil {
		return Response{}, err
	}
	if r.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	if r.User != "" {
		req.SetBasicAuth(r.User, r.Password)
	}
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Proto: resp.Proto, Header: resp.Header, Body: string(b)}, nil
}

// MustFetch is Fetch that fails the test on a transport error.
func MustFetch(t testing.TB, c *http.Client, r Request) Response {
	t.Helper()
	resp, err := Fetch(context.Background(), c, r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method(), r.URL, err)
	}
	return resp
}

// Sequence sends n GET requests one after the other and returns each
// response body with surrounding white space trimmed. Any transport error
// or status other than 200 fails the test.
func Sequence(t testing.TB, c *http.Client, url string, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	for i := range n {
		r, err := Fetch(context.Background(), c, Request{URL: url})
		if err != nil {
			t.Fatalf("request %d of %d to %s: %v", i+1, n, url, err)
		}
		if r.Status != http.StatusOK {
			t.Fatalf("request %d of %d to %s: status %d: %s", i+1, n, url, r.Status, strings.TrimSpace(r.Body))
		}
		out = append(out, strings.TrimSpace(r.Body))
	}
	return out
}

// Count tallies the values of a sequence.
func Count(seq []string) map[string]int {
	m := map[string]int{}
	for _, s := range seq {
		m[s]++
	}
	return m
}

// LoadResult is what a load run saw.
type LoadResult struct {
	Requests int
	Failures int
	// Errors holds the first failures, described (at most 20).
	Errors []string
	// Bodies counts the trimmed bodies of successful responses.
	Bodies  map[string]int
	Elapsed time.Duration
	// Trace is every request, in the order they ended, when
	// LoadOptions.Trace is set.
	Trace     []Traced
	latencies []time.Duration
}

// Traced is one request of a traced load run: when it started, how long it
// took, and its trimmed body (success) or what went wrong (failure).
type Traced struct {
	Start time.Time
	Took  time.Duration
	OK    bool
	Body  string
	Err   string
}

// End is when the request ended.
func (s Traced) End() time.Time { return s.Start.Add(s.Took) }

// RPS is successful requests per second.
func (r LoadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Failures) / r.Elapsed.Seconds()
}

// Quantile returns the latency below which a fraction q of the successful
// requests finished (q = 0.99 for p99).
func (r LoadResult) Quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), r.latencies...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	i := int(q*float64(len(l)) + 0.5)
	if i >= len(l) {
		i = len(l) - 1
	}
	if i < 0 {
		i = 0
	}
	return l[i]
}

func (r LoadResult) String() string {
	return fmt.Sprintf("%d requests, %d failed, %.0f req/s, p50 %s, p99 %s, bodies %v",
		r.Requests, r.Failures, r.RPS(), r.Quantile(0.5).Round(10*time.Microsecond), r.Quantile(0.99).Round(10*time.Microsecond), r.Bodies)
}

// LoadGen is a load generator running in the background: workers send GET
// requests to a URL one after the other until Stop. A request fails when
// it gets a transport error, a status other than 200, or a body that
// accept rejects.
type LoadGen struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	res    LoadResult
	start  time.Time
}

// LoadOptions configure a load run.
type LoadOptions struct {
	Workers int
	// MaxRequests and MaxDuration bound the run (0: no bound; RunLoad needs
	// at least one).
	MaxRequests int
	MaxDuration time.Duration
	// Pause between two requests of one worker (a steady trickle instead
	// of as fast as possible).
	Pause time.Duration
	// Accept checks a 200 response's trimmed body; nil accepts any.
	Accept func(body string) error
	// Method is GET when empty; JSON, when set, is every request's body.
	Method string
	JSON   []byte
	// Trace keeps every request in LoadResult.Trace (when each started,
	// how long it took, its outcome), for tests that ask which requests
	// failed around an event.
	Trace bool
}

// StartLoad starts a load generator.
func StartLoad(c *http.Client, url string, o LoadOptions) *LoadGen {
	if o.Workers < 1 {
		o.Workers = 1
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if o.MaxDuration > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), o.MaxDuration)
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
	l := &LoadGen{cancel: cancel, start: time.Now(), res: LoadResult{Bodies: map[string]int{}}}
	var sent sync.Mutex
	count := 0
	for range o.Workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				if o.MaxRequests > 0 {
					sent.Lock()
					if count >= o.MaxRequests {
						sent.Unlock()
						return
					}
					count++
					sent.Unlock()
				}
				t0 := time.Now()
				r, err := Fetch(ctx, c, Request{URL: url, Method: o.Method, JSON: o.JSON})
				d := time.Since(t0)
				if ctx.Err() != nil && err != nil {
					return // stopped in the middle: not a failure of the target
				}
				var fail string
				switch {
				case err != nil:
					fail = err.Error()
				case r.Status != http.StatusOK:
					fail = fmt.Sprintf("status %d: %s", r.Status, strings.TrimSpace(r.Body))
				case o.Accept != nil:
					if aerr := o.Accept(strings.TrimSpace(r.Body)); aerr != nil {
						fail = aerr.Error()
					}
				}
				l.mu.Lock()
				l.res.Requests++
				if o.Trace {
					l.res.Trace = append(l.res.Trace, Traced{Start: t0, Took: d, OK: fail == "", Body: strings.TrimSpace(r.Body), Err: fail})
				}
				if fail != "" {
					l.res.Failures++
					if len(l.res.Errors) < 20 {
						l.res.Errors = append(l.res.Errors, time.Now().Format("15:04:05.000")+" "+fail)
					}
				} else {
					l.res.Bodies[strings.TrimSpace(r.Body)]++
					l.res.latencies = append(l.res.latencies, d)
				}
				l.mu.Unlock()
				if o.Pause > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(o.Pause):
					}
				}
			}
		}()
	}
	return l
}

// Snapshot returns what the load saw so far.
func (l *LoadGen) Snapshot() LoadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.res
	r.Bodies = map[string]int{}
	for k, v := range l.res.Bodies {
		r.Bodies[k] = v
	}
	r.Errors = append([]string(nil), l.res.Errors...)
	r.Trace = append([]Traced(nil), l.res.Trace...)
	r.latencies = append([]time.Duration(nil), l.res.latencies...)
	r.Elapsed = time.Since(l.start)
	return r
}

// Wait waits until the load ends by itself (MaxRequests or MaxDuration).
func (l *LoadGen) Wait() LoadResult {
	l.wg.Wait()
	l.cancel()
	return l.finish()
}

// Stop ends the load and returns what it saw.
func (l *LoadGen) Stop() LoadResult {
	l.cancel()
	l.wg.Wait()
	return l.finish()
}

func (l *LoadGen) finish() LoadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.res.Elapsed == 0 {
		l.res.Elapsed = time.Since(l.start)
	}
	return l.res
}

// RunLoad runs a bounded load and returns its result.
func RunLoad(c *http.Client, url string, o LoadOptions) (LoadResult, error) {
	if o.MaxRequests <= 0 && o.MaxDuration <= 0 {
		return LoadResult{}, errors.New("RunLoad needs MaxRequests or MaxDuration")
	}
	return StartLoad(c, url, o).Wait(), nil
}

// TestCA is a throwaway certificate authority for HTTPS tests
// (testcert.CA: the one certificate generator of the tests).
type TestCA = testcert.CA

// NewTestCA creates a CA valid for a day.
func NewTestCA(t testing.TB) *TestCA {
	t.Helper()
	return testcert.NewCA(t)
}
