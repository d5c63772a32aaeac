// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Binary is the HAProxy executable, found through PATH (/usr/sbin on Debian,
// which sudo's secure_path and root's PATH include).
const Binary = "haproxy"

// MinVersion is the oldest HAProxy the rendered configuration is written
// for (http-check send, retry-on, prometheus-exporter as a service). The
// tests check it against 2.6 and 3.0.
const MinVersion = "2.6"

// ValidateArgv is the command that checks a configuration file without
// touching the running service: haproxy -c -f PATH. It exits non-zero when
// the file is invalid; pass its combined output through FilterCheckOutput.
func ValidateArgv(cfgPath string) []string {
	return []string{Binary, "-c", "-f", cfgPath}
}

// VersionArgv prints the version (see ParseVersion).
func VersionArgv() []string { return []string{Binary, "-v"} }

// BuildInfoArgv prints the version and build options (see
// HasPrometheusExporter).
func BuildInfoArgv() []string { return []string{Binary, "-vv"} }

// checkNoise are lines of haproxy -c output that say nothing about the
// configuration.
var checkNoise = []string{
	"haproxy version is ",
	"path to executable is ",
}

// checkSummary are the closing lines HAProxy adds after the specific
// alerts; they are dropped when a specific alert is present.
var checkSummary = []string{
	"Error(s) found in configuration file",
	"Fatal errors found in configuration",
}

// logPrefix matches HAProxy's message prefix "[ALERT]    (1234) : ".
var logPrefix = regexp.MustCompile(`^\[(ALERT|WARNING|NOTICE)\]\s*(?:\(\d+\))?\s*:\s*`)

// FilterCheckOutput keeps what matters in the output of haproxy -c (stdout
// and stderr, in any order): ALERT and WARNING messages with their "|"
// continuation lines and NOTICEs other than the version banner, rewritten
// as "[ALERT] message" without the process id. The generic closing alerts
// ("Fatal errors found in configuration.") are kept only when nothing more
// specific was said, and "Configuration file is valid" / "Warnings were
// found." are dropped. The result has one message per line, no trailing
// newline, and is empty for a clean check.
func FilterCheckOutput(out string) string {
	type msg struct {
		level, text string
		cont        []string
	}
	var msgs []*msg
	var cur *msg
	for _, raw := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		line := strings.TrimRight(raw, " \t\r")
		if m := logPrefix.FindStringSubmatch(line); m != nil {
			cur = &msg{level: m[1], text: line[len(m[0]):]}
			msgs = append(msgs, cur)
			continue
		}
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "|") && cur != nil {
			cur.cont = append(cur.cont, "  "+t)
			continue
		}
		cur = nil
	}
	specific := false
	for _, m := range msgs {
		if m.level == "ALERT" && !containsAny(m.text, checkSummary) {
			specific = true
		}
	}
	var kept []string
	for _, m := range msgs {
		if m.level == "NOTICE" && containsAny(m.text, checkNoise) {
			continue
		}
		if specific && m.level == "ALERT" && containsAny(m.text, checkSummary) {
			continue
		}
		kept = append(kept, "["+m.level+"] "+m.text)
		kept = append(kept, m.cont...)
	}
	return strings.Join(kept, "\n")
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// versionLine matches "HAProxy version 2.6.12-1+deb12u3 2025/..." and the
// older "HA-Proxy version 1.8.19 2019/02/11".
var versionLine = regexp.MustCompile(`(?m)^HA-?Proxy version (\d+\.\d+[0-9A-Za-z.+~:_-]*)`)

// ParseVersion returns the version string from the output of haproxy -v,
// for example "2.6.12-1+deb12u3".
func ParseVersion(out string) (string, error) {
	m := versionLine.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no HAProxy version in %q", truncate(out, 200))
	}
	return m[1], nil
}

// upstreamPart is the release number at the start of a version: 3.0.11,
// or a development snapshot's 3.1-dev5.
var upstreamPart = regexp.MustCompile(`^\d+\.\d+(?:\.\d+)*(?:-dev\d+)?`)

// UpstreamVersion is the upstream release of a version that ParseVersion
// returned, without what a distribution or a build appends to it:
// "2.6.12-1+deb12u3" -> "2.6.12", "3.0.11-1+deb13u4" -> "3.0.11",
// "3.1-dev5-abcdef" -> "3.1-dev5". A version that starts with no release
// number is returned as it is.
func UpstreamVersion(version string) string {
	if m := upstreamPart.FindString(version); m != "" {
		return m
	}
	return version
}

// MajorMinor returns the first two numbers of an HAProxy version such as
// "2.6.12-1+deb12u3".
func MajorMinor(version string) (major, minor int, err error) {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("%q is not an HAProxy version", version)
	}
	major, err1 := strconv.Atoi(parts[0])
	minorDigits := parts[1]
	if i := strings.IndexFunc(minorDigits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorDigits = minorDigits[:i]
	}
	minor, err2 := strconv.Atoi(minorDigits)
	if err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return 0, 0, fmt.Errorf("%q is not an HAProxy version", version)
	}
	return major, minor, nil
}

// VersionAtLeast reports whether version is major.minor or newer.
func VersionAtLeast(version string, major, minor int) (bool, error) {
	ma, mi, err := MajorMinor(version)
	if err != nil {
		return false, err
	}
	return ma > major || ma == major && mi >= minor, nil
}

