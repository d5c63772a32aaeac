// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package firewall

// The constant scripts Deploy, Inspect and Remove run on the host (through
// remote.Script: every value is a positional parameter or stdin). They
// share the run directory /run/foobar/firewall (tmpfs: a reboot drops a
// pending rollback along with the rules it would have undone) and a lock
// there, so a load, a confirmation and a rollback never interleave.
//
// Files in the run directory:
//
//	candidate.nft  the ruleset being applied
//	backup.nft     what to load to put the table back as it was before
//	               (the previous table, or only its deletion)
//	pending        the token of a load that waits for confirmation; the
//	               rollback fires only while it holds its own token
//	status         "rolled-back TOKEN TIME" after a rollback fired
//	rollback.sh    the rollback itself (a constant, rewritten every apply)
//
// Persisted: /etc/foobar/firewall.nft (the confirmed ruleset) and the
// foobar-firewall.service unit that loads it at boot.

const (
	// RunDir holds the transient files of a load (see above).
	RunDir = "/run/foobar/firewall"
	// PersistPath is the confirmed ruleset, loaded at boot.
	PersistPath = "/etc/foobar/firewall.nft"
	// UnitName loads PersistPath at boot.
	UnitName = "foobar-firewall.service"
	// RollbackUnit is the transient systemd timer and service of the
	// automatic rollback.
	RollbackUnit = "foobar-firewall-rollback"
)

// Exit statuses of the scripts.
const (
	exitNoNft     = 10
	exitLocked    = 11
	exitInvalid   = 12
	exitPending   = 13
	exitLoad      = 14
	exitSchedule  = 15
	exitRolled    = 20
	exitNotLoaded = 21
)

// preamble is shared by the scripts: the run directory, the lock, nft.
const preamble = `set -u
d=` + RunDir + `
umask 077
mkdir -p "$d" || exit 1
command -v nft >/dev/null 2>&1 || { echo "nft is not installed (Debian package nftables)" >&2; exit 10; }
if command -v flock >/dev/null 2>&1; then
  exec 9>"$d/lock"
  flock -w 60 9 || { echo "another firewall change holds $d/lock" >&2; exit 11; }
fi
present() { nft list tables 2>/dev/null | grep -qx 'table inet foobar'; }
listing() { if present; then nft list table inet foobar; fi; }
`

// rollbackScript is written to $d/rollback.sh and run by the timer with the
// token of the load it undoes. A confirmed or superseded load no longer
// holds that token in pending, and the script then does nothing.
const rollbackScript = `#!/bin/sh
set -u
d=` + RunDir + `
if command -v flock >/dev/null 2>&1; then
  exec 9>"$d/lock"
  # Never without the lock: a confirmation may be running. The provider
  # reports a load it could not confirm and whose rollback did not run.
  flock -w 120 9 || { echo "rollback-skipped $1 $(date -u +%Y-%m-%dT%H:%M:%SZ) (lock busy)" > "$d/status"; exit 1; }
fi
[ "$(cat "$d/pending" 2>/dev/null)" = "$1" ] || exit 0
if nft -f "$d/backup.nft"; then
  echo "rolled-back $1 $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$d/status"
else
  echo "rollback-failed $1 $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$d/status"
fi
rm -f "$d/pending"
`

// loadScript validates the candidate on stdin with nft -c, saves the live
// table, schedules the rollback and loads the candidate. $1 is the rollback
// deadline in seconds, $2 the token.
const loadScript = preamble + `t=$1 tok=$2
if [ -s "$d/pending" ]; then
  echo "a previous firewall change on this host is still waiting for its confirmation or its automatic rollback; try again in a minute" >&2
  exit 13
fi
cat > "$d/candidate.nft.tmp" && mv -f "$d/candidate.nft.tmp" "$d/candidate.nft" || exit 1
if ! out=$(nft -c -f "$d/candidate.nft" 2>&1); then
  printf '%s\n' "$out" >&2
  exit 12
fi
{ printf 'table inet foobar {}\ndelete table inet foobar\n'; listing; } > "$d/backup.nft.tmp" || exit 1
nft -c -f "$d/backup.nft.tmp" || { echo "the live table inet foobar cannot be saved for a rollback" >&2; exit 1; }
mv -f "$d/backup.nft.tmp" "$d/backup.nft" || exit 1
cat > "$d/rollback.sh" <<'ROLLBACK'
` + rollbackScript + `ROLLBACK
rm -f "$d/status"
printf '%s\n' "$tok" > "$d/pending"
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
  systemctl stop "` + RollbackUnit + `.timer" "` + RollbackUnit + `.service" >/dev/null 2>&1
  systemctl reset-failed "` + RollbackUnit + `.timer" "` + RollbackUnit + `.service" >/dev/null 2>&1
  if ! out=$(systemd-run --quiet --collect --unit="` + RollbackUnit + `" --on-active="${t}s" --timer-property=AccuracySec=100ms /bin/sh "$d/rollback.sh" "$tok" 2>&1); then
    rm -f "$d/pending"
    printf 'systemd-run: %s\n' "$out" >&2
    exit 15
  fi
  echo "rollback: systemd timer ` + RollbackUnit + `.timer in ${t}s"
else
  # No systemd: a sleeper in a session of its own, detached from this SSH
  # session (no SIGHUP when the connection dies).
  # It must not inherit fd 9 (the lock): the confirmation needs it.
  setsid nohup /bin/sh -c 'sleep "$1"; exec /bin/sh "$2" "$3"' sh "$t" "$d/rollback.sh" "$tok" </dev/null >/dev/null 2>&1 9>&- &
  echo "rollback: detached sleeper in ${t}s"
fi
if ! out=$(nft -f "$d/candidate.nft" 2>&1); then
  rm -f "$d/pending"
  systemctl stop "` + RollbackUnit + `.timer" >/dev/null 2>&1
  printf '%s\n' "$out" >&2
  exit 14
fi
echo loaded
`

