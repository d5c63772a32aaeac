// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/pemcheck"
)

// Site is one nginx server for a foobar_web_server: static files from
// DocumentRoot under the StaticLocations prefixes, everything else
// reverse-proxied to the application on 127.0.0.1:AppPort.
//
// Attribute paths in validation errors are those of the resource's schema:
// the site's attributes are top-level (server_names, static_locations[0].url_prefix,
// tls.port, ...).
type Site struct {
	// Name is used in file names (foobar-<name>.conf), the upstream name
	// and the TLS directory. See ValidateSiteName.
	Name string
	// ServerNames are the server_name entries, in order (the first is the
	// primary name). At least one; "_" for none in particular.
	ServerNames []string
	// ListenPort is the plain HTTP port (usually 80).
	ListenPort int
	// ListenIPv6 adds [::]:port listeners next to the IPv4 ones. nginx -t
	// does not bind, so on a host without IPv6 this fails only at reload.
	ListenIPv6 bool
	// DefaultServer marks every listener of the site default_server.
	DefaultServer bool
	// TLS, when set, adds an HTTPS listener.
	TLS *TLS
	// AccessLog is an absolute path, "off", or "" for
	// <nginx log dir>/foobar-<name>.access.log.
	AccessLog string
	// ErrorLog is an absolute path or "" for <nginx log dir>/foobar-<name>.error.log.
	ErrorLog string
	Gzip     Gzip
	// ClientMaxBodySize is an nginx size ("10m"); "" keeps nginx's default (1m).
	ClientMaxBodySize string
	Timeouts          Timeouts
	SecurityHeaders   SecurityHeaders
	// DocumentRoot is the directory static files are served from (the
	// server's root). Required.
	DocumentRoot string
	// StaticLocations are URL prefixes served from DocumentRoot (a request
	// for /static/app.css reads <DocumentRoot>/static/app.css); a missing
	// file is a 404, never a request to the application.
	StaticLocations []StaticLocation
	// AppPort is the application's loopback port: the provider copies
	// app.port here (errors name it "app.port").
	AppPort int
	// UpstreamKeepalive is the number of idle keepalive connections nginx
	// keeps to the application (upstream keepalive N), 1 to 1024.
	UpstreamKeepalive int
	// ResponseHeaders are extra headers added to every response
	// (add_header ... always), rendered sorted by name.
	ResponseHeaders map[string]string
	// DrainHealthPath, when set, is the application's health check path
	// (the one the load balancers check): while the drain flag
	// (DrainFlagPath) exists it answers 503, so that the load balancers
	// take this server out of rotation before its application restarts
	// (Deployment.Drain). A status location for loopback only
	// (DrainStatusPath) shows nginx's in-flight requests.
	DrainHealthPath string
}

// TLS is the HTTPS side of a Site.
type TLS struct {
	// CertificatePEM is the server certificate followed by any
	// intermediates. Written to <nginx>/foobar/<name>/cert.pem (0644).
	CertificatePEM string
	// PrivateKeyPEM is the key of the certificate. Written to
	// <nginx>/foobar/<name>/key.pem, root-owned, mode 0600. Never printed.
	PrivateKeyPEM string
	// Port is the HTTPS port (usually 443).
	Port int
	// HTTP2 enables HTTP/2 on the TLS listener.
	HTTP2 bool
	// RedirectHTTP turns the plain listener into a permanent redirect to
	// HTTPS instead of serving the site.
	RedirectHTTP bool
}

// Gzip configures response compression.
type Gzip struct {
	Enabled bool
	// Types are the MIME types compressed in addition to text/html (which
	// nginx always compresses; listing it is allowed and has no effect).
	Types []string
}

// Timeouts are nginx times ("30s", "1m"); "" keeps nginx's default.
type Timeouts struct {
	ClientBody   string
	ClientHeader string
	Keepalive    string
	ProxyConnect string
	ProxyRead    string
	ProxySend    string
}

