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
export LAB_HOSTS="lb1 lb3 web1 web2 db1 db2"
domain=www.foobar.com
work="$root/.cache/demo"
run="$work/stack"
# The provider's version is the Makefile's VERSION (make demo passes it).
# A prerelease such as 0.1.0-dev is installed only when named exactly, so
# the demo pins it in an override file next to the example.
version=${VERSION:-$(sed -n 's/^VERSION *?= *//p' GNUmakefile)}
[[ -n $version ]] || { echo "demo: no VERSION (set it, or keep VERSION ?= in GNUmakefile)" >&2; exit 1; }

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "1/8 Lab: real Debian hosts in Docker ($LAB_HOSTS); the first run builds the images from Debian packages (a few minutes)"
lab/lab.sh up
inv=$(lab/lab.sh inventory)
addr() { jq -r --arg n "$1" '.hosts[] | select(.name == $n) | .address' "$inv"; }
# The DNS record points at the virtual address that lb1 and lb3 share.
vip="$LAB_SUBNET.10"
lb=$vip

step "2/8 Terraform CLI, the provider and the application"
tf=$(tools/terraform.sh)
"$tf" version | sed -n 1p  # sed reads it all: head could end terraform with SIGPIPE (pipefail)
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

step "3/8 terraform apply of examples/foobar-stack"
cp examples/foobar-stack/*.tf "$run/"
printf 'terraform {\n  required_providers {\n    foobar = { source = "foobar/foobar", version = "%s" }\n  }\n}\n' "$version" > "$run/demo_override.tf"
# The lab inventory as variables; the application talks to the databases
# from the lab's own network.
jq --arg root "$root" '{
    ssh_user: .user, private_key_file: .private_key_file, known_hosts_file: .known_hosts_file,
    lb_host: (.hosts[] | select(.name == "lb1") | .address),
    lb_peer_hosts: [.hosts[] | select(.name == "lb3") | .address],
    virtual_ip: (.subnet | sub("\\.0/24$"; ".10/24")),
    web1_host: (.hosts[] | select(.name == "web1") | .address),
    web2_host: (.hosts[] | select(.name == "web2") | .address),
    db_primary_host: (.hosts[] | select(.name == "db1") | .address),
    db_replica_hosts: [.hosts[] | select(.name == "db2") | .address],
    app_network: (.subnet | sub("\\.0/24$"; ".%")),
    admin_sources: [(.subnet | sub("\\.0/24$"; ".1"))],
    monitoring_sources: [(.subnet | sub("\\.0/24$"; ".1"))],
    app_artifact: ($root + "/examples/foobar-stack/build/foobar-app"),
    site_dir: ($root + "/examples/foobar-stack/public")
  }' "$inv" > "$run/lab.auto.tfvars.json"
# Passwords: generated once, kept in a root-only file next to the state (a
# password that a newer example needs is added to an older file).
pw() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
if [[ ! -s "$work/secrets.auto.tfvars.json" ]]; then
  (umask 077; jq -n --arg a "$(pw)" --arg r "$(pw)" --arg s "$(pw)" \
    '{db_app_password: $a, replication_password: $r, stats_password: $s}' > "$work/secrets.auto.tfvars.json")
fi
if ! jq -e 'has("exporter_mysql_password")' "$work/secrets.auto.tfvars.json" >/dev/null; then
  (umask 077; jq --arg e "$(pw)" '. + {exporter_mysql_password: $e}' "$work/secrets.auto.tfvars.json" > "$work/secrets.tmp" &&
    mv "$work/secrets.tmp" "$work/secrets.auto.tfvars.json")
fi
cp "$work/secrets.auto.tfvars.json" "$run/"
# TLS behind the load balancer: the demo's own CA and two certificates it
# signed (the web servers' for web.foobar.internal, the databases' for db1's
# and db2's addresses), made with openssl once and kept in $work/tls (keys
# root-only) next to the secrets; remade when a file is missing or the
# database certificate no longer names the lab's addresses.
tlsdir="$work/tls"
db_ips=$(jq -r '[.hosts[] | select(.name == "db1" or .name == "db2") | "IP:" + .address] | join(",")' "$inv")
san_of() { openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | sed -n '2p' | tr -d ' ' | sed 's/IPAddress:/IP:/g'; }
if [[ ! -s $tlsdir/ca.crt || ! -s $tlsdir/ca.key || ! -s $tlsdir/web.crt || ! -s $tlsdir/web.key ||
      ! -s $tlsdir/db.crt || ! -s $tlsdir/db.key || $(san_of "$tlsdir/db.crt") != "$db_ips" ]]; then
  rm -rf "$tlsdir" && mkdir -p "$tlsdir" && chmod 700 "$tlsdir"
  (
    umask 077
    cd "$tlsdir"
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=foobar demo internal CA" -keyout ca.key -out ca.crt 2>/dev/null
    issue() { # issue NAME CN SAN
      openssl req "${ec[@]}" -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
      printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    issue web web.foobar.internal DNS:web.foobar.internal
    issue db "foobar demo database" "$db_ips"
    chmod 644 ca.crt web.crt db.crt
  )
  echo "made the demo's internal CA and certificates in $tlsdir (web.foobar.internal; $db_ips)"
fi
(umask 077; jq -n --rawfile ca "$tlsdir/ca.crt" --rawfile wc "$tlsdir/web.crt" --rawfile wk "$tlsdir/web.key" \
  --rawfile dc "$tlsdir/db.crt" --rawfile dk "$tlsdir/db.key" \
  '{internal_tls: {ca_pem: $ca, web_cert_pem: $wc, web_key_pem: $wk, db_cert_pem: $dc, db_key_pem: $dk}, web_tls_name: "web.foobar.internal"}' \
  > "$run/tls.auto.tfvars.json")
cd "$run"
rm -f .terraform.lock.hcl
"$tf" init -input=false -no-color >/dev/null
# Progress: one line per resource as Terraform reports it.
"$tf" apply -input=false -auto-approve -no-color \
  | grep --line-buffered -E '(Creating|Creation complete|Modifying|Modifications complete|Destroying|Destruction complete|Apply complete)' \
  | sed 's/^/   /'

step "4/8 Checking the site through the load balancer ($domain resolved to the virtual address $lb)"
fails=0
report=()
check() { # check NAME OK DETAIL
  if [[ $2 == ok ]]; then report+=("PASS  $1: $3"); else report+=("FAIL  $1: $3"); fails=$((fails + 1)); fi
}
# The same checks as the stack's acceptance test (internal/acctest/stack.go).
set +e
# With -tls, also every hop behind the load balancer (HAProxy -> Nginx,
# application -> databases, replication): TLS, the peer verified.
checks=$(cd "$root" && DB_APP_PASSWORD=$(jq -r .db_app_password "$work/secrets.auto.tfvars.json") \
  go run ./lab/stackcheck -tls -lb "$lb" -domain "$domain" -replica "$(addr db2):3306")
code=$?
set -e
mapfile -t lines <<<"$checks"
report+=("${lines[@]}")
(( code == 0 )) || fails=$((fails + 1))

# The firewalls: MySQL answers the web servers, not the load balancer; a
# web server answers the load balancers, not the database hosts.
tcp() { docker exec "$LAB_NAME-$1" timeout 3 bash -c "</dev/tcp/$(addr "$2")/$3" 2>/dev/null; }
flows=() bad=()
# The web servers take HTTPS (443) from the load balancers and plain HTTP
# from nobody.
for f in "web1 db1 3306 open" "lb1 db1 3306 dropped" "lb1 web1 443 open" "lb1 web1 80 dropped" "db1 web1 443 dropped" "web1 lb1 22 dropped"; do
  read -r from to port want <<<"$f"
  got=dropped; tcp "$from" "$to" "$port" && got=open
  flows+=("$from->$to:$port $got")
  [[ $got == "$want" ]] || bad+=("$from->$to:$port $got, want $want")
done
if (( ${#bad[@]} == 0 )); then
  check firewall ok "$(IFS=,; echo "${flows[*]}" | sed 's/,/, /g')"
else
  check firewall no "$(IFS=,; echo "${bad[*]}" | sed 's/,/, /g')"
fi

step "5/8 Monitoring: Prometheus on loopback scrapes the stack's scrape_targets with monitoring/prometheus.yml"
# The shipped configuration and rules, as their comment installs them, with
# a 3 s scrape interval (and timeout) so that the check takes seconds; the
# test machine is the stack's monitoring source.
prom="$work/prometheus"
rm -rf "$prom" && mkdir -p "$prom"
sed -E 's/^( +(scrape|evaluation)_interval:).*/\1 3s/' "$root/examples/foobar-stack/monitoring/prometheus.yml" > "$prom/prometheus.yml"
cp "$root/examples/foobar-stack/monitoring/alerts.yml" "$prom/foobar-alerts.yml"
"$tf" output -raw scrape_targets > "$prom/foobar-targets.json"
want=$(jq '[.[].targets[]] | length' "$prom/foobar-targets.json")
port=$((20000 + RANDOM % 20000))
prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" \
  --web.listen-address="127.0.0.1:$port" > "$prom/prometheus.log" 2>&1 &
