#!/usr/bin/env bash
# Print the path of the Terraform CLI the tests use: terraform from PATH when
# there is one, otherwise one built from the Go module proxy into .cache/bin
# (never downloaded from releases.hashicorp.com).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${FOOBAR_TERRAFORM_VERSION:-v1.6.6}
if [[ -z "${FOOBAR_BUILD_TERRAFORM:-}" ]] && tf=$(command -v terraform 2>/dev/null); then
  echo "$tf"
  exit 0
fi
bin="$root/.cache/terraform-$version/bin"
if [[ ! -x "$bin/terraform" ]]; then
  echo "terraform: building $version from the Go module proxy (one time, a few minutes)..." >&2
  GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/hashicorp/terraform@$version" >&2
fi
echo "$bin/terraform"
