// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"fmt"
	"regexp"
	"strings"
)

// Packages is nginx's Debian package (apply.InstallPackages installs it).
var Packages = []string{"nginx"}

// TestArgv is the argv that tests the host's whole nginx configuration.
func TestArgv() []string { return []string{"nginx", "-t"} }

// VersionArgv is the argv whose stderr ParseVersion reads.
func VersionArgv() []string { return []string{"nginx", "-v"} }

// FilterTestOutput reduces the output of `nginx -t` to what an operator
// needs: the [emerg], [alert] and [crit] lines. When there are none, it
// returns the other lines minus the "syntax is ok" / "test is successful" /
// "test failed" noise. The result is trimmed.
func FilterTestOutput(out string) string {
	var severe, rest []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.Contains(line, "[emerg]"), strings.Contains(line, "[alert]"), strings.Contains(line, "[crit]"):
			severe = append(severe, line)
		case strings.HasSuffix(line, "syntax is ok"),
			strings.HasSuffix(line, "test is successful"),
			strings.HasSuffix(line, "test failed"):
		default:
			rest = append(rest, line)
		}
	}
	if len(severe) > 0 {
		return strings.Join(severe, "\n")
	}
	return strings.Join(rest, "\n")
}

var versionRE = regexp.MustCompile(`nginx version: [A-Za-z]*/([0-9]+(?:\.[0-9]+)+)`)

// ParseVersion extracts the version from the stderr of `nginx -v`
// ("nginx version: nginx/1.22.1" -> "1.22.1").
func ParseVersion(stderr string) (string, error) {
	m := versionRE.FindStringSubmatch(stderr)
	if m == nil {
		return "", fmt.Errorf("no nginx version in %q", strings.TrimSpace(stderr))
	}
	return m[1], nil
}
