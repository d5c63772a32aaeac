// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/release"
	"github.com/foobar/terraform-provider-foobar/internal/release/releasetest"
)

// What the registry test installs on its lab host, all removed when it ends.
const (
	registryTree    = "/srv/foobar-registry-acc"
	registryConfDir = "/etc/nginx/foobar-registry-acc"
	registrySite    = "/etc/nginx/sites-enabled/foobar-registry-acc"
	registryHost    = "web1"

	// The second platform of the snapshot (besides linux_amd64, which the
	// test machine runs): what operators on Apple silicon lock for.
	otherPlatform = "darwin_arm64"
)

// TestAccRegistry_staticTreeOverHTTPS proves the release path end to end with
// the real Terraform (or OpenTofu) CLI doing the installing and verifying:
// a signed snapshot built by tools/release-snapshot.sh (GoReleaser, throwaway
// key), published by foobar-publish static, served by a lab host's nginx over
// HTTPS with a certificate from a CA made here, installed by `init` from
// source "<host IP>/foobar/foobar".
//
// Terraform (1.6.6, 1.11.4) and OpenTofu (1.12.6) accept an IP address as the
// host of a provider source address (the registry is then https://<IP>/), so
// no DNS name, /etc/hosts entry or `host` block in the CLI configuration is
// needed; the certificate names the IP in its subjectAltName and the CLI
// trusts the CA through SSL_CERT_FILE.
func TestAccRegistry_staticTreeOverHTTPS(t *testing.T) {
	cli := requireAccCLI(t)
	inv := acctest.Lab(t)
	host := inv.Host(t, registryHost)
	repo := acctest.RepoRoot()
	work := t.TempDir()
	began := time.Now()

	v1 := buildSnapshot(t, repo, filepath.Join(work, "v1"), "v0.1.0")
	publisher := buildPublisher(t, repo, work)

	// One tree, one namespace per scenario: the good release, and copies
	// of it that an attacker who controls the file server has altered.
	tree := filepath.Join(work, "tree")
	for _, ns := range []string{"foobar", "tampered-zip", "tampered-sums", "unknown-key"} {
		out := publisher.static(t, v1, tree, ns)
		if want := "published version " + v1.rel.Version; !strings.Contains(out, want) {
			t.Fatalf("foobar-publish static -namespace %s: output lacks %q:\n%s", ns, want, out)
		}
	}
	linux := v1.pkg(t, "linux_amd64")
	evil := evilZip(t, filepath.Join(work, "evil.zip"), v1.rel.Version)
	// The zip is replaced; the download document still has the real shasum.
	copyFile(t, evil, filepath.Join(tree, "downloads/tampered-zip/foobar", v1.rel.Version, linux.Filename))
	// The zip is replaced and the download document's shasum follows it;
	// SHA256SUMS and its signature are the real ones.
	copyFile(t, evil, filepath.Join(tree, "downloads/tampered-sums/foobar", v1.rel.Version, linux.Filename))
	editJSON(t, filepath.Join(tree, "v1/providers/tampered-sums/foobar", v1.rel.Version, "download/linux/amd64"),
		func(doc map[string]any) { doc["shasum"] = sha256File(t, evil) })
	// SHA256SUMS untouched, signed again by a key the registry does not list.
	other := releasetest.DetachSign(t, releasetest.OtherKey(t), v1.rel.Sums)
	writeFile(t, filepath.Join(tree, "downloads/unknown-key/foobar", v1.rel.Version, v1.rel.SigName), other)

	reg := serveRegistry(t, host, tree)
	source := func(ns string) string { return reg.address + "/" + ns + "/foobar" }
	t.Logf("%s: registry on %s serving %s built and published in %s", cli.version, reg.address, v1.rel.Version, time.Since(began).Round(time.Second))

	t.Run("init installs the signed build", func(t *testing.T) {
		dir := tfDir(t, requiredProviders(source("foobar"), "= "+v1.rel.Version))
		out := cli.run(t, reg, dir, "init", "-input=false", "-no-color")
		wantInstalled(t, cli, out, source("foobar"), v1)
		lock := readLock(t, dir, source("foobar"))
		if lock.version != v1.rel.Version {
			t.Errorf("lock file: version %q, want %q", lock.version, v1.rel.Version)
		}
		if diff := cmp.Diff(v1.zipHashes(t), lock.zh); diff != "" {
			t.Errorf("lock file zh: hashes (-SHA256SUMS of the release +lock file):\n%s", diff)
		}
		if diff := cmp.Diff([]string{packageHash1(t, linux.Path)}, lock.h1); diff != "" {
			t.Errorf("lock file h1: hashes (-linux_amd64 zip +lock file):\n%s", diff)
		}
		bin := filepath.Join(dir, ".terraform/providers", source("foobar"), v1.rel.Version, "linux_amd64", "terraform-provider-foobar_v"+v1.rel.Version)
		if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("installed provider binary %s: %v (mode %v)", bin, err, fi)
		}

		t.Run("providers lock for two platforms", func(t *testing.T) {
			out := cli.run(t, reg, dir, "providers", "lock", "-no-color", "-platform=linux_amd64", "-platform="+otherPlatform)
			for _, p := range []string{"linux_amd64", otherPlatform} {
				if !wrapped(source("foobar"), p, cli.signedWord+", key ID "+v1.key.KeyID).MatchString(out) {
					t.Errorf("providers lock output does not show %s for %s as %s by %s:\n%s", source("foobar"), p, cli.signedWord, v1.key.KeyID, out)
				}
			}
			logLines(t, out, "- Retrieved ", "- Obtained ")
			lock := readLock(t, dir, source("foobar"))
			want := []string{packageHash1(t, linux.Path), packageHash1(t, v1.pkg(t, otherPlatform).Path)}
			sort.Strings(want)
			if diff := cmp.Diff(want, lock.h1); diff != "" {
				t.Errorf("lock file h1: hashes (-both zips +lock file):\n%s", diff)
			}
			if diff := cmp.Diff(v1.zipHashes(t), lock.zh); diff != "" {
				t.Errorf("lock file zh: hashes (-SHA256SUMS +lock file):\n%s", diff)
			}
		})

		t.Run("plan against the lab with the installed provider", func(t *testing.T) {
			writeFile(t, filepath.Join(dir, "lab.tf"), []byte(inv.ProviderHCL()+fmt.Sprintf(`
data "foobar_host" "web1" {
  %s
}

output "hostname" {
  value = data.foobar_host.web1.hostname
}
`, host.ConnectionHCL())))
			cli.run(t, reg, dir, "plan", "-input=false", "-no-color", "-out=tfplan")
			var plan struct {
				PlannedValues struct {
					Outputs map[string]struct {
						Value any `json:"value"`
					} `json:"outputs"`
				} `json:"planned_values"`
			}
			if err := json.Unmarshal([]byte(cli.run(t, reg, dir, "show", "-json", "tfplan")), &plan); err != nil {
				t.Fatalf("show -json: %v", err)
			}
			if got := plan.PlannedValues.Outputs["hostname"].Value; got != registryHost {
				t.Errorf("planned output hostname = %v, want %q (read from the host by the installed provider)", got, registryHost)
			}
			var version struct {
				ProviderSelections map[string]string `json:"provider_selections"`
			}
			if err := json.Unmarshal([]byte(cli.run(t, reg, dir, "version", "-json")), &version); err != nil {
				t.Fatalf("version -json: %v", err)
			}
			if got := version.ProviderSelections[source("foobar")]; got != v1.rel.Version {
				t.Errorf("provider selected for %s: %q, want %q (selections: %v)", source("foobar"), got, v1.rel.Version, version.ProviderSelections)
			}
		})
	})

	// Each altered copy is refused, and nothing is installed or locked.
	refusals := []struct {
		ns   string
		want *regexp.Regexp
	}{
		{"tampered-zip", wrapped("Failed to install provider", "archive has incorrect checksum zh:"+sha256File(t, evil), "(expected zh:"+linux.SHA256+")")},
		{"tampered-sums", wrapped("Failed to install provider", "checksum list has unexpected SHA-256 hash "+linux.SHA256, "(expected "+sha256File(t, evil)+")")},
		{"unknown-key", wrapped("Failed to install provider", "authentication signature from unknown issuer")},
	}
	for _, r := range refusals {
		t.Run("init refuses "+r.ns, func(t *testing.T) {
			dir := tfDir(t, requiredProviders(source(r.ns), "= "+v1.rel.Version))
			out, err := cli.try(t, reg, dir, "init", "-input=false", "-no-color")
			if err == nil {
				t.Fatalf("init succeeded; want it refused with %s:\n%s", r.want, out)
			}
			if !r.want.MatchString(out) {
				t.Errorf("init failed, but not with %s:\n%s", r.want, out)
			}
			if _, diag, ok := strings.Cut(out, "Error: "); ok {
				t.Logf("refused as it should be: Error: %s", strings.TrimSpace(diag))
			}
			if _, err := os.Stat(filepath.Join(dir, ".terraform.lock.hcl")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused install wrote .terraform.lock.hcl (%v)", err)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, ".terraform/providers", source(r.ns), "*", "*", "terraform-provider-foobar*")); len(m) > 0 {
				t.Errorf("a refused install left provider files: %v", m)
			}
		})
	}

	// A snapshot version is a SemVer pre-release: the CLI selects it only
	// through an exact constraint (what the release README tells operators).
	t.Run("a range constraint does not select a snapshot", func(t *testing.T) {
		dir := tfDir(t, requiredProviders(source("foobar"), ">= 0.0.1"))
		out, err := cli.try(t, reg, dir, "init", "-input=false", "-no-color")
		if err == nil || !wrapped("no available releases match the given constraints >= 0.0.1").MatchString(out) {
			t.Errorf("init with >= 0.0.1: err %v, want no matching release:\n%s", err, out)
		}
	})

	t.Run("a second version keeps the first installable", func(t *testing.T) {
		v2 := buildSnapshot(t, repo, filepath.Join(work, "v2"), "v0.2.0")
		if v2.rel.Version == v1.rel.Version {
			t.Fatalf("both snapshots are version %s", v1.rel.Version)
		}
		out := publisher.static(t, v2, tree, "foobar")
		if want := fmt.Sprintf("now has versions: %s %s", v1.rel.Version, v2.rel.Version); !strings.Contains(out, want) {
			t.Fatalf("foobar-publish static (second version): output lacks %q:\n%s", want, out)
		}
		host.CopyDir(t, tree, registryTree)
		var index struct {
			Versions []struct {
				Version string `json:"version"`
			} `json:"versions"`
		}
		if err := json.Unmarshal(reg.get(t, "/v1/providers/foobar/foobar/versions"), &index); err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, v := range index.Versions {
			listed = append(listed, v.Version)
		}
		if diff := cmp.Diff([]string{v1.rel.Version, v2.rel.Version}, listed); diff != "" {
			t.Errorf("served versions index (-want +got):\n%s", diff)
		}
		for _, v := range []*snapshot{v1, v2} {
			dir := tfDir(t, requiredProviders(source("foobar"), "= "+v.rel.Version))
			out := cli.run(t, reg, dir, "init", "-input=false", "-no-color")
			wantInstalled(t, cli, out, source("foobar"), v)
			if lock := readLock(t, dir, source("foobar")); lock.version != v.rel.Version || !cmp.Equal(v.zipHashes(t), lock.zh) {
				t.Errorf("lock file after installing %s: version %s, zh %v; want zh %v", v.rel.Version, lock.version, lock.zh, v.zipHashes(t))
			}
		}
	})
	t.Logf("registry test body took %s", time.Since(began).Round(time.Second))
}

