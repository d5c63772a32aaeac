// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"fmt"
	"slices"
	"strings"
)

// The hosts the provider changes. Every path it writes, every package name
// and every service unit is Debian's: nginx's sites-available and
// sites-enabled, /etc/haproxy, /etc/mysql/mariadb.conf.d and
// /etc/mysql/mysql.conf.d, apt-get. The acceptance suite runs on Debian 12
// (bookworm) and Debian 13 (trixie), and MySQL 9 on Debian sid. A
// distribution derived from Debian that says so (ID_LIKE=debian, as Ubuntu
// does) keeps that layout and is accepted; no test here runs on one. Any
// other system is refused before anything on it changes.

// SupportedFamily names what SupportedSystem accepts, for messages.
const SupportedFamily = "Debian and distributions derived from it (os-release ID=debian, or ID_LIKE naming debian); tested on Debian 12 and 13"

// UnsupportedSystemError means the host is not one the provider changes
// (SupportedSystem). Nothing on it was changed.
type UnsupportedSystemError struct {
	// System names the host's distribution: os-release PRETTY_NAME, else
	// ID; empty when the host has no os-release.
	System string
	// ID and IDLike are os-release's ID and ID_LIKE.
	ID, IDLike string
}

func (e *UnsupportedSystemError) Error() string {
	if e.System == "" && e.ID == "" {
		return fmt.Sprintf("the host has no %s (nor /usr/lib/os-release), so its system cannot be identified; the provider changes only %s", OSReleasePath, SupportedFamily)
	}
	sys := e.System
	if sys == "" {
		sys = e.ID
	}
	return fmt.Sprintf("the host runs %s (ID=%q, ID_LIKE=%q), which the provider does not support: "+
		"it changes only %s, whose file layout, packages and services it relies on", sys, e.ID, e.IDLike, SupportedFamily)
}

// SupportedSystem returns nil when osRelease (os-release(5) content, as
// Snapshot.OSRelease holds it) describes a host the provider changes, and
// an *UnsupportedSystemError otherwise.
func SupportedSystem(osRelease string) error {
	kv := ParseOSRelease(osRelease)
	id, like := kv["ID"], kv["ID_LIKE"]
	if id == "debian" || slices.Contains(strings.Fields(like), "debian") {
		return nil
	}
	return &UnsupportedSystemError{System: osName(osRelease), ID: id, IDLike: like}
}

// SupportedSystem is the package function applied to the host of s.
func (s Snapshot) SupportedSystem() error { return SupportedSystem(s.OSRelease) }
