// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

// The paths every service package writes (fault.FieldError.Path) map to
// the framework's paths the same way for every resource.
func TestAttrPath(t *testing.T) {
	t.Parallel()
	cases := map[string]path.Path{
		// load balancer
		"maxconn":                          path.Root("maxconn"),
		"stats.password_wo":                path.Root("stats").AtName("password_wo"),
		"backends[1].servers[0].address":   path.Root("backends").AtListIndex(1).AtName("servers").AtListIndex(0).AtName("address"),
		"frontends[0].rules[2]":            path.Root("frontends").AtListIndex(0).AtName("rules").AtListIndex(2),
		"frontends[0].tls.certificate_pem": path.Root("frontends").AtListIndex(0).AtName("tls").AtName("certificate_pem"),
		// web server
		"static_locations[2].url_prefix": path.Root("static_locations").AtListIndex(2).AtName("url_prefix"),
		`app.environment["DB_DSN"]`:      path.Root("app").AtName("environment").AtMapKey("DB_DSN"),
		`response_headers["X-A.b"]`:      path.Root("response_headers").AtMapKey("X-A.b"),
		"security_headers.hsts.max_age":  path.Root("security_headers").AtName("hsts").AtName("max_age"),
		"app.command[0]":                 path.Root("app").AtName("command").AtListIndex(0),
		// cluster
		"replicas[1].ssh.host":        path.Root("replicas").AtListIndex(1).AtName("ssh").AtName("host"),
		`settings["max_connections"]`: path.Root("settings").AtMapKey("max_connections"),
		"users[0].privileges[2]":      path.Root("users").AtListIndex(0).AtName("privileges"),
		"primary.server_id":           path.Root("primary").AtName("server_id"),
		"replication_user":            path.Root("replication_user"),
		// a hostile map key is one key, quotes and brackets included
		`settings["a\"].b[1]"]`: path.Root("settings").AtMapKey(`a"].b[1]`),
	}
	for in, want := range cases {
		if got := attrPath(in); !got.Equal(want) {
			t.Errorf("attrPath(%q) = %s, want %s", in, got, want)
		}
	}
}

// Every resource's service errors become diagnostics the same way: a step
// error with its own summary and attribute, field errors at their
// attributes, anything else under the caller's summary; secrets redacted
// in all of them.
func TestAddError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom with hunter2")
	cases := []struct {
		name    string
		ec      errorContext
		err     error
		summary string
		path    path.Path
		detail  string
	}{
		{"step with summary and path", errorContext{}, &fault.StepError{Step: "install", Summary: "HAProxy Not Installed", Path: "install", Err: boom, Msg: "not there"},
			"HAProxy Not Installed", path.Root("install"), "not there"},
		{"step without summary", errorContext{}, &fault.StepError{Step: "apply", Err: boom}, "Apply Error", path.Path{}, "boom with hunter2"},
		{"plain", errorContext{}, boom, "Apply Error", path.Path{}, "boom with hunter2"},
		{"redacted", errorContext{secrets: []string{"hunter2"}}, boom, "Apply Error", path.Path{}, "boom with ***"},
		{"host named", errorContext{host: "10.0.0.21"}, &fault.StepError{Step: "site", Summary: "Apply Nginx Site Error", Err: boom},
			"Apply Nginx Site Error", path.Path{}, "On 10.0.0.21: boom with hunter2"},
		{"field with value", errorContext{}, fault.Fieldf(`settings["x"]`, "v", "bad"), "Apply Error", path.Root("settings").AtMapKey("x"), `settings["x"] = "v" is not valid: bad`},
		{"secret field", errorContext{}, &fault.FieldError{Path: "users[0].password", Value: "hunter2", Secret: true, Err: errors.New("too long")},
			"Apply Error", path.Root("users").AtListIndex(0).AtName("password"), "users[0].password is not valid: too long (the value is sensitive and not shown)"},
		{"renamed, value looked up", errorContext{rename: func(string) string { return "stats.password_wo" }, value: func(string) (any, bool, bool) { return "pw", true, true }},
			&fault.FieldError{Path: "stats.password", Err: errors.New("bad")}, "Apply Error", path.Root("stats").AtName("password_wo"),
			"stats.password_wo is not valid: bad (the value is sensitive and not shown)"},
		{"field inside a step", errorContext{}, &fault.StepError{Step: "render", Summary: "Invalid Configuration", Err: fault.FieldErrors{{Path: "maxconn", Value: int64(-1), Err: errors.New("out of range")}}},
			"Invalid Configuration", path.Root("maxconn"), "maxconn = -1 is not valid: out of range"},
	}
	for _, c := range cases {
		var diags diag.Diagnostics
		c.ec.addError(&diags, "Apply Error", c.err)
		if len(diags) != 1 {
			t.Fatalf("%s: %d diagnostics: %v", c.name, len(diags), diags)
		}
		d := diags[0]
		var got path.Path
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			got = wp.Path()
		}
		if d.Summary() != c.summary || !got.Equal(c.path) || d.Detail() != c.detail {
			t.Errorf("%s: %q at %q: %q, want %q at %q: %q", c.name, d.Summary(), got, d.Detail(), c.summary, c.path, c.detail)
		}
	}
	// A skipped field error is left out; the others stay.
	var diags diag.Diagnostics
	ec := errorContext{skip: func(fe *fault.FieldError) bool { return fe.Single }}
	ec.addError(&diags, "Invalid", fault.FieldErrors{{Path: "a", Err: boom, Single: true}, {Path: "b", Err: boom}})
	if len(diags) != 1 || !strings.HasPrefix(diags[0].Detail(), "b: ") {
		t.Errorf("skip: %v", diags)
	}
}
