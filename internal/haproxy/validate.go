// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/pemcheck"
)

// collector gathers field errors.
type collector struct{ errs fault.FieldErrors }

func (c *collector) add(path string, err error) {
	if err != nil {
		c.errs = append(c.errs, &fault.FieldError{Path: path, Err: err})
	}
}

func (c *collector) addf(path, format string, args ...any) {
	c.add(path, fmt.Errorf(format, args...))
}

func (c *collector) err() error { return c.errs.Err() }

// Limits enforced by Validate.
const (
	maxNameLen     = 64
	maxNbThread    = 1024
	maxMaxConn     = 10_000_000
	maxHSTSMaxAge  = 1 << 30
	maxHealthCount = 100
	maxPathLen     = 1024
	maxPasswordLen = 128
	// maxDurationMS is HAProxy's limit for a time value: 2^31-1 ms.
	maxDurationMS = 1<<31 - 1
)

// Validate checks the whole Config and returns nil or fault.FieldErrors
// listing every problem, each with its attribute path and the bad value
// (secrets are never quoted).
func (c Config) Validate() error {
	var v collector
	if c.MaxConn < 0 || c.MaxConn > maxMaxConn {
		v.addf("maxconn", "%d is out of range (0-%d, 0 means %d)", c.MaxConn, maxMaxConn, DefaultMaxConn)
	}
	if c.NbThread < 0 || c.NbThread > maxNbThread {
		v.addf("nbthread", "%d is out of range (0-%d, 0 means one per CPU)", c.NbThread, maxNbThread)
	}
	optDuration(&v, "hard_stop_after", c.HardStopAfter)
	t := c.Timeouts
	optDuration(&v, "timeouts.connect", t.Connect)
	optDuration(&v, "timeouts.client", t.Client)
	optDuration(&v, "timeouts.server", t.Server)
	optDuration(&v, "timeouts.http_request", t.HTTPRequest)
	optDuration(&v, "timeouts.http_keep_alive", t.HTTPKeepAlive)
	optDuration(&v, "timeouts.queue", t.Queue)

	backends := map[string]bool{}
	for i, b := range c.Backends {
		p := fmt.Sprintf("backends[%d]", i)
		if err := ValidateName(b.Name); err != nil {
			v.add(p+".name", err)
		} else if backends[b.Name] {
			v.addf(p+".name", "duplicate backend name %q", b.Name)
		}
		backends[b.Name] = true
		validateBackend(&v, p, b)
	}

	if len(c.Frontends) == 0 {
		v.addf("frontends", "at least one frontend is required")
	}
	frontends := map[string]bool{}
	var binds []bindUse
	for i, f := range c.Frontends {
		p := fmt.Sprintf("frontends[%d]", i)
		if err := ValidateName(f.Name); err != nil {
			v.add(p+".name", err)
		} else if f.Name == StatsFrontendName {
			v.addf(p+".name", "%q is reserved for the stats listener", f.Name)
		} else if frontends[f.Name] {
			v.addf(p+".name", "duplicate frontend name %q", f.Name)
		}
		frontends[f.Name] = true
		binds = append(binds, validateFrontend(&v, p, f, backends)...)
	}
	if c.Stats != nil {
		binds = append(binds, validateStats(&v, *c.Stats)...)
	}
	checkBindConflicts(&v, binds)
	return v.err()
}

func optDuration(v *collector, path, s string) {
	if s != "" {
		v.add(path, ValidateDuration(s))
	}
}

// bindUse is one listening address:port and the attribute that asked for it.
type bindUse struct {
	path string
	addr string // canonical; "" is the IPv4 wildcard
	port int
}

func (b bindUse) wildcard() bool { return b.addr == "" || b.addr == "0.0.0.0" || b.addr == "::" }

func checkBindConflicts(v *collector, binds []bindUse) {
	for i, b := range binds {
		for _, a := range binds[:i] {
			if a.port == b.port && (a.addr == b.addr || a.wildcard() || b.wildcard()) {
				v.addf(b.path, "%s overlaps %s: both listen on port %d", displayBind(b), displayBind(a)+" ("+a.path+")", b.port)
				break
			}
		}
	}
}