// SecurityHeaders are the standard protective response headers. The zero
// value sends none of them.
type SecurityHeaders struct {
	// ContentTypeOptions sends "X-Content-Type-Options: nosniff".
	ContentTypeOptions bool
	// FrameOptions is "", "DENY" or "SAMEORIGIN" (X-Frame-Options).
	FrameOptions string
	// ReferrerPolicy is "" or a Referrer-Policy token such as
	// "strict-origin-when-cross-origin".
	ReferrerPolicy string
	// HSTS sends Strict-Transport-Security; only allowed with TLS.
	HSTS *HSTS
	// ContentSecurityPolicy is "" or a Content-Security-Policy value; see
	// ValidateHeaderValue for what it may contain.
	ContentSecurityPolicy string
}

// HSTS is a Strict-Transport-Security policy.
type HSTS struct {
	MaxAgeSeconds     int
	IncludeSubDomains bool
	Preload           bool
}

// StaticLocation is a URL prefix served from the document root.
type StaticLocation struct {
	// URLPrefix such as "/static/"; see ValidateURLPrefix.
	URLPrefix string
	// Expires is the value of the expires directive ("7d", "max", "off",
	// "epoch"); it sets Expires and Cache-Control: max-age. Mutually
	// exclusive with CacheControl.
	Expires string
	// CacheControl, if set, is sent as the Cache-Control header verbatim.
	CacheControl string
}

var referrerPolicies = map[string]bool{
	"no-referrer": true, "no-referrer-when-downgrade": true, "origin": true,
	"origin-when-cross-origin": true, "same-origin": true, "strict-origin": true,
	"strict-origin-when-cross-origin": true, "unsafe-url": true,
}

// managedHeaders are set by SecurityHeaders or by the renderer itself and
// cannot be set through ResponseHeaders; the rest are framing headers nginx
// owns.
var managedHeaders = map[string]string{
	"x-content-type-options":    "security_headers",
	"x-frame-options":           "security_headers",
	"referrer-policy":           "security_headers",
	"strict-transport-security": "security_headers",
	"content-security-policy":   "security_headers",
	"cache-control":             "static_locations[*].cache_control or expires",
	"expires":                   "static_locations[*].expires",
	"content-length":            "nginx",
	"content-type":              "nginx",
	"transfer-encoding":         "nginx",
	"connection":                "nginx",
	"date":                      "nginx",
	"server":                    "nginx",
}

