// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// secretFieldKeys are tflog field names whose values are always masked,
// whatever they hold: the names the resources give their secret
// attributes.
var secretFieldKeys = []string{"password", "password_wo", "private_key_pem", "private_key_pem_wo"}

// maskSecrets returns ctx with tflog hiding every non-empty value of
// secrets wherever it appears (messages and field values) and the value of
// every field named in secretFieldKeys. It is how every resource and the
// provider's Configure keep secrets out of the logs.
func maskSecrets(ctx context.Context, secrets []string) context.Context {
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, secretFieldKeys...)
	var nonEmpty []string
	for _, s := range secrets {
		if s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	if len(nonEmpty) == 0 {
		return ctx
	}
	ctx = tflog.MaskMessageStrings(ctx, nonEmpty...)
	return tflog.MaskAllFieldValuesStrings(ctx, nonEmpty...)
}

// connSecrets are the secrets of the connections to the given hosts (sudo
// password, private key and passphrase, their bastions'), as resolved from
// the provider's defaults: every resource adds them to its masking and its
// errorContext, so that no message shows them, whatever produced it (the
// transport redacts them from what it returns already; this is the last
// line).
func (d *providerData) connSecrets(conns ...connectionModel) []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, c := range conns {
		cfg, diags := d.defaults.config(c)
		if diags.HasError() {
			continue
		}
		out = append(out, cfg.Secrets()...)
	}
	return out
}
