// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package homedir expands a leading ~ in the paths operators write: the one
// expansion the provider's validators and the SSH client share.
package homedir

import (
	"os"
	"runtime"
	"strings"
)

// Expand replaces a leading "~" with the user's home directory, as the shell
// does: "~" is the home directory itself and "~/x" is x in it. On Windows
// "~\x" is x in it too, and the home directory is %USERPROFILE% (what
// os.UserHomeDir returns there). Only that prefix changes; the rest of the
// path is kept as written (not cleaned; Windows accepts "/" and "\" alike).
//
// "~user/x" is returned as is: looking up other users' home directories
// needs the system's user database, and the provider has no use for it. Such
// a path then reads as a relative path whose first element is "~user", and
// whatever opens it reports it by that name.
//
// Every other path (absolute, relative, empty) is returned as is, and so is
// a "~" path when the home directory cannot be determined ($HOME unset, or
// %USERPROFILE% on Windows).
func Expand(path string) string {
	if !hasTildePrefix(path, runtime.GOOS) {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return ExpandWith(path, home, runtime.GOOS)
}

// ExpandWith is Expand for a given home directory and operating system
// (GOOS), so that the Windows rules are tested on any machine. An empty home
// leaves the path unchanged.
func ExpandWith(path, home, goos string) string {
	if home == "" || !hasTildePrefix(path, goos) {
		return path
	}
	if path == "~" {
		return home
	}
	// A home of "/" (or "C:\") must not make "//x" ("C:\\x").
	return strings.TrimRight(home, separators(goos)) + path[1:]
}

// hasTildePrefix reports whether path is "~" or starts with "~" and a path
// separator of goos: "/" everywhere, "\" too on Windows. On other systems
// "~\x" is a file name like any other.
func hasTildePrefix(path, goos string) bool {
	if path == "~" {
		return true
	}
	return len(path) >= 2 && path[0] == '~' && strings.ContainsRune(separators(goos), rune(path[1]))
}

func separators(goos string) string {
	if goos == "windows" {
		return `/\`
	}
	return "/"
}
