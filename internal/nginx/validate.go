// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

// collector accumulates field errors. add is for a value's own check (the
// exported Validate<X> a schema can run per attribute: Single); addf for
// rules that involve other values or have no such function.
type collector struct{ errs fault.FieldErrors }

func (c *collector) add(p string, err error) {
	if err != nil {
		c.errs = append(c.errs, &fault.FieldError{Path: p, Err: err, Single: true})
	}
}

func (c *collector) addf(p, format string, args ...any) {
	c.errs = append(c.errs, &fault.FieldError{Path: p, Err: fmt.Errorf(format, args...)})
}

func (c *collector) err() error { return c.errs.Err() }

// configSpecials are the bytes that end a token, a directive or a block, start
// a comment or a variable, or quote/escape in nginx's grammar (plus the shell
// and systemd specials that overlap). No validated value that reaches a config
// line unquoted may contain any of them.
const configSpecials = "\"'`;{}#$\\"

// checkPlain refuses control characters (newline, CR, NUL, tab, ...), invalid
// UTF-8 and configSpecials. what names the kind of value for the message.
func checkPlain(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s %q contains a control character (%U)", what, s, r)
		}
		if strings.ContainsRune(configSpecials, r) {
			return fmt.Errorf("%s %q contains %q, which is not allowed", what, s, r)
		}
	}
	return nil
}

var (
	siteNameRE   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	dnsLabelRE   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	pathRE       = regexp.MustCompile(`^[A-Za-z0-9._/+@,:=-]+$`)
	urlPrefixRE  = regexp.MustCompile(`^/(?:[A-Za-z0-9._~-]+/)+$`)
	sizeRE       = regexp.MustCompile(`^([0-9]{1,9})([kKmMgG]?)$`)
	durationRE   = regexp.MustCompile(`^([0-9]{1,9})(ms|s|m|h|d|w|M|y)?$`)
	headerNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	userNameRE   = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	mimeTypeRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]{0,63}/[a-z0-9*][a-z0-9.+*-]{0,126}$`)
	healthPathRE = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*(?:\?[A-Za-z0-9._~=&-]*)?$`)
	signalRE     = regexp.MustCompile(`^(HUP|USR1|USR2|TERM|INT|QUIT|WINCH)$`)
)

// ValidateSiteName checks a site (or application) name: it becomes part of
// file names (foobar-<name>.conf), the nginx upstream name, the systemd unit
// name and the init script name, so it is a DNS label in lower case.
func ValidateSiteName(s string) error {
	if !siteNameRE.MatchString(s) {
		return fmt.Errorf("name %q must be 1 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit", s)
	}
	return nil
}

// ValidateServerName checks one nginx server_name entry: a host name, a
// wildcard name (*.example.com or www.example.*), or "_" (matches nothing,
// the conventional catch-all placeholder). Regular-expression names (~...)
// are refused.
func ValidateServerName(s string) error {
	if err := checkPlain("server name", s); err != nil {
		return err
	}
	if s == "_" {
		return nil
	}
	if s == "" || len(s) > 253 {
		return fmt.Errorf("server name %q must be 1 to 253 characters", s)
	}
	name := s
	switch {
	case strings.HasPrefix(name, "*."):
		name = name[2:]
	case strings.HasSuffix(name, ".*"):
		name = name[:len(name)-2]
	}
	for _, label := range strings.Split(name, ".") {
		if !dnsLabelRE.MatchString(label) {
			return fmt.Errorf("server name %q is not a host name (labels of letters, digits and '-'; a wildcard only as a leading \"*.\" or trailing \".*\")", s)
		}
	}
	return nil
}

