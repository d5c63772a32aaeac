#!/usr/bin/env bash
# The lab: real Debian hosts as Docker containers on a private network.
#
#   lab/lab.sh up       build or reuse the images, start every host, write the
#                       inventory (idempotent; seconds when nothing changed)
#   lab/lab.sh down     remove the containers and the network this lab created
#   lab/lab.sh status   show the hosts
#   lab/lab.sh inventory  print the inventory's path
#
# Environment: LAB_NAME (default foobar-lab) names the lab, so several labs can
# coexist; LAB_SUBNET (default 172.30.77) is its /24; LAB_HOSTS limits which
# hosts start (default: all in lab/hosts).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=${LAB_NAME:-foobar-lab}
subnet=${LAB_SUBNET:-172.30.77}
state="$here/.state/$name"
label="foobar.lab=$name"

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

hosts_table() { grep -vE '^\s*(#|$)' "$here/hosts"; }

selected() {
  local host=$1
  [[ -z "${LAB_HOSTS:-}" ]] && return 0
  [[ " $LAB_HOSTS " == *" $host "* ]]
}

role_service() {
  case "$1" in
    lb) echo haproxy ;;
    web) echo nginx ;;
    db) echo mariadb ;;
    mysql) echo mysql ;;
    *) die "unknown role $1" ;;
  esac
}

ensure_network() {
  if ! docker network inspect "$name" >/dev/null 2>&1; then
    # --internal: the hosts reach each other and this machine, nothing else.
    docker network create --internal --subnet "$subnet.0/24" --gateway "$subnet.1" \
      --label "$label" "$name" >/dev/null
    log "created network $name ($subnet.0/24)"
  fi
}