// confirmScript runs over a new SSH connection: it ends the wait of load $1
// (the rollback will not fire), persists the ruleset and prints the live
// table. Exit 20: the rollback already fired.
const confirmScript = preamble + `tok=$1
if [ "$(cat "$d/pending" 2>/dev/null)" != "$tok" ]; then
  if grep -q "^rolled-back $tok " "$d/status" 2>/dev/null; then
    cat "$d/status" >&2
    exit 20
  fi
  if grep -q "^confirmed $tok " "$d/status" 2>/dev/null; then
    # An earlier attempt confirmed it and its answer was lost: the same
    # answer again.
    echo "---listing"
    listing
    exit 0
  fi
  echo "no firewall load with token $tok is waiting for confirmation" >&2
  exit 21
fi
rm -f "$d/pending"
echo "confirmed $tok $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$d/status"
systemctl stop "` + RollbackUnit + `.timer" >/dev/null 2>&1
systemctl reset-failed "` + RollbackUnit + `.timer" "` + RollbackUnit + `.service" >/dev/null 2>&1
# Confirmed: the rollback can no longer fire. The lock is held to the end,
# so that another load cannot replace the candidate before it is persisted.
mkdir -p /etc/foobar && chmod 755 /etc/foobar
p=` + PersistPath + `
cp "$d/candidate.nft" "$p.tmp" && chmod 600 "$p.tmp" && mv -f "$p.tmp" "$p" || echo "warning: could not write $p" >&2
if [ -d /run/systemd/system ]; then
  u="/etc/systemd/system/` + UnitName + `"
  cat > "$u.tmp" <<'UNIT'
[Unit]
Description=foobar firewall (nftables table inet foobar, managed by terraform-provider-foobar)
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target
After=nftables.service
Conflicts=shutdown.target
# Debian's nftables.service flushes the whole ruleset when it starts,
# reloads or stops: load this table again after it.
PartOf=nftables.service
ReloadPropagatedFrom=nftables.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f ` + PersistPath + `
ExecReload=/usr/sbin/nft -f ` + PersistPath + `

[Install]
WantedBy=sysinit.target
UNIT
  # systemctl enable is slow (seconds): only when the unit is new or changed.
  if cmp -s "$u.tmp" "$u" && [ -e "/etc/systemd/system/sysinit.target.wants/` + UnitName + `" ]; then
    rm -f "$u.tmp"
  else
    mv -f "$u.tmp" "$u"
    systemctl daemon-reload >/dev/null 2>&1
    systemctl enable --quiet "` + UnitName + `" >/dev/null 2>&1 || echo "warning: could not enable ` + UnitName + `: the rules will not be loaded at boot" >&2
  fi
fi
echo "---listing"
listing
`

// statusScript reports what became of load $1 after its deadline: the
// status line, whether it is still pending, and the live table.
const statusScript = preamble + `tok=$1
if [ "$(cat "$d/pending" 2>/dev/null)" = "$tok" ]; then echo pending; else cat "$d/status" 2>/dev/null || echo none; fi
echo "---listing"
listing
`

// inspectScript prints the live table, or nothing when it is absent, after
// a line "present" or "absent".
const inspectScript = `command -v nft >/dev/null 2>&1 || { echo "nft is not installed" >&2; exit 10; }
if nft list tables 2>/dev/null | grep -qx 'table inet foobar'; then echo present; nft list table inet foobar; else echo absent; fi
`

// removeScript deletes the table, the persisted ruleset and its unit.
const removeScript = preamble + `if [ -s "$d/pending" ]; then
  echo "a firewall change on this host is still waiting for its confirmation or its automatic rollback; try again in a minute" >&2
  exit 13
fi
if present; then
  printf 'table inet foobar {}\ndelete table inet foobar\n' | nft -f - || exit 1
fi
if [ -d /run/systemd/system ] && [ -e "/etc/systemd/system/` + UnitName + `" ]; then
  systemctl disable --quiet "` + UnitName + `" >/dev/null 2>&1
  rm -f "/etc/systemd/system/` + UnitName + `"
  systemctl daemon-reload >/dev/null 2>&1
fi
rm -f "` + PersistPath + `"
rmdir /etc/foobar 2>/dev/null
echo removed
`
