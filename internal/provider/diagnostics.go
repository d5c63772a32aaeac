// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// This file is the one place that turns the service packages' errors
// (internal/fault) into diagnostics, for every resource:
//
//   - a *fault.FieldError becomes an error at its attribute;
//   - a *fault.StepError becomes an error with the step's own summary (or
//     the caller's), at its attribute when it names one;
//   - anything else becomes an error under the caller's summary.
//
// Every detail is redacted of the resource's secret values here, whatever
// produced it.

// errorContext says how one resource shows service errors. The zero value
// shows them as they are.
type errorContext struct {
	// secrets are redacted from every detail.
	secrets []string
	// host, when set, starts the detail of every error that is not about a
	// field ("On 10.0.0.21: ..."), for services whose messages do not name
	// the host themselves.
	host string
	// skip leaves out a field error that a schema validator already
	// reports (so no problem is shown twice).
	skip func(fe *fault.FieldError) bool
	// rename maps a service path to the attribute that holds the value
	// (a write-only twin, an attribute at another place in the schema).
	rename func(p string) string
	// value looks up the configured value at an attribute path, for field
	// errors whose service package does not carry it; secret says never to
	// show it.
	value func(p string) (v any, secret, ok bool)
}

// addError adds err to diags as described above; summary is used where the
// error has none of its own.
func (ec errorContext) addError(diags *diag.Diagnostics, summary string, err error) {
	if err == nil {
		return
	}
	var se *fault.StepError
	if errors.As(err, &se) {
		if se.Summary != "" {
			summary = se.Summary
		}
		if _, isField := errors.AsType[*fault.FieldError](se.Err); isField {
			ec.addFields(diags, summary, se.Err)
			return
		}
		if se.Path != "" {
			diags.AddAttributeError(attrPath(ec.renamed(se.Path)), summary, ec.detail(se))
			return
		}
		diags.AddError(summary, ec.detail(se))
		return
	}
	if _, isField := errors.AsType[*fault.FieldError](err); isField {
		ec.addFields(diags, summary, err)
		return
	}
	diags.AddError(summary, ec.detail(err))
}

func (ec errorContext) detail(err error) string {
	msg := err.Error()
	if ec.host != "" {
		msg = "On " + ec.host + ": " + msg
	}
	return redact(msg, ec.secrets)
}

// addFields adds every field error in err, each at its attribute.
func (ec errorContext) addFields(diags *diag.Diagnostics, summary string, err error) {
	for _, fe := range fault.Fields(err) {
		if fe.Path == "" {
			diags.AddError(summary, redact(fe.Error(), ec.secrets))
			continue
		}
		if ec.skip != nil && ec.skip(fe) {
			continue
		}
		shown := *fe
		shown.Path = ec.renamed(fe.Path)
		if ec.value != nil && shown.Value == nil {
			if v, secret, ok := ec.value(shown.Path); ok {
				shown.Value, shown.Secret = v, shown.Secret || secret
			}
		}
		diags.AddAttributeError(attrPath(shown.Path), summary, redact(shown.Error(), ec.secrets))
	}
}

func (ec errorContext) renamed(p string) string {
	if ec.rename == nil {
		return p
	}
	return ec.rename(p)
}

// addWarnings adds each warning under summary, redacted.
func (ec errorContext) addWarnings(diags *diag.Diagnostics, summary string, warnings []string) {
	for _, w := range warnings {
		diags.AddWarning(summary, redact(w, ec.secrets))
	}
}

// setAttributes are the attributes of set type: an index into one (as a
// service package writes it, users[0].privileges[2]) points at the set
// itself, since a set element has no index in Terraform.
var setAttributes = map[string]bool{"privileges": true}

// attrPath turns a service package's attribute path (fault.FieldError.Path:
// backends[0].servers[1].port, app.environment["K"],
// users[0].privileges[2]) into a framework path.
func attrPath(s string) path.Path {
	var p path.Path
	first := true
	last := ""
	for s != "" {
		switch {
		case strings.HasPrefix(s, "."):
			s = s[1:]
		case strings.HasPrefix(s, "[\""):
			quoted, err := strconv.QuotedPrefix(s[1:])
			if err != nil || !strings.HasPrefix(s[1+len(quoted):], "]") {
				return p
			}
			key, _ := strconv.Unquote(quoted)
			p = p.AtMapKey(key)
			s = s[1+len(quoted)+1:]
		case strings.HasPrefix(s, "["):
			end := strings.Index(s, "]")
			if end < 0 {
				return p
			}
			if n, err := strconv.Atoi(s[1:end]); err == nil && !setAttributes[last] {
				p = p.AtListIndex(n)
			}
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			name := s[:end]
			s = s[end:]
			if first {
				p = path.Root(name)
				first = false
			} else {
				p = p.AtName(name)
			}
			last = name
		}
	}
	return p
}

// redact removes secrets from a message that goes into a diagnostic (the
// service layer scrubs client errors already; this is the last line).
func redact(msg string, secrets []string) string { return remote.Redact(msg, secrets...) }

// keepTainted saves a failed Create's plan as the resource's state, each
// value the apply did not get to (unknown) saved as null: Terraform then
// keeps the resource, tainted, so that what the failed create left on the
// host is removed by the replacement on the next apply or by destroy,
// instead of being left untracked. what names what was left.
func keepTainted(plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics, resourceType, what string) {
	raw, err := tftypes.Transform(plan.Raw, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	if err != nil {
		diags.AddError("Save Partial State Error", fmt.Sprintf("The failed create left %s on the host, and saving it in the state failed: %s. "+
			"Remove it by hand.", what, err))
		return
	}
	state.Raw = raw
	diags.AddWarning("Partly Created "+resourceType+" Kept as Tainted",
		fmt.Sprintf("The create failed after it had put %s on the host. Terraform keeps the %s in its state, tainted: "+
			"the next apply replaces it (removing what is there first) and `terraform destroy` removes it.", what, resourceType))
}
