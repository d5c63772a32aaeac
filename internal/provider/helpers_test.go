// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// randomSecret returns a fresh random secret with a recognisable prefix, so
// that leak checks can search logs and hosts for it.
func randomSecret(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// modelCmp lets cmp look into the models' ssh blocks, which embed the
// unexported credentialsModel and hostSettingsModel.
var modelCmp = cmp.AllowUnexported(connectionModel{}, bastionModel{})