// Validate returns every problem with the site (fault.FieldErrors), or nil.
func (s Site) Validate() error {
	var c collector
	c.add("name", ValidateSiteName(s.Name))
	if s.DrainHealthPath != "" {
		c.add("app.health_check_path", ValidateHealthCheckPath(s.DrainHealthPath))
	}
	if len(s.ServerNames) == 0 {
		c.addf("server_names", "at least one server name is required (use \"_\" to match any host)")
	}
	seenNames := map[string]int{}
	for i, n := range s.ServerNames {
		p := fmt.Sprintf("server_names[%d]", i)
		c.add(p, ValidateServerName(n))
		if j, dup := seenNames[strings.ToLower(n)]; dup {
			c.addf(p, "server name %q repeats server_names[%d]", n, j)
		}
		seenNames[strings.ToLower(n)] = i
	}
	c.add("listen_port", ValidatePort(s.ListenPort))
	if s.TLS != nil {
		s.TLS.validate(&c)
		if s.TLS.Port == s.ListenPort {
			c.addf("tls.port", "port %d is also listen_port; HTTPS needs a port of its own", s.TLS.Port)
		}
	}
	if s.AccessLog != "off" && s.AccessLog != "" {
		c.add("access_log", ValidatePath(s.AccessLog))
	}
	if s.ErrorLog != "" {
		c.add("error_log", ValidatePath(s.ErrorLog))
	}
	if len(s.Gzip.Types) > 0 && !s.Gzip.Enabled {
		c.addf("gzip.types", "types are set but gzip.enabled is false")
	}
	seenTypes := map[string]int{}
	for i, t := range s.Gzip.Types {
		p := fmt.Sprintf("gzip.types[%d]", i)
		c.add(p, ValidateMIMEType(t))
		if j, dup := seenTypes[t]; dup {
			c.addf(p, "MIME type %q repeats gzip.types[%d]", t, j)
		}
		seenTypes[t] = i
	}
	if s.ClientMaxBodySize != "" {
		c.add("client_max_body_size", ValidateSize(s.ClientMaxBodySize))
	}
	for _, t := range s.Timeouts.fields() {
		if t.value == "" {
			continue
		}
		c.add("timeouts."+t.attr, ValidateDuration(t.value))
		if ms, ok := parseDuration(t.value); ok && t.attr == "proxy_connect" && ms > 75000 {
			c.addf("timeouts.proxy_connect", "duration %q is longer than 75s, which nginx does not support for proxy_connect_timeout", t.value)
		}
	}
	s.SecurityHeaders.validate(&c, s.TLS != nil)
	if s.DocumentRoot == "" {
		c.addf("document_root", "a document root is required")
	} else {
		c.add("document_root", ValidatePath(s.DocumentRoot))
	}
	seenPrefix := map[string]int{}
	for i, l := range s.StaticLocations {
		p := fmt.Sprintf("static_locations[%d]", i)
		c.add(p+".url_prefix", ValidateURLPrefix(l.URLPrefix))
		if j, dup := seenPrefix[l.URLPrefix]; dup {
			c.addf(p+".url_prefix", "URL prefix %q repeats static_locations[%d]", l.URLPrefix, j)
		}
		seenPrefix[l.URLPrefix] = i
		if l.Expires != "" {
			c.add(p+".expires", ValidateExpires(l.Expires))
		}
		if l.CacheControl != "" {
			c.add(p+".cache_control", ValidateHeaderValue(l.CacheControl))
			if l.Expires != "" {
				c.addf(p+".cache_control", "set either expires or cache_control, not both (expires already sets Cache-Control)")
			}
		}
	}
	c.add("app.port", ValidatePort(s.AppPort))
	if s.AppPort == s.ListenPort || (s.TLS != nil && s.AppPort == s.TLS.Port) {
		c.addf("app.port", "port %d is also a port nginx listens on", s.AppPort)
	}
	if s.UpstreamKeepalive < 1 || s.UpstreamKeepalive > 1024 {
		c.addf("upstream_keepalive", "keepalive connections %d must be between 1 and 1024", s.UpstreamKeepalive)
	}
	seenHdr := map[string]string{}
	for _, name := range sortedKeys(s.ResponseHeaders) {
		p := fmt.Sprintf("response_headers[%q]", name)
		if err := ValidateHeaderName(name); err != nil {
			c.add(p, err)
			continue
		}
		lower := strings.ToLower(name)
		if owner, ok := managedHeaders[lower]; ok {
			c.addf(p, "header %q is managed by %s and cannot be set here", name, owner)
		}
		if other, dup := seenHdr[lower]; dup {
			c.addf(p, "header %q repeats %q (header names are case-insensitive)", name, other)
		}
		seenHdr[lower] = name
		c.add(p, ValidateHeaderValue(s.ResponseHeaders[name]))
	}
	return c.err()
}

func (t *TLS) validate(c *collector) {
	c.add("tls.port", ValidatePort(t.Port))
	// The key is secret: pemcheck's messages never quote it.
	certErr := pemcheck.Certificates(t.CertificatePEM)
	keyErr := pemcheck.PrivateKey(t.PrivateKeyPEM)
	c.add("tls.certificate_pem", certErr)
	c.add("tls.private_key_pem", keyErr)
	// Not c.add: that marks a single value's problem, which the attribute's
	// own validator reports; no validator sees the two together.
	if certErr == nil && keyErr == nil {
		if err := pemcheck.KeyPair(t.CertificatePEM, t.PrivateKeyPEM); err != nil {
			c.addf("tls.private_key_pem", "%w", err)
		}
	}
}

