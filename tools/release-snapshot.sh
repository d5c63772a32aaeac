#!/usr/bin/env bash
# Copyright (c) foobar authors
# SPDX-License-Identifier: MPL-2.0
#
# Build a signed snapshot release locally, exactly as CI builds a tagged one,
# without publishing anything, then check it with foobar-publish validate.
#
#   tools/release-snapshot.sh
#
# Environment:
#   GPG_FINGERPRINT          sign with this key from your keyring (GNUPGHOME).
#                            Unset: a throwaway key is generated in a temporary
#                            GNUPGHOME and deleted afterwards. FOR TESTS ONLY:
#                            nothing signed with it can be trusted.
#   FOOBAR_RELEASE_TARGETS   comma-separated GoReleaser targets to build instead
#                            of the full matrix, e.g. linux_amd64,darwin_arm64.
#   FOOBAR_RELEASE_VALIDATE  0 skips the foobar-publish validate step.
#   FOOBAR_RELEASE_DIST      GoReleaser output directory (default dist/); it is
#                            emptied first (--clean).
#   FOOBAR_RELEASE_WORK      where the public key and the effective GoReleaser
#                            config are written (default .cache/release-snapshot).
#   GORELEASER_CURRENT_TAG   GoReleaser's own: the tag a snapshot's version is
#                            derived from (v0.2.0 gives 0.2.1-snapshot-<commit>);
#                            default: the latest tag, else v0.0.0.
#   GORELEASER               goreleaser binary to use; default .cache/bin/goreleaser,
#                            installed there (pinned version below) if missing.
#
# Outputs: dist/ (GoReleaser's output) and .cache/release-snapshot/ (the
# public key, the effective GoReleaser config), or the directories named above. Needs no network once the Go
# module cache holds the provider's dependencies and GoReleaser is installed.
set -euo pipefail

# GoReleaser v2.15.0 and v2.15.1 rewrite SHA256SUMS after signing it, so its
# signature never verifies (goreleaser/goreleaser#6508, #6514); v2.16.0 is
# the first fixed release. Keep in step with .github/workflows/release.yml.
GORELEASER_VERSION=v2.16.0

die() {
	echo "release-snapshot: $*" >&2
	exit 1
}

