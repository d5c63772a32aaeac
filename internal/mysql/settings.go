// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Role is a member's place in the cluster.
type Role int

const (
	// RolePrimary takes writes.
	RolePrimary Role = iota + 1
	// RoleReplica replicates from the primary and is read-only.
	RoleReplica
)

func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "primary"
	case RoleReplica:
		return "replica"
	}
	return "unknown"
}

// Setting is one option of the managed fragment, with its canonical name.
type Setting struct {
	Name  string
	Value string
}

// Settings is what the managed server fragment says for one member.
type Settings struct {
	Role Role
	// ServerID must be set (see DeriveServerID).
	ServerID uint32
	// Port, when non-zero, is written as port.
	Port int
	// BindAddress is where the server listens: "" means 0.0.0.0 (Debian's
	// own files bind 127.0.0.1, which no replica could reach).
	BindAddress string
	// ReportHost is the member's address as replicas and tools should see
	// it (SHOW REPLICAS / SHOW SLAVE HOSTS).
	ReportHost string
	// ServerTLS writes ssl_cert and ssl_key (ServerCertFile, ServerKeyFile).
	ServerTLS bool
	// Extra are further settings, validated by ValidateSetting.
	Extra map[string]string
	// SemiSync, when set, turns on semi-synchronous replication.
	SemiSync *SemiSync
}

// FragmentHeader starts every managed fragment.
const FragmentHeader = "# Managed by terraform-provider-foobar; manual changes will be reverted."

// relayLogName is fixed: the default (<hostname>-relay-bin) breaks
// replication when a host is renamed.
const relayLogName = "relay-bin"

