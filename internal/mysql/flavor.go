// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Flavor is the server family: the two speak different replication SQL.
type Flavor int

const (
	// FlavorUnknown is the zero value: not detected yet.
	FlavorUnknown Flavor = iota
	// MariaDB is MariaDB Server (Debian package mariadb-server).
	MariaDB
	// MySQL is Oracle MySQL Server (Debian package mysql-server).
	MySQL
)

func (f Flavor) String() string {
	switch f {
	case MariaDB:
		return "MariaDB"
	case MySQL:
		return "MySQL"
	}
	return "unknown"
}

// Version is a server version, major.minor.patch.
type Version struct {
	Major, Minor, Patch int
}

// V is a short constructor for Version literals.
func V(major, minor, patch int) Version { return Version{major, minor, patch} }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare returns -1, 0 or +1.
func (v Version) Compare(o Version) int {
	for _, d := range [...]int{v.Major - o.Major, v.Minor - o.Minor, v.Patch - o.Patch} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	return 0
}

// AtLeast reports whether v >= major.minor.patch.
func (v Version) AtLeast(major, minor, patch int) bool { return v.Compare(V(major, minor, patch)) >= 0 }

// Server is what a host says about itself in answer to ServerQuery.
type Server struct {
	Flavor  Flavor
	Version Version
	// VersionString and Comment are VERSION() and @@version_comment as
	// reported, for error messages.
	VersionString string
	Comment       string
}

func (s Server) String() string {
	return fmt.Sprintf("%s %s (%q, %q)", s.Flavor, s.Version, s.VersionString, s.Comment)
}

// ServerQuery identifies a server. Both flavors answer it; run it with
// ProbeClientArgv before the flavor is known and parse with ParseServer.
const ServerQuery = "SELECT VERSION() AS version, @@GLOBAL.version_comment AS version_comment"

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)`)

// IdentifyServer derives flavor and version from VERSION() and
// @@version_comment, for example "10.11.18-MariaDB-0+deb12u1" / "Debian 12",
// "9.7.0" / "MySQL Community Server - GPL", "8.0.36-0ubuntu0.22.04.1" /
// "(Ubuntu)". Anything that does not say MariaDB is taken for MySQL (Percona
// Server and distribution builds speak MySQL's SQL).
func IdentifyServer(version, comment string) (Server, error) {
	s := Server{VersionString: version, Comment: comment}
	v := strings.TrimSpace(version)
	if strings.Contains(strings.ToLower(v), "mariadb") || strings.Contains(strings.ToLower(comment), "mariadb") {
		s.Flavor = MariaDB
		// MariaDB before 11.0 prefixes "5.5.5-" in the protocol handshake;
		// VERSION() does not, but strip it when it shows up anyway.
		v = strings.TrimPrefix(v, "5.5.5-")
	} else {
		s.Flavor = MySQL
	}
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return Server{}, fmt.Errorf("cannot parse server version %q (comment %q)", version, comment)
	}
	nums := [3]int{}
	for i := range nums {
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > 1000 {
			return Server{}, fmt.Errorf("cannot parse server version %q (comment %q)", version, comment)
		}
		nums[i] = n
	}
	s.Version = V(nums[0], nums[1], nums[2])
	return s, nil
}

// ParseServer parses the client's batch output of ServerQuery.
func ParseServer(out []byte) (Server, error) {
	t, err := ParseBatch(out)
	if err != nil {
		return Server{}, fmt.Errorf("server identification: %w", err)
	}
	if len(t.Rows) != 1 {
		return Server{}, fmt.Errorf("server identification: expected 1 row, got %d", len(t.Rows))
	}
	version, ok := t.Get(0, "version")
	if !ok {
		return Server{}, fmt.Errorf("server identification: no column %q in %q", "version", t.Columns)
	}
	comment, _ := t.Get(0, "version_comment")
	return IdentifyServer(version, comment)
}

var daemonVersionRE = regexp.MustCompile(`\bVer\s+(\S+)`)

// DaemonVersionArgv asks the installed server binary for its version without
// a running server: `mariadbd --version` or `mysqld --version`, whichever
// exists (MariaDB ships both names; mariadbd is tried first).
func DaemonVersionArgv() []string {
	return []string{"sh", "-c", "if command -v mariadbd >/dev/null 2>&1; then exec mariadbd --version; else exec mysqld --version; fi"}
}

// ParseDaemonVersion parses the output of DaemonVersionArgv, for example
// "/usr/sbin/mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu on
// x86_64 (Debian 12)" or "/usr/sbin/mysqld  Ver 9.7.4-2 for Linux on x86_64
// ((Debian))", into the flavor and full version string.
func ParseDaemonVersion(out string) (Flavor, string, error) {
	m := daemonVersionRE.FindStringSubmatch(out)
	if m == nil {
		return FlavorUnknown, "", fmt.Errorf("cannot find a version in %q", strings.TrimSpace(out))
	}
	s, err := IdentifyServer(m[1], out)
	if err != nil {
		return FlavorUnknown, "", err
	}
	return s.Flavor, m[1], nil
}

// KnownServer is the server a caller saw before, from the flavor and
// version it kept (Flavor.String and Version.String, as a state stores
// them); false when they do not name one.
func KnownServer(flavor, version string) (Server, bool) {
	var f Flavor
	switch strings.ToLower(flavor) {
	case "mariadb":
		f = MariaDB
	case "mysql":
		f = MySQL
	default:
		return Server{}, false
	}
	m := versionRE.FindStringSubmatch(version)
	if m == nil || len(m[0]) != len(version) {
		return Server{}, false
	}
	var nums [3]int
	for i := range nums {
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > 1000 {
			return Server{}, false
		}
		nums[i] = n
	}
	return Server{Flavor: f, Version: V(nums[0], nums[1], nums[2]), VersionString: version}, true
}