// accCLI is the Terraform or OpenTofu CLI under test.
type accCLI struct {
	path    string
	version string // first line of `version`, e.g. "Terraform v1.11.4"
	// signedWord is how the CLI describes a provider signed by a key that is
	// neither HashiCorp's nor a partner's: "self-signed" (Terraform) or
	// "signed" (OpenTofu).
	signedWord string
	rcFile     string
}

// requireAccCLI gates an acceptance test on TF_ACC like terraform-plugin-testing
// does (skipped without it), then fails, never skips, when the CLI is
// missing: TF_ACC_TERRAFORM_PATH, else terraform on PATH.
func requireAccCLI(t *testing.T) *accCLI {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		var err error
		if p, err = exec.LookPath("terraform"); err != nil {
			t.Fatal("TF_ACC is set but there is no Terraform CLI: set TF_ACC_TERRAFORM_PATH or put terraform on PATH")
		}
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("TF_ACC_TERRAFORM_PATH=%s: %v", p, err)
	}
	for _, tool := range []string{"gpg", "docker", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("TF_ACC is set but %s is not on PATH (the release test needs it; tools/deps.sh installs gpg)", tool)
		}
	}
	// An empty CLI configuration: no mirrors, overrides or plugin cache
	// from the environment may stand in for the registry.
	rc := filepath.Join(t.TempDir(), "cli.tfrc")
	writeFile(t, rc, []byte("# registry acceptance test: no mirrors, no overrides, no plugin cache\n"))
	c := &accCLI{path: p, rcFile: rc}
	cmd := exec.Command(p, "version")
	cmd.Env = c.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v: %s", p, err, out)
	}
	c.version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	switch {
	case strings.HasPrefix(c.version, "Terraform v"):
		c.signedWord = "self-signed"
	case strings.HasPrefix(c.version, "OpenTofu v"):
		c.signedWord = "signed"
	default:
		t.Fatalf("%s is neither Terraform nor OpenTofu: %q", p, c.version)
	}
	return c
}

