// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"strings"
	"testing"
	"time"
)

func TestDrainSite(t *testing.T) {
	t.Parallel()
	s := plainSite()
	s.DrainHealthPath = "/healthz?full=1"
	b, err := s.Render(Options{})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	for _, want := range []string{
		"log_format foobar_drain_shop '$remote_addr $status';\n",
		"    location = /healthz {\n        if (-f /run/foobar-drain/shop) {\n            access_log /var/log/nginx/foobar-shop.drain.log foobar_drain_shop;\n            return 503;\n        }\n        proxy_pass http://",
		"    location = /.foobar-drain-status {\n        stub_status ;\n        allow 127.0.0.1;\n        deny all;\n    }\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("the drained site lacks\n%s\n in:\n%s", want, conf)
		}
	}
	plain, err := plainSite().Render(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), "drain") {
		t.Errorf("a site without drain mentions it:\n%s", plain)
	}
	s.DrainHealthPath = "healthz"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "app.health_check_path") {
		t.Errorf("Validate of a bad drain path: %v", err)
	}
}

func TestDrainWaits(t *testing.T) {
	t.Parallel()
	d := Drain{Interval: 2 * time.Second, Fall: 3, Rise: 2, InFlightTimeout: 30 * time.Second}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.OutWait() != 8*time.Second || d.InWait() != 6*time.Second {
		t.Errorf("OutWait %s InWait %s, want 8s and 6s", d.OutWait(), d.InWait())
	}
	bad := Drain{Interval: time.Millisecond, Fall: 0, Rise: 101, InFlightTimeout: -1}
	err := bad.Validate()
	for _, want := range []string{"drain.health_check_interval", "drain.fall", "drain.rise", "drain.in_flight_timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want it to name %s", bad, err, want)
		}
	}
}

func TestDrainReachesTheSite(t *testing.T) {
	t.Parallel()
	s := plainSite()
	if got := siteBase(s); got != "http://127.0.0.1:80" {
		t.Errorf("siteBase(plain) = %q", got)
	}
	s.TLS = &TLS{Port: 8443, RedirectHTTP: true}
	if got := siteBase(s); got != "https://127.0.0.1:8443" {
		t.Errorf("siteBase(redirecting) = %q", got)
	}
	argv := drainRestartArgv(Drain{Interval: time.Second, Fall: 2, Rise: 1, InFlightTimeout: 5 * time.Second}, s, Layout{}, []string{"systemctl", "restart", "--", "foobar-shop"})
	got := strings.Join(argv[len(argv)-12:], " ")
	if want := "/run/foobar-drain/shop 3.000 5.000 https://127.0.0.1:8443/.foobar-drain-status www.foobar.com /var/log/nginx/foobar-shop.drain.log 2 11.000 systemctl restart -- foobar-shop"; got != want {
		t.Errorf("drain argv ends with\n%s\nwant\n%s", got, want)
	}
}