func displayBind(b bindUse) string {
	addr := b.addr
	if addr == "" {
		addr = "*"
	}
	return fmt.Sprintf("%q", net.JoinHostPort(addr, strconv.Itoa(b.port)))
}

func validateFrontend(v *collector, p string, f Frontend, backends map[string]bool) []bindUse {
	var binds []bindUse
	bindOK := true
	if err := ValidateBindAddress(f.BindAddress); err != nil {
		v.add(p+".bind_address", err)
		bindOK = false
	}
	addr := canonicalAddr(f.BindAddress)
	if f.Port != 0 || f.TLS == nil {
		if err := ValidatePort(f.Port); err != nil {
			if f.Port == 0 {
				err = errors.New("is required unless tls is set")
			}
			v.add(p+".port", err)
		} else if bindOK {
			binds = append(binds, bindUse{path: p + ".port", addr: addr, port: f.Port})
		}
	}
	if f.MaxConn < 0 || f.MaxConn > maxMaxConn {
		v.addf(p+".maxconn", "%d is out of range (0-%d, 0 means no frontend limit)", f.MaxConn, maxMaxConn)
	}
	if f.TLS != nil {
		port := f.TLS.Port
		if port == 0 {
			port = DefaultTLSPort
		}
		if err := ValidatePort(port); err != nil {
			v.add(p+".tls.port", err)
		} else if bindOK {
			binds = append(binds, bindUse{path: p + ".tls.port", addr: addr, port: port})
		}
		// The key is secret: pemcheck's messages never quote it.
		certErr := pemcheck.Certificates(f.TLS.CertificatePEM)
		keyErr := pemcheck.PrivateKey(f.TLS.PrivateKeyPEM)
		v.add(p+".tls.certificate_pem", certErr)
		v.add(p+".tls.private_key_pem", keyErr)
		if certErr == nil && keyErr == nil {
			v.add(p+".tls.private_key_pem", pemcheck.KeyPair(f.TLS.CertificatePEM, f.TLS.PrivateKeyPEM))
		}
	}
	if f.RedirectToHTTPS {
		if f.TLS == nil {
			v.addf(p+".redirect_to_https", "requires tls")
		} else if f.Port == 0 {
			v.addf(p+".redirect_to_https", "requires port (a plain-HTTP listener to redirect from)")
		}
	}
	if f.HSTSMaxAge < 0 || f.HSTSMaxAge > maxHSTSMaxAge {
		v.addf(p+".hsts_max_age", "%d is out of range (0-%d seconds)", f.HSTSMaxAge, maxHSTSMaxAge)
	} else if f.HSTSMaxAge > 0 && f.TLS == nil {
		v.addf(p+".hsts_max_age", "requires tls")
	}
	optDuration(v, p+".timeouts.client", f.Timeouts.Client)
	optDuration(v, p+".timeouts.http_request", f.Timeouts.HTTPRequest)
	optDuration(v, p+".timeouts.http_keep_alive", f.Timeouts.HTTPKeepAlive)
	for j, r := range f.Rules {
		rp := fmt.Sprintf("%s.rules[%d]", p, j)
		if r.Host == "" && r.PathPrefix == "" {
			v.addf(rp, "needs host, path_prefix or both")
		}
		if r.Host != "" {
			v.add(rp+".host", ValidateHostname(r.Host))
		}
		if r.PathPrefix != "" {
			v.add(rp+".path_prefix", ValidatePath(r.PathPrefix))
		}
		checkBackendRef(v, rp+".backend", r.Backend, backends)
	}
	if f.DefaultBackend != "" {
		checkBackendRef(v, p+".default_backend", f.DefaultBackend, backends)
	} else if len(f.Rules) == 0 {
		v.addf(p+".default_backend", "is required when the frontend has no rules")
	}
	return binds
}

func checkBackendRef(v *collector, path, name string, backends map[string]bool) {
	if err := ValidateName(name); err != nil {
		v.add(path, err)
	} else if !backends[name] {
		v.addf(path, "no backend named %q", name)
	}
}

