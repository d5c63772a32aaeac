// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package fault

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFieldErrorMessage(t *testing.T) {
	t.Parallel()
	bad := errors.New("bad")
	cases := []struct {
		fe   FieldError
		want string
	}{
		{FieldError{Path: "a.b", Value: "x y", Err: bad}, `a.b = "x y" is not valid: bad`},
		{FieldError{Path: "port", Value: int64(70000), Err: bad}, `port = 70000 is not valid: bad`},
		{FieldError{Path: "pw", Value: "hunter2", Secret: true, Err: bad}, `pw is not valid: bad (the value is sensitive and not shown)`},
		{FieldError{Path: "frontends", Err: bad}, `frontends: bad`},
	}
	for _, c := range cases {
		if got := c.fe.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.fe, got, c.want)
		}
	}
}

// Fields finds every field error however the service package joined them,
// and keeps an error that is no field error (without a path).
func TestFields(t *testing.T) {
	t.Parallel()
	a, b := &FieldError{Path: "a", Err: errors.New("x")}, &FieldError{Path: "b", Err: errors.New("y")}
	plain := errors.New("plain")
	got := Fields(errors.Join(FieldErrors{a}, fmt.Errorf("wrapped: %w", b), plain))
	var paths []string
	for _, fe := range got {
		paths = append(paths, fe.Path+"|"+fe.Err.Error())
	}
	if diff := cmp.Diff([]string{"a|x", "b|y", "|plain"}, paths); diff != "" {
		t.Errorf("Fields (-want +got):\n%s", diff)
	}
	var es FieldErrors
	es.Add(nil)
	if es.Err() != nil {
		t.Errorf("empty FieldErrors is an error")
	}
	es.Add(Field("c", 1, errors.New("z")))
	if es.Err() == nil || es.Error() != "c = 1 is not valid: z" {
		t.Errorf("Add: %v", es)
	}
}
