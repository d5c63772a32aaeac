#!/bin/sh
# Runs inside the freshly bootstrapped root filesystem (chroot) of a lab image.
# $1: space-separated services to leave installed but disabled (lab.sh enables
# each host's own at start-up).
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# A local, offline apt repository made of the packages debootstrap fetched, so
# that a test can purge a service package and the provider can install it
# again with apt-get without any network.
mkdir -p /srv/lab-apt
find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -exec mv {} /srv/lab-apt/ \;
(cd /srv/lab-apt && apt-ftparchive packages . > Packages)
rm -f /etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/srv/lab-apt ./' > /etc/apt/sources.list
apt-get -q update >/dev/null

for svc in $1; do
  systemctl disable "$svc" >/dev/null 2>&1 || true
done
# Containers have no consoles or hardware clocks to manage.
systemctl mask getty@tty1.service console-getty.service systemd-timesyncd.service \
  apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service >/dev/null 2>&1 || true

# Fresh identity per container: host keys at first boot, machine-id by systemd,
# MySQL's server_uuid (auto.cnf) at the server's first start; two hosts that
# share a server_uuid cannot replicate from each other.
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/mysql/auto.cnf

# The deploy user the provider logs in as; sudo rules and keys are set per lab.
useradd --create-home --shell /bin/bash deploy
usermod -p '*' deploy
