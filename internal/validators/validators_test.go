// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package validators

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	gossh "golang.org/x/crypto/ssh"
)

func TestChecks(t *testing.T) {
	t.Parallel()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(block))
	encBlock, err := gossh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	encPEM := string(pem.EncodeToMemory(encBlock))
	signer, _ := gossh.NewSignerFromKey(priv)
	pub := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	cases := []struct {
		name  string
		check func(string) error
		good  []string
		bad   []string
	}{
		{"host", CheckHost, []string{"web1", "web1.example.com", "10.0.0.5", "::1", "fe80::1", "a-b.c"},
			[]string{"", "web 1", "a;b", "-web", "web_1", "a\nb", "[::1]", "x..y", strings.Repeat("a", 254)}},
		{"user", CheckUser, []string{"deploy", "root", "svc_app", "a.b-c"},
			[]string{"", "a b", "a:b", "-x", strings.Repeat("u", 65), "$(id)"}},
		{"public key", CheckPublicKey, []string{pub, pub + " comment"},
			[]string{"", "ssh-ed25519", "ssh-ed25519 AAAAnotbase64!", keyPEM}},
		{"private key", CheckPrivateKey, []string{keyPEM, encPEM},
			[]string{"", "hunter2", pub}},
		{"single line", CheckSingleLine, []string{"", "pass word", "p@ss$"},
			[]string{"a\nb", "a\rb", "a\x00b"}},
		{"readable file", CheckReadableFile, []string{file},
			[]string{"/nonexistent/file", dir}},
		{"duration", func(s string) error { return CheckDuration(s, time.Second, time.Minute) }, []string{"1s", "15s", "1m", "1500ms"},
			[]string{"", "5", "soon", "500ms", "2m", "-1s"}},
	}
	for _, c := range cases {
		for _, g := range c.good {
			if err := c.check(g); err != nil {
				t.Errorf("%s: %q refused: %v", c.name, g, err)
			}
		}
		for _, b := range c.bad {
			if err := c.check(b); err == nil {
				t.Errorf("%s: %q accepted", c.name, b)
			}
		}
	}
}

func TestStringFuncMessages(t *testing.T) {
	t.Parallel()
	run := func(v validator.String, value types.String) string {
		resp := &validator.StringResponse{}
		v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("ssh").AtName("host"), ConfigValue: value}, resp)
		if !resp.Diagnostics.HasError() {
			return ""
		}
		return resp.Diagnostics[0].Detail()
	}
	if got := run(Host(), types.StringValue("web 1")); !strings.Contains(got, `ssh.host = "web 1" is not valid`) {
		t.Errorf("plain message %q should name the attribute and the value", got)
	}
	if got := run(PrivateKey(), types.StringValue("hunter2")); strings.Contains(got, "hunter2") || !strings.Contains(got, "sensitive") {
		t.Errorf("secret message %q must not show the value", got)
	}
	bulky := BulkyStringFunc("PEM", func(string) error { return errors.New("not a certificate") })
	if got := run(bulky, types.StringValue("-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----\n")); got != "ssh.host is not valid: not a certificate" {
		t.Errorf("bulky message %q must name the attribute and the check's reason, not the value", got)
	}
	for _, v := range []types.String{types.StringNull(), types.StringUnknown()} {
		if got := run(Host(), v); got != "" {
			t.Errorf("null/unknown must not be validated, got %q", got)
		}
	}
}

func TestInt64FuncMessages(t *testing.T) {
	t.Parallel()
	v := Int64Func("a port", func(n int64) error {
		if n < 1 || n > 65535 {
			return errors.New("out of range (1-65535)")
		}
		return nil
	})
	run := func(value types.Int64) string {
		resp := &validator.Int64Response{}
		v.ValidateInt64(context.Background(), validator.Int64Request{Path: path.Root("stats").AtName("port"), ConfigValue: value}, resp)
		if !resp.Diagnostics.HasError() {
			return ""
		}
		return resp.Diagnostics[0].Detail()
	}
	if got := run(types.Int64Value(70000)); got != "stats.port = 70000 is not valid: out of range (1-65535)" {
		t.Errorf("message %q should name the attribute, the value and the problem", got)
	}
	for _, value := range []types.Int64{types.Int64Value(8404), types.Int64Null(), types.Int64Unknown()} {
		if got := run(value); got != "" {
			t.Errorf("%v: unexpected error %q", value, got)
		}
	}
}

func TestExpandHome(t *testing.T) {
	t.Parallel()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	if got := ExpandHome("~/.ssh/id"); got != home+"/.ssh/id" {
		t.Errorf("ExpandHome = %q", got)
	}
	if got := ExpandHome("~"); got != home {
		t.Errorf("ExpandHome(~) = %q, want the home directory", got)
	}
	if got := ExpandHome("/abs/~/x"); got != "/abs/~/x" {
		t.Errorf("ExpandHome changed an absolute path: %q", got)
	}
}