// try runs the CLI in dir with the registry's CA as its only trust anchor
// and returns its combined output.
func (c *accCLI) try(t *testing.T, reg *registry, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir = dir
	cmd.Env = c.env("SSL_CERT_FILE=" + reg.caFile)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// env is the CLI's environment: the caller's without anything TF_*
// (TF_CLI_ARGS, TF_PLUGIN_CACHE_DIR, TF_LOG, ...) or certificate settings,
// plus the test's CLI configuration and extra.
func (c *accCLI) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") || k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR" || k == "CHECKPOINT_DISABLE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+c.rcFile, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	return append(env, extra...)
}

// run is try that fails the test when the CLI fails.
func (c *accCLI) run(t *testing.T, reg *registry, dir string, args ...string) string {
	t.Helper()
	out, err := c.try(t, reg, dir, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(c.path), strings.Join(args, " "), err, out)
	}
	return out
}

func wantInstalled(t *testing.T, cli *accCLI, out, source string, s *snapshot) {
	t.Helper()
	want := wrapped(fmt.Sprintf("- Installed %s v%s (%s, key ID %s)", source, s.rel.Version, cli.signedWord, s.key.KeyID))
	if !want.MatchString(out) {
		t.Errorf("init output does not show %s v%s installed as %s by key %s:\n%s", source, s.rel.Version, cli.signedWord, s.key.KeyID, out)
	}
	logLines(t, out, "- Installed ")
}

