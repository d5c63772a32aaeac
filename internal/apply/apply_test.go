// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

func TestChecksum(t *testing.T) {
	t.Parallel()
	// FIPS 180-2 test vector, and agreement with the host's sha256sum.
	if got, want := Checksum([]byte("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("Checksum(abc) = %s, want %s", got, want)
	}
	res, err := remote.LocalRunner{}.Run(context.Background(), remote.Cmd{Argv: []string{"sha256sum"}, Stdin: strings.NewReader("a\x00b\n")})
	must(t, err)
	if got, want := strings.Fields(string(res.Stdout))[0], Checksum([]byte("a\x00b\n")); got != want {
		t.Fatalf("sha256sum says %s, Checksum %s", got, want)
	}
}

func TestChecksumReader(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789", 100_000)
	for _, in := range []string{"", "abc", big} {
		sum, n, err := ChecksumReader(strings.NewReader(in))
		if err != nil || sum != Checksum([]byte(in)) || n != int64(len(in)) {
			t.Errorf("ChecksumReader of %d bytes = %s, %d, %v; want %s, %d", len(in), sum, n, err, Checksum([]byte(in)), len(in))
		}
	}
	if _, _, err := ChecksumReader(&failingReader{r: strings.NewReader(big), n: 10}); err == nil {
		t.Error("a read error must be returned")
	}
}

func TestOctalMode(t *testing.T) {
	t.Parallel()
	for _, m := range []os.FileMode{0o644, 0o600, 0o755, 0o755 | os.ModeSetuid, 0o750 | os.ModeSetgid, 0o777 | os.ModeSticky, 0} {
		back, err := parseOctalMode(octalMode(m))
		if err != nil || back != m {
			t.Errorf("mode %v -> %q -> %v, %v", m, octalMode(m), back, err)
		}
	}
	if got := octalMode(0o750 | os.ModeSetgid); got != "2750" {
		t.Errorf("octalMode(setgid 750) = %q", got)
	}
}

func TestChangeValidation(t *testing.T) {
	t.Parallel()
	ok := File{Path: "/etc/x.cfg", Content: []byte("x")}
	cases := map[string]Change{
		"empty":             {},
		"relative":          {Files: []File{{Path: "etc/x"}}},
		"dotdot":            {Files: []File{{Path: "/etc/../x"}}},
		"newline":           {Files: []File{{Path: "/etc/x\ny"}}},
		"nul":               {Files: []File{{Path: "/etc/x\x00"}}},
		"unclean":           {Files: []File{{Path: "/etc//x"}}},
		"root":              {Files: []File{{Path: "/"}}},
		"reserved":          {Files: []File{{Path: "/etc/x.foobar-new"}}},
		"bad owner":         {Files: []File{{Path: "/etc/x", Owner: "-r"}}},
		"owner with space":  {Files: []File{{Path: "/etc/x", Owner: "a b"}}},
		"bad mode":          {Files: []File{{Path: "/etc/x", Mode: os.ModeDir | 0o755}}},
		"duplicate":         {Files: []File{ok, ok}},
		"file and remove":   {Files: []File{ok}, Remove: []string{ok.Path}},
		"remove dotdot":     {Remove: []string{"/etc/.."}},
		"bad lock":          {Files: []File{ok}, Lock: "../x"},
		"relative statedir": {Files: []File{ok}, StateDir: "state"},
		"nul in argv":       {Files: []File{ok}, Reload: []string{"a\x00"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := counting()
			_, err := Apply(context.Background(), r, c)
			if err == nil {
				t.Fatal("accepted")
			}
			if r.count() != 0 {
				t.Fatalf("ran %d commands for an invalid change", r.count())
			}
		})
	}
}

func TestApplyCreatesThenDoesNothing(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	c := h.change(h.file("a.cfg", "one\n"), h.file("sub dir/b.cfg", "two\n"))

	out, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	want := Outcome{
		Changed:   []string{h.path("a.cfg"), h.path("sub dir/b.cfg")},
		Reloaded:  true,
		Checksums: map[string]string{h.path("a.cfg"): Checksum([]byte("one\n")), h.path("sub dir/b.cfg"): Checksum([]byte("two\n"))},
	}
	if d := cmp.Diff(want, out); d != "" {
		t.Fatalf("first apply (-want +got):\n%s", d)
	}
	if h.read("sub dir/b.cfg") != "two\n" || h.reloads() != 1 {
		t.Fatalf("content %q, reloads %d", h.read("sub dir/b.cfg"), h.reloads())
	}
	fi, err := os.Stat(h.path("a.cfg"))
	must(t, err)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode())
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}

	ino := h.inode("a.cfg")
	r := counting()
	out, err = Apply(ctx, r, c)
	must(t, err)
	want.Changed, want.Reloaded = nil, false
	if d := cmp.Diff(want, out); d != "" {
		t.Fatalf("second apply (-want +got):\n%s", d)
	}
	if h.reloads() != 1 {
		t.Errorf("unchanged apply reloaded: %d reloads", h.reloads())
	}
	if r.count() != 1 {
		t.Errorf("unchanged apply took %d round trips, want 1", r.count())
	}
	if h.inode("a.cfg") != ino {
		t.Errorf("an unchanged file was rewritten")
	}
}

func TestApplyChangesOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	h.write("keep.cfg", "keep\n")
	h.write("gone.cfg", "old\n")
	must(t, os.Chmod(h.path("keep.cfg"), 0o640))
	ino := h.inode("keep.cfg")

	c := h.change(h.file("keep.cfg", "keep\n"), h.file("new.cfg", "new\n"))
	c.Remove = []string{h.path("gone.cfg"), h.path("never-there.cfg")}
	out, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	if d := cmp.Diff([]string{h.path("gone.cfg"), h.path("new.cfg")}, out.Changed); d != "" {
		t.Errorf("changed (-want +got):\n%s", d)
	}
	if h.inode("keep.cfg") != ino {
		t.Errorf("the unchanged file was rewritten")
	}
	if h.exists("gone.cfg") || h.read("new.cfg") != "new\n" || h.reloads() != 1 {
		t.Errorf("gone exists %v, new %q, reloads %d", h.exists("gone.cfg"), h.read("new.cfg"), h.reloads())
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}

	// Mode drift is a change too; the content is the same.
	must(t, os.Chmod(h.path("keep.cfg"), 0o666))
	out, err = Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	if d := cmp.Diff([]string{h.path("keep.cfg")}, out.Changed); d != "" {
		t.Errorf("changed after chmod (-want +got):\n%s", d)
	}
	fi, err := os.Stat(h.path("keep.cfg"))
	must(t, err)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode drift not repaired: %v", fi.Mode())
	}
}

func TestApplyInvalidConfigIsRefused(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	good := h.change(h.file("a.cfg", "good a\n"), h.file("b.cfg", "good b\n"))
	_, err := Apply(ctx, remote.LocalRunner{}, good)
	must(t, err)
	inoA, inoB := h.inode("a.cfg"), h.inode("b.cfg")

	bad := h.change(h.file("a.cfg", "changed a\n"), h.file("b.cfg", "INVALID\n"), h.file("c.cfg", "brand new\n"))
	out, err := Apply(ctx, remote.LocalRunner{}, bad)
	t.Log(err)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %T %v", err, err)
	}
	if !ve.Restored || ve.ExitStatus != 1 || ve.Host != "testhost" {
		t.Errorf("error %+v", ve)
	}
	contains(t, err.Error(), "testhost", "unknown keyword 'INVALID'", Serving)
	if strings.Contains(ve.Output, "[NOTICE]") || !strings.Contains(ve.Output, "[ALERT]") {
		t.Errorf("the filter was not applied: %s", err)
	}
	if h.read("a.cfg") != "good a\n" || h.read("b.cfg") != "good b\n" || h.exists("c.cfg") {
		t.Errorf("live files changed: a=%q b=%q c exists=%v", h.read("a.cfg"), h.read("b.cfg"), h.exists("c.cfg"))
	}
	if h.inode("a.cfg") != inoA || h.inode("b.cfg") != inoB {
		t.Errorf("the previous files are not the very same files")
	}
	if h.reloads() != 1 {
		t.Errorf("a refused config was reloaded: %d reloads", h.reloads())
	}
	if out.Checksums[h.path("a.cfg")] != Checksum([]byte("good a\n")) || out.Changed != nil {
		t.Errorf("outcome %+v", out)
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func TestApplyReloadFailureRollsBack(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	c := h.change(h.file("a.cfg", "v1\n"))
	// The reload fails while the live file says BREAK, like a service whose
	// reload dies on something the validator cannot see.
	c.Reload = remote.Script(`printf x >> "$1"; if grep -q BREAK "$2"; then echo "Job for svc.service failed" >&2; exit 1; fi`, h.counter, h.path("a.cfg"))
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)

	c.Files = []File{h.file("a.cfg", "BREAK\n")}
	_, err = Apply(ctx, remote.LocalRunner{}, c)
	t.Log(err)
	var re *ReloadError
	if !errors.As(err, &re) {
		t.Fatalf("want *ReloadError, got %T %v", err, err)
	}
	if !re.Restored || !re.PreviousReloaded || re.ExitStatus != 1 {
		t.Errorf("error %+v", re)
	}
	contains(t, err.Error(), "testhost", "Job for svc.service failed", Serving)
	if h.read("a.cfg") != "v1\n" {
		t.Errorf("content %q after a failed reload", h.read("a.cfg"))
	}
	if h.reloads() != 3 {
		t.Errorf("%d reloads, want 3 (create, failed, previous)", h.reloads())
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func TestApplyReloadFailureTwice(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	c := h.change(h.file("a.cfg", "v1\n"))
	c.Reload = []string{"false"}
	_, err := Apply(context.Background(), remote.LocalRunner{}, c)
	t.Log(err)
	var re *ReloadError
	if !errors.As(err, &re) || !re.Restored || re.PreviousReloaded {
		t.Fatalf("got %T %+v", err, err)
	}
	contains(t, err.Error(), "reloading them failed too", "may not be running")
	if strings.Contains(err.Error(), Serving) {
		t.Errorf("claims the previous configuration is serving: %s", err)
	}
	if h.exists("a.cfg") {
		t.Errorf("the new file stayed")
	}
}

func TestApplyVerifyFailureRollsBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		failAfter bool // verification fails after the rollback too
		want      string
	}{
		{"previous answers", false, Serving},
		{"previous fails too", true, "fails verification too"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t)
			ctx := context.Background()
			c := h.change(h.file("a.cfg", "v1\n"))
			_, err := Apply(ctx, remote.LocalRunner{}, c)
			must(t, err)

			verifies := 0
			c.Files = []File{h.file("a.cfg", "v2\n")}
			c.Verify = func(ctx context.Context, r remote.Runner) error {
				verifies++
				// The "service" answers with the file the engine loaded.
				res, err := r.Run(ctx, remote.Cmd{Argv: []string{"cat", h.path("a.cfg")}, Unprivileged: true})
				if err != nil {
					return err
				}
				if string(res.Stdout) == "v2\n" || tc.failAfter {
					return errors.New("GET http://127.0.0.1:8404/health: 503 Service Unavailable")
				}
				return nil
			}
			out, err := Apply(ctx, remote.LocalRunner{}, c)
			t.Log(err)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("want *VerifyError, got %T %v", err, err)
			}
			if !ve.RolledBack || (ve.AfterRollback != nil) != tc.failAfter || verifies != 2 {
				t.Errorf("error %+v after %d verifications", ve, verifies)
			}
			contains(t, err.Error(), "testhost", "503 Service Unavailable", tc.want)
			if h.read("a.cfg") != "v1\n" {
				t.Errorf("content %q after rollback", h.read("a.cfg"))
			}
			if h.reloads() != 3 {
				t.Errorf("%d reloads, want 3", h.reloads())
			}
			if out.Checksums[h.path("a.cfg")] != Checksum([]byte("v1\n")) {
				t.Errorf("outcome checksums %v", out.Checksums)
			}
			if l := h.leftovers(); len(l) != 0 {
				t.Errorf("leftovers %v", l)
			}
		})
	}
}

// TestApplyVerifyFailureOnFirstInstall: when none of the files existed, the
// rollback removes them all, Verify is not run again (there is no previous
// configuration), and the error says the host is as it was.
func TestApplyVerifyFailureOnFirstInstall(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	c := h.change(h.file("a.cfg", "v1\n"), h.file("b.cfg", "v1\n"))
	verifies := 0
	c.Verify = func(context.Context, remote.Runner) error {
		verifies++
		return errors.New("GET http://127.0.0.1:8080/healthz: connection refused")
	}
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	t.Log(err)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("want *VerifyError, got %T %v", err, err)
	}
	if !ve.RolledBack || !ve.FirstInstall || ve.AfterRollback != nil || verifies != 1 {
		t.Errorf("error %+v after %d verifications; want a first-install rollback verified once", ve, verifies)
	}
	contains(t, err.Error(), "connection refused", "Nothing of it existed on the host before", "none of these files is left")
	if strings.Contains(err.Error(), "fails verification too") || strings.Contains(err.Error(), Serving) {
		t.Errorf("speaks of a previous configuration: %s", err)
	}
	for _, f := range []string{"a.cfg", "b.cfg"} {
		if h.exists(f) {
			t.Errorf("%s stayed after the rollback", f)
		}
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}

	// One file existing already makes it an update: Verify runs again
	// after the rollback and the message speaks of the previous
	// configuration.
	h2 := newHost(t)
	_, err = Apply(ctx, remote.LocalRunner{}, h2.change(h2.file("a.cfg", "v1\n")))
	must(t, err)
	c2 := h2.change(h2.file("a.cfg", "v2\n"), h2.file("b.cfg", "v1\n"))
	verifies = 0
	c2.Verify = c.Verify
	_, err = Apply(ctx, remote.LocalRunner{}, c2)
	if !errors.As(err, &ve) || ve.FirstInstall || verifies != 2 {
		t.Errorf("an update with one new file: %v (FirstInstall %v) after %d verifications, want 2", err, ve != nil && ve.FirstInstall, verifies)
	}
}

func TestApplyVerifySuccessCleansUp(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	c := h.change(h.file("a.cfg", "v1\n"))
	verified := 0
	c.Verify = func(context.Context, remote.Runner) error { verified++; return nil }
	r := counting()
	out, err := Apply(context.Background(), r, c)
	must(t, err)
	if !out.Reloaded || verified != 1 || r.count() != 4 {
		t.Errorf("outcome %+v, %d verifications, %d round trips (want state, upload, commit, cleanup)", out, verified, r.count())
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func TestKeepOriginalAndRestore(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	h.write("existing.cfg", "distribution default\n")
	h.write("untouched.cfg", "same\n")
	must(t, os.Chmod(h.path("untouched.cfg"), 0o640))

	c := h.change(h.file("existing.cfg", "ours v1\n"), h.file("absent.cfg", "ours too\n"), h.file("untouched.cfg", "same\n"))
	c.KeepOriginal = true
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	c.Files[0] = h.file("existing.cfg", "ours v2\n")
	_, err = Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)

	if got := h.read("existing.cfg" + SuffixOrig); got != "distribution default\n" {
		t.Errorf("saved original %q", got)
	}
	if !h.exists("absent.cfg"+SuffixOrigNone) || h.exists("untouched.cfg"+SuffixOrig) || h.exists("untouched.cfg"+SuffixOrigNone) {
		t.Errorf("markers: absent-none %v untouched-orig %v", h.exists("absent.cfg"+SuffixOrigNone), h.exists("untouched.cfg"+SuffixOrig))
	}
	before := h.reloads()

	rs := Restore{Paths: []string{h.path("existing.cfg"), h.path("absent.cfg"), h.path("untouched.cfg")},
		Validate: c.Validate, Reload: c.Reload, Lock: c.Lock, StateDir: h.state, Host: "testhost"}
	must(t, RestoreOriginal(ctx, remote.LocalRunner{}, rs))
	if got := h.read("existing.cfg"); got != "distribution default\n" {
		t.Errorf("restored %q", got)
	}
	if h.exists("absent.cfg") {
		t.Errorf("a file that was not there before stays")
	}
	if h.read("untouched.cfg") != "same\n" {
		t.Errorf("a file the engine never replaced was changed")
	}
	if h.reloads() != before+1 {
		t.Errorf("%d reloads for the restore, want 1", h.reloads()-before)
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}

	// Nothing left to restore: nothing happens.
	must(t, RestoreOriginal(ctx, remote.LocalRunner{}, rs))
	if h.reloads() != before+1 {
		t.Errorf("a restore with nothing to do reloaded")
	}
}

func TestRestoreOriginalRefusedByValidator(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	h.write("a.cfg", "INVALID original\n")
	c := h.change(h.file("a.cfg", "ours\n"))
	c.KeepOriginal = true
	c.Validate = h.validateArgv(h.path("a.cfg"))
	// The takeover itself validates fine.
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)

	verified := 0
	err = RestoreOriginal(ctx, remote.LocalRunner{}, Restore{Paths: []string{h.path("a.cfg")}, Validate: c.Validate,
		ValidateFilter: alertsOnly, Reload: c.Reload, StateDir: h.state, Lock: c.Lock, Host: "testhost",
		Verify: func(context.Context, remote.Runner) error { verified++; return nil }})
	t.Log(err)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %T %v", err, err)
	}
	if h.read("a.cfg") != "ours\n" || h.read("a.cfg"+SuffixOrig) != "INVALID original\n" || verified != 0 {
		t.Errorf("after a refused restore: live %q, orig %q, %d verifications", h.read("a.cfg"), h.read("a.cfg"+SuffixOrig), verified)
	}
}

func TestRestoreOriginalWithVerify(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	h.write("a.cfg", "original\n")
	c := h.change(h.file("a.cfg", "ours\n"))
	c.KeepOriginal = true
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	rs := Restore{Paths: []string{h.path("a.cfg")}, Reload: c.Reload, StateDir: h.state, Lock: c.Lock}

	rs.Verify = func(context.Context, remote.Runner) error {
		if h.read("a.cfg") == "original\n" {
			return errors.New("the original does not answer")
		}
		return nil
	}
	err = RestoreOriginal(ctx, remote.LocalRunner{}, rs)
	var ve *VerifyError
	if !errors.As(err, &ve) || !ve.RolledBack || ve.AfterRollback != nil {
		t.Fatalf("want a rolled back *VerifyError, got %T %v", err, err)
	}
	if h.read("a.cfg") != "ours\n" || h.read("a.cfg"+SuffixOrig) != "original\n" {
		t.Errorf("after a failed restore: live %q", h.read("a.cfg"))
	}

	rs.Verify = func(context.Context, remote.Runner) error { return nil }
	must(t, RestoreOriginal(ctx, remote.LocalRunner{}, rs))
	if h.read("a.cfg") != "original\n" {
		t.Errorf("restored %q", h.read("a.cfg"))
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func TestInterruptedBeforeCommitConverges(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	c := h.change(h.file("a.cfg", "v1\n"))
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	ino := h.inode("a.cfg")

	// The connection dies after the upload, before the commit (call 3).
	cut := func() remote.Runner {
		return &hookRunner{r: remote.LocalRunner{}, hook: func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
			if n >= 3 {
				return remote.Result{}, errors.New("ssh: connection lost")
			}
			return next(ctx, cmd)
		}}
	}
	c.Files = []File{h.file("a.cfg", "v2\n")}
	if _, err := Apply(ctx, cut(), c); err == nil {
		t.Fatal("no error from a cut connection")
	}
	if h.read("a.cfg") != "v1\n" || h.inode("a.cfg") != ino || h.reloads() != 1 {
		t.Fatalf("live file touched: %q, reloads %d", h.read("a.cfg"), h.reloads())
	}
	if h.read("a.cfg"+SuffixNew) != "v2\n" {
		t.Fatalf("expected a complete candidate")
	}

	// Going back to what is live leaves nothing to commit: the candidate is
	// discarded and nothing reloads.
	c.Files = []File{h.file("a.cfg", "v1\n")}
	out, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	if out.Reloaded || len(out.Changed) != 0 || h.exists("a.cfg"+SuffixNew) || h.inode("a.cfg") != ino {
		t.Fatalf("outcome %+v, candidate left %v", out, h.exists("a.cfg"+SuffixNew))
	}

	_, err = Apply(ctx, cut(), h.change(h.file("a.cfg", "v2\n")))
	if err == nil || h.read("a.cfg"+SuffixNew) != "v2\n" {
		t.Fatalf("no error from a cut connection, or no candidate: %v", err)
	}
	c.Files = []File{h.file("a.cfg", "v3\n")}
	out, err = Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	if h.read("a.cfg") != "v3\n" || !out.Reloaded || h.reloads() != 2 {
		t.Errorf("did not converge: %q, %+v", h.read("a.cfg"), out)
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func TestInterruptedUploadLeavesNoPartialCandidate(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	big := strings.Repeat("0123456789abcdef", 1<<14)
	c := h.change(h.file("small.cfg", "small\n"), h.file("big.cfg", big))
	cut := &hookRunner{r: remote.LocalRunner{}, hook: func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
		if cmd.Stdin != nil {
			cmd.Stdin = &failingReader{r: cmd.Stdin, n: 1000}
		}
		return next(ctx, cmd)
	}}
	if _, err := Apply(ctx, cut, c); err == nil {
		t.Fatal("no error from a cut upload")
	}
	if h.exists("big.cfg") || h.exists("big.cfg"+SuffixNew) || h.exists("small.cfg") {
		t.Errorf("a cut upload left live files or a partial candidate")
	}
	for _, l := range h.leftovers() {
		if l != "small.cfg"+SuffixNew {
			t.Errorf("leftover %s", l)
		}
	}
	if _, err := Apply(ctx, remote.LocalRunner{}, c); err != nil {
		t.Fatal(err)
	}
	if h.read("big.cfg") != big {
		t.Errorf("did not converge")
	}
}

func TestCommitCompletesWhenClientGoesAway(t *testing.T) {
	t.Parallel()
	for _, withVerify := range []bool{false, true} {
		t.Run(fmt.Sprintf("verify=%v", withVerify), func(t *testing.T) {
			t.Parallel()
			h := newHost(t)
			c := h.change(h.file("a.cfg", "v1\n"))
			_, err := Apply(context.Background(), remote.LocalRunner{}, c)
			must(t, err)
			if withVerify {
				c.Verify = func(context.Context, remote.Runner) error { return nil }
			}

			// A slow reload; the client's context ends in the middle of
			// the commit, which kills the launcher on "the host".
			c.Reload = remote.Script(`sleep 1; printf x >> "$1"`, h.counter)
			c.Files = []File{h.file("a.cfg", "v2\n")}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &hookRunner{r: remote.LocalRunner{}, hook: func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
				if n == 3 {
					time.AfterFunc(300*time.Millisecond, cancel)
				}
				return next(ctx, cmd)
			}}
			_, err = Apply(ctx, r, c)
			t.Log(err)
			var ie *InterruptedError
			if !errors.As(err, &ie) {
				t.Fatalf("want *InterruptedError, got %T %v", err, err)
			}
			contains(t, err.Error(), "the apply was interrupted while committing the configuration on testhost",
				"context canceled", "runs to completion on the host", filepath.Join(h.state, "runs"))

			h.waitReports(2)
			if h.read("a.cfg") != "v2\n" || h.reloads() != 2 {
				t.Fatalf("the commit did not complete on the host: %q, %d reloads", h.read("a.cfg"), h.reloads())
			}

			out, err := Apply(context.Background(), remote.LocalRunner{}, c)
			must(t, err)
			if withVerify {
				// Backups of an unverified commit: validate, reload and
				// verify again, then clean up.
				if d := cmp.Diff([]string{h.path("a.cfg")}, out.Resumed); d != "" || !out.Reloaded || h.reloads() != 3 {
					t.Errorf("resume: %+v, %d reloads, diff %s", out, h.reloads(), d)
				}
			} else if out.Reloaded || len(out.Changed) != 0 || len(out.Resumed) != 0 {
				t.Errorf("the next apply did something: %+v", out)
			}
			if l := h.leftovers(); len(l) != 0 {
				t.Errorf("leftovers %v", l)
			}
		})
	}
}

func TestCommitReportCollectedAfterTransportError(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	c := h.change(h.file("a.cfg", "v1\n"))
	c.Reload = remote.Script(`sleep 1; printf x >> "$1"`, h.counter)
	// The commit's session breaks after 200ms, but the client is still
	// alive and comes back for the report.
	r := &hookRunner{r: remote.LocalRunner{}, hook: func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
		if n == 3 {
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			_, _ = next(short, cmd)
			return remote.Result{}, errors.New("ssh: unexpected EOF")
		}
		return next(ctx, cmd)
	}}
	out, err := Apply(context.Background(), r, c)
	must(t, err)
	if !out.Reloaded || h.read("a.cfg") != "v1\n" || h.reloads() != 1 || r.count() != 4 {
		t.Errorf("outcome %+v, %d reloads, %d calls", out, h.reloads(), r.count())
	}
}

func TestStaleBackupIsResumed(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	c := h.change(h.file("a.cfg", "v1\n"))
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	// A commit swapped the file and died before reloading: the live file
	// matches, but the service never loaded it.
	h.write("a.cfg"+SuffixBackup, "v0\n")

	out, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	if d := cmp.Diff([]string{h.path("a.cfg")}, out.Resumed); d != "" {
		t.Errorf("resumed (-want +got):\n%s", d)
	}
	if !out.Reloaded || len(out.Changed) != 0 || h.reloads() != 2 || h.read("a.cfg") != "v1\n" {
		t.Errorf("outcome %+v, %d reloads", out, h.reloads())
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func TestLockTimesOut(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) is not installed")
	}
	// Another apply holds the lock from the start (the upload waits for
	// it), or takes it between this apply's upload and commit.
	for name, at := range map[string]int{"upload": 2, "commit": 3} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t)
			c := h.change(h.file("a.cfg", "v1\n"))
			c.LockWait = time.Second
			must(t, os.MkdirAll(filepath.Join(h.state, "locks"), 0o700))
			r := &hookRunner{r: remote.LocalRunner{}, hook: func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
				if n == at {
					// The holder says when it has the lock (a fixed pause
					// was not enough under load), then keeps it 2 s.
					held := filepath.Join(t.TempDir(), "held")
					holder := exec.Command("flock", filepath.Join(h.state, "locks", "test.lock"), "sh", "-c", `: > "$1"; sleep 2`, "sh", held)
					must(t, holder.Start())
					t.Cleanup(func() { _ = holder.Wait() })
					for deadline := time.Now().Add(30 * time.Second); !fileExists(held); time.Sleep(10 * time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatal("the holder did not take the lock within 30s")
						}
					}
				}
				return next(ctx, cmd)
			}}
			_, err := Apply(context.Background(), r, c)
			t.Log(err)
			if err == nil {
				t.Fatal("applied while another apply held the lock")
			}
			contains(t, err.Error(), "testhost", "waiting for the lock test")
			if !strings.Contains(err.Error(), "not touched") && !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("the error does not say the host is unchanged: %v", err)
			}
			if h.exists("a.cfg") || h.reloads() != 0 {
				t.Errorf("changed the host without the lock")
			}
		})
	}
}

func TestWithoutFlock(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	c := h.change(h.file("a.cfg", "v1\n"))
	c.flock = "/nonexistent/flock"
	out, err := Apply(context.Background(), remote.LocalRunner{}, c)
	must(t, err)
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "flock") || h.read("a.cfg") != "v1\n" {
		t.Errorf("outcome %+v", out)
	}
}

func TestConcurrentCandidateIsDetected(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	c := h.change(h.file("a.cfg", "mine\n"))
	// Another apply replaces the candidate between this one's upload and
	// commit.
	r := &hookRunner{r: remote.LocalRunner{}, hook: func(ctx context.Context, n int, cmd remote.Cmd, next func(context.Context, remote.Cmd) (remote.Result, error)) (remote.Result, error) {
		if n == 3 {
			h.write("a.cfg"+SuffixNew, "theirs\n")
		}
		return next(ctx, cmd)
	}}
	_, err := Apply(context.Background(), r, c)
	t.Log(err)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConflictError, got %T %v", err, err)
	}
	if h.exists("a.cfg") || h.reloads() != 0 {
		t.Errorf("committed a candidate it did not upload")
	}
}

func TestRefusesToReplaceDirectory(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	must(t, os.Mkdir(h.path("a.cfg"), 0o755))
	_, err := Apply(context.Background(), remote.LocalRunner{}, h.change(h.file("a.cfg", "x")))
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("got %v", err)
	}
}

func TestParseReport(t *testing.T) {
	t.Parallel()
	out := "foobar-report 1\nconflict /a b\nchanged put /etc/x y\nstep validate 1 " +
		"b29wcw==\nstep reload 0 \nrestore 0\nlog aGk=\nresult invalid\nend\n"
	rep, err := parseReport([]byte(out))
	must(t, err)
	want := &report{result: "invalid", restore: 0, conflicts: []string{"/a b"}, changed: []string{"/etc/x y"}, log: "hi",
		steps: map[string]stepResult{"validate": {exit: 1, output: "oops"}, "reload": {exit: 0, output: ""}}}
	if d := cmp.Diff(want, rep, cmp.AllowUnexported(report{}, stepResult{})); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, bad := range []string{"", "result ok\nend\n", "foobar-report 1\nresult ok\n", "foobar-report 1\nstep x y z\nresult ok\nend\n", "foobar-report 1\nlog !!\nresult ok\nend\n"} {
		if _, err := parseReport([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestValidatorMissingOrHanging(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		validate []string
		step     time.Duration
		want     string
	}{
		{"missing", []string{"/nonexistent/haproxy", "-c"}, 0, "was not found"},
		{"hanging", []string{"sleep", "30"}, time.Second, "did not finish in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath("timeout"); err != nil && tc.step != 0 {
				t.Skip("timeout(1) is not installed")
			}
			h := newHost(t)
			c := h.change(h.file("a.cfg", "v1\n"))
			c.Validate, c.StepTimeout = tc.validate, tc.step
			start := time.Now()
			_, err := Apply(context.Background(), remote.LocalRunner{}, c)
			t.Log(err)
			var ve *ValidationError
			if !errors.As(err, &ve) || !ve.Restored {
				t.Fatalf("want a restored *ValidationError, got %T %v", err, err)
			}
			contains(t, err.Error(), tc.want, Serving)
			if time.Since(start) > 20*time.Second || h.exists("a.cfg") || h.reloads() != 0 {
				t.Errorf("took %v; file exists %v; %d reloads", time.Since(start), h.exists("a.cfg"), h.reloads())
			}
		})
	}
}

func TestApplyAwkwardNames(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	names := []string{
		"dollar $HOME.cfg",
		"tick `id`.cfg",
		`back\slash.cfg`,
		`quotes 'single' "double".cfg`,
		"-dash.cfg",
		"  leading and trailing  ",
		"glob *?[a].cfg",
		"ünïcødé.cfg",
		"tab\there.cfg",
	}
	var files []File
	for i, n := range names {
		files = append(files, h.file("d i r/"+n, fmt.Sprintf("content %d\n", i)))
	}
	c := h.change(files...)
	c.KeepOriginal = true
	c.Verify = func(context.Context, remote.Runner) error { return nil }
	out, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	if len(out.Changed) != len(names) {
		t.Errorf("changed %v", out.Changed)
	}
	for i, n := range names {
		if got := h.read("d i r/" + n); got != fmt.Sprintf("content %d\n", i) {
			t.Errorf("%q holds %q", n, got)
		}
	}
	entries, err := os.ReadDir(h.path("d i r"))
	must(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	var want []string
	for _, n := range names {
		want = append(want, n, n+SuffixOrigNone)
	}
	if d := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("directory (-want +got):\n%s", d)
	}

	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	snap, err := Probe(ctx, remote.LocalRunner{}, ProbeRequest{Content: paths})
	must(t, err)
	for i, p := range paths {
		if string(snap.Files[p].Content) != fmt.Sprintf("content %d\n", i) {
			t.Errorf("probe of %q: %+v", p, snap.Files[p])
		}
	}
	if out, err := Apply(ctx, remote.LocalRunner{}, c); err != nil || out.Reloaded {
		t.Errorf("second apply: %+v, %v", out, err)
	}
	must(t, RestoreOriginal(ctx, remote.LocalRunner{}, Restore{Paths: paths, StateDir: h.state, Lock: "test"}))
	if entries, _ := os.ReadDir(h.path("d i r")); len(entries) != 0 {
		t.Errorf("after restore: %v", entries)
	}
}

func TestSymlinkIsReplacedAndRestored(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	h.write("target.cfg", "through the link\n")
	must(t, os.Symlink("target.cfg", h.path("a.cfg")))

	_, err := Apply(ctx, remote.LocalRunner{}, h.change(h.file("a.cfg", "INVALID\n")))
	if _, ok := errors.AsType[*ValidationError](err); !ok {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	if dest, err := os.Readlink(h.path("a.cfg")); err != nil || dest != "target.cfg" {
		t.Fatalf("the symlink was not restored: %q, %v", dest, err)
	}

	_, err = Apply(ctx, remote.LocalRunner{}, h.change(h.file("a.cfg", "regular now\n")))
	must(t, err)
	fi, err := os.Lstat(h.path("a.cfg"))
	must(t, err)
	if !fi.Mode().IsRegular() || h.read("a.cfg") != "regular now\n" || h.read("target.cfg") != "through the link\n" {
		t.Errorf("mode %v, a=%q, target=%q", fi.Mode(), h.read("a.cfg"), h.read("target.cfg"))
	}
}

// Reapply validates, reloads and verifies files that are already in place,
// rewriting none of them, and a refusal then changes nothing and reloads
// nothing; a path to remove that is already gone takes part too.
func TestApplyReapply(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	ctx := context.Background()
	c := h.change(h.file("a.cfg", "one\n"))
	_, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	ino := h.inode("a.cfg")

	verified := 0
	c.Reapply = true
	c.Remove = []string{h.path("gone.cfg")}
	c.Verify = func(context.Context, remote.Runner) error { verified++; return nil }
	out, err := Apply(ctx, remote.LocalRunner{}, c)
	must(t, err)
	if !out.Reloaded || out.Changed != nil || h.reloads() != 2 || verified != 1 {
		t.Errorf("reapply: outcome %+v, %d reloads, %d verifications; want reloaded once more, verified, nothing changed", out, h.reloads(), verified)
	}
	if h.inode("a.cfg") != ino || h.read("a.cfg") != "one\n" {
		t.Errorf("reapply rewrote a file that was in place")
	}

	c.Validate = remote.Script(`echo "[ALERT] refused"; exit 1`)
	_, err = Apply(ctx, remote.LocalRunner{}, c)
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Restored || ve.Swapped {
		t.Fatalf("refused reapply: want a ValidationError before any swap, got %v", err)
	}
	if h.reloads() != 2 || verified != 1 || h.inode("a.cfg") != ino {
		t.Errorf("refused reapply: %d reloads, %d verifications, inode changed %v", h.reloads(), verified, h.inode("a.cfg") != ino)
	}
	if l := h.leftovers(); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