// CheckVersion returns an error when version is older than MinVersion.
func CheckVersion(version string) error {
	minMajor, minMinor, _ := MajorMinor(MinVersion)
	ok, err := VersionAtLeast(version, minMajor, minMinor)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("HAProxy %s is too old: the load balancer needs %s or newer", version, MinVersion)
	}
	return nil
}

// ErrNoPrometheusExporter is returned by CheckPrometheusExporter when the
// host's HAProxy was built without the exporter.
var ErrNoPrometheusExporter = errors.New("this HAProxy was built without the Prometheus exporter (USE_PROMEX); set stats.prometheus = false or install a build that has it " +
	"(Debian's haproxy package does)")

// HasPrometheusExporter reports whether the output of haproxy -vv lists
// the prometheus-exporter service.
func HasPrometheusExporter(buildInfo string) bool {
	for _, line := range strings.Split(buildInfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "Available services" {
			for _, s := range strings.Fields(v) {
				if s == "prometheus-exporter" {
					return true
				}
			}
		}
	}
	return false
}

// CheckPrometheusExporter returns ErrNoPrometheusExporter when c asks for
// the exporter and buildInfo (haproxy -vv) shows the host cannot serve it.
func (c Config) CheckPrometheusExporter(buildInfo string) error {
	if c.Stats != nil && c.Stats.Prometheus && !HasPrometheusExporter(buildInfo) {
		return ErrNoPrometheusExporter
	}
	return nil
}

// Info is what "show info" on the admin socket reports about the serving
// worker.
type Info struct {
	Version   string
	PID       int
	UptimeSec int64
	Nbthread  int
	// Fields holds every "Name: value" line, including the ones above.
	Fields map[string]string
}

// ParseInfo parses the output of "show info" on the admin socket.
func ParseInfo(out string) (Info, error) {
	info := Info{Fields: map[string]string{}}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		info.Fields[k] = strings.TrimSpace(v)
	}
	var err error
	info.Version = info.Fields["Version"]
	if info.Version == "" {
		return Info{}, fmt.Errorf("no Version in show info output %q", truncate(out, 200))
	}
	if info.PID, err = strconv.Atoi(info.Fields["Pid"]); err != nil || info.PID <= 0 {
		return Info{}, fmt.Errorf("no valid Pid in show info output (got %q)", info.Fields["Pid"])
	}
	if info.UptimeSec, err = strconv.ParseInt(info.Fields["Uptime_sec"], 10, 64); err != nil || info.UptimeSec < 0 {
		return Info{}, fmt.Errorf("no valid Uptime_sec in show info output (got %q)", info.Fields["Uptime_sec"])
	}
	if s := info.Fields["Nbthread"]; s != "" {
		if info.Nbthread, err = strconv.Atoi(s); err != nil {
			return Info{}, fmt.Errorf("invalid Nbthread %q in show info output", s)
		}
	}
	return info, nil
}

// Reloaded reports whether after describes a different worker than before:
// a reload starts a new worker process, so its Pid changes. (systemctl's
// exit status alone does not prove it.)
func Reloaded(before, after Info) bool {
	return after.PID != before.PID
}

// ServerStatus is one server's line of "show stat".
type ServerStatus struct {
	Backend string
	Server  string
	// Status is HAProxy's status, such as "UP", "DOWN", "MAINT", "NOLB",
	// "UP 1/3" (going down) or "no check".
	Status string
	// CheckStatus is the last check's result, such as "L7OK" or "L4CON".
	CheckStatus string
}

// Up reports whether the server takes traffic.
func (s ServerStatus) Up() bool {
	return s.Status == "UP" || strings.HasPrefix(s.Status, "UP ") || s.Status == "no check"
}

// ParseStat parses the CSV output of "show stat" on the admin socket and
// returns the servers (not the FRONTEND/BACKEND summary rows), in output
// order. Columns are found by name from the "# pxname,svname,..." header;
// quoted fields (HAProxy quotes values that contain commas) are handled.
func ParseStat(out string) ([]ServerStatus, error) {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if !strings.HasPrefix(out, "# ") {
		return nil, fmt.Errorf("show stat output does not start with a \"# pxname,...\" header: %q", truncate(out, 200))
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("show stat header: %w", err)
	}
	cols := map[string]int{}
	for i, name := range header {
		if _, dup := cols[name]; !dup && name != "" {
			cols[name] = i
		}
	}
	want := []string{"pxname", "svname", "status", "check_status"}
	idx := make([]int, len(want))
	for i, name := range want {
		c, ok := cols[name]
		if !ok {
			return nil, fmt.Errorf("show stat header has no %q column", name)
		}
		idx[i] = c
	}
	var servers []ServerStatus
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("show stat: %w", err)
		}
		var vals [4]string
		for i, c := range idx {
			if c >= len(rec) {
				line, _ := r.FieldPos(0)
				return nil, fmt.Errorf("show stat line %d has %d fields, want more than %d", line+1, len(rec), c)
			}
			vals[i] = rec[c]
		}
		if vals[1] == "FRONTEND" || vals[1] == "BACKEND" {
			continue
		}
		servers = append(servers, ServerStatus{Backend: vals[0], Server: vals[1], Status: vals[2], CheckStatus: vals[3]})
	}
	return servers, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
