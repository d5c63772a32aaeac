// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// Header is the first line of every rendered configuration.
const Header = "# Managed by terraform-provider-foobar; manual changes will be reverted"

// TLS settings: Mozilla's "intermediate" profile, as in Debian's default
// haproxy.cfg.
const (
	sslBindCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
		"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" +
		"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"
	sslBindCiphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
	sslBindOptions      = "ssl-min-ver TLSv1.2 no-tls-tickets"
	tlsBundleMode       = fs.FileMode(0o600)
	caFileMode          = fs.FileMode(0o644)
)

// Render validates c and returns haproxy.cfg. The same Config always yields
// the same bytes. Invalid input is refused with Validate's error.
func (c Config) Render() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	w := &writer{}
	w.line(Header)
	c.renderGlobal(w)
	c.renderDefaults(w)
	for _, f := range c.Frontends {
		renderFrontend(w, f)
	}
	if c.Stats != nil {
		renderStats(w, *c.Stats)
	}
	for _, b := range c.Backends {
		renderBackend(w, b)
	}
	return w.buf.Bytes(), nil
}

// Files lists the support files the rendered configuration references, in
// a stable order: one TLS bundle (certificate then key, mode 0600) per
// frontend with TLS, then one CA file (mode 0644) per backend with TLS. A bundle's name carries a hash of its content, so a
// new certificate never overwrites the one the running configuration uses:
// write the files, then validate and swap haproxy.cfg, then remove the files
// under FilesDir that are no longer listed. Call Validate (or Render) first.
func (c Config) Files() []File {
	var files []File
	for _, f := range c.Frontends {
		if f.TLS == nil {
			continue
		}
		content := tlsBundle(*f.TLS)
		files = append(files, File{
			Path:      tlsBundlePath(f.Name, content),
			Content:   content,
			Mode:      tlsBundleMode,
			Sensitive: true,
		})
	}
	for _, b := range c.Backends {
		if b.TLS == nil {
			continue
		}
		content := caFile(*b.TLS)
		files = append(files, File{Path: caFilePath(b.Name, content), Content: content, Mode: caFileMode})
	}
	return files
}

// caFile is the backend's CA bundle ending in exactly one newline.
func caFile(t BackendTLS) []byte {
	return []byte(strings.TrimSpace(t.CAPEM) + "\n")
}

// caFilePath names a backend's CA file as tlsBundlePath names a bundle
// ("<stem>.<16 hex>.pem", so StaleFiles removes it once unused), with a
// "ca-" prefix.
func caFilePath(backend string, content []byte) string {
	return FilesDir + "/ca-" + backend + "." + apply.Checksum(content)[:16] + ".pem"
}

// tlsBundle is the certificate followed by the key, each ending in exactly
// one newline.
func tlsBundle(t TLS) []byte {
	var b bytes.Buffer
	b.WriteString(strings.TrimSpace(t.CertificatePEM))
	b.WriteByte('\n')
	b.WriteString(strings.TrimSpace(t.PrivateKeyPEM))
	b.WriteByte('\n')
	return b.Bytes()
}

func tlsBundlePath(frontend string, content []byte) string {
	return FilesDir + "/" + frontend + "." + apply.Checksum(content)[:16] + ".pem"
}

// writer accumulates lines. Values reach it only after validation, which
// guarantees that none contains a line break, a comment, a quote or a word
// separator, so every call adds exactly one line with the words given.
type writer struct{ buf bytes.Buffer }

func (w *writer) line(s string) {
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
}

// section starts a section after a blank line.
func (w *writer) section(kind, name string) {
	w.buf.WriteByte('\n')
	if name == "" {
		w.line(kind)
	} else {
		w.line(kind + " " + name)
	}
}

