// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Command foobar-publish checks a GoReleaser dist/ directory and publishes the
// provider version in it to a Terraform provider registry.
//
//	foobar-publish validate -dist dist -key pubkey.asc
//	foobar-publish static   -dist dist -key pubkey.asc -out DIR -namespace foobar -type foobar [-base-url https://...] [-force] [-nginx-conf FILE]
//	foobar-publish tfe      -dist dist -key pubkey.asc -org ORG [-namespace ORG] -name foobar [-hostname HOST]
//
// Every command validates first and publishes nothing from a broken release.
// static refuses an http:// base URL (the whole tree would then be fetched
// in clear text) unless -insecure-allow-http, which is for local tests only.
// tfe reads the API token from TFE_TOKEN and the host from -hostname, else
// TFE_HOSTNAME, else app.terraform.io.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const usage = `usage:
  foobar-publish validate -dist DIR -key PUBKEY.asc [common flags]
  foobar-publish static   -dist DIR -key PUBKEY.asc -out DIR -namespace NS -type TYPE [-base-url https://HOST[/PREFIX]] [-force] [-nginx-conf FILE]
  foobar-publish tfe      -dist DIR -key PUBKEY.asc -org ORG [-namespace NS] -name TYPE [-hostname HOST]   (token: TFE_TOKEN)

Common flags: -manifest FILE (default terraform-registry-manifest.json),
-protocols 6.0, -platforms os_arch,... (require these archives).
Run "foobar-publish COMMAND -h" for details.
`

// sayf and say write command output; a failed write to the terminal is
// not worth an error of its own.
func sayf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

func say(w io.Writer, s string) { _, _ = io.WriteString(w, s) }

// errUsage marks command-line mistakes (exit code 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		say(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "validate":
		err = runValidate(args[1:], stdout, stderr)
	case "static":
		err = runStatic(args[1:], stdout, stderr)
	case "tfe":
		err = runTFE(ctx, args[1:], stdout, stderr, getenv)
	case "-h", "-help", "--help", "help":
		say(stdout, usage)
		return 0
	default:
		sayf(stderr, "foobar-publish: unknown command %q\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		sayf(stderr, "foobar-publish %s: %v\n", args[0], err)
		return 2
	default:
		sayf(stderr, "foobar-publish %s: %v\n", args[0], err)
		return 1
	}
}

// common holds the flags every command has: what to verify.
type common struct {
	dist, key, manifest, protocols, platforms string
}

func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet("foobar-publish "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &common{}
	fs.StringVar(&c.dist, "dist", "dist", "GoReleaser output directory")
	fs.StringVar(&c.key, "key", "", "ASCII-armored public key that signed SHA256SUMS (required)")
	fs.StringVar(&c.manifest, "manifest", "terraform-registry-manifest.json", "registry manifest to use when dist/ has no copy; its hash must match SHA256SUMS")
	fs.StringVar(&c.protocols, "protocols", strings.Join(release.DefaultProtocols, ","), "plugin protocol versions the build serves")
	fs.StringVar(&c.platforms, "platforms", "", "comma-separated os_arch archives that must be present (default: whatever was built)")
	return fs, c
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// verify loads the key and verifies the release: the first step of every command.
func (c *common) verify() (*release.Release, *release.PublicKey, error) {
	if c.key == "" {
		return nil, nil, fmt.Errorf("%w: -key is required", errUsage)
	}
	armored, err := os.ReadFile(c.key)
	if err != nil {
		return nil, nil, err
	}
	key, err := release.ParsePublicKey(armored)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.key, err)
	}
	platforms, err := release.ParsePlatforms(c.platforms)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: -platforms: %w", errUsage, err)
	}
	var protocols []string
	for _, p := range strings.Split(c.protocols, ",") {
		if p = strings.TrimSpace(p); p != "" {
			protocols = append(protocols, p)
		}
	}
	rel, err := release.Verify(release.VerifyOptions{
		Dist:         c.dist,
		Key:          key,
		Protocols:    protocols,
		ManifestPath: c.manifest,
		Platforms:    platforms,
	})
	if err != nil {
		return nil, nil, err
	}
	return rel, key, nil
}

func describe(rel *release.Release) string {
	var platforms []string
	for _, p := range rel.Packages {
		platforms = append(platforms, p.String())
	}
	return fmt.Sprintf("%s %s (protocols %s; signed by %s; %d platforms: %s)",
		rel.ProjectName, rel.Version, strings.Join(rel.Protocols, ","), rel.SignerKeyID, len(platforms), strings.Join(platforms, " "))
}

func runValidate(args []string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("validate", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	rel, _, err := c.verify()
	if err != nil {
		return err
	}
	sayf(stdout, "valid: %s\n", describe(rel))
	return nil
}

func runStatic(args []string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("static", stderr)
	var opts release.StaticOptions
	var nginxConf string
	fs.StringVar(&opts.Out, "out", "", "root of the static registry tree (required)")
	fs.StringVar(&opts.Namespace, "namespace", "", "provider namespace (required)")
	fs.StringVar(&opts.Type, "type", "", "provider type, e.g. foobar (required)")
	fs.StringVar(&opts.BaseURL, "base-url", "", "public https URL of the tree root, e.g. https://registry.example.com (default: relative URLs)")
	fs.BoolVar(&opts.InsecureAllowHTTP, "insecure-allow-http", false, "UNSAFE, local tests only: accept an http:// -base-url (zips, SHA256SUMS, signature and key then travel in clear text)")
	fs.BoolVar(&opts.Force, "force", false, "replace an already published version whose files differ")
	fs.StringVar(&nginxConf, "nginx-conf", "", "also write an nginx snippet serving -out to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if opts.Out == "" || opts.Namespace == "" || opts.Type == "" {
		return fmt.Errorf("%w: -out, -namespace and -type are required", errUsage)
	}
	rel, key, err := c.verify()
	if err != nil {
		return err
	}
	sayf(stdout, "valid: %s\n", describe(rel))
	if opts.InsecureAllowHTTP && strings.HasPrefix(strings.ToLower(opts.BaseURL), "http:") {
		sayf(stderr, "foobar-publish static: WARNING: -insecure-allow-http: the tree names %s; anyone on the path can replace "+
			"the zips, SHA256SUMS, its signature and the signing key together. Never serve this tree to real users.\n", opts.BaseURL)
	}
	res, err := release.PublishStatic(rel, key, opts)
	if err != nil {
		return err
	}
	switch {
	case res.Unchanged:
		sayf(stdout, "version %s was already published with the same files: nothing changed\n", res.Version)
	case res.Replaced:
		sayf(stdout, "version %s replaced (-force)\n", res.Version)
	default:
		sayf(stdout, "published version %s\n", res.Version)
	}
	sayf(stdout, "%s/%s now has versions: %s\n", opts.Namespace, opts.Type, strings.Join(res.Versions, " "))
	if nginxConf != "" {
		root, err := filepath.Abs(opts.Out)
		if err != nil {
			return err
		}
		snippet, err := release.NginxSnippet(root, opts.BaseURL)
		if err != nil {
			return err
		}
		if err := os.WriteFile(nginxConf, []byte(snippet), 0o644); err != nil { //nolint:gosec // nginx (another user) reads it
			return err
		}
		sayf(stdout, "nginx snippet written to %s\n", nginxConf)
	}
	return nil
}

func runTFE(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, c := newFlagSet("tfe", stderr)
	var opts release.TFEOptions
	hostname := getenv("TFE_HOSTNAME")
	fs.StringVar(&opts.Organization, "org", "", "HCP Terraform / Terraform Enterprise organization (required)")
	fs.StringVar(&opts.Namespace, "namespace", "", "provider namespace (default: the organization, as private providers require)")
	fs.StringVar(&opts.Name, "name", "", "provider type, e.g. foobar (required)")
	fs.StringVar(&hostname, "hostname", hostname, "API host (default $TFE_HOSTNAME, else "+release.DefaultTFEHostname+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if opts.Organization == "" || opts.Name == "" {
		return fmt.Errorf("%w: -org and -name are required", errUsage)
	}
	token := getenv("TFE_TOKEN")
	if token == "" {
		return fmt.Errorf("%w: TFE_TOKEN is not set (an owners-team or Manage Private Registry token)", errUsage)
	}
	rel, key, err := c.verify()
	if err != nil {
		return err
	}
	sayf(stdout, "valid: %s\n", describe(rel))
	client, err := release.NewTFEClient(hostname, token, nil)
	if err != nil {
		return err
	}
	client.Logf = func(format string, args ...any) { sayf(stdout, format+"\n", args...) }
	res, err := client.Publish(ctx, rel, key, opts)
	if err != nil {
		return err
	}
	sayf(stdout, "published %s %s to the private registry of %s (%d uploads)\n", rel.ProjectName, rel.Version, opts.Organization, len(res.Uploaded))
	return nil
}
