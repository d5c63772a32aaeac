// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"fmt"
	"path"
	"strings"
)

// ManagedDirBases are the directories below which the provider accepts a
// directory to manage (document_root, app.working_dir and the directory of
// app.artifact_path): places that hold sites and add-on software by
// convention (FHS: /srv "data served by this system", /var/www Debian's web
// roots, /opt "add-on application packages") and, for a user's own site, a
// directory inside a home (/home/<user>/<dir>). Everything else belongs to
// the system or to another service: the provider runs as root there (it
// writes, gives the working directory to the application's user, and the
// sync removes what it put there), so a mistake or a hostile value would
// break the host.
var ManagedDirBases = []string{"/srv", "/var/www", "/opt", "/home"}

// reservedDirs are directories inside ManagedDirBases that are still not
// the application's own: the provider's parent of working directories
// (every application's directory lives in it).
var reservedDirs = map[string]string{
	"/opt/foobar": "the directory that holds every application's working directory",
}

// systemDirReasons says, by the first element of a refused path, whose it is.
var systemDirReasons = map[string]string{
	"etc":    "the system's configuration",
	"usr":    "installed software",
	"bin":    "installed programs",
	"sbin":   "installed programs",
	"lib":    "system libraries",
	"lib32":  "system libraries",
	"lib64":  "system libraries",
	"libx32": "system libraries",
	"boot":   "the kernel and the boot loader",
	"dev":    "device files",
	"proc":   "the kernel's process information",
	"sys":    "the kernel's device and driver information",
	"run":    "the services' runtime state",
	"root":   "the root account's home",
	"tmp":    "every user's temporary files",
	"mnt":    "mounted file systems",
	"media":  "mounted file systems",
	"var":    "the services' data, logs, spools and caches",
}

// ValidateManagedDir checks a directory the provider manages as root: a
// valid path (ValidatePath) strictly below one of ManagedDirBases (below
// /home, at least /home/<user>/<dir>), without a hidden element (.ssh,
// .gnupg, .config: a user's credentials and settings), and not one of the
// provider's own shared directories. The error says whose the directory is.
func ValidateManagedDir(p string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("path %q is the whole file system: it belongs to the system; use a directory below %s", p, allowedBases())
	}
	els := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for _, el := range els {
		if strings.HasPrefix(el, ".") {
			return fmt.Errorf("path %q has the hidden element %q: hidden directories hold a user's credentials and "+
				"settings (.ssh, .gnupg, .config), never a site or an application", p, el)
		}
	}
	if why, ok := reservedDirs[p]; ok {
		return fmt.Errorf("path %q is %s: give the application a directory of its own below it", p, why)
	}
	for _, base := range ManagedDirBases {
		if p == base {
			return fmt.Errorf("path %q is shared by every site and application: use a directory of its own below it, "+
				"for example %s/<name>", p, base)
		}
		if !strings.HasPrefix(p, base+"/") {
			continue
		}
		if base == "/home" && len(els) < 3 {
			return fmt.Errorf("path %q is a user's home directory: use a directory inside it, for example %s/www", p, p)
		}
		return nil
	}
	why := "is outside the directories the provider manages"
	if r, ok := systemDirReasons[els[0]]; ok {
		why = "belongs to the system (" + r + ")"
		if els[0] == "var" && len(els) > 1 {
			why = "belongs to the system or to another service (" + varReason(els[1]) + ")"
		}
	}
	return fmt.Errorf("path %q %s: the provider runs as root there and would change or remove the host's own files; "+
		"use a directory below %s (for example /srv/www/<name> or /opt/<name>)", p, why, allowedBases())
}

func varReason(el string) string {
	switch el {
	case "lib":
		return "services' data, such as databases"
	case "log":
		return "logs"
	case "spool", "mail":
		return "queued mail and jobs"
	case "cache":
		return "caches"
	case "backups":
		return "backups"
	}
	return "the services' data, logs, spools and caches"
}

func allowedBases() string {
	bs := make([]string, len(ManagedDirBases))
	for i, b := range ManagedDirBases {
		bs[i] = b + "/"
		if b == "/home" {
			bs[i] = "/home/<user>/"
		}
	}
	return strings.Join(bs[:len(bs)-1], ", ") + " or " + bs[len(bs)-1]
}

// ValidateArtifactPath checks where the artifact goes: a valid path whose
// directory is a managed directory (ValidateManagedDir), so that the
// artifact can never replace a system file.
func ValidateArtifactPath(p string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	if err := ValidateManagedDir(path.Dir(p)); err != nil {
		return fmt.Errorf("the artifact's directory: %w", err)
	}
	return nil
}

// CheckManagedDirs checks every directory of a deployment the provider
// manages as root (document_root, app.working_dir, the directory of
// app.artifact_path) against ValidateManagedDir, with the attribute paths.
func CheckManagedDirs(s Site, a App) error {
	var c collector
	c.add("document_root", ValidateManagedDir(s.DocumentRoot))
	c.add("app.working_dir", ValidateManagedDir(a.WorkingDir))
	c.add("app.artifact_path", ValidateArtifactPath(a.ArtifactPath))
	return c.err()
}
