// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

// Checks the resources' acceptance tests share: secrets that must appear
// nowhere (Secrets) and the drift a plan starts from (ExpectDrift).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Secrets names the secret values a test hands the provider (name: value),
// to prove none appears where it must not: in a text (command output, a
// log, a file: In), in Terraform's JSON plan or state (Secrets is a
// plancheck.PlanCheck and a statecheck.StateCheck), or in a resource's
// state attributes (StateAttributes, for Check). An error names each
// secret found and the text before it, never the secret itself.
type Secrets map[string]string

// In returns an error naming every secret in text; where says what the
// text is ("the apply output").
func (s Secrets) In(where, text string) error {
	names := make([]string, 0, len(s))
	for name := range s {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		i := strings.Index(text, s[name])
		if s[name] == "" || i < 0 {
			continue
		}
		before := text[max(0, i-300):i]
		for _, v := range s {
			if v != "" {
				before = strings.ReplaceAll(before, v, "***")
			}
		}
		errs = append(errs, fmt.Errorf("the %s is in %s (%d bytes searched), after: ...%s", name, where, len(text), before))
	}
	return errors.Join(errs...)
}

// inJSON searches v's JSON encoding, which (unlike the human-readable plan)
// holds sensitive values in clear.
func (s Secrets) inJSON(where string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.In(where, string(b))
}

// CheckPlan searches the whole JSON plan.
func (s Secrets) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = s.inJSON("the JSON plan", req.Plan)
}

// CheckState searches the whole JSON state.
func (s Secrets) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = s.inJSON("the JSON state", req.State)
}

// StateAttributes searches every state attribute of the resource at addr.
func (s Secrets) StateAttributes(addr string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok || rs.Primary == nil {
			return fmt.Errorf("%s is not in the state", addr)
		}
		var errs []error
		for k, v := range rs.Primary.Attributes {
			errs = append(errs, s.In("state attribute "+k+" of "+addr, v))
		}
		return errors.Join(errs...)
	}
}

// ExpectDrift checks the refreshed state a plan starts from for the
// resource at addr: its drift entries mention each of want, and, for a
// resource with a converged attribute, converged is false.
func ExpectDrift(addr string, want ...string) plancheck.PlanCheck {
	return expectDrift{addr: addr, want: want}
}

type expectDrift struct {
	addr string
	want []string
}

func (e expectDrift) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != e.addr {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		if c, ok := before["converged"]; ok && c != false {
			resp.Error = fmt.Errorf("%s: prior state converged = %v, want false", e.addr, c)
			return
		}
		drift, _ := before["drift"].([]any)
		var got []string
		for _, d := range drift {
			got = append(got, fmt.Sprint(d))
		}
		all := strings.Join(got, "\n")
		for _, w := range e.want {
			if !strings.Contains(all, w) {
				resp.Error = fmt.Errorf("%s: prior state drift %q does not mention %q", e.addr, got, w)
				return
			}
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", e.addr)
}