func (h SecurityHeaders) validate(c *collector, hasTLS bool) {
	switch h.FrameOptions {
	case "", "DENY", "SAMEORIGIN":
	default:
		c.addf("security_headers.frame_options", "value %q must be \"DENY\" or \"SAMEORIGIN\"", h.FrameOptions)
	}
	if h.ReferrerPolicy != "" && !referrerPolicies[h.ReferrerPolicy] {
		c.addf("security_headers.referrer_policy", "value %q is not a Referrer-Policy token (such as \"strict-origin-when-cross-origin\")", h.ReferrerPolicy)
	}
	if h.HSTS != nil {
		if !hasTLS {
			c.addf("security_headers.hsts", "HSTS needs tls: browsers ignore it over plain HTTP")
		}
		if h.HSTS.MaxAgeSeconds < 0 || h.HSTS.MaxAgeSeconds > 2*31536000 {
			c.addf("security_headers.hsts.max_age", "max-age %d must be between 0 and 63072000 seconds", h.HSTS.MaxAgeSeconds)
		}
		if h.HSTS.Preload && (!h.HSTS.IncludeSubDomains || h.HSTS.MaxAgeSeconds < 31536000) {
			c.addf("security_headers.hsts.preload", "preload requires include_subdomains and max_age of at least 31536000")
		}
	}
	if h.ContentSecurityPolicy != "" {
		c.add("security_headers.content_security_policy", ValidateHeaderValue(h.ContentSecurityPolicy))
	}
}

type timeoutField struct{ attr, directive, value string }

func (t Timeouts) fields() []timeoutField {
	return []timeoutField{
		{"client_body", "client_body_timeout", t.ClientBody},
		{"client_header", "client_header_timeout", t.ClientHeader},
		{"keepalive", "keepalive_timeout", t.Keepalive},
		{"proxy_connect", "proxy_connect_timeout", t.ProxyConnect},
		{"proxy_read", "proxy_read_timeout", t.ProxyRead},
		{"proxy_send", "proxy_send_timeout", t.ProxySend},
	}
}

// UpstreamName is the nginx upstream block of the site's application.
func (s Site) UpstreamName() string { return "foobar_" + strings.ReplaceAll(s.Name, "-", "_") + "_app" }

// Files returns the files of the site, validated and rendered: the site
// config and, with TLS, the certificate and the key (0600, Secret).
func (s Site) Files(o Options) ([]File, error) {
	conf, err := s.Render(o)
	if err != nil {
		return nil, err
	}
	l := o.layout()
	files := []File{{Path: l.SiteConfPath(s.Name), Content: conf, Mode: 0o644, Owner: "root", Group: "root"}}
	if s.TLS != nil {
		dir := l.SiteTLSDir(s.Name)
		files = append(files,
			File{Path: path.Join(dir, "cert.pem"), Content: []byte(pemText(s.TLS.CertificatePEM)), Mode: 0o644, Owner: "root", Group: "root"},
			File{Path: path.Join(dir, "key.pem"), Content: []byte(pemText(s.TLS.PrivateKeyPEM)), Mode: 0o600, Owner: "root", Group: "root", Secret: true},
		)
	}
	return files, nil
}

// EnabledLink is the sites-enabled symlink that makes nginx load the site.
func (s Site) EnabledLink(o Options) Link {
	l := o.layout()
	return Link{Path: l.SiteEnabledPath(s.Name), Target: l.SiteConfPath(s.Name)}
}

// pemText normalizes PEM text to end in exactly one newline.
func pemText(s string) string { return strings.TrimSpace(s) + "\n" }

// versionAtLeast reports whether dotted version v is >= want; an empty or
// unparsable v is treated as older.
func versionAtLeast(v, want string) bool {
	if v == "" {
		return false
	}
	a, b := strings.Split(v, "."), strings.Split(want, ".")
	for i := 0; i < len(b); i++ {
		var x int
		if i < len(a) {
			n, err := strconv.Atoi(a[i])
			if err != nil {
				return false
			}
			x = n
		}
		y, _ := strconv.Atoi(b[i])
		if x != y {
			return x > y
		}
	}
	return true
}

