// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fuzzInput is every user string the fuzzer controls.
type fuzzInput struct {
	name, addr, path, host, hdr, dur, cookie, user, pass, uri string
}

// placeholders are distinctive valid values of each kind. Rendering the
// same model with them gives the reference shape of the configuration.
var placeholders = fuzzInput{
	name: "PHNAME", addr: "192.0.2.99", path: "/PHPATH", host: "phhost.example", hdr: "PHHDR",
	dur: "7777ms", cookie: "PHCOOKIE", user: "PHUSER", pass: "PHPASS", uri: "/PHURI",
}

// reference replaces every non-empty field with its placeholder. Empty
// fields stay empty: emptiness legitimately changes the shape (a rule
// without a path has no path ACL).
func (in fuzzInput) reference() fuzzInput {
	out := in
	ph := placeholders
	src, dst := ph.ptrs(), out.ptrs()
	for i := range dst {
		if *dst[i] != "" {
			*dst[i] = *src[i]
		}
	}
	return out
}

// ptrs returns pointers to the fields, in the order of FuzzRender's
// arguments.
func (in *fuzzInput) ptrs() []*string {
	return []*string{&in.name, &in.addr, &in.path, &in.host, &in.hdr, &in.dur, &in.cookie, &in.user, &in.pass, &in.uri}
}

var testPEMs = sync.OnceValues(func() (string, string) {
	cert, err1 := os.ReadFile(filepath.Join("testdata", "test-cert.pem"))
	key, err2 := os.ReadFile(filepath.Join("testdata", "test-key.pem"))
	if err1 != nil || err2 != nil {
		panic(fmt.Sprint(err1, err2))
	}
	return string(cert), string(key)
})

// fuzzConfig puts the fuzzer's strings in every position where a user
// string reaches the configuration.
func fuzzConfig(in fuzzInput) Config {
	cert, key := testPEMs()
	return Config{
		HardStopAfter: in.dur,
		Timeouts: Timeouts{
			Connect: in.dur, Client: in.dur, Server: in.dur,
			HTTPRequest: in.dur, HTTPKeepAlive: in.dur, Queue: in.dur,
		},
		Frontends: []Frontend{{
			Name:            in.name,
			BindAddress:     "127.0.0.1",
			Port:            18080,
			TLS:             &TLS{Port: 18443, CertificatePEM: cert, PrivateKeyPEM: key},
			RedirectToHTTPS: true,
			HSTSMaxAge:      60,
			ForwardFor:      true,
			ForwardedProto:  true,
			Timeouts:        FrontendTimeouts{Client: in.dur, HTTPRequest: in.dur, HTTPKeepAlive: in.dur},
			Rules:           []Rule{{Host: in.host, PathPrefix: in.path, Backend: in.name}},
			DefaultBackend:  in.name,
		}},
		Backends: []Backend{{
			Name:    in.name,
			Balance: "hdr(" + in.hdr + ")",
			Servers: []Server{
				{Name: in.name, Address: in.addr, Port: 80, Weight: intp(1)},
				{Name: "fixed", Address: "127.0.0.1", Port: 81, Backup: true},
			},
			HealthCheck:  &HealthCheck{Path: in.uri, Host: in.host, ExpectStatus: 200, Interval: in.dur},
			StickyCookie: in.cookie,
			Timeouts:     BackendTimeouts{Connect: in.dur, Server: in.dur, Queue: in.dur},
		}},
		Stats: &Stats{
			Port: 18404, URI: in.uri, User: in.user, Password: in.pass,
			Refresh: in.dur, Prometheus: true,
		},
	}
}

// haproxyWords splits one line the way HAProxy's parser would, and refuses
// anything that would make HAProxy's reading differ from a plain split:
// quotes, backslashes, control characters, and '#' (a comment) outside the
// header line.
func haproxyWords(line string) ([]string, error) {
	for _, r := range line {
		switch {
		case r == '"' || r == '\'' || r == '\\':
			return nil, fmt.Errorf("quote or escape %q in line %q", r, line)
		case r == '#':
			return nil, fmt.Errorf("comment character in line %q", line)
		case r < 0x20 && r != '\t', r == 0x7f:
			return nil, fmt.Errorf("control character %U in line %q", r, line)
		}
	}
	return strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' }), nil
}

// checkShape compares a rendered config with the reference rendering of
// the same model: same number of lines, same section headers, and on every
// line the same number of words, with every word that holds no placeholder
// identical. So no user string added a line, a word or a directive.
func checkShape(t *testing.T, got, ref string) {
	t.Helper()
	gotLines, refLines := strings.Split(got, "\n"), strings.Split(ref, "\n")
	if len(gotLines) != len(refLines) {
		t.Fatalf("rendered %d lines, the model implies %d:\n%s", len(gotLines), len(refLines), got)
	}
	if gotLines[0] != Header || refLines[0] != Header {
		t.Fatalf("header line changed: %q", gotLines[0])
	}
	sections := 0
	for i := 1; i < len(gotLines); i++ {
		gw, err := haproxyWords(gotLines[i])
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		rw, err := haproxyWords(refLines[i])
		if err != nil {
			t.Fatalf("reference line %d: %v", i+1, err)
		}
		if len(gw) != len(rw) {
			t.Fatalf("line %d has %d words, the model implies %d:\n got: %q\n ref: %q", i+1, len(gw), len(rw), gotLines[i], refLines[i])
		}
		if (gotLines[i] != "" && gotLines[i][0] != '\t') != (refLines[i] != "" && refLines[i][0] != '\t') {
			t.Fatalf("line %d changed between section header and directive: %q", i+1, gotLines[i])
		}
		if refLines[i] != "" && refLines[i][0] != '\t' {
			sections++
		}
		for j := range rw {
			if !holdsPlaceholder(rw[j]) && gw[j] != rw[j] {
				t.Fatalf("line %d word %d is %q, the model implies %q:\n got: %q\n ref: %q", i+1, j+1, gw[j], rw[j], gotLines[i], refLines[i])
			}
		}
	}
	// global, defaults, the frontend, the stats frontend, the backend.
	if sections != 5 {
		t.Fatalf("got %d sections, want 5", sections)
	}
}

