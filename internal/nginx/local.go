// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package nginx

import (
	"fmt"
	"os"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// The local files of a deployment (the artifact, the static tree) are read
// twice: at plan time for their checksums, and at apply time for their
// content, which must still be what the plan saw.

// ChangedError says a local file or tree is no longer what the plan saw:
// Got is its checksum now, Planned the one the plan was made with.
type ChangedError struct{ Got, Planned string }

func (e *ChangedError) Error() string {
	return fmt.Sprintf("checksum %s, but the plan was made with %s: run plan again", e.Got, e.Planned)
}

// UnreadableError is a file of a static tree that was listed but could not
// be read.
type UnreadableError struct{ Err error }

func (e *UnreadableError) Error() string { return e.Err.Error() }
func (e *UnreadableError) Unwrap() error { return e.Err }

// ArtifactChecksum is the sha256 of the local artifact file p.
func ArtifactChecksum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum, _, err := apply.ChecksumReader(f)
	return sum, err
}

// ReadArtifact reads the local artifact file p and checks it is the one the
// plan saw (planned, its sha256; "" when the plan did not know it). A file
// that changed is a *ChangedError; a read error is returned as is.
func ReadArtifact(p, planned string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if sum := apply.Checksum(b); planned != "" && sum != planned {
		return nil, &ChangedError{Got: sum, Planned: planned}
	}
	return b, nil
}

// StaticDigest is the ManifestDigest of the static tree under dir, and
// the entries WalkStatic skipped.
func StaticDigest(dir string) (string, []Skipped, error) {
	files, skipped, err := WalkStatic(dir)
	if err != nil {
		return "", nil, err
	}
	return ManifestDigest(Hashes(files)), skipped, nil
}

// ReadStatic reads the static tree under dir (relative path -> content)
// and checks it is the one the plan saw (planned, its ManifestDigest; ""
// when the plan did not know it). A tree that changed is a *ChangedError,
// a listed file that cannot be read an *UnreadableError; an error listing
// the tree is returned as WalkStatic gives it.
func ReadStatic(dir, planned string) (map[string][]byte, error) {
	files, _, err := WalkStatic(dir)
	if err != nil {
		return nil, err
	}
	if dg := ManifestDigest(Hashes(files)); planned != "" && dg != planned {
		return nil, &ChangedError{Got: dg, Planned: planned}
	}
	out := make(map[string][]byte, len(files))
	for rel, f := range files {
		b, err := os.ReadFile(f.AbsPath)
		if err != nil {
			return nil, &UnreadableError{Err: err}
		}
		out[rel] = b
	}
	return out, nil
}