// logLines logs the lines of out that start with one of prefixes.
func logLines(t *testing.T, out string, prefixes ...string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				t.Log(l)
			}
		}
	}
}

// snapshot is a signed release built by tools/release-snapshot.sh.
type snapshot struct {
	dist, pubkey string
	key          *release.PublicKey
	rel          *release.Release
}

func (s *snapshot) pkg(t *testing.T, platform string) release.Package {
	t.Helper()
	for _, p := range s.rel.Packages {
		if p.String() == platform {
			return p
		}
	}
	t.Fatalf("snapshot %s has no %s archive", s.rel.Version, platform)
	return release.Package{}
}

// zipHashes are the lock file's zh: hashes for the release: Terraform
// records one for every line of the signed SHA256SUMS (the zips and the
// registry manifest), sorted.
func (s *snapshot) zipHashes(t *testing.T) []string {
	t.Helper()
	entries, problems := release.ParseSHA256SUMS(s.rel.Sums)
	if len(problems) > 0 || len(entries) != len(s.rel.Packages)+1 {
		t.Fatalf("SHA256SUMS of %s: %d entries for %d zips and the manifest, problems %v", s.rel.Version, len(entries), len(s.rel.Packages), problems)
	}
	var zh []string
	for _, e := range entries {
		zh = append(zh, "zh:"+e.SHA256)
	}
	sort.Strings(zh)
	return zh
}

