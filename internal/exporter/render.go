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
)

// Kinds of exporter.
const (
	KindNode  = "node"
	KindNginx = "nginx"
)

// Kinds lists the supported kinds, for messages and validators.
var Kinds = []string{KindNode, KindNginx}

// DefaultPort is the port each kind listens on by default (the ports
// registered for them in Prometheus' default port allocations).
var DefaultPort = map[string]int{KindNode: 9100, KindNginx: 9113}

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
	if c.Kind == KindNginx {
		args = append(args, "--nginx.scrape-uri="+c.StubStatusURL())
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
	return []apply.File{{Path: c.DefaultsPath(), Content: c.RenderDefaults(), Owner: "root", Group: "root", Mode: 0o644}}
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
	if c.Kind == KindNginx {
		return "nginx_up 1"
	}
	return "node_exporter_build_info"
}
