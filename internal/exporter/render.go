// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package exporter manages Prometheus exporters from the distribution's
// packages (Debian's prometheus-node-exporter, prometheus-nginx-exporter):
// the listen address in the package's /etc/default file, for Nginx a
// loopback-only stub_status server for the exporter to read, the unit
// enabled and running, and the metrics endpoint verified after every change.
// Files go through internal/apply like every other managed file.
package exporter

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/mysql"
)

// Kinds of exporter.
const (
	KindNode  = "node"
	KindNginx = "nginx"
	KindMySQL = "mysqld"
)

// Kinds lists the supported kinds, for messages and validators.
var Kinds = []string{KindNode, KindNginx, KindMySQL}

// DefaultPort is the port each kind listens on by default (the ports
// registered for them in Prometheus' default port allocations).
var DefaultPort = map[string]int{KindNode: 9100, KindNginx: 9113, KindMySQL: 9104}

// Nginx's stub_status server for the exporter: loopback only.
const (
	// StubStatusConf is the nginx configuration file of the status server
	// (Debian's nginx.conf includes /etc/nginx/conf.d/*.conf).
	StubStatusConf = "/etc/nginx/conf.d/foobar-stub-status.conf"
	// StubStatusPath is the location that answers stub_status.
	StubStatusPath = "/foobar-stub-status"
	// DefaultStubStatusPort is the loopback port of the status server.
	DefaultStubStatusPort = 8405
)

// Config is one exporter on one host.
type Config struct {
	// Kind is KindNode or KindNginx.
	Kind string
	// Listen is the address:port the exporter serves /metrics on (an IPv6
	// address in brackets). The address must be one of the host's, or
	// 0.0.0.0 / [::] for all.
	Listen string
	// StubStatusPort is the loopback port of Nginx's stub_status server
	// (KindNginx only); 0: DefaultStubStatusPort.
	StubStatusPort int
	// MySQLUser and MySQLPassword are the account the mysqld exporter
	// logs in with (KindMySQL only); Deploy creates it on the local server.
	MySQLUser     string
	MySQLPassword string
}

// DefaultMySQLUser is the mysqld exporter's account by default.
const DefaultMySQLUser = "foobar_exporter"

// MySQLCnfPath is the mysqld exporter's credentials file (0600, owned by
// the exporter's user): the password is never in argv or the unit.
const MySQLCnfPath = "/var/lib/prometheus/foobar-mysqld-exporter.cnf"

// MySQLSocket is the server's socket on Debian (MariaDB and MySQL).
const MySQLSocket = "/run/mysqld/mysqld.sock"

// CheckMySQLPassword accepts printable ASCII without quotes, backslash and
// '#' (they would need escaping in the option file), 12 to 100 characters.
func CheckMySQLPassword(pw string) error {
	if len(pw) < 12 || len(pw) > 100 {
		return errors.New("must be 12 to 100 characters")
	}
	for _, r := range pw {
		if r < 0x21 || r > 0x7e || strings.ContainsRune("\"'\\#`", r) {
			return errors.New("may hold printable ASCII characters except quotes, backslash, '#' and spaces")
		}
	}
	return nil
}

func fieldErr(path string, value any, err error, single bool) error {
	return &fault.FieldError{Path: path, Value: value, Err: err, Single: single}
}

// CheckKind validates a kind.
func CheckKind(k string) error {
	for _, v := range Kinds {
		if k == v {
			return nil
		}
	}
	return fmt.Errorf("unknown exporter kind %q: one of %s", k, strings.Join(Kinds, ", "))
}

// CheckListen validates an address:port.
func CheckListen(s string) error {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return fmt.Errorf("%q is not an address:port (for example 10.0.0.5:9100 or [2001:db8::5]:9100): %w", s, err)
	}
	if ap.Port() == 0 {
		return fmt.Errorf("%q: the port must be 1-65535", s)
	}
	if ap.Addr().Zone() != "" {
		return fmt.Errorf("%q: zoned addresses are not supported", s)
	}
	return nil
}

// Validate checks the whole configuration; errors name the attribute.
func (c Config) Validate() error {
	if err := CheckKind(c.Kind); err != nil {
		return fieldErr("kind", c.Kind, err, true)
	}
	if err := CheckListen(c.Listen); err != nil {
		return fieldErr("listen", c.Listen, err, true)
	}
	if c.StubStatusPort != 0 && c.Kind != KindNginx {
		return fieldErr("stub_status_port", c.StubStatusPort, errors.New("only applies to kind \"nginx\""), false)
	}
	if c.StubStatusPort < 0 || c.StubStatusPort > 65535 {
		return fieldErr("stub_status_port", c.StubStatusPort, errors.New("must be 1-65535"), true)
	}
	if c.Kind == KindMySQL {
		if c.MySQLUser != "" {
			if err := mysql.ValidateUserName("mysql_user", c.MySQLUser, mysql.FlavorUnknown); err != nil {
				return err
			}
		}
		if err := CheckMySQLPassword(c.MySQLPassword); err != nil {
			return &fault.FieldError{Path: "mysql_password", Err: err, Secret: true}
		}
	} else if c.MySQLPassword != "" || c.MySQLUser != "" {
		return fieldErr("kind", c.Kind, errors.New("mysql_user and mysql_password apply to kind \"mysqld\" only"), false)
	}
	if c.Kind == KindNginx {
		ap, _ := netip.ParseAddrPort(c.Listen)
		if int(ap.Port()) == c.stubPort() && (ap.Addr().IsLoopback() || ap.Addr().IsUnspecified()) {
			return fieldErr("listen", c.Listen, fmt.Errorf("uses the port of the stub_status server (127.0.0.1:%d)", c.stubPort()), false)
		}
	}
	return nil
}

