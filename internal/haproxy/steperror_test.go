// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package haproxy

import (
	"errors"
	"testing"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
)

// Each failure of Deploy and Remove has its summary and, where it is about
// one, its attribute.
func TestStepErrorSummary(t *testing.T) {
	t.Parallel()
	other := errors.New("boom")
	cases := []struct {
		name, step, path string
		err              error
		summary          string
	}{
		{"not installed", StepInstall, "install", ErrNotInstalled, "HAProxy Not Installed"},
		{"unsupported system", StepInstall, "install", &apply.UnsupportedSystemError{}, "Install HAProxy Error"},
		{"install failed", StepInstall, "", other, "Install HAProxy Error"},
		{"old version", StepCheck, "", other, "Unsupported HAProxy Version"},
		{"no exporter", StepCheck, "stats.prometheus", ErrNoPrometheusExporter, "Prometheus Exporter Not Available"},
		{"render", StepRender, "", other, "Invalid Load Balancer Configuration"},
		{"probe", StepInspect, "", other, ""},
		{"apply", StepApply, "", other, ""},
	}
	for _, c := range cases {
		se := stepError(c.step, c.path, c.err, "")
		if se.Summary != c.summary || se.Path != c.path || se.Step != c.step || se.Error() != c.err.Error() || !errors.Is(se, c.err) {
			t.Errorf("%s: %+v", c.name, se)
		}
	}
}