func holdsPlaceholder(word string) bool {
	ph := placeholders
	for _, p := range ph.ptrs() {
		if strings.Contains(word, strings.TrimPrefix(*p, "/")) {
			return true
		}
	}
	return false
}

// fuzzBins are the binaries FuzzRender checks accepted configs with. Each
// check costs a process start (about 30 ms), which caps fuzzing at a few
// dozen new configs a second; FOOBAR_FUZZ_SKIP_HAPROXY=1 leaves only the
// in-process shape check, for long runs.
var fuzzBins = sync.OnceValue(func() []string {
	if os.Getenv("FOOBAR_FUZZ_SKIP_HAPROXY") == "1" {
		return nil
	}
	if list := os.Getenv("FOOBAR_HAPROXY_BINARIES"); list != "" {
		return filepath.SplitList(list)
	}
	if p, err := exec.LookPath(Binary); err == nil {
		return []string{p}
	}
	return nil
})

func FuzzRender(f *testing.F) {
	valid := fuzzInput{
		name: "www", addr: "10.0.0.11", path: "/api/", host: "www.foobar.com", hdr: "X-User",
		dur: "5s", cookie: "SRVID", user: "admin", pass: "s3cr3t", uri: "/health",
	}
	add := func(in fuzzInput) {
		f.Add(in.name, in.addr, in.path, in.host, in.hdr, in.dur, in.cookie, in.user, in.pass, in.uri)
	}
	add(valid)
	add(fuzzInput{name: "a:b.c-d_e", addr: "::1", path: "/", host: "localhost", hdr: "h", dur: "2147483647",
		cookie: "c.1", user: "u", pass: "p$x:y{}%[src]", uri: "/haproxy?stats"})
	add(fuzzInput{name: "x", addr: "localhost", dur: "1d", uri: "/"})
	injections := []string{"a\nbind :1", "x#y", "a b", "\"", "{", "%[", "\\", "a\r\nb", "a\x00", "}", "'", "$HOME", "a\tb"}
	for i := 0; i < 10; i++ {
		for _, inj := range injections {
			in := valid
			*in.ptrs()[i] = inj
			add(in)
			in = valid
			*in.ptrs()[i] = *in.ptrs()[i] + inj
			add(in)
		}
	}
	f.Fuzz(func(t *testing.T, name, addr, path, host, hdr, dur, cookie, user, pass, uri string) {
		in := fuzzInput{name, addr, path, host, hdr, dur, cookie, user, pass, uri}
		if c := fuzzConfig(in); c.Validate() != nil {
			if out, err := c.Render(); err == nil {
				t.Fatalf("Render accepted what Validate refused:\n%s", out)
			}
		}
		// All ten strings are rarely valid at once, so keep the fuzzer's
		// value in every field where it is acceptable on its own and a
		// placeholder elsewhere: one bad field must not hide nine good ones.
		mixed := placeholders
		fromFuzzer := false
		for i, p := range in.ptrs() {
			try := placeholders
			*try.ptrs()[i] = *p
			if fuzzConfig(try).Validate() == nil {
				*mixed.ptrs()[i] = *p
				fromFuzzer = fromFuzzer || *p != *placeholders.ptrs()[i]
			}
		}
		c := fuzzConfig(mixed)
		if c.Validate() != nil {
			// Fields valid one by one can still clash (a server named
			// "fixed"); the per-field runs above covered each of them.
			return
		}
		out, err := c.Render()
		if err != nil {
			t.Fatalf("Validate accepted but Render failed: %v", err)
		}
		ref, err := fuzzConfig(mixed.reference()).Render()
		if err != nil {
			t.Fatalf("reference config invalid: %v", err)
		}
		checkShape(t, string(out), string(ref))

		bins := fuzzBins()
		if len(bins) == 0 || !fromFuzzer {
			return
		}
		// haproxy -c resolves server hostnames through the system resolver;
		// to send no DNS traffic, a hostname is swapped for an address for
		// this step only (hostnames are covered by the shape check above and
		// by "localhost" in the golden files).
		if _, err := netip.ParseAddr(mixed.addr); err != nil && mixed.addr != "localhost" {
			c.Backends[0].Servers[0].Address = "127.0.0.1"
			if out, err = c.Render(); err != nil {
				t.Fatal(err)
			}
		}
		if !firstTimeChecked(out) {
			return
		}
		if msg := haproxyCheck(t, bins, out, c.Files()); msg != "" {
			t.Fatalf("Validate accepted a config haproxy rejects:\n%s", msg)
		}
	})
}

// checked remembers the configs haproxy -c already accepted in this
// process, so the fuzzer spends its time on new ones.
var checked sync.Map

func firstTimeChecked(cfg []byte) bool {
	_, seen := checked.LoadOrStore(sha256.Sum256(cfg), true)
	return !seen
}