ensure_key() {
  mkdir -p "$state"
  chmod 700 "$state"
  [[ -f "$state/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C "deploy@$name" -f "$state/id_ed25519"
  [[ -f "$state/sudo_password" ]] || (umask 077; head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$state/sudo_password")
}

start_host() {
  local host=$1 flavor=$2 octet=$3 c="$name-$1" image
  image=$("$here/image.sh" tag "$flavor")
  if docker container inspect "$c" >/dev/null 2>&1; then
    if [[ $(docker container inspect -f '{{.Config.Image}}' "$c") != "$image" ]]; then
      log "$host runs an outdated image; recreating it"
      docker rm -f "$c" >/dev/null
    else
      [[ $(docker container inspect -f '{{.State.Running}}' "$c") == true ]] || docker start "$c" >/dev/null
      [[ $(docker container inspect -f '{{.State.Paused}}' "$c") == false ]] || docker unpause "$c" >/dev/null
      docker network connect --ip "$subnet.$octet" "$name" "$c" 2>/dev/null || true
      return 0
    fi
  fi
  # systemd is PID 1 (through lab-init, which mounts a private cgroup2 tree).
  # It needs /run and /run/lock as tmpfs, a private cgroup namespace, and
  # CAP_SYS_ADMIN for that mount and for the mount namespaces that hardened
  # units use (haproxy.service); seccomp is relaxed for the same reason.
  # --privileged is not used: some engines refuse it and it gives more than
  # needed.
  docker run -d --name "$c" --hostname "$host" --label "$label" \
    --network "$name" --ip "$subnet.$octet" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --stop-signal SIGRTMIN+3 \
    --cgroupns=private --tmpfs /run --tmpfs /run/lock \
    "$image" >/dev/null
  log "started $host ($subnet.$octet, $flavor)"
}

wait_ready() {
  local c="$name-$1" i
  for i in $(seq 1 120); do
    if docker exec "$c" sh -c 'test -s /etc/ssh/ssh_host_ed25519_key.pub && systemctl is-active --quiet ssh' 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  docker exec "$c" systemctl --failed --no-pager >&2 || true
  die "$1 did not become ready (sshd) within 60s"
}

provision() {
  local host=$1 role=$2 opts=$3 c="$name-$1" svc
  svc=$(role_service "$role")
  docker exec -i "$c" sh -c 'umask 077; mkdir -p /home/deploy/.ssh; cat > /home/deploy/.ssh/authorized_keys; chown -R deploy:deploy /home/deploy/.ssh' < "$state/id_ed25519.pub"
  if [[ " $opts " == *" sudo-password "* ]]; then
    docker exec -i "$c" sh -c 'read -r pw; echo "deploy:$pw" | chpasswd; echo "deploy ALL=(ALL:ALL) ALL" > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy' < "$state/sudo_password"
  else
    docker exec "$c" sh -c 'echo "deploy ALL=(ALL:ALL) NOPASSWD: ALL" > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy'
  fi
  if [[ $role == web ]]; then
    # A page that names the host, so tests can see which backend answered.
    docker exec "$c" sh -c "[ -f /var/www/html/index.html ] || printf '%s\n' '$host' > /var/www/html/index.html"
  fi
  docker exec "$c" sh -c "systemctl is-enabled --quiet $svc 2>/dev/null || systemctl enable --quiet $svc; systemctl is-active --quiet $svc || systemctl start $svc" \
    || die "$host: could not start $svc"
  # The Prometheus exporters' packages enable their units at install: a lab
  # host starts with them off, so that what runs is what foobar_exporter set up.
  docker exec "$c" sh -c 'for u in prometheus-node-exporter prometheus-nginx-exporter prometheus-mysqld-exporter; do
      [ -e "/lib/systemd/system/$u.service" ] || continue
      systemctl is-enabled --quiet "$u" 2>/dev/null && systemctl disable --quiet --now "$u"; systemctl reset-failed "$u" 2>/dev/null; done; true'
}

write_inventory() {
  local tmp="$state/inventory.json.tmp" kh="$state/known_hosts.tmp" first=1 host flavor octet role opts c
  : > "$kh"
  {
    printf '{\n  "name": "%s",\n  "network": "%s",\n  "subnet": "%s.0/24",\n' "$name" "$name" "$subnet"
    printf '  "user": "deploy",\n  "private_key_file": "%s",\n  "known_hosts_file": "%s",\n' "$state/id_ed25519" "$state/known_hosts"
    printf '  "hosts": [\n'
    while read -r host flavor octet role opts; do
      selected "$host" || continue
      c="$name-$host"
      # Every classic host key type (several per host, as on real servers);
      # post-quantum hybrids that sid's OpenSSH adds are left out because
      # common SSH clients cannot parse them in known_hosts yet.
      docker exec "$c" sh -c 'cat /etc/ssh/ssh_host_*_key.pub' \
        | awk -v a="$subnet.$octet" '$1 ~ /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521))$/ {print a, $1, $2}' >> "$kh"
      local pw=""
      [[ " $opts " == *" sudo-password "* ]] && pw=$(cat "$state/sudo_password")
      [[ $first == 1 ]] || printf ',\n'
      first=0
      printf '    {"name": "%s", "address": "%s", "port": 22, "container": "%s", "image": "%s", "flavor": "%s", "role": "%s", "service": "%s", "sudo_password": "%s"}' \
        "$host" "$subnet.$octet" "$c" "$("$here/image.sh" tag "$flavor")" "$flavor" "$role" "$(role_service "$role")" "$pw"
    done < <(hosts_table)
    printf '\n  ]\n}\n'
  } > "$tmp"
  mv "$kh" "$state/known_hosts"
  mv "$tmp" "$state/inventory.json"
}

check_ssh() {
  # Prove the inventory is right: strict host key checking with the written
  # known_hosts, the deploy key, and sudo, from this machine.
  local host=$1 octet=$2 opts=$3 sudo_cmd="sudo -n true"
  [[ " $opts " == *" sudo-password "* ]] && sudo_cmd="true"
  ssh -q -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$state/known_hosts" \
    -o ConnectTimeout=5 -i "$state/id_ed25519" "deploy@$subnet.$octet" "$sudo_cmd" \
    || die "$host: ssh deploy@$subnet.$octet failed"
}

# systemd in every container takes inotify instances from the machine's
# per-user budget (default 128); a dozen hosts exhaust it and systemd then
# stalls at boot ("Failed to create inotify object: Too many open files").
raise_inotify_limits() {
  local cur
  cur=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
  if (( cur < 1024 )); then
    if sysctl -q -w fs.inotify.max_user_instances=1024 2>/dev/null; then
      log "raised fs.inotify.max_user_instances from $cur to 1024 for the hosts' systemd"
    else
      log "warning: fs.inotify.max_user_instances is $cur; if hosts stall at boot, raise it to 1024"
    fi
  fi
}

up() {
  command -v docker >/dev/null || die "docker is missing"
  raise_inotify_limits
  local flavors
  flavors=$(hosts_table | while read -r host flavor _; do if selected "$host"; then echo "$flavor"; fi; done | sort -u)
  for f in $flavors; do "$here/image.sh" build "$f"; done
  ensure_network
  ensure_key
  local host flavor octet role opts
  while read -r host flavor octet role opts; do
    if selected "$host"; then start_host "$host" "$flavor" "$octet"; fi
  done < <(hosts_table)
  while read -r host flavor octet role opts; do
    selected "$host" || continue
    wait_ready "$host"
    provision "$host" "$role" "${opts:-}"
  done < <(hosts_table)
  write_inventory
  while read -r host flavor octet role opts; do
    if selected "$host"; then check_ssh "$host" "$octet" "${opts:-}"; fi
  done < <(hosts_table)
  log "ready: $(hosts_table | while read -r h _; do if selected "$h"; then printf '%s ' "$h"; fi; done)"
  log "inventory: $state/inventory.json"
}

down() {
  local ids
  ids=$(docker ps -aq --filter "label=$label")
  [[ -z "$ids" ]] || docker rm -f $ids >/dev/null
  ids=$(docker network ls -q --filter "label=$label")
  [[ -z "$ids" ]] || docker network rm $ids >/dev/null
  rm -rf "$state"
  log "removed lab $name"
}

status() {
  docker ps -a --filter "label=$label" --format 'table {{.Names}}\t{{.Status}}\t{{.Image}}'
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  inventory) echo "$state/inventory.json" ;;
  *) echo "usage: $0 up|down|status|inventory" >&2; exit 2 ;;
esac
