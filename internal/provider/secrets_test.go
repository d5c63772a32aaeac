// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// TestMaskSecrets logs secrets through a masked context: none may reach
// the output, in a message, a field value, or a field named like a secret;
// the rest of the entry stays readable.
func TestMaskSecrets(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = maskSecrets(ctx, []string{"", "s3cret-pw", "-----BEGIN KEY-----"})
	tflog.Info(ctx, "connecting with s3cret-pw as deploy", map[string]any{
		"host": "web1", "note": "the key is -----BEGIN KEY-----", "password": "not-listed", "private_key_pem_wo": "pem",
	})
	logged := out.String()
	for _, secret := range []string{"s3cret-pw", "BEGIN KEY", "not-listed", `"pem"`} {
		if strings.Contains(logged, secret) {
			t.Errorf("%q reached the log: %s", secret, logged)
		}
	}
	for _, kept := range []string{"connecting with", "as deploy", "web1"} {
		if !strings.Contains(logged, kept) {
			t.Errorf("%q is missing from the log (an empty secret must not mask everything): %s", kept, logged)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	if got, want := redact("auth failed for pw1 and pw2", []string{"", "pw1", "pw2"}), "auth failed for *** and ***"; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}

// TestConnSecrets: the connection secrets, from a resource's ssh block or
// from the provider's defaults, are redacted from every error a resource
// shows.
func TestConnSecrets(t *testing.T) {
	t.Parallel()
	d := &providerData{defaults: sshDefaults{User: "deploy", KnownHostsFile: "/dev/null", SudoPassword: "default-sudo-pw",
		PrivateKeyPassphrase: "default-passphrase"}}
	own := hostConnection("10.0.0.5")
	own.SudoPassword = types.StringValue("own-sudo-pw")
	cases := []struct {
		name  string
		conns []connectionModel
		want  string
	}{
		{"defaults", []connectionModel{hostConnection("10.0.0.4")},
			"ERROR 1064: near '***' (own-sudo-pw) ***"},
		// The default sudo password is not in use here, but its first bytes
		// are the passphrase's: a run that starts like a secret is hidden
		// as a secret cut short would be (remote.Redact).
		{"the block's own", []connectionModel{own},
			"ERROR 1064: near '***sudo-pw' (***) ***"},
		{"several hosts", []connectionModel{own, hostConnection("10.0.0.4")},
			"ERROR 1064: near '***' (***) ***"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var diags diag.Diagnostics
			ec := errorContext{secrets: d.connSecrets(tc.conns...)}
			ec.addError(&diags, "Boom", errors.New("ERROR 1064: near 'default-sudo-pw' (own-sudo-pw) default-passphrase"))
			if diff := cmp.Diff(tc.want, diags[0].Detail()); diff != "" {
				t.Errorf("detail (-want +got):\n%s", diff)
			}
		})
	}
}