func validateBackend(v *collector, p string, b Backend) {
	if b.Balance != "" {
		v.add(p+".balance", ValidateBalance(b.Balance))
	}
	if len(b.Servers) == 0 {
		v.addf(p+".servers", "at least one server is required")
	}
	names := map[string]bool{}
	for j, s := range b.Servers {
		sp := fmt.Sprintf("%s.servers[%d]", p, j)
		if err := ValidateName(s.Name); err != nil {
			v.add(sp+".name", err)
		} else if names[s.Name] {
			v.addf(sp+".name", "duplicate server name %q in backend", s.Name)
		}
		names[s.Name] = true
		v.add(sp+".address", ValidateAddress(s.Address))
		v.add(sp+".port", ValidatePort(s.Port))
		if s.Weight != nil {
			v.add(sp+".weight", ValidateWeight(*s.Weight))
		}
		if s.MaxConn < 0 || s.MaxConn > maxMaxConn {
			v.addf(sp+".maxconn", "%d is out of range (0-%d, 0 means no limit)", s.MaxConn, maxMaxConn)
		}
	}
	if hc := b.HealthCheck; hc != nil {
		hp := p + ".health_check"
		if hc.Path != "" {
			v.add(hp+".path", ValidateRequestURI(hc.Path))
		}
		if hc.Host != "" {
			v.add(hp+".host", ValidateHostname(hc.Host))
		}
		if hc.ExpectStatus != 0 {
			v.add(hp+".expect_status", ValidateStatusCode(hc.ExpectStatus))
		}
		optDuration(v, hp+".interval", hc.Interval)
		if hc.Rise < 0 || hc.Rise > maxHealthCount {
			v.addf(hp+".rise", "%d is out of range (1-%d, 0 means %d)", hc.Rise, maxHealthCount, DefaultHealthCheckRise)
		}
		if hc.Fall < 0 || hc.Fall > maxHealthCount {
			v.addf(hp+".fall", "%d is out of range (1-%d, 0 means %d)", hc.Fall, maxHealthCount, DefaultHealthCheckFall)
		}
		if hc.ErrorLimit < 0 || hc.ErrorLimit > maxHealthCount {
			v.addf(hp+".error_limit", "%d is out of range (1-%d, 0 means off)", hc.ErrorLimit, maxHealthCount)
		}
	}
	if b.StickyCookie != "" {
		v.add(p+".sticky_cookie", ValidateCookieName(b.StickyCookie))
	}
	optDuration(v, p+".timeouts.connect", b.Timeouts.Connect)
	optDuration(v, p+".timeouts.server", b.Timeouts.Server)
	optDuration(v, p+".timeouts.queue", b.Timeouts.Queue)
	if t := b.TLS; t != nil {
		v.add(p+".tls.ca_pem", pemcheck.Certificates(t.CAPEM))
		if t.ServerName == "" {
			v.addf(p+".tls.server_name", "is required: the name the servers' certificates must hold")
		} else {
			v.add(p+".tls.server_name", ValidateHostname(t.ServerName))
		}
	}
}

func validateStats(v *collector, s Stats) []bindUse {
	var binds []bindUse
	bind := s.BindAddress
	if bind == "" {
		bind = DefaultStatsBind
	}
	bindOK := true
	if err := ValidateBindAddress(s.BindAddress); err != nil {
		v.add("stats.bind_address", err)
		bindOK = false
	}
	port := s.Port
	if port == 0 {
		port = DefaultStatsPort
	}
	if err := ValidatePort(port); err != nil {
		v.add("stats.port", err)
	} else if bindOK {
		binds = append(binds, bindUse{path: "stats.port", addr: canonicalAddr(bind), port: port})
	}
	uri := s.URI
	if s.URI != "" {
		v.add("stats.uri", ValidateRequestURI(s.URI))
	} else {
		uri = DefaultStatsURI
	}
	if s.Prometheus && (uri == PrometheusPath || strings.HasPrefix(uri, PrometheusPath+"?")) {
		v.addf("stats.uri", "%q is the Prometheus exporter's path", uri)
	}
	switch {
	case s.User == "" && s.Password != "":
		v.addf("stats.user", "is required when stats.password is set")
	case s.User != "" && s.Password == "":
		v.addf("stats.password", "is required when stats.user is set")
	case s.User != "":
		v.add("stats.user", ValidateUser(s.User))
		v.add("stats.password", ValidatePassword(s.Password))
	}
	optDuration(v, "stats.refresh", s.Refresh)
	return binds
}

