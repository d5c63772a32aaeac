// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// ValidateRelPath checks the path of a static file relative to the document
// root: what the apply engine requires of every file it syncs
// (apply.ValidateRelPath: slash-separated, not absolute, no empty, "." or
// ".." elements, not one of its own temporary names), and, because the name
// is shown to operators and served by nginx, valid UTF-8 without control
// characters (newline, CR, NUL, ...).
func ValidateRelPath(p string) error {
	if !utf8.ValidString(p) {
		return fmt.Errorf("relative path %q is not valid UTF-8", p)
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return fmt.Errorf("relative path %q contains a control character (%U)", p, r)
		}
	}
	return apply.ValidateRelPath(p)
}

// Diff compares the local and the remote static files (relative path ->
// sha256) and returns, sorted, the paths to send (missing remotely or with
// another checksum) and the paths to remove (present only remotely).
func Diff(local, remote map[string]string) (send, remove []string) {
	for p, sum := range local {
		if r, ok := remote[p]; !ok || r != sum {
			send = append(send, p)
		}
	}
	for p := range remote {
		if _, ok := local[p]; !ok {
			remove = append(remove, p)
		}
	}
	sort.Strings(send)
	sort.Strings(remove)
	return send, remove
}

// LocalFile is one static file found by WalkStatic.
type LocalFile struct {
	RelPath string // slash-separated, relative to the walked root
	AbsPath string // where to read the content (the link target for a symlink)
	Size    int64
	SHA256  string // lower-case hex
}

// Skipped is an entry WalkStatic did not take, with the reason.
type Skipped struct {
	RelPath string
	Reason  string
}

// WalkStatic reads the tree under root into relative path -> LocalFile.
// Regular files are taken. A symlink is followed only when it resolves to a
// regular file inside root; symlinks that point outside root, dangle, or
// point to a directory are skipped and reported, as are other special files
// (sockets, devices, fifos); skipped entries are sorted by path. A file whose relative path fails
// ValidateRelPath is an error: it could not be deployed faithfully.
func WalkStatic(root string) (map[string]LocalFile, []Skipped, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("static root %q: %w", root, err)
	}
	realRoot, err = filepath.Abs(realRoot)
	if err != nil {
		return nil, nil, err
	}
	files := map[string]LocalFile{}
	var skipped []Skipped
	err = filepath.WalkDir(realRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == realRoot {
			return nil
		}
		rel, err := filepath.Rel(realRoot, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return nil
		}
		if err := ValidateRelPath(rel); err != nil {
			return err
		}
		target := p
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			resolved, err := filepath.EvalSymlinks(p)
			if err != nil {
				skipped = append(skipped, Skipped{rel, "dangling symlink"})
				return nil //nolint:nilerr // a dangling symlink is reported in skipped, not an error
			}
			if !within(realRoot, resolved) {
				skipped = append(skipped, Skipped{rel, fmt.Sprintf("symlink points outside the static root (to %s)", resolved)})
				return nil
			}
			fi, err := os.Stat(resolved)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				skipped = append(skipped, Skipped{rel, "symlink to something other than a regular file"})
				return nil
			}
			target = resolved
		case !d.Type().IsRegular():
			skipped = append(skipped, Skipped{rel, "not a regular file"})
			return nil
		}
		sum, size, err := hashFile(target)
		if err != nil {
			return err
		}
		files[rel] = LocalFile{RelPath: rel, AbsPath: target, Size: size, SHA256: sum}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].RelPath < skipped[j].RelPath })
	return files, skipped, nil
}

// Hashes turns WalkStatic's result into the relative path -> sha256 map
// Diff takes.
func Hashes(files map[string]LocalFile) map[string]string {
	out := make(map[string]string, len(files))
	for p, f := range files {
		out[p] = f.SHA256
	}
	return out
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return apply.ChecksumReader(f)
}