cd "$(dirname "$0")/.."
repo=$PWD
work=${FOOBAR_RELEASE_WORK:-$repo/.cache/release-snapshot}
dist=${FOOBAR_RELEASE_DIST:-$repo/dist}
mkdir -p "$work" "$repo/.cache/bin"
work=$(cd "$work" && pwd)
case $dist in /*) ;; *) dist=$repo/$dist ;; esac
# GoReleaser has no flag for its output directory: it goes into the config
# copy as a single-quoted YAML string.
[[ $dist == *[\\"'"]* || $dist == *$'\n'* ]] && die "FOOBAR_RELEASE_DIST: single quotes, backslashes and newlines are not supported: $dist"

command -v gpg >/dev/null 2>&1 || die "gpg not found: GoReleaser signs SHA256SUMS with it. Install it with: apt-get install gnupg"
command -v go >/dev/null 2>&1 || die "go not found in PATH"
[ -f main.go ] || die "no main.go in $repo: GoReleaser builds the provider from the repository root"

goreleaser=${GORELEASER:-$repo/.cache/bin/goreleaser}
if [ -z "${GORELEASER:-}" ] && ! "$goreleaser" --version 2>/dev/null | grep -q "GitVersion: *$GORELEASER_VERSION\$"; then
	echo "release-snapshot: installing goreleaser $GORELEASER_VERSION into .cache/bin (a few minutes, once)" >&2
	GOBIN=$repo/.cache/bin go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION" ||
		die "could not install goreleaser $GORELEASER_VERSION (needs the Go module proxy once)"
fi
goreleaser=$(command -v "$goreleaser") || die "goreleaser not found: ${GORELEASER:-$repo/.cache/bin/goreleaser}"

# The GoReleaser config: the repository's, or a copy with its own output
# directory and/or a build matrix replaced by the requested targets (between
# the markers in .goreleaser.yml).
config=$repo/.goreleaser.yml
if [ -n "${FOOBAR_RELEASE_TARGETS:-}" ] || [ -n "${FOOBAR_RELEASE_DIST:-}" ]; then
	targets=""
	if [ -n "${FOOBAR_RELEASE_TARGETS:-}" ]; then
		IFS=, read -r -a list <<<"$FOOBAR_RELEASE_TARGETS"
		for t in "${list[@]}"; do
			t=${t// /}
			[ -z "$t" ] && continue
			[[ $t =~ ^[a-z0-9]+_[a-z0-9]+(_[a-z0-9.]+)?$ ]] || die "FOOBAR_RELEASE_TARGETS: bad target '$t' (want os_arch, e.g. linux_amd64)"
			targets+="      - $t"$'\n'
		done
		[ -n "$targets" ] || die "FOOBAR_RELEASE_TARGETS is set but names no target"
	fi
	config=$work/goreleaser.yml
	awk -v targets="$targets" -v dist="$dist" '
		/^version: / && !done { print; print "dist: \047" dist "\047"; done = 1; next }
		/# targets:begin/ { found++; if (targets == "") { next } print "    targets:"; printf "%s", targets; skip = 1; next }
		/# targets:end/   { skip = 0; next }
		!skip             { print }
		END               { if (found != 1) exit 3; if (!done) exit 4 }
	' "$repo/.goreleaser.yml" >"$config" || die "could not rewrite .goreleaser.yml: it needs a top-level 'version:' line and the '# targets:begin' / '# targets:end' markers"
	if [ -n "$targets" ] && grep -qE '^ +goos:' "$config"; then
		die "generated $config still has a goos list: markers misplaced in .goreleaser.yml"
	fi
fi

# GoReleaser takes the version and commit from git, but drops all of it
# (version 0.0.1-snapshot-none, commit "none", GORELEASER_CURRENT_TAG ignored)
# when `git ls-remote --get-url` fails, as it does in a clone or worktree
# without a remote. A snapshot publishes nothing, so a placeholder origin (in
# this process's environment only) is enough.
if [ -z "$(git remote 2>/dev/null)" ] && [ -z "${GIT_CONFIG_COUNT:-}" ]; then
	export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0="file://$repo"
fi

# The signing key.
gnupghome=""
cleanup() {
	if [ -n "$gnupghome" ]; then
		gpgconf --homedir "$gnupghome" --kill all >/dev/null 2>&1 || true
		rm -rf "$gnupghome"
	fi
}
trap cleanup EXIT
if [ -z "${GPG_FINGERPRINT:-}" ]; then
	# A short path: gpg-agent's socket path must stay under ~100 characters.
	gnupghome=$(mktemp -d /tmp/foobar-gpg.XXXXXX)
	chmod 700 "$gnupghome"
	export GNUPGHOME=$gnupghome
	echo "release-snapshot: GPG_FINGERPRINT unset: generating a THROWAWAY signing key (tests only)" >&2
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
		--quick-gen-key "foobar snapshot (throwaway test key) <snapshot@foobar.invalid>" rsa3072 sign 1d ||
		die "gpg could not generate the throwaway key"
	GPG_FINGERPRINT=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr:/ { print $10; exit }')
	[ -n "$GPG_FINGERPRINT" ] || die "could not read the throwaway key's fingerprint"
fi
export GPG_FINGERPRINT
pubkey=$work/pubkey.asc
gpg --batch --armor --export "$GPG_FINGERPRINT" >"$pubkey"
[ -s "$pubkey" ] || die "no public key for GPG_FINGERPRINT=$GPG_FINGERPRINT in ${GNUPGHOME:-~/.gnupg}"

"$goreleaser" release --snapshot --clean --skip=publish --config "$config"

if [ "${FOOBAR_RELEASE_VALIDATE:-1}" != 0 ]; then
	go run ./internal/release/cmd/foobar-publish validate -dist "$dist" -key "$pubkey" -manifest terraform-registry-manifest.json
fi

cat <<EOF

release-snapshot: done
  dist:            $dist
  key fingerprint: $GPG_FINGERPRINT$([ -n "$gnupghome" ] && echo " (throwaway, already deleted)")
  public key:      $pubkey
  check again:     go run ./internal/release/cmd/foobar-publish validate -dist $dist -key $pubkey
EOF
