// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

// lookBinary returns the path of a host binary, or skips the test when it is
// missing, unless FOOBAR_REQUIRE_BINARIES=1 (CI), where it fails.
func lookBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	// nginx and start-stop-daemon live in sbin, which a non-root PATH may lack.
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode()&0o111 != 0 {
			return filepath.Join(dir, name)
		}
	}
	if os.Getenv("FOOBAR_REQUIRE_BINARIES") == "1" {
		t.Fatalf("%s not found and FOOBAR_REQUIRE_BINARIES=1", name)
	}
	t.Skipf("%s not found; install it or set FOOBAR_REQUIRE_BINARIES=1 to make this a failure", name)
	return ""
}

var (
	certOnce          sync.Once
	testCert, testKey string
)

// cachedPair returns one certificate and key per test run (the fuzz
// target asks for it on every input), issued by a throwaway CA.
func cachedPair(t testing.TB) (certPEM, keyPEM string) {
	t.Helper()
	certOnce.Do(func() { testCert, testKey = testcert.Pair(t, "www.foobar.test") })
	if testCert == "" {
		t.Fatal("the test certificate could not be made (see the first test that asked for it)")
	}
	return testCert, testKey
}

// nginxTest writes the site's files into a temporary nginx prefix, with a
// minimal nginx.conf that includes the site, and runs nginx -t on it.
func nginxTest(t testing.TB, s Site, o Options, dir string) error {
	t.Helper()
	bin := lookBinary(t, "nginx")
	files, err := s.Files(o)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.Path, f.Content, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log;
events {}
http {
    access_log %[1]s/logs/access.log;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[2]s;
}
`, dir, files[0].Path)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-t", "-q", "-p", dir, "-e", filepath.Join(dir, "logs", "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t: %w: %s", err, FilterTestOutput(string(out)))
	}
	// -q prints nothing unless something is wrong; warnings count as wrong
	// here: a rendered config should be clean.
	if s := strings.TrimSpace(string(out)); s != "" {
		return fmt.Errorf("nginx -t printed: %s", s)
	}
	return nil
}

// stmt is one nginx directive found by parseNginx.
type stmt struct {
	name  string
	args  []string
	block bool
	depth int
}

// parseNginx is an independent tokenizer of nginx's config grammar (words,
// "..." and '...' strings with backslash escapes, # comments, ; { }). It
// exists to count directives in rendered output, so that an injected ';'
// or '{' would show up as an extra directive.
func parseNginx(src string) ([]stmt, error) {
	var out []stmt
	var cur []string
	depth := 0
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ';' || c == '{':
			if len(cur) == 0 {
				return nil, fmt.Errorf("empty directive at byte %d", i)
			}
			out = append(out, stmt{name: cur[0], args: cur[1:], block: c == '{', depth: depth})
			cur = nil
			if c == '{' {
				depth++
			}
			i++
		case c == '}':
			if len(cur) != 0 || depth == 0 {
				return nil, fmt.Errorf("unexpected } at byte %d", i)
			}
			depth--
			i++
		case c == '"' || c == '\'':
			q := c
			i++
			var b strings.Builder
			for {
				if i >= len(src) {
					return nil, fmt.Errorf("unterminated string")
				}
				if src[i] == '\\' && i+1 < len(src) {
					b.WriteByte(src[i+1])
					i += 2
					continue
				}
				if src[i] == q {
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			cur = append(cur, b.String())
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\r\n;{}", rune(src[j])) {
				j++
			}
			cur = append(cur, src[i:j])
			i = j
		}
	}
	if depth != 0 || len(cur) != 0 {
		return nil, fmt.Errorf("unbalanced config (depth %d, pending %q)", depth, cur)
	}
	return out, nil
}

// expectedDirectives is what a valid site must render to: directive name ->
// count, derived from the model alone.
func expectedDirectives(s Site, o Options) map[string]int {
	m := map[string]int{}
	add := func(name string, n int) {
		if n > 0 {
			m[name] += n
		}
	}
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	listens := 1 + b(s.ListenIPv6)
	headers := b(s.SecurityHeaders.ContentTypeOptions) + b(s.SecurityHeaders.FrameOptions != "") +
		b(s.SecurityHeaders.ReferrerPolicy != "") + b(s.SecurityHeaders.HSTS != nil) +
		b(s.SecurityHeaders.ContentSecurityPolicy != "") + len(s.ResponseHeaders)
	tls := s.TLS != nil
	redirect := tls && s.TLS.RedirectHTTP
	servers := 1 + b(redirect)

	add("upstream", 1)
	add("server", 1+servers) // the upstream's server line and the server blocks
	add("keepalive", 1)
	if redirect {
		add("listen", listens)
		add("return", 1)
	} else {
		add("listen", listens)
	}
	if tls {
		add("listen", listens)
		add("http2", b(s.TLS.HTTP2 && versionAtLeast(o.NginxVersion, "1.25.1")))
		add("ssl_certificate", 1)
		add("ssl_certificate_key", 1)
		add("ssl_protocols", 1)
		add("ssl_prefer_server_ciphers", 1)
	}
	for _, d := range []string{"server_name", "access_log", "error_log", "server_tokens"} {
		add(d, servers)
	}
	add("root", 1)
	add("client_max_body_size", b(s.ClientMaxBodySize != ""))
	t := s.Timeouts
	add("client_body_timeout", b(t.ClientBody != ""))
	add("client_header_timeout", b(t.ClientHeader != ""))
	add("keepalive_timeout", b(t.Keepalive != ""))
	add("proxy_connect_timeout", b(t.ProxyConnect != ""))
	add("proxy_read_timeout", b(t.ProxyRead != ""))
	add("proxy_send_timeout", b(t.ProxySend != ""))
	add("gzip", 1)
	if s.Gzip.Enabled {
		add("gzip_vary", 1)
		add("gzip_proxied", 1)
		n := 0
		for _, ty := range s.Gzip.Types {
			n += b(ty != "text/html")
		}
		add("gzip_types", b(n > 0))
	}
	add("location", 1+len(s.StaticLocations))
	for _, l := range s.StaticLocations {
		add("expires", b(l.Expires != ""))
		add("try_files", 1)
		add("add_header", headers+b(l.CacheControl != ""))
	}
	add("proxy_pass", 1)
	add("proxy_http_version", 1)
	add("proxy_set_header", 6)
	add("add_header", headers)
	return m
}

// checkStructure parses rendered config and compares it with the model:
// directive counts, server names, location prefixes and header values.
func checkStructure(t testing.TB, s Site, o Options, conf []byte) {
	t.Helper()
	stmts, err := parseNginx(string(conf))
	if err != nil {
		t.Fatalf("rendered config does not tokenize: %v\n%s", err, conf)
	}
	got := map[string]int{}
	var locations []string
	headerValues := map[string]string{}
	for _, st := range stmts {
		got[st.name]++
		switch st.name {
		case "server_name":
			if diff := cmp.Diff(s.ServerNames, st.args); diff != "" {
				t.Errorf("server_name args (-model +rendered):\n%s", diff)
			}
		case "location":
			locations = append(locations, strings.Join(st.args, " "))
		case "add_header":
			if len(st.args) != 3 || st.args[2] != "always" {
				t.Errorf("add_header args %q: want NAME VALUE always", st.args)
				continue
			}
			headerValues[st.args[0]] = st.args[1]
		case "root":
			if len(st.args) != 1 || st.args[0] != s.DocumentRoot {
				t.Errorf("root args %q, want [%q]", st.args, s.DocumentRoot)
			}
		}
	}
	if diff := cmp.Diff(expectedDirectives(s, o), got); diff != "" {
		t.Errorf("directive counts (-model +rendered):\n%s\n%s", diff, conf)
	}
	var wantLoc []string
	for _, l := range s.StaticLocations {
		wantLoc = append(wantLoc, l.URLPrefix)
	}
	wantLoc = append(wantLoc, "/")
	if diff := cmp.Diff(wantLoc, locations); diff != "" {
		t.Errorf("locations (-model +rendered):\n%s", diff)
	}
	for name, v := range s.ResponseHeaders {
		if headerValues[name] != v {
			t.Errorf("header %s rendered as %q, want %q", name, headerValues[name], v)
		}
	}
	if v := s.SecurityHeaders.ContentSecurityPolicy; v != "" && headerValues["Content-Security-Policy"] != v {
		t.Errorf("CSP rendered as %q, want %q", headerValues["Content-Security-Policy"], v)
	}
}

// parseSystemdEnvFile is an independent Go transcription of the state
// machine systemd (v240 and later) uses for EnvironmentFile=
// (src/basic/env-file.c, parse_env_file_internal), written from its
// documented behavior: comments start with # or ;, whitespace around keys
// and unquoted values is stripped, '...' is literal, "..." removes the
// backslash only before \ " $ ` (and eats an escaped newline), an unquoted
// backslash escapes the next character.
func parseSystemdEnvFile(src string) map[string]string {
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	isNL := func(c byte) bool { return c == '\n' || c == '\r' }
	isWS := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	out := map[string]string{}
	state := preKey
	var k, v []byte
	lastValueWS, lastKeyWS := -1, -1
	push := func(trimValue bool) {
		kk := k
		if lastKeyWS >= 0 {
			kk = kk[:lastKeyWS]
		}
		vv := v
		if trimValue && lastValueWS >= 0 {
			vv = vv[:lastValueWS]
		}
		out[string(kk)] = string(vv)
		k, v = nil, nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch state {
		case preKey:
			if c == '#' || c == ';' {
				state = comment
			} else if !isWS(c) {
				state = key
				lastKeyWS = -1
				k = append(k, c)
			}
		case key:
			if isNL(c) {
				state = preKey
				k = nil
			} else if c == '=' {
				state = preValue
				lastValueWS = -1
			} else {
				if !isWS(c) {
					lastKeyWS = -1
				} else if lastKeyWS < 0 {
					lastKeyWS = len(k)
				}
				k = append(k, c)
			}
		case preValue:
			switch {
			case isNL(c):
				state = preKey
				push(false)
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case !isWS(c):
				state = value
				v = append(v, c)
			}
		case value:
			switch {
			case isNL(c):
				state = preKey
				push(true)
			case c == '\\':
				state = valueEscape
				lastValueWS = -1
			default:
				if !isWS(c) {
					lastValueWS = -1
				} else if lastValueWS < 0 {
					lastValueWS = len(v)
				}
				v = append(v, c)
			}
		case valueEscape:
			state = value
			if !isNL(c) {
				v = append(v, c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				v = append(v, c)
			}
		case doubleQuote:
			if c == '"' {
				state = preValue
			} else if c == '\\' {
				state = doubleQuoteEscape
			} else {
				v = append(v, c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			if strings.IndexByte("\"\\`$", c) >= 0 {
				v = append(v, c)
			} else if c != '\n' {
				v = append(v, '\\', c)
			}
		case comment:
			if c == '\\' {
				state = commentEscape
			} else if isNL(c) {
				state = preKey
			}
		case commentEscape:
			if isNL(c) {
				state = preKey
			} else {
				state = comment
			}
		}
	}
	switch state {
	case preValue, value, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		push(state == value)
	}
	return out
}

// parseSystemdExec splits an ExecStart= value the way systemd does
// (systemd.service(5) "Command lines", systemd.syntax(7) "Quoting"): "%%"
// becomes "%" first (other specifiers are an error here), then the line is
// split into words at unquoted whitespace, with '...' and "..." quoting and
// C-style backslash escapes (only \\ \" \' and \n-style letters handled),
// then "$$" becomes "$" in every word (other $ uses are an error here).
func parseSystemdExec(line string) ([]string, error) {
	var spec strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '%' {
			if i+1 < len(line) && line[i+1] == '%' {
				spec.WriteByte('%')
				i++
				continue
			}
			return nil, fmt.Errorf("specifier at byte %d", i)
		}
		spec.WriteByte(line[i])
	}
	s := spec.String()
	var words []string
	var cur bytes.Buffer
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case c == '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			switch s[i] {
			case '\\', '"', '\'', ' ':
				cur.WriteByte(s[i])
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			default:
				return nil, fmt.Errorf("unhandled escape \\%c", s[i])
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unbalanced quoting")
	}
	if inWord {
		words = append(words, cur.String())
	}
	for i, w := range words {
		var b strings.Builder
		for j := 0; j < len(w); j++ {
			if w[j] == '$' {
				if j+1 < len(w) && w[j+1] == '$' {
					b.WriteByte('$')
					j++
					continue
				}
				return nil, fmt.Errorf("variable reference in word %d %q", i, w)
			}
			b.WriteByte(w[j])
		}
		words[i] = b.String()
	}
	return words, nil
}

// freshKeyPair makes a new certificate and key (not cached).
func freshKeyPair(t testing.TB) (certPEM, keyPEM string) {
	t.Helper()
	return testcert.Pair(t)
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

var (
	versionOnce sync.Once
	hostVersion string
)

// hostNginxVersion is the version of the nginx on this machine.
func hostNginxVersion(t testing.TB) string {
	t.Helper()
	bin := lookBinary(t, "nginx")
	versionOnce.Do(func() {
		out, _ := execOutput(bin, "-v")
		hostVersion, _ = ParseVersion(out)
	})
	if hostVersion == "" {
		t.Fatal("could not read the nginx version")
	}
	return hostVersion
}

// plainTempDir is t.TempDir without the test name in the path: subtest and
// fuzz names contain characters ('#', spaces) that ValidatePath refuses.
func plainTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "foobar-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
