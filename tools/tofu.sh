#!/usr/bin/env bash
# Copyright (c) foobar authors
# SPDX-License-Identifier: MPL-2.0
#
# Print the path of the OpenTofu CLI that `make testacc-tofu` uses, building
# it first when needed: from the Go module proxy into .cache/tofu-<version>/bin
# (never downloaded as a prebuilt binary).
#
#   tools/tofu.sh            -> /path/to/.cache/tofu-v1.12.6/bin/tofu
#
# OpenTofu's go.mod has replace directives, so `go install module@version`
# refuses it; instead the module is downloaded into the module cache and
# ./cmd/tofu is built inside it, with OpenTofu's own go.mod and go.sum.
#
# Environment:
#   FOOBAR_TOFU_VERSION   OpenTofu module version (default below). It must
#                         build with the Go toolchain on PATH (v1.12.x needs
#                         Go >= 1.26.6).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${FOOBAR_TOFU_VERSION:-v1.12.6}
bin="$root/.cache/tofu-$version/bin"
# Built as OpenTofu's own release does (.goreleaser.yaml: version.dev=no), so
# it reports "OpenTofu v1.12.6", not "v1.12.6-dev"; anything else is rebuilt.
have=$(TF_CLI_CONFIG_FILE=/dev/null "$bin/tofu" version 2>/dev/null || true)
if [[ ${have%%$'\n'*} != "OpenTofu $version" ]]; then
  echo "tofu: building OpenTofu $version from the Go module proxy (one time, a few minutes)..." >&2
  # From an empty directory: outside this repository's module, so its go.mod
  # and go.sum stay untouched.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  dir=$(cd "$tmp" && GOWORK=off go mod download -json "github.com/opentofu/opentofu@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n "$dir" && -f "$dir/cmd/tofu/main.go" ]] || {
    echo "tofu: could not download github.com/opentofu/opentofu@$version" >&2
    exit 1
  }
  mkdir -p "$bin"
  # Into a temporary name first: an interrupted build leaves no half binary
  # that the next run would take for a finished one.
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS='-mod=readonly -buildvcs=false' GOTOOLCHAIN=local \
    go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
      -o "$bin/tofu.tmp" ./cmd/tofu) >&2
  mv "$bin/tofu.tmp" "$bin/tofu"
fi
echo "$bin/tofu"
