// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArgv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"validate", ValidateArgv("/etc/haproxy/haproxy.cfg.new"), []string{"haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg.new"}},
		// A hostile path stays one argument.
		{"validate odd path", ValidateArgv("/tmp/a b;rm -rf /"), []string{"haproxy", "-c", "-f", "/tmp/a b;rm -rf /"}},
		{"version", VersionArgv(), []string{"haproxy", "-v"}},
		{"build info", BuildInfoArgv(), []string{"haproxy", "-vv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		out     string
		want    string
		wantErr bool
	}{
		{"debian 2.6 (real output)", readTestdata(t, "haproxy-2.6-v.txt"), "2.6.12-1+deb12u4", false},
		{"debian 3.0 (real output)", readTestdata(t, "haproxy-3.0-v.txt"), "3.0.11-1+deb13u4", false},
		{"brief example", "HAProxy version 2.6.12-1+deb12u3 2025/01/01 - https://haproxy.org/\n", "2.6.12-1+deb12u3", false},
		{"old spelling", "HA-Proxy version 1.8.19-1+deb10u3 2020/08/01\nCopyright 2000-2019 Willy Tarreau\n", "1.8.19-1+deb10u3", false},
		{"dev build", "HAProxy version 3.1-dev5-abcdef 2024/08/01\n", "3.1-dev5-abcdef", false},
		{"empty", "", "", true},
		{"not haproxy", "nginx version: nginx/1.22.1\n", "", true},
		{"no number", "HAProxy version unknown\n", "", true},
		{"sh error", "sh: 1: haproxy: not found\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseVersion(tt.out)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseVersion() = %q, %v; want %q, error %t", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestUpstreamVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2.6.12-1+deb12u4": "2.6.12",
		"3.0.11-1+deb13u4": "3.0.11",
		"3.0.11":           "3.0.11",
		"2.8.5-1ubuntu3":   "2.8.5",
		"3.1-dev5-abcdef":  "3.1-dev5",
		"1.8.19-1+deb10u3": "1.8.19",
		"unknown":          "unknown",
	} {
		if got := UpstreamVersion(in); got != want {
			t.Errorf("UpstreamVersion(%q) = %q, want %q", in, got, want)
		}
	}
	// Real output of Debian 12's and 13's haproxy -v.
	for file, want := range map[string]string{"haproxy-2.6-v.txt": "2.6.12", "haproxy-3.0-v.txt": "3.0.11"} {
		v, err := ParseVersion(readTestdata(t, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := UpstreamVersion(v); got != want {
			t.Errorf("%s: UpstreamVersion(%q) = %q, want %q", file, v, got, want)
		}
	}
}

func TestVersionComparison(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version          string
		major, minor     int
		atLeast26        bool
		wantErr          bool
		checkVersionFail bool
	}{
		{"2.6.12-1+deb12u4", 2, 6, true, false, false},
		{"3.0.11-1+deb13u4", 3, 0, true, false, false},
		{"2.10.1", 2, 10, true, false, false},
		{"3.1-dev5-abcdef", 3, 1, true, false, false},
		{"2.4.22", 2, 4, false, false, true},
		{"1.8.19", 1, 8, false, false, true},
		{"2", 0, 0, false, true, true},
		{"x.y", 0, 0, false, true, true},
		{"", 0, 0, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			ma, mi, err := MajorMinor(tt.version)
			if (err != nil) != tt.wantErr || ma != tt.major || mi != tt.minor {
				t.Errorf("MajorMinor = %d, %d, %v; want %d, %d, error %t", ma, mi, err, tt.major, tt.minor, tt.wantErr)
			}
			ok, err := VersionAtLeast(tt.version, 2, 6)
			if ok != tt.atLeast26 || (err != nil) != tt.wantErr {
				t.Errorf("VersionAtLeast(2.6) = %t, %v; want %t", ok, err, tt.atLeast26)
			}
			if err := CheckVersion(tt.version); (err != nil) != tt.checkVersionFail {
				t.Errorf("CheckVersion = %v, want failure %t", err, tt.checkVersionFail)
			}
		})
	}
}

func TestFilterCheckOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		out  string
		want string
	}{
		{"valid 2.6", "Configuration file is valid\n", ""},
		{"valid 3.0 (silent)", "", ""},
		{
			"alert (real 2.6 output)", readTestdata(t, "check-2.6-alert.txt"),
			"[ALERT] config : parsing [bad.cfg:2] : unknown keyword 'foo' in 'global' section",
		},
		{
			"warnings with continuation lines (real 3.0 output)", readTestdata(t, "check-3.0-warning.txt"),
			"[WARNING] config : missing timeouts for frontend 'x'.\n" +
				"  | While not properly invalid, you will certainly encounter various problems\n" +
				"  | with such a configuration. To fix this, please ensure that all following\n" +
				"  | timeouts are set to a non-zero value: 'client', 'connect', 'server'.\n" +
				"[WARNING] config : missing timeouts for backend 'y'.\n" +
				"  | While not properly invalid, you will certainly encounter various problems\n" +
				"  | with such a configuration. To fix this, please ensure that all following\n" +
				"  | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
		},
		{
			"only the generic alert is kept when alone",
			"[NOTICE]   (1) : haproxy version is 2.6.12\n[ALERT]    (1) : config : Fatal errors found in configuration.\n",
			"[ALERT] config : Fatal errors found in configuration.",
		},
		{
			"other notices are kept, CRLF tolerated",
			"[NOTICE]   (7) : config : something deprecated\r\n[ALERT]    (7) : config : parsing [x:1] : bad\r\n",
			"[NOTICE] config : something deprecated\n[ALERT] config : parsing [x:1] : bad",
		},
		{
			"stray text and orphan continuation dropped",
			"   | orphan\nsome noise\n[WARNING]  (9) : w\n",
			"[WARNING] w",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, FilterCheckOutput(tt.out)); diff != "" {
				t.Errorf("FilterCheckOutput (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFilterCheckOutputRealBinary runs haproxy -c on a broken rendered
// config and checks that the filtered output names the problem.
func TestFilterCheckOutputRealBinary(t *testing.T) {
	t.Parallel()
	bins := haproxyBinaries(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	out, err := seedConfig().Render()
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(out), "\tdefault_backend web\n", "\tdefault_backend nowhere\n", 1)
	writeFile(t, cfg, broken)
	for _, bin := range bins {
		argv := ValidateArgv(cfg)
		res, err := exec.Command(bin, argv[1:]...).CombinedOutput()
		if err == nil {
			t.Fatalf("%s -c accepted a config with an unknown backend", bin)
		}
		got := FilterCheckOutput(string(res))
		if !strings.Contains(got, "[ALERT]") || !strings.Contains(got, "nowhere") {
			t.Errorf("%s: filtered output does not name the problem:\n%s\n(raw:\n%s)", bin, got, res)
		}
		if strings.Contains(got, "haproxy version is") || strings.Contains(got, "path to executable") {
			t.Errorf("%s: banner not filtered:\n%s", bin, got)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHasPrometheusExporter(t *testing.T) {
	t.Parallel()
	vv26 := readTestdata(t, "haproxy-2.6-vv.txt")
	without := strings.ReplaceAll(strings.ReplaceAll(vv26, "Available services : prometheus-exporter", "Available services : none"),
		"Built with the Prometheus exporter as a service", "")
	tests := []struct {
		name string
		vv   string
		want bool
	}{
		{"debian 2.6", vv26, true},
		{"debian 3.0", readTestdata(t, "haproxy-3.0-vv.txt"), true},
		{"built without", without, false},
		{"empty", "", false},
		{"similar name", "Available services : prometheus-exporter-ng\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := HasPrometheusExporter(tt.vv); got != tt.want {
				t.Errorf("HasPrometheusExporter = %t, want %t", got, tt.want)
			}
			c := fullConfig(t)
			err := c.CheckPrometheusExporter(tt.vv)
			if (err == nil) != tt.want {
				t.Errorf("CheckPrometheusExporter = %v, want error %t", err, !tt.want)
			}
			c.Stats.Prometheus = false
			if err := c.CheckPrometheusExporter(tt.vv); err != nil {
				t.Errorf("CheckPrometheusExporter without prometheus = %v", err)
			}
		})
	}
}

func TestParseInfo(t *testing.T) {
	t.Parallel()
	got, err := ParseInfo(readTestdata(t, "show-info.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "2.6.12-1+deb12u4" || got.PID != 19451 || got.UptimeSec != 1 || got.Nbthread != 2 {
		t.Errorf("ParseInfo = %+v", got)
	}
	if got.Fields["Ulimit-n"] != "19999" || got.Fields["Uptime"] != "0d 0h00m01s" {
		t.Errorf("Fields: Ulimit-n=%q Uptime=%q", got.Fields["Ulimit-n"], got.Fields["Uptime"])
	}
	bad := []string{
		"",
		"Unknown command. Please enter one of the following commands only :\n",
		"Name: HAProxy\nVersion: 2.6.12\nPid: x\nUptime_sec: 1\n",
		"Name: HAProxy\nVersion: 2.6.12\nPid: 12\n",
		"Name: HAProxy\nPid: 12\nUptime_sec: 1\n",
		"Version: 2.6\nPid: 12\nUptime_sec: 1\nNbthread: two\n",
	}
	for _, b := range bad {
		if info, err := ParseInfo(b); err == nil {
			t.Errorf("ParseInfo(%q) = %+v, want an error", b, info)
		}
	}
	before := Info{PID: 100, UptimeSec: 500}
	if Reloaded(before, before) {
		t.Errorf("Reloaded(same worker) = true")
	}
	if !Reloaded(before, Info{PID: 101, UptimeSec: 0}) {
		t.Errorf("Reloaded(new worker) = false")
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	got, err := ParseStat(readTestdata(t, "show-stat.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []ServerStatus{{Backend: "stat", Server: "a", Status: "DOWN", CheckStatus: "L4CON"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseStat (-want +got):\n%s", diff)
	}
	if got[0].Up() {
		t.Errorf("DOWN server reported up")
	}

	quoted := "# pxname,svname,status,check_status,check_desc,\n" +
		"web,FRONTEND,OPEN,,,\n" +
		"web,web1,UP,L7OK,\"Layer7 check passed, really\",\n" +
		"web,web2,UP 1/3,L7STS,\"wrong status, 503\",\n" +
		"web,web3,MAINT,,,\n" +
		"web,web4,no check,,,\n" +
		"web,BACKEND,UP,,,\n"
	got, err = ParseStat(quoted)
	if err != nil {
		t.Fatal(err)
	}
	want = []ServerStatus{
		{Backend: "web", Server: "web1", Status: "UP", CheckStatus: "L7OK"},
		{Backend: "web", Server: "web2", Status: "UP 1/3", CheckStatus: "L7STS"},
		{Backend: "web", Server: "web3", Status: "MAINT"},
		{Backend: "web", Server: "web4", Status: "no check"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseStat quoted (-want +got):\n%s", diff)
	}
	var up []bool
	for _, s := range got {
		up = append(up, s.Up())
	}
	if diff := cmp.Diff([]bool{true, true, false, true}, up); diff != "" {
		t.Errorf("Up (-want +got):\n%s", diff)
	}

	for _, bad := range []string{
		"",
		"pxname,svname\n",
		"# pxname,svname,status\nweb,a,UP\n",
		"# pxname,svname,status,check_status\nweb,a\n",
		"# pxname,svname,status,check_status\nweb,a,\"UP,L4OK\n",
	} {
		if s, err := ParseStat(bad); err == nil {
			t.Errorf("ParseStat(%q) = %+v, want an error", bad, s)
		}
	}
}

// FuzzParsers makes sure the host-output parsers never panic on whatever a
// host prints.
func FuzzParsers(f *testing.F) {
	for _, name := range []string{"haproxy-2.6-v.txt", "haproxy-3.0-vv.txt", "show-info.txt", "show-stat.csv", "check-3.0-warning.txt"} {
		f.Add(readTestdata(f, name))
	}
	f.Add("# pxname,svname,status,check_status\n\"")
	f.Fuzz(func(t *testing.T, out string) {
		if v, err := ParseVersion(out); err == nil {
			if _, _, err := MajorMinor(v); err != nil {
				t.Errorf("ParseVersion returned %q that MajorMinor rejects: %v", v, err)
			}
		}
		if filtered := FilterCheckOutput(out); filtered != "" {
			for _, line := range strings.Split(filtered, "\n") {
				if !strings.HasPrefix(line, "[") && !strings.HasPrefix(line, "  |") {
					t.Errorf("FilterCheckOutput kept a line that is not a message: %q", line)
				}
			}
		}
		if HasPrometheusExporter(out) && !strings.Contains(out, "prometheus-exporter") {
			t.Errorf("HasPrometheusExporter true without the service name")
		}
		if info, err := ParseInfo(out); err == nil && (info.PID <= 0 || info.Version == "") {
			t.Errorf("ParseInfo accepted %+v", info)
		}
		if servers, err := ParseStat(out); err == nil {
			for _, s := range servers {
				if s.Server == "FRONTEND" || s.Server == "BACKEND" {
					t.Errorf("ParseStat returned a summary row: %+v", s)
				}
			}
		}
	})
}