// kw writes one indented directive from its words.
func (w *writer) kw(words ...string) {
	w.line("\t" + strings.Join(words, " "))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func (c Config) renderGlobal(w *writer) {
	w.section("global", "")
	w.kw("log", "/dev/log", "local0")
	w.kw("log", "/dev/log", "local1", "notice")
	w.kw("chroot", "/var/lib/haproxy")
	w.kw("user", "haproxy")
	w.kw("group", "haproxy")
	w.kw("daemon")
	w.kw("master-worker")
	w.kw("stats", "socket", AdminSocket, "mode", "660", "level", "admin", "expose-fd", "listeners")
	w.kw("stats", "timeout", "30s")
	w.kw("maxconn", strconv.Itoa(orInt(c.MaxConn, DefaultMaxConn)))
	if c.NbThread > 0 {
		w.kw("nbthread", strconv.Itoa(c.NbThread))
	}
	if c.HardStopAfter != "" {
		w.kw("hard-stop-after", c.HardStopAfter)
	}
	w.kw("ssl-default-bind-ciphers", sslBindCiphers)
	w.kw("ssl-default-bind-ciphersuites", sslBindCiphersuites)
	w.kw("ssl-default-bind-options", sslBindOptions)
	w.kw("tune.ssl.default-dh-param", "2048")
}

func (c Config) renderDefaults(w *writer) {
	t := c.Timeouts
	w.section("defaults", "")
	w.kw("log", "global")
	w.kw("mode", "http")
	w.kw("option", "httplog")
	w.kw("option", "dontlognull")
	w.kw("option", "http-keep-alive")
	// On a reload the old worker closes idle keep-alive client connections
	// at once; a client that sends on one at that instant gets a reset, and
	// a POST is not resent by clients. idle-close-on-response keeps such a
	// connection open until its next response (which then says "Connection:
	// close"), so the client's next request goes to the new worker. The old
	// worker lingers until then, or until hard-stop-after.
	w.kw("option", "idle-close-on-response")
	w.kw("http-reuse", "safe")
	w.kw("retries", strconv.Itoa(retries))
	// Every retry goes to another server (redispatch 1): a server that
	// just died answers the same way twice. A 502, 503 or 504 from a
	// server (nginx whose application died) is retried too; each backend
	// allows retries after the request reached a server only for GET and
	// HEAD (http-request disable-l7-retry), so nothing is sent twice.
	w.kw("option", "redispatch", "1")
	w.kw(append([]string{"retry-on"}, RetryOn...)...)
	w.kw("timeout", "connect", or(t.Connect, DefaultTimeoutConnect))
	w.kw("timeout", "client", or(t.Client, DefaultTimeoutClient))
	w.kw("timeout", "server", or(t.Server, DefaultTimeoutServer))
	w.kw("timeout", "http-request", or(t.HTTPRequest, DefaultTimeoutHTTPRequest))
	w.kw("timeout", "http-keep-alive", or(t.HTTPKeepAlive, DefaultTimeoutHTTPKeepAlive))
	w.kw("timeout", "queue", or(t.Queue, DefaultTimeoutQueue))
}

// retries is how many times a failed connection or request is retried.
const retries = 3

// RetryOn are the failures HAProxy retries (retry-on): connection failures
// for every method; for GET and HEAD only (disable-l7-retry), also an empty
// response, the server timeout and a 502, 503 or 504 from the server.
var RetryOn = []string{"conn-failure", "empty-response", "response-timeout", "502", "503", "504"}

// bindAddr renders a bind address and port. "" is all IPv4 addresses.
func bindAddr(addr string, port int) string {
	if addr == "" {
		return ":" + strconv.Itoa(port)
	}
	return net.JoinHostPort(canonicalAddr(addr), strconv.Itoa(port))
}

// bindWords returns the words after "bind" for a plain listener.
func bindWords(addr string, port int) []string {
	words := []string{bindAddr(addr, port)}
	if canonicalAddr(addr) == "::" {
		words = append(words, "v4v6")
	}
	return words
}

func renderFrontend(w *writer, f Frontend) {
	w.section("frontend", f.Name)
	if f.Port != 0 {
		w.kw(append([]string{"bind"}, bindWords(f.BindAddress, f.Port)...)...)
	}
	if f.TLS != nil {
		port := orInt(f.TLS.Port, DefaultTLSPort)
		words := append([]string{"bind"}, bindWords(f.BindAddress, port)...)
		path := tlsBundlePath(f.Name, tlsBundle(*f.TLS))
		w.kw(append(words, "ssl", "crt", path, "alpn", "h2,http/1.1")...)
	}
	if f.MaxConn > 0 {
		w.kw("maxconn", strconv.Itoa(f.MaxConn))
	}
	if f.Timeouts.Client != "" {
		w.kw("timeout", "client", f.Timeouts.Client)
	}
	if f.Timeouts.HTTPRequest != "" {
		w.kw("timeout", "http-request", f.Timeouts.HTTPRequest)
	}
	if f.Timeouts.HTTPKeepAlive != "" {
		w.kw("timeout", "http-keep-alive", f.Timeouts.HTTPKeepAlive)
	}
	if f.ForwardFor {
		w.kw("option", "forwardfor")
	}
	if f.RedirectToHTTPS {
		w.kw("http-request", "redirect", "scheme", "https", "code", "301", "unless", "{", "ssl_fc", "}")
	}
	if f.ForwardedProto {
		if f.TLS != nil {
			w.kw("http-request", "set-header", "X-Forwarded-Proto", "https", "if", "{", "ssl_fc", "}")
		}
		if f.Port != 0 {
			w.kw("http-request", "set-header", "X-Forwarded-Proto", "http", "unless", "{", "ssl_fc", "}")
		}
	}
	if f.HSTSMaxAge > 0 {
		w.kw("http-response", "set-header", "Strict-Transport-Security", "max-age="+strconv.Itoa(f.HSTSMaxAge), "if", "{", "ssl_fc", "}")
	}
	for i, r := range f.Rules {
		if r.Host != "" {
			w.kw("acl", ruleACL(i, "host"), "hdr(host),field(1,:)", "-i", r.Host)
		}
		if r.PathPrefix != "" {
			w.kw("acl", ruleACL(i, "path"), "path_beg", r.PathPrefix)
		}
	}
	for i, r := range f.Rules {
		words := []string{"use_backend", r.Backend, "if"}
		if r.Host != "" {
			words = append(words, ruleACL(i, "host"))
		}
		if r.PathPrefix != "" {
			words = append(words, ruleACL(i, "path"))
		}
		w.kw(words...)
	}
	if f.DefaultBackend != "" {
		w.kw("default_backend", f.DefaultBackend)
	}
}

// ruleACL names the ACL of one condition of rule i; user values never name
// an ACL.
func ruleACL(i int, what string) string {
	return "rule" + strconv.Itoa(i) + "_" + what
}

func renderStats(w *writer, s Stats) {
	w.section("frontend", StatsFrontendName)
	w.kw(append([]string{"bind"}, bindWords(or(s.BindAddress, DefaultStatsBind), orInt(s.Port, DefaultStatsPort))...)...)
	w.kw("option", "dontlog-normal")
	if s.Prometheus {
		w.kw("http-request", "use-service", "prometheus-exporter", "if", "{", "path", PrometheusPath, "}")
	}
	w.kw("stats", "enable")
	w.kw("stats", "uri", or(s.URI, DefaultStatsURI))
	w.kw("stats", "refresh", or(s.Refresh, DefaultStatsRefresh))
	if s.User != "" {
		w.kw("stats", "auth", s.User+":"+s.Password)
	}
}

func renderBackend(w *writer, b Backend) {
	w.section("backend", b.Name)
	// Validate already accepted the value, so parseBalance cannot fail here.
	algo, arg, _ := parseBalance(or(b.Balance, DefaultBalance))
	switch algo {
	case "url_param":
		w.kw("balance", "url_param", arg)
	case "hdr", "rdp-cookie":
		if arg == "" {
			w.kw("balance", algo)
		} else {
			w.kw("balance", algo+"("+arg+")")
		}
	default:
		w.kw("balance", algo)
	}
	if b.Timeouts.Connect != "" {
		w.kw("timeout", "connect", b.Timeouts.Connect)
	}
	if b.Timeouts.Server != "" {
		w.kw("timeout", "server", b.Timeouts.Server)
	}
	if b.Timeouts.Queue != "" {
		w.kw("timeout", "queue", b.Timeouts.Queue)
	}
	w.kw("http-request", "disable-l7-retry", "unless", "METH_GET")
	if b.StickyCookie != "" {
		w.kw("cookie", b.StickyCookie, "insert", "indirect", "nocache", "httponly")
	}
	if hc := b.HealthCheck; hc != nil {
		w.kw("option", "httpchk")
		send := []string{"http-check", "send", "meth", "GET", "uri", or(hc.Path, DefaultHealthCheckPath)}
		if hc.Host != "" {
			send = append(send, "ver", "HTTP/1.1", "hdr", "Host", hc.Host)
		}
		w.kw(send...)
		if hc.ExpectStatus != 0 {
			w.kw("http-check", "expect", "status", strconv.Itoa(hc.ExpectStatus))
		}
		words := []string{"default-server", "inter", or(hc.Interval, DefaultHealthCheckInterval),
			"rise", strconv.Itoa(orInt(hc.Rise, DefaultHealthCheckRise)),
			"fall", strconv.Itoa(orInt(hc.Fall, DefaultHealthCheckFall))}
		if hc.ErrorLimit > 0 {
			// Errors on live traffic take the server out at once; the
			// health check (rise) brings it back.
			words = append(words, "observe", "layer7", "error-limit", strconv.Itoa(hc.ErrorLimit), "on-error", "mark-down")
		}
		w.kw(words...)
	}
	for _, s := range b.Servers {
		words := []string{"server", s.Name, serverAddr(s.Address, s.Port), "check"}
		if t := b.TLS; t != nil {
			// "ssl" also makes the checks TLS (no check port or addr);
			// check-sni gives them the SNI that sni gives traffic, and
			// verifyhost the name to verify where no SNI was sent.
			words = append(words, "ssl", "verify", "required", "ca-file", caFilePath(b.Name, caFile(*t)),
				"sni", "str("+t.ServerName+")", "check-sni", t.ServerName, "verifyhost", t.ServerName)
		}
		if b.StickyCookie != "" {
			words = append(words, "cookie", s.Name)
		}
		if s.Weight != nil {
			words = append(words, "weight", strconv.Itoa(*s.Weight))
		}
		if s.MaxConn > 0 {
			words = append(words, "maxconn", strconv.Itoa(s.MaxConn))
		}
		if s.Backup {
			words = append(words, "backup")
		}
		if s.Disabled {
			words = append(words, "disabled")
		}
		w.kw(words...)
	}
}

// serverAddr renders address:port, bracketing IPv6 addresses.
func serverAddr(addr string, port int) string {
	return net.JoinHostPort(canonicalAddr(addr), strconv.Itoa(port))
}

// String keeps the private key out of logs and debug output (%v, %+v).
func (t TLS) String() string {
	return fmt.Sprintf("{Port:%d CertificatePEM:(%d bytes) PrivateKeyPEM:(sensitive)}", t.Port, len(t.CertificatePEM))
}

// GoString keeps the private key out of %#v output.
func (t TLS) GoString() string { return "haproxy.TLS" + t.String() }

// String keeps the password out of logs and debug output (%v, %+v).
func (s Stats) String() string {
	pw := ""
	if s.Password != "" {
		pw = "(sensitive)"
	}
	return fmt.Sprintf("{BindAddress:%s Port:%d URI:%s User:%s Password:%s Refresh:%s Prometheus:%t}",
		s.BindAddress, s.Port, s.URI, s.User, pw, s.Refresh, s.Prometheus)
}

// GoString keeps the password out of %#v output.
func (s Stats) GoString() string { return "haproxy.Stats" + s.String() }