// canonicalAddr returns the textual form used to compare bind addresses.
func canonicalAddr(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}

// --- per-kind validators -------------------------------------------------
//
// Each returns a plain error (nil when the value is valid) that the caller
// wraps with the attribute path. They refuse every character that could end
// a line, start a comment, open a quote, escape, split a word or open an
// inline ACL block in the position the value is rendered.

// forbidden describes the first character of s that fails ok, or "".
func forbidden(s string, ok func(r rune) bool) string {
	for _, r := range s {
		if !ok(r) {
			return describeRune(r)
		}
	}
	return ""
}

func describeRune(r rune) string {
	switch r {
	case '\n':
		return "a newline"
	case '\r':
		return "a carriage return"
	case 0:
		return "a NUL byte"
	case ' ':
		return "a space"
	case '\t':
		return "a tab"
	case '#':
		return "'#' (starts a comment)"
	case '"', '\'':
		return fmt.Sprintf("%q (a quote)", r)
	case '\\':
		return "a backslash"
	case '{', '}':
		return fmt.Sprintf("%q (an inline ACL brace)", r)
	case '$':
		return "'$' (environment variable expansion)"
	}
	if r < 0x20 || r == 0x7f {
		return fmt.Sprintf("the control character %U", r)
	}
	if r > 0x7e {
		return fmt.Sprintf("the non-ASCII character %q", r)
	}
	return fmt.Sprintf("the character %q", r)
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// ValidateName checks the name of a frontend, backend or server. HAProxy
// allows letters, digits, '_', '.', ':' and '-'; this package also requires
// the first character to be a letter, a digit or '_' and at most 64
// characters.
func ValidateName(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%q is longer than %d characters", s, maxNameLen)
	}
	if bad := forbidden(s, func(r rune) bool { return isAlnum(r) || strings.ContainsRune("_.:-", r) }); bad != "" {
		return fmt.Errorf("%q contains %s; names may contain only letters, digits, '_', '.', ':' and '-'", s, bad)
	}
	if r := rune(s[0]); !isAlnum(r) && r != '_' {
		return fmt.Errorf("%q must start with a letter, a digit or '_'", s)
	}
	return nil
}

// ValidatePort checks a TCP port: 1-65535.
func ValidatePort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("%d is not a valid port (1-65535)", p)
	}
	return nil
}

// ValidateWeight checks a server weight: 0-256.
func ValidateWeight(w int) error {
	if w < 0 || w > 256 {
		return fmt.Errorf("%d is out of range (0-256)", w)
	}
	return nil
}

// ValidateStatusCode checks an HTTP status code: 100-599.
func ValidateStatusCode(code int) error {
	if code < 100 || code > 599 {
		return fmt.Errorf("%d is not an HTTP status code (100-599)", code)
	}
	return nil
}

// ValidateDuration checks an HAProxy time value: digits followed by an
// optional unit ms, s, m, h or d (a plain number is milliseconds). It must be
// greater than zero and at most 2147483647 ms (about 24.8 days), HAProxy's
// limit.
func ValidateDuration(s string) error {
	_, err := durationMS(s)
	return err
}

func durationMS(s string) (int64, error) {
	digits := s[:len(s)-len(strings.TrimLeftFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }))]
	unit := s[len(digits):]
	mult := map[string]int64{"": 1, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[unit]
	if digits == "" || mult == 0 {
		return 0, fmt.Errorf("%q is not an HAProxy time (digits with an optional unit ms, s, m, h or d, such as 5s or 100ms)", s)
	}
	if len(digits) > 12 {
		return 0, fmt.Errorf("%q is too large (at most 2147483647ms, about 24.8 days)", s)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an HAProxy time: %w", s, err)
	}
	ms := n * mult
	if ms == 0 {
		return 0, fmt.Errorf("%q must be greater than zero", s)
	}
	if ms > maxDurationMS {
		return 0, fmt.Errorf("%q is too large (at most 2147483647ms, about 24.8 days)", s)
	}
	return ms, nil
}