// buildSnapshot runs tools/release-snapshot.sh (GoReleaser, a throwaway
// signing key, foobar-publish validate) for linux_amd64 and otherPlatform,
// with the version derived from tag, into dir.
func buildSnapshot(t *testing.T, repo, dir, tag string) *snapshot {
	t.Helper()
	s := &snapshot{dist: filepath.Join(dir, "dist"), pubkey: filepath.Join(dir, "work", "pubkey.asc")}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "tools", "release-snapshot.sh"))
	cmd.Dir = repo
	cmd.Env = append(os.Environ(),
		"FOOBAR_RELEASE_TARGETS=linux_amd64,"+otherPlatform,
		"FOOBAR_RELEASE_DIST="+s.dist,
		"FOOBAR_RELEASE_WORK="+filepath.Dir(s.pubkey),
		"GORELEASER_CURRENT_TAG="+tag,
		"GPG_FINGERPRINT=", // always the throwaway key
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tools/release-snapshot.sh: %v\n%s", err, out)
	}
	armored, err := os.ReadFile(s.pubkey)
	if err != nil {
		t.Fatal(err)
	}
	if s.key, err = release.ParsePublicKey(armored); err != nil {
		t.Fatal(err)
	}
	platforms, err := release.ParsePlatforms("linux_amd64," + otherPlatform)
	if err != nil {
		t.Fatal(err)
	}
	s.rel, err = release.Verify(release.VerifyOptions{
		Dist: s.dist, Key: s.key, ManifestPath: filepath.Join(repo, "terraform-registry-manifest.json"), Platforms: platforms,
	})
	if err != nil {
		t.Fatalf("the snapshot does not verify: %v", err)
	}
	if len(s.rel.Packages) != 2 {
		t.Fatalf("snapshot has %d archives, want exactly linux_amd64 and %s", len(s.rel.Packages), otherPlatform)
	}
	t.Logf("tools/release-snapshot.sh built signed snapshot %s (%s, %s) in %s", s.rel.Version, "linux_amd64", otherPlatform, time.Since(start).Round(100*time.Millisecond))
	return s
}

// publisher runs a foobar-publish binary built from this repository.
type publisher string

func buildPublisher(t *testing.T, repo, dir string) publisher {
	t.Helper()
	bin := filepath.Join(dir, "foobar-publish")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/release/cmd/foobar-publish")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build foobar-publish: %v\n%s", err, out)
	}
	return publisher(bin)
}

func (p publisher) static(t *testing.T, s *snapshot, tree, namespace string) string {
	t.Helper()
	cmd := exec.Command(string(p), "static", "-dist", s.dist, "-key", s.pubkey,
		"-manifest", filepath.Join(acctest.RepoRoot(), "terraform-registry-manifest.json"),
		"-out", tree, "-namespace", namespace, "-type", "foobar")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("foobar-publish static -namespace %s: %v\n%s", namespace, err, out)
	}
	return string(out)
}

// registry is the static tree served by nginx on the lab host.
type registry struct {
	address string // host part of provider source addresses: the host's IP
	caFile  string // PEM of the test CA, for SSL_CERT_FILE
	client  *http.Client
}

