// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package remote

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"auth failed for pw1 and pw2", []string{"", "pw1", "pw2"}, "auth failed for *** and ***"},
		{"near 's3cret-pass SET x' at line 1", []string{"s3cret-password"}, "near '*** SET x' at line 1"},
		{"twice: hunter22 hunter22", []string{"hunter22"}, "twice: *** ***"},
		{"short abc is shown only whole: abcd", []string{"abc"}, "short *** is shown only whole: ***d"},
		{"nothing here", []string{"secret"}, "nothing here"},
		{"prefix below the minimum stays: s3cre", []string{"s3cret-password"}, "prefix below the minimum stays: s3cre"},
		// Two secrets with a common start: neither leaves its rest in view.
		{"near 'default-passphrase' and 'default-sudo'", []string{"default-sudo-pw", "default-passphrase"}, "near '***' and '***'"},
		{"near 'default-sudo' and 'default-passphrase'", []string{"default-passphrase", "default-sudo-pw"}, "near '***' and '***'"},
	}
	for _, c := range cases {
		if got := Redact(c.in, c.secrets...); got != c.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", c.in, c.secrets, got, c.want)
		}
	}
}