func (c Config) stubPort() int {
	if c.StubStatusPort == 0 {
		return DefaultStubStatusPort
	}
	return c.StubStatusPort
}

// Package is the Debian package of the exporter.
func (c Config) Package() string { return "prometheus-" + c.Kind + "-exporter" }

// Service is the exporter's unit (the package's own).
func (c Config) Service() string { return c.Package() }

// DefaultsPath is the package's environment file, whose ARGS the unit passes
// to the exporter.
func (c Config) DefaultsPath() string { return "/etc/default/" + c.Package() }

// StubStatusURL is what the nginx exporter scrapes.
func (c Config) StubStatusURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(c.stubPort()) + StubStatusPath
}

// Args are the exporter's command-line arguments. Both the kingpin flags
// of the node exporter and the Go flags of older nginx exporters accept
// the --name=value form.
func (c Config) Args() []string {
	args := []string{"--web.listen-address=" + c.Listen}
	switch c.Kind {
	case KindNginx:
		args = append(args, "--nginx.scrape-uri="+c.StubStatusURL())
	case KindMySQL:
		args = append(args, "--config.my-cnf="+MySQLCnfPath)
	}
	return args
}

// RenderDefaults is the /etc/default file of the exporter.
func (c Config) RenderDefaults() []byte {
	var b strings.Builder
	b.WriteString("# Managed by Terraform (foobar_exporter); changes here are overwritten.\n")
	b.WriteString("# Read by " + c.Service() + ".service: the exporter's arguments.\n")
	b.WriteString("ARGS=\"" + strings.Join(c.Args(), " ") + "\"\n")
	return []byte(b.String())
}

// RenderStubStatus is the loopback-only nginx server that answers
// stub_status for the nginx exporter.
func (c Config) RenderStubStatus() []byte {
	p := strconv.Itoa(c.stubPort())
	return []byte("# Managed by Terraform (foobar_exporter kind \"nginx\"): Nginx's connection counters for\n" +
		"# prometheus-nginx-exporter, on loopback only.\n" +
		"server {\n" +
		"    listen 127.0.0.1:" + p + ";\n" +
		"    server_name localhost;\n" +
		"    access_log off;\n" +
		"    location = " + StubStatusPath + " {\n" +
		"        stub_status;\n" +
		"        allow 127.0.0.1;\n" +
		"        deny all;\n" +
		"    }\n" +
		"    location / {\n" +
		"        return 404;\n" +
		"    }\n" +
		"}\n")
}

// Files are the managed files of the exporter itself (the nginx status
// server is applied separately, with nginx's validation and reload).
func (c Config) Files() []apply.File {
	fs := []apply.File{{Path: c.DefaultsPath(), Content: c.RenderDefaults(), Owner: "root", Group: "root", Mode: 0o644}}
	if c.Kind == KindMySQL {
		fs = append(fs, apply.File{Path: MySQLCnfPath, Content: c.RenderMySQLCnf(), Owner: "prometheus", Group: "prometheus", Mode: 0o600})
	}
	return fs
}

// User is the mysqld exporter's account name.
func (c Config) User() string {
	if c.MySQLUser == "" {
		return DefaultMySQLUser
	}
	return c.MySQLUser
}

// RenderMySQLCnf is the exporter's credentials file (over the socket).
func (c Config) RenderMySQLCnf() []byte {
	return []byte("# Managed by Terraform (foobar_exporter kind \"mysqld\").\n[client]\nuser=" + c.User() +
		"\npassword=\"" + c.MySQLPassword + "\"\nsocket=" + MySQLSocket + "\n")
}

// MetricsURL is where the host itself reaches the exporter (loopback for
// an unspecified listen address).
func (c Config) MetricsURL() string {
	ap, _ := netip.ParseAddrPort(c.Listen)
	a := ap.Addr()
	if a.IsUnspecified() {
		if a.Is4() {
			a = netip.MustParseAddr("127.0.0.1")
		} else {
			a = netip.IPv6Loopback()
		}
	}
	return "http://" + netip.AddrPortFrom(a, ap.Port()).String() + "/metrics"
}

// ReadyMetric is a sample line prefix that proves the exporter works: for
// Nginx, that it reads stub_status.
func (c Config) ReadyMetric() string {
	switch c.Kind {
	case KindNginx:
		return "nginx_up 1"
	case KindMySQL:
		return "mysql_up 1"
	}
	return "node_exporter_build_info"
}

// FileChecksums are the sha256 of the files the exporter manages, by path
// (for nginx, the status server's too).
func (c Config) FileChecksums() map[string]string {
	out := map[string]string{}
	for _, f := range c.Files() {
		out[f.Path] = apply.Checksum(f.Content)
	}
	if c.Kind == KindNginx {
		out[StubStatusConf] = apply.Checksum(c.RenderStubStatus())
	}
	return out
}

// SHA256 is one checksum over the managed files, in a fixed order.
func (c Config) SHA256() string {
	files := c.FileChecksums()
	var b strings.Builder
	for _, f := range c.Files() {
		b.WriteString(f.Path + " " + files[f.Path] + "\n")
	}
	if s, ok := files[StubStatusConf]; ok {
		b.WriteString(StubStatusConf + " " + s + "\n")
	}
	return apply.Checksum([]byte(b.String()))
}

// ScrapeTarget is where Prometheus reaches an exporter listening on listen
// on host: listen itself, or host with its port when listen is a wildcard.
func ScrapeTarget(host, listen string) string {
	ap, err := netip.ParseAddrPort(listen)
	if err != nil || !ap.Addr().IsUnspecified() {
		return listen
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, ap.Port()).String()
	}
	return host + ":" + strconv.Itoa(int(ap.Port()))
}