func (r *registry) get(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := r.client.Get("https://" + r.address + path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body
}

// serveRegistry copies tree onto the host and has its nginx serve it on
// port 443 with a certificate (subjectAltName: the host's IP) from a CA made
// for this test. Everything is removed when the test ends, and the host is
// checked to be as it was: same files under /etc/nginx and /srv, same nginx
// configuration, same listening ports.
func serveRegistry(t *testing.T, h acctest.Host, tree string) *registry {
	t.Helper()
	ip := net.ParseIP(h.Address)
	if ip == nil {
		t.Fatalf("%s: address %q is not an IP address", h.Name, h.Address)
	}
	// Left by a run that was killed before its cleanup: ours, by name.
	if out := h.Exec(t, "sh", "-c", `for p; do if [ -e "$p" ]; then echo "$p"; fi; done`, "sh", registryTree, registryConfDir, registrySite); strings.TrimSpace(out) != "" {
		t.Logf("%s: removing leftovers of an interrupted run: %s", h.Name, strings.Fields(out))
		removeRegistry(t, h)
	}
	if out := h.Exec(t, "ss", "-Hltn", "sport = :443"); strings.TrimSpace(out) != "" {
		t.Fatalf("%s: port 443 is already in use, cannot serve the test registry there:\n%s", h.Name, out)
	}
	before := hostState(t, h)
	t.Cleanup(func() {
		removeRegistry(t, h)
		deadline := time.Now().Add(15 * time.Second)
		for strings.TrimSpace(h.Exec(t, "ss", "-Hltn", "sport = :443")) != "" && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if diff := cmp.Diff(before, hostState(t, h)); diff != "" {
			t.Errorf("%s is not as the test found it (-before +after):\n%s", h.Name, diff)
		}
	})

	caPEM, certPEM, keyPEM := testCA(t, ip)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, caFile, caPEM)
	snippet, err := release.NginxSnippet(registryTree, "")
	if err != nil {
		t.Fatal(err)
	}
	h.WriteFile(t, registryConfDir+"/server.crt", 0o644, certPEM)
	h.WriteFile(t, registryConfDir+"/server.key", 0o600, keyPEM)
	h.WriteFile(t, registryConfDir+"/registry.conf", 0o644, []byte(snippet))
	h.WriteFile(t, registrySite, 0o644, []byte(fmt.Sprintf(`# Terraform registry of the foobar release acceptance test
# (internal/release/registry_acc_test.go); removed when the test ends.
server {
    listen 443 ssl;
    server_name _;
    ssl_certificate     %[1]s/server.crt;
    ssl_certificate_key %[1]s/server.key;
    include %[1]s/registry.conf;
}
`, registryConfDir)))
	if err := os.Chmod(tree, 0o755); err != nil { // t.TempDir is 0700
		t.Fatal(err)
	}
	h.CopyDir(t, tree, registryTree)
	h.Exec(t, "nginx", "-t", "-q")
	h.Exec(t, "systemctl", "reload", "nginx")

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	reg := &registry{
		address: ip.String(),
		caFile:  caFile,
		client: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		},
	}
	// nginx opens the port shortly after the reload returns.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := reg.client.Get("https://" + reg.address + "/.well-known/terraform.json")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("discovery document: %s, Content-Type %q: %s", resp.Status, resp.Header.Get("Content-Type"), body)
			}
			if !bytes.Contains(body, []byte(`"providers.v1": "/v1/providers/"`)) {
				t.Fatalf("discovery document does not name providers.v1: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the registry does not answer over HTTPS: %v", h.Name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return reg
}

// removeRegistry deletes what serveRegistry installed and reloads nginx.
func removeRegistry(t *testing.T, h acctest.Host) {
	t.Helper()
	h.Exec(t, "rm", "-rf", registrySite, registryConfDir, registryTree)
	h.Exec(t, "nginx", "-t", "-q")
	h.Exec(t, "systemctl", "reload", "nginx")
}

// hostState is what the registry test may change on the host.
func hostState(t *testing.T, h acctest.Host) []string {
	t.Helper()
	var lines []string
	for _, argv := range [][]string{
		{"find", "/etc/nginx", "-printf", "%p %M %u:%g %s\n"},
		{"find", "/srv", "-maxdepth", "1", "-printf", "%p %M %u:%g\n"},
		{"nginx", "-T", "-q"},
		{"ss", "-Hltn"},
		{"systemctl", "is-active", "nginx"},
	} {
		out := h.Exec(t, argv...)
		if argv[0] == "ss" {
			// Queue sizes come and go; the listening address:port stays.
			var socks []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if f := strings.Fields(l); len(f) >= 4 {
					socks = append(socks, f[3])
				}
			}
			out = strings.Join(socks, "\n")
		}
		ls := strings.Split(strings.TrimSpace(out), "\n")
		if argv[0] != "nginx" {
			sort.Strings(ls)
		}
		lines = append(lines, append([]string{"## " + strings.Join(argv, " ")}, ls...)...)
	}
	return lines
}