// ValidatePath checks an absolute file system path that is written into a
// config file or a unit: absolute, already normalized (no "//", no trailing
// slash, no "." or ".." elements), and made of letters, digits and
// "._/+@,:=-" only (no white space, quotes, '$', '%', ';', '#', braces or
// backslashes, which nginx, systemd or sh would interpret).
func ValidatePath(p string) error {
	if err := checkPlain("path", p); err != nil {
		return err
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must be absolute", p)
	}
	if len(p) > 4096 {
		return fmt.Errorf("path %q is longer than 4096 bytes", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return fmt.Errorf("path %q must not contain \"..\"", p)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("path %q is not normalized (want %q)", p, path.Clean(p))
	}
	if !pathRE.MatchString(p) {
		return fmt.Errorf("path %q may contain only letters, digits and \"._/+@,:=-\"", p)
	}
	return nil
}

// ValidateURLPrefix checks the URL prefix of a static location: it starts and
// ends with "/", is not "/" itself (that location proxies to the app), and
// each segment is made of URL-unreserved characters (letters, digits,
// "._~-"), never "." or "..".
func ValidateURLPrefix(p string) error {
	if err := checkPlain("URL prefix", p); err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("URL prefix %q is the application's location; give a prefix such as \"/static/\"", p)
	}
	if len(p) > 1024 || !urlPrefixRE.MatchString(p) {
		return fmt.Errorf("URL prefix %q must look like \"/static/\": start and end with '/', segments of letters, digits and \"._~-\"", p)
	}
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("URL prefix %q must not contain \".\" or \"..\" segments", p)
		}
	}
	return nil
}

// ValidateSize checks an nginx size such as "10m", "512k", "1g" or "0".
func ValidateSize(s string) error {
	if !sizeRE.MatchString(s) {
		return fmt.Errorf("size %q must be a number (up to 9 digits) with an optional unit k, m or g, such as \"10m\"", s)
	}
	return nil
}

// durationUnits maps nginx time units to milliseconds.
var durationUnits = map[string]int64{
	"ms": 1, "": 1000, "s": 1000, "m": 60 * 1000, "h": 3600 * 1000,
	"d": 86400 * 1000, "w": 7 * 86400 * 1000, "M": 30 * 86400 * 1000, "y": 365 * 86400 * 1000,
}

// maxDurationMS bounds durations to one year, far below nginx's overflow.
const maxDurationMS = 365 * 86400 * 1000

func parseDuration(s string) (int64, bool) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	ms := n * durationUnits[m[2]]
	return ms, ms <= maxDurationMS
}

// ValidateDuration checks an nginx time such as "30s", "1m", "500ms" or "75"
// (seconds): one number of up to 9 digits with an optional unit (ms, s, m, h,
// d, w, M, y), at most one year.
func ValidateDuration(s string) error {
	if _, ok := parseDuration(s); !ok {
		return fmt.Errorf("duration %q must be a number with an optional unit ms, s, m, h, d, w, M or y (such as \"30s\"), at most one year", s)
	}
	return nil
}

// ValidateExpires checks the value of an nginx expires directive: a duration
// in whole seconds or more (no "ms"), or one of "off", "max", "epoch".
func ValidateExpires(s string) error {
	switch s {
	case "off", "max", "epoch":
		return nil
	}
	if strings.HasSuffix(s, "ms") {
		return fmt.Errorf("expires %q: milliseconds are not allowed; use s, m, h, d, w, M or y", s)
	}
	if _, ok := parseDuration(s); !ok {
		return fmt.Errorf("expires %q must be a duration such as \"7d\", or one of \"off\", \"max\", \"epoch\"", s)
	}
	return nil
}

// ValidateHeaderName checks an HTTP response header name: letters, digits
// and '-' (a conservative subset of the RFC 9110 token).
func ValidateHeaderName(s string) error {
	if !headerNameRE.MatchString(s) {
		return fmt.Errorf("header name %q must be letters, digits and '-', such as \"X-Request-Source\"", s)
	}
	return nil
}

// ValidateHeaderValue checks an HTTP response header value. Values are always
// written inside double quotes in the nginx config, so single quotes and ';'
// are allowed (Content-Security-Policy needs "default-src 'self'; ...").
// Refused: control characters (newline, CR, NUL, tab), non-ASCII, '"', '\\'
// and '$' (nginx would expand a variable), '{', '}', '#' and '`', and leading
// or trailing spaces.
func ValidateHeaderValue(s string) error {
	if s == "" || len(s) > 4096 {
		return fmt.Errorf("header value %q must be 1 to 4096 characters", s)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return fmt.Errorf("header value %q may contain only printable ASCII (found %U)", s, r)
		}
		if strings.ContainsRune("\"\\$`{}#", r) {
			return fmt.Errorf("header value %q contains %q, which is not allowed", s, r)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("header value %q must not start or end with a space", s)
	}
	return nil
}