// ValidateBindAddress checks a listening address: empty (all IPv4
// addresses) or an IPv4 or IPv6 address without a zone.
func ValidateBindAddress(s string) error {
	if s == "" {
		return nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return fmt.Errorf("%q is not an IPv4 or IPv6 address (leave it empty to listen on all IPv4 addresses, or use \"::\" for all addresses)", s)
	}
	return nil
}

// ValidateAddress checks a server address: an IPv4 or IPv6 address (without
// brackets or zone) or a hostname.
func ValidateAddress(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("%q has an IPv6 zone, which is not supported", s)
		}
		return nil
	}
	if err := ValidateHostname(s); err != nil {
		return fmt.Errorf("%q is neither an IPv4/IPv6 address nor a hostname: %w", s, errors.Unwrap(err))
	}
	return nil
}

// hostnameError wraps the reason a hostname is invalid so ValidateAddress
// can reuse it without quoting the value twice.
type hostnameError struct {
	value  string
	reason error
}

func (e *hostnameError) Error() string {
	return fmt.Sprintf("%q is not a valid hostname: %v", e.value, e.reason)
}
func (e *hostnameError) Unwrap() error { return e.reason }

// ValidateHostname checks a DNS hostname (RFC 1123): dot-separated labels of
// letters, digits and '-', each 1-63 characters, not starting or ending with
// '-', at most 253 characters in all, with a last label that is not all
// digits (so an IPv4 address is not mistaken for a name). No trailing dot,
// no port, no wildcard.
func ValidateHostname(s string) error {
	reason := hostnameReason(s)
	if reason == nil {
		return nil
	}
	return &hostnameError{value: s, reason: reason}
}

func hostnameReason(s string) error {
	if s == "" {
		return errors.New("it is empty")
	}
	if len(s) > 253 {
		return errors.New("it is longer than 253 characters")
	}
	if bad := forbidden(s, func(r rune) bool { return isAlnum(r) || r == '-' || r == '.' }); bad != "" {
		return fmt.Errorf("it contains %s (allowed: letters, digits, '-' and '.')", bad)
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return errors.New("it has an empty label")
		case len(l) > 63:
			return errors.New("a label is longer than 63 characters")
		case l[0] == '-' || l[len(l)-1] == '-':
			return errors.New("a label starts or ends with '-'")
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return errors.New("its last label is all digits")
	}
	return nil
}

// pathChar reports whether r may appear in a rendered path: RFC 3986 pchar
// and '/' without the quote and '$', plus '%' (checked for %HH separately).
func pathChar(r rune) bool {
	return isAlnum(r) || strings.ContainsRune("-._~!&()*+,;=:@/%", r)
}

// ValidatePath checks a URL path prefix: it starts with '/', holds only
// RFC 3986 path characters (letters, digits and - . _ ~ ! & ( ) * + , ; = :
// @ /) and %HH escapes, no query, at most 1024 characters.
func ValidatePath(s string) error {
	return validatePathQuery(s, false)
}

// ValidateRequestURI checks a request URI for health checks and the stats
// page: a path as for ValidatePath, optionally followed by '?' and a query
// of the same characters plus '?'.
func ValidateRequestURI(s string) error {
	return validatePathQuery(s, true)
}

func validatePathQuery(s string, query bool) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("%q must start with '/'", s)
	}
	if len(s) > maxPathLen {
		return fmt.Errorf("%q is longer than %d characters", s, maxPathLen)
	}
	ok := pathChar
	if query {
		ok = func(r rune) bool { return pathChar(r) || r == '?' }
	}
	if bad := forbidden(s, ok); bad != "" {
		if !query && strings.ContainsRune(s, '?') {
			return fmt.Errorf("%q contains '?': a path prefix cannot match a query string", s)
		}
		return fmt.Errorf("%q contains %s", s, bad)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return fmt.Errorf("%q has a '%%' that is not a %%HH escape", s)
		}
	}
	return nil
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