// testCA returns a CA certificate, and a server certificate and key that it
// signed for ip (PEM), valid for a day.
func testCA(t *testing.T, ip net.IP) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	ca := acctest.NewTestCA(t)
	cert, key := ca.Issue(t, nil, []net.IP{ip}, 0)
	return []byte(ca.PEM), []byte(cert), []byte(key)
}

// evilZip writes a valid provider zip for version holding something else
// than the provider: what an attacker would serve.
func evilZip(t *testing.T, path, version string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("terraform-provider-foobar_v" + version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "#!/bin/sh\necho not the provider >&2\nexit 1\n"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
	return path
}

// packageHash1 is Terraform's "h1:" hash of a provider zip (the Go module
// dirhash Hash1 of its contents): sha256 over the sorted lines
// "<sha256 hex>  <name>\n" of every file in the zip.
func packageHash1(t *testing.T, zipPath string) string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zr.Close() }()
	files := map[string]*zip.File{}
	var names []string
	for _, f := range zr.File {
		files[f.Name] = f
		names = append(names, f.Name)
	}
	sort.Strings(names)
	sum := sha256.New()
	for _, name := range names {
		r, err := files[name].Open()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, r)
		_ = r.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(sum, "%x  %s\n", h.Sum(nil), name)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(sum.Sum(nil))
}

// lockEntry is one provider block of .terraform.lock.hcl.
type lockEntry struct {
	version string
	h1, zh  []string // sorted
}

func readLock(t *testing.T, dir, source string) lockEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl"))
	if err != nil {
		t.Fatalf("lock file: %v", err)
	}
	block := regexp.MustCompile(`(?s)provider "` + regexp.QuoteMeta(source) + `" \{\n(.*?)\n\}`).FindSubmatch(data)
	if block == nil {
		t.Fatalf("lock file has no block for %s:\n%s", source, data)
	}
	var e lockEntry
	if m := regexp.MustCompile(`(?m)^\s*version\s*=\s*"([^"]*)"`).FindSubmatch(block[1]); m != nil {
		e.version = string(m[1])
	}
	for _, m := range regexp.MustCompile(`"((h1|zh):[^"]+)"`).FindAllSubmatch(block[1], -1) {
		if string(m[2]) == "h1" {
			e.h1 = append(e.h1, string(m[1]))
		} else {
			e.zh = append(e.zh, string(m[1]))
		}
	}
	sort.Strings(e.h1)
	sort.Strings(e.zh)
	return e
}

// wrapped matches the parts in order, each literal except that a space
// matches any white space (the CLI wraps long diagnostics).
func wrapped(parts ...string) *regexp.Regexp {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
	}
	return regexp.MustCompile("(?s)" + strings.Join(q, ".*"))
}

func requiredProviders(source, constraint string) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    foobar = {
      source  = %q
      version = %q
    }
  }
}
`, source, constraint)
}

// tfDir is a new working directory holding main.tf.
func tfDir(t *testing.T, mainTF string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "main.tf"), []byte(mainTF))
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if _, err := os.Stat(to); err != nil {
		t.Fatalf("replace %s: %v", to, err)
	}
	writeFile(t, to, readFile(t, from))
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	return sha256Hex(readFile(t, path))
}

func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	doc := map[string]any{}
	if err := json.Unmarshal(readFile(t, path), &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	edit(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, out)
}