// ServerSettings returns the fragment's settings in the order they are
// written: owned settings first in a fixed order, then the extras sorted by
// name. Every member has binary logging, replica-update logging, relay log
// recovery and GTIDs on whatever its role, so that a switchover changes only
// dynamic settings (read_only, super_read_only) and needs no restart.
//
// skip_replica_start / skip_slave_start is not set: a replica that restarts
// resumes replication by itself (GTID auto-positioning and relay log
// recovery make that safe), which is what "a replica that was stopped
// catches up" needs. Operators who want otherwise may set it in Extra.
func (d Dialect) ServerSettings(s Settings) ([]Setting, error) {
	if s.Role != RolePrimary && s.Role != RoleReplica {
		return nil, fmt.Errorf("settings: unknown role %d", s.Role)
	}
	if err := ValidateServerID("server_id", int64(s.ServerID)); err != nil {
		return nil, err
	}
	bind := s.BindAddress
	if bind == "" {
		bind = "0.0.0.0"
	}
	if err := d.ValidateBindAddress("bind_address", bind); err != nil {
		return nil, err
	}
	if err := ValidateHostAddress("host", s.ReportHost); err != nil {
		return nil, err
	}

	out := []Setting{{"server_id", strconv.FormatUint(uint64(s.ServerID), 10)}}
	if s.Port != 0 {
		if err := ValidatePort("port", s.Port); err != nil {
			return nil, err
		}
		out = append(out, Setting{"port", strconv.Itoa(s.Port)})
	}
	out = append(out,
		Setting{"bind_address", bind},
		Setting{"report_host", s.ReportHost},
		Setting{"log_bin", d.defaultBinlog},
	)
	if d.binlogFormat {
		out = append(out, Setting{"binlog_format", "ROW"})
	}
	out = append(out,
		Setting{d.logReplicaUpd, "ON"},
		Setting{"relay_log", relayLogName},
		Setting{"relay_log_recovery", "ON"},
	)
	out = append(out, d.gtidSettings...)
	ro := "OFF"
	if s.Role == RoleReplica {
		ro = "ON"
	}
	for _, v := range d.ReadOnlyVars {
		out = append(out, Setting{v, ro})
	}
	if s.SemiSync != nil {
		if err := ValidateSemiSync("semi_sync.timeout", *s.SemiSync); err != nil {
			return nil, err
		}
		out = append(out, d.semiSyncSettings(*s.SemiSync)...)
	}
	if s.ServerTLS {
		out = append(out, Setting{"ssl_cert", ServerCertFile}, Setting{"ssl_key", ServerKeyFile})
	}
	owned := map[string]bool{}
	for _, st := range out {
		owned[strings.TrimPrefix(st.Name, "loose_")] = true
	}

	names := make([]string, 0, len(s.Extra))
	for n := range s.Extra {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[string]string{}
	var extra []Setting
	for _, n := range names {
		canon, err := ValidateSetting("settings", n, s.Extra[n])
		if err != nil {
			return nil, err
		}
		if owned[strings.TrimPrefix(canon, "loose_")] {
			return nil, fieldErr(fmt.Sprintf("settings[%q]", n), n, "is written by the resource (semi_sync, server_tls); remove it from settings")
		}
		if prev, dup := seen[canon]; dup {
			return nil, fieldErr(fmt.Sprintf("settings[%q]", n), n, "is the same setting as %q", prev)
		}
		seen[canon] = n
		if s.ServerTLS && (canon == "ssl_cert" || canon == "ssl_key") {
			return nil, fieldErr(fmt.Sprintf("settings[%q]", n), n, "is managed by server_tls while server_tls is set")
		}
		extra = append(extra, Setting{canon, s.Extra[n]})
	}
	slices.SortFunc(extra, func(a, b Setting) int { return strings.Compare(a.Name, b.Name) })
	return append(out, extra...), nil
}

// RenderSettings renders the managed fragment (for SettingsPath):
// deterministic bytes, so its sha256 detects drift.
func (d Dialect) RenderSettings(s Settings) ([]byte, error) {
	settings, err := d.ServerSettings(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(FragmentHeader + "\n")
	fmt.Fprintf(&b, "# %s server settings for a %s. Replication and role settings are owned by the provider.\n", d.Flavor, s.Role)
	fmt.Fprintf(&b, "[%s]\n", d.Section)
	nOwned := len(settings) - len(s.Extra)
	for i, st := range settings {
		if i == nOwned {
			b.WriteString("\n# settings\n")
		}
		if st.Value == "" {
			b.WriteString(st.Name + "\n")
		} else {
			fmt.Fprintf(&b, "%s = %s\n", st.Name, st.Value)
		}
	}
	return b.Bytes(), nil
}

// ValidateBindAddress accepts an IP address, "*", "::" or a host name; a
// comma-separated list where the server supports one (MariaDB 10.11, MySQL
// 8.0.13).
func (d Dialect) ValidateBindAddress(path, addr string) error {
	parts := []string{addr}
	if strings.Contains(addr, ",") {
		if !d.multiBind {
			return fieldErr(path, addr, "%s %s accepts a single address", d.Flavor, d.Version)
		}
		parts = strings.Split(addr, ",")
	}
	for _, p := range parts {
		if p == "*" {
			continue
		}
		if _, err := netip.ParseAddr(p); err == nil {
			continue
		}
		if validHostname(p) {
			continue
		}
		return fieldErr(path, addr, "must be an IP address, *, or a host name")
	}
	return nil
}

// DeriveServerID returns a stable server_id for a member from its host
// address (case-insensitive): FNV-1a, with 0 mapped to 1. Two members whose
// derived ids collide get a plan-time error asking for explicit server_id
// values (ValidateCluster); ids are never shifted to resolve a collision,
// since that would change an existing member's id when another is added.
func DeriveServerID(host string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(host)))
	id := h.Sum32()
	if id == 0 {
		id = 1
	}
	return id
}

// RestartNeeded returns the names of settings that differ between two
// renderings (added, removed or changed) and cannot be applied with
// SetGlobal. A removed dynamic setting also needs a restart: SET GLOBAL
// cannot restore what the other option files say.
func (d Dialect) RestartNeeded(old, cur []Setting) []string {
	om := map[string]string{}
	for _, s := range old {
		om[s.Name] = s.Value
	}
	nm := map[string]string{}
	for _, s := range cur {
		nm[s.Name] = s.Value
	}
	var out []string
	for n, v := range nm {
		if ov, ok := om[n]; (ok && ov == v) || d.IsDynamic(n) {
			continue
		}
		out = append(out, n)
	}
	for n := range om {
		if _, ok := nm[n]; !ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// ParseFragment reads back a fragment written by RenderSettings (the one on
// the host, to tell what an apply changes): "name = value" and bare "name"
// lines, comments and section headers skipped. It reads only what
// RenderSettings writes; anything else (a fragment edited by hand) is an
// error, which callers treat as "everything changed".
func ParseFragment(content []byte) ([]Setting, error) {
	var out []Setting
	for i, line := range strings.Split(string(content), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			continue
		}
		name, value, _ := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !settingRE.MatchString(name) {
			return nil, fmt.Errorf("fragment line %d: %q is not a setting", i+1, line)
		}
		out = append(out, Setting{Name: strings.ReplaceAll(name, "-", "_"), Value: value})
	}
	return out, nil
}