// Render validates the site and returns its nginx config.
func (s Site) Render(o Options) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	l := o.layout()
	http2Directive := s.TLS != nil && s.TLS.HTTP2 && versionAtLeast(o.NginxVersion, "1.25.1")
	var w confWriter

	w.raw(Header)
	w.raw(fmt.Sprintf("# Site %s: static files from %s, everything else to 127.0.0.1:%d.\n\n", s.Name, s.DocumentRoot, s.AppPort))

	if s.DrainHealthPath != "" {
		w.comment("The health checks answered 503 while drained: who checked (the drain waits until each")
		w.comment("load balancer has seen enough of them to take this server out).")
		w.line("log_format", DrainLogFormat(s.Name)+" '$remote_addr $status'")
		w.blank()
	}
	w.open("upstream", s.UpstreamName())
	w.line("server", fmt.Sprintf("127.0.0.1:%d", s.AppPort))
	w.line("keepalive", strconv.Itoa(s.UpstreamKeepalive))
	w.close()

	accessLog := s.AccessLog
	if accessLog == "" {
		accessLog = path.Join(l.NginxLogDir, "foobar-"+s.Name+".access.log")
	}
	errorLog := s.ErrorLog
	if errorLog == "" {
		errorLog = path.Join(l.NginxLogDir, "foobar-"+s.Name+".error.log")
	}
	listen := func(port int, tls bool) {
		suffix := ""
		if tls {
			suffix = " ssl"
			if s.TLS.HTTP2 && !http2Directive {
				suffix += " http2"
			}
		}
		if s.DefaultServer {
			suffix += " default_server"
		}
		w.line("listen", strconv.Itoa(port)+suffix)
		if s.ListenIPv6 {
			w.line("listen", "[::]:"+strconv.Itoa(port)+suffix)
		}
	}
	common := func() {
		w.line("server_name", strings.Join(s.ServerNames, " "))
		w.line("access_log", accessLog)
		w.line("error_log", errorLog)
		w.line("server_tokens", "off")
	}

	redirect := s.TLS != nil && s.TLS.RedirectHTTP
	if redirect {
		w.blank()
		w.comment("Plain HTTP only redirects to HTTPS.")
		w.open("server")
		listen(s.ListenPort, false)
		common()
		target := "https://$host"
		if s.TLS.Port != 443 {
			target += ":" + strconv.Itoa(s.TLS.Port)
		}
		w.line("return", "301 "+target+"$request_uri")
		w.close()
	}

	w.blank()
	w.open("server")
	if !redirect {
		listen(s.ListenPort, false)
	}
	if s.TLS != nil {
		listen(s.TLS.Port, true)
		if http2Directive {
			w.line("http2", "on")
		}
	}
	common()
	if s.TLS != nil {
		dir := l.SiteTLSDir(s.Name)
		w.line("ssl_certificate", path.Join(dir, "cert.pem"))
		w.line("ssl_certificate_key", path.Join(dir, "key.pem"))
		w.line("ssl_protocols", "TLSv1.2 TLSv1.3")
		w.line("ssl_prefer_server_ciphers", "off")
	}
	w.line("root", s.DocumentRoot)
	if s.ClientMaxBodySize != "" {
		w.line("client_max_body_size", s.ClientMaxBodySize)
	}
	for _, t := range s.Timeouts.fields() {
		if t.value != "" && !strings.HasPrefix(t.directive, "proxy_") {
			w.line(t.directive, t.value)
		}
	}
	if s.Gzip.Enabled {
		w.line("gzip", "on")
		w.line("gzip_vary", "on")
		w.line("gzip_proxied", "any")
		if types := s.gzipTypes(); len(types) > 0 {
			w.line("gzip_types", strings.Join(types, " "))
		}
	} else {
		w.line("gzip", "off")
	}

	// add_header in a location replaces every add_header inherited from the
	// server level, so each location repeats the full list.
	headers := s.headerLines()

	for _, loc := range s.StaticLocations {
		w.blank()
		w.open("location", loc.URLPrefix)
		if loc.Expires != "" {
			w.line("expires", loc.Expires)
		}
		w.line("try_files", "$uri =404")
		for _, h := range headers {
			w.line("add_header", h)
		}
		if loc.CacheControl != "" {
			w.line("add_header", "Cache-Control "+nginxQuote(loc.CacheControl)+" always")
		}
		w.close()
	}

	proxy := func() {
		w.line("proxy_pass", "http://"+s.UpstreamName())
		w.line("proxy_http_version", "1.1")
		w.line("proxy_set_header", `Connection ""`)
		w.line("proxy_set_header", "Host $host")
		w.line("proxy_set_header", "X-Real-IP $remote_addr")
		w.line("proxy_set_header", "X-Forwarded-For $proxy_add_x_forwarded_for")
		w.line("proxy_set_header", "X-Forwarded-Proto $scheme")
		w.line("proxy_set_header", "X-Forwarded-Host $host")
		for _, t := range s.Timeouts.fields() {
			if t.value != "" && strings.HasPrefix(t.directive, "proxy_") {
				w.line(t.directive, t.value)
			}
		}
		for _, h := range headers {
			w.line("add_header", h)
		}
	}
	if s.DrainHealthPath != "" {
		hp, _, _ := strings.Cut(s.DrainHealthPath, "?")
		w.blank()
		w.comment("Drained for a restart of the application: the health check answers 503 so that the load")
		w.comment("balancers take this server out of rotation first.")
		w.open("location", "= "+hp)
		w.open("if", "(-f "+DrainFlagPath(l, s.Name)+")")
		w.line("access_log", DrainLogPath(l, s.Name)+" "+DrainLogFormat(s.Name))
		w.line("return", "503")
		w.close()
		proxy()
		w.close()
		w.blank()
		w.comment("Requests in flight, read by the drain before the application restarts (loopback only).")
		w.open("location", "= "+DrainStatusPath)
		w.line("stub_status", "")
		w.line("allow", "127.0.0.1")
		w.line("deny", "all")
		w.close()
	}

	w.blank()
	w.open("location", "/")
	proxy()
	w.close()
	w.close() // server
	return w.bytes(), nil
}