prom_pid=$!
up=0 total=0 res='{}'
for _ in $(seq 60); do
  sleep 1
  res=$(curl -s -m 2 "http://127.0.0.1:$port/api/v1/query?query=up") || res='{}'
  total=$(jq '.data.result | length' <<<"${res:-null}" 2>/dev/null) || total=0
  up=$(jq '[.data.result[] | select(.value[1] == "1")] | length' <<<"${res:-null}" 2>/dev/null) || up=0
  if (( total == want && up == want )); then break; fi
done
kill "$prom_pid" 2>/dev/null || true
wait "$prom_pid" 2>/dev/null || true
# Each endpoint as Prometheus last scraped it.
jq -r '.data.result // [] | sort_by(.metric.job, .metric.host)[] | "\(.metric.job)\t\(.metric.host)\thttp://\(.metric.instance)/metrics\tup \(.value[1])"' \
  <<<"${res:-null}" 2>/dev/null | awk -F'\t' '{ printf "   %-8s %-5s %-36s %s\n", $1, $2, $3, $4 }' || true
if (( total == want && up == want )); then
  check monitoring ok "$up of $want targets scraped (up == 1)"
else
  check monitoring no "$up of $want targets up (Prometheus saw $total; see $prom/prometheus.log)"
fi

step "6/8 A second terraform plan must be empty"
set +e
"$tf" plan -input=false -detailed-exitcode -no-color > "$work/second-plan.txt" 2>&1
code=$?
set -e
case $code in
  0) check "second plan" ok "no changes" ;;
  2) check "second plan" no "changes planned (see $work/second-plan.txt)" ;;
  *) check "second plan" no "terraform plan failed (see $work/second-plan.txt)" ;;
