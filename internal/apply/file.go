// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Names the engine gives to the files it keeps next to a managed path. They
// live in the same directory as the path, so every rename between them is
// atomic.
const (
	// SuffixNew is a complete, checksummed candidate waiting to be committed.
	SuffixNew = ".foobar-new"
	// SuffixBackup is the file that was live before the current commit. Its
	// presence after an apply means that apply did not finish.
	SuffixBackup = ".foobar-bak"
	// SuffixBackupNone marks that nothing existed at the path before the
	// current commit.
	SuffixBackupNone = ".foobar-bak-none"
	// SuffixOrig is the file that was there before the engine first took the
	// path over (Change.KeepOriginal).
	SuffixOrig = ".foobar-orig"
	// SuffixOrigNone marks that nothing existed before the first takeover.
	SuffixOrigNone = ".foobar-orig-none"
)

// reserved marks every name the engine itself creates next to a managed path
// (the suffixes above and the ".<name>.foobar-tmp.<pid>" upload temporaries).
const reserved = ".foobar-"

// Default ownership and permissions of a File.
const (
	DefaultOwner = "root"
	DefaultGroup = "root"
	DefaultMode  = fs.FileMode(0o644)
)

// File is one managed file: its absolute path on the host and the exact
// bytes, ownership and permissions it must have. A symlink found at Path is
// replaced by a regular file (the symlink itself is what gets backed up and
// restored); a directory found there is an error.
type File struct {
	Path    string
	Content []byte
	// Owner and Group are user and group names (or numeric ids); they
	// default to root.
	Owner, Group string
	// Mode holds permission bits and optionally fs.ModeSetuid,
	// fs.ModeSetgid and fs.ModeSticky; it defaults to 0644.
	Mode fs.FileMode
}

func (f File) withDefaults() File {
	if f.Owner == "" {
		f.Owner = DefaultOwner
	}
	if f.Group == "" {
		f.Group = DefaultGroup
	}
	if f.Mode == 0 {
		f.Mode = DefaultMode
	}
	return f
}

// Checksum returns the lowercase hex SHA-256 of b. It is the project's one
// checksum: the engine compares it with what sha256sum prints on the host,
// and resources store it in state to detect drift.
func Checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChecksumReader is Checksum of everything r yields (a local file, streamed
// rather than read into memory), with the number of bytes read.
func ChecksumReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ValidatePath reports whether p may be managed by the engine: absolute,
// clean (no "." or ".." components, no repeated or trailing slash), not "/",
// free of NUL and newline, and not one of the engine's own working names.
func ValidatePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("path is empty")
	case strings.ContainsAny(p, "\x00\n"):
		return fmt.Errorf("path %q contains a NUL or newline character", p)
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is not absolute", p)
	case p == "/":
		return fmt.Errorf("path %q is the root directory", p)
	}
	for _, c := range strings.Split(p[1:], "/") {
		if c == ".." {
			return fmt.Errorf("path %q contains a %q component", p, "..")
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("path %q is not clean (want %q)", p, path.Clean(p))
	}
	if strings.Contains(path.Base(p), reserved) {
		return fmt.Errorf("path %q uses the name %q reserved for the engine's own files", p, reserved)
	}
	return nil
}

// nameRE matches the user and group names (or numeric ids) the engine
// accepts: what useradd accepts by default, never starting with '-'.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

func validateOwner(kind, s string) error {
	if len(s) > 64 || !nameRE.MatchString(s) {
		return fmt.Errorf("invalid %s name %q", kind, s)
	}
	return nil
}

func validateMode(m fs.FileMode) error {
	if m&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		return fmt.Errorf("mode %v is not a plain file mode", m)
	}
	return nil
}

func (f File) validate() error {
	if err := ValidatePath(f.Path); err != nil {
		return err
	}
	if err := validateOwner("owner", f.Owner); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if err := validateOwner("group", f.Group); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if err := validateMode(f.Mode); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return nil
}

// octalMode renders m as the octal number chmod(1) and stat -c %a use.
func octalMode(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return strconv.FormatUint(uint64(n), 8)
}

// parseOctalMode is the inverse of octalMode.
func parseOctalMode(s string) (fs.FileMode, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	m := fs.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}