// ValidateHeaderName checks an HTTP header name used in balance hdr(NAME):
// letters, digits, '-' and '_', starting with a letter or digit, at most 64
// characters.
func ValidateHeaderName(s string) error {
	return validateToken(s, "header name")
}

// ValidateCookieName checks a cookie name: letters, digits, '-', '_' and
// '.', starting with a letter or digit, at most 64 characters.
func ValidateCookieName(s string) error {
	return validateToken(s, "cookie name")
}

// ValidateParamName checks a URL query parameter name used in balance
// "url_param NAME": the same alphabet as ValidateCookieName.
func ValidateParamName(s string) error {
	return validateToken(s, "query parameter name")
}

func validateToken(s, what string) error {
	if s == "" {
		return fmt.Errorf("%s must not be empty", what)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%s %q is longer than %d characters", what, s, maxNameLen)
	}
	extra := "-_."
	allowed := "letters, digits, '-', '_' and '.'"
	if what == "header name" {
		extra = "-_"
		allowed = "letters, digits, '-' and '_'"
	}
	if bad := forbidden(s, func(r rune) bool { return isAlnum(r) || strings.ContainsRune(extra, r) }); bad != "" {
		return fmt.Errorf("%s %q contains %s (allowed: %s)", what, s, bad, allowed)
	}
	if !isAlnum(rune(s[0])) {
		return fmt.Errorf("%s %q must start with a letter or a digit", what, s)
	}
	return nil
}

// ValidateUser checks the stats page user name: letters, digits, '-', '_'
// and '.', starting with a letter or digit (no ':', which separates the
// password).
func ValidateUser(s string) error {
	return validateToken(s, "user name")
}

// ValidatePassword checks the stats page password: 1-128 printable ASCII
// characters except space, quotes, backslash and '#'. The error never
// contains the password.
func ValidatePassword(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > maxPasswordLen {
		return fmt.Errorf("is longer than %d characters", maxPasswordLen)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || strings.ContainsRune("\"'\\#", r) {
			return errors.New("contains a character that is not allowed (use printable ASCII without spaces, quotes, backslash or '#')")
		}
	}
	return nil
}

// balanceAlgos are the algorithms that take no argument.
var balanceAlgos = []string{"roundrobin", "static-rr", "leastconn", "first", "source", "uri", "random", "rdp-cookie"}

// ValidateBalance checks a load-balancing algorithm: one of roundrobin,
// static-rr, leastconn, first, source, uri, random, rdp-cookie, or
// "url_param NAME", "hdr(NAME)", "rdp-cookie(NAME)".
func ValidateBalance(s string) error {
	_, _, err := parseBalance(s)
	return err
}

// parseBalance splits a balance value into its algorithm and argument.
func parseBalance(s string) (algo, arg string, err error) {
	for _, a := range balanceAlgos {
		if s == a {
			return a, "", nil
		}
	}
	switch {
	case strings.HasPrefix(s, "url_param "):
		arg = strings.TrimPrefix(s, "url_param ")
		if err := ValidateParamName(arg); err != nil {
			return "", "", fmt.Errorf("%q: %w", s, err)
		}
		return "url_param", arg, nil
	case strings.HasPrefix(s, "hdr(") && strings.HasSuffix(s, ")"):
		arg = s[len("hdr(") : len(s)-1]
		if err := ValidateHeaderName(arg); err != nil {
			return "", "", fmt.Errorf("%q: %w", s, err)
		}
		return "hdr", arg, nil
	case strings.HasPrefix(s, "rdp-cookie(") && strings.HasSuffix(s, ")"):
		arg = s[len("rdp-cookie(") : len(s)-1]
		if err := ValidateCookieName(arg); err != nil {
			return "", "", fmt.Errorf("%q: %w", s, err)
		}
		return "rdp-cookie", arg, nil
	}
	return "", "", fmt.Errorf("%q is not a supported balance algorithm (one of %s, \"url_param NAME\", \"hdr(NAME)\", \"rdp-cookie(NAME)\")",
		s, strings.Join(balanceAlgos, ", "))
}
