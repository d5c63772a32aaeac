// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Notes Inspect appends to the view of a haproxy.cfg that differs from
// what Deploy wrote only in a redacted secret, or whose TLS bundle was
// changed: the caller's plan then shows an update.
const (
	DriftSecretNote = "# foobar: a redacted secret (stats password) in this file was changed on the host\n"
	DriftBundleNote = "# foobar: a TLS certificate file this configuration uses was changed or removed on the host: "
)

// InspectRequest says what Inspect compares the host with.
type InspectRequest struct {
	// Host names the host in messages.
	Host string
	// Shown is the view of haproxy.cfg the caller holds (its last
	// Result.View or Observed.View; empty on import). The TLS bundles it
	// names are checked, and a file whose view equals it but whose bytes
	// changed (a redacted secret was edited) gets DriftSecretNote.
	Shown []byte
	// Extra is probed in the same round trip (the files in its Paths and
	// Content, its Commands after Inspect's own), for another service on
	// the same host such as keepalived. Its other fields are ignored.
	Extra apply.ProbeRequest
}

// Observed is a load balancer as Inspect found it.
type Observed struct {
	// Version is HAProxy's version; "" when it is not installed or did not
	// say (then VersionErr says why).
	Version    string
	VersionErr error
	// Exists is false when haproxy.cfg is missing or not a regular file.
	Exists bool
	// View is haproxy.cfg with its secrets redacted, plus DriftSecretNote
	// and DriftBundleNote when they apply; empty when it does not exist.
	View []byte
	// Record is set when the record on the host matches haproxy.cfg byte
	// for byte: the host runs what Deploy wrote (from this state or
	// another).
	Record *Record
	// Extra is what the probe found for InspectRequest.Extra: every file
	// probed, and the outputs of Extra's commands in order.
	Extra apply.Snapshot
}

// Inspect reads the load balancer on the host behind r in one round trip:
// haproxy.cfg, the Record, the TLS bundles req.Shown names and HAProxy's
// version. Errors are *fault.StepError (StepInspect).
func Inspect(ctx context.Context, r remote.Runner, req InspectRequest) (Observed, error) {
	var o Observed
	snap, err := apply.Probe(ctx, r, apply.ProbeRequest{
		Content:  append([]string{ConfigPath, RecordPath}, req.Extra.Content...),
		Paths:    append(ReferencedFiles(req.Shown), req.Extra.Paths...),
		Commands: append([][]string{VersionArgv()}, req.Extra.Commands...),
	})
	if err != nil {
		return o, stepError(StepInspect, "", err, fmt.Sprintf("Could not read the load balancer on %s: %s", req.Host, err))
	}
	o.Extra = apply.Snapshot{Init: snap.Init, Files: snap.Files, Services: snap.Services, Commands: snap.Commands[1:]}
	v := snap.Commands[0]
	o.Version, err = ParseVersionOutput(v.ExitStatus, string(v.Stdout), string(v.Stderr))
	if err != nil && !errors.Is(err, ErrNotInstalled) {
		o.VersionErr = err
	}
	cfg := snap.Files[ConfigPath]
	if cfg.ContentTooLarge {
		return o, stepError(StepInspect, "", fmt.Errorf("%s on %s is larger than %d bytes; this provider does not manage such a file", ConfigPath, req.Host, apply.DefaultMaxContent), "")
	}
	if !cfg.Exists || cfg.Kind != apply.KindFile {
		return o, nil
	}
	o.Exists = true
	live := cfg.Content
	view := Redact(live)
	rec, recErr := DecodeRecord(snap.Files[RecordPath].Content)
	switch {
	case recErr == nil && rec.ConfigSHA256 == apply.Checksum(live):
		o.Record = rec
	case recErr == nil && HasSecrets(live) && string(view) == string(req.Shown):
		// Same redacted view, different bytes: a secret was edited.
		view = append(view, DriftSecretNote...)
	}
	var broken []string
	for _, b := range ReferencedFiles(live) {
		fi, probed := snap.Files[b]
		if probed && (!fi.Exists || !BundleIntact(b, fi.SHA256)) {
			broken = append(broken, b)
		}
	}
	if len(broken) > 0 {
		view = append(view, DriftBundleNote+strings.Join(broken, " ")+"\n"...)
	}
	o.View = view
	return o, nil
}
