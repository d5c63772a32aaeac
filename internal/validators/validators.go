// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package validators holds the schema validators that
// terraform-plugin-framework-validators does not provide. Each has a
// constructor, an interface check, and returns early on null or unknown
// values; the error names the attribute (through the diagnostic path) and the
// offending value (except for secrets).
package validators

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/foobar/terraform-provider-foobar/internal/homedir"
)

// StringFunc adapts a plain check (the kind service packages export, such as
// haproxy.ValidateName) into a schema validator. The check's error is shown
// with the attribute path and, unless secret is true, the value.
func StringFunc(description string, check func(string) error) validator.String {
	return stringFunc{description: description, check: check}
}

// SecretStringFunc is StringFunc for sensitive values: the value is never
// printed.
func SecretStringFunc(description string, check func(string) error) validator.String {
	return stringFunc{description: description, check: check, secret: true}
}

// BulkyStringFunc is StringFunc for long values such as PEM text: the
// value is not printed whole; the check's error says what is wrong with it
// (quoting a short excerpt where that helps), so that a private key pasted
// by mistake is never echoed.
func BulkyStringFunc(description string, check func(string) error) validator.String {
	return stringFunc{description: description, check: check, bulky: true}
}

type stringFunc struct {
	description string
	check       func(string) error
	secret      bool
	bulky       bool
}

var _ validator.String = stringFunc{}

func (v stringFunc) Description(context.Context) string         { return v.description }
func (v stringFunc) MarkdownDescription(context.Context) string { return v.description }

func (v stringFunc) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		if v.secret {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value",
				fmt.Sprintf("%s is not valid: %s (the value is sensitive and not shown)", req.Path, err))
			return
		}
		if v.bulky {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value", fmt.Sprintf("%s is not valid: %s", req.Path, err))
			return
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value",
			fmt.Sprintf("%s = %q is not valid: %s", req.Path, req.ConfigValue.ValueString(), err))
	}
}

// Int64Func is StringFunc for numbers: the check's error is shown with the
// attribute path and the value.
func Int64Func(description string, check func(int64) error) validator.Int64 {
	return int64Func{description: description, check: check}
}

type int64Func struct {
	description string
	check       func(int64) error
}

var _ validator.Int64 = int64Func{}

func (v int64Func) Description(context.Context) string         { return v.description }
func (v int64Func) MarkdownDescription(context.Context) string { return v.description }

func (v int64Func) ValidateInt64(_ context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueInt64()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value",
			fmt.Sprintf("%s = %d is not valid: %s", req.Path, req.ConfigValue.ValueInt64(), err))
	}
}

// Duration accepts a Go duration string ("500ms", "15s", "2m") between min
// and max inclusive.
func Duration(lo, hi time.Duration) validator.String {
	return StringFunc(fmt.Sprintf("a duration such as \"15s\" between %s and %s", lo, hi), func(s string) error {
		return CheckDuration(s, lo, hi)
	})
}

// CheckDuration is Duration's check, for values that come from environment
// variables rather than the schema.
func CheckDuration(s string, lo, hi time.Duration) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration (use a number with a unit: \"500ms\", \"15s\", \"2m\")")
	}
	if d < lo || d > hi {
		return fmt.Errorf("must be between %s and %s", lo, hi)
	}
	return nil
}

// ReadableFile accepts a path to a regular file this process can read. It
// checks at plan time so that a typo in a key or known_hosts path is
// reported before anything is changed.
func ReadableFile() validator.String {
	return StringFunc("a path to a readable regular file", CheckReadableFile)
}

// CheckReadableFile is ReadableFile's check.
func CheckReadableFile(path string) error {
	fi, err := os.Stat(ExpandHome(path))
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("no such file")
		}
		return fmt.Errorf("cannot read it: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	f, err := os.Open(ExpandHome(path))
	if err != nil {
		return fmt.Errorf("cannot read it: %w", err)
	}
	return f.Close()
}

// ExpandHome replaces a leading "~" with the user's home directory (see
// homedir.Expand, which the SSH client uses too).
func ExpandHome(path string) string {
	return homedir.Expand(path)
}