func (s Site) gzipTypes() []string {
	var out []string
	for _, t := range s.Gzip.Types {
		if t != "text/html" { // always compressed; listing it makes nginx warn
			out = append(out, t)
		}
	}
	return out
}

// headerLines are the add_header arguments every location carries: the
// security headers in a fixed order, then ResponseHeaders sorted by name.
func (s Site) headerLines() []string {
	var out []string
	add := func(name, value string) {
		out = append(out, name+" "+nginxQuote(value)+" always")
	}
	h := s.SecurityHeaders
	if h.ContentTypeOptions {
		add("X-Content-Type-Options", "nosniff")
	}
	if h.FrameOptions != "" {
		add("X-Frame-Options", h.FrameOptions)
	}
	if h.ReferrerPolicy != "" {
		add("Referrer-Policy", h.ReferrerPolicy)
	}
	if h.HSTS != nil {
		v := "max-age=" + strconv.Itoa(h.HSTS.MaxAgeSeconds)
		if h.HSTS.IncludeSubDomains {
			v += "; includeSubDomains"
		}
		if h.HSTS.Preload {
			v += "; preload"
		}
		add("Strict-Transport-Security", v)
	}
	if h.ContentSecurityPolicy != "" {
		add("Content-Security-Policy", h.ContentSecurityPolicy)
	}
	for _, name := range sortedKeys(s.ResponseHeaders) {
		add(name, s.ResponseHeaders[name])
	}
	return out
}

// nginxQuote double-quotes a value that ValidateHeaderValue accepted (so it
// holds no '"', '\\' or '$'). It is not a general escaper: validation is what
// keeps values safe.
func nginxQuote(v string) string { return `"` + v + `"` }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// confWriter writes indented nginx config.
type confWriter struct {
	buf   bytes.Buffer
	depth int
}

func (w *confWriter) indent() { w.buf.WriteString(strings.Repeat("    ", w.depth)) }

func (w *confWriter) raw(s string) { w.buf.WriteString(s) }

func (w *confWriter) blank() { w.buf.WriteString("\n") }

func (w *confWriter) comment(s string) {
	w.indent()
	w.buf.WriteString("# " + s + "\n")
}

func (w *confWriter) line(directive, args string) {
	w.indent()
	w.buf.WriteString(directive + " " + args + ";\n")
}

func (w *confWriter) open(directive string, args ...string) {
	w.indent()
	w.buf.WriteString(strings.Join(append([]string{directive}, args...), " ") + " {\n")
	w.depth++
}

func (w *confWriter) close() {
	w.depth--
	w.indent()
	w.buf.WriteString("}\n")
}

func (w *confWriter) bytes() []byte { return w.buf.Bytes() }
