// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// requireNamespace skips unless this process may make a private mount
// namespace (root, util-linux unshare), as the engine's sudo does on a host.
func requireNamespace(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a private mount namespace")
	}
	if err := exec.Command("unshare", "-m", "--propagation", "private", "true").Run(); err != nil {
		t.Skipf("unshare -m does not work here: %v", err)
	}
}

// TestValidatorRunsBeforeAnyLiveChange: the validator reads every managed
// path as the change will leave it (a replaced file, a new file, a removed
// file) while the live paths still hold the old state, and what it does in
// a private directory never reaches the host. The validator blocks until
// the test has looked at the live files from outside, then refuses.
func TestValidatorRunsBeforeAnyLiveChange(t *testing.T) {
	t.Parallel()
	requireNamespace(t)
	h := newHost(t)
	sig := t.TempDir()
	h.write("a.conf", "old a")
	h.write("b.conf", "old b")
	h.write("enabled/site", "link")
	c := h.change(h.file("a.conf", "new a"), h.file("c.conf", "new c"))
	c.Remove = []string{h.path("b.conf")}
	c.ValidatePrivate = []string{h.path("enabled")}
	c.ValidateFilter = nil
	c.Validate = remote.Script(`
SIG=$1 PRIV=$2
shift 2
for f in "$@"; do
  if [ -e "$f" ]; then printf '%s=%s\n' "${f##*/}" "$(cat -- "$f")"; else printf '%s=MISSING\n' "${f##*/}"; fi
done
: > "$PRIV/made-by-validator"
: > "$SIG/started"
while [ ! -e "$SIG/go" ]; do sleep 0.01; done
exit 1`, sig, h.path("enabled"), h.path("a.conf"), h.path("b.conf"), h.path("c.conf"))

	live := func() string {
		var b strings.Builder
		for _, n := range []string{"a.conf", "b.conf", "c.conf", "enabled/made-by-validator"} {
			if h.exists(n) {
				b.WriteString(n + "=" + h.read(n) + "\n")
			} else {
				b.WriteString(n + "=MISSING\n")
			}
		}
		return b.String()
	}
	before := live()
	seen := make(chan string, 1)
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(filepath.Join(sig, "started")); err == nil {
				seen <- live()
				_ = os.WriteFile(filepath.Join(sig, "go"), nil, 0o600)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		seen <- "the validator never started"
		_ = os.WriteFile(filepath.Join(sig, "go"), nil, 0o600)
	}()

	_, err := Apply(context.Background(), remote.LocalRunner{}, c)
	if diff := cmp.Diff(before, <-seen); diff != "" {
		t.Errorf("live files while the validator ran (-before +during):\n%s", diff)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Apply: %v; want a *ValidationError", err)
	}
	if ve.Swapped || !ve.Restored {
		t.Errorf("ValidationError: Swapped %v, Restored %v; want validated before any swap", ve.Swapped, ve.Restored)
	}
	if diff := cmp.Diff("a.conf=new a\nb.conf=MISSING\nc.conf=new c", ve.Output); diff != "" {
		t.Errorf("what the validator saw at the live paths (-want +got):\n%s", diff)
	}
	contains(t, err.Error(), "no live file was changed", Serving)
	if diff := cmp.Diff(before, live()); diff != "" {
		t.Errorf("live files after the refused apply (-before +after):\n%s", diff)
	}
	if l := h.leftovers(); len(l) > 0 {
		t.Errorf("engine files left: %v", l)
	}
	if n := h.reloads(); n != 0 {
		t.Errorf("%d reloads after a refused apply", n)
	}
}

// TestValidatedChangeIsApplied: a change the namespace validator accepts is
// swapped in and reloaded as before, with no warning.
func TestValidatedChangeIsApplied(t *testing.T) {
	t.Parallel()
	requireNamespace(t)
	h := newHost(t)
	h.write("sub/x.conf", "old")
	h.write("b.conf", "old b")
	c := h.change(h.file("sub/x.conf", "new"), h.file("sub/y.conf", "new y"))
	c.Remove = []string{h.path("b.conf")}
	out, err := Apply(context.Background(), remote.LocalRunner{}, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Warnings) > 0 {
		t.Errorf("warnings: %v", out.Warnings)
	}
	want := []string{h.path("b.conf"), h.path("sub/x.conf"), h.path("sub/y.conf")}
	if diff := cmp.Diff(want, out.Changed); diff != "" || !out.Reloaded {
		t.Errorf("Reloaded %v, Changed (-want +got):\n%s", out.Reloaded, diff)
	}
	if h.read("sub/x.conf") != "new" || h.read("sub/y.conf") != "new y" || h.exists("b.conf") {
		t.Errorf("the change is not in place")
	}
	if m, _ := filepath.Glob(filepath.Join(h.state, "runs", "*", "stage")); len(m) > 0 {
		t.Errorf("staged copies left: %v", m)
	}
}

func TestNSScriptHasNoSingleQuote(t *testing.T) {
	t.Parallel()
	if strings.Contains(nsScript, "'") {
		t.Error("nsScript contains a single quote: the worker embeds it in one")
	}
}

// TestFallbackWhenNothingCanBeStaged: a directory the staging cannot copy
// (an entry whose name holds a newline) makes the engine fall back to the
// old order, validate after the swap and restore on refusal, and say so.
func TestFallbackWhenNothingCanBeStaged(t *testing.T) {
	t.Parallel()
	requireNamespace(t)
	cases := []struct {
		name, content string
		wantErr       bool
	}{
		{name: "valid", content: "ok"},
		{name: "refused", content: "INVALID", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t)
			h.write("a.conf", "old")
			if err := os.Mkdir(h.path("odd\nname"), 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := Apply(context.Background(), remote.LocalRunner{}, h.change(h.file("a.conf", tc.content)))
			if tc.wantErr {
				var ve *ValidationError
				if !errors.As(err, &ve) || !ve.Swapped || !ve.Restored {
					t.Fatalf("Apply: %v; want a *ValidationError after a swap, restored", err)
				}
				contains(t, err.Error(), "the previous files were put back", Serving)
				if got := h.read("a.conf"); got != "old" {
					t.Errorf("a.conf = %q after the refusal, want old", got)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "could not validate the new configuration before putting it in place") {
				t.Errorf("warnings %q; want one that says the validator ran after the swap", out.Warnings)
			}
		})
	}
}
