// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"context"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

func TestSecretsIn(t *testing.T) {
	t.Parallel()
	s := Secrets{"password": "pw-1234", "key": "KEYLINE"}
	if err := s.In("the log", "nothing here"); err != nil {
		t.Errorf("clean text: %v", err)
	}
	err := s.In("the log", "a KEYLINE then pw-1234 here")
	if err == nil {
		t.Fatal("two secrets not found")
	}
	msg := err.Error()
	for _, want := range []string{"the password is in the log", "the key is in the log", "...a *** then "} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "pw-1234") || strings.Contains(msg, "KEYLINE") {
		t.Errorf("the error quotes a secret: %s", msg)
	}
}

func TestExpectDrift(t *testing.T) {
	t.Parallel()
	plan := func(before map[string]any) *tfjson.Plan {
		return &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{{Address: "x.a", Change: &tfjson.Change{Before: before}}}}
	}
	check := func(c plancheck.PlanCheck, p *tfjson.Plan) error {
		var resp plancheck.CheckPlanResponse
		c.CheckPlan(context.Background(), plancheck.CheckPlanRequest{Plan: p}, &resp)
		return resp.Error
	}
	drift := []any{"the site file differs", "SQL thread is not running"}
	tests := []struct {
		name   string
		check  plancheck.PlanCheck
		before map[string]any
		ok     bool
	}{
		{"all mentioned", ExpectDrift("x.a", "site file", "SQL thread"), map[string]any{"drift": drift}, true},
		{"converged false", ExpectDrift("x.a", "SQL thread"), map[string]any{"drift": drift, "converged": false}, true},
		{"converged true", ExpectDrift("x.a", "SQL thread"), map[string]any{"drift": drift, "converged": true}, false},
		{"not mentioned", ExpectDrift("x.a", "artifact"), map[string]any{"drift": drift}, false},
		{"no drift", ExpectDrift("x.a", "artifact"), map[string]any{}, false},
		{"other resource", ExpectDrift("x.b"), map[string]any{"drift": drift}, false},
	}
	for _, tt := range tests {
		if err := check(tt.check, plan(tt.before)); (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok %t", tt.name, err, tt.ok)
		}
	}
}
