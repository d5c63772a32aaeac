#!/usr/bin/env bash
# make demo: bring up a lab of real hosts, build www.foobar.com on it with
# Terraform and the provider built from this checkout (installed from a local
# filesystem mirror: no registry), then prove that it works.
#
# The demo has its own lab (LAB_NAME=foobar-demo, 172.30.78.0/24) so that it
# never disturbs the hosts the tests use; `make demo-down` removes it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export LAB_NAME=${DEMO_LAB_NAME:-foobar-demo} LAB_SUBNET=${DEMO_LAB_SUBNET:-172.30.78}
export LAB_HOSTS="lb1 web1 web2 db1 db2"
domain=www.foobar.com
work="$root/.cache/demo"
run="$work/stack"
version=0.1.0

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "1/6 Lab: real Debian hosts in Docker ($LAB_HOSTS); the first run builds the images from Debian packages (a few minutes)"
lab/lab.sh up
inv=$(lab/lab.sh inventory)
addr() { jq -r --arg n "$1" '.hosts[] | select(.name == $n) | .address' "$inv"; }
lb=$(addr lb1)

step "2/6 Terraform CLI, the provider and the application"
tf=$(tools/terraform.sh)
"$tf" version | head -n 1
mirror="$work/mirror/registry.terraform.io/foobar/foobar/$version/$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$mirror" "$run"
go build -trimpath -ldflags "-X main.version=$version" -o "$mirror/terraform-provider-foobar_v$version" .
make --no-print-directory app >/dev/null
echo "built terraform-provider-foobar $version and examples/foobar-stack/build/foobar-app"
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

step "3/6 terraform apply of examples/foobar-stack"
cp examples/foobar-stack/*.tf "$run/"
# The lab inventory as variables; the application talks to the databases
# from the lab's own network.
jq --arg root "$root" '{
    ssh_user: .user, private_key_file: .private_key_file, known_hosts_file: .known_hosts_file,
    lb_host: (.hosts[] | select(.name == "lb1") | .address),
    web1_host: (.hosts[] | select(.name == "web1") | .address),
    web2_host: (.hosts[] | select(.name == "web2") | .address),
    db_primary_host: (.hosts[] | select(.name == "db1") | .address),
    db_replica_hosts: [.hosts[] | select(.name == "db2") | .address],
    app_network: (.subnet | sub("\\.0/24$"; ".%")),
    app_artifact: ($root + "/examples/foobar-stack/build/foobar-app"),
    site_dir: ($root + "/examples/foobar-stack/public")
  }' "$inv" > "$run/lab.auto.tfvars.json"
# Passwords: generated once, kept in a root-only file next to the state.
if [[ ! -s "$work/secrets.auto.tfvars.json" ]]; then
  pw() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
  (umask 077; jq -n --arg a "$(pw)" --arg r "$(pw)" --arg s "$(pw)" \
    '{db_app_password: $a, replication_password: $r, stats_password: $s}' > "$work/secrets.auto.tfvars.json")
fi
cp "$work/secrets.auto.tfvars.json" "$run/"
cd "$run"
rm -f .terraform.lock.hcl
"$tf" init -input=false -no-color >/dev/null
# Progress: one line per resource as Terraform reports it.
"$tf" apply -input=false -auto-approve -no-color \
  | grep --line-buffered -E '(Creating|Creation complete|Modifying|Modifications complete|Destroying|Destruction complete|Apply complete)' \
  | sed 's/^/   /'

step "4/6 Checking the site through the load balancer ($domain resolved to $lb)"
fails=0
report=()
check() { # check NAME OK DETAIL
  if [[ $2 == ok ]]; then report+=("PASS  $1: $3"); else report+=("FAIL  $1: $3"); fails=$((fails + 1)); fi
}
site() { curl -s --max-time 5 --resolve "$domain:80:$lb" "$@"; }

servers=()
for _ in 1 2 3 4 5 6; do
  servers+=("$(site "http://$domain/api/whoami" | jq -r .server)")
done
alt=ok
for i in 0 1 2 3 4; do [[ ${servers[i]} != "${servers[i+1]}" ]] || alt=no; done
[[ " ${servers[*]} " == *" web1 "* && " ${servers[*]} " == *" web2 "* ]] || alt=no
check "round robin" "$alt" "6 requests answered by ${servers[*]}"

static_headers=$(site -D - -o /dev/null "http://$domain/static/style.css")
if grep -qi '^server: nginx' <<<"$static_headers" && ! grep -qi '^x-served-by' <<<"$static_headers" && grep -qi '^cache-control: max-age' <<<"$static_headers"; then
  check "static file" ok "/static/style.css served by Nginx from disk, with cache headers"
else
  check "static file" no "/static/style.css headers: $(tr -d '\r' <<<"$static_headers" | tr '\n' ' ')"
fi
dyn=$(site -D - -o /dev/null "http://$domain/api/whoami" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-served-by" {print $2}')
if [[ -n $dyn ]]; then check "dynamic request" ok "/api/whoami answered by the application on $dyn"; else check "dynamic request" no "/api/whoami has no X-Served-By header"; fi

body="demo record $(date -u +%FT%TZ)"
created=$(site -X POST -H 'Content-Type: application/json' -d "$(jq -n --arg b "$body" '{body: $b}')" "http://$domain/api/records")
id=$(jq -r '.id // empty' <<<"$created")
read_back=""
for _ in $(seq 1 20); do
  read_back=$(site "http://$domain/api/records/$id")
  [[ $(jq -r '.body // empty' <<<"$read_back") == "$body" ]] && break
  sleep 0.5
done
replica=$(addr db2)
if [[ -n $id && $(jq -r '.body // empty' <<<"$read_back") == "$body" && $(jq -r .read_from <<<"$read_back") == "$replica:3306" ]]; then
  check "write, then read from the replica" ok "record $id written by $(jq -r .written_by <<<"$created") to the primary, read back from $replica by $(jq -r .served_by <<<"$read_back")"
else
  check "write, then read from the replica" no "wrote: ${created:-nothing}; read: ${read_back:-nothing}"
fi

step "5/6 A second terraform plan must be empty"
set +e
"$tf" plan -input=false -detailed-exitcode -no-color > "$work/second-plan.txt" 2>&1
code=$?
set -e
case $code in
  0) check "second plan" ok "no changes" ;;
  2) check "second plan" no "changes planned (see $work/second-plan.txt)" ;;
  *) check "second plan" no "terraform plan failed (see $work/second-plan.txt)" ;;
esac

step "6/6 Report ($(( $(date +%s) - started ))s)"
for line in "${report[@]}"; do echo "  $line"; done
echo
"$tf" output -no-color | sed 's/^/  /'
echo
echo "  Try it: curl --resolve $domain:80:$lb http://$domain/api/whoami"
echo "  Remove it: make demo-down"
exit $(( fails > 0 ))
