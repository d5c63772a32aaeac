// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
