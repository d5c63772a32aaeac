// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"whole", `near "s3cret pass'word": syntax error`, []string{"s3cret pass'word"}, `near "***": syntax error`},
		{"cut short", `near 's3cret pa' at line 1`, []string{"s3cret pass'word"}, `near '***' at line 1`},
		{"twice", "pw=hunter22 again hunter22", []string{"hunter22"}, "pw=*** again ***"},
		{"short secret", "a abc b", []string{"abc"}, "a *** b"},
		{"several", "x=passphrase1 y=sudopw123", []string{"sudopw123", "passphrase1"}, "x=*** y=***"},
		{"none", "plain message", []string{"secret1", ""}, "plain message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, redact(tc.in, tc.secrets)); diff != "" {
				t.Errorf("redact (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigSecrets(t *testing.T) {
	t.Parallel()
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
	cfg := Config{SudoPassword: "sudo-pw", PrivateKeyPassphrase: "pass-phrase", PrivateKey: key,
		Bastion: &Config{SudoPassword: "bastion-sudo", PrivateKeyPassphrase: "bastion-pass"}}
	want := []string{"sudo-pw", "pass-phrase", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "bastion-sudo", "bastion-pass"}
	if diff := cmp.Diff(want, cfg.Secrets()); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}
