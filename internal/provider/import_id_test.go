// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseImportMembers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		id   string
		want []importMember
		err  string
	}{
		{"10.0.0.11", []importMember{{Host: "10.0.0.11"}}, ""},
		{"ops@10.0.0.11", []importMember{{User: "ops", Host: "10.0.0.11"}}, ""},
		{"10.0.0.11:2222", []importMember{{Host: "10.0.0.11", Port: 2222}}, ""},
		{"ops@lb1.example.com:2222", []importMember{{User: "ops", Host: "lb1.example.com", Port: 2222}}, ""},
		{"ops@[2001:db8::1]:2200", []importMember{{User: "ops", Host: "2001:db8::1", Port: 2200}}, ""},
		{"2001:db8::1", []importMember{{Host: "2001:db8::1"}}, ""},
		{"10.0.0.31, ops@10.0.0.32", []importMember{{Host: "10.0.0.31"}, {User: "ops", Host: "10.0.0.32"}}, ""},
		{"", nil, "host"},
		{"a b", nil, "host"},
		{"10.0.0.11:99999", nil, "port"},
		{"bad user@10.0.0.11", nil, "user"},
		{"10.0.0.11;reboot", nil, "host"},
		{"10.0.0.31,", nil, "host"},
	}
	for _, c := range cases {
		got, err := parseImportMembers(c.id)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "[USER@]HOST[:PORT]") {
				t.Errorf("parseImportMembers(%q) error = %v, want one about the %s that shows the grammar", c.id, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseImportMembers(%q): %v", c.id, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("parseImportMembers(%q) (-want +got):\n%s", c.id, diff)
		}
		if len(got) == 1 && got[0].String() != strings.TrimSpace(c.id) {
			t.Errorf("%+v.String() = %q, want %q", got[0], got[0].String(), c.id)
		}
	}
}
