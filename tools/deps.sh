#!/usr/bin/env bash
# Install what the project's tests and demo need on a Debian/Ubuntu machine,
# skipping what is already there. Called by `make test` and `make demo`.
#
#  - debootstrap: builds the lab images from Debian packages
#  - openssh-client: lab.sh makes the lab key (ssh-keygen) and checks each
#    host with the real ssh client; the MySQL benchmark copies data over ssh
#  - gnupg: signs release snapshots (and TestAccRegistry checks signatures)
#  - curl: unit tests run the host-side health and verify scripts of nginx
#    and haproxy, which call curl, against local test servers
#  - ca-certificates: TLS roots for the HTTPS downloads of go install
#    (tools/terraform.sh, tools/tofu.sh) and of Go modules
#  - jq: make demo reads the lab inventory
#  - haproxy, nginx: unit tests run the real `haproxy -c` and `nginx -t` on
#    rendered configurations; installed with their services kept stopped
#  - gcc, libc6-dev: the application-environment tests compile a small
#    LD_PRELOAD library that records the uid it is loaded into
#  - wine64, gcc-mingw-w64-x86-64-win32: tools/wine-test.sh runs the SSH
#    package's tests as a Windows program under Wine (the agent on a named
#    pipe), with a small DLL that Wine 8 lacks compiled by MinGW
#  - prometheus: the monitoring test runs a real Prometheus (a child process on
#    a loopback port) against the lab's exporters, and promtool checks and
#    unit-tests the stack example's alerting rules; its service is not started
#  - openssl: the probe's unit test hashes with openssl (as hosts that have
#    it do) and again with it hidden (sha256sum)
set -euo pipefail

want=(debootstrap openssh-client gnupg curl ca-certificates jq haproxy nginx gcc libc6-dev wine64 gcc-mingw-w64-x86-64-win32 prometheus openssl)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
  echo "deps: installing ${missing[*]}"
  # Keep package scripts from starting services on this machine: the tests
  # only need the binaries.
  policy=/usr/sbin/policy-rc.d
  had_policy=0
  [[ -e $policy ]] && had_policy=1
  if [[ $had_policy == 0 ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q update >/dev/null
  apt-get -q install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v docker >/dev/null || { echo "deps: Docker is required (Docker Engine with a running daemon)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "deps: the Docker daemon is not reachable" >&2; exit 1; }