esac

step "7/8 Failover: the load balancer that holds $vip is frozen (docker pause)"
holder=
for h in lb1 lb3; do
  if docker exec "$LAB_NAME-$h" ip -o -4 addr show | grep -q " $vip/"; then holder=$h; fi
done
if [[ -z $holder ]]; then
  check failover no "no load balancer holds $vip"
else
  other=lb1; [[ $holder == lb1 ]] && other=lb3
  ok_at() { curl -s -o /dev/null -m 0.5 -w '%{http_code}' -H "Host: $domain" "http://$vip/healthz" 2>/dev/null | grep -q '^200$'; }
  t0=$(date +%s%N)
  docker pause "$LAB_NAME-$holder" >/dev/null
  answered=
  while (( ($(date +%s%N) - t0) / 1000000 < 10000 )); do
    if ok_at; then answered=$(date +%s%N); break; fi
    sleep 0.05
  done
  moved=no
  docker exec "$LAB_NAME-$other" ip -o -4 addr show | grep -q " $vip/" && moved=yes
  docker unpause "$LAB_NAME-$holder" >/dev/null
  if [[ -n $answered && $moved == yes ]]; then
    check failover ok "$holder frozen, the site answered from $other after $(( (answered - t0) / 1000000 )) ms"
  else
    check failover no "$holder frozen: answered=${answered:-never} within 10 s, address moved to $other: $moved"
  fi
fi

step "8/8 Report ($(( $(date +%s) - started ))s)"
for line in "${report[@]}"; do echo "  $line"; done
echo
"$tf" output -no-color | sed 's/^/  /'
echo
echo "  Try it: curl --resolve $domain:80:$lb http://$domain/api/whoami"
echo "  Remove it: make demo-down"
exit $(( fails > 0 ))