// reservedEnvNames would change how the init script's own shell behaves when
// it sources the environment file (or are read-only in bash running as sh).
var reservedEnvNames = map[string]bool{
	"IFS": true, "ENV": true, "BASH_ENV": true, "SHELLOPTS": true, "BASHOPTS": true,
	"BASH_VERSINFO": true, "EUID": true, "UID": true, "PPID": true, "OPTIND": true,
	"PS4": true,
}

// ValidateEnvName checks an environment variable name: [A-Za-z_][A-Za-z0-9_]*
// (what systemd and a POSIX shell both accept), at most 128 characters, and
// not one of the shell's own variables (IFS, ENV, BASH_ENV, PPID, ...), which
// would change the init script's shell while it sources the file.
func ValidateEnvName(s string) error {
	if !envNameRE.MatchString(s) {
		return fmt.Errorf("environment variable name %q must match [A-Za-z_][A-Za-z0-9_]* (at most 128 characters)", s)
	}
	if reservedEnvNames[s] {
		return fmt.Errorf("environment variable name %q is reserved: it changes the behavior of the shell that starts the service", s)
	}
	return nil
}

// ValidateEnvValue checks an environment variable value. Any printable text
// is allowed (spaces, quotes, '$', '\\', '=' and so on are escaped in the
// environment file); control characters (newline, CR, tab, NUL, ...) and
// invalid UTF-8 are refused. The value may be a secret, so the error never
// contains it.
func ValidateEnvValue(s string) error {
	if len(s) > 32768 {
		return errors.New("environment variable value is longer than 32768 bytes")
	}
	if !utf8.ValidString(s) {
		return errors.New("environment variable value is not valid UTF-8")
	}
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("environment variable value contains a control character (%U) at byte %d; only printable text is allowed", r, i)
		}
	}
	return nil
}

// ValidateUserName checks a system user or group name as Debian's adduser
// and useradd accept it: lower-case letter or '_' first, then lower-case
// letters, digits, '_' or '-', at most 32 characters. "root" is refused: the
// application server must not run as root.
func ValidateUserName(s string) error {
	if !userNameRE.MatchString(s) {
		return fmt.Errorf("user or group name %q must start with a lower-case letter or '_' and contain only lower-case letters, digits, '_' or '-' (at most 32)", s)
	}
	if s == "root" {
		return fmt.Errorf("user or group name %q: the application must not run as root", s)
	}
	return nil
}

// ValidateArg checks one element of the application's command line. It is
// quoted for systemd and for sh when rendered, so any printable text is
// allowed; control characters (newline, tab, NUL, ...) and invalid UTF-8 are
// refused, and an argument is at most 4096 bytes.
func ValidateArg(s string) error {
	if len(s) > 4096 {
		return fmt.Errorf("argument %q is longer than 4096 bytes", s[:32]+"...")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("argument %q is not valid UTF-8", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("argument %q contains a control character (%U)", s, r)
		}
	}
	return nil
}

// ValidatePort checks a TCP port number (1 to 65535).
func ValidatePort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("port %d must be between 1 and 65535", p)
	}
	return nil
}

// ValidateMIMEType checks one gzip_types entry such as "application/json"
// or "text/*".
func ValidateMIMEType(s string) error {
	if !mimeTypeRE.MatchString(s) {
		return fmt.Errorf("MIME type %q must look like \"application/json\" (lower-case letters, digits, \".+-\", '*' in the subtype)", s)
	}
	return nil
}

// ValidateHealthCheckPath checks the path (and optional query) the
// application answers health checks on, such as "/healthz".
func ValidateHealthCheckPath(s string) error {
	if len(s) > 1024 || !healthPathRE.MatchString(s) {
		return fmt.Errorf("health check path %q must start with '/' and contain only letters, digits, \"._~/-\" and an optional \"?key=value&...\" query", s)
	}
	return nil
}

// ValidateSignal checks a reload signal name (without the SIG prefix).
func ValidateSignal(s string) error {
	if !signalRE.MatchString(s) {
		return fmt.Errorf("signal %q must be one of HUP, USR1, USR2, TERM, INT, QUIT, WINCH", s)
	}
	return nil
}
