// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// A member that cannot be reached fails the teardown (Terraform keeps the
// resource) unless ForgetUnreachable; either way the message names the
// host, the transport error and what stays on it.
func TestTeardownUnreachable(t *testing.T) {
	t.Parallel()
	refused := runnerFunc(func(context.Context, remote.Cmd) (remote.Result, error) {
		return remote.Result{}, errors.New("dial tcp 10.0.0.31:22: connect: connection refused")
	})
	env := Env{Runners: map[string]Runner{"db1": refused}} // db2: no connection at all
	c := Cluster{Primary: Member{Host: "db1"}, Replicas: []Member{{Host: "db2"}}}
	accounts := []Account{{User: "repl", Host: "%"}, {User: "app", Host: "10.%"}}
	left := []string{"replication", "repl@%", "app@10.%", "settings files", "NOT removed"}

	warnings, err := Teardown(context.Background(), env, c, TeardownOptions{Accounts: accounts})
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v, want an UnreachableError", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q next to the error", warnings)
	}
	for _, want := range append([]string{"db1", "connection refused", "db2", "no connection configured"}, left...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	warnings, err = Teardown(context.Background(), env, c, TeardownOptions{Accounts: accounts, ForgetUnreachable: true})
	if err != nil {
		t.Fatalf("with ForgetUnreachable: %v", err)
	}
	if len(warnings) != 2 {
		t.Fatalf("warnings %q, want one per member", warnings)
	}
	for i, h := range []string{"db1", "db2"} {
		for _, want := range append([]string{h, "forget_unreachable_members"}, left...) {
			if !strings.Contains(warnings[i], want) {
				t.Errorf("warning %q does not say %q", warnings[i], want)
			}
		}
	}
}

// An unreachable member's error tells both ways out, naming the host and
// what to do again.
func TestUnreachableWaysOut(t *testing.T) {
	t.Parallel()
	ue := &UnreachableError{Host: "db2", Err: errors.New("connection refused"), Left: "replication"}
	for _, err := range []error{ue, fmt.Errorf("detach: %w", ue)} {
		got, ok := errors.AsType[*UnreachableError](err)
		if !ok {
			t.Fatalf("%v: no UnreachableError", err)
		}
		if w := got.waysOut("destroy"); !strings.Contains(w, "bring db2 back") || !strings.Contains(w, "forget_unreachable_members = true") ||
			!strings.Contains(w, "then destroy again") {
			t.Errorf("ways out for %v: %q", err, w)
		}
	}
}
