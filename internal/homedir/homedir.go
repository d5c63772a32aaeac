// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package homedir expands a leading ~ in the paths operators write: the one
// expansion the provider's validators and the SSH client share.
package homedir

import (
	"os"
	"strings"
)

// Expand replaces a leading "~" with the user's home directory, as the shell
// does: "~" is the home directory itself and "~/x" is x in it. Only that
// prefix changes; the rest of the path is kept as written (not cleaned).
//
// "~user/x" is returned as is: looking up other users' home directories
// needs the system's user database, and the provider has no use for it. Such
// a path then reads as a relative path whose first element is "~user", and
// whatever opens it reports it by that name.
//
// Every other path (absolute, relative, empty) is returned as is, and so is
// a "~" path when the home directory cannot be determined ($HOME unset).
func Expand(path string) string {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	if path == "~" {
		return home
	}
	// A home of "/" must not make "//x".
	return strings.TrimRight(home, "/") + path[1:]
}
