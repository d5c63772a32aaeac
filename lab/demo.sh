#!/usr/bin/env bash
# make demo: bring the lab up, build the provider, install it into a local
# filesystem mirror (no registry), and apply the example against the lab.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "Lab: real Debian hosts in Docker (first run builds the images: a few minutes)"
lab/lab.sh up
inv=$(lab/lab.sh inventory)

step "Terraform CLI"
tf=$(tools/terraform.sh)
"$tf" version | head -n 1

step "Building the provider"
version=0.1.0
work="$root/.cache/demo"
mirror="$work/mirror/registry.terraform.io/foobar/foobar/$version/$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$mirror" "$work/run"
go build -trimpath -ldflags "-X main.version=$version" -o "$mirror/terraform-provider-foobar_v$version" .
cat > "$work/terraformrc" <<RC
# make demo: the foobar provider comes from a local filesystem mirror.
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/foobar/foobar"]
  }
  direct {
    exclude = ["registry.terraform.io/foobar/foobar"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

step "Applying examples/lab-hosts against the lab"
cp examples/lab-hosts/*.tf "$work/run/"
# Inventory -> tfvars (the lab's user, key, known_hosts and hosts).
jq '{ssh_user: .user, private_key_file: .private_key_file, known_hosts_file: .known_hosts_file,
     hosts: (.hosts | map({key: .name, value: ({address: .address}
             + (if .sudo_password != "" then {sudo_password: .sudo_password} else {} end))}) | from_entries)}' \
  "$inv" > "$work/run/lab.auto.tfvars.json"
cd "$work/run"
rm -f .terraform.lock.hcl
"$tf" init -input=false -no-color >/dev/null
"$tf" apply -input=false -auto-approve -no-color >/dev/null

step "The provider reached every host"
"$tf" output -json hosts | jq -r '
  ["host", "address", "os", "init", "services"],
  (to_entries[] | [.key, .value.address, .value.os, .value.init,
                   (.value.services | to_entries | map("\(.key) \(.value)") | join(", "))])
  | @tsv' | column -t -s $'\t'
echo
echo "inventory: $inv"
