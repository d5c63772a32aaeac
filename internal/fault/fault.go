// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package fault is the one error contract between the service packages
// (haproxy, nginx, mysql) and the provider:
//
//   - FieldError: a value the operator wrote is wrong. Path names the
//     attribute in Terraform terms, so the provider can point at it.
//   - StepError: a step of work on a host failed. It says what failed,
//     where, and in what state the host was left.
//
// The package imports no Terraform package; the provider turns both into
// diagnostics in one place (internal/provider/diagnostics.go).
package fault

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one problem with one attribute value.
//
// Path is written in Terraform terms: names joined by dots, list indices
// in brackets, map keys quoted in brackets:
//
//	backends[0].servers[1].port
//	app.environment["DB_DSN"]
//	users[0].privileges[2]
type FieldError struct {
	Path string
	// Value is the offending value (a string or a number), or nil when the
	// service package does not hold it. It is never shown when Secret is set.
	Value any
	Err   error
	// Secret hides the value (passwords, private keys).
	Secret bool
	// Single is true when the problem is with this one value alone, as the
	// attribute's own schema validator reports it; false for rules that
	// involve other values. The provider's whole-configuration check leaves
	// Single problems to the attribute validators, so none is reported twice.
	Single bool
}

// Error is "path = value is not valid: reason" (the same words as the
// schema validators), "path is not valid: reason (the value is sensitive
// and not shown)" for a secret, and "path: reason" when the value is not
// known.
func (e *FieldError) Error() string {
	switch {
	case e.Secret:
		return fmt.Sprintf("%s is not valid: %s (the value is sensitive and not shown)", e.Path, e.Err)
	case e.Value == nil:
		return fmt.Sprintf("%s: %s", e.Path, e.Err)
	default:
		return fmt.Sprintf("%s = %s is not valid: %s", e.Path, FormatValue(e.Value), e.Err)
	}
}

// Unwrap returns the reason.
func (e *FieldError) Unwrap() error { return e.Err }

// FormatValue shows a value as the error messages do: strings quoted,
// numbers as they are.
func FormatValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// Field returns a *FieldError, or nil when err is nil.
func Field(path string, value any, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Path: path, Value: value, Err: err}
}

// Fieldf returns a *FieldError with a formatted reason.
func Fieldf(path string, value any, format string, args ...any) error {
	return &FieldError{Path: path, Value: value, Err: fmt.Errorf(format, args...)}
}

// FieldErrors is every problem a validation found, in a stable order. It is
// returned as an error only when non-empty.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find any one FieldError.
func (es FieldErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Add appends the field errors in err (see Fields); nil adds nothing.
func (es *FieldErrors) Add(err error) {
	if err == nil {
		return
	}
	*es = append(*es, Fields(err)...)
}

// Err returns es as an error, or nil when it is empty.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Fields returns the field errors in err: err itself, or every one joined
// in it (FieldErrors, errors.Join). An error that holds none is returned as
// a FieldError without a path, so nothing is lost.
func Fields(err error) FieldErrors {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out FieldErrors
		for _, e := range j.Unwrap() {
			out = append(out, Fields(e)...)
		}
		return out
	}
	if errors.As(err, &fe) {
		return FieldErrors{fe}
	}
	return FieldErrors{{Err: err}}
}

// StepError is the failure of one step of work on a host (deploy, inspect,
// remove, converge). Its message says what happened on which host and in
// what state the host was left.
type StepError struct {
	// Step names the step in the service's own terms ("install nginx").
	Step string
	// Summary is the diagnostic's one-line summary ("Install HAProxy
	// Error"); the provider's generic one when empty.
	Summary string
	// Path, when set, is the attribute the failure is about (install when
	// the service is missing and may not be installed).
	Path string
	Err  error
	// Msg is the detail shown to the operator; Err's message when empty.
	Msg string
}

func (e *StepError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return e.Err.Error()
}

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }
