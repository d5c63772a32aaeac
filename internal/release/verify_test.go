// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/release"
	"github.com/foobar/terraform-provider-foobar/internal/release/releasetest"
)

func publicKey(t *testing.T) *release.PublicKey {
	t.Helper()
	key, err := release.ParsePublicKey(releasetest.ArmoredPublicKey(t, releasetest.SigningKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func verify(t *testing.T, d *releasetest.Dist) *release.Release {
	t.Helper()
	rel, err := release.Verify(release.VerifyOptions{Dist: d.Dir, Key: publicKey(t), ManifestPath: d.ManifestPath})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rel
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editSums rewrites SHA256SUMS through edit and signs the result again, so
// only the edit itself is wrong.
func editSums(t *testing.T, d *releasetest.Dist, edit func(string) string) {
	t.Helper()
	path := d.Path(d.SumsName)
	writeFile(t, path, []byte(edit(string(readFile(t, path)))))
	d.Resign(t, releasetest.SigningKey(t))
}

func TestVerify_valid(t *testing.T) {
	t.Parallel()
	d := releasetest.Build(t, releasetest.Options{Version: "1.2.3-rc.1"})
	rel := verify(t, d)

	type pkg struct{ Platform, Filename, Path string }
	var got []pkg
	for _, p := range rel.Packages {
		got = append(got, pkg{p.String(), p.Filename, p.Path})
		if len(p.SHA256) != 64 {
			t.Errorf("%s: SHA256 %q is not a hex digest", p.Filename, p.SHA256)
		}
	}
	want := []pkg{
		{"darwin_arm64", "terraform-provider-foobar_1.2.3-rc.1_darwin_arm64.zip", d.Path(d.Zips["darwin_arm64"])},
		{"linux_amd64", "terraform-provider-foobar_1.2.3-rc.1_linux_amd64.zip", d.Path(d.Zips["linux_amd64"])},
		{"windows_amd64", "terraform-provider-foobar_1.2.3-rc.1_windows_amd64.zip", d.Path(d.Zips["windows_amd64"])},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if rel.Version != "1.2.3-rc.1" || rel.ProjectName != "terraform-provider-foobar" {
		t.Errorf("got %s %s", rel.ProjectName, rel.Version)
	}
	if diff := cmp.Diff([]string{"6.0"}, rel.Protocols); diff != "" {
		t.Errorf("protocols (-want +got):\n%s", diff)
	}
	if rel.SignerKeyID != publicKey(t).KeyID {
		t.Errorf("SignerKeyID = %q", rel.SignerKeyID)
	}
	if !bytes.Equal(rel.Manifest, readFile(t, d.ManifestPath)) {
		t.Error("manifest bytes differ from the repository's manifest")
	}
}

// Without metadata.json (an older GoReleaser, or files copied by hand) the
// project and version come from the SHA256SUMS name.
func TestVerify_withoutGoReleaserMetadata(t *testing.T) {
	t.Parallel()
	d := releasetest.Build(t, releasetest.Options{Version: "0.4.0"})
	for _, f := range []string{"metadata.json", "artifacts.json"} {
		if err := os.Remove(d.Path(f)); err != nil {
			t.Fatal(err)
		}
	}
	if rel := verify(t, d); rel.Version != "0.4.0" || len(rel.Packages) != 3 {
		t.Errorf("got version %q with %d packages", rel.Version, len(rel.Packages))
	}
}

// The manifest may also lie in dist/ under its released name.
func TestVerify_manifestInDist(t *testing.T) {
	t.Parallel()
	d := releasetest.Build(t, releasetest.Options{})
	writeFile(t, d.Path(d.ManifestName), readFile(t, d.ManifestPath))
	rel, err := release.Verify(release.VerifyOptions{Dist: d.Dir, Key: publicKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Manifest) == 0 {
		t.Error("manifest not read")
	}
}

func TestVerify_refusesBrokenRelease(t *testing.T) {
	t.Parallel()
	type problem struct{ File, ReasonContains string }
	tests := []struct {
		name      string
		opts      releasetest.Options
		platforms string
		breakIt   func(t *testing.T, d *releasetest.Dist)
		want      func(d *releasetest.Dist) []problem
	}{
		{
			name:    "missing zip",
			breakIt: func(t *testing.T, d *releasetest.Dist) { remove(t, d.Path(d.Zips["linux_amd64"])) },
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.Zips["linux_amd64"], "cannot be read: file does not exist"}}
			},
		},
		{
			name: "zip not listed in SHA256SUMS",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				editSums(t, d, func(s string) string { return dropLine(s, d.Zips["darwin_arm64"]) })
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.Zips["darwin_arm64"], "archive is not listed in " + d.SumsName}}
			},
		},
		{
			name: "hash mismatch",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				writeFile(t, d.Path(d.Zips["windows_amd64"]), releasetest.Zip(t, map[string]string{
					"terraform-provider-foobar_v1.0.0.exe": "tampered",
				}))
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.Zips["windows_amd64"], "SHA-256 mismatch"}}
			},
		},
		{
			name: "bad signature: SHA256SUMS edited after signing",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				path := d.Path(d.SumsName)
				writeFile(t, path, append(readFile(t, path), []byte(strings.Repeat("0", 64)+"  README.md\n")...))
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.SigName, "bad signature"}}
			},
		},
		{
			// What GoReleaser v2.15.x does (goreleaser#6514).
			name: "SHA256SUMS lists its own signature",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				path := d.Path(d.SumsName)
				sig := readFile(t, d.Path(d.SigName))
				line := releasetest.FormatSHA256SUMS(map[string]string{d.SigName: sha256Hex(sig)})
				writeFile(t, path, append(readFile(t, path), line...))
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{
					{d.SigName, "bad signature"},
					{d.SumsName, "lists its own signature"},
				}
			},
		},
		{
			name:    "signature by an unknown key",
			breakIt: func(t *testing.T, d *releasetest.Dist) { d.Resign(t, releasetest.OtherKey(t)) },
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.SigName, "not made by the given public key"}}
			},
		},
		{
			name: "ASCII-armored signature",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				writeFile(t, d.Path(d.SigName), []byte("-----BEGIN PGP SIGNATURE-----\n\nxx\n-----END PGP SIGNATURE-----\n"))
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.SigName, "ASCII-armored"}}
			},
		},
		{
			name:    "missing signature",
			breakIt: func(t *testing.T, d *releasetest.Dist) { remove(t, d.Path(d.SigName)) },
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.SigName, "cannot read the signature: file does not exist"}}
			},
		},
		{
			name:    "missing SHA256SUMS",
			breakIt: func(t *testing.T, d *releasetest.Dist) { remove(t, d.Path(d.SumsName)) },
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.SumsName, "cannot read the checksums file: file does not exist"}}
			},
		},
		{
			name: "manifest protocols do not match the build",
			opts: releasetest.Options{Protocols: []string{"5.0"}},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.ManifestPath, `protocol_versions ["5.0"] do not match the build's protocols ["6.0"]`}}
			},
		},
		{
			name: "manifest changed after the build",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				writeFile(t, d.ManifestPath, []byte(`{"version":1,"metadata":{"protocol_versions":["6.0","5.0"]}}`))
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.ManifestPath, "SHA-256 mismatch"}}
			},
		},
		{
			name: "manifest not checksummed",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				editSums(t, d, func(s string) string { return dropLine(s, d.ManifestName) })
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.ManifestName, "registry manifest is not listed"}}
			},
		},
		{
			name: "version is not semver",
			opts: releasetest.Options{Version: "v1.0.0"},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{"metadata.json", `version "v1.0.0" is not SemVer`}}
			},
		},
		{
			name: "zip without the provider binary",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				data := releasetest.Zip(t, map[string]string{"README.md": "no binary"})
				writeFile(t, d.Path(d.Zips["linux_amd64"]), data)
				editSums(t, d, func(s string) string {
					return dropLine(s, d.Zips["linux_amd64"]) + sha256Hex(data) + "  " + d.Zips["linux_amd64"] + "\n"
				})
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.Zips["linux_amd64"], "does not contain the provider binary terraform-provider-foobar_v1.0.0 (has: README.md)"}}
			},
		},
		{
			name: "malformed SHA256SUMS line",
			breakIt: func(t *testing.T, d *releasetest.Dist) {
				editSums(t, d, func(s string) string { return s + "not a checksum line\n" })
			},
			want: func(d *releasetest.Dist) []problem {
				return []problem{{d.SumsName, "line 5 is not"}}
			},
		},
		{
			name:      "required platform missing",
			platforms: "linux_amd64,linux_arm64",
			want: func(d *releasetest.Dist) []problem {
				return []problem{{"terraform-provider-foobar_1.0.0_linux_arm64.zip", "required platform linux_arm64 is missing"}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := releasetest.Build(t, tt.opts)
			if tt.breakIt != nil {
				tt.breakIt(t, d)
			}
			platforms, err := release.ParsePlatforms(tt.platforms)
			if err != nil {
				t.Fatal(err)
			}
			rel, err := release.Verify(release.VerifyOptions{
				Dist: d.Dir, Key: publicKey(t), ManifestPath: d.ManifestPath, Platforms: platforms,
			})
			if err == nil {
				t.Fatalf("Verify accepted a broken release: %+v", rel)
			}
			if rel != nil {
				t.Error("Verify returned a release along with an error")
			}
			var ve *release.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, want *release.ValidationError: %v", err, err)
			}
			var got []problem
			for _, p := range ve.Problems {
				got = append(got, problem{p.File, p.Reason})
			}
			want := tt.want(d)
			// Match each wanted problem by file and reason substring.
			opt := cmp.Comparer(func(a, b problem) bool {
				return a.File == b.File && (strings.Contains(a.ReasonContains, b.ReasonContains) || strings.Contains(b.ReasonContains, a.ReasonContains))
			})
			if diff := cmp.Diff(want, got, opt); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nerror: %v", diff, err)
			}
			for _, p := range want {
				if !strings.Contains(err.Error(), p.File) {
					t.Errorf("error message does not name %s: %v", p.File, err)
				}
			}
		})
	}
}

func TestValidationError_message(t *testing.T) {
	t.Parallel()
	one := &release.ValidationError{Dir: "dist", Problems: []release.Problem{{File: "a.zip", Reason: "gone"}}}
	if got, want := one.Error(), "release in dist refused: a.zip: gone"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	two := &release.ValidationError{Dir: "dist", Problems: []release.Problem{{File: "a.zip", Reason: "gone"}, {File: "b.sig", Reason: "bad"}}}
	if got, want := two.Error(), "release in dist refused, 2 problems:\n  - a.zip: gone\n  - b.sig: bad"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		armor   func(t *testing.T) []byte
		wantErr string
	}{
		{name: "public key", armor: func(t *testing.T) []byte { return releasetest.ArmoredPublicKey(t, releasetest.SigningKey(t)) }},
		{
			name:    "private key is refused",
			armor:   func(t *testing.T) []byte { return releasetest.ArmoredPrivateKey(t, releasetest.SigningKey(t)) },
			wantErr: `armor block is "PGP PRIVATE KEY BLOCK"`,
		},
		{
			name: "two keys",
			armor: func(t *testing.T) []byte {
				return append(releasetest.ArmoredPublicKey(t, releasetest.SigningKey(t)), releasetest.ArmoredPublicKey(t, releasetest.OtherKey(t))...)
			},
			wantErr: "file holds 2 armor blocks, want exactly 1",
		},
		{name: "not armored", armor: func(*testing.T) []byte { return []byte("hello") }, wantErr: "not ASCII-armored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := release.ParsePublicKey(tt.armor(t))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.ToUpper(releasetest.SigningKey(t).PrimaryKey.KeyIdString()); key.KeyID != want {
					t.Errorf("KeyID = %s, want %s", key.KeyID, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParsePlatforms(t *testing.T) {
	t.Parallel()
	got, err := release.ParsePlatforms(" linux_amd64, darwin_arm64 ,")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]release.Platform{{OS: "linux", Arch: "amd64"}, {OS: "darwin", Arch: "arm64"}}, got); diff != "" {
		t.Error(diff)
	}
	for _, bad := range []string{"linux", "linux_amd64_v1", "Linux_amd64", "linux/amd64"} {
		if _, err := release.ParsePlatforms(bad); err == nil {
			t.Errorf("ParsePlatforms(%q) accepted it", bad)
		}
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func dropLine(s, name string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasSuffix(strings.TrimSuffix(l, "\n"), "  "+name) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}
